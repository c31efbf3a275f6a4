"""The robust background sigma, on white noise with and without a bright galaxy."""

from __future__ import annotations

import numpy as np
import pytest

from galtk.pipeline.degrade.noise import added_sigma, background_sigma
from galtk.pipeline.degrade.psf import psf_image


def test_background_sigma_ignores_the_galaxy_and_nans() -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(0.0, 0.05, (128, 128))
    galaxy = 400.0 * np.pad(psf_image("moffat", 8.0, 63), ((32, 33), (32, 33)))
    image = noise + galaxy
    image[:3] = np.nan
    assert background_sigma(noise) == pytest.approx(0.05, rel=0.03)
    assert background_sigma(image) == pytest.approx(0.05, rel=0.05)
    assert np.isnan(background_sigma(np.full((4, 4), np.nan)))


def test_added_sigma_adds_in_quadrature_and_never_lowers() -> None:
    assert added_sigma(3.0, 5.0) == pytest.approx(4.0)
    assert added_sigma(5.0, 3.0) == 0.0
