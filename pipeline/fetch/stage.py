"""The fetch engine: fill a survey's cutout store from a cutout source, resumably and in parallel.

The store is pre-allocated for every object the source lists, then pending rows are produced in batches
aligned to the store's chunks (so no two batches share a chunk file), by a pool of worker threads, and
written by the calling thread: pixels first, row states last. Re-running with ``resume=True`` completes a
store that a killed run left behind; ``overwrite=True`` builds the new store beside the old one and swaps
them only once it is complete, so a failure never destroys the previous store.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from galtk.errors import ConfigError, StoreError, UsageError
from galtk.pipeline.locks import exclusive_lock
from galtk.pipeline.replace import (
    recover_interrupted_swap,
    remove_leftover,
    staging_path,
    swap_in,
    write_text_atomic,
)
from galtk.pipeline.sources.base import CutoutSource, ObjectList
from galtk.pipeline.stores.cutout_store import (
    STATE_DONE,
    STATE_FAILED,
    CutoutBatch,
    CutoutStore,
    StoreSchema,
    is_ready,
    is_store,
    remove_store,
)
from galtk.pipeline.surveys import SurveySpec
from galtk.pipeline.worker_processes import watch_parent

if TYPE_CHECKING:
    from galtk.pipeline.workspace import Workspace

log = logging.getLogger(__name__)

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class FetchReport:
    """What one fetch did.

    Attributes
    ----------
    survey : str
    path : Path
        The store.
    objects, done, failed, pending : int
        Row counts in the store after the run.
    rejected : int
        Objects of the input sample the source could not provide (no row in the store).
    written : int
        Rows written by this run.
    seconds : float
        Wall-clock duration.
    failures_csv : Path or None
        CSV listing every rejected object and failed row with its reason, when there are any.
    """

    survey: str
    path: Path
    objects: int
    done: int
    failed: int
    pending: int
    rejected: int
    written: int
    seconds: float
    failures_csv: Path | None = None


def fetch_survey(
    source: CutoutSource,
    survey: SurveySpec,
    path: str | Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    retry_failed: bool = False,
    batch_size: int = 256,
    workers: int = 2,
    chunk_objects: int = 32,
    on_start: Callable[[int, int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> FetchReport:
    """Fill the cutout store at ``path`` with ``source``'s cutouts of ``survey``.

    Parameters
    ----------
    source : CutoutSource
        Where objects and pixels come from.
    survey : SurveySpec
        Survey (bands, cutout grid, unit).
    path : str or Path
        Store directory.
    resume : bool
        Complete an existing store made by the same source with the same settings.
    overwrite : bool
        Replace an existing store (the old one stays until the new one is complete).
    retry_failed : bool
        With ``resume``, produce the rows that failed in earlier runs again too.
    batch_size : int
        Rows per batch; rounded up to a multiple of ``chunk_objects``.
    workers : int
        Threads producing batches in parallel.
    chunk_objects : int
        Objects per images chunk of a new store.
    on_start : callable, optional
        Called once with (rows in the store, rows still to write).
    on_progress : callable, optional
        Called with the number of rows after each written batch.
    on_bytes : callable, optional
        Called with the size of each block of bytes the source downloads.

    Returns
    -------
    FetchReport

    Raises
    ------
    StoreError
        If ``path`` exists and neither ``resume`` nor ``overwrite`` is set, if it is not a galtk store, or if
        it was made by a different source or settings.
    """
    if batch_size < 1 or workers < 1 or chunk_objects < 1:
        raise ValueError("batch_size, workers and chunk_objects must be positive")
    path = Path(path)
    with exclusive_lock(path):
        return _fetch_locked(
            source,
            survey,
            path,
            resume=resume,
            overwrite=overwrite,
            retry_failed=retry_failed,
            batch_size=batch_size,
            workers=workers,
            chunk_objects=chunk_objects,
            on_start=on_start,
            on_progress=on_progress,
            on_bytes=on_bytes,
        )


#: The most memory the cutouts in flight of one fetch may take (bytes): beyond it a fetch is refused at start.
MAX_BATCH_BYTES = 8 * 2**30


def check_batch_memory(survey: SurveySpec, batch_size: int, workers: int, chunk_objects: int) -> None:
    """Refuse settings whose cutouts in flight would not fit in memory, before any work starts.

    Each of ``workers`` produces a batch of ``batch_size`` rows rounded up to whole chunks, and one more is
    written, each a float32 array of ``bands x cutout_size x cutout_size`` per row.

    Parameters
    ----------
    survey : SurveySpec
        The survey's bands and cutout grid.
    batch_size, workers, chunk_objects : int
        The ``[fetch]`` settings (or their flags).

    Raises
    ------
    ConfigError
        If those batches would take more than :data:`MAX_BATCH_BYTES`; the message says which settings to
        lower.
    """
    rows = -(-batch_size // chunk_objects) * chunk_objects
    cutout = len(survey.bands) * survey.cutout_size**2 * 4
    needed = rows * (workers + 1) * cutout
    if needed > MAX_BATCH_BYTES:
        raise ConfigError(
            f"[surveys.{survey.name}] cutout_size = {survey.cutout_size} with [fetch] batch_size = "
            f"{batch_size}, workers = {workers} and chunk_objects = {chunk_objects} would hold "
            f"{needed / 2**30:.3g} GiB of cutouts in memory (at most {MAX_BATCH_BYTES / 2**30:.0f} GiB); "
            "lower them"
        )


def _fetch_locked(
    source: CutoutSource,
    survey: SurveySpec,
    path: Path,
    *,
    resume: bool,
    overwrite: bool,
    retry_failed: bool,
    batch_size: int,
    workers: int,
    chunk_objects: int,
    on_start: Callable[[int, int], None] | None,
    on_progress: Callable[[int], None] | None,
    on_bytes: Callable[[int], None] | None,
) -> FetchReport:
    """:func:`fetch_survey` while holding the store's lock."""
    started = time.perf_counter()
    recover_interrupted_swap(path, accept=is_store)
    remove_leftover(staging_path(path))  # a killed --overwrite's partial store
    objects = source.objects(survey)
    if len(objects) == 0:
        raise StoreError(f"the {source.name} source has no {survey.name} objects to fetch")
    description = _normalise(source.describe())

    target = path
    if path.exists():
        if not is_store(path):
            raise StoreError(f"{path} exists and is not a galtk cutout store; choose another path")
        if overwrite:
            target = staging_path(path)
        elif not resume:
            raise StoreError(
                f"{path} already exists; use --resume to complete it or --overwrite to replace it"
            )
        elif not is_ready(path):
            log.info("%s was interrupted while being created; starting it again", path)
            remove_store(path)

    if target.exists():
        _check_same_origin(CutoutStore.open(target), survey, objects, description)
        store = CutoutStore.open(target, mode="r+")
    else:
        # A new store is created next to its path and renamed into place once complete, so that a kill
        # during creation leaves only a leftover that the next run removes (a new --overwrite store is
        # already a staging path).
        creating = staging_path(target) if target == path else target
        schema = StoreSchema.for_survey(survey, chunk_objects=chunk_objects, extras=source.extras(survey))
        CutoutStore.create(
            creating, schema, ra=objects.ra, dec=objects.dec, ids=objects.ids, source=description
        )
        if creating != target:
            os.replace(creating, target)
        store = CutoutStore.open(target, mode="r+")

    todo = np.flatnonzero(store.state != STATE_DONE) if retry_failed else store.pending()
    if on_bytes is not None:
        source.watch_bytes(on_bytes)
    if on_start:
        on_start(store.n_objects, len(todo))
    written = 0
    step = -(-batch_size // store.schema.chunk_objects) * store.schema.chunk_objects
    runs = list(_aligned_runs(todo, step))
    try:
        with _worker_pool(source, survey, objects, workers if runs else 1) as (pool, produce):
            in_flight: deque[tuple[int, Future]] = deque()
            for start, stop in runs:
                in_flight.append((start, pool.submit(produce, np.arange(start, stop))))
                if len(in_flight) >= 2 * workers:
                    written += _write_next(store, in_flight, on_progress)
            while in_flight:
                written += _write_next(store, in_flight, on_progress)
        pending = len(store.pending()) if target != path else 0
        if pending:
            raise StoreError(f"{target} still has {pending} pending rows; {path} was left as it was")
    except BaseException:
        if target != path:  # an --overwrite's new store: it would only take space (a full disk...)
            remove_leftover(target)
        raise

    if target != path:
        swap_in(target, path)
        store = CutoutStore.open(path)
    counts = store.counts()
    failures_csv = write_failures(store, objects.rejected, failures_path(path))
    return FetchReport(
        survey=survey.name,
        path=path,
        objects=counts["objects"],
        done=counts["done"],
        failed=counts["failed"],
        pending=counts["pending"],
        rejected=len(objects.rejected),
        written=written,
        seconds=time.perf_counter() - started,
        failures_csv=failures_csv,
    )


def failures_path(store_path: Path) -> Path:
    """Where the failures of the store at ``store_path`` are listed (``NAME.failures.csv`` beside it)."""
    return store_path.with_name(store_path.name.removesuffix(".zarr") + ".failures.csv")


def write_failures(
    store: CutoutStore, rejected: tuple[tuple[str, float, float, str], ...], path: Path
) -> Path | None:
    """List rejected objects and failed rows (id, ra, dec, reason) in a CSV; remove a stale one if none."""
    failed = np.flatnonzero(store.state == STATE_FAILED)
    if not rejected and not len(failed):
        path.unlink(missing_ok=True)
        return None
    has_error = any(extra.name == "error" for extra in store.schema.extras)
    reasons = store.extra("error")[failed] if has_error else np.full(len(failed), "failed")
    ids, ra, dec = store.ids, store.ra, store.dec
    rows = [
        (str(ids[i]), float(ra[i]), float(dec[i]), str(reason))
        for i, reason in zip(failed, reasons, strict=True)
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "ra", "dec", "reason"])
    writer.writerows([*rejected, *rows])
    write_text_atomic(path, buffer.getvalue())
    return path


@contextmanager
def _worker_pool(
    source: CutoutSource, survey: SurveySpec, objects: ObjectList, workers: int
) -> Iterator[tuple[Executor, Callable[[np.ndarray], CutoutBatch]]]:
    """Threads for I/O-bound sources and single workers; processes for CPU-bound sources.

    Worker processes start from a fork server (no inherited threads or locks) and receive the source, survey
    and object list once, when they start, rather than with every batch. Their numerical libraries run one
    thread each (unless the user set the thread variables), since the processes already share the cores:
    with BLAS threads in every process, 2 workers on 2 cores were slower than 1 (benchmarks/fits_cutouts.py).
    """
    if source.parallelism == "processes" and workers > 1:
        for variable in _THREAD_VARIABLES:  # inherited by the fork server and its workers
            os.environ.setdefault(variable, "1")
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(source, survey, objects, os.getpid()),
        ) as pool:
            yield pool, _produce_in_worker
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="galtk-fetch") as pool:
            yield pool, functools.partial(source.cutouts, survey, objects)


_WORKER_JOB: tuple[CutoutSource, SurveySpec, ObjectList] | None = None


def _start_worker(source: CutoutSource, survey: SurveySpec, objects: ObjectList, parent: int) -> None:
    global _WORKER_JOB
    _WORKER_JOB = (source, survey, objects)
    watch_parent(parent)


def _produce_in_worker(rows: np.ndarray) -> CutoutBatch:
    assert _WORKER_JOB is not None, "worker process started without its job"
    source, survey, objects = _WORKER_JOB
    return source.cutouts(survey, objects, rows)


def _write_next(
    store: CutoutStore, in_flight: deque[tuple[int, Future]], on_progress: Callable[[int], None] | None
) -> int:
    start, future = in_flight.popleft()
    batch = future.result()
    store.write_rows(start, batch)
    if on_progress:
        on_progress(len(batch))
    return len(batch)


def _aligned_runs(indices: np.ndarray, step: int) -> Iterator[tuple[int, int]]:
    """Split sorted row indices into contiguous runs that never cross a multiple of ``step``."""
    if len(indices) == 0:
        return
    breaks = np.flatnonzero((np.diff(indices) != 1) | (indices[1:] // step != indices[:-1] // step)) + 1
    for run in np.split(indices, breaks):
        yield int(run[0]), int(run[-1]) + 1


def _normalise(description: object) -> dict:
    """Round-trip through JSON so descriptions compare equal to what a store's attributes return."""
    return json.loads(json.dumps(description))


def _check_same_origin(
    store: CutoutStore, survey: SurveySpec, objects: ObjectList, description: dict
) -> None:
    stored = store.attrs.get("provenance", {}).get("source")
    schema = store.schema
    if (
        stored != description
        or schema.survey != survey.name
        or schema.bands != tuple(survey.bands)
        or schema.cutout_size != survey.cutout_size
        or schema.pixel_scale != survey.pixel_scale
    ):
        raise StoreError(
            f"{store.path} was made by a different source or settings; use --overwrite to replace it"
        )
    if store.n_objects != len(objects) or not np.array_equal(
        store.ids, np.asarray(objects.ids, dtype=object)
    ):
        raise StoreError(f"{store.path} holds a different object list; use --overwrite to replace it")


@dataclass(frozen=True)
class FetchCallbacks:
    """Progress of one survey's fetch (see :func:`fetch_survey`'s ``on_*`` parameters)."""

    on_start: Callable[[int, int], None] | None = None
    on_progress: Callable[[int], None] | None = None
    on_bytes: Callable[[int], None] | None = None


def fetch_workspace(
    workspace: Workspace,
    surveys: Sequence[str] = (),
    *,
    source: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    retry_failed: bool = False,
    batch_size: int | None = None,
    workers: int | None = None,
    callbacks: Callable[[str, str], FetchCallbacks] | None = None,
) -> list[FetchReport]:
    """Fetch the raw store of each survey of a workspace (``galtk fetch``).

    Parameters
    ----------
    workspace : Workspace
        The loaded workspace: its ``[surveys.NAME]`` tables and ``[fetch]`` settings.
    surveys : sequence of str, optional
        Surveys to fetch (default: every survey of ``galtk.toml``), one after the other.
    source : str, optional
        Source of every survey instead of its ``source`` setting.
    resume, overwrite, retry_failed : bool, optional
        As for :func:`fetch_survey`; ``resume`` and ``overwrite`` exclude each other.
    batch_size, workers : int, optional
        Instead of the ``[fetch]`` settings.
    callbacks : callable, optional
        Called with a survey's name and its source's name when its fetch starts; returns that fetch's
        progress callbacks.

    Returns
    -------
    list of FetchReport
        One per survey, in order.

    Raises
    ------
    UsageError
        If ``resume`` and ``overwrite`` are both given.
    ConfigError
        If a survey is unknown or the workspace declares none, or a source's settings are incomplete.
    """
    from galtk.pipeline.sources import build_source

    if resume and overwrite:
        raise UsageError("--resume and --overwrite exclude each other")
    names = list(surveys) or list(workspace.config.surveys)
    if not names:
        raise ConfigError(
            "galtk.toml declares no survey; add a [surveys.NAME] table (`galtk init --surveys` writes them)"
        )
    settings = workspace.config.fetch
    for name in names:
        workspace.survey_section(name)  # unknown survey names fail before any work starts
        check_batch_memory(
            workspace.survey(name),
            batch_size or settings.batch_size,
            workers or settings.workers,
            settings.chunk_objects,
        )
    reports = []
    for name in names:
        cutout_source = build_source(source or workspace.survey_section(name).source, workspace, name)
        hooks = callbacks(name, cutout_source.name) if callbacks else FetchCallbacks()
        reports.append(
            fetch_survey(
                cutout_source,
                workspace.survey(name),
                workspace.store_path(name),
                resume=resume,
                overwrite=overwrite,
                retry_failed=retry_failed,
                batch_size=batch_size or settings.batch_size,
                workers=workers or settings.workers,
                chunk_objects=settings.chunk_objects,
                on_start=hooks.on_start,
                on_progress=hooks.on_progress,
                on_bytes=hooks.on_bytes,
            )
        )
    return reports
