"""``galtk crossmatch``: turn two raw cutout stores into the paired and unpaired training sets.

Steps (counts of each are in the summary):

1. Usable objects: rows of each raw store whose fetch succeeded (``state`` done). A store with pending rows
   is refused (finish it with ``galtk fetch --resume``).
2. Positional match (:func:`galtk.pipeline.crossmatch.matching.match_positions`): astropy
   ``search_around_sky`` within the radius, one-to-one by mutual nearest neighbours; ties and many-to-one
   matches are counted, and objects within the radius of another survey's object but without a mutual
   partner are *ambiguous*.
3. Aligned-peak test (:mod:`galtk.pipeline.crossmatch.peaks`): brightest pixel of each cutout, compared on the
   reference (SDSS) grid; a pair passes when the peaks agree within the tolerance (SDSS pixels).
4. Split (:func:`galtk.pipeline.crossmatch.matching.split_pairs`) of the passing pairs into train and test.
5. Unpaired sets: every other usable object of each survey, except the ambiguous ones, those that matched
   but failed the peak test, and those sharing an identifier with a paired object (all counted).

Outputs: the paired store (:mod:`galtk.pipeline.stores.paired`), one unpaired cutout store per survey and a
JSON summary. Images are copied chunk by chunk (:func:`galtk.pipeline.crossmatch.subset.copy_rows`), never all
in memory. Every output is first written beside its final path (``NAME.galtk-new``) and renamed into place
only when all of them are complete, so a failure or an interruption never leaves a half-written output, and
existing outputs are kept unless ``overwrite`` is given.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from galtk import __version__
from galtk.errors import CrossmatchError, StoreError
from galtk.pipeline.crossmatch.matching import PositionalMatch, match_positions, split_pairs
from galtk.pipeline.crossmatch.peaks import PeakFinder, peak_offsets
from galtk.pipeline.crossmatch.settings import CrossmatchOutputs, CrossmatchSettings
from galtk.pipeline.crossmatch.subset import copy_rows
from galtk.pipeline.locks import exclusive_lock
from galtk.pipeline.replace import (
    check_creatable,
    finish_swap_together,
    remove_leftover,
    staging_path,
    swap_in_together,
)
from galtk.pipeline.stores.cutout_store import STATE_DONE, CutoutStore, is_store
from galtk.pipeline.stores.paired import SOURCE_ROW_EXTRA, SPLIT_EXTRA, PairedStore, is_paired_store

if TYPE_CHECKING:
    from galtk.pipeline.workspace import Workspace

log = logging.getLogger(__name__)

_SLAB_BYTES = 32 * 2**20

StageCallback = Callable[[str, int], None]
ProgressCallback = Callable[[int], None]


def crossmatch_workspace(
    workspace: Workspace,
    settings: CrossmatchSettings | None = None,
    *,
    sdss: str | Path | None = None,
    cfht: str | Path | None = None,
    overwrite: bool = False,
    on_stage: StageCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> tuple[dict[str, Any], CrossmatchOutputs]:
    """Cross-match the raw stores of a workspace (``galtk crossmatch``).

    Parameters
    ----------
    workspace : Workspace
        The loaded workspace.
    settings : CrossmatchSettings, optional
        Default: ``[crossmatch]`` of its galtk.toml; output paths are taken relative to the workspace.
    sdss, cfht : str or Path, optional
        Raw stores to match instead of the surveys' ``store`` settings.
    overwrite, on_stage, on_progress
        As for :func:`crossmatch`.

    Returns
    -------
    summary : dict
        The summary (also written to the summary path).
    outputs : CrossmatchOutputs
        Where it was written.
    """
    settings = settings or workspace.config.crossmatch
    outputs = workspace.crossmatch_outputs(settings)
    reference = workspace.resolve(sdss) if sdss else workspace.store_path("sdss")
    other = workspace.resolve(cfht) if cfht else workspace.store_path("cfht")
    summary = crossmatch(
        reference,
        other,
        outputs,
        settings=settings,
        overwrite=overwrite,
        on_stage=on_stage,
        on_progress=on_progress,
    )
    return summary, outputs


def crossmatch(
    reference: str | Path,
    other: str | Path,
    outputs: CrossmatchOutputs,
    *,
    settings: CrossmatchSettings | None = None,
    overwrite: bool = False,
    on_stage: StageCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Cross-match two raw cutout stores and write the paired and unpaired stores and the summary.

    Parameters
    ----------
    reference : str or Path
        Raw store of the survey whose grid the peaks are compared on (SDSS).
    other : str or Path
        Raw store of the other survey (CFHT).
    outputs : CrossmatchOutputs
        Paths to write; ``outputs.unpaired`` is keyed by the two stores' survey names.
    settings : CrossmatchSettings, optional
        Radius, peak test, split and reading threads (its output paths are not used: see ``outputs``).
    overwrite : bool
        Replace existing outputs (only once all new outputs are complete).
    on_stage : callable, optional
        Called with (stage description, number of rows it processes) when a stage that reads images starts.
    on_progress : callable, optional
        Called with a number of rows processed in the current stage.

    Returns
    -------
    dict
        The summary (also written to ``outputs.summary``).

    Raises
    ------
    StoreError
        If an input is not a complete cutout store or an output is in the way.
    CrossmatchError
        If the settings cannot give train and test pairs.
    """
    with exclusive_lock(outputs.paired):
        return _crossmatch_locked(
            reference,
            other,
            outputs,
            settings=settings or CrossmatchSettings(),
            overwrite=overwrite,
            on_stage=on_stage,
            on_progress=on_progress,
        )


def _crossmatch_locked(
    reference: str | Path,
    other: str | Path,
    outputs: CrossmatchOutputs,
    *,
    settings: CrossmatchSettings,
    overwrite: bool,
    on_stage: StageCallback | None,
    on_progress: ProgressCallback | None,
) -> dict[str, Any]:
    """:func:`crossmatch` while holding the lock of its outputs (that of the paired store)."""
    workers = settings.workers
    started = time.perf_counter()
    stores = (open_input(reference), open_input(other))
    names = tuple(store.schema.survey for store in stores)
    if names[0] == names[1]:
        raise CrossmatchError(f"both stores hold {names[0]} cutouts; give one store of each survey")
    if set(outputs.unpaired) != set(names):
        raise ValueError(f"outputs.unpaired must be keyed by {names}, not {tuple(outputs.unpaired)}")
    if finish_swap_together(swap_journal(outputs)):
        log.warning("completed the replacement of the cross-match outputs that an interrupted run had begun")
    check_outputs(
        [outputs.paired, *outputs.unpaired.values()],
        outputs.summary,
        [store.path for store in stores],
        overwrite=overwrite,
    )
    plan = _plan(stores, settings, workers, on_stage, on_progress)

    new_paths = {path: staging_path(path) for path in outputs.all()}
    for temporary in new_paths.values():
        remove_leftover(temporary)
    try:
        _write_stores(plan, stores, outputs, new_paths, settings, workers, on_stage, on_progress)
        summary = _summary(plan, stores, settings, outputs)
        summary["seconds"] = round(time.perf_counter() - started, 3)
        new_paths[outputs.summary].parent.mkdir(parents=True, exist_ok=True)
        new_paths[outputs.summary].write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        for temporary in new_paths.values():
            remove_leftover(temporary)
        raise
    swap_in_together(list(new_paths), swap_journal(outputs))
    return summary


@dataclass
class _Plan:
    """Where every object goes; indices are raw-store rows of the two surveys, in (reference, other) order."""

    names: tuple[str, ...]
    usable: list[np.ndarray]
    match: PositionalMatch
    ambiguous: tuple[np.ndarray, np.ndarray]
    common_bands: np.ndarray
    offset: np.ndarray
    passed: np.ndarray
    table: dict[str, tuple[np.ndarray, dict[str, Any]]]
    pair_rows: tuple[np.ndarray, np.ndarray]
    is_test: np.ndarray
    unpaired_rows: list[np.ndarray]
    excluded: dict[str, dict[str, int]]


def _plan(
    stores: tuple[CutoutStore, CutoutStore],
    settings: CrossmatchSettings,
    workers: int,
    on_stage: StageCallback | None,
    on_progress: ProgressCallback | None,
) -> _Plan:
    """Match, test the peaks, split and sort every object (reads only the matched cutouts)."""
    names = tuple(store.schema.survey for store in stores)
    usable = [np.flatnonzero(store.state == STATE_DONE) for store in stores]
    positions = [(store.ra, store.dec) for store in stores]
    match = match_positions(
        positions[0][0][usable[0]],
        positions[0][1][usable[0]],
        positions[1][0][usable[1]],
        positions[1][1][usable[1]],
        radius_arcsec=settings.radius_arcsec,
    )
    matched = (usable[0][match.index_a], usable[1][match.index_b])
    ambiguous = (usable[0][match.ambiguous_a], usable[1][match.ambiguous_b])

    common = stores[0].valid[:][matched[0]] & stores[1].valid[:][matched[1]]
    finder = PeakFinder(settings.peak_smoothing_arcsec, settings.peak_search_arcsec)
    peaks = [
        _find_peaks(store, rows, common, finder, workers, on_stage, on_progress)
        for store, rows in zip(stores, matched, strict=True)
    ]
    dx, dy = peak_offsets(
        peaks[0],
        (positions[0][0][matched[0]], positions[0][1][matched[0]]),
        (stores[0].schema.pixel_scale, stores[0].schema.cutout_size),
        peaks[1],
        (positions[1][0][matched[1]], positions[1][1][matched[1]]),
        (stores[1].schema.pixel_scale, stores[1].schema.cutout_size),
    )
    offset = np.hypot(dx, dy)
    passed = np.isfinite(offset) & (offset <= settings.peak_tolerance_px)
    log.info(
        "%d candidate pairs within %.2f arcsec, %d mutual nearest, %d with aligned peaks",
        match.candidates,
        settings.radius_arcsec,
        len(match),
        int(np.count_nonzero(passed)),
    )
    if not passed.any():
        raise CrossmatchError(
            f"no pair passed: {len(match)} positional matches within {settings.radius_arcsec} arcsec, "
            f"none with peaks within {settings.peak_tolerance_px} px"
        )

    ids = [store.ids for store in stores]
    pair_rows = (matched[0][passed], matched[1][passed])
    try:
        is_test = split_pairs(
            ids[0][pair_rows[0]],
            ids[1][pair_rows[1]],
            n_test=None if settings.test_fraction > 0 else settings.n_test,
            test_fraction=settings.test_fraction or None,
            seed=settings.seed,
        )
    except ValueError as error:
        raise CrossmatchError(
            f"{error}; choose fewer test pairs (--n-test, --test-fraction, or n_test / test_fraction in the"
            " [crossmatch] table of galtk.toml)"
        ) from None
    order = np.lexsort((pair_rows[1], is_test))  # train first, then test; each in the other store's row order
    pair_rows = (pair_rows[0][order], pair_rows[1][order])
    is_test = is_test[order]

    excluded: dict[str, dict[str, int]] = {}
    unpaired_rows: list[np.ndarray] = []
    for k, store in enumerate(stores):
        keep = np.zeros(store.n_objects, dtype=bool)
        keep[usable[k]] = True
        keep[ambiguous[k]] = False
        keep[matched[k]] = False
        same_id = keep & np.isin(ids[k], ids[k][pair_rows[k]])
        keep &= ~same_id
        unpaired_rows.append(np.flatnonzero(keep))
        excluded[names[k]] = {
            "not_fetched": int(store.n_objects - len(usable[k])),
            "ambiguous": len(ambiguous[k]),
            "peak_rejected": int(np.count_nonzero(~passed)),
            "same_id_as_paired": int(np.count_nonzero(same_id)),
        }

    unit = f"{names[0]} pixel"
    table: dict[str, tuple[np.ndarray, dict[str, Any]]] = {
        "split": (np.where(is_test, "test", "train"), {"long_name": "train or test"}),
        "separation": (
            match.separation[passed][order].astype(np.float64),
            {"units": "arcsec", "long_name": "separation of the two catalog positions"},
        ),
        "peak_dx": (
            dx[passed][order].astype(np.float32),
            {"units": unit, "long_name": f"peak offset along x of the {names[0]} grid (west)"},
        ),
        "peak_dy": (
            dy[passed][order].astype(np.float32),
            {"units": unit, "long_name": f"peak offset along y of the {names[0]} grid (north)"},
        ),
        "peak_offset": (
            offset[passed][order].astype(np.float32),
            {"units": unit, "long_name": "peak distance"},
        ),
    }
    for k, name in enumerate(names):
        table[f"{name}_row"] = (pair_rows[k], {"long_name": f"row in the raw {name} store"})
        table[f"{name}_id"] = (ids[k][pair_rows[k]].astype(str), {"long_name": f"{name} identifier"})
    return _Plan(
        names=names,
        usable=usable,
        match=match,
        ambiguous=ambiguous,
        common_bands=common,
        offset=offset,
        passed=passed,
        table=table,
        pair_rows=pair_rows,
        is_test=is_test,
        unpaired_rows=unpaired_rows,
        excluded=excluded,
    )


def _write_stores(
    plan: _Plan,
    stores: tuple[CutoutStore, CutoutStore],
    outputs: CrossmatchOutputs,
    new_paths: dict[Path, Path],
    settings: CrossmatchSettings,
    workers: int,
    on_stage: StageCallback | None,
    on_progress: ProgressCallback | None,
) -> None:
    """Write the paired and unpaired stores at their temporary paths."""
    names = plan.names
    settings_record = asdict(settings)
    options = {
        "settings": settings_record,
        "workers": workers,
        "on_stage": on_stage,
        "on_progress": on_progress,
    }
    paired = PairedStore.create(
        new_paths[outputs.paired],
        table=plan.table,
        attributes={
            "surveys": list(names),
            "n_train": int(np.count_nonzero(~plan.is_test)),
            "n_test": int(np.count_nonzero(plan.is_test)),
            "crossmatch": settings_record,
            "provenance": {
                "source": {
                    "kind": "crossmatch",
                    "raw_stores": {n: str(s.path) for n, s in zip(names, stores, strict=True)},
                }
            },
        },
    )
    split = plan.table["split"][0]
    for k, store in enumerate(stores):
        copy_subset(store, plan.pair_rows[k], paired.path / names[k], "paired", {"split": split}, **options)
    paired.mark_ready()
    for k, store in enumerate(stores):
        path = new_paths[outputs.unpaired[names[k]]]
        copy_subset(store, plan.unpaired_rows[k], path, "unpaired", {}, **options)


def copy_subset(
    store: CutoutStore,
    rows: np.ndarray,
    path: Path,
    role: str,
    extras: dict[str, np.ndarray],
    *,
    settings: dict[str, Any],
    workers: int,
    on_stage: StageCallback | None,
    on_progress: ProgressCallback | None,
) -> None:
    """Copy ``store`` rows ``rows`` into a new cutout store at ``path`` (``role``: paired or unpaired), with
    ``extras`` (and each row's ``source_row``) added."""
    if on_stage:
        on_stage(f"{role} {store.schema.survey}", len(rows))
    target = _create_subset(store, rows, path, role, settings, with_split="split" in extras)
    copy_rows(
        store, rows, target, extras={**extras, "source_row": rows}, workers=workers, on_progress=on_progress
    )


def _summary(
    plan: _Plan,
    stores: tuple[CutoutStore, CutoutStore],
    settings: CrossmatchSettings,
    outputs: CrossmatchOutputs,
) -> dict[str, Any]:
    names, match = plan.names, plan.match
    offset = plan.offset
    return {
        "galtk_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "settings": asdict(settings),
        "peak_method": (
            "brightest pixel of the noise-weighted sum of the bands valid in both cutouts, smoothed by "
            "a Gaussian of peak_smoothing_arcsec, within peak_search_arcsec of the centre, refined by a "
            "3-point parabola per axis; compared on the reference survey's grid"
        ),
        "inputs": {
            name: {"store": str(store.path), "objects": store.n_objects, "usable": len(plan.usable[k])}
            for k, (name, store) in enumerate(zip(names, stores, strict=True))
        },
        "positional": {
            "candidates_within_radius": match.candidates,
            "mutual_nearest": len(match),
            "ties": {names[0]: match.ties_a, names[1]: match.ties_b},
            "many_to_one": {names[0]: match.many_to_one_a, names[1]: match.many_to_one_b},
            "ambiguous": {names[0]: len(plan.ambiguous[0]), names[1]: len(plan.ambiguous[1])},
        },
        "peak_test": {
            "tested": len(match),
            "passed": int(np.count_nonzero(plan.passed)),
            "rejected": int(np.count_nonzero(~plan.passed)),
            "no_common_valid_band": int(np.count_nonzero(~plan.common_bands.any(axis=1))),
            "median_offset_px": float(np.nanmedian(offset)) if np.isfinite(offset).any() else None,
        },
        "pairs": {
            "total": len(plan.is_test),
            "train": int(np.count_nonzero(~plan.is_test)),
            "test": int(np.count_nonzero(plan.is_test)),
        },
        "unpaired": {name: len(rows) for name, rows in zip(names, plan.unpaired_rows, strict=True)},
        "excluded": plan.excluded,
        "outputs": {
            "paired": str(outputs.paired),
            **{f"unpaired_{name}": str(path) for name, path in outputs.unpaired.items()},
            "summary": str(outputs.summary),
        },
    }


def open_input(path: str | Path) -> CutoutStore:
    """Open a raw store to cross-match: it must exist and have no pending rows."""
    if not Path(path).exists():
        raise StoreError(f"{path} does not exist; fill it with `galtk fetch` first")
    store = CutoutStore.open(path)
    pending = store.counts()["pending"]
    if pending:
        raise StoreError(
            f"{store.path} has {pending} rows still pending; complete it with `galtk fetch --resume` first"
        )
    return store


def swap_journal(outputs: CrossmatchOutputs) -> Path:
    """The journal of a replacement of the cross-match outputs in progress (beside the paired store)."""
    return outputs.paired.with_name(f".{outputs.paired.name}.swap.json")


def check_outputs_whole(outputs: CrossmatchOutputs) -> None:
    """Refuse cross-match outputs that a killed ``galtk crossmatch`` left half replaced.

    Raises
    ------
    StoreError
        If the journal of an interrupted replacement is there: the paired and unpaired stores may then come
        from different runs. ``galtk crossmatch`` completes the replacement.
    """
    if swap_journal(outputs).exists():
        raise StoreError(
            f"an interrupted `galtk crossmatch` left its outputs beside {outputs.paired} half replaced; run "
            "`galtk crossmatch` again (it completes the replacement first)"
        )


def check_outputs(stores: list[Path], summary: Path, inputs: list[Path], *, overwrite: bool) -> None:
    """Raise unless a cross-match may write ``stores`` (galtk stores) and ``summary`` (a JSON file).

    The paths must differ from each other and from the ``inputs``; an existing output is replaced only with
    ``overwrite``, and only when it is what the cross-match writes there.

    Raises
    ------
    CrossmatchError
        If two outputs are one path, or an output is an input store.
    StoreError
        If an output exists (without ``overwrite``, or holding something else) or cannot be created.
    """
    paths = [*stores, summary]
    resolved = [path.resolve() for path in paths]
    if len(set(resolved)) != len(resolved):
        raise CrossmatchError("the output paths must all differ")
    for path in paths:
        if path.resolve() in {source.resolve() for source in inputs}:
            raise CrossmatchError(f"output {path} is an input store")
        if not path.exists():
            continue
        if not overwrite:
            raise StoreError(f"{path} already exists; use --overwrite to replace the cross-match outputs")
        is_summary = path == summary
        if not is_summary and not (path.is_dir() and (is_store(path) or is_paired_store(path))):
            raise StoreError(f"{path} exists and is not a galtk store; choose another path")
        if is_summary and not (path.is_file() and path.suffix == ".json"):
            raise StoreError(f"{path} exists and is not a summary file; choose another path")
    for path in paths:
        check_creatable(path)


def _find_peaks(
    store: CutoutStore,
    rows: np.ndarray,
    bands: np.ndarray,
    finder: PeakFinder,
    workers: int,
    on_stage: StageCallback | None,
    on_progress: ProgressCallback | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Peak positions of ``store`` rows ``rows`` (any order), reading them in sorted slabs."""
    if on_stage:
        on_stage(f"peaks {store.schema.survey}", len(rows))
    x = np.full(len(rows), np.nan)
    y = np.full(len(rows), np.nan)
    order = np.argsort(rows, kind="stable")
    row_bytes = 4 * int(np.prod(store.schema.image_shape))
    slab = max(1, _SLAB_BYTES // row_bytes)
    scale = store.schema.pixel_scale

    def work(chosen: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        images = store.images.oindex[rows[chosen]]
        return chosen, finder.find(images, bands[chosen], scale)

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="galtk-peaks") as pool:
        in_flight: deque[Future] = deque()

        def collect() -> None:
            chosen, (px, py) = in_flight.popleft().result()
            x[chosen], y[chosen] = px, py
            if on_progress:
                on_progress(len(chosen))

        for start in range(0, len(rows), slab):
            in_flight.append(pool.submit(work, order[start : start + slab]))
            if len(in_flight) >= 2 * max(1, workers):
                collect()
        while in_flight:
            collect()
    return x, y


def _create_subset(
    store: CutoutStore,
    rows: np.ndarray,
    path: Path,
    role: str,
    settings: dict[str, Any],
    *,
    with_split: bool,
) -> CutoutStore:
    schema = store.schema
    added = (SPLIT_EXTRA, SOURCE_ROW_EXTRA) if with_split else (SOURCE_ROW_EXTRA,)
    clash = {extra.name for extra in added} & {extra.name for extra in schema.extras}
    if clash:
        raise StoreError(f"{store.path} already has arrays named {', '.join(sorted(clash))}")
    subset_schema = dataclasses.replace(schema, extras=(*schema.extras, *added))
    ra, dec, ids = store.ra, store.dec, store.ids
    return CutoutStore.create(
        path,
        subset_schema,
        ra=ra[rows],
        dec=dec[rows],
        ids=ids[rows],
        source={
            "kind": "crossmatch",
            "role": role,
            "raw_store": str(store.path),
            "raw_source": store.attrs.get("provenance", {}).get("source", {}),
            "settings": settings,
        },
    )
