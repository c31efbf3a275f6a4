"""evaluate_translators: directions, seeds, the regridded comparison and the reference noise, with fakes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from galtk.models.evaluation import EvaluationError
from galtk.models.evaluation.pairs import TestPairs, regrid_to_sdss_grid, regridded_flux_factor
from galtk.models.evaluation.translators import (
    CFHT_TO_SDSS,
    SDSS_TO_CFHT,
    SDSS_TO_CFHT_REGRIDDED,
    evaluate_translators,
    image_seeds,
)
from galtk.pipeline.preprocess.transforms import inverse_rescale, rescale

COUNT = 12
SEED = 7


class FakeTranslator:
    """Returns fixed images per direction, picked by seed: output i of the pairs has seed ``image_seeds``[i].

    With ``noise_sigma`` it adds Gaussian noise of that sigma in rescaled units to its outputs, as a method
    with Noise Emulators does, and reports the noise-free images as ``noiseless``.
    """

    def __init__(self, cfht_array: str, outputs: dict[str, np.ndarray], noise_sigma: float | None = None):
        self.method = "fake"
        self.cfht_array = cfht_array
        self.outputs = outputs
        self.noise_sigma = noise_sigma
        self.calls: list[tuple[str, int]] = []

    @property
    def has_noise_emulators(self) -> bool:
        return self.noise_sigma is not None

    def identity(self) -> dict[str, Any]:
        return {"method": self.method, "checkpoint": f"{self.cfht_array}.pt", "width": 0.5}

    def translate(self, images: np.ndarray, *, direction: str, seeds: Any, **_: Any) -> SimpleNamespace:
        offset = SEED if direction == SDSS_TO_CFHT else SEED + COUNT
        index = np.asarray(seeds) - offset
        self.calls.append((direction, len(images)))
        clean = self.outputs[direction][index]
        if self.noise_sigma is None:
            return SimpleNamespace(images=clean, noiseless=clean)
        unit = "adu_zp30" if direction == SDSS_TO_CFHT else "nanomaggy"
        noise = np.stack(
            [np.random.default_rng(seed).normal(0, self.noise_sigma, clean.shape[1:]) for seed in seeds]
        )
        noisy = inverse_rescale(rescale(clean.astype(np.float64), unit) + noise, unit).astype(np.float32)
        return SimpleNamespace(images=noisy, noiseless=clean)


@pytest.fixture(scope="module")
def pairs(sdss_pairs: Any, cfht_pairs: Any) -> TestPairs:
    """12 test pairs (different galaxies in the two surveys: the fakes do not care), bands g r i."""
    return TestPairs(
        path=Path("test-pairs.zarr"),
        bands=sdss_pairs.bands,
        rows=np.arange(COUNT),
        sdss=sdss_pairs.original[:COUNT],
        cfht=cfht_pairs.original[:COUNT],
        sdss_sigma=sdss_pairs.true_sigma[:COUNT],
        cfht_sigma=cfht_pairs.true_sigma[:COUNT],
        centres={"sdss": np.zeros((COUNT, 2)), "cfht": np.zeros((COUNT, 2))},
        sdss_ids=np.array([f"s{i}" for i in range(COUNT)]),
        cfht_ids=np.array([f"c{i}" for i in range(COUNT)]),
        n_test=COUNT,
        skipped=0,
    )


def _copies(pairs: TestPairs, cfht_array: str, noise_sigma: float | None = None) -> FakeTranslator:
    """A perfect translator: returns each pair's other image (CFHT on the SDSS grid if ``regridded``)."""
    cfht = pairs.cfht if cfht_array == "rescaled" else regrid_to_sdss_grid(pairs.cfht)
    return FakeTranslator(cfht_array, {SDSS_TO_CFHT: cfht, CFHT_TO_SDSS: pairs.sdss}, noise_sigma)


def test_seeds_are_consecutive_and_distinct_per_direction() -> None:
    seeds = image_seeds(5, 3)
    assert seeds == {SDSS_TO_CFHT: [5, 6, 7], CFHT_TO_SDSS: [8, 9, 10]}
    with pytest.raises(EvaluationError, match="outside"):
        image_seeds(2**63 - 2, 3)


def test_perfect_translators_score_zero_difference_in_every_direction(pairs: TestPairs) -> None:
    own_grid, regridded = _copies(pairs, "rescaled"), _copies(pairs, "regridded")
    results = evaluate_translators(
        {"copy": own_grid, "copy-regridded": regridded}, pairs, seed=SEED, batch_size=5
    )
    assert [result.method for result in results] == ["copy", "copy-regridded"]
    assert [result.model for result in results] == [own_grid.identity(), regridded.identity()]
    assert list(results[0].directions) == [SDSS_TO_CFHT, SDSS_TO_CFHT_REGRIDDED, CFHT_TO_SDSS]
    assert list(results[1].directions) == [SDSS_TO_CFHT_REGRIDDED, CFHT_TO_SDSS]
    assert own_grid.calls == [(SDSS_TO_CFHT, 5), (SDSS_TO_CFHT, 5), (SDSS_TO_CFHT, 2)] + [
        (CFHT_TO_SDSS, 5)
    ] * 2 + [(CFHT_TO_SDSS, 2)]
    for result in results:
        for direction, outcome in result.directions.items():
            for band in outcome.bands:
                summary = outcome.summary[band]
                assert summary["flux_difference_median"] == pytest.approx(0.0, abs=1e-9), (direction, band)
                assert summary["noise_ratio"] == pytest.approx(1.0, rel=1e-9)
    sources = {d: o.originals.reference_noise_source for d, o in results[0].directions.items()}
    assert sources == {
        SDSS_TO_CFHT: "true sigma",
        SDSS_TO_CFHT_REGRIDDED: "measured on originals",
        CFHT_TO_SDSS: "true sigma",
    }
    regridded_set = results[0].directions[SDSS_TO_CFHT_REGRIDDED].originals.evaluation_set
    assert regridded_set.original.shape == (COUNT, 3, 64, 64) and regridded_set.arcsec_per_pixel == 0.396
    assert regridded_set.true_sigma is None
    # Pixels of the regridded direction hold flux per SDSS pixel: the total fluxes agree with the CFHT grid's.
    flux_136 = results[0].directions[SDSS_TO_CFHT].originals.statistics.total_flux
    flux_64 = results[0].directions[SDSS_TO_CFHT_REGRIDDED].originals.statistics.total_flux
    bright = flux_136 > 50 * np.sqrt(136 * 136) * results[0].directions[SDSS_TO_CFHT].originals.noise_sigma
    assert np.median(flux_64[bright] / flux_136[bright]) == pytest.approx(1.0, abs=0.03)
    assert regridded_flux_factor() == pytest.approx((0.396 / 0.186) ** 2)


def test_emulator_reference_is_the_noise_of_the_first_method_with_noise_emulators(pairs: TestPairs) -> None:
    noisy = _copies(pairs, "rescaled", noise_sigma=0.002)
    plain = _copies(pairs, "rescaled")
    results = evaluate_translators(
        {"plain": plain, "noisy": noisy}, pairs, seed=SEED, reference_noise="emulator"
    )
    assert [result.method for result in results] == ["plain", "noisy"]
    assert noisy.calls[0][0] == SDSS_TO_CFHT and plain.calls  # the reference method was translated first
    for direction, unit, factor, size in (
        (SDSS_TO_CFHT, "adu_zp30", 1e-3, 136),
        (CFHT_TO_SDSS, "nanomaggy", 1.0, 64),
    ):
        measured = results[1].directions[direction].originals
        assert measured.reference_noise_source == "noise emulator"
        seeds = image_seeds(SEED, COUNT)[direction]
        draws = [np.random.default_rng(seed).normal(0, 0.002, (3, size, size)) for seed in seeds]
        summed = np.median(
            [np.abs(inverse_rescale(draw, unit)).sum(axis=(1, 2)) * factor for draw in draws], axis=0
        )
        np.testing.assert_allclose(measured.reference_noise, summed, rtol=1e-3)
        assert results[1].directions[direction].summary["r"]["noise_sigma_true"] > 0


def test_inputs_that_cannot_be_evaluated_are_refused(pairs: TestPairs) -> None:
    plain = _copies(pairs, "rescaled")
    with pytest.raises(EvaluationError, match="no method"):
        evaluate_translators({}, pairs)
    with pytest.raises(EvaluationError, match="Noise Emulators"):
        evaluate_translators({"plain": plain}, pairs, reference_noise="emulator")
    with pytest.raises(EvaluationError, match="unknown reference noise"):
        evaluate_translators({"plain": plain}, pairs, reference_noise="median")
    with pytest.raises(EvaluationError, match="method name"):
        evaluate_translators({"bad name": plain}, pairs)
    without_sigma = TestPairs(**{**pairs.__dict__, "sdss_sigma": None, "cfht_sigma": None})
    with pytest.raises(EvaluationError, match="no true noise sigma"):
        evaluate_translators({"plain": plain}, without_sigma, reference_noise="true")
    cropped = FakeTranslator(
        "rescaled", {SDSS_TO_CFHT: pairs.cfht[:, :, :100, :100], CFHT_TO_SDSS: pairs.sdss}
    )
    with pytest.raises(EvaluationError, match="shape"):
        evaluate_translators({"cropped": cropped}, pairs, seed=SEED)
