"""Resampling survey images onto galtk's cutout grid (north-up TAN, centred on the object).

The mapping from cutout pixels to input-image pixels is computed exactly (with the input's full WCS, including
distortion terms) on a sparse grid of every ``step``-th cutout pixel, for many objects in one WCS call, then
interpolated to every pixel by a least-squares cubic polynomial: over a 25-arcsec cutout the mapping is so
smooth that this matches the exact per-pixel mapping to better than 1e-4 pixel, at a small fraction of the
cost. The image is then interpolated bilinearly at the mapped positions (``scipy.ndimage.map_coordinates``,
order 1), the same interpolation as ``reproject.reproject_interp(order="bilinear")``.

Pixel values are fluxes per pixel (nanomaggies, ADU), so by default they are multiplied by the ratio of
output to input pixel areas (the Jacobian of the mapping): a source keeps its flux when the pixel scales
differ.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from astropy.wcs import WCS
from scipy import ndimage

_DEFAULT_STEP = 8


def cutout_world_grid(
    ra: np.ndarray, dec: np.ndarray, pixel_scale: float, size: int, positions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sky coordinates of cutout pixel positions, for several cutouts at once.

    Parameters
    ----------
    ra, dec : ndarray, shape (n,)
        Cutout centres in degrees.
    pixel_scale : float
        Arcsec per cutout pixel.
    size : int
        Cutout side in pixels.
    positions : ndarray, shape (m,)
        0-based pixel positions along each axis (the grid is their outer product).

    Returns
    -------
    ra_grid, dec_grid : ndarray, shape (n, m, m)
        Degrees; axis 1 runs along y (rows), axis 2 along x (columns).
    """
    centre = (size - 1) / 2.0
    scale = np.deg2rad(pixel_scale / 3600.0)
    xi = -(positions[None, :] - centre) * scale  # east is -x
    eta = (positions[:, None] - centre) * scale
    xi, eta = np.broadcast_to(xi, (len(positions),) * 2), np.broadcast_to(eta, (len(positions),) * 2)
    ra0 = np.deg2rad(np.asarray(ra, dtype=float))[:, None, None]
    dec0 = np.deg2rad(np.asarray(dec, dtype=float))[:, None, None]
    rho = np.hypot(xi, eta)
    c = np.arctan(rho)
    sin_c, cos_c = np.sin(c), np.cos(c)
    safe_rho = np.where(rho > 0, rho, 1.0)
    dec_out = np.arcsin(cos_c * np.sin(dec0) + np.where(rho > 0, eta * sin_c / safe_rho, 0.0) * np.cos(dec0))
    ra_out = ra0 + np.arctan2(xi * sin_c, rho * np.cos(dec0) * cos_c - eta * np.sin(dec0) * sin_c)
    return np.rad2deg(ra_out) % 360.0, np.rad2deg(dec_out)


def pixel_maps(
    wcs: WCS, ra: np.ndarray, dec: np.ndarray, pixel_scale: float, size: int, *, step: int = _DEFAULT_STEP
) -> tuple[np.ndarray, np.ndarray]:
    """Input-image pixel coordinates of every pixel of several cutouts.

    Parameters
    ----------
    wcs : astropy.wcs.WCS
        Celestial WCS of the input image.
    ra, dec : ndarray, shape (n,)
        Cutout centres in degrees.
    pixel_scale : float
        Arcsec per cutout pixel.
    size : int
        Cutout side in pixels.
    step : int
        Spacing of the exactly computed grid; 1 computes every pixel exactly.

    Returns
    -------
    x, y : ndarray, shape (n, size, size)
        0-based input pixel coordinates (x along columns) of each cutout pixel.
    """
    ra, dec = np.atleast_1d(ra), np.atleast_1d(dec)
    sparse = np.unique(np.r_[np.arange(0, size, step), size - 1]).astype(float)
    ra_grid, dec_grid = cutout_world_grid(ra, dec, pixel_scale, size, sparse)
    x_sparse, y_sparse = wcs.celestial.world_to_pixel_values(ra_grid.ravel(), dec_grid.ravel())
    shape = ra_grid.shape
    if len(sparse) == size:
        return np.reshape(x_sparse, shape), np.reshape(y_sparse, shape)
    fit, evaluate = _polynomial_operators(size, step)
    x = np.reshape(x_sparse, (len(ra), -1)) @ fit.T @ evaluate.T
    y = np.reshape(y_sparse, (len(ra), -1)) @ fit.T @ evaluate.T
    return x.reshape(len(ra), size, size), y.reshape(len(ra), size, size)


@lru_cache(maxsize=16)
def _polynomial_operators(size: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares fit of a cubic polynomial on the sparse grid, and its evaluation on every pixel.

    The mapping between two gnomonic projections is a homography, nearly linear over a cutout; with SIP
    distortions it is polynomial. A cubic in (x, y) reproduces it to far below 1e-4 pixel.
    """
    sparse = np.unique(np.r_[np.arange(0, size, step), size - 1]).astype(float)
    full = np.arange(size, dtype=float)

    def design(positions: np.ndarray) -> np.ndarray:
        rows, cols = np.meshgrid(positions, positions, indexing="ij")
        u = (cols.ravel() - (size - 1) / 2) / size
        v = (rows.ravel() - (size - 1) / 2) / size
        return np.stack([u**i * v**j for i in range(4) for j in range(4 - i)], axis=1)

    return np.linalg.pinv(design(sparse)), design(full)


def pixel_area_ratio(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Area of one cutout pixel in input pixels (the Jacobian determinant at each cutout's centre).

    Parameters
    ----------
    x, y : ndarray, shape (n, size, size)
        Pixel maps from :func:`pixel_maps`.

    Returns
    -------
    ndarray, shape (n,)
    """
    centre = x.shape[-1] // 2
    dx_dcol = x[:, centre, centre] - x[:, centre, centre - 1]
    dy_dcol = y[:, centre, centre] - y[:, centre, centre - 1]
    dx_drow = x[:, centre, centre] - x[:, centre - 1, centre]
    dy_drow = y[:, centre, centre] - y[:, centre - 1, centre]
    return np.abs(dx_dcol * dy_drow - dx_drow * dy_dcol)


def resample(
    image: np.ndarray, x: np.ndarray, y: np.ndarray, *, conserve_flux: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear interpolation of one image at mapped positions.

    Parameters
    ----------
    image : ndarray, shape (ny, nx)
        Input image (any float dtype, may be memory-mapped: only the pixels under each cutout are read;
        NaN marks missing pixels).
    x, y : ndarray, shape (n, size, size)
        Pixel maps from :func:`pixel_maps`.
    conserve_flux : bool
        Multiply by :func:`pixel_area_ratio` (pixel values are fluxes per pixel).

    Returns
    -------
    cutouts : ndarray, shape (n, size, size), float32
        NaN where the cutout pixel falls outside the image or next to a missing pixel.
    complete : ndarray of bool, shape (n,)
        True where every pixel of the cutout was covered by valid image pixels.
    """
    ny, nx = image.shape
    values = np.full(x.shape, np.nan)
    for index in range(len(x)):
        # Only the part of the image under this cutout is read (the image may be a memory-mapped tile).
        inside = (x[index] >= 0) & (y[index] >= 0) & (x[index] <= nx - 1) & (y[index] <= ny - 1)
        if not inside.any():
            continue
        x0 = int(np.floor(x[index][inside].min()))
        y0 = int(np.floor(y[index][inside].min()))
        x1 = min(int(np.ceil(x[index][inside].max())) + 1, nx)
        y1 = min(int(np.ceil(y[index][inside].max())) + 1, ny)
        patch = np.asarray(image[y0:y1, x0:x1], dtype=np.float64)
        coordinates = [y[index][inside] - y0, x[index][inside] - x0]
        values[index][inside] = ndimage.map_coordinates(patch, coordinates, order=1, mode="nearest")
    if conserve_flux:
        values *= pixel_area_ratio(x, y)[:, None, None]
    complete = np.isfinite(values).all(axis=(1, 2))
    return values.astype(np.float32), complete
