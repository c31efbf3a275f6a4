"""Known answers of the evaluation metrics, and the issue's synthetic test of the whole evaluation."""

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from scipy import ndimage
from scipy.special import erf

from galtk.models.evaluation import EvaluationSet, evaluate_methods, metrics
from galtk.models.evaluation.measure import measure_images
from galtk.models.networks.filters import HIGH_PASS_KERNEL, HighPassFilter
from galtk.pipeline.surveys import get_survey


def test_high_pass_equals_the_discriminator_filter() -> None:
    b, a = (np.array(weights) for weights in metrics.HIGH_PASS_SEPARABLE)
    assert np.array_equal(np.outer(b, b) - np.outer(a, a), np.array(HIGH_PASS_KERNEL))
    images = np.random.default_rng(0).normal(size=(2, 3, 20, 17))
    expected = HighPassFilter()(torch.from_numpy(images)).numpy()
    assert metrics.high_pass(images).shape == (2, 3, 16, 13)
    np.testing.assert_allclose(metrics.high_pass(images), expected, rtol=0, atol=1e-12)


def test_noise_gain_is_the_root_sum_of_squared_weights() -> None:
    assert metrics.HIGH_PASS_NOISE_GAIN**2 == pytest.approx(940.0)
    filtered = metrics.high_pass(np.random.default_rng(1).normal(0.0, 1.0, (400, 400)))
    assert filtered.std() / metrics.HIGH_PASS_NOISE_GAIN == pytest.approx(1.0, rel=0.01)


@pytest.mark.parametrize(
    "image",
    [
        np.full((64, 64), 3.7),
        np.tile(np.linspace(-2.0, 5.0, 64), (64, 1)),
        np.tile(np.linspace(-2.0, 5.0, 64), (64, 1)).T,
    ],
    ids=["constant", "ramp along x", "ramp along y"],
)
def test_smooth_images_have_zero_high_pass_noise(image: np.ndarray) -> None:
    assert np.abs(metrics.high_pass(image)).max() < 1e-12
    assert metrics.high_passed_sigma(image) < 1e-12


@pytest.mark.parametrize(("sigma", "seed"), [(0.03, 2), (1.0, 3), (250.0, 4)])
def test_mad_sigma_of_white_noise_is_within_3_percent(sigma: float, seed: int) -> None:
    noise = np.random.default_rng(seed).normal(0.0, sigma, (512, 512))
    assert metrics.noise_sigma(noise) == pytest.approx(sigma, rel=0.03)


def test_mad_sigma_ignores_a_bright_galaxy() -> None:
    y, x = np.mgrid[:128, :128]
    galaxy = 500.0 * np.exp(-((x - 64.0) ** 2 + (y - 60.0) ** 2) / (2 * 6.0**2))
    noise = np.random.default_rng(5).normal(0.0, 1.0, (128, 128))
    assert metrics.noise_sigma(galaxy + noise) == pytest.approx(1.0, rel=0.05)
    assert metrics.high_passed_sigma(galaxy + noise) == pytest.approx(1.0, rel=0.05)


@pytest.mark.parametrize("width", [0.5, 1.0, 2.0])
def test_noise_sigma_is_the_per_pixel_sigma_of_correlated_noise(width: float) -> None:
    """Resampled images have correlated noise: noise_sigma still gives its per-pixel sigma, the high-passed
    estimate only the white-noise equivalent of its high frequencies."""
    white = np.random.default_rng(6).normal(0.0, 1.0, (8, 256, 256))
    smoothed = ndimage.gaussian_filter(white, sigma=(0, width, width), mode="wrap")
    smoothed /= smoothed.std()
    assert np.median(metrics.noise_sigma(smoothed)) == pytest.approx(1.0, rel=0.03)
    assert np.median(metrics.high_passed_sigma(smoothed)) < 0.6


def test_fourier_maps_of_white_noise_are_flat() -> None:
    sigma, size = 1.5, 64
    noise = np.random.default_rng(6).normal(0.0, sigma, (300, size, size))
    raw = metrics.stacked_fourier_amplitude(noise, filtered=False)
    interior = np.ones(raw.shape, dtype=bool)
    interior[[0, size // 2], :] = False
    interior[:, [0, size // 2]] = False
    level = sigma * size * math.sqrt(math.pi) / 2.0  # mean of a Rayleigh variable
    assert raw[interior].mean() == pytest.approx(level, rel=0.01)
    assert raw[interior].std() / level < 0.06
    filtered = metrics.stacked_fourier_amplitude(noise)
    mask = metrics.high_pass_response_mask(filtered.shape)
    whitened = filtered[mask] / metrics.high_pass_transfer(filtered.shape)[mask]
    filtered_level = sigma * (size - 4) * math.sqrt(math.pi) / 2.0
    assert np.median(whitened) == pytest.approx(filtered_level, rel=0.03)
    assert np.percentile(whitened, 95) / np.percentile(whitened, 5) < 1.2


def test_power_spectrum_of_white_noise_is_flat_at_sigma_squared() -> None:
    sigma = 0.8
    noise = np.random.default_rng(7).normal(0.0, sigma, (200, 64, 64))
    frequency, power = metrics.radial_power_spectrum(noise, filtered=False)
    assert frequency[0] == pytest.approx(1 / 64) and frequency[-1] == pytest.approx(0.5)
    np.testing.assert_allclose(power, sigma**2, rtol=0.08)
    _, filtered = metrics.radial_power_spectrum(noise)
    _, response = metrics.radial_average(metrics.high_pass_transfer((60, 60)) ** 2)
    high = frequency[:30] >= 0.25  # where the filter passes most of the noise
    np.testing.assert_allclose(filtered[high] / response[high], sigma**2, rtol=0.12)


def test_chunked_measurement_equals_the_direct_formulas() -> None:
    images = np.random.default_rng(8).normal(0.0, 2.0, (7, 2, 24, 30)).astype(np.float32)
    weights = metrics.aperture_weights((24, 30), 5.0)
    statistics = measure_images(images, to_nanomaggies=0.5, aperture=weights, chunk_size=3)
    nanomaggies = images.astype(np.float64) * 0.5
    np.testing.assert_allclose(statistics.noise_sigma, metrics.noise_sigma(nanomaggies))
    np.testing.assert_allclose(statistics.fourier_amplitude, metrics.stacked_fourier_amplitude(nanomaggies))
    np.testing.assert_allclose(
        statistics.power, metrics.power_map(metrics.high_pass(nanomaggies)).mean(axis=0)
    )
    np.testing.assert_allclose(statistics.aperture_flux, metrics.aperture_flux(nanomaggies, weights))
    np.testing.assert_allclose(statistics.total_flux, nanomaggies.sum(axis=(2, 3)))


@pytest.mark.parametrize(("size", "width", "radius"), [(64, 6.0, 10.0), (65, 3.0, 9.0), (136, 4.0, 16.0)])
def test_aperture_flux_of_a_gaussian(size: int, width: float, radius: float) -> None:
    """Exact pixel weights recover the flux of a Gaussian inside a circle (pixels much smaller than it)."""
    flux = 37.0
    edges = np.arange(size + 1) - 0.5 - (size - 1) / 2.0
    profile = np.diff(erf(edges / (width * math.sqrt(2.0)))) / 2.0  # pixel-integrated 1-D Gaussian
    image = flux * np.outer(profile, profile)
    weights = metrics.aperture_weights(image.shape, radius)
    expected = flux * (1.0 - math.exp(-(radius**2) / (2.0 * width**2)))
    assert metrics.aperture_flux(image, weights) == pytest.approx(expected, rel=0.005)
    assert metrics.total_flux(image) == pytest.approx(flux, rel=1e-6)
    assert weights.sum() == pytest.approx(math.pi * radius**2, rel=0.01)


def test_magnitudes_use_the_survey_zero_points() -> None:
    cfht = get_survey("cfht")
    assert metrics.magnitude(np.array(1.0)) == pytest.approx(22.5)
    assert metrics.magnitude(np.array(1000.0 * cfht.nanomaggies_per_unit)) == pytest.approx(22.5)  # ZP 30 ADU
    assert metrics.magnitude(np.array(100.0)) == pytest.approx(17.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        faint = metrics.magnitude(np.array([0.0, -3.0]))
    assert np.isnan(faint).all()
    difference = metrics.magnitude_difference(np.array([110.0, 5.0]), np.array([100.0, -1.0]))
    assert difference[0] == pytest.approx(-2.5 * math.log10(1.1))
    assert np.isnan(difference[1])


def test_summed_noise_amplitude_and_its_sqrt2_for_two_realisations() -> None:
    sigma, pixels = 0.05, 256 * 256
    rng = np.random.default_rng(9)
    first, second = rng.normal(0.0, sigma, (2, 256, 256))
    expected = metrics.expected_summed_noise_amplitude(sigma, pixels)
    assert expected == pytest.approx(pixels * sigma * math.sqrt(2.0 / math.pi))
    assert metrics.summed_absolute(first) == pytest.approx(expected, rel=0.01)
    assert metrics.summed_absolute(first - second) == pytest.approx(math.sqrt(2.0) * expected, rel=0.01)


def test_binned_statistics_and_log_ratio() -> None:
    x = np.arange(10.0)
    binned = metrics.binned_statistics(x, 2 * x, np.array([0.0, 5.0, 10.0, 20.0]))
    np.testing.assert_array_equal(binned["count"], [5, 5, 0])
    np.testing.assert_allclose(binned["median"][:2], [4.0, 14.0])
    assert np.isnan(binned["median"][2])
    assert metrics.log_ratio_rms(np.full(4, 2.0), np.full(4, 2.0)) == 0.0
    assert metrics.log_ratio_rms(np.array([10.0, 0.1]), np.ones(2)) == pytest.approx(1.0)
    assert metrics.log_ratio_rms(np.zeros(3), np.ones(3)) == pytest.approx(12.0)  # a map without noise


def _evaluate_ideal_and_noise_free(pairs: Any, **extra: np.ndarray) -> dict:
    test_set = EvaluationSet(
        "test", pairs.survey, pairs.original, pairs.bands, true_sigma=pairs.true_sigma, **extra
    )
    results = evaluate_methods(
        {"ideal": {"test": pairs.generated}, "noise-free": {"test": pairs.clean}}, [test_set]
    )
    return {result.method: result.directions["test"] for result in results}


@pytest.mark.parametrize("pairs_fixture", ["sdss_pairs", "cfht_pairs"])
def test_synthetic_generated_images_with_fresh_noise_score_as_ideal(
    pairs_fixture: str, request: pytest.FixtureRequest
) -> None:
    """The issue's test: "generated" = real galaxies with fresh noise of the true sigma."""
    pairs = request.getfixturevalue(pairs_fixture)
    outcome = _evaluate_ideal_and_noise_free(pairs)
    ideal, noise_free = outcome["ideal"], outcome["noise-free"]
    pixels = pairs.original.shape[2] * pairs.original.shape[3]
    to_nmgy = pairs.survey.nanomaggies_per_unit
    for index, band in enumerate(("g", "r", "i")):
        summary = ideal.summary[band]
        assert summary["noise_ratio"] == pytest.approx(1.0, abs=0.05)
        assert summary["noise_ratio_true"] == pytest.approx(1.0, abs=0.05)
        assert summary["original_noise_ratio_true"] == pytest.approx(1.0, abs=0.05)
        # sigma = median over images of the expected sum |noise| = N_pix * s * sqrt(2 / pi) ...
        sigma_sum = np.median(
            metrics.expected_summed_noise_amplitude(pairs.true_sigma[:, index] * to_nmgy, pixels)
        )
        assert summary["reference_noise_sum"] == pytest.approx(sigma_sum)
        # ... and the difference of two independent realisations sits on sqrt(2) sigma ...
        assert summary["flux_difference_median"] == pytest.approx(math.sqrt(2.0) * sigma_sum, rel=0.03)
        assert summary["flux_difference_ratio"] == pytest.approx(1.0, abs=0.03)
        # ... image by image too, while noise-free images sit on sigma (the paper's dashed line).
        per_image = ideal.flux_difference[:, index] / (
            math.sqrt(2.0)
            * metrics.expected_summed_noise_amplitude(pairs.true_sigma[:, index] * to_nmgy, pixels)
        )
        assert np.median(per_image) == pytest.approx(1.0, abs=0.015)
        assert noise_free.summary[band]["flux_difference_ratio"] == pytest.approx(
            1.0 / math.sqrt(2.0), abs=0.03
        )
        assert summary["fourier_log_ratio_rms"] < 0.1
        assert noise_free.summary[band]["fourier_log_ratio_rms"] > 1.0
        assert summary["power_log_ratio_rms"] < 0.08
        assert abs(summary["aperture_dmag_median"]) < 0.01
    pulls = np.concatenate([ideal.photometry[kind].pull.ravel() for kind in ("total", "aperture")])
    assert metrics.robust_spread(pulls) == pytest.approx(1.0, abs=0.25)


def test_reference_noise_from_noise_emulator_samples(pair_factory: Callable[..., Any]) -> None:
    pairs = pair_factory("sdss", 30, seed=21, bands=("r",))
    rng = np.random.default_rng(22)
    emulated = rng.standard_normal(pairs.original.shape) * pairs.true_sigma[:, :, None, None]
    measured = _evaluate_ideal_and_noise_free(pairs, emulator_noise=emulated)["ideal"].originals
    from_true = _evaluate_ideal_and_noise_free(pairs)["ideal"].originals
    assert measured.reference_noise_source == "noise emulator"
    assert from_true.reference_noise_source == "true sigma"
    assert measured.reference_noise[0] == pytest.approx(from_true.reference_noise[0], rel=0.03)
