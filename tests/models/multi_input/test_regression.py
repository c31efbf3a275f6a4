"""The linear reference of multi-input evaluation: target aperture fluxes regressed on the inputs'."""

from __future__ import annotations

import numpy as np
import pytest

from galtk.errors import EvaluationError
from galtk.models.multi_input.regression import fit_flux_regression, predict_fluxes


def test_the_fit_recovers_a_linear_relation_and_predicts_new_objects() -> None:
    rng = np.random.default_rng(4)
    inputs = rng.uniform(0, 50, (200, 3))
    weights = np.array([[0.5, 0.0], [1.2, 0.3], [-0.4, 2.0]])
    constant = np.array([0.1, -0.2])
    coefficients = fit_flux_regression(inputs, constant + inputs @ weights)
    np.testing.assert_allclose(coefficients, np.vstack([constant, weights]), atol=1e-10)
    new = rng.uniform(0, 50, (5, 3))
    np.testing.assert_allclose(predict_fluxes(coefficients, new), constant + new @ weights, atol=1e-9)


def test_noise_on_the_target_leaves_the_predictions_unbiased() -> None:
    rng = np.random.default_rng(5)
    inputs = rng.uniform(1, 20, (4000, 2))
    truth = 2.0 * inputs[:, :1] + 0.5 * inputs[:, 1:]
    coefficients = fit_flux_regression(inputs, truth + rng.normal(0, 3.0, truth.shape))
    residual = predict_fluxes(coefficients, inputs) - truth
    assert abs(residual.mean()) < 0.05 and residual.std() < 0.2  # 3.0 of noise per object, 4000 objects


@pytest.mark.parametrize(
    ("pairs", "bad", "message"),
    [(3, False, "3 training pairs cannot fit"), (50, True, "not finite")],
)
def test_too_few_pairs_or_a_non_finite_flux_are_refused(pairs: int, bad: bool, message: str) -> None:
    inputs = np.ones((pairs, 2)) + np.arange(pairs)[:, None]
    if bad:
        inputs[7, 1] = np.nan
    with pytest.raises(EvaluationError, match=message):
        fit_flux_regression(inputs, np.ones((pairs, 1)))
