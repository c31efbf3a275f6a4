"""Synthetic test sets for the evaluation tests: galaxies from the project's renderer plus known noise.

"Generated" images are the noise-free galaxies plus a fresh noise realisation of the true sigma: what a
perfect translation model that reproduces the survey's noise would produce. Tests get the sets, or the
factory :func:`make_pairs`, through fixtures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from galtk.pipeline.surveys import SurveySpec, get_survey
from galtk.pipeline.synthetic.render import GalaxyShapes, render_galaxies

#: Colour of the test galaxies: flux in each band relative to r (u g r i z).
BAND_FLUX_RATIO = np.array([0.25, 0.6, 1.0, 1.3, 1.5])


@dataclass(frozen=True)
class SyntheticPairs:
    """Originals and ideal "generated" images of one survey, in its pixel unit."""

    survey: SurveySpec
    bands: tuple[str, ...]
    clean: np.ndarray
    original: np.ndarray
    generated: np.ndarray
    true_sigma: np.ndarray


def make_pairs(
    survey_name: str, count: int, seed: int, bands: tuple[str, ...] = ("g", "r", "i")
) -> SyntheticPairs:
    """``count`` galaxies (r = 15.5 to 20 mag, one neighbour each) with noise of log-normal sigma."""
    survey = get_survey(survey_name)
    rng = np.random.default_rng(seed)
    band_index = [survey.bands.index(band) for band in bands]
    size = survey.cutout_size
    centre = (size - 1) / 2.0
    clean = np.empty((count, len(bands), size, size))
    sigma = np.empty((count, len(bands)))
    typical = np.array([survey.noise_sigma_nmgy[band] for band in bands])
    for image in range(count):
        flux_r = 10.0 ** ((22.5 - rng.uniform([15.5, 19.0], [20.0, 22.0])) / 2.5)
        galaxies = GalaxyShapes(
            x=np.array([centre, rng.uniform(0, size)]),
            y=np.array([centre, rng.uniform(0, size)]),
            sersic_n=rng.uniform(0.5, 4.0, 2),
            r_eff_px=rng.uniform(0.5, 3.0, 2) / survey.pixel_scale,
            axis_ratio=rng.uniform(0.3, 1.0, 2),
            position_angle=rng.uniform(0.0, 180.0, 2),
            flux=flux_r[:, None] * BAND_FLUX_RATIO[band_index] / survey.nanomaggies_per_unit,
        )
        seeing = np.array([survey.seeing_fwhm[band] for band in bands]) / survey.pixel_scale
        clean[image] = render_galaxies(galaxies, seeing, size)
        sigma[image] = typical * np.exp(rng.normal(0.0, 0.2, len(bands))) / survey.nanomaggies_per_unit
    noise_shape = clean.shape
    original = clean + rng.standard_normal(noise_shape) * sigma[:, :, None, None]
    generated = clean + rng.standard_normal(noise_shape) * sigma[:, :, None, None]
    return SyntheticPairs(
        survey, bands, clean, original.astype(np.float32), generated.astype(np.float32), sigma
    )


@pytest.fixture(scope="session")
def pair_factory() -> Callable[..., SyntheticPairs]:
    """:func:`make_pairs`."""
    return make_pairs


@pytest.fixture(scope="session")
def sdss_pairs() -> SyntheticPairs:
    """60 SDSS-like pairs (64 px, nanomaggies), bands g r i."""
    return make_pairs("sdss", 60, seed=11)


@pytest.fixture(scope="session")
def cfht_pairs() -> SyntheticPairs:
    """24 CFHT-like pairs (136 px, zero point 30 ADU), bands g r i."""
    return make_pairs("cfht", 24, seed=12)
