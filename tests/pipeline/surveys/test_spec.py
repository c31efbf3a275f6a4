"""Survey descriptions: zero points, HiPS unit conversions, band subsets."""

from __future__ import annotations

import dataclasses
import math

import pytest

from galtk.pipeline.surveys import PRESETS, get_survey, nanomaggies_per_count, with_bands


def test_zero_points_follow_the_magnitude_formula() -> None:
    # m = zp - 2.5 log10(value) and m = 22.5 - 2.5 log10(nanomaggies): one unit at zp 30 is 10**-3 nmgy.
    assert nanomaggies_per_count(30.0) == pytest.approx(1e-3)
    assert get_survey("cfht").zeropoint == pytest.approx(30.0)
    assert get_survey("sdss").zeropoint == pytest.approx(22.5)
    assert math.isnan(get_survey("dss2").zeropoint)


def test_galex_counts_per_second_become_nanomaggies_per_cutout_pixel() -> None:
    galex = get_survey("galex")
    # Morrissey et al. (2007): m_AB = 18.82 - 2.5 log10(cps) in FUV, 20.08 in NUV.
    fuv, nuv = galex.hips_factors()
    assert -2.5 * math.log10(fuv) + 22.5 == pytest.approx(18.82)
    assert -2.5 * math.log10(nuv) + 22.5 == pytest.approx(20.08)
    # On a grid twice as fine, a native 1.5" pixel's flux spreads over four cutout pixels.
    finer = dataclasses.replace(galex, pixel_scale=0.75)
    assert finer.hips_factors() == pytest.approx((fuv / 4.0, nuv / 4.0))


def test_unwise_vega_nanomaggies_are_converted_to_ab() -> None:
    w1, w2 = get_survey("unwise").hips_factors()
    # AB - Vega = 2.699 (W1) and 3.339 (W2): a Vega nanomaggy is fainter in AB.
    assert -2.5 * math.log10(w1) == pytest.approx(2.699)
    assert -2.5 * math.log10(w2) == pytest.approx(3.339)


def test_uncalibrated_hips_values_are_kept_in_their_unit() -> None:
    dss2 = get_survey("dss2")
    assert not dss2.calibrated and dss2.unit == "photographic density"
    assert dss2.hips_factors() == (1.0, 1.0, 1.0)  # densities are not fluxes: no pixel-area rescaling
    twomass = dataclasses.replace(get_survey("2mass"), pixel_scale=0.5)
    assert twomass.hips_factors() == pytest.approx((0.25,) * 3)  # DN per native pixel are fluxes


def test_band_subsets_keep_their_hips_and_facts_together() -> None:
    spec = with_bands(get_survey("galex"), ("NUV",))
    assert spec.hips.ids == ("CDS/P/GALEXGR6_7/NUV",)
    assert spec.hips_factors() == pytest.approx((nanomaggies_per_count(20.08),))
    assert spec.seeing_fwhm == {"NUV": 5.3}
    with pytest.raises(ValueError, match="bands must be distinct names among FUV, NUV"):
        with_bands(get_survey("galex"), ("g",))


def test_every_preset_describes_each_of_its_bands() -> None:
    for spec in PRESETS.values():
        for facts in (spec.seeing_fwhm, spec.noise_sigma_nmgy, spec.wavelength_nm):
            assert set(facts) == set(spec.bands), spec.name
        if spec.hips is not None:
            assert len(spec.hips.ids) == len(spec.bands), spec.name
            assert len(spec.hips.nanomaggies) in (0, len(spec.bands)), spec.name
