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
and 3 input surveys.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from galtk.errors import EvaluationError
from galtk.models.evaluation.metrics import robust_sigma
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

#: Radius of the photometric aperture, arcsec.
APERTURE_ARCSEC = 3.0
#: Signal-to-noise ratio, in the target survey's aperture, of the objects reported apart as bright.
BRIGHT_SNR = 20.0


@dataclass(frozen=True)
class BandErrors:
    """Photometric error of one set of images in one band (or colour) against the reference."""

    bias: float
    scatter: float
    objects: int
    not_positive: int

    def as_dict(self) -> dict[str, float | int]:
        """JSON-ready."""
        return {
            "bias_mag": self.bias,
            "scatter_mag": self.scatter,
            "objects": self.objects,
            "not_positive": self.not_positive,
        }


def aperture_fluxes(images: np.ndarray, pixel_scale: float, offsets: np.ndarray | None = None) -> np.ndarray:
    """Flux in a circle of :data:`APERTURE_ARCSEC` on each object (photutils), per image and band.

    Parameters
    ----------
    images : ndarray, shape (N, C, H, W)
        Fluxes per pixel.
    pixel_scale : float
        Arcsec per pixel.
    offsets : ndarray, shape (N, 2), optional
        Where each object lies from the centre pixel, (x, y) pixels.

    Returns
    -------
    ndarray, shape (N, C)
    """
    from photutils.aperture import CircularAperture, aperture_photometry

    n, bands, height, width = images.shape
    centre = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    out = np.empty((n, bands))
    for index in range(n):
        position = centre + (offsets[index] if offsets is not None else 0.0)
        aperture = CircularAperture(position, r=APERTURE_ARCSEC / pixel_scale)
        for band in range(bands):
            table = aperture_photometry(images[index, band].astype(np.float64), aperture)
            out[index, band] = float(table["aperture_sum"][0])
    return out


def band_errors(
    measured: np.ndarray, reference: np.ndarray, selected: np.ndarray | None = None
) -> list[BandErrors]:
    """Bias and robust scatter of m_measured - m_reference per column (objects with both fluxes > 0).

    ``selected`` (N, C) of bool, optional, limits each column to the objects it marks.
    """
    errors = []
    for column in range(measured.shape[1]):
        chosen = np.ones(len(measured), bool) if selected is None else selected[:, column]
        positive = (measured[:, column] > 0) & (reference[:, column] > 0)
        ok = chosen & positive
        delta = -2.5 * np.log10(measured[ok, column] / reference[ok, column])
        errors.append(_summarise(delta, int(np.count_nonzero(chosen & ~positive))))
    return errors


def aperture_snr(observed: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Each object's signal-to-noise ratio per band: truth flux over the band's aperture noise.

    The noise is the robust scatter (1.4826 MAD) of observed - truth aperture fluxes over all objects.

    Parameters
    ----------
    observed, truth : ndarray, shape (N, C)
        Aperture fluxes of the observed cutouts and of their noiseless images.

    Returns
    -------
    ndarray, shape (N, C)
    """
    noise = robust_sigma((observed - truth).T[:, :, None])
    return truth / np.where(noise > 0, noise, np.inf)


def colour_errors(measured: np.ndarray, reference: np.ndarray) -> list[BandErrors]:
    """The same for the colours of consecutive bands (m_b - m_b+1)."""
    errors = []
    for column in range(measured.shape[1] - 1):
        pair = slice(column, column + 2)
        ok = (measured[:, pair] > 0).all(axis=1) & (reference[:, pair] > 0).all(axis=1)
        colour = -2.5 * np.log10(measured[ok, column] / measured[ok, column + 1])
        truth = -2.5 * np.log10(reference[ok, column] / reference[ok, column + 1])
        errors.append(_summarise(colour - truth, int(np.count_nonzero(~ok))))
    return errors


def _summarise(delta: np.ndarray, not_positive: int) -> BandErrors:
    if not len(delta):
        return BandErrors(float("nan"), float("nan"), 0, not_positive)
    median = float(np.median(delta))
    return BandErrors(median, float(robust_sigma(delta[None])), len(delta), not_positive)


@dataclass
class MultiInputEvaluation:
    """Every run's errors, and the observed target's when a truth was given."""

    target: str
    bands: tuple[str, ...]
    reference: str
    objects: int
    runs: list[dict[str, Any]]
    observed: dict[str, Any] | None

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
    observed = survey_pixels(member.read(rows).images, target)
    observed_flux = aperture_fluxes(observed, target.pixel_scale, offsets)
    reference_flux, reference, bright = observed_flux, "observed", None
    if truth is not None:
        truth_images = _truth_images(truth, member.ids[rows], target)
        reference_flux, reference = aperture_fluxes(truth_images, target.pixel_scale, offsets), "truth"
        bright = aperture_snr(observed_flux, reference_flux) >= BRIGHT_SNR
    results = []
    for translator in sorted(translators, key=lambda t: (len(t.inputs), t.label)):
        inputs, _ = survey_arrays(store, tuple(specs[name] for name in translator.inputs), target, rows)
        made = inverse_signed_sqrt(translator.translate(inputs, batch_size=batch_size))
        flux = aperture_fluxes(made, target.pixel_scale, offsets)
        results.append(_errors(translator.describe(), flux, reference_flux, target.bands, bright))
    observed_errors = None
    if truth is not None:
        record = {"inputs": [], "target": target.name}
        observed_errors = _errors(record, observed_flux, reference_flux, target.bands, bright)
    return MultiInputEvaluation(target.name, target.bands, reference, len(rows), results, observed_errors)


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
