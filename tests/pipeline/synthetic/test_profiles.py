"""Light profiles against their analytic definitions."""

import numpy as np
import pytest
from scipy import integrate, special

from galtk.pipeline.synthetic.profiles import (
    moffat_profile,
    moffat_transform,
    sersic_b,
    sersic_enclosed_fraction,
    sersic_mixture,
)


def test_sersic_b_known_values() -> None:
    # Classic values: b_1 = 1.678, b_4 = 7.669 (Ciotti & Bertin 1999).
    assert sersic_b(1.0) == pytest.approx(1.6783, abs=1e-3)
    assert sersic_b(4.0) == pytest.approx(7.6692, abs=1e-3)
    assert sersic_enclosed_fraction(np.array([1.0]), 2.5)[0] == pytest.approx(0.5)


@pytest.mark.parametrize("n", [0.5, 0.8, 1.0, 1.5, 2.5, 4.0])
def test_sersic_mixture_reproduces_the_enclosed_light(n: float) -> None:
    amplitudes, variances = sersic_mixture(n)
    assert amplitudes.sum() == pytest.approx(1.0)
    assert np.all(amplitudes > 0) and np.all(variances > 0)
    radius = np.geomspace(0.05, 5.0, 60)
    mixture = (amplitudes * (1.0 - np.exp(-(radius[:, None] ** 2) / (2.0 * variances)))).sum(axis=1)
    assert np.max(np.abs(mixture - sersic_enclosed_fraction(radius, n))) < 0.01


def test_sersic_mixture_rejects_out_of_range_index() -> None:
    with pytest.raises(ValueError, match="Sersic index"):
        sersic_mixture(9.0)


@pytest.mark.parametrize("k", [0.0, 0.3, 1.0, 2.5, 6.0])
def test_moffat_transform_is_the_hankel_transform_of_the_profile(k: float) -> None:
    fwhm = 1.7
    # 2 pi * integral of f(r) J0(k r) r dr, integrated numerically.
    value, _ = integrate.quad(
        lambda r: 2 * np.pi * moffat_profile(r, fwhm) * special.j0(k * r) * r, 0, np.inf, limit=400
    )
    assert moffat_transform(np.array([k]), fwhm)[0] == pytest.approx(value, abs=1e-6)


def test_moffat_profile_has_the_requested_fwhm_and_unit_flux() -> None:
    fwhm = 2.3
    peak = moffat_profile(np.array([0.0]), fwhm)[0]
    assert moffat_profile(np.array([fwhm / 2]), fwhm)[0] == pytest.approx(peak / 2)
    total, _ = integrate.quad(lambda r: 2 * np.pi * r * moffat_profile(r, fwhm), 0, np.inf)
    assert total == pytest.approx(1.0, abs=1e-8)
