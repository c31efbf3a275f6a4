"""Cutouts of real galaxies from real SDSS DR17 frames (320 x 320 crops in tests/data/sdss-dr17).

The crops keep the frames' real headers (TAN-SIP WCS moved with the crop, calibration keywords) and pixels;
their five bands are not pixel-aligned, as in every SDSS field. Checked against computations on the frames
themselves: positions (a windowed centroid measured on the cutout and on the frame), aperture photometry,
and the noise each resampling kernel keeps (``noise_gain``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.stats import sigma_clipped_stats
from astropy.wcs import WCS, FITSFixedWarning

from galtk.catalogs.files import read_object_catalog
from galtk.pipeline.geometry import cutout_wcs
from galtk.pipeline.resample import KERNELS
from galtk.pipeline.sources.fits import FitsSource
from galtk.pipeline.stores.cutout_store import CutoutBatch
from galtk.pipeline.surveys import SDSS

DATA = Path(__file__).resolve().parents[2] / "data" / "sdss-dr17"
CENTRE = (SDSS.cutout_size - 1) / 2


def _frames() -> dict[str, tuple[np.ndarray, WCS]]:
    frames = {}
    for path in sorted(DATA.glob("frame-*-crop.fits.gz")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            header = fits.getheader(path)
            frames[header["FILTER"].strip()] = (fits.getdata(path).astype(np.float64), WCS(header))
    return frames


@pytest.fixture(scope="module")
def frames() -> dict[str, tuple[np.ndarray, WCS]]:
    return _frames()


@pytest.fixture(scope="module")
def cutouts() -> dict[str, tuple[FitsSource, CutoutBatch]]:
    catalog = read_object_catalog(DATA / "galaxies.csv")
    files = sorted(DATA.glob("frame-*-crop.fits.gz"))
    made = {}
    for kernel in KERNELS:
        source = FitsSource(catalog, files, kernel=kernel)
        objects = source.objects(SDSS)
        made[kernel] = (source, source.cutouts(SDSS, objects, np.arange(len(objects))))
    return made


def _clipped(values: np.ndarray) -> tuple[float, float]:
    """Sigma-clipped mean level and RMS (sources clipped out)."""
    _, median, sigma = sigma_clipped_stats(values, sigma=3, maxiters=10)
    return float(median), float(sigma)


def _windowed_centroid(image: np.ndarray, x: float, y: float, sigma: float = 2.0) -> tuple[float, float]:
    """Iterated Gaussian-windowed centroid (SExtractor's XWIN_IMAGE, YWIN_IMAGE)."""
    rows, columns = np.mgrid[: image.shape[0], : image.shape[1]]
    for _ in range(50):
        weight = np.exp(-((columns - x) ** 2 + (rows - y) ** 2) / (2 * sigma**2)) * image
        new_x, new_y = (weight * columns).sum() / weight.sum(), (weight * rows).sum() / weight.sum()
        if abs(new_x - x) < 1e-5 and abs(new_y - y) < 1e-5:
            break
        x, y = new_x, new_y
    return float(x), float(y)


def _aperture_flux(image: np.ndarray, x: float, y: float, radius: float, subpixels: int = 5) -> float:
    """Flux in a circle, each pixel weighted by the fraction of its subpixels inside."""
    rows, columns = np.mgrid[: image.shape[0], : image.shape[1]]
    offsets = (np.arange(subpixels) + 0.5) / subpixels - 0.5
    inside = sum(
        ((columns + dx - x) ** 2 + (rows + dy - y) ** 2 <= radius**2).astype(float)
        for dx in offsets
        for dy in offsets
    )
    return float((image * inside).sum() / subpixels**2)


def test_every_galaxy_of_the_crops_is_cut_in_every_band(cutouts) -> None:
    source, batch = cutouts["lanczos3"]
    assert len(source.objects(SDSS)) == 21
    assert batch.valid.all()
    assert np.isfinite(batch.images).all()


@pytest.mark.parametrize("kernel", KERNELS)
def test_noise_kept_matches_the_recorded_noise_gain(frames, cutouts, kernel: str) -> None:
    _, batch = cutouts[kernel]
    rows, columns = np.mgrid[: SDSS.cutout_size, : SDSS.cutout_size]
    background = np.hypot(columns - CENTRE, rows - CENTRE) > 14
    for index, band in enumerate(SDSS.bands):
        frame_sigma = _clipped(frames[band][0])[1]
        cutout_sigma = _clipped(batch.images[:, index][:, background])[1]
        gain = float(np.mean(batch.extras["noise_gain"][:, index]))
        assert cutout_sigma / frame_sigma == pytest.approx(gain, rel=0.05), band
        if kernel == "lanczos3":
            assert cutout_sigma / frame_sigma >= 0.85, band


def test_galaxies_sit_where_the_frames_put_them_in_every_band(frames, cutouts) -> None:
    source, batch = cutouts["lanczos3"]
    objects = source.objects(SDSS)
    for index, band in enumerate(SDSS.bands):
        data, wcs = frames[band]
        level = _clipped(data)[0]
        offsets = []
        for row in range(len(objects)):
            grid = cutout_wcs(objects.ra[row], objects.dec[row], SDSS.pixel_scale, SDSS.cutout_size)
            x, y = _windowed_centroid(batch.images[row, index] - level, CENTRE, CENTRE)
            on_cutout = grid.pixel_to_world(x, y)
            frame_x, frame_y = (
                float(value) for value in wcs.world_to_pixel_values(objects.ra[row], objects.dec[row])
            )
            x0, y0 = round(frame_x) - 20, round(frame_y) - 20
            patch = data[y0 : y0 + 41, x0 : x0 + 41] - level
            x, y = _windowed_centroid(patch, frame_x - x0, frame_y - y0)
            offsets.append(on_cutout.separation(wcs.pixel_to_world(x + x0, y + y0)).arcsec / SDSS.pixel_scale)
        assert np.median(offsets) <= 0.05, band


def test_aperture_photometry_equals_the_frames(frames, cutouts) -> None:
    source, batch = cutouts["lanczos3"]
    objects = source.objects(SDSS)
    for index, band in enumerate(SDSS.bands):
        data, wcs = frames[band]
        level = _clipped(data)[0]
        on_cutouts, on_frame = 0.0, 0.0
        for row in range(len(objects)):
            on_cutouts += _aperture_flux(batch.images[row, index] - level, CENTRE, CENTRE, 8.0)
            frame_x, frame_y = wcs.world_to_pixel_values(objects.ra[row], objects.dec[row])
            on_frame += _aperture_flux(data - level, float(frame_x), float(frame_y), 8.0)
        assert on_cutouts / on_frame == pytest.approx(1.0, abs=0.01), band
