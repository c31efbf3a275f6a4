"""Cutout geometry: the north-up TAN grid every galtk cutout lives on.

A cutout of ``size`` pixels at ``pixel_scale`` arcsec/px is centred on its object: the object's position is
the reference point of a gnomonic (TAN) projection, north is +y and east is -x. In FITS (1-based) pixel
coordinates the reference pixel is ``(size + 1) / 2`` on both axes; in numpy (0-based) array coordinates the
object sits at ``(size - 1) / 2``, between the four central pixels for even sizes.
"""

from __future__ import annotations

import numpy as np
from astropy.wcs import WCS


def cutout_wcs(
    ra: float, dec: float, pixel_scale: float, size: int, offset: tuple[float, float] = (0.0, 0.0)
) -> WCS:
    """Build the north-up TAN WCS of a cutout centred on ``(ra, dec)``.

    Parameters
    ----------
    ra, dec : float
        Centre of the cutout in degrees (ICRS).
    pixel_scale : float
        Pixel scale in arcsec per pixel.
    size : int
        Side of the square cutout in pixels.
    offset : tuple of float
        Where ``(ra, dec)`` lies on the cutout, as (x, y) pixels from its centre pixel ``(size - 1) / 2``
        (the ``offset_x``/``offset_y`` of native-pixel cutouts, :func:`galtk.pipeline.resample.copy_native`).

    Returns
    -------
    astropy.wcs.WCS
        Celestial WCS with ``pixel_shape == (size, size)``.
    """
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.cunit = ["deg", "deg"]
    wcs.wcs.crval = [float(ra), float(dec)]
    wcs.wcs.crpix = [(size + 1) / 2.0 + float(offset[0]), (size + 1) / 2.0 + float(offset[1])]
    wcs.wcs.cdelt = [-pixel_scale / 3600.0, pixel_scale / 3600.0]
    wcs.wcs.radesys = "ICRS"
    wcs.pixel_shape = (size, size)
    return wcs


def unit_vectors(ra: np.ndarray | float, dec: np.ndarray | float) -> np.ndarray:
    """Cartesian unit vectors of sky positions in degrees, shape (..., 3) (for KD-tree searches)."""
    ra_r, dec_r = np.deg2rad(ra), np.deg2rad(dec)
    return np.stack([np.cos(dec_r) * np.cos(ra_r), np.cos(dec_r) * np.sin(ra_r), np.sin(dec_r)], axis=-1)


def chord_length(angle_deg: float | np.ndarray) -> float | np.ndarray:
    """Straight-line distance between unit vectors ``angle_deg`` apart (KD-tree radius for an angle)."""
    return 2.0 * np.sin(np.deg2rad(angle_deg) / 2.0)


def sky_to_cutout_pixels(
    ra: np.ndarray, dec: np.ndarray, ra0: float, dec0: float, pixel_scale: float, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Project sky positions onto the pixel grid of the cutout centred on ``(ra0, dec0)``.

    Vectorised equivalent of ``cutout_wcs(ra0, dec0, pixel_scale, size).world_to_pixel_values(ra, dec)``.

    Parameters
    ----------
    ra, dec : array_like
        Positions in degrees.
    ra0, dec0 : float
        Cutout centre in degrees.
    pixel_scale : float
        Arcsec per pixel.
    size : int
        Cutout side in pixels.

    Returns
    -------
    x, y : ndarray
        0-based pixel coordinates (x along columns, y along rows). Points more than 90 degrees away
        give NaN.
    """
    ra_r, dec_r = np.deg2rad(np.asarray(ra, dtype=float)), np.deg2rad(np.asarray(dec, dtype=float))
    ra0_r, dec0_r = np.deg2rad(ra0), np.deg2rad(dec0)
    d_ra = ra_r - ra0_r
    cos_c = np.sin(dec0_r) * np.sin(dec_r) + np.cos(dec0_r) * np.cos(dec_r) * np.cos(d_ra)
    cos_c = np.where(cos_c > 0, cos_c, np.nan)
    xi = np.cos(dec_r) * np.sin(d_ra) / cos_c
    eta = (np.cos(dec0_r) * np.sin(dec_r) - np.sin(dec0_r) * np.cos(dec_r) * np.cos(d_ra)) / cos_c
    scale_rad = np.deg2rad(pixel_scale / 3600.0)
    centre = (size - 1) / 2.0
    return centre - xi / scale_rad, centre + eta / scale_rad
