"""``galtk preprocess``: the SPEC section 3 transforms of whole cutout stores, chunked with dask.

For every cutout store (or each member of a paired store) this writes, next to ``images``:

- ``rescaled`` (object, band, y, x): CFHT pixels x 1e-3 (ZP30 ADU to nanomaggies), then the signed square
  root (:func:`galtk.pipeline.preprocess.transforms.rescale`); SDSS pixels only get the square root;
- ``regridded`` (object, band, y_regrid, x_regrid), for surveys given a regrid target (CFHT onto the 64 x 64
  SDSS grid): the rescaled images resampled bilinearly (:class:`galtk.pipeline.preprocess.regrid.RegridMap`).

Bands flagged invalid in ``valid`` are written as NaN whatever their raw pixels hold, and NaN pixels stay NaN
(and make the regridded pixels interpolated from them NaN): invalid data is never turned into zeros.

The work is one dask task per block of whole zarr chunks (:func:`plan_blocks`); each task reads its rows of
``images`` and ``valid``, transforms them and writes the same rows of the new arrays, so every write covers
whole chunks, peak memory is a few blocks per worker whatever the store size, and the result is identical
bit for bit under every scheduler: ``threads``, ``processes``, ``synchronous`` or the address of a
dask.distributed scheduler (whose workers must see the store at the same path).

Safety: the new arrays are written under temporary names and renamed into place when complete, then the
transforms are recorded in the store's ``transforms`` attribute. A store that already has ``rescaled`` is
refused unless ``overwrite`` is given, so nothing is ever rescaled twice, and a store whose ``images`` are not
raw survey pixels is refused outright.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import zarr

from galtk import __version__
from galtk.errors import SchedulerError, StoreError
from galtk.pipeline.crossmatch.stage import check_outputs_whole
from galtk.pipeline.locks import exclusive_lock
from galtk.pipeline.preprocess.regrid import RegridMap, RegridTarget, training_grid
from galtk.pipeline.preprocess.transforms import NANOMAGGIES_PER_UNIT, RESCALED_UNITS, rescale, rescale_record
from galtk.pipeline.stores.cutout_store import CutoutStore, is_store
from galtk.pipeline.stores.paired import PairedStore, is_paired_store
from galtk.pipeline.worker_processes import watch_parent

if TYPE_CHECKING:
    from galtk.pipeline.preprocess.settings import PreprocessSettings
    from galtk.pipeline.workspace import Workspace

log = logging.getLogger(__name__)

RESCALED = "rescaled"
REGRIDDED = "regridded"
REGRID_DIMS = ("y_regrid", "x_regrid")
LOCAL_SCHEDULERS = ("threads", "processes", "synchronous")
#: Target bytes of raw images read by one task.
_TASK_BYTES = 64 * 2**20

ProgressCallback = Callable[[int], None]
StartCallback = Callable[[str, int], None]


@dataclass(frozen=True)
class PreprocessReport:
    """What preprocessing did to one cutout store.

    Attributes
    ----------
    path : Path
        The cutout store (a member directory for paired stores).
    survey : str
    objects : int
        Rows transformed.
    arrays : tuple of str
        Arrays written.
    nonfinite_valid_pixels : int
        NaN or infinite pixels inside bands flagged valid (kept as NaN).
    seconds : float
    """

    path: Path
    survey: str
    objects: int
    arrays: tuple[str, ...]
    nonfinite_valid_pixels: int
    seconds: float


def cutout_stores(path: str | Path) -> list[Path]:
    """The cutout stores at ``path``: the store itself, or the members of a paired store.

    Raises
    ------
    StoreError
        If ``path`` is neither.
    """
    path = Path(path)
    if is_store(path):
        return [path]
    if is_paired_store(path):
        paired = PairedStore.open(path)
        return [paired.member_path(name) for name in paired.surveys]
    if not path.exists():
        raise StoreError(f"{path} does not exist; run `galtk crossmatch` first or give an existing store")
    raise StoreError(f"{path} is not a galtk cutout store or paired store")


def check_preprocessable(path: str | Path, *, overwrite: bool = False) -> None:
    """Refuse what :func:`preprocess` must not transform, before any work starts.

    Raises
    ------
    StoreError
        If a store's ``images`` are not raw survey pixels, or the store is already rescaled and ``overwrite``
        is false.
    """
    for member in cutout_stores(path):
        store = CutoutStore.open(member)
        unit = store.schema.unit
        if unit not in NANOMAGGIES_PER_UNIT or any(
            record.get("array") == "images" for record in store.transforms
        ):
            raise StoreError(
                f"{member} does not hold raw survey pixels (units {unit!r}); preprocess needs a raw or"
                " cross-matched store"
            )
        if not overwrite and (store.has_array(RESCALED) or _recorded(store, RESCALED)):
            when = next(
                (record.get("created", "") for record in store.transforms if record.get("array") == RESCALED),
                "",
            )
            since = f" (since {when})" if when else ""
            raise StoreError(
                f"{member} is already rescaled{since}; rescaling twice would corrupt it, use --overwrite to"
                " recompute it from the raw images"
            )


def preprocess(
    path: str | Path,
    *,
    regrid: Mapping[str, RegridTarget] | None = None,
    scheduler: str = "threads",
    workers: int | None = None,
    overwrite: bool = False,
    finish: bool = False,
    task_objects: int | None = None,
    on_start: StartCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> list[PreprocessReport]:
    """Write ``rescaled`` (and ``regridded``) arrays into a cutout store or each member of a paired store.

    Parameters
    ----------
    path : str or Path
        A cutout store or a paired store.
    regrid : mapping of str to RegridTarget, optional
        Surveys to regrid and their target grid, e.g. ``{"cfht": RegridTarget("sdss", 0.396, 64)}``.
    scheduler : str
        ``"threads"``, ``"processes"``, ``"synchronous"``, or a dask.distributed scheduler address
        (``tcp://host:8786``).
    workers : int, optional
        Threads or processes of a local scheduler (default: one per CPU core).
    overwrite : bool
        Recompute arrays that exist already (from the raw images, never from themselves).
    finish : bool
        Leave out the members already complete (:func:`is_complete`) and compute the others from their raw
        images, whatever they hold (a run killed part-way through): what a plain rerun does.
    task_objects : int, optional
        Rows per task, rounded up to whole chunks (default: about 64 MB of raw images).
    on_start : callable, optional
        Called with (store description, rows) when a store starts.
    on_progress : callable, optional
        Called with a number of rows after each finished task.

    Returns
    -------
    list of PreprocessReport
        One per cutout store transformed.

    Raises
    ------
    StoreError
        If the store is already rescaled (and ``overwrite`` is false) or holds no raw pixels.
    SchedulerError
        If the scheduler is unknown or cannot be reached.
    """
    with exclusive_lock(Path(path)):
        regrid = dict(regrid or {})
        todo = list(cutout_stores(path))
        if finish:
            todo = [member for member in todo if not is_complete(member, regrid)]
        check_preprocessable(path, overwrite=overwrite or finish)
        reports = []
        with dask_scheduler(scheduler, workers=workers) as run:
            for member in todo:
                reports.append(
                    _preprocess_store(
                        member,
                        regrid=regrid,
                        run=run,
                        scheduler=scheduler,
                        task_objects=task_objects,
                        on_start=on_start,
                        on_progress=on_progress,
                    )
                )
        if is_paired_store(path):
            PairedStore.open(path).consolidate()
        return reports


def plan_blocks(
    n_objects: int, chunk_objects: int, row_bytes: int, task_objects: int | None = None
) -> list[tuple[int, int]]:
    """Row ranges of the tasks: whole chunks, about 64 MB of images each (or ``task_objects`` rows).

    Parameters
    ----------
    n_objects, chunk_objects : int
        Rows of the store and rows per zarr chunk.
    row_bytes : int
        Bytes of one row of images.
    task_objects : int, optional
        Rows per task, rounded up to whole chunks.

    Returns
    -------
    list of (int, int)
        ``(start, stop)`` of each task.
    """
    if task_objects is None:
        chunks_per_task = max(1, _TASK_BYTES // (chunk_objects * row_bytes))
    else:
        chunks_per_task = max(1, -(-task_objects // chunk_objects))
    step = chunks_per_task * chunk_objects
    return [(start, min(start + step, n_objects)) for start in range(0, n_objects, step)]


def _preprocess_store(
    path: Path,
    *,
    regrid: dict[str, RegridTarget],
    run: Callable[[list[Any], ProgressCallback | None], list[Any]],
    scheduler: str,
    task_objects: int | None,
    on_start: StartCallback | None,
    on_progress: ProgressCallback | None,
) -> PreprocessReport:
    started = time.perf_counter()
    store = CutoutStore.open(path, mode="r+")
    schema = store.schema
    target = regrid.get(schema.survey)
    mapping = (
        RegridMap.between_cutouts(
            from_scale=schema.pixel_scale,
            from_size=schema.cutout_size,
            to_scale=target.pixel_scale,
            to_size=target.size,
        )
        if target
        else None
    )
    steps = rescale_record(schema.unit)
    temporaries = {
        RESCALED: store.create_image_array(
            RESCALED,
            attributes={
                "units": RESCALED_UNITS,
                "physical_units": "nanomaggy",
                "long_name": f"{schema.survey} cutouts, rescaled (SPEC section 3)",
                "transforms": steps,
                "inverse": "galtk.pipeline.preprocess.transforms.inverse_rescale",
            },
        )
    }
    regrid_step: dict[str, Any] = {}
    if target and mapping:
        regrid_step = {
            "name": "bilinear_regrid",
            "from_pixel_scale": schema.pixel_scale,
            "from_size": schema.cutout_size,
            "to_survey": target.survey,
            "to_pixel_scale": target.pixel_scale,
            "to_size": target.size,
            "grid": "north-up TAN centred on the object",
        }
        temporaries[REGRIDDED] = store.create_image_array(
            REGRIDDED,
            size=target.size,
            dims=REGRID_DIMS,
            attributes={
                "units": RESCALED_UNITS,
                "physical_units": "nanomaggy",
                "long_name": f"{schema.survey} rescaled cutouts on the {target.survey} grid",
                "pixel_scale": target.pixel_scale,
                "pixel_scale_unit": "arcsec/pixel",
                "cutout_size": target.size,
                "transforms": [*steps, regrid_step],
                "inverse": "galtk.pipeline.preprocess.transforms.inverse_rescale",
            },
        )
    row_bytes = 4 * int(np.prod(schema.image_shape))
    blocks = plan_blocks(store.n_objects, schema.chunk_objects, row_bytes, task_objects)
    if on_start:
        on_start(
            f"{path.parent.name}/{path.name}" if is_paired_store(path.parent) else path.name, store.n_objects
        )
    tasks = [
        (_transform_block, str(path), start, stop, schema.unit, temporaries, mapping)
        for start, stop in blocks
    ]
    log.info(
        "%s: %d rows in %d tasks (%s), arrays %s",
        path,
        store.n_objects,
        len(tasks),
        scheduler,
        list(temporaries),
    )
    results = run(tasks, on_progress)
    nonfinite = int(sum(result[1] for result in results))
    for name, temporary in temporaries.items():
        store.install_array(temporary, name)
    created = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    common = {"created": created, "galtk_version": __version__, "scheduler": _describe(scheduler)}
    store.add_transform(
        {"array": RESCALED, "input": "images", "steps": steps, "units": RESCALED_UNITS, **common},
        replace=True,
    )
    if regrid_step:
        store.add_transform(
            {
                "array": REGRIDDED,
                "input": RESCALED,
                "steps": [regrid_step],
                "units": RESCALED_UNITS,
                **common,
            },
            replace=True,
        )
    return PreprocessReport(
        path=path,
        survey=schema.survey,
        objects=store.n_objects,
        arrays=tuple(temporaries),
        nonfinite_valid_pixels=nonfinite,
        seconds=time.perf_counter() - started,
    )


def _transform_block(
    path: str,
    start: int,
    stop: int,
    unit: str,
    temporaries: dict[str, str],
    mapping: RegridMap | None,
) -> tuple[int, int]:
    """One task: rows ``start:stop`` of ``images`` -> the same rows of the temporary output arrays."""
    group = zarr.open_group(path, mode="r+", zarr_format=3, use_consolidated=False)
    images = group["images"][start:stop]
    valid = group["valid"][start:stop]
    rescaled = rescale(images, unit)  # float64 work in cache-sized pieces, float32 out
    del images
    rescaled[~valid] = np.nan
    pixels = rescaled.shape[2] * rescaled.shape[3]
    nonfinite = int(np.count_nonzero(~np.isfinite(rescaled))) - int(np.count_nonzero(~valid)) * pixels
    group[temporaries[RESCALED]][start:stop] = rescaled
    if mapping is not None:
        group[temporaries[REGRIDDED]][start:stop] = mapping.apply(rescaled)
    return stop - start, nonfinite


@contextmanager
def dask_scheduler(
    scheduler: str, *, workers: int | None = None
) -> Iterator[Callable[[list[Any], ProgressCallback | None], list[Any]]]:
    """A function that runs task tuples ``(function, *args)`` with dask on ``scheduler``, in order.

    Parameters
    ----------
    scheduler : str
        ``"threads"``, ``"processes"``, ``"synchronous"`` or a dask.distributed scheduler address.
    workers : int, optional
        Workers of a local scheduler (default: one per CPU core); ignored for a distributed one.

    Yields
    ------
    callable
        ``run(tasks, on_progress)`` returns the task results in order and calls ``on_progress`` with the first
        element of each result as tasks finish.

    Raises
    ------
    SchedulerError
        If the scheduler is not known or its address cannot be reached.
    """
    import dask

    scheduler = check_scheduler(scheduler)
    if scheduler in LOCAL_SCHEDULERS:
        num_workers = workers or os.cpu_count() or 1
        pool: Executor | None = None
        if scheduler == "processes":  # one pool of worker processes for every store, not one per store
            from dask.multiprocessing import get_context

            pool = ProcessPoolExecutor(
                num_workers, mp_context=get_context(), initializer=watch_parent, initargs=(os.getpid(),)
            )
        elif scheduler == "threads":
            pool = ThreadPoolExecutor(num_workers, thread_name_prefix="galtk-preprocess")

        def run_local(tasks: list[Any], on_progress: ProgressCallback | None) -> list[Any]:
            from dask.callbacks import Callback

            delayed = [dask.delayed(task[0], pure=False)(*task[1:]) for task in tasks]

            def posttask(key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
                if on_progress and isinstance(result, tuple):
                    on_progress(result[0])

            options: dict[str, Any] = {"pool": pool} if pool else {}
            with Callback(posttask=posttask):
                return list(dask.compute(*delayed, scheduler=scheduler, num_workers=num_workers, **options))

        try:
            yield run_local
        finally:
            if pool:
                pool.shutdown(wait=True, cancel_futures=True)
        return
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise SchedulerError(
            "a scheduler address needs the dask.distributed package (pip install distributed)"
        ) from None
    try:
        client = Client(scheduler, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise SchedulerError(f"cannot connect to the dask scheduler at {scheduler}: {error}") from None

    def run_distributed(tasks: list[Any], on_progress: ProgressCallback | None) -> list[Any]:
        futures = [client.submit(task[0], *task[1:], pure=False) for task in tasks]
        for future in as_completed(futures, loop=client.loop):
            result = future.result()
            if on_progress:
                on_progress(result[0])
        return client.gather(futures)

    try:
        yield run_distributed
    finally:
        client.close()


def check_scheduler(scheduler: str) -> str:
    """Validate a ``--scheduler`` value (a local scheduler name or an address) and return it stripped.

    Raises
    ------
    SchedulerError
        If it is neither a local scheduler nor something that looks like an address (``host:port``).
    """
    scheduler = scheduler.strip()
    if scheduler in LOCAL_SCHEDULERS or "://" in scheduler or ":" in scheduler:
        return scheduler
    raise SchedulerError(
        f"unknown scheduler {scheduler!r}; use threads, processes, synchronous, or the address of a"
        " dask.distributed scheduler such as tcp://host:8786"
    )


def _recorded(store: CutoutStore, array: str) -> bool:
    return any(record.get("array") == array for record in store.transforms)


def _describe(scheduler: str) -> str:
    return scheduler if scheduler in LOCAL_SCHEDULERS else "dask.distributed"


def is_complete(member: Path, regrid: Mapping[str, RegridTarget]) -> bool:
    """Whether a cutout store holds every array preprocessing writes into it, recorded as finished."""
    store = CutoutStore.open(member)
    last = REGRIDDED if store.schema.survey in regrid else RESCALED
    return store.has_array(last) and _recorded(store, last)


def preprocess_many(
    paths: Sequence[str | Path],
    *,
    overwrite: bool = False,
    **options: Any,
) -> list[PreprocessReport]:
    """Preprocess several stores after checking all of them first (nothing starts if one is refused).

    Without ``overwrite``, stores already complete are left out as long as one is not (a rerun after a run
    killed part-way through completes the rest); when every one is complete, the first is refused as
    already rescaled.

    Parameters
    ----------
    paths : sequence of str or Path
        Cutout or paired stores.
    overwrite : bool
        Recompute existing ``rescaled``/``regridded`` arrays.
    **options
        Passed to :func:`preprocess`.

    Returns
    -------
    list of PreprocessReport
    """
    regrid = dict(options.get("regrid") or {})
    members = [member for path in paths for member in cutout_stores(path)]
    finish = not overwrite and not all(is_complete(member, regrid) for member in members)
    for path in paths:
        check_preprocessable(path, overwrite=overwrite or finish)
    reports: list[PreprocessReport] = []
    for path in paths:
        reports.extend(preprocess(path, overwrite=overwrite, finish=finish, **options))
    return reports


def workspace_stores(workspace: Workspace, settings: PreprocessSettings | None = None) -> list[Path]:
    """The stores ``galtk preprocess`` works on: ``[preprocess] stores``, else the cross-match outputs."""
    settings = settings or workspace.config.preprocess
    if settings.stores:
        return [workspace.output(path, "[preprocess] stores") for path in settings.stores]
    outputs = workspace.crossmatch_outputs()
    check_outputs_whole(outputs)
    return [outputs.paired, *outputs.unpaired.values()]


def preprocess_workspace(
    workspace: Workspace,
    settings: PreprocessSettings | None = None,
    *,
    overwrite: bool = False,
    on_start: Callable[[str, int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[PreprocessReport]:
    """Rescale the stores of a workspace and regrid CFHT onto the SDSS grid (``galtk preprocess``).

    Parameters
    ----------
    workspace : Workspace
        The loaded workspace.
    settings : PreprocessSettings, optional
        Stores, scheduler and workers (default: ``[preprocess]`` of its galtk.toml).
    overwrite : bool, optional
        Recompute existing ``rescaled``/``regridded`` arrays.
    on_start, on_progress : callable, optional
        As for :func:`preprocess`.

    Returns
    -------
    list of PreprocessReport

    Raises
    ------
    StoreError
        If a store is missing, or already preprocessed and ``overwrite`` is false (checked before any work).
    SchedulerError
        If the scheduler cannot be used.
    """
    settings = settings or workspace.config.preprocess
    scheduler = check_scheduler(settings.scheduler)
    surveys = {name: workspace.survey(name) for name in workspace.config.surveys}
    return preprocess_many(
        workspace_stores(workspace, settings),
        overwrite=overwrite,
        regrid=training_grid(surveys),
        scheduler=scheduler,
        workers=settings.workers or None,
        on_start=on_start,
        on_progress=on_progress,
    )
