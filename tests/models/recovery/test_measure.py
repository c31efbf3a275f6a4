"""The measurements of a recovery against analytic images: photutils' shapes, noise, residual power."""

from __future__ import annotations

import numpy as np
import pytest

from galtk.models.recovery.measure import (
    compare,
    footprint,
    morphology_score,
    power_in_bands,
    radial_power,
    shape,
)


def _gaussian(sigma_x: float, sigma_y: float, flux: float = 100.0, size: int = 64) -> np.ndarray:
    y, x = np.mgrid[:size, :size] - (size - 1) / 2
    image = np.exp(-0.5 * ((x / sigma_x) ** 2 + (y / sigma_y) ** 2))
    return flux * image / image.sum()


def test_shape_of_an_elliptical_gaussian_matches_its_moments() -> None:
    image = _gaussian(4.0, 2.0)
    segment = footprint(image, 1e-4)
    measured = shape(image, segment)
    assert measured.flux == pytest.approx(100.0, rel=0.01)
    assert measured.size == pytest.approx(4.0, rel=0.02)  # second-moment semi-major axis = sigma_x
    assert measured.ellipticity == pytest.approx(1 - 2.0 / 4.0, abs=0.02)
    assert 0 < measured.gini < 1


def test_footprint_is_the_galaxy_nearest_the_centre() -> None:
    image = _gaussian(3.0, 3.0) + np.roll(_gaussian(2.0, 2.0, flux=400.0), (20, 20), axis=(0, 1))
    segment = footprint(image, 0.01)
    assert segment[32, 32] == 1 and segment[52, 52] == 0
    assert footprint(np.zeros((64, 64)), 1.0) is None


def test_errors_vanish_on_the_reference_and_noise_is_measured_in_its_sigma() -> None:
    reference = _gaussian(4.0, 3.0)
    segment = footprint(reference, 0.01)
    ref = shape(reference, segment)
    same = compare(reference, ref, reference, segment, 0.01)
    assert all(
        abs(same[key]) < 1e-12 for key in ("flux_error", "size_error", "ellipticity_error", "gini_error")
    )
    noisy = reference + np.random.default_rng(0).normal(0.0, 0.01, reference.shape)
    measured = compare(noisy, ref, reference, segment, 0.01)
    assert measured["residual_rms"] == pytest.approx(1.0, rel=0.05)
    assert measured["noise"] == pytest.approx(1.0, rel=0.1)
    assert compare(2 * reference, ref, reference, segment, 0.01)["flux_error"] == pytest.approx(1.0)


def test_residual_power_is_one_for_white_noise_and_low_for_smooth_residuals() -> None:
    rng = np.random.default_rng(1)
    spectra = np.mean([radial_power(rng.normal(0, 0.3, (64, 64)), 0.3) for _ in range(20)], axis=0)
    assert np.allclose(spectra, 1.0, atol=0.1)
    smooth = power_in_bands(radial_power(_gaussian(6.0, 6.0), 0.01))
    assert smooth["power_0-0.25"] > 1e6 * smooth["power_0.5-1"]


def test_morphology_score_is_zero_on_the_original_and_grows_with_blur() -> None:
    from scipy import ndimage

    original = _gaussian(3.0, 1.5)
    slightly, much = (ndimage.gaussian_filter(original, width) for width in (0.7, 2.0))
    assert morphology_score(original, original, 1e-3) == 0.0
    assert 0 < morphology_score(slightly, original, 1e-3) < morphology_score(much, original, 1e-3)
    assert np.isnan(morphology_score(original, np.zeros((64, 64)), 1.0))
