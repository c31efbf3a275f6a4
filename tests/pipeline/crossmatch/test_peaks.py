"""The aligned-peak test: peak positions of rendered galaxies and their offsets on a common grid."""

import numpy as np
import pytest

from galtk.pipeline.crossmatch.peaks import PeakFinder, cutout_pixels_to_sky, peak_offsets
from galtk.pipeline.geometry import cutout_wcs, sky_to_cutout_pixels
from galtk.pipeline.surveys import CFHT, SDSS


def _render(
    ra0: float, dec0: float, sources: list[tuple[float, float, float]], survey, noise: float, seed: int
) -> np.ndarray:
    """5-band cutout centred on (ra0, dec0) with Gaussian galaxies (ra, dec, flux) of 0.8" sigma."""
    size, scale = survey.cutout_size, survey.pixel_scale
    yy, xx = np.mgrid[:size, :size]
    image = np.random.default_rng(seed).normal(0.0, noise, (5, size, size))
    sigma = 0.8 / scale
    for ra, dec, flux in sources:
        x, y = sky_to_cutout_pixels(np.array([ra]), np.array([dec]), ra0, dec0, scale, size)
        blob = np.exp(-((xx - x[0]) ** 2 + (yy - y[0]) ** 2) / (2 * sigma**2)) / (2 * np.pi * sigma**2)
        image += flux * blob
    return image.astype(np.float32)


def test_peaks_of_the_same_galaxy_in_both_surveys_align() -> None:
    finder = PeakFinder()
    rng = np.random.default_rng(0)
    ra0, dec0 = 150.0, 2.0
    offsets = []
    for k in range(8):
        galaxy = (ra0 + rng.uniform(-1, 1) / 3600, dec0 + rng.uniform(-1, 1) / 3600, 50.0)
        # The two catalogs disagree by 0.1" (astrometric errors), the galaxy is where it is.
        sdss_centre = (ra0, dec0)
        cfht_centre = (ra0 + 0.1 / 3600, dec0 - 0.05 / 3600)
        sdss = _render(*sdss_centre, [galaxy], SDSS, 0.03, k)
        cfht = _render(*cfht_centre, [galaxy], CFHT, 0.01, 100 + k)
        bands = np.ones((1, 5), bool)
        peak_s = finder.find(sdss[None], bands, SDSS.pixel_scale)
        peak_c = finder.find(cfht[None], bands, CFHT.pixel_scale)
        truth = sky_to_cutout_pixels(np.array([galaxy[0]]), np.array([galaxy[1]]), *sdss_centre, 0.396, 64)
        assert np.hypot(peak_s[0] - truth[0], peak_s[1] - truth[1])[0] < 0.15
        dx, dy = peak_offsets(
            peak_s, tuple(np.array([v]) for v in sdss_centre), (0.396, 64),
            peak_c, tuple(np.array([v]) for v in cfht_centre), (0.186, 136),
        )  # fmt: skip
        offsets.append(np.hypot(dx, dy)[0])
    assert max(offsets) < 0.2


def test_a_shifted_galaxy_gives_its_shift_in_sdss_pixels() -> None:
    centre = (34.0, -5.0)
    galaxy = (centre[0], centre[1], 50.0)
    moved = (centre[0], centre[1] + 3 * 0.396 / 3600, 50.0)  # 3 SDSS pixels north
    sdss = _render(*centre, [galaxy], SDSS, 0.01, 1)
    cfht = _render(*centre, [moved], CFHT, 0.01, 2)
    finder = PeakFinder()
    bands = np.ones((1, 5), bool)
    dx, dy = peak_offsets(
        finder.find(sdss[None], bands, 0.396), (np.array([centre[0]]), np.array([centre[1]])), (0.396, 64),
        finder.find(cfht[None], bands, 0.186), (np.array([centre[0]]), np.array([centre[1]])), (0.186, 136),
    )  # fmt: skip
    assert dy[0] == pytest.approx(3.0, abs=0.1) and dx[0] == pytest.approx(0.0, abs=0.1)


def test_search_window_ignores_a_brighter_neighbour_at_the_edge() -> None:
    centre = (150.0, 2.0)
    target = (centre[0], centre[1], 20.0)
    neighbour = (centre[0] + 9 / 3600, centre[1], 200.0)
    image = _render(*centre, [target, neighbour], SDSS, 0.01, 3)
    x, y = PeakFinder(search_arcsec=4.0).find(image[None], np.ones((1, 5), bool), 0.396)
    assert np.hypot(x - 31.5, y - 31.5)[0] < 0.3
    x_all, _ = PeakFinder(search_arcsec=20.0).find(image[None], np.ones((1, 5), bool), 0.396)
    assert abs(x_all[0] - 31.5) > 20  # without the window the neighbour wins


def test_only_the_selected_valid_bands_count() -> None:
    centre = (150.0, 2.0)
    image = _render(*centre, [(centre[0], centre[1], 50.0)], SDSS, 0.01, 4)
    image[0] = np.random.default_rng(0).normal(0, 0.01, (64, 64))
    image[0, 5, 5] = 1e6  # a hot pixel in a band flagged invalid
    image[1] = np.nan  # a band with no data
    bands = np.array([[False, False, True, True, True]])
    x, y = PeakFinder(search_arcsec=30.0).find(image[None], bands, 0.396)
    assert np.hypot(x - 31.5, y - 31.5)[0] < 0.3
    x, y = PeakFinder().find(image[None], np.zeros((1, 5), bool), 0.396)
    assert np.isnan(x[0]) and np.isnan(y[0])


def test_pixels_to_sky_inverts_the_cutout_wcs() -> None:
    x = np.array([0.0, 10.3, 31.5, 63.0])
    y = np.array([5.0, 31.5, 31.5, 60.2])
    for ra0, dec0 in [(150.1, 2.2), (359.99, -60.0), (0.0, 89.0)]:
        ra, dec = cutout_pixels_to_sky(x, y, ra0, dec0, 0.396, 64)
        ra_w, dec_w = cutout_wcs(ra0, dec0, 0.396, 64).pixel_to_world_values(x, y)
        np.testing.assert_allclose((ra - ra_w + 180) % 360 - 180, 0, atol=1e-10)
        np.testing.assert_allclose(dec, dec_w, atol=1e-10)
