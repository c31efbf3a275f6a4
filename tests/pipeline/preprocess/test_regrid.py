"""Bilinear regridding kernel against reproject.reproject_interp with the two cutouts' WCSs."""

import numpy as np
import pytest
from reproject import reproject_interp

from galtk.pipeline.geometry import cutout_wcs
from galtk.pipeline.preprocess.regrid import RegridMap, regrid_cutouts
from galtk.pipeline.surveys import CFHT, SDSS


def _cfht_cutouts(n: int, seed: int = 0) -> np.ndarray:
    """Noise plus a compact and an extended galaxy off the pixel grid (sharp features test the kernel)."""
    rng = np.random.default_rng(seed)
    size = CFHT.cutout_size
    yy, xx = np.mgrid[:size, :size]
    images = rng.normal(0.0, 3.0, (n, 5, size, size))
    for k in range(n):
        x0, y0 = rng.uniform(55, 80, 2)
        images[k] += 800 * np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * 1.2**2))
        images[k] += 150 * np.exp(-np.hypot(xx - 70.3, (yy - 60.1) / 0.6) / 6)
    return images.astype(np.float32)


def _reference(images: np.ndarray, ra: float, dec: float, *, out_wcs=None) -> np.ndarray:
    wcs_in = cutout_wcs(ra, dec, CFHT.pixel_scale, CFHT.cutout_size)
    wcs_out = out_wcs or cutout_wcs(ra, dec, SDSS.pixel_scale, SDSS.cutout_size)
    return reproject_interp(
        (images, wcs_in), wcs_out, shape_out=(SDSS.cutout_size,) * 2, order="bilinear", return_footprint=False
    )


@pytest.mark.parametrize(
    ("ra", "dec"), [(150.1, 2.2), (34.5, -5.0), (10.0, 60.0), (200.0, -89.5), (0.0005, 0.0)]
)
def test_kernel_equals_reproject_bilinear_at_any_position(ra: float, dec: float) -> None:
    images = _cfht_cutouts(3)
    ours = regrid_cutouts(images, from_scale=CFHT.pixel_scale, to_scale=SDSS.pixel_scale, to_size=64)
    assert ours.shape == (3, 5, 64, 64) and ours.dtype == np.float32
    for k in range(3):
        reference = _reference(images[k], ra, dec)
        assert np.isfinite(reference).all()
        assert np.max(np.abs(ours[k] - reference)) <= 1e-5 * np.max(np.abs(images[k]))


def test_the_mapping_is_the_same_for_every_object() -> None:
    mapping = RegridMap.between_cutouts(from_scale=0.186, from_size=136, to_scale=0.396, to_size=64)
    assert mapping.separable
    yy, xx = np.mgrid[:64, :64].astype(float)
    for ra, dec in [(0.0, 0.0), (123.4, 56.7), (300.0, -80.0)]:
        world = cutout_wcs(ra, dec, 0.396, 64).pixel_to_world_values(xx, yy)
        x, y = cutout_wcs(ra, dec, 0.186, 136).world_to_pixel_values(*world)
        np.testing.assert_allclose(x, mapping.x, atol=1e-6)
        np.testing.assert_allclose(y, mapping.y, atol=1e-6)
    # The pixel scale ratio of the two surveys, about the two centres.
    np.testing.assert_allclose(mapping.x[0], 67.5 + (np.arange(64) - 31.5) * 0.396 / 0.186, atol=1e-6)


def test_general_two_dimensional_mapping_equals_reproject() -> None:
    """A rotated output grid is not separable and takes the four-neighbour gather path."""
    ra, dec = 150.1, 2.2
    wcs_out = cutout_wcs(ra, dec, SDSS.pixel_scale, SDSS.cutout_size)
    angle = np.deg2rad(20.0)
    scale = SDSS.pixel_scale / 3600.0
    wcs_out.wcs.cd = scale * np.array([[-np.cos(angle), np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    yy, xx = np.mgrid[:64, :64].astype(float)
    x, y = cutout_wcs(ra, dec, CFHT.pixel_scale, CFHT.cutout_size).world_to_pixel_values(
        *wcs_out.pixel_to_world_values(xx, yy)
    )
    mapping = RegridMap.from_coordinates(x, y, (136, 136))
    assert not mapping.separable
    images = _cfht_cutouts(2, seed=1)
    ours = mapping.apply(images)
    for k in range(2):
        reference = _reference(images[k], ra, dec, out_wcs=wcs_out)
        np.testing.assert_array_equal(np.isnan(ours[k]), np.isnan(reference))  # rotated corners fall outside
        assert np.isnan(reference).any()
        assert np.nanmax(np.abs(ours[k] - reference)) <= 1e-5 * np.max(np.abs(images[k]))


def test_outside_the_input_is_nan_and_nan_pixels_stay_local() -> None:
    # A 64-px output grid at 0.5"/px (32") is larger than the 25.3" CFHT cutout: its border is NaN.
    images = _cfht_cutouts(1)
    images[0, 2, 60:62, 70] = np.nan
    wide = regrid_cutouts(images, from_scale=CFHT.pixel_scale, to_scale=0.5, to_size=64)
    reference = _reference(images[0], 10.0, 20.0, out_wcs=cutout_wcs(10.0, 20.0, 0.5, 64))
    np.testing.assert_array_equal(np.isnan(wide[0]), np.isnan(reference))
    assert np.isnan(wide[0, 0, 0]).all() and not np.isnan(wide[0, 0, 32]).all()
    assert np.nanmax(np.abs(wide[0] - reference)) <= 1e-5 * np.nanmax(np.abs(images[0]))
    regular = regrid_cutouts(images, from_scale=CFHT.pixel_scale, to_scale=SDSS.pixel_scale, to_size=64)
    bad = np.isnan(regular[0])
    assert bad[2].sum() in range(1, 5) and not bad[[0, 1, 3, 4]].any()


def test_leading_dimensions_and_shapes_are_checked() -> None:
    mapping = RegridMap.between_cutouts(from_scale=0.186, from_size=136, to_scale=0.396, to_size=64)
    images = _cfht_cutouts(2)
    np.testing.assert_array_equal(mapping.apply(images[0, 1]), mapping.apply(images)[0, 1])
    with pytest.raises(ValueError, match="expected"):
        mapping.apply(np.zeros((2, 5, 64, 64), np.float32))


def _general(mapping: RegridMap, images: np.ndarray) -> np.ndarray:
    """The two-gather separable kernel, which the fast kernel must reproduce."""
    stack = images.reshape(-1, *mapping.in_shape).astype(np.float32)
    return mapping._apply_separable(stack).reshape(*images.shape[:-2], *mapping.out_shape)


def test_fast_kernel_equals_the_gathers_and_keeps_nan_exact() -> None:
    mapping = RegridMap.between_cutouts(from_scale=0.186, from_size=136, to_scale=0.396, to_size=64)
    assert mapping.fast
    images = _cfht_cutouts(70, seed=2)  # 350 images: 11 full steps and a partial one
    images[3, 1] = np.nan  # an invalid band
    images[40, 4, 70, 66] = np.nan  # single bad pixels: their 8 x 17 column blocks must not turn NaN
    images[41, 0, 10, 130] = np.inf
    images[69, 2, 135, 0] = np.nan  # the last, partial step
    ours, general = mapping.apply(images), _general(mapping, images)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(general))
    assert np.isnan(ours[3, 1]).all() and 1 <= np.isnan(ours[40, 4]).sum() <= 4
    assert 1 <= np.isnan(ours[69, 2]).sum() <= 4 and not np.isnan(ours[[0, 68]]).any()
    finite = np.isfinite(general)
    peak = np.nanmax(np.abs(np.where(np.isfinite(images), images, np.nan)))
    assert np.max(np.abs(ours[finite] - general[finite])) <= 1e-6 * peak
    read_only = images.copy()
    read_only.flags.writeable = False
    np.testing.assert_array_equal(mapping.apply(read_only), ours)


def test_an_image_result_does_not_depend_on_its_batch() -> None:
    mapping = RegridMap.between_cutouts(from_scale=0.186, from_size=136, to_scale=0.396, to_size=64)
    images = _cfht_cutouts(13, seed=3)
    whole = mapping.apply(images)
    for start, stop in [(0, 1), (5, 13), (7, 9), (12, 13)]:
        np.testing.assert_array_equal(mapping.apply(images[start:stop]), whole[start:stop])
    np.testing.assert_array_equal(mapping.apply(images.astype(np.float64)), whole)


def test_other_separable_grids_take_the_gathers() -> None:
    # Output pixels outside the input (0.5"/px), or too many row runs (0.3"/px): the gathers, still exact.
    for to_scale in (0.5, 0.3):
        mapping = RegridMap.between_cutouts(from_scale=0.186, from_size=136, to_scale=to_scale, to_size=64)
        assert mapping.separable
        images = _cfht_cutouts(2, seed=4)
        reference = _reference(images[1], 1.0, 2.0, out_wcs=cutout_wcs(1.0, 2.0, to_scale, 64))
        ours = mapping.apply(images)[1]
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference))
        assert np.nanmax(np.abs(ours - reference)) <= 1e-5 * np.max(np.abs(images[1]))
