"""Resampling onto the cutout grid, against reproject, exact WCS mappings and the kernels' formulas."""

import numpy as np
import pytest
from astropy.wcs import WCS
from reproject import reproject_interp

from galtk.pipeline.geometry import cutout_wcs
from galtk.pipeline.resample import (
    KERNELS,
    cut_image,
    cutout_world_grid,
    pixel_area_ratio,
    pixel_maps,
    resample,
)


def _rotated_frame(ra: float, dec: float, scale: float, angle_deg: float, shape=(400, 300)) -> WCS:
    """A drift-scan-like TAN frame: rotated, flipped in x, with its own reference point."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra + 0.003, dec - 0.002]
    wcs.wcs.crpix = [shape[1] / 2 + 7.3, shape[0] / 2 - 4.1]
    theta = np.deg2rad(angle_deg)
    s = scale / 3600.0
    wcs.wcs.cd = [[s * np.cos(theta), -s * np.sin(theta)], [s * np.sin(theta), s * np.cos(theta)]]
    wcs.pixel_shape = (shape[1], shape[0])
    return wcs


def test_world_grid_matches_the_cutout_wcs() -> None:
    positions = np.arange(0, 64, 7, dtype=float)
    ra_grid, dec_grid = cutout_world_grid(
        np.array([150.0, 10.0]), np.array([2.0, -45.0]), 0.396, 64, positions
    )
    for index, (ra, dec) in enumerate([(150.0, 2.0), (10.0, -45.0)]):
        xx, yy = np.meshgrid(positions, positions)
        expected_ra, expected_dec = cutout_wcs(ra, dec, 0.396, 64).pixel_to_world_values(xx, yy)
        np.testing.assert_allclose(ra_grid[index], expected_ra, atol=1e-10)
        np.testing.assert_allclose(dec_grid[index], expected_dec, atol=1e-10)


@pytest.mark.parametrize("angle", [0.0, 37.0, 91.5])
def test_sparse_mapping_equals_the_exact_mapping(angle: float) -> None:
    wcs = _rotated_frame(30.0, 10.0, 0.396, angle)
    ra, dec = np.array([30.0, 30.01]), np.array([10.0, 9.995])
    x_fast, y_fast = pixel_maps(wcs, ra, dec, 0.396, 64)
    x_exact, y_exact = pixel_maps(wcs, ra, dec, 0.396, 64, step=1)
    np.testing.assert_allclose(x_fast, x_exact, atol=1e-4)
    np.testing.assert_allclose(y_fast, y_exact, atol=1e-4)


@pytest.mark.parametrize(
    ("scale_in", "scale_out", "size"), [(0.396, 0.396, 64), (0.186, 0.186, 136), (0.3, 0.396, 64)]
)
def test_resampling_matches_reproject_bilinear(scale_in: float, scale_out: float, size: int) -> None:
    rng = np.random.default_rng(0)
    frame = _rotated_frame(150.0, 2.0, scale_in, 23.0)
    yy, xx = np.mgrid[:400, :300]
    image = rng.normal(0, 1, (400, 300)) + 50 * np.exp(-((xx - 140) ** 2 + (yy - 210) ** 2) / 30.0)
    ra, dec = frame.pixel_to_world_values(140.0, 210.0)
    x, y = pixel_maps(frame, np.array([ra]), np.array([dec]), scale_out, size)
    cut = resample(image, x, y, kernel="bilinear", conserve_flux=False)
    ours, complete = cut.cutouts, cut.complete
    target = cutout_wcs(float(ra), float(dec), scale_out, size)
    expected, footprint = reproject_interp((image, frame), target, shape_out=(size, size), order="bilinear")
    assert complete[0] and footprint.all()
    np.testing.assert_allclose(ours[0], expected, atol=1e-5 * np.abs(image).max())


@pytest.mark.parametrize("kernel", KERNELS)
def test_point_source_lands_at_the_cutout_centre_and_keeps_its_flux(kernel: str) -> None:
    # A compact Gaussian star at a known position in a rotated frame with a different pixel scale.
    frame = _rotated_frame(200.0, 40.0, 0.3, 61.0)
    star_x, star_y = 151.37, 188.62
    ra, dec = frame.pixel_to_world_values(star_x, star_y)
    yy, xx = np.mgrid[:400, :300]
    sigma = 3.0
    image = (
        1000.0 / (2 * np.pi * sigma**2) * np.exp(-((xx - star_x) ** 2 + (yy - star_y) ** 2) / (2 * sigma**2))
    )
    x, y = pixel_maps(frame, np.array([ra]), np.array([dec]), 0.396, 64)
    cutout = resample(image, x, y, kernel=kernel).cutouts
    cy, cx = np.mgrid[:64, :64]
    total = cutout[0].sum(dtype=np.float64)
    assert total == pytest.approx(1000.0, rel=0.01)
    # Nearest-pixel resampling moves each pixel by up to half a pixel; the others interpolate.
    tolerance = 0.3 if kernel == "nearest" else 0.1
    assert (cutout[0] * cx).sum() / total == pytest.approx(31.5, abs=tolerance)
    assert (cutout[0] * cy).sum() / total == pytest.approx(31.5, abs=tolerance)
    assert pixel_area_ratio(x, y)[0] == pytest.approx((0.396 / 0.3) ** 2, rel=1e-4)


def test_cutouts_off_the_image_edge_are_flagged_incomplete() -> None:
    frame = _rotated_frame(10.0, 0.0, 0.396, 0.0)
    ra, dec = frame.pixel_to_world_values(np.array([150.0, 5.0]), np.array([200.0, 200.0]))
    x, y = pixel_maps(frame, ra, dec, 0.396, 64)
    image = np.ones((400, 300))
    image[300, 100] = np.nan
    cut = resample(image, x, y)
    cutouts, complete = cut.cutouts, cut.complete
    assert complete.tolist() == [True, False]
    assert np.isnan(cutouts[1]).any() and np.isfinite(cutouts[0]).all()


def _lanczos3(distance: np.ndarray) -> np.ndarray:
    """The Lanczos-3 kernel, written from its definition."""
    inside = np.abs(distance) < 3
    return np.where(inside, np.sinc(distance) * np.sinc(distance / 3), 0.0)


def test_lanczos3_weights_follow_the_kernel_formula() -> None:
    rng = np.random.default_rng(3)
    image = rng.normal(0, 1, (40, 40))
    x = np.array([[[17.3, 20.0, 11.71]]])
    y = np.array([[[21.45, 19.0, 12.02]]])
    ours = resample(image, x, y, kernel="lanczos3", conserve_flux=False).cutouts[0, 0]
    for index in range(3):
        columns = np.arange(40) - x[0, 0, index]
        rows = np.arange(40) - y[0, 0, index]
        weights = np.outer(_lanczos3(rows), _lanczos3(columns))
        weights /= np.outer(_lanczos3(rows).sum(), _lanczos3(columns).sum())
        assert ours[index] == pytest.approx((weights * image).sum(), abs=1e-5)
    assert ours[1] == pytest.approx(image[19, 20], abs=1e-6)  # on a pixel centre it takes that pixel


@pytest.mark.parametrize(("kernel", "expected"), [("nearest", 1.0), ("lanczos3", 0.89), ("bilinear", 0.667)])
def test_noise_gain_is_the_sigma_ratio_of_resampled_white_noise(kernel: str, expected: float) -> None:
    rng = np.random.default_rng(4)
    frame = _rotated_frame(150.0, 2.0, 0.396, 31.0)
    image = rng.normal(0, 1, (400, 300))
    ra, dec = frame.pixel_to_world_values(rng.uniform(100, 200, 12), rng.uniform(120, 280, 12))
    x, y = pixel_maps(frame, ra, dec, 0.396, 64)
    cut = resample(image, x, y, kernel=kernel)
    measured = cut.cutouts.reshape(len(ra), -1).std(axis=1)
    np.testing.assert_allclose(measured, cut.noise_gain, rtol=0.05)
    assert float(np.mean(cut.noise_gain)) == pytest.approx(expected, abs=0.03)


def test_an_unknown_kernel_is_refused() -> None:
    with pytest.raises(ValueError, match="lanczos3, bilinear, nearest"):
        resample(np.zeros((8, 8)), np.zeros((1, 2, 2)), np.zeros((1, 2, 2)), kernel="cubic")


def _north_up_tile(ra: float, dec: float, scale: float, shape=(600, 600)) -> WCS:
    """A CFHTLS-like stack: north-up TAN at the survey's pixel scale, tangent point away from the objects."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [shape[1] / 2 + 0.5, shape[0] / 2 + 0.5]
    wcs.wcs.cdelt = [-scale / 3600.0, scale / 3600.0]
    wcs.pixel_shape = (shape[1], shape[0])
    return wcs


def test_a_north_up_image_at_the_cutout_scale_is_cut_on_its_own_pixels() -> None:
    rng = np.random.default_rng(4)
    tile = _north_up_tile(35.0, -5.0, 0.186)
    image = rng.normal(0.0, 1.0, (600, 600)).astype(np.float32)
    ra, dec = tile.pixel_to_world_values(rng.uniform(150, 450, 6), rng.uniform(150, 450, 6))
    cut = cut_image(image, tile, ra, dec, 0.186, 136)
    assert cut.native.all() and cut.complete.all()
    np.testing.assert_array_equal(cut.noise_gain, 1.0)
    assert np.all(np.abs(cut.offset) <= 0.5)
    for index in range(len(ra)):
        # The cutout is a slice of the image, and the WCS written with the recorded offset is the image's WCS
        # on that slice (checked at every 15th pixel, with astropy, to 0.01 px).
        written = cutout_wcs(ra[index], dec[index], 0.186, 136, tuple(cut.offset[index]))
        cols, rows = np.meshgrid(np.arange(0, 136, 15.0), np.arange(0, 136, 15.0))
        x, y = tile.world_to_pixel_values(*written.pixel_to_world_values(cols, rows))
        x0, y0 = np.round(x - cols), np.round(y - rows)
        assert np.ptp(x0) == 0 and np.ptp(y0) == 0
        np.testing.assert_allclose(x - cols, x0, atol=0.01)
        np.testing.assert_allclose(y - rows, y0, atol=0.01)
        x0, y0 = int(x0.flat[0]), int(y0.flat[0])
        np.testing.assert_array_equal(cut.cutouts[index], image[y0 : y0 + 136, x0 : x0 + 136])


def test_a_rotated_or_rescaled_image_is_resampled() -> None:
    image = np.random.default_rng(5).normal(0.0, 1.0, (400, 300))
    rotated = _rotated_frame(30.0, 10.0, 0.396, 0.3)
    rescaled = _north_up_tile(30.0, 10.0, 0.2, shape=(400, 300))
    for frame, scale in ((rotated, 0.396), (rescaled, 0.186)):
        cut = cut_image(image, frame, np.array([30.0]), np.array([10.0]), scale, 64)
        assert not cut.native.any() and cut.complete.all()
        np.testing.assert_array_equal(cut.offset, 0.0)
        assert cut.noise_gain[0] < 0.99
