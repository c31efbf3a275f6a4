"""The pass/fail criteria: the worst band of each, its value, and the thresholds of galtk evaluate."""

from __future__ import annotations

import math

import pytest

from galtk.models.evaluation.criteria import (
    APERTURE_DMAG_MAX,
    CRITERIA,
    FAIL,
    FLUX_DIFFERENCE_RATIO_MAX,
    NOISE_RATIO_HIGH,
    NOISE_RATIO_LOW,
    NOT_APPLICABLE,
    PASS,
    check_criteria,
    criteria_to_dict,
    verdict,
)

BANDS = ("u", "g", "r", "i", "z")


def _summary(**overrides: dict[str, float]) -> dict[str, dict[str, float]]:
    """A summary where every band passes every criterion; ``overrides`` sets band -> field -> value."""
    good = {
        "noise_ratio_true": 1.0,
        "noise_ratio": 1.0,
        "flux_difference_ratio": 1.0,
        "aperture_dmag_median": 0.0,
    }
    return {band: {**good, **overrides.get(band, {})} for band in BANDS}


def test_thresholds_are_those_of_the_issue() -> None:
    assert (NOISE_RATIO_LOW, NOISE_RATIO_HIGH) == (0.75, 1.25)
    assert FLUX_DIFFERENCE_RATIO_MAX == 1.5
    assert APERTURE_DMAG_MAX == 0.15
    assert [criterion.rule() for criterion in CRITERIA] == [
        "0.75 <= noise_ratio_true <= 1.25",
        "flux_difference_ratio <= 1.5",
        "|aperture_dmag_median| <= 0.15",
    ]


def test_every_band_within_the_thresholds_passes() -> None:
    summary = _summary(
        g={"noise_ratio_true": 0.76, "flux_difference_ratio": 1.49, "aperture_dmag_median": -0.149},
        z={"noise_ratio_true": 1.25},
    )
    outcomes = check_criteria(summary)
    assert {name: outcome.status for name, outcome in outcomes.items()} == {
        "noise": PASS,
        "flux_difference": PASS,
        "photometry": PASS,
    }
    assert outcomes["noise"].band == "z" and outcomes["noise"].value == 1.25  # farthest from 1
    assert outcomes["flux_difference"].band == "g"
    assert outcomes["photometry"].band == "g" and outcomes["photometry"].value == pytest.approx(-0.149)
    assert verdict(outcomes) == PASS


def test_one_failing_band_is_shown_as_the_worst_and_fails_although_the_median_passes() -> None:
    summary = _summary(
        u={"noise_ratio_true": 0.6},
        r={"noise_ratio_true": 1.2, "flux_difference_ratio": 2.4},
        i={"aperture_dmag_median": -0.3},
    )
    outcomes = check_criteria(summary)
    noise, flux, photometry = outcomes["noise"], outcomes["flux_difference"], outcomes["photometry"]
    assert (noise.band, noise.value, noise.status) == ("u", 0.6, FAIL)
    assert (flux.band, flux.value, flux.status) == ("r", 2.4, FAIL)
    assert (photometry.band, photometry.value, photometry.status) == ("i", -0.3, FAIL)
    assert verdict(outcomes) == FAIL
    written = criteria_to_dict(outcomes)
    assert written["verdict"] == FAIL
    assert written["noise"] == {
        "field": "noise_ratio_true",
        "rule": "0.75 <= noise_ratio_true <= 1.25",
        "low": 0.75,
        "high": 1.25,
        "bands": list(BANDS),
        "worst_band": "u",
        "value": 0.6,
        "status": FAIL,
        "note": "",
    }


def test_photometry_checks_only_g_r_and_i() -> None:
    outcomes = check_criteria(_summary(u={"aperture_dmag_median": 2.0}, z={"aperture_dmag_median": -1.0}))
    assert outcomes["photometry"].status == PASS
    assert outcomes["photometry"].bands == ("g", "r", "i")
    other_bands = {"a": {"noise_ratio_true": 1.0, "flux_difference_ratio": 1.0, "aperture_dmag_median": 1.0}}
    outcome = check_criteria(other_bands)["photometry"]
    assert outcome.status == NOT_APPLICABLE and outcome.band is None and math.isnan(outcome.value)


def test_without_true_sigma_the_noise_is_checked_against_the_originals_and_says_so() -> None:
    summary = _summary(**{band: {"noise_ratio_true": math.nan} for band in BANDS})
    summary["g"]["noise_ratio"] = 0.5
    noise = check_criteria(summary)["noise"]
    assert noise.field == "noise_ratio" and noise.rule == "0.75 <= noise_ratio <= 1.25"
    assert (noise.band, noise.value, noise.status) == ("g", 0.5, FAIL)
    assert "no true sigma" in noise.note


def test_a_band_without_a_value_fails() -> None:
    outcomes = check_criteria(
        _summary(r={"flux_difference_ratio": math.nan}, g={"noise_ratio_true": math.nan})
    )
    assert outcomes["flux_difference"].band == "r" and outcomes["flux_difference"].status == FAIL
    noise = outcomes["noise"]
    assert noise.field == "noise_ratio_true"  # other bands have a true sigma: no fallback
    assert noise.band == "g" and noise.status == FAIL
    assert criteria_to_dict(outcomes)["noise"]["value"] is None
