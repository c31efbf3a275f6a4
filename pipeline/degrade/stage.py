"""``galtk degrade``: a paired store of (original, degraded) cutouts made from one cutout store (GalaxyGAN).

Each usable cutout (done, every band valid) is kept as it is in the member ``original`` and, in the member
``degraded``, convolved with the kernel that takes its PSF to a wider target PSF and given white noise that
raises its background sigma to a target. Per object and band the degraded member records the PSF FWHM before
and after, the background sigma measured before, after the convolution and at the end, and the sigma of the
noise added. Every random number comes from the seed and the object's source row, so the result does not
depend on the chunking or the number of workers.

Layout of the output (a paired store, ``galtk.pipeline.stores.paired``)::

    original/   the cutouts as they were (with the source's extra arrays, ``split`` and ``source_row``)
    degraded/   the degraded cutouts (``split``, ``source_row`` and the degradation's record)
    split, source_row, id   (object,)   the pair table; train rows first, then test rows
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import fftconvolve

from galtk.errors import StoreError, UsageError
from galtk.pipeline.crossmatch.matching import split_pairs
from galtk.pipeline.crossmatch.subset import copy_rows
from galtk.pipeline.degrade.noise import added_sigma, background_sigma
from galtk.pipeline.degrade.psf import PSF_PROFILES, matching_kernel
from galtk.pipeline.locks import exclusive_lock
from galtk.pipeline.replace import (
    check_creatable,
    recover_interrupted_swap,
    remove_leftover,
    staging_path,
    swap_in,
)
from galtk.pipeline.stores.cutout_store import (
    STATE_DONE,
    CutoutBatch,
    CutoutStore,
    ExtraArray,
    StoreSchema,
)
from galtk.pipeline.stores.paired import SOURCE_ROW_EXTRA, SPLIT_EXTRA, PairedStore, is_paired_store
from galtk.pipeline.surveys import PRESETS

MEMBERS = ("original", "degraded")
"""Member names of the paired store: the target of a recovery first (the reference), then its input."""

SHARPER_TARGET = "PSF already as wide as the target"
"""Why a cutout is left out when its PSF is, in some band, at least as wide as the target."""
RECORD_EXTRAS = (
    ExtraArray("psf_fwhm_before", True, "float32", "arcsec", "PSF FWHM of the original cutout"),
    ExtraArray("psf_fwhm", True, "float32", "arcsec", "PSF FWHM of the degraded cutout (the target)"),
    ExtraArray("noise_sigma_before", True, "float32", "", "background sigma measured on the original"),
    ExtraArray("noise_sigma_convolved", True, "float32", "", "background sigma measured after convolution"),
    ExtraArray("noise_sigma_added", True, "float32", "", "sigma of the white noise added"),
    ExtraArray("noise_sigma", True, "float32", "", "background sigma measured on the degraded cutout"),
)
"""What the degraded member records per object and band (sigmas in the store's pixel unit)."""


@dataclass(frozen=True)
class DegradeSettings:
    """How to degrade.

    Attributes
    ----------
    fwhm : tuple of float
        Target PSF FWHM in arcsec: one value for every band, or one per band; empty with ``fwhm_factor``.
    fwhm_factor : float or None
        Instead, the target FWHM as this factor times each cutout's own.
    profile : {"gaussian", "moffat"}
        Target PSF profile (the cutouts' own PSF is taken as a Gaussian).
    noise_factor : float
        Target background sigma as this factor times the original's (GalaxyGAN: 1.2).
    seeing : tuple of float
        The cutouts' PSF FWHM in arcsec (one value, or one per band) where the store records no ``psf_fwhm``;
        empty: the survey's typical seeing.
    seed : int
        Seed of the added noise and of the train/test split.
    test_fraction : float
        Fraction of the pairs kept for testing.
    """

    fwhm: tuple[float, ...] = ()
    fwhm_factor: float | None = None
    profile: str = "gaussian"
    noise_factor: float = 1.2
    seeing: tuple[float, ...] = ()
    seed: int = 0
    test_fraction: float = 0.2

    def __post_init__(self) -> None:
        if bool(self.fwhm) == (self.fwhm_factor is not None):
            raise ValueError(
                "give the target PSF as a FWHM (--fwhm) or as a factor (--fwhm-factor), one of them"
            )
        if any(not np.isfinite(value) or value <= 0 for value in (*self.fwhm, *self.seeing)):
            raise ValueError("PSF FWHMs must be positive numbers of arcsec")
        if self.fwhm_factor is not None and not (np.isfinite(self.fwhm_factor) and self.fwhm_factor > 1):
            raise ValueError(
                f"--fwhm-factor must be more than 1 (a kernel cannot sharpen), got {self.fwhm_factor}"
            )
        if self.profile not in PSF_PROFILES:
            raise ValueError(f"unknown PSF profile {self.profile!r}; known: {', '.join(PSF_PROFILES)}")
        if not (np.isfinite(self.noise_factor) and self.noise_factor >= 1):
            raise ValueError(f"--noise-factor must be at least 1, got {self.noise_factor}")
        if self.seed < 0:
            raise ValueError(f"--seed must not be negative, got {self.seed}")
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"--test-fraction must be in (0, 1), got {self.test_fraction}")


@dataclass(frozen=True)
class DegradeReport:
    """What a degrade run did: pairs written, rows left out and why, where."""

    path: Path
    n_train: int
    n_test: int
    skipped: dict[str, int]


def degrade_store(
    source_path: str | Path,
    output: str | Path,
    settings: DegradeSettings,
    *,
    overwrite: bool = False,
    workers: int = 2,
    typical_seeing: Mapping[str, float] | None = None,
    on_stage: Callable[[str, int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> DegradeReport:
    """Write the paired store of (original, degraded) cutouts of the cutout store at ``source_path``.

    Parameters
    ----------
    source_path : str or Path
        A complete cutout store (a raw store, or a member of a paired store).
    output : str or Path
        The paired store to write (replaced, once complete, only with ``overwrite``).
    settings : DegradeSettings
        Target PSF and noise, seed, split.
    overwrite : bool
        Replace an existing output.
    workers : int
        Threads degrading blocks of cutouts.
    typical_seeing : mapping of str to float, optional
        The survey's typical PSF FWHM per band in arcsec (its ``[surveys.NAME] seeing_fwhm``), for a store
        that records no ``psf_fwhm`` when ``settings.seeing`` is empty; default: that of the built-in survey
        of the store's name.
    on_stage : callable, optional
        Called with (stage description, number of cutouts) when the copy of the originals, then the
        degrading, starts (as :func:`~galtk.pipeline.crossmatch.stage.crossmatch` calls it).
    on_progress : callable, optional
        Called with the number of cutouts after each block of the current stage.

    Returns
    -------
    DegradeReport

    Raises
    ------
    StoreError
        If the source is not a cutout store, holds no usable cutout, or the output exists without
        ``overwrite`` (or is not a paired store).
    UsageError
        If the target PSF is not wider than any cutout's own (cutouts whose PSF is as wide as the target in
        some band are left out and counted in the report).
    """
    source = CutoutStore.open(source_path)
    output = Path(output)
    if output.resolve() == source.path.resolve():
        raise StoreError(f"{output} is the source store; write the pairs elsewhere")
    with exclusive_lock(output):
        recover_interrupted_swap(output, accept=is_paired_store)
        if output.exists() and not overwrite:
            raise StoreError(f"{output} already exists; pass --overwrite to replace it")
        if output.exists() and not is_paired_store(output):
            raise StoreError(f"{output} exists and is not a galtk paired store; it is never replaced")
        check_creatable(output)
        rows, skipped = _usable_rows(source)
        current, target = _fwhms(source, rows, settings, typical_seeing)
        wide_enough = (target > current).all(axis=1)
        if not wide_enough.all():
            skipped[SHARPER_TARGET] = int(np.count_nonzero(~wide_enough))
            rows, current, target = rows[wide_enough], current[wide_enough], target[wide_enough]
        order, n_test = _split(rows, source.ids[rows], settings)
        rows, current, target = rows[order], current[order], target[order]
        staging = staging_path(output)
        remove_leftover(staging)
        try:
            _write(source, rows, current, target, n_test, settings, staging, workers, on_stage, on_progress)
            swap_in(staging, output)
        except BaseException:
            remove_leftover(staging)
            raise
    return DegradeReport(output, len(rows) - n_test, n_test, skipped)


def _usable_rows(source: CutoutStore) -> tuple[np.ndarray, dict[str, int]]:
    state, valid = source.state, np.asarray(source.valid[:])
    done = state == STATE_DONE
    complete = done & valid.all(axis=1)
    skipped = {
        reason: count
        for reason, count in (
            ("not fetched", int(np.count_nonzero(~done))),
            ("a band not valid", int(np.count_nonzero(done & ~complete))),
        )
        if count
    }
    rows = np.flatnonzero(complete)
    if not len(rows):
        raise StoreError(f"{source.path} holds no fetched cutout with every band valid")
    return rows, skipped


def _per_band(values: tuple[float, ...], bands: tuple[str, ...], what: str) -> np.ndarray:
    if len(values) not in (1, len(bands)):
        raise UsageError(f"{what} needs one value or one per band ({', '.join(bands)}), got {len(values)}")
    return np.broadcast_to(np.asarray(values, dtype=np.float64), (len(bands),)).copy()


def _fwhms(
    source: CutoutStore,
    rows: np.ndarray,
    settings: DegradeSettings,
    typical_seeing: Mapping[str, float] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The PSF FWHM of every chosen cutout and band (arcsec), and its target."""
    schema = source.schema
    if typical_seeing is None and schema.survey in PRESETS:
        typical_seeing = PRESETS[schema.survey].seeing_fwhm
    if "psf_fwhm" in {extra.name for extra in schema.extras}:
        current = np.asarray(source.extra("psf_fwhm"), dtype=np.float64)[rows]
    elif settings.seeing:
        current = np.tile(_per_band(settings.seeing, schema.bands, "--seeing"), (len(rows), 1))
    elif typical_seeing and all(band in typical_seeing for band in schema.bands):
        current = np.tile([typical_seeing[band] for band in schema.bands], (len(rows), 1))
    else:
        raise UsageError(
            f"{source.path} records no PSF FWHM and its survey {schema.survey!r} has no typical seeing in"
            f" every band ({', '.join(schema.bands)}); give the cutouts' seeing with --seeing (or"
            f" seeing_fwhm in [surveys.{schema.survey}])"
        )
    if not np.all(np.isfinite(current) & (current > 0)):
        raise StoreError(f"{source.path}: psf_fwhm holds values that are not positive numbers")
    if settings.fwhm_factor is not None:
        target = current * settings.fwhm_factor
    else:
        target = np.tile(_per_band(settings.fwhm, schema.bands, "--fwhm"), (len(rows), 1))
    if not (target > current).all(axis=1).any():
        band = int(np.argmax((target <= current).sum(axis=0)))
        raise UsageError(
            f'the target PSF is not wider than the PSF of any cutout (e.g. {target[0, band]:.3g}" against '
            f'{current[0, band]:.3g}" in {schema.bands[band]}); a convolution cannot sharpen: choose a wider '
            "--fwhm"
        )
    return current, target


def _split(rows: np.ndarray, ids: np.ndarray, settings: DegradeSettings) -> tuple[np.ndarray, int]:
    """An order of the rows putting the train pairs first, and the number of test pairs (at least 1).

    The test pairs are drawn as the cross-match draws them (:func:`split_pairs`: seeded, independent of the
    rows' order, one object never on both sides).
    """
    n_test = min(len(rows) - 1, max(1, round(settings.test_fraction * len(rows)))) if len(rows) > 1 else 0
    is_test = np.zeros(len(rows), dtype=bool)
    if n_test:
        is_test = split_pairs(ids, ids, n_test=n_test, seed=settings.seed)
    return np.concatenate([np.flatnonzero(~is_test), np.flatnonzero(is_test)]), int(is_test.sum())


def _write(
    source: CutoutStore,
    rows: np.ndarray,
    current: np.ndarray,
    target: np.ndarray,
    n_test: int,
    settings: DegradeSettings,
    path: Path,
    workers: int,
    on_stage: Callable[[str, int], None] | None,
    on_progress: Callable[[int], None] | None,
) -> None:
    split = np.where(np.arange(len(rows)) < len(rows) - n_test, "train", "test")
    ids = source.ids[rows]
    record = {**dataclasses.asdict(settings), "fwhm": list(settings.fwhm), "seeing": list(settings.seeing)}
    paired = PairedStore.create(
        path,
        table={
            "split": (split, {"long_name": "train or test"}),
            "source_row": (rows, {"long_name": "row of the object in the source store"}),
            "id": (ids, {"long_name": "object identifier"}),
        },
        attributes={
            "surveys": list(MEMBERS),
            "n_train": int(len(rows) - n_test),
            "n_test": int(n_test),
            "degrade": record,
            "provenance": {"source": {"kind": "degrade", "store": str(source.path)}},
        },
    )
    members = {"split": split, "source_row": rows}
    original = _member(source, rows, paired.path / "original", keep_extras=True, record=record)
    if on_stage:
        on_stage("copy the originals", len(rows))
    copy_rows(source, rows, original, extras=members, workers=workers, on_progress=on_progress)
    degraded = _member(source, rows, paired.path / "degraded", keep_extras=False, record=record)
    chunk = degraded.schema.chunk_objects
    starts = range(0, len(rows), chunk)
    pixel_scale = source.schema.pixel_scale

    def block(start: int) -> tuple[int, CutoutBatch]:
        stop = min(start + chunk, len(rows))
        batch = _degrade_block(
            source.read(rows[start:stop]).images,
            rows[start:stop],
            current[start:stop] / pixel_scale,
            target[start:stop] / pixel_scale,
            settings,
        )
        batch.extras.update(
            split=split[start:stop],
            source_row=rows[start:stop],
            psf_fwhm_before=current[start:stop].astype(np.float32),
            psf_fwhm=target[start:stop].astype(np.float32),
        )
        return start, batch

    if on_stage:
        on_stage("degrade", len(rows))
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="galtk-degrade") as pool:
        for start, batch in pool.map(block, starts):
            degraded.write_rows(start, batch)
            if on_progress:
                on_progress(len(batch))
    paired.mark_ready()


def _member(
    source: CutoutStore, rows: np.ndarray, path: Path, *, keep_extras: bool, record: dict[str, Any]
) -> CutoutStore:
    schema: StoreSchema = source.schema
    own = schema.extras if keep_extras else ()
    added = (SPLIT_EXTRA, SOURCE_ROW_EXTRA) + (() if keep_extras else RECORD_EXTRAS)
    clash = {extra.name for extra in own} & {extra.name for extra in added}
    if clash:
        raise StoreError(f"{source.path} already has arrays named {', '.join(sorted(clash))}")
    return CutoutStore.create(
        path,
        dataclasses.replace(schema, extras=(*own, *added)),
        ra=source.ra[rows],
        dec=source.dec[rows],
        ids=source.ids[rows],
        source={"kind": "degrade", "role": path.name, "store": str(source.path), "settings": record},
    )


def _degrade_block(
    images: np.ndarray,
    source_rows: np.ndarray,
    current_px: np.ndarray,
    target_px: np.ndarray,
    settings: DegradeSettings,
) -> CutoutBatch:
    """Degrade cutouts (n, band, y, x): PSF matching by convolution, then white noise to the target sigma."""
    n, bands = images.shape[:2]
    out = np.empty_like(images, dtype=np.float32)
    sigmas = {name: np.empty((n, bands), np.float32) for name in ("before", "convolved", "added", "after")}
    kernels: dict[tuple[float, float], np.ndarray] = {}
    for k in range(n):
        rng = np.random.default_rng([settings.seed, int(source_rows[k])])
        for b in range(bands):
            image = images[k, b].astype(np.float64)
            key = (round(float(current_px[k, b]), 4), round(float(target_px[k, b]), 4))
            if key not in kernels:
                kernels[key] = matching_kernel(*key, settings.profile)
            convolved = _convolve(image, kernels[key])
            before, after_psf = background_sigma(image), background_sigma(convolved)
            extra = added_sigma(after_psf, settings.noise_factor * before)
            result = convolved + rng.normal(0.0, 1.0, image.shape) * extra
            out[k, b] = result
            sigmas["before"][k, b], sigmas["convolved"][k, b] = before, after_psf
            sigmas["added"][k, b], sigmas["after"][k, b] = extra, background_sigma(result)
    return CutoutBatch(
        images=out,
        valid=np.ones((n, bands), dtype=bool),
        state=np.full(n, STATE_DONE, dtype=np.uint8),
        extras={
            "noise_sigma_before": sigmas["before"],
            "noise_sigma_convolved": sigmas["convolved"],
            "noise_sigma_added": sigmas["added"],
            "noise_sigma": sigmas["after"],
        },
    )


def _convolve(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``image`` convolved with ``kernel``, the edges continued by reflection (no dark border)."""
    half = kernel.shape[0] // 2
    return fftconvolve(np.pad(image, half, mode="reflect"), kernel, mode="valid")
