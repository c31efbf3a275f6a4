"""Richardson-Lucy and Wiener deconvolution of degraded cutouts; choosing their regularisation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import fftconvolve

from galtk.pipeline.degrade.deconvolution import choose_regularisation, deconvolve
from galtk.pipeline.degrade.psf import matching_kernel, psf_image


def _pair(seed: int, sigma: float = 0.02) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An original (a galaxy-like blob, noise ``sigma``), its copy degraded from 3 to 6 px PSF, the kernel."""
    rng = np.random.default_rng(seed)
    blob = 500.0 * fftconvolve(
        np.pad(psf_image("moffat", 4.0 + seed % 3, 31), 16), psf_image("gaussian", 3.0, 15), mode="same"
    )
    kernel = matching_kernel(3.0, 6.0, "gaussian")
    degraded = fftconvolve(np.pad(blob, kernel.shape[0] // 2, mode="reflect"), kernel, mode="valid")
    return blob + rng.normal(0, sigma, blob.shape), degraded + rng.normal(0, sigma, blob.shape), kernel


@pytest.mark.parametrize(("method", "parameter"), [("richardson-lucy", 20), ("wiener", 0.03)])
def test_deconvolution_comes_closer_to_the_original_than_the_degraded_image_and_keeps_the_flux(
    method: str, parameter: float
) -> None:
    original, degraded, kernel = _pair(0)
    recovered = deconvolve(method, degraded, kernel, parameter)
    assert recovered.shape == original.shape
    assert np.mean((recovered - original) ** 2) < 0.5 * np.mean((degraded - original) ** 2)
    assert recovered[10:53, 10:53].sum() == pytest.approx(original[10:53, 10:53].sum(), rel=0.03)


def test_the_regularisation_is_chosen_on_training_pairs_by_their_error() -> None:
    pairs = [_pair(seed) for seed in range(3)]
    originals, degraded, kernels = (list(items) for items in zip(*pairs, strict=True))
    choice = choose_regularisation(
        "wiener", originals, degraded, kernels, [0.02] * 3, candidates=(1e-4, 0.03, 10.0)
    )
    assert choice.parameter == min(choice.errors, key=choice.errors.__getitem__)
    assert set(choice.errors) == {1e-4, 0.03, 10.0} and choice.parameter != 10.0
    with pytest.raises(ValueError, match="unknown deconvolution"):
        deconvolve("blind", degraded[0], kernels[0], 1)


def test_the_choice_follows_the_score_it_is_given() -> None:
    pairs = [_pair(seed) for seed in range(2)]
    originals, degraded, kernels = (list(items) for items in zip(*pairs, strict=True))

    def smoothest(deconvolved: np.ndarray, original: np.ndarray, sigma: float) -> float:
        return float(np.abs(np.diff(deconvolved, axis=0)).mean())  # prefers the smoothest output

    choice = choose_regularisation(
        "richardson-lucy", originals, degraded, kernels, [0.02] * 2, candidates=(1, 5, 30), score=smoothest
    )
    assert choice.parameter == 1
    scored = choose_regularisation(
        "richardson-lucy", originals, degraded, kernels, [0.02] * 2, candidates=(1, 5, 30)
    )
    assert scored.parameter != 1 and scored.errors[scored.parameter] < scored.errors[1.0]
