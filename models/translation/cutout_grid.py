"""Putting the band images of a cutout to translate onto its survey's cutout grid.

The networks take cutouts on one grid only: ``size`` x ``size`` pixels at the survey's pixel scale, north-up
TAN, centred on the object (:func:`galtk.pipeline.geometry.cutout_wcs`). An input image is mapped onto the
grid of that shape centred on a given position (the input's centre) through its own celestial WCS:

1. If every grid pixel centre lands on an input pixel centre (within :data:`EXACT_TOLERANCE_PX`), the grid
   pixels are picked from the input without interpolation: the input as it is, or a crop of a larger image,
   or a flip or rotation by a multiple of 90 degrees (an east-right image, a transposed one). The pixel
   values, and so the noise, are untouched.
2. Otherwise (another pixel scale such as the reference code's 0.187"/px for CFHT, a slight rotation, a
   tangent point elsewhere as in a cutout of a CFHTLS tile, distortion terms) the image is resampled
   bilinearly with :class:`galtk.pipeline.preprocess.regrid.RegridMap` and multiplied by the ratio of pixel
   areas, so
   pixel values stay fluxes per pixel. Bilinear interpolation smooths the noise a little, as the SDSS
   frames of the training cutouts were smoothed when they were resampled onto the same grid.
3. Grid pixel centres may lie at most half an input pixel beyond the input's outer pixel centres (they take
   the border value there, the convention of ``reproject``); a grid reaching further out is refused with
   :class:`OffGrid`, which says how far and by how much the input is rotated.

:func:`map_to_cutout_grid` works the mapping out once per WCS (exactly on every 8th grid pixel, by a cubic
fit in between, within 1e-4 px); :meth:`GridMapping.apply` applies it to each plane sharing that WCS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.wcs import WCS

from galtk.pipeline.preprocess.regrid import RegridMap
from galtk.pipeline.resample import pixel_area_ratio, pixel_maps
from galtk.pipeline.surveys import SurveySpec

#: Largest distance (pixels) between a grid pixel centre and an input pixel centre for picking pixels as is.
EXACT_TOLERANCE_PX = 0.01
#: How far (input pixels) grid pixel centres may lie beyond the outer input pixel centres.
EDGE_ALLOWANCE_PX = 0.5
#: Rotations smaller than this (degrees) go unmentioned in messages.
_NOTABLE_ROTATION_DEG = 0.05

AS_IS = "as is"


class OffGrid(Exception):
    """The survey's cutout grid around the given centre does not fit inside the image (message says why)."""


@dataclass(frozen=True, eq=False)
class GridMapping:
    """How to put images of one shape and WCS onto a cutout grid (from :func:`map_to_cutout_grid`).

    Attributes
    ----------
    block : tuple of int
        ``(y0, y1, x0, x1)``: the only image pixels read.
    rows, columns : ndarray or None
        Image pixel of every grid pixel (relative to ``block``) when pixels are picked without interpolation.
    regrid : RegridMap or None
        Bilinear mapping from ``block`` onto the grid otherwise.
    area_ratio : float
        Grid pixel area in image pixels (flux factor of resampling).
    how : str
        ``"as is"``, or how the pixels are picked or resampled (for provenance and messages).
    """

    block: tuple[int, int, int, int]
    rows: np.ndarray | None
    columns: np.ndarray | None
    regrid: RegridMap | None
    area_ratio: float
    how: str

    def apply(self, image: np.ndarray) -> np.ndarray:
        """The image on the grid, float64 (only ``block`` of the image is read; it may be memory-mapped)."""
        y0, y1, x0, x1 = self.block
        block = np.asarray(image[y0:y1, x0:x1], dtype=np.float64)
        if self.regrid is None:
            return block[self.rows, self.columns]
        return self.regrid.apply(block).astype(np.float64) * self.area_ratio


def map_to_cutout_grid(
    wcs: WCS, shape: tuple[int, int], ra: float, dec: float, survey: SurveySpec
) -> GridMapping:
    """Plan putting images of ``shape`` with ``wcs`` onto the survey's cutout grid centred on ``(ra, dec)``.

    Parameters
    ----------
    wcs : astropy.wcs.WCS
        The images' celestial WCS (equatorial).
    shape : tuple of int
        (ny, nx) of the images.
    ra, dec : float
        Grid centre in degrees.
    survey : SurveySpec
        Pixel scale and cutout size of the grid.

    Returns
    -------
    GridMapping

    Raises
    ------
    OffGrid
        If grid pixel centres fall more than :data:`EDGE_ALLOWANCE_PX` beyond the image.
    """
    size = survey.cutout_size
    # Exact WCS on every 8th pixel, a cubic fit in between: within 1e-4 px of the exact mapping.
    x, y = pixel_maps(wcs, np.array([ra]), np.array([dec]), survey.pixel_scale, size)
    x, y = x[0], y[0]
    ny, nx = shape
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise OffGrid(f"the {survey.title} cutout grid around its centre does not project onto the image")
    overshoot = float(max(-x.min(), -y.min(), x.max() - (nx - 1), y.max() - (ny - 1)))
    if overshoot > EDGE_ALLOWANCE_PX + 1e-9:
        raise OffGrid(
            f'the north-up {size}x{size} {survey.title} grid at {survey.pixel_scale}"/px around its centre '
            f"reaches {overshoot:.1f} px beyond the image{_rotation_note(x, y)}; give a larger image or one "
            f"already on that grid"
        )
    columns, rows = np.rint(x).astype(np.intp), np.rint(y).astype(np.intp)
    exact = max(np.abs(x - columns).max(), np.abs(y - rows).max()) <= EXACT_TOLERANCE_PX
    if exact and columns.min() >= 0 and rows.min() >= 0 and columns.max() <= nx - 1 and rows.max() <= ny - 1:
        y0, x0 = int(rows.min()), int(columns.min())
        block = (y0, int(rows.max()) + 1, x0, int(columns.max()) + 1)
        grid = np.arange(size)
        untouched = (
            shape == (size, size) and (rows == grid[:, None]).all() and (columns == grid[None, :]).all()
        )
        how = (
            AS_IS
            if untouched
            else "pixels picked without interpolation (cropped, flipped or turned by quarter turns)"
        )
        return GridMapping(block, rows - y0, columns - x0, None, 1.0, how)
    y0, x0 = max(int(np.floor(y.min())) - 1, 0), max(int(np.floor(x.min())) - 1, 0)
    y1, x1 = min(int(np.ceil(y.max())) + 2, ny), min(int(np.ceil(x.max())) + 2, nx)
    regrid = RegridMap.from_coordinates(x - x0, y - y0, (y1 - y0, x1 - x0))
    area = float(pixel_area_ratio(x[None], y[None])[0])
    how = f'resampled bilinearly from {survey.pixel_scale / np.sqrt(area):.4f}"/px, flux-conserving'
    return GridMapping((y0, y1, x0, x1), None, None, regrid, area, how + _rotation_note(x, y))


def _rotation_note(x: np.ndarray, y: np.ndarray) -> str:
    """How the image's grid is turned relative to north-up (measured at the grid centre), or ""."""
    centre = x.shape[0] // 2
    dx_dcol, dy_dcol = x[centre, centre] - x[centre, centre - 1], y[centre, centre] - y[centre, centre - 1]
    dx_drow, dy_drow = x[centre, centre] - x[centre - 1, centre], y[centre, centre] - y[centre - 1, centre]
    if dx_dcol * dy_drow - dx_drow * dy_dcol < 0:
        return " (its grid is mirrored: east to the right)"
    # The grid's x axis seen in image pixels is turned by minus the image's position angle.
    angle = -float(np.degrees(np.arctan2(dy_dcol, dx_dcol)))
    if abs(angle) <= _NOTABLE_ROTATION_DEG:
        return ""
    return f" (its grid is rotated: its y axis points {angle:.1f} deg east of north)"
