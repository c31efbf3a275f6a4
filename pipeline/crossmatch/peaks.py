"""The aligned-peak test of cross-matched cutouts (SPEC section 2: pairs need "aligned peak positions").

The peak of a cutout is its **brightest pixel**, not a centroid: a flux-weighted centroid over a cutout is
pulled by neighbours and by noise far from the galaxy, while the peak is what the paper compares. To make the
brightest pixel a stable estimate on faint galaxies it is taken on a detection image and refined:

1. Detection image: the bands valid in *both* cutouts of the pair, each divided by its noise variance (noise
   sigma from the median absolute deviation of the band image), summed. NaN pixels count as 0.
2. Smoothed with a Gaussian of ``smoothing_arcsec`` sigma (the same angular size in both surveys, 0.6" by
   default, about the SDSS PSF), which suppresses single noisy pixels.
3. The brightest pixel within ``search_arcsec`` (4" by default) of the cutout centre, so that a brighter
   galaxy near the edge of the cutout is not compared instead of the target.
4. Refined to sub-pixel precision by a parabola through the peak and its two neighbours along each axis
   (clamped to +-0.5 px); without it the integer pixel grid alone makes peaks of perfectly aligned cutouts
   differ by up to 0.7 SDSS px (the object sits between the four central pixels of an even-sized cutout).

Both peaks are then placed on the same angular grid: each is de-projected from its own cutout's TAN grid to
the sky and the CFHT one is projected onto the SDSS cutout grid, so the offset is in SDSS pixels and includes
the small difference between the two catalogs' positions.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from galtk.pipeline.geometry import sky_to_cutout_pixels


@dataclass(frozen=True)
class PeakFinder:
    """Settings of the peak finder.

    Parameters
    ----------
    smoothing_arcsec : float
        Sigma of the Gaussian smoothing of the detection image (0: none).
    search_arcsec : float
        Radius around the cutout centre searched for the peak.
    """

    smoothing_arcsec: float = 0.6
    search_arcsec: float = 4.0

    def __post_init__(self) -> None:
        if self.smoothing_arcsec < 0 or self.search_arcsec <= 0:
            raise ValueError("smoothing_arcsec must be >= 0 and search_arcsec > 0")

    def find(
        self, images: np.ndarray, bands: np.ndarray, pixel_scale: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Peak positions of cutouts.

        Parameters
        ----------
        images : ndarray, shape (n, band, y, x)
            Cutouts (any flux unit).
        bands : ndarray, shape (n, band), bool
            Bands to use for each cutout.
        pixel_scale : float
            Arcsec per pixel of the cutouts.

        Returns
        -------
        x, y : ndarray, shape (n,)
            0-based pixel coordinates of the peaks; NaN where no band was usable.
        """
        images = np.asarray(images, dtype=np.float32)
        n, _, height, width = images.shape
        detection = _detection_image(images, np.asarray(bands, dtype=bool))
        usable = np.isfinite(detection).all(axis=(1, 2)) & (np.abs(detection).sum(axis=(1, 2)) > 0)
        detection = np.nan_to_num(detection, nan=0.0)
        if self.smoothing_arcsec > 0:
            sigma = self.smoothing_arcsec / pixel_scale
            detection = ndimage.gaussian_filter(detection, sigma=(0, sigma, sigma), mode="nearest")
        yy, xx = np.mgrid[:height, :width]
        radius = np.hypot(yy - (height - 1) / 2, xx - (width - 1) / 2) * pixel_scale
        window = radius <= self.search_arcsec
        masked = np.where(window, detection, -np.inf).reshape(n, -1)
        flat = np.argmax(masked, axis=1)
        y, x = np.unravel_index(flat, (height, width))
        rows = np.arange(n)
        dy = _parabola_offset(detection, rows, y, x, axis=0)
        dx = _parabola_offset(detection, rows, y, x, axis=1)
        peak_x = np.where(usable, x + dx, np.nan)
        peak_y = np.where(usable, y + dy, np.nan)
        return peak_x, peak_y


def cutout_pixels_to_sky(
    x: np.ndarray, y: np.ndarray, ra0: np.ndarray, dec0: np.ndarray, pixel_scale: float, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sky positions of 0-based pixel coordinates on cutout grids centred on ``(ra0, dec0)``.

    Inverse of :func:`galtk.pipeline.geometry.sky_to_cutout_pixels` (gnomonic de-projection), vectorised
    over cutouts: all arguments broadcast.

    Returns
    -------
    ra, dec : ndarray
        Degrees.
    """
    scale = np.deg2rad(pixel_scale / 3600.0)
    centre = (size - 1) / 2.0
    xi = -(np.asarray(x, dtype=float) - centre) * scale
    eta = (np.asarray(y, dtype=float) - centre) * scale
    ra0_r, dec0_r = np.deg2rad(ra0), np.deg2rad(dec0)
    denominator = np.cos(dec0_r) - eta * np.sin(dec0_r)
    ra = ra0_r + np.arctan2(xi, denominator)
    dec = np.arctan2(np.sin(dec0_r) + eta * np.cos(dec0_r), np.hypot(xi, denominator))
    return np.rad2deg(ra) % 360.0, np.rad2deg(dec)


def peak_offsets(
    peak_a: tuple[np.ndarray, np.ndarray],
    centre_a: tuple[np.ndarray, np.ndarray],
    grid_a: tuple[float, int],
    peak_b: tuple[np.ndarray, np.ndarray],
    centre_b: tuple[np.ndarray, np.ndarray],
    grid_b: tuple[float, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Offset of peak B from peak A, in pixels of cutout grid A.

    Parameters
    ----------
    peak_a, peak_b : tuple of ndarray
        (x, y) peak pixel coordinates on each cutout's own grid.
    centre_a, centre_b : tuple of ndarray
        (ra, dec) cutout centres in degrees.
    grid_a, grid_b : tuple of (float, int)
        (pixel scale in arcsec, cutout size) of each survey.

    Returns
    -------
    dx, dy : ndarray
        Peak B minus peak A along the x and y axes of grid A (x points west, y north).
    """
    ra_b, dec_b = cutout_pixels_to_sky(*peak_b, *centre_b, *grid_b)
    x_b, y_b = sky_to_cutout_pixels(ra_b, dec_b, *centre_a, *grid_a)
    return x_b - peak_a[0], y_b - peak_a[1]


def _detection_image(images: np.ndarray, bands: np.ndarray) -> np.ndarray:
    """Inverse-variance weighted sum of the selected bands; NaN for cutouts without a usable band."""
    n, n_bands, height, width = images.shape
    flat = images.reshape(n, n_bands, -1)
    sigma = _noise_sigma(flat)
    good = bands & np.isfinite(sigma) & (sigma > 0)
    weight = np.where(good, 1.0 / np.where(good, sigma, 1.0) ** 2, 0.0).astype(np.float32)
    detection = np.einsum("nbp,nb->np", np.nan_to_num(flat, nan=0.0), weight).reshape(n, height, width)
    detection[~good.any(axis=1)] = np.nan
    return detection


def _noise_sigma(flat: np.ndarray) -> np.ndarray:
    """Robust noise sigma (1.4826 x median absolute deviation) of each (object, band) image."""
    if not np.isnan(flat).any():
        centre = np.median(flat, axis=2, keepdims=True)
        return 1.4826 * np.median(np.abs(flat - centre), axis=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN band has no sigma: NaN, then unused
        centre = np.nanmedian(flat, axis=2, keepdims=True)
        return 1.4826 * np.nanmedian(np.abs(flat - centre), axis=2)


def _parabola_offset(
    image: np.ndarray, rows: np.ndarray, y: np.ndarray, x: np.ndarray, *, axis: int
) -> np.ndarray:
    """Sub-pixel offset of the vertex of the parabola through the peak and its two neighbours."""
    size = image.shape[1 + axis]
    position = y if axis == 0 else x
    inner = (position > 0) & (position < size - 1)
    centre_pos = np.clip(position, 1, size - 2)
    if axis == 0:
        before, middle, after = (image[rows, centre_pos + k, x] for k in (-1, 0, 1))
    else:
        before, middle, after = (image[rows, y, centre_pos + k] for k in (-1, 0, 1))
    curvature = before - 2 * middle + after
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(curvature < 0, 0.5 * (before - after) / curvature, 0.0)
    return np.where(inner, np.clip(offset, -0.5, 0.5), 0.0)
