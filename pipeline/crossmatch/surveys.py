"""Pairs across any number of surveys: the same galaxies in every listed survey, rows aligned.

``galtk crossmatch`` with ``surveys`` in ``[crossmatch]`` (or ``--surveys``) pairs N raw stores for
multi-input translation instead of the paper's SDSS-CFHT cross-match:

1. Usable objects: rows fetched (``state`` done) with every band valid.
2. The *reference* is the survey with the finest pixel scale (its positions are the most precise). Every
   other survey is matched to it by position (:func:`~galtk.pipeline.crossmatch.matching.match_positions`:
   astropy ``search_around_sky`` within the radius, one-to-one by mutual nearest neighbours).
3. A pair is a reference object matched in every other survey; pairs are split into train and test
   (:func:`~galtk.pipeline.crossmatch.matching.split_pairs`, never splitting an object).

There is no peak test (the surveys' resolutions differ too much for one tolerance) and no unpaired stores
(multi-input translation learns from pairs only). The paired store holds one cutout store per survey
(``NAME/``) and a pair table: ``split``, and per survey ``NAME_row``, ``NAME_id`` and ``NAME_separation``
(arcsec from the reference position). Outputs are written beside their paths and renamed into place together
once complete, as the paper's cross-match does.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from galtk import __version__
from galtk.errors import CrossmatchError
from galtk.pipeline.crossmatch.matching import match_positions, split_pairs
from galtk.pipeline.crossmatch.settings import CrossmatchOutputs, CrossmatchSettings
from galtk.pipeline.crossmatch.stage import (
    ProgressCallback,
    StageCallback,
    check_outputs,
    copy_subset,
    open_input,
    swap_journal,
)
from galtk.pipeline.locks import exclusive_lock
from galtk.pipeline.replace import (
    finish_swap_together,
    remove_leftover,
    staging_path,
    swap_in_together,
)
from galtk.pipeline.stores.cutout_store import STATE_DONE, CutoutStore
from galtk.pipeline.stores.paired import PairedStore

if TYPE_CHECKING:
    from galtk.pipeline.workspace import Workspace


def pair_surveys_workspace(
    workspace: Workspace,
    settings: CrossmatchSettings | None = None,
    *,
    overwrite: bool = False,
    on_stage: StageCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> tuple[dict[str, Any], Path, Path]:
    """Pair the raw stores of the surveys listed in ``settings.surveys`` (``galtk crossmatch --surveys``).

    Parameters
    ----------
    workspace : Workspace
        The loaded workspace; each survey's raw store is its ``store``.
    settings : CrossmatchSettings, optional
        Default ``[crossmatch]``: ``surveys``, radius, split, workers, the ``paired`` and ``summary`` paths.
    overwrite, on_stage, on_progress
        As for :func:`pair_surveys`.

    Returns
    -------
    summary : dict
    paired, summary_path : Path
        Where the paired store and the summary were written.
    """
    settings = settings or workspace.config.crossmatch
    stores = {name: workspace.store_path(name) for name in settings.surveys}
    paired = workspace.output(settings.paired, "[crossmatch] paired")
    summary_path = workspace.output(settings.summary, "[crossmatch] summary")
    summary = pair_surveys(
        stores,
        paired,
        summary_path,
        settings=settings,
        overwrite=overwrite,
        on_stage=on_stage,
        on_progress=on_progress,
    )
    return summary, paired, summary_path


def pair_surveys(
    stores: dict[str, str | Path],
    paired: Path,
    summary_path: Path,
    *,
    settings: CrossmatchSettings | None = None,
    overwrite: bool = False,
    on_stage: StageCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Write the paired store of the same objects in every survey of ``stores``, and its JSON summary.

    Parameters
    ----------
    stores : dict of str to path
        Raw cutout store of each survey (at least two), in the order the paired store lists them.
    paired, summary_path : Path
        Outputs.
    settings : CrossmatchSettings, optional
        Radius, split and reading threads.
    overwrite : bool
        Replace existing outputs (once the new ones are complete).
    on_stage, on_progress : callable, optional
        Progress callbacks, as for :func:`galtk.pipeline.crossmatch.stage.crossmatch`.

    Returns
    -------
    dict
        The summary.

    Raises
    ------
    StoreError
        If an input is missing or incomplete, or an output is in the way.
    CrossmatchError
        If fewer than two surveys are given, two stores hold the same survey, or no object is in all of them.
    """
    settings = settings or CrossmatchSettings()
    if len(stores) < 2:
        raise CrossmatchError(f"pairing needs at least two surveys, got {', '.join(stores) or 'none'}")
    with exclusive_lock(paired):
        started = time.perf_counter()
        opened = {name: open_input(path) for name, path in stores.items()}
        for name, store in opened.items():
            if store.schema.survey != name:
                raise CrossmatchError(f"{store.path} holds {store.schema.survey} cutouts, not {name}")
        journal = swap_journal(CrossmatchOutputs(paired, {}, summary_path))
        finish_swap_together(journal)
        check_outputs([paired], summary_path, [store.path for store in opened.values()], overwrite=overwrite)
        plan = _plan(opened, settings)
        new_paired, new_summary = staging_path(paired), staging_path(summary_path)
        for temporary in (new_paired, new_summary):
            remove_leftover(temporary)
        try:
            _write(plan, opened, new_paired, paired, settings, on_stage, on_progress)
            summary = _summary(plan, opened, settings, paired, summary_path)
            summary["seconds"] = round(time.perf_counter() - started, 3)
            new_summary.parent.mkdir(parents=True, exist_ok=True)
            new_summary.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        except BaseException:
            for temporary in (new_paired, new_summary):
                remove_leftover(temporary)
            raise
        swap_in_together([paired, summary_path], journal)
    return summary


@dataclass
class _Plan:
    """Which raw row of each survey forms each pair (train first, then test)."""

    reference: str
    usable: dict[str, int]
    matched: dict[str, int]
    rows: dict[str, np.ndarray]
    separation: dict[str, np.ndarray]
    is_test: np.ndarray


def _plan(stores: dict[str, CutoutStore], settings: CrossmatchSettings) -> _Plan:
    usable = {
        name: np.flatnonzero((store.state == STATE_DONE) & store.valid[:].all(axis=1))
        for name, store in stores.items()
    }
    reference = min(stores, key=lambda name: (stores[name].schema.pixel_scale, list(stores).index(name)))
    anchor = usable[reference]
    partner: dict[str, np.ndarray] = {}
    distance: dict[str, np.ndarray] = {}
    matched: dict[str, int] = {}
    for name, store in stores.items():
        if name == reference:
            continue
        rows = usable[name]
        match = match_positions(
            stores[reference].ra[anchor],
            stores[reference].dec[anchor],
            store.ra[rows],
            store.dec[rows],
            radius_arcsec=settings.radius_arcsec,
        )
        partner[name] = np.full(len(anchor), -1)
        distance[name] = np.full(len(anchor), np.nan)
        partner[name][match.index_a] = rows[match.index_b]
        distance[name][match.index_a] = match.separation
        matched[name] = len(match)
    everywhere = np.ones(len(anchor), dtype=bool)
    for rows in partner.values():
        everywhere &= rows >= 0
    if not everywhere.any():
        counts = ", ".join(f"{name} {count}" for name, count in matched.items())
        raise CrossmatchError(
            f"no object is in every survey: of {len(anchor)} usable {reference} objects, matched within "
            f"{settings.radius_arcsec} arcsec: {counts}"
        )
    pair_rows = {name: (anchor if name == reference else partner[name])[everywhere] for name in stores}
    separation = {
        name: np.zeros(int(everywhere.sum())) if name == reference else distance[name][everywhere]
        for name in stores
    }
    ids = stores[reference].ids[pair_rows[reference]].astype(str)
    try:
        is_test = split_pairs(
            ids,
            ids,
            n_test=None if settings.test_fraction > 0 else settings.n_test,
            test_fraction=settings.test_fraction or None,
            seed=settings.seed,
        )
    except ValueError as error:
        raise CrossmatchError(
            f"{error}; choose fewer test pairs (--n-test, --test-fraction, or n_test / test_fraction in the"
            " [crossmatch] table of galtk.toml)"
        ) from None
    order = np.lexsort((pair_rows[reference], is_test))  # train first, then test
    return _Plan(
        reference=reference,
        usable={name: len(rows) for name, rows in usable.items()},
        matched=matched,
        rows={name: rows[order] for name, rows in pair_rows.items()},
        separation={name: values[order] for name, values in separation.items()},
        is_test=is_test[order],
    )


def _write(
    plan: _Plan,
    stores: dict[str, CutoutStore],
    path: Path,
    final: Path,
    settings: CrossmatchSettings,
    on_stage: StageCallback | None,
    on_progress: ProgressCallback | None,
) -> None:
    split = np.where(plan.is_test, "test", "train")
    table: dict[str, tuple[np.ndarray, dict[str, Any]]] = {"split": (split, {"long_name": "train or test"})}
    for name, store in stores.items():
        rows = plan.rows[name]
        table[f"{name}_row"] = (rows, {"long_name": f"row in the raw {name} store"})
        table[f"{name}_id"] = (store.ids[rows].astype(str), {"long_name": f"{name} identifier"})
        table[f"{name}_separation"] = (
            plan.separation[name].astype(np.float64),
            {"units": "arcsec", "long_name": f"{name} position from the {plan.reference} position"},
        )
    record = asdict(settings)
    paired = PairedStore.create(
        path,
        table=table,
        attributes={
            "surveys": list(stores),
            "reference": plan.reference,
            "n_train": int(np.count_nonzero(~plan.is_test)),
            "n_test": int(np.count_nonzero(plan.is_test)),
            "crossmatch": record,
            "provenance": {
                "source": {
                    "kind": "crossmatch-surveys",
                    "raw_stores": {name: str(store.path) for name, store in stores.items()},
                }
            },
        },
    )
    for name, store in stores.items():
        copy_subset(
            store,
            plan.rows[name],
            paired.path / name,
            "paired",
            {"split": split},
            settings=record,
            workers=settings.workers,
            on_stage=on_stage,
            on_progress=on_progress,
        )
    paired.mark_ready()


def _summary(
    plan: _Plan,
    stores: dict[str, CutoutStore],
    settings: CrossmatchSettings,
    paired: Path,
    summary_path: Path,
) -> dict[str, Any]:
    separations = {
        name: {
            "median_arcsec": float(np.median(values)),
            "max_arcsec": float(np.max(values)),
        }
        for name, values in plan.separation.items()
        if name != plan.reference
    }
    return {
        "galtk_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "settings": asdict(settings),
        "reference": plan.reference,
        "inputs": {
            name: {"store": str(store.path), "objects": store.n_objects, "usable": plan.usable[name]}
            for name, store in stores.items()
        },
        "matched_to_reference": plan.matched,
        "separation": separations,
        "pairs": {
            "total": len(plan.is_test),
            "train": int(np.count_nonzero(~plan.is_test)),
            "test": int(np.count_nonzero(plan.is_test)),
        },
        "outputs": {"paired": str(paired), "summary": str(summary_path)},
    }
