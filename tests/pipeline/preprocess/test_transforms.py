"""The SPEC section 3 flux transforms: formulas at sample points, exact inverses, array types."""

import numpy as np
import pytest
import torch

from galtk.pipeline.preprocess.transforms import (
    inverse_rescale,
    inverse_signed_sqrt,
    nanomaggies_per_unit,
    rescale,
    rescale_record,
    signed_sqrt,
)
from galtk.pipeline.surveys import ZP30_ADU_IN_NANOMAGGIES

SAMPLES = np.array([-1e4, -10.0, -3.0, -1.0, -0.25, -1e-3, 0.0, 1e-3, 0.25, 1.0, 3.0, 8.0, 99.0, 1e4])


def spec_forward(i0: np.ndarray) -> np.ndarray:
    """SPEC section 3, step 2, written literally."""
    return np.where(i0 >= 0, np.sqrt(np.abs(i0) + 1) - 1, -np.sqrt(1 + np.abs(i0)) + 1)


def spec_inverse(i: np.ndarray) -> np.ndarray:
    """SPEC section 3, inverse of step 2, written literally."""
    return np.where(i >= 0, (i + 1) ** 2 - 1, 1 - (1 - i) ** 2)


def test_signed_sqrt_matches_the_spec_formula_at_sample_points() -> None:
    np.testing.assert_allclose(signed_sqrt(SAMPLES), spec_forward(SAMPLES), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(signed_sqrt(np.array([0.0, 3.0, 8.0, -3.0, -8.0])), [0, 1, 2, -1, -2])


def test_inverse_matches_the_spec_formula_at_sample_points() -> None:
    values = spec_forward(SAMPLES)
    np.testing.assert_allclose(inverse_signed_sqrt(values), spec_inverse(values), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(inverse_signed_sqrt(values), SAMPLES, rtol=1e-12, atol=1e-15)


def test_cfht_is_multiplied_by_1e_3_before_the_square_root_and_sdss_is_not() -> None:
    assert ZP30_ADU_IN_NANOMAGGIES == pytest.approx(1e-3, rel=1e-15)
    assert nanomaggies_per_unit("cfht") == nanomaggies_per_unit("adu_zp30") == ZP30_ADU_IN_NANOMAGGIES
    adu = SAMPLES * 1000.0
    np.testing.assert_allclose(rescale(adu, "cfht"), spec_forward(adu * 1e-3), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(rescale(SAMPLES, "sdss"), spec_forward(SAMPLES), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(rescale(SAMPLES, "nanomaggy"), spec_forward(SAMPLES), rtol=1e-12, atol=1e-15)
    assert rescale(3000.0, "cfht") == pytest.approx(1.0, rel=1e-15)


@pytest.mark.parametrize("unit", ["sdss", "cfht"])
def test_inverse_of_forward_is_exact_to_float32_precision(unit: str) -> None:
    scale = 1.0 if unit == "sdss" else 1000.0  # the same nanomaggies range in each survey's unit
    values = np.concatenate(
        [
            np.linspace(-10, 1e4, 400_001),
            -np.logspace(-30, 1, 2_000),
            np.logspace(-30, 4, 2_000),
            [0.0, -0.0, 1e-38, -1e-38],
        ]
    )
    x = (values * scale).astype(np.float32)
    forward = rescale(x, unit)
    back = inverse_rescale(forward, unit)
    assert forward.dtype == back.dtype == np.float32
    np.testing.assert_array_max_ulp(back, x, maxulp=1)
    assert back[x == 0].tolist() == [0.0] * int(np.count_nonzero(x == 0))
    assert np.all(np.sign(forward) == np.sign(x))


def test_tiny_fluxes_keep_their_precision() -> None:
    # sqrt(I0 + 1) - 1 evaluated literally rounds to 0 below ~1e-16; the transform must stay invertible there.
    tiny = np.array([1e-20, -1e-20, 3e-12], dtype=np.float64)
    np.testing.assert_allclose(signed_sqrt(tiny), tiny / 2, rtol=1e-12)
    np.testing.assert_allclose(inverse_signed_sqrt(signed_sqrt(tiny)), tiny, rtol=1e-15)


def test_nan_stays_nan_and_types_are_kept() -> None:
    x = np.array([np.nan, 1.0, -2.0], dtype=np.float32)
    y = rescale(x, "cfht")
    assert y.dtype == np.float32 and np.isnan(y[0]) and np.isfinite(y[1:]).all()
    assert np.isnan(inverse_rescale(y, "cfht")[0])
    assert isinstance(signed_sqrt(3.0), float) and signed_sqrt(3.0) == 1.0
    assert signed_sqrt(np.arange(3)).dtype == np.float64
    assert rescale(np.zeros((2, 5, 4, 4), np.float32), "sdss").shape == (2, 5, 4, 4)


@pytest.mark.parametrize("unit", ["sdss", "cfht"])
def test_torch_tensors_give_the_numpy_result(unit: str) -> None:
    x = np.linspace(-10, 1e4, 10_001).astype(np.float32) * (1000 if unit == "cfht" else 1)
    tensor = torch.from_numpy(x.copy())
    forward = rescale(tensor, unit)
    assert isinstance(forward, torch.Tensor) and forward.dtype == torch.float32
    np.testing.assert_array_max_ulp(forward.numpy(), rescale(x, unit), maxulp=4)
    np.testing.assert_array_max_ulp(inverse_rescale(forward, unit).numpy(), x, maxulp=8)


def test_unknown_units_are_refused_and_records_describe_the_steps() -> None:
    with pytest.raises(ValueError, match="cannot convert 'jansky'"):
        rescale(np.ones(2), "jansky")
    assert [step["name"] for step in rescale_record("adu_zp30")] == ["scale", "signed_sqrt"]
    assert rescale_record("adu_zp30")[0]["factor"] == ZP30_ADU_IN_NANOMAGGIES
    assert [step["name"] for step in rescale_record("nanomaggy")] == ["signed_sqrt"]
