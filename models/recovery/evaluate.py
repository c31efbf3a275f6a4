"""``galtk evaluate --method galaxygan``: GalaxyGAN against deconvolution on the pairs it never trained on.

The held-out pairs of the degrade store a ``galaxygan`` run trained on (its ``test`` split, or its fold) are
recovered four ways, side by side: not at all (the degraded image itself), by the run's generator, and by
Richardson-Lucy and Wiener deconvolution with the kernel that degraded them, whose iterations and balance
are chosen per band on the run's training pairs (:func:`galtk.pipeline.degrade.deconvolution.
choose_regularisation`), never on the held-out ones. Each result is measured against a reference
(:mod:`galtk.models.recovery.measure`): the original cutout, and, when a noiseless copy of the same cutouts
is given (``--truth``: the synthetic sky fetched with ``[sim] noise_scale = 0``), that truth too, against
which the original itself is measured as well.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from galtk.errors import GaltkError, StoreError
from galtk.models.recovery.measure import (
    MEASURES,
    compare,
    footprint,
    morphology_score,
    power_in_bands,
    radial_power,
    shape,
)
from galtk.models.recovery.recoverer import METHOD, Recoverer
from galtk.models.training.batches.degraded_pairs import DEGRADED, ORIGINAL, held_out_rows, open_degrade_store
from galtk.pipeline.degrade.deconvolution import DECONVOLUTIONS, choose_regularisation, deconvolve, mse_score
from galtk.pipeline.degrade.psf import matching_kernel
from galtk.pipeline.stores.cutout_store import STATE_DONE, CutoutStore

DEGRADED_OUTPUT = "degraded"
"""The output that recovers nothing: the degraded image itself."""
OUTPUTS: tuple[str, ...] = (DEGRADED_OUTPUT, METHOD, *DECONVOLUTIONS)
"""Every recovery compared, in report order."""
REFERENCES: tuple[str, ...] = ("original", "truth")
TUNE_CRITERIA: tuple[str, ...] = ("morphology", "mse")
"""What the deconvolutions' regularisation is chosen to minimise on the training pairs."""


@dataclass
class HeldOutPairs:
    """The held-out pairs of a degrade store, as evaluated: images in the store's unit and their record.

    Attributes
    ----------
    rows : ndarray of int64
        Rows of the degrade store.
    ids : ndarray of str
    original, degraded : ndarray (N, band, y, x)
    truth : ndarray or None
        The noiseless truth of each cutout (``--truth``), or None.
    kernels : list of list of ndarray
        Per object and band, the kernel that degraded it.
    sigma : ndarray (N, band)
        Background sigma of each original (the unit of the errors).
    bands : tuple of str
    unit : str
    skipped : dict of str to int
    """

    rows: np.ndarray
    ids: np.ndarray
    original: np.ndarray
    degraded: np.ndarray
    truth: np.ndarray | None
    kernels: list[list[np.ndarray]]
    sigma: np.ndarray
    bands: tuple[str, ...]
    unit: str
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass
class RecoveryResults:
    """Measurements of every output against every reference.

    Attributes
    ----------
    pairs : HeldOutPairs
    values : dict
        ``values[reference][output][measure]``: array (N, band), NaN where the object's band has no
        footprint.
    spectra : dict
        ``spectra[reference][output]``: residual power spectra (N, band, rings).
    outputs : dict of str to ndarray
        The recovered images (N, band, y, x) per output.
    regularisation : dict
        Per deconvolution and band, the chosen parameter and the training error of every candidate.
    recoverer : dict
        The run, checkpoint and settings of the generator.
    """

    pairs: HeldOutPairs
    values: dict[str, dict[str, dict[str, np.ndarray]]]
    spectra: dict[str, dict[str, np.ndarray]]
    outputs: dict[str, np.ndarray]
    regularisation: dict[str, dict[str, Any]]
    recoverer: dict[str, Any]


def held_out_pairs(
    store_path: Path, recoverer: Recoverer, *, truth: Path | None = None, limit: int | None = None
) -> HeldOutPairs:
    """Read the pairs a run never trained on, their kernels and noise, and their truth when given.

    Raises
    ------
    StoreError
        If the store is not a degrade store, holds no usable held-out pair, or the truth store lacks one
        of their objects.
    """
    store = open_degrade_store(store_path)
    original_store, degraded_store = store.member(ORIGINAL), store.member(DEGRADED)
    rows = held_out_rows(store, recoverer.settings)
    valid = np.asarray(original_store.valid[:]).all(axis=1) & np.asarray(degraded_store.valid[:]).all(axis=1)
    usable = rows[valid[rows]]
    skipped = {"a band not valid": int(len(rows) - len(usable))} if len(rows) > len(usable) else {}
    if limit is not None:
        usable = usable[:limit]
    if not len(usable):
        raise StoreError(f"{store_path} has no usable held-out pair for this run")
    schema = degraded_store.schema
    if tuple(schema.bands) != recoverer.bands:
        raise GaltkError(f"the run was trained on bands {recoverer.bands}, {store_path} has {schema.bands}")
    settings = store.attrs["degrade"]
    if recoverer.data.get("degrade") not in (None, settings):
        raise StoreError(
            f"{store_path} was degraded again since the run trained on it (settings {settings}, the run's"
            f" {recoverer.data['degrade']}): its held-out pairs may be ones the run trained on; train again"
        )
    before = (
        np.asarray(degraded_store.extra("psf_fwhm_before"), dtype=np.float64)[usable] / schema.pixel_scale
    )
    after = np.asarray(degraded_store.extra("psf_fwhm"), dtype=np.float64)[usable] / schema.pixel_scale
    cache: dict[tuple[float, float], np.ndarray] = {}

    def kernel(current: float, target: float) -> np.ndarray:
        key = (round(current, 4), round(target, 4))
        if key not in cache:
            cache[key] = matching_kernel(*key, settings["profile"])
        return cache[key]

    ids = np.asarray(store.column("id"), dtype=object).astype(str)[usable]
    return HeldOutPairs(
        rows=usable,
        ids=ids,
        original=original_store.read(usable).images.astype(np.float32),
        degraded=degraded_store.read(usable).images.astype(np.float32),
        truth=_truth_images(truth, ids, tuple(schema.bands)) if truth is not None else None,
        kernels=[
            [kernel(*fwhms) for fwhms in zip(b, a, strict=True)] for b, a in zip(before, after, strict=True)
        ],
        sigma=np.asarray(degraded_store.extra("noise_sigma_before"), dtype=np.float64)[usable],
        bands=tuple(schema.bands),
        unit=schema.unit,
        skipped=skipped,
    )


def _truth_images(path: Path, ids: np.ndarray, bands: tuple[str, ...]) -> np.ndarray:
    """The cutouts of ``ids`` in the truth store (the same objects, rendered without noise)."""
    truth = CutoutStore.open(path)
    if tuple(truth.schema.bands) != bands:
        raise StoreError(f"--truth {path} has bands {truth.schema.bands}, the pairs {bands}")
    row_of = {identifier: row for row, identifier in enumerate(truth.ids.astype(str))}
    missing = [identifier for identifier in ids if identifier not in row_of]
    if missing:
        raise StoreError(
            f"--truth {path} lacks {len(missing)} of the objects (e.g. {missing[0]}); fetch the same sky"
            " (the same [sim] seed and catalog) with noise_scale = 0"
        )
    rows = np.array([row_of[identifier] for identifier in ids])
    if not (truth.state[rows] == STATE_DONE).all():
        raise StoreError(f"--truth {path}: some of the objects are not fetched")
    return truth.read(rows).images.astype(np.float32)


def choose_deconvolutions(
    store_path: Path,
    recoverer: Recoverer,
    pairs: HeldOutPairs,
    *,
    tune_objects: int,
    tune: str = "morphology",
) -> dict[str, dict[str, Any]]:
    """Per deconvolution and band, the regularisation chosen on up to ``tune_objects`` training pairs.

    ``tune`` is what the choice minimises against the originals: ``morphology``
    (:func:`~galtk.models.recovery.measure.morphology_score`, the claim's measures) or ``mse``
    (:func:`~galtk.pipeline.degrade.deconvolution.mse_score`).
    """
    if tune not in TUNE_CRITERIA:
        raise GaltkError(f"unknown tuning criterion {tune!r}; known: {', '.join(TUNE_CRITERIA)}")
    store = open_degrade_store(store_path)
    held = set(held_out_rows(store, recoverer.settings).tolist())
    training = np.array([row for row in range(store.n_pairs) if row not in held], dtype=np.int64)
    rng = np.random.default_rng(recoverer.settings.seed)
    training = np.sort(rng.permutation(training)[:tune_objects])
    if not len(training):
        raise StoreError(f"{store_path} has no training pair to choose the deconvolutions' regularisation on")
    original = store.member(ORIGINAL).read(training).images
    degraded_store = store.member(DEGRADED)
    degraded = degraded_store.read(training).images
    scale = degraded_store.schema.pixel_scale
    before = np.asarray(degraded_store.extra("psf_fwhm_before"), dtype=np.float64)[training] / scale
    after = np.asarray(degraded_store.extra("psf_fwhm"), dtype=np.float64)[training] / scale
    sigma = np.asarray(degraded_store.extra("noise_sigma_before"), dtype=np.float64)[training]
    profile = store.attrs["degrade"]["profile"]
    chosen: dict[str, dict[str, Any]] = {name: {} for name in DECONVOLUTIONS}
    for b, band in enumerate(pairs.bands):
        kernels = [matching_kernel(before[k, b], after[k, b], profile) for k in range(len(training))]
        for name in DECONVOLUTIONS:
            score = morphology_score if tune == "morphology" else mse_score
            choice = choose_regularisation(
                name, original[:, b], degraded[:, b], kernels, sigma[:, b], score=score
            )
            at_edge = choice.parameter in (min(choice.errors), max(choice.errors))
            chosen[name][band] = {
                "parameter": choice.parameter,
                "training_errors": choice.errors,
                "at_edge": at_edge,
            }
    return chosen


def measure_recoveries(
    pairs: HeldOutPairs,
    outputs: dict[str, np.ndarray],
    on_progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, dict[str, dict[str, np.ndarray]]], dict[str, dict[str, np.ndarray]]]:
    """Every output against the original and, when known, the truth (which also measures the original)."""
    references = {"original": pairs.original}
    if pairs.truth is not None:
        references["truth"] = pairs.truth
    n, bands = pairs.original.shape[:2]
    values: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    spectra: dict[str, dict[str, np.ndarray]] = {}
    for name, reference in references.items():
        measured = {**outputs, **({"original": pairs.original} if name == "truth" else {})}
        values[name] = {out: {m: np.full((n, bands), np.nan) for m in MEASURES} for out in measured}
        spectra[name] = {out: np.full((n, bands, 16), np.nan) for out in measured}
        for k in range(n):
            for b in range(bands):
                segment = footprint(reference[k, b], pairs.sigma[k, b])
                if segment is None:
                    continue
                ref_shape = shape(reference[k, b], segment)
                if not (ref_shape.flux > 0 and ref_shape.size > 0):
                    continue
                for out, images in measured.items():
                    for measure, value in compare(
                        images[k, b], ref_shape, reference[k, b], segment, pairs.sigma[k, b]
                    ).items():
                        values[name][out][measure][k, b] = value
                    residual = images[k, b].astype(np.float64) - reference[k, b]
                    spectra[name][out][k, b] = radial_power(residual, pairs.sigma[k, b])
            if on_progress:
                on_progress(1)
    return values, spectra


def recover_all(
    pairs: HeldOutPairs,
    recoverer: Recoverer,
    regularisation: dict[str, dict[str, Any]],
    *,
    batch_size: int = 64,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, np.ndarray]:
    """The held-out degraded images recovered by every output of :data:`OUTPUTS`."""
    outputs = {
        DEGRADED_OUTPUT: pairs.degraded,
        METHOD: recoverer.recover(pairs.degraded, pairs.unit, batch_size),
    }
    for name in DECONVOLUTIONS:
        outputs[name] = np.empty_like(pairs.degraded)
    for k in range(len(pairs.rows)):
        for b, band in enumerate(pairs.bands):
            for name in DECONVOLUTIONS:
                parameter = regularisation[name][band]["parameter"]
                outputs[name][k, b] = deconvolve(name, pairs.degraded[k, b], pairs.kernels[k][b], parameter)
        if on_progress:
            on_progress(1)
    return outputs


def summarise(
    values: dict[str, dict[str, np.ndarray]], spectra: dict[str, np.ndarray], bands: tuple[str, ...]
) -> dict[str, dict[str, dict[str, float]]]:
    """Per output and band, the median of each measure (absolute for the errors) and the residual power.

    Returns
    -------
    dict
        ``summary[output][band][statistic]``; errors as ``median_abs_<measure>``, the residual rms and the
        noise as ``median_<measure>``, the power in each of the frequency ranges as ``power_LO-HI``, and
        ``objects``, the number of objects measured.
    """
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for output, measures in values.items():
        summary[output] = {}
        for b, band in enumerate(bands):
            row: dict[str, float] = {
                "objects": int(np.count_nonzero(np.isfinite(measures["flux_error"][:, b])))
            }
            for measure, array in measures.items():
                column = array[:, b]
                column = column[np.isfinite(column)]
                statistic = np.abs(column) if measure.endswith("_error") else column
                key = f"median_abs_{measure}" if measure.endswith("_error") else f"median_{measure}"
                row[key] = float(np.median(statistic)) if len(column) else float("nan")
            row.update(power_in_bands(median_spectrum(spectra[output][:, b])))
            summary[output][band] = row
    return summary


def median_spectrum(spectra: np.ndarray) -> np.ndarray:
    """Median over objects (axis 0) of the spectra measured in full (NaN where none was)."""
    finite = np.isfinite(spectra).all(axis=-1)
    return np.median(spectra[finite], axis=0) if finite.any() else np.full(spectra.shape[-1], np.nan)
