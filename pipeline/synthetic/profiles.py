"""Light profiles in Fourier space, for exact and fast rendering of the synthetic sky.

A Sersic profile has no closed-form Fourier transform, so it is approximated by a mixture of concentric
Gaussians (as in Hogg & Lang 2013) fitted once per Sersic index by non-negative least squares to the
cumulative light profile and to the flux per logarithmic radius; a Gaussian's transform is analytic. The PSF
is a Moffat profile with beta = 3.5, whose transform is analytic too: exp(-z) (1 + z + z**2 / 3) with
z = k * alpha. The pixel response is the transform of a unit box, sinc(kx / 2 pi) sinc(ky / 2 pi).
"""

from __future__ import annotations

from functools import lru_cache
from math import lgamma

import numpy as np
from scipy.optimize import nnls
from scipy.special import gammainc, gammaincinv

#: Moffat index of the synthetic PSF (the closed-form transform below holds for this value only).
MOFFAT_BETA: float = 3.5

_SERSIC_N_MIN, _SERSIC_N_MAX = 0.3, 6.0
_SIGMA_GRID = np.geomspace(3e-3, 6.0, 28)  # component widths in units of the half-light radius
_RADIUS_GRID = np.geomspace(1e-3, 12.0, 600)


def sersic_b(n: float) -> float:
    """Return b_n such that half of a Sersic profile's light lies inside the half-light radius.

    Parameters
    ----------
    n : float
        Sersic index.

    Returns
    -------
    float
        Solution of ``P(2n, b_n) = 1/2`` with ``P`` the regularised lower incomplete gamma function.
    """
    return float(gammaincinv(2.0 * n, 0.5))


def sersic_enclosed_fraction(radius: np.ndarray, n: float) -> np.ndarray:
    """Fraction of a circular Sersic profile's light inside ``radius`` (in half-light radii)."""
    b = sersic_b(n)
    return gammainc(2.0 * n, b * np.power(radius, 1.0 / n))


@lru_cache(maxsize=1024)
def sersic_mixture(n: float) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian-mixture approximation of a unit-flux, unit half-light-radius circular Sersic profile.

    Parameters
    ----------
    n : float
        Sersic index in [0.3, 6]; callers should round it (e.g. to 0.01) so the cache is effective.

    Returns
    -------
    amplitudes : ndarray
        Component fluxes, summing to 1.
    variances : ndarray
        Component variances in units of the half-light radius squared.
    """
    if not _SERSIC_N_MIN <= n <= _SERSIC_N_MAX:
        raise ValueError(f"Sersic index must be in [{_SERSIC_N_MIN}, {_SERSIC_N_MAX}], got {n}")
    r = _RADIUS_GRID
    b = sersic_b(n)
    # Flux per logarithmic radius, 2 pi r^2 I(r), for a unit-flux profile.
    log_density = np.log(2.0 * np.pi * r**2) + 2.0 * n * np.log(b) - b * np.power(r, 1.0 / n)
    log_density -= np.log(2.0 * np.pi * n) + lgamma(2.0 * n)
    target_density = np.exp(log_density)
    target_cumulative = sersic_enclosed_fraction(r, n)
    return _fit_gaussian_mixture(r, target_cumulative, target_density, _SIGMA_GRID)


def _fit_gaussian_mixture(
    radius: np.ndarray, cumulative: np.ndarray, density: np.ndarray, sigmas: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative fit of concentric unit-flux Gaussians of widths ``sigmas`` to a radial profile."""
    variances = sigmas**2
    ratio = radius[:, None] ** 2 / (2.0 * variances[None, :])
    gauss_cumulative = 1.0 - np.exp(-ratio)
    gauss_density = 2.0 * ratio * np.exp(-ratio)  # 2 pi r^2 g(r) for a unit-flux Gaussian
    total_row = np.full((1, len(sigmas)), 10.0)
    design = np.vstack([gauss_cumulative, gauss_density, total_row])
    target = np.concatenate([cumulative, density, [10.0]])
    amplitudes, _ = nnls(design, target, maxiter=50 * len(sigmas))
    keep = amplitudes > 1e-6
    amplitudes, variances = amplitudes[keep], variances[keep]
    return amplitudes / amplitudes.sum(), variances


def moffat_alpha(fwhm: float | np.ndarray, beta: float = MOFFAT_BETA) -> float | np.ndarray:
    """Moffat core width alpha for a given FWHM: FWHM = 2 alpha sqrt(2**(1/beta) - 1)."""
    return fwhm / (2.0 * np.sqrt(2.0 ** (1.0 / beta) - 1.0))


def moffat_transform(k: np.ndarray, fwhm: float) -> np.ndarray:
    """Fourier transform of a unit-flux Moffat profile with beta = 3.5.

    Parameters
    ----------
    k : ndarray
        Angular wavenumber in radians per unit of ``fwhm``'s length unit.
    fwhm : float
        Full width at half maximum.

    Returns
    -------
    ndarray
        Transform values, 1 at k = 0.
    """
    z = k * np.asarray(moffat_alpha(fwhm), dtype=k.dtype)
    return np.exp(-z) * (1.0 + z + z * z / 3.0)


def moffat_profile(r: np.ndarray, fwhm: float) -> np.ndarray:
    """Surface density of a unit-flux Moffat profile with beta = 3.5 at radius ``r``."""
    alpha = moffat_alpha(fwhm)
    return (MOFFAT_BETA - 1.0) / (np.pi * alpha**2) * (1.0 + (r / alpha) ** 2) ** (-MOFFAT_BETA)
