"""Spectral energy distributions of the synthetic galaxies beyond u g r i z.

The catalog draws AB magnitudes in u g r i z (:mod:`galtk.pipeline.synthetic.catalog`). A survey observing
at other wavelengths (GALEX's ultraviolet, 2MASS's and WISE's infrared, DSS2's photographic bands) sees each
galaxy's magnitude at its band's effective wavelength:

- between 355 and 893 nm, linear interpolation of the u g r i z magnitudes in log wavelength;
- below 355 nm, the ultraviolet falls off from u by a colour that grows with the galaxy's redness (its u - g
  colour, 1.1 for the blue family and 1.8 for the red one): FUV - u = 0.6 for a blue galaxy and 3.5 for a
  red one at 154 nm, linear in log wavelength;
- above 893 nm, offsets from z at 1.25, 1.65, 2.2, 3.4 and 4.6 microns, between those of a star-forming and
  of an old stellar population (brighter in the near infrared, then the Rayleigh-Jeans fall).

This is a smooth, plausible SED for a synthetic sky, not a stellar-population model: what matters is that a
galaxy's ultraviolet and infrared magnitudes depend on its optical colours, as real ones do, so that other
wavelengths carry information about the optical bands.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Effective wavelengths (nm) of the catalog's u g r i z magnitudes.
CATALOG_WAVELENGTH_NM: tuple[float, ...] = (355.0, 469.0, 617.0, 748.0, 893.0)
#: u - g colours of the blue and red colour families (catalog.py).
_BLUE_U_G, _RED_U_G = 1.10, 1.80
#: Magnitude below u at 154 nm for the blue and red families.
_FUV_MINUS_U = (0.6, 3.5)
_FUV_NM = 154.0
#: Offsets from z (magnitudes) at infrared wavelengths (nm), blue and red families.
_IR_NM = np.array([893.0, 1250.0, 1650.0, 2200.0, 3400.0, 4600.0])
_IR_OFFSETS = (
    np.array([0.0, -0.25, -0.35, -0.30, 0.05, 0.45]),
    np.array([0.0, -0.35, -0.55, -0.55, 0.05, 0.55]),
)


def redness(mag: np.ndarray) -> np.ndarray:
    """Where each galaxy lies between the blue (0) and red (1) families, from its u - g colour."""
    return np.clip((mag[:, 0] - mag[:, 1] - _BLUE_U_G) / (_RED_U_G - _BLUE_U_G), 0.0, 1.0)


def magnitudes_at(mag: np.ndarray, wavelength_nm: Sequence[float]) -> np.ndarray:
    """AB magnitudes of galaxies at any effective wavelengths.

    Parameters
    ----------
    mag : ndarray, shape (n, 5)
        AB magnitudes in u g r i z.
    wavelength_nm : sequence of float
        Effective wavelengths in nanometres (positive).

    Returns
    -------
    ndarray, shape (n, len(wavelength_nm))

    Raises
    ------
    ValueError
        If ``mag`` is not (n, 5) or a wavelength is not positive.
    """
    mag = np.asarray(mag, dtype=np.float64)
    if mag.ndim != 2 or mag.shape[1] != len(CATALOG_WAVELENGTH_NM):
        raise ValueError(f"mag must have shape (n, 5), got {mag.shape}")
    if any(not value > 0 for value in wavelength_nm):
        raise ValueError(f"wavelengths must be positive, got {list(wavelength_nm)}")
    t = redness(mag)
    log_catalog = np.log10(CATALOG_WAVELENGTH_NM)
    out = np.empty((len(mag), len(wavelength_nm)))
    for column, wavelength in enumerate(wavelength_nm):
        log_w = np.log10(wavelength)
        if wavelength < CATALOG_WAVELENGTH_NM[0]:
            fall = (1.0 - t) * _FUV_MINUS_U[0] + t * _FUV_MINUS_U[1]
            depth = (log_catalog[0] - log_w) / (log_catalog[0] - np.log10(_FUV_NM))
            out[:, column] = mag[:, 0] + fall * depth
        elif wavelength > CATALOG_WAVELENGTH_NM[-1]:
            blue = np.interp(log_w, np.log10(_IR_NM), _IR_OFFSETS[0])
            red = np.interp(log_w, np.log10(_IR_NM), _IR_OFFSETS[1])
            out[:, column] = mag[:, 4] + (1.0 - t) * blue + t * red
        else:
            right = int(np.clip(np.searchsorted(log_catalog, log_w), 1, len(log_catalog) - 1))
            weight = (log_w - log_catalog[right - 1]) / (log_catalog[right] - log_catalog[right - 1])
            out[:, column] = (1.0 - weight) * mag[:, right - 1] + weight * mag[:, right]
    return out
