"""Multi-input translation measured against the target survey: photometry and colours per band.

For each ``pix2pix-multi`` run, the test pairs of ``galtk crossmatch --surveys`` are translated from the
run's input surveys into its target survey, and each translation's aperture photometry (photutils, a circle
of ``APERTURE_ARCSEC`` radius on the object) is compared, band by band, with that of a reference image of the
same object: the target survey's own cutout, or with ``truth`` its noiseless image (the synthetic sky fetched
with ``noise_scale = 0``). Per band: the median magnitude offset (bias) and the robust scatter (1.4826 MAD)
of m_translated - m_reference, the same for the colours of consecutive bands, and the objects whose
translated or reference flux is not positive. With a truth, the target's observed cutouts are measured the
same way: the error of the survey itself, the floor a translation is compared with. Its difference from the
truth also gives each band's aperture noise, and so each object's signal-to-noise ratio in the target survey:
the errors are reported again for the objects detected at S/N >= :data:`BRIGHT_SNR` in the band, where the
survey's own noise (below 0.05 mag) no longer hides what the translation gets wrong. A GAN reproduces the
target's noise, so on faint objects a translation cannot beat the survey's own error; on bright ones its
error is what the inputs tell about the band (and what the network learnt), as on the seed's NGC galaxies.

Runs are reported side by side, ordered by their number of input surveys: the seed's comparison of 1, 2
and 3 input surveys. Beside each set of inputs, a linear reference measured the same way: the target's
aperture fluxes regressed on the inputs' (:mod:`~galtk.models.multi_input.regression`), what the inputs
tell about each band without a network.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from galtk.errors import EvaluationError
from galtk.models.multi_input.photometry import (
    APERTURE_ARCSEC,
    BRIGHT_SNR,
    BandErrors,
    aperture_fluxes,
    aperture_snr,
    band_errors,
    colour_errors,
)
from galtk.models.multi_input.regression import (
    input_aperture_fluxes,
    regressed_fluxes,
    target_aperture_fluxes,
)
from galtk.models.multi_input.translator import MultiInputTranslator
from galtk.models.training.batches.survey_pairs import (
    object_offsets,
    open_survey_pairs,
    survey_arrays,
    survey_pixels,
)
from galtk.pipeline.preprocess.transforms import inverse_signed_sqrt
from galtk.pipeline.stores.cutout_store import CutoutStore
from galtk.pipeline.surveys import SurveySpec


@dataclass
class MultiInputEvaluation:
    """Every run's errors, the flux regression's for each set of inputs, and the observed target's when a
    truth was given."""

    target: str
    bands: tuple[str, ...]
    reference: str
    objects: int
    runs: list[dict[str, Any]]
    observed: dict[str, Any] | None
    regressions: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "target": self.target,
            "bands": list(self.bands),
            "reference": self.reference,
            "aperture_arcsec": APERTURE_ARCSEC,
            "objects": self.objects,
            "bright_snr": BRIGHT_SNR,
            "runs": self.runs,
            "observed": self.observed,
            "more_inputs_better": more_inputs_better(self.runs, self.bands),
            "more_inputs_better_bright": more_inputs_better(self.runs, self.bands, key="bright"),
            "regressions": self.regressions,
            "regression_more_inputs_better": more_inputs_better(self.regressions, self.bands),
            "regression_more_inputs_better_bright": more_inputs_better(
                self.regressions, self.bands, key="bright"
            ),
        }


def more_inputs_better(
    runs: list[dict[str, Any]], bands: Sequence[str], *, key: str = "bands"
) -> dict[str, bool | None]:
    """Per band: whether the scatter falls as input surveys are added (runs ordered by their inputs' count);
    None with fewer than two run sizes, or when a run lacks the band's errors (``key``: ``"bands"``, all
    objects, or ``"bright"``, those at S/N >= :data:`BRIGHT_SNR`)."""
    sizes = sorted({len(run["inputs"]) for run in runs})
    verdict: dict[str, bool | None] = {}
    for band in bands:
        scatters = [(len(run["inputs"]), run.get(key, {}).get(band, {}).get("scatter_mag")) for run in runs]
        if len(sizes) < 2 or any(s is None or math.isnan(s) for _, s in scatters):
            verdict[band] = None
            continue
        best = [min(s for k, s in scatters if k == size) for size in sizes]
        verdict[band] = bool(all(later < earlier for earlier, later in itertools.pairwise(best)))
    return verdict


def report_rows(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The rows of a report (:meth:`MultiInputEvaluation.as_dict`), each with its label: the runs
    (:func:`run_labels`), the flux regression of each set of inputs, and the observed target when measured
    against a truth."""
    rows = list(zip(run_labels(document["runs"]), document["runs"], strict=True))
    for record in document.get("regressions", []):
        rows.append((f"{' + '.join(record['inputs'])} (flux regression)", record))
    if document.get("observed") is not None:
        rows.append((f"observed {document['target']} (its own noise)", document["observed"]))
    return rows


def run_labels(runs: Sequence[dict[str, Any]]) -> list[str]:
    """How reports name each run: its input surveys (``dss2 + galex``), and its run directory's name when
    other runs have the same inputs."""
    labels = [" + ".join(run["inputs"]) for run in runs]
    return [
        f"{label} ({Path(run['run']).name})" if labels.count(label) > 1 else label
        for label, run in zip(labels, runs, strict=True)
    ]


def evaluate_multi_input(
    paired: Path,
    translators: Sequence[MultiInputTranslator],
    specs: dict[str, SurveySpec],
    *,
    truth: Path | None = None,
    batch_size: int = 64,
) -> MultiInputEvaluation:
    """Translate the test pairs with each run and measure the photometry against the target or its truth.

    Parameters
    ----------
    paired : Path
        The paired store of ``galtk crossmatch --surveys``.
    translators : sequence of MultiInputTranslator
        The runs (same target survey).
    specs : dict of str to SurveySpec
        The workspace's surveys.
    truth : Path, optional
        A raw store of the target survey without noise; objects matched by identifier.
    batch_size : int
        Images per forward pass.

    Raises
    ------
    EvaluationError
        If the runs have different targets, the store has no test pair, or the truth lacks objects.
    """
    targets = {translator.target for translator in translators}
    if len(targets) != 1:
        raise EvaluationError(f"the runs translate into different surveys ({', '.join(sorted(targets))})")
    target = specs[targets.pop()]
    names = sorted({name for translator in translators for name in translator.inputs} | {target.name})
    store = open_survey_pairs(paired, names)
    rows = np.flatnonzero(store.split == "test")
    if not len(rows):
        raise EvaluationError(f"{paired} holds no test pair")
    member = store.member(target.name)
    offsets = object_offsets(member, rows)
    observed_flux = target_aperture_fluxes(store, target, rows)
    reference_flux, reference, bright = observed_flux, "observed", None
    if truth is not None:
        truth_images = _truth_images(truth, member.ids[rows], target)
        reference_flux, reference = aperture_fluxes(truth_images, target.pixel_scale, offsets), "truth"
        bright = aperture_snr(observed_flux, reference_flux) >= BRIGHT_SNR
    train_rows = np.flatnonzero(store.split == "train")
    train_flux = target_aperture_fluxes(store, target, train_rows)
    ordered = sorted(translators, key=lambda t: (len(t.inputs), t.label, _scales_key(t)))
    results, regressions = [], []
    for (names_in, _), group in itertools.groupby(ordered, key=lambda t: (t.inputs, _scales_key(t))):
        runs = list(group)
        inputs = [specs[name] for name in names_in]
        images, _ = survey_arrays(store, inputs, target, rows, runs[0].noise_scales)
        for translator in runs:
            made = inverse_signed_sqrt(translator.translate(images, batch_size=batch_size))
            flux = aperture_fluxes(made, target.pixel_scale, offsets)
            results.append(_errors(translator.describe(), flux, reference_flux, target.bands, bright))
        test_input_flux = input_aperture_fluxes(images, target, offsets)
        flux = regressed_fluxes(
            store, inputs, target, train_rows, train_flux, test_input_flux, runs[0].noise_scales
        )
        record = {"inputs": list(names_in), "target": target.name, "train_pairs": len(train_rows)}
        regressions.append(_errors(record, flux, reference_flux, target.bands, bright))
    observed_errors = None
    if truth is not None:
        record = {"inputs": [], "target": target.name}
        observed_errors = _errors(record, observed_flux, reference_flux, target.bands, bright)
    return MultiInputEvaluation(
        target.name, target.bands, reference, len(rows), results, observed_errors, regressions
    )


def _scales_key(translator: MultiInputTranslator) -> str:
    """Runs that read their inputs alike (the same noise scales) share one regridding of the test pairs."""
    return json.dumps(translator.noise_scales, sort_keys=True)


def _errors(
    record: dict[str, Any],
    flux: np.ndarray,
    reference: np.ndarray,
    bands: Sequence[str],
    bright: np.ndarray | None = None,
) -> dict[str, Any]:
    colours = [f"{a}-{b}" for a, b in itertools.pairwise(bands)]
    if bright is not None:
        record = {**record, "bright": _named(bands, band_errors(flux, reference, bright))}
    return {
        **record,
        "bands": _named(bands, band_errors(flux, reference)),
        "colours": _named(colours, colour_errors(flux, reference)),
    }


def _named(names: Sequence[str], errors: list[BandErrors]) -> dict[str, dict[str, float | int]]:
    return {name: e.as_dict() for name, e in zip(names, errors, strict=True)}


def _truth_images(path: Path, ids: np.ndarray, target: SurveySpec) -> np.ndarray:
    truth = CutoutStore.open(path)
    if truth.schema.survey != target.name or tuple(truth.schema.bands) != tuple(target.bands):
        raise EvaluationError(f"{path} holds {truth.schema.survey} cutouts, not {target.name}'s")
    where = {str(object_id): row for row, object_id in enumerate(truth.ids)}
    missing = [str(object_id) for object_id in ids if str(object_id) not in where]
    if missing:
        raise EvaluationError(f"{path} lacks {len(missing)} test objects (e.g. {missing[0]})")
    rows = np.array([where[str(object_id)] for object_id in ids])
    order = np.argsort(rows)
    images = np.empty((len(rows), *truth.schema.image_shape))
    images[order] = truth.read(rows[order]).images
    return survey_pixels(images, target)
