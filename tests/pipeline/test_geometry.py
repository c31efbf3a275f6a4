"""Cutout geometry against astropy's WCS."""

import numpy as np
import pytest

from galtk.pipeline.geometry import cutout_wcs, sky_to_cutout_pixels


@pytest.mark.parametrize(("ra0", "dec0"), [(150.1, 2.2), (0.01, -30.0), (359.99, 60.0), (35.0, 89.5)])
def test_projection_matches_astropy_wcs(ra0: float, dec0: float) -> None:
    rng = np.random.default_rng(1)
    ra = ra0 + rng.uniform(-0.01, 0.01, 200) / np.cos(np.deg2rad(dec0))
    dec = dec0 + rng.uniform(-0.01, 0.01, 200)
    x, y = sky_to_cutout_pixels(ra, dec, ra0, dec0, 0.396, 64)
    expected_x, expected_y = cutout_wcs(ra0, dec0, 0.396, 64).world_to_pixel_values(ra, dec)
    np.testing.assert_allclose(x, expected_x, atol=1e-6)
    np.testing.assert_allclose(y, expected_y, atol=1e-6)


@pytest.mark.parametrize("size", [64, 136, 65])
def test_object_sits_at_the_cutout_centre_north_up_east_left(size: int) -> None:
    wcs = cutout_wcs(10.0, 20.0, 0.186, size)
    centre = (size - 1) / 2
    ra, dec = wcs.pixel_to_world_values(centre, centre)
    assert ra == pytest.approx(10.0) and dec == pytest.approx(20.0)
    _, dec_up = wcs.pixel_to_world_values(centre, centre + 10)
    ra_left, _ = wcs.pixel_to_world_values(centre - 10, centre)
    assert dec_up > dec  # north is +y
    assert ra_left > ra  # east is -x
    assert wcs.proj_plane_pixel_scales()[0].to_value("arcsec") == pytest.approx(0.186)
    assert wcs.pixel_shape == (size, size)
