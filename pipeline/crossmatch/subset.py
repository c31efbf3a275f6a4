"""Copy chosen rows of a cutout store into another, chunk by chunk (cross-match outputs).

The target store is pre-allocated with one row per chosen source row. It is filled in slabs of whole target
chunks: a pool of threads reads the source rows of each slab (sorted, so every source chunk a slab touches is
read once), the calling thread writes the slab, pixels first and row states last, exactly like a fetch. Memory
is bounded by a few slabs (about 32 MB each), never by the size of the store.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from galtk.pipeline.stores.cutout_store import CutoutBatch, CutoutStore

#: Target bytes of images per slab.
_SLAB_BYTES = 32 * 2**20


def copy_rows(
    source: CutoutStore,
    rows: np.ndarray,
    target: CutoutStore,
    *,
    extras: Mapping[str, np.ndarray] | None = None,
    workers: int = 2,
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """Write ``source`` rows ``rows[k]`` to ``target`` row ``k``, for every k.

    Parameters
    ----------
    source : CutoutStore
        Store to read.
    rows : ndarray of int
        Source row of each target row (distinct; any order).
    target : CutoutStore
        Pre-allocated store with ``len(rows)`` rows, the same bands and cutout size as ``source``, and every
        extra array of ``source`` plus those in ``extras``.
    extras : mapping of str to ndarray, optional
        Values of the target's additional extra arrays, one per target row.
    workers : int
        Threads reading slabs.
    on_progress : callable, optional
        Called with the number of rows after each written slab.
    """
    rows = np.asarray(rows, dtype=np.int64)
    extras = dict(extras or {})
    if target.n_objects != len(rows):
        raise ValueError(f"target has {target.n_objects} rows, expected {len(rows)}")
    if target.schema.image_shape != source.schema.image_shape:
        raise ValueError("source and target cutouts differ in bands or size")
    if any(len(values) != len(rows) for values in extras.values()):
        raise ValueError("every extra must have one value per copied row")
    chunk = target.schema.chunk_objects
    row_bytes = 4 * int(np.prod(target.schema.image_shape))
    slab = chunk * max(1, _SLAB_BYTES // (chunk * row_bytes))
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="galtk-copy") as pool:
        in_flight: deque[tuple[int, Future[CutoutBatch]]] = deque()
        for start in range(0, len(rows), slab):
            stop = min(start + slab, len(rows))
            in_flight.append((start, pool.submit(_read_slab, source, rows[start:stop])))
            if len(in_flight) >= 2 * max(1, workers):
                _write_next(target, in_flight, extras, on_progress)
        while in_flight:
            _write_next(target, in_flight, extras, on_progress)


def _read_slab(source: CutoutStore, rows: np.ndarray) -> CutoutBatch:
    order = np.argsort(rows, kind="stable")
    batch = source.read(rows[order])
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    return CutoutBatch(
        images=batch.images[back],
        valid=batch.valid[back],
        state=batch.state[back],
        extras={name: values[back] for name, values in batch.extras.items()},
    )


def _write_next(
    target: CutoutStore,
    in_flight: deque[tuple[int, Future[CutoutBatch]]],
    extras: dict[str, np.ndarray],
    on_progress: Callable[[int], None] | None,
) -> None:
    start, future = in_flight.popleft()
    batch = future.result()
    stop = start + len(batch)
    batch.extras.update({name: np.asarray(values)[start:stop] for name, values in extras.items()})
    target.write_rows(start, batch)
    if on_progress:
        on_progress(len(batch))
