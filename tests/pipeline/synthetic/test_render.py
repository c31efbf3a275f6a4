"""Noise-free rendering: flux, position, PSF width and orientation."""

import numpy as np
import pytest
from astropy.modeling import fitting, models

from galtk.pipeline.surveys import SURVEYS
from galtk.pipeline.synthetic.render import GalaxyShapes, padded_size, render_galaxies


def _galaxy(x=31.5, y=31.5, n=1.0, r_eff=3.0, q=1.0, pa=0.0, flux=(100.0,)) -> GalaxyShapes:
    return GalaxyShapes(
        x=np.atleast_1d(np.asarray(x, dtype=float)),
        y=np.atleast_1d(np.asarray(y, dtype=float)),
        sersic_n=np.atleast_1d(np.asarray(n, dtype=float)),
        r_eff_px=np.atleast_1d(np.asarray(r_eff, dtype=float)),
        axis_ratio=np.atleast_1d(np.asarray(q, dtype=float)),
        position_angle=np.atleast_1d(np.asarray(pa, dtype=float)),
        flux=np.atleast_2d(np.asarray(flux, dtype=float)),
    )


def _measured_fwhm(image: np.ndarray) -> float:
    yy, xx = np.mgrid[: image.shape[0], : image.shape[1]]
    centre = (image.shape[0] - 1) / 2
    start = models.Moffat2D(amplitude=image.max(), x_0=centre, y_0=centre, gamma=2.0, alpha=3.0)
    fit = fitting.LevMarLSQFitter()(start, xx, yy, image)
    return float(fit.fwhm)


def test_padded_grid_is_twice_the_cutout_and_fft_friendly() -> None:
    assert padded_size(64) == 128
    assert padded_size(136) == 288
    assert padded_size(65) == 135


@pytest.mark.parametrize("n", [0.5, 1.0, 4.0])
def test_flux_of_a_compact_galaxy_lands_on_the_cutout(n: float) -> None:
    image = render_galaxies(_galaxy(n=n, r_eff=2.0, flux=(100.0, 3.0)), np.array([3.0, 4.0]), 64)
    assert image.shape == (2, 64, 64)
    np.testing.assert_allclose(image.sum(axis=(1, 2)), [100.0, 3.0], rtol=0.01)


def test_galaxy_is_drawn_where_asked() -> None:
    image = render_galaxies(_galaxy(x=20.25, y=40.0, r_eff=1.5), np.array([3.0]), 64)[0]
    yy, xx = np.mgrid[:64, :64]
    assert (image * xx).sum() / image.sum() == pytest.approx(20.25, abs=0.02)
    assert (image * yy).sum() / image.sum() == pytest.approx(40.0, abs=0.02)


@pytest.mark.parametrize("survey", ["sdss", "cfht"])
def test_point_source_fwhm_matches_the_survey_seeing(survey: str) -> None:
    spec = SURVEYS[survey]
    size = spec.cutout_size
    seeing = np.array([spec.seeing_fwhm[band] for band in spec.bands])
    point = _galaxy(x=(size - 1) / 2, y=(size - 1) / 2, r_eff=1e-4, flux=[100.0] * len(seeing))
    image = render_galaxies(point, seeing / spec.pixel_scale, size)
    for band, expected in enumerate(seeing):
        measured = _measured_fwhm(image[band]) * spec.pixel_scale
        assert measured == pytest.approx(expected, rel=0.10)
        # The pixel response broadens the PSF only slightly at these samplings.
        assert measured == pytest.approx(expected, rel=0.04)


@pytest.mark.parametrize(("pa", "long_axis"), [(0.0, "y"), (90.0, "x")])
def test_major_axis_follows_the_position_angle(pa: float, long_axis: str) -> None:
    image = render_galaxies(_galaxy(r_eff=6.0, q=0.3, pa=pa), np.array([1.0]), 64)[0]
    yy, xx = np.mgrid[:64, :64] - 31.5
    var_x = (image * xx**2).sum() / image.sum()
    var_y = (image * yy**2).sum() / image.sum()
    assert (var_y > 3 * var_x) if long_axis == "y" else (var_x > 3 * var_y)


def test_position_angle_is_measured_east_of_north() -> None:
    # PA = 45 deg points the major axis north-east: up (+y) and left (-x, east), so x and y anti-correlate.
    image = render_galaxies(_galaxy(r_eff=6.0, q=0.3, pa=45.0), np.array([1.0]), 64)[0]
    yy, xx = np.mgrid[:64, :64] - 31.5
    assert (image * xx * yy).sum() / image.sum() < -5.0
