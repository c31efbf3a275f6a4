"""The background noise of a cutout, and the white noise that raises it to a target sigma."""

from __future__ import annotations

import numpy as np
from astropy.stats import sigma_clipped_stats


def background_sigma(image: np.ndarray) -> float:
    """The per-pixel sigma of the background noise of one band's cutout, robust to the galaxies on it.

    The standard deviation (as the median absolute deviation, scaled) of the pixels left after 3-sigma
    clipping, which removes the galaxies' pixels (astropy's ``sigma_clipped_stats``).

    Parameters
    ----------
    image : ndarray, 2-D
        One band; NaN pixels are ignored.

    Returns
    -------
    float
        The sigma, in the image's unit (NaN when the image has no finite pixel).
    """
    finite = np.isfinite(image)
    if not finite.any():
        return float("nan")
    _, _, sigma = sigma_clipped_stats(image[finite], sigma=3.0, maxiters=10, stdfunc="mad_std")
    return float(sigma)


def added_sigma(current: float, target: float) -> float:
    """Sigma of the white noise that, added to noise of ``current`` sigma, gives ``target`` (0 if lower)."""
    return float(np.sqrt(max(target**2 - current**2, 0.0)))
