"""Training batches drawn from the cross-match and preprocess outputs (SPEC section 6).

:class:`StoreBatchSource` gives every iteration of ``galtk train`` its :class:`TrainingBatch`: 24 unpaired
SDSS, 24 unpaired CFHT and 24 training pairs by default, each rotated by k x 90 degrees after an optional
mirror (the same symmetry for both images of a pair). What a batch holds depends only on ``(seed, rank,
iteration)`` (:mod:`galtk.models.training.batches.sampling`), so a resumed run reproduces the batches of an
uninterrupted one.

Images come from the ``rescaled`` arrays (``regridded`` CFHT for the methods trained on the SDSS grid) of the
training rows selected by :mod:`galtk.models.training.batches.training_sets`, minus rows with a non-finite
pixel, which are found by reading every training image once when the data are opened. Each set is either held
in the memory of the training device (when asked, or automatically when it fits
:func:`default_memory_budget`), or streamed: every batch reads its rows straight from the zarr chunk files
(:class:`galtk.models.training.batches.row_reader.ChunkRowReader`) into pinned memory and copies them to the
GPU asynchronously; :meth:`StoreBatchSource.batches` prepares the next batches in background threads.
Rotations and mirrors run on the training device. Both modes give the same batches bit for bit.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np
import torch

from galtk.errors import TrainingDataError
from galtk.models.training.batches.row_reader import ChunkRowReader, scan_rows
from galtk.models.training.batches.sampling import BatchPlan, BatchSampler, apply_symmetries
from galtk.models.training.batches.training_sets import (
    NONFINITE,
    RESCALED,
    SET_NAMES,
    ImageArray,
    TrainingSet,
    check_not_empty,
    drop_rows,
    open_training_sets,
)
from galtk.pipeline.surveys import SDSS

log = logging.getLogger(__name__)

#: Share of the training device's memory that automatic mode fills with training images at most.
MEMORY_SHARE = 0.25
SAMPLING = (
    "without replacement: one permutation of each set per epoch (seed, set, epoch), shared by the ranks;"
    " iteration i of rank r takes the next batch-size rows at (i * world_size + r) * batch_size"
)
AUGMENTATION = (
    "one of the 8 symmetries of the square per sample, uniform: optional left-right mirror, then k quarter"
    " turns (k = 0..3) about the cutout centre; both images of a pair share it"
)


@dataclass
class TrainingBatch:
    """The images of one training iteration: unpaired SDSS, unpaired CFHT and training pairs.

    X is SDSS, Y is CFHT. All tensors are float32 (B, C, H, W) in the rescaled units of SPEC section 3.

    Attributes
    ----------
    sdss : torch.Tensor
        Unpaired SDSS images (X), (B_unpaired, C, 64, 64).
    cfht : torch.Tensor
        Unpaired CFHT images (Y), (B_unpaired, C, S, S) with S = 136 (``rescaled``) or 64 (``regridded``).
    pair_sdss : torch.Tensor
        SDSS half of the training pairs, (B_pairs, C, 64, 64).
    pair_cfht : torch.Tensor
        CFHT half of the same pairs, row by row, (B_pairs, C, S, S), with the same rotation and flip.
    """

    sdss: torch.Tensor
    cfht: torch.Tensor
    pair_sdss: torch.Tensor
    pair_cfht: torch.Tensor

    def to(self, device: torch.device | str, non_blocking: bool = False) -> TrainingBatch:
        """The same batch on ``device``.

        Parameters
        ----------
        device : torch.device or str
            Target device.
        non_blocking : bool, optional
            Copy asynchronously from pinned memory.

        Returns
        -------
        TrainingBatch
        """
        return TrainingBatch(
            *(getattr(self, name).to(device, non_blocking=non_blocking) for name in self.fields())
        )

    @staticmethod
    def fields() -> tuple[str, ...]:
        """Names of the four image tensors, in order."""
        return ("sdss", "cfht", "pair_sdss", "pair_cfht")


class TrainingCounts(NamedTuple):
    """Rows each training set draws from."""

    unpaired_sdss: int
    unpaired_cfht: int
    train_pairs: int


class _ImageColumn(Protocol):
    """Where the images of one array of a training set come from."""

    image_shape: tuple[int, int, int]

    def gather(self, positions: np.ndarray) -> torch.Tensor:
        """Images of the set's rows ``positions`` on the training device, in that order."""
        ...


class _MemoryColumn:
    """Images held on the training device (a NumPy array on the CPU, where its indexing is fastest)."""

    def __init__(self, images: torch.Tensor) -> None:
        self.images = images
        self.host = images.numpy() if images.device.type == "cpu" else None
        self.image_shape = tuple(images.shape[1:])

    def gather(self, positions: np.ndarray) -> torch.Tensor:
        if self.host is not None:
            return torch.from_numpy(self.host[positions])
        return self.images.index_select(0, torch.from_numpy(positions).to(self.images.device))


class _StreamColumn:
    """Images read from a zarr array for every batch, through pinned memory when the device is a GPU."""

    def __init__(self, array: ImageArray, rows: np.ndarray, device: torch.device) -> None:
        self.reader = ChunkRowReader(array.array)
        self.rows = rows
        self.device = device
        self.image_shape = array.image_shape
        self.pinned = device.type == "cuda"

    def gather(self, positions: np.ndarray) -> torch.Tensor:
        host = torch.empty((len(positions), *self.image_shape), dtype=torch.float32, pin_memory=self.pinned)
        self.reader.read_into(self.rows[positions], host.numpy())
        return host.to(self.device, non_blocking=self.pinned)


@dataclass
class _SetSource:
    """One training set ready to be sampled: its columns (one, or SDSS and CFHT for pairs) and description."""

    name: str
    columns: tuple[_ImageColumn, ...]
    rows: np.ndarray
    info: dict[str, Any]


class StoreBatchSource:
    """The batch source of a stage read from the stores: its training images and the batch of every iteration.

    Build it with :meth:`open` (the cross-match and preprocess outputs) or :meth:`from_arrays` (arrays in
    memory, for tests and the demo).

    Attributes
    ----------
    bands : tuple of str
        Band names, in channel order.
    input_bands : tuple of str
        Channel names of the SDSS side, when they differ from ``bands`` (several input surveys concatenated
        for multi-input translation); ``bands`` otherwise.
    sdss_size, cfht_size : int
        Side of the SDSS and CFHT images in pixels (``cfht_size`` is the SDSS size for ``regridded``).
    counts : TrainingCounts
        Rows of the unpaired SDSS set, the unpaired CFHT set and the training pairs.
    batch_unpaired, batch_pairs : int
        Samples per iteration from each unpaired set and from the pairs.
    seed, rank, world_size : int
    device : torch.device
        Where batches are delivered.
    """

    def __init__(
        self,
        sources: Sequence[_SetSource],
        *,
        bands: Sequence[str],
        batch_unpaired: int,
        batch_pairs: int,
        seed: int,
        device: torch.device,
        rank: int,
        world_size: int,
        details: dict[str, Any],
        input_bands: Sequence[str] | None = None,
    ) -> None:
        self._sources = tuple(sources)
        self.bands = tuple(bands)
        self.input_bands = tuple(input_bands) if input_bands is not None else self.bands
        self.sdss_size = int(self._sources[0].columns[0].image_shape[-1])
        self.cfht_size = int(self._sources[1].columns[0].image_shape[-1])
        self.counts = TrainingCounts(*(len(source.rows) for source in self._sources))
        self.batch_unpaired = int(batch_unpaired)
        self.batch_pairs = int(batch_pairs)
        self.seed = int(seed)
        self.rank = int(rank)
        self.world_size = int(world_size)
        self.device = device
        self._details = details
        self._sampler = BatchSampler(
            self.counts,
            batch_unpaired=batch_unpaired,
            batch_pairs=batch_pairs,
            seed=seed,
            rank=rank,
            world_size=world_size,
        )

    # ------------------------------------------------------------------ construction
    @classmethod
    def open(
        cls,
        paired: str | Path,
        unpaired_sdss: str | Path,
        unpaired_cfht: str | Path,
        *,
        cfht_array: str = RESCALED,
        batch_unpaired: int = 24,
        batch_pairs: int = 24,
        seed: int = 0,
        in_memory: bool | None = None,
        device: torch.device | str = "cpu",
        rank: int = 0,
        world_size: int = 1,
        memory_budget: int | None = None,
    ) -> StoreBatchSource:
        """Open the cross-match outputs, check them and read every training image once.

        Parameters
        ----------
        paired : str or Path
            The paired store; only its ``train`` rows are used.
        unpaired_sdss, unpaired_cfht : str or Path
            The unpaired cutout stores.
        cfht_array : {"rescaled", "regridded"}
            Array of the CFHT images (``regridded`` for cyclegan and augcgan); SDSS images come from
            ``rescaled``.
        batch_unpaired, batch_pairs : int
            Samples per iteration (and rank) from each unpaired set and from the pairs.
        seed : int
            Non-negative seed of the rows and symmetries drawn.
        in_memory : bool, optional
            True: hold every set in the memory of ``device``; False: stream every set from zarr; None
            (default): hold the sets that fit ``memory_budget``, smallest first, and stream the others.
        device : torch.device or str
            Where batches are delivered (and sets held in memory live).
        rank, world_size : int
            This process among the ranks of a distributed run.
        memory_budget : int, optional
            Bytes automatic mode may hold (default: :func:`default_memory_budget` of ``device``).

        Returns
        -------
        StoreBatchSource

        Raises
        ------
        StoreError, TrainingDataError
            If a store is missing or unsuitable, an array is missing (the message names the
            ``galtk preprocess`` command to run), a set has no usable row, or ``in_memory=True`` asks for
            more memory than ``device`` has available.
        """
        started = time.perf_counter()
        device = _check_settings(batch_unpaired, batch_pairs, seed, rank, world_size, device)
        sets = open_training_sets(paired, unpaired_sdss, unpaired_cfht, cfht_array=cfht_array)
        budget = memory_budget if memory_budget is not None else default_memory_budget(device)
        held = _choose_held(sets, in_memory, budget, device)
        sources = []
        for training_set in sets:
            sources.append(_read_set(training_set, held=training_set.name in held, device=device))
        mode = {True: "all held in memory", False: "all streamed"}.get(in_memory, "automatic")
        details = {
            "cfht_array": cfht_array,
            "memory": {
                "mode": mode,
                "budget_bytes": int(budget) if in_memory is None else None,
                "held_bytes": int(sum(source.info["bytes"] for source in sources if source.name in held)),
            },
            "open_seconds": round(time.perf_counter() - started, 3),
        }
        data = cls(
            sources,
            bands=sets[0].arrays[0].store.schema.bands,
            batch_unpaired=batch_unpaired,
            batch_pairs=batch_pairs,
            seed=seed,
            device=device,
            rank=rank,
            world_size=world_size,
            details=details,
        )
        log.info(
            "training data: %d unpaired SDSS, %d unpaired CFHT, %d pairs (%s; opened in %.1f s)",
            *data.counts,
            ", ".join(f"{source.name} {source.info['held']}" for source in sources),
            details["open_seconds"],
        )
        return data

    @classmethod
    def from_arrays(
        cls,
        sdss: np.ndarray,
        cfht: np.ndarray,
        pair_sdss: np.ndarray,
        pair_cfht: np.ndarray,
        *,
        batch_unpaired: int = 24,
        batch_pairs: int = 24,
        seed: int = 0,
        device: torch.device | str = "cpu",
        rank: int = 0,
        world_size: int = 1,
        bands: Sequence[str] | None = None,
        input_bands: Sequence[str] | None = None,
    ) -> StoreBatchSource:
        """Training data held in memory from arrays (for tests, the demo and the runs that prepare their own
        arrays).

        Parameters
        ----------
        sdss, cfht : ndarray, shape (N, C, H, W)
            Unpaired SDSS and CFHT images (rescaled units), square.
        pair_sdss, pair_cfht : ndarray, shape (P, C, H, W)
            The two images of each training pair, row by row; same image sizes as ``sdss`` and ``cfht``.
        batch_unpaired, batch_pairs, seed, device, rank, world_size
            As for :meth:`open`.
        bands : sequence of str, optional
            Channel names (default: SDSS's u g r i z for 5 channels, else ``band0``, ``band1``...).
        input_bands : sequence of str, optional
            Channel names of the SDSS side when its channels differ from the CFHT side's (multi-input
            translation: the inputs' bands concatenated); by default both sides have ``bands``.

        Returns
        -------
        StoreBatchSource
            Every set held on ``device`` (copied); rows with a non-finite pixel are left out and counted.
        """
        device = _check_settings(batch_unpaired, batch_pairs, seed, rank, world_size, device)
        arrays = [np.asarray(images, dtype=np.float32) for images in (sdss, cfht, pair_sdss, pair_cfht)]
        _check_arrays(*arrays, same_channels=input_bands is None)
        if input_bands is not None and len(input_bands) != arrays[0].shape[1]:
            raise ValueError(f"{len(input_bands)} input band names for {arrays[0].shape[1]} channels")
        channels = arrays[1].shape[1]
        if bands is None:
            bands = SDSS.bands if channels == len(SDSS.bands) else tuple(f"band{k}" for k in range(channels))
        if len(bands) != channels:
            raise ValueError(f"{len(bands)} band names for {channels} channels")
        groups = ((arrays[0],), (arrays[1],), (arrays[2], arrays[3]))
        sources = []
        for name, group in zip(SET_NAMES, groups, strict=True):
            finite = np.logical_and.reduce(
                [np.isfinite(images).reshape(len(images), -1).all(axis=1) for images in group]
            )
            if not finite.any():
                raise TrainingDataError(
                    f"the {name.replace('_', ' ')} arrays hold no image without NaN or inf"
                )
            kept = np.flatnonzero(finite)
            columns = tuple(_MemoryColumn(torch.tensor(images[kept], device=device)) for images in group)
            sources.append(
                _SetSource(
                    name=name,
                    columns=columns,
                    rows=kept,
                    info={
                        "source": "arrays",
                        "arrays": [],
                        "rows": len(kept),
                        "image_shapes": [list(column.image_shape) for column in columns],
                        "held": f"in {device} memory",
                        "bytes": int(sum(column.images.nbytes for column in columns)),
                        "excluded": {NONFINITE: int(np.count_nonzero(~finite))},
                    },
                )
            )
        details = {
            "cfht_array": None,
            "memory": {"mode": "arrays", "budget_bytes": None},
            "open_seconds": 0.0,
        }
        details["memory"]["held_bytes"] = int(sum(source.info["bytes"] for source in sources))
        return cls(
            sources,
            bands=bands,
            batch_unpaired=batch_unpaired,
            batch_pairs=batch_pairs,
            seed=seed,
            device=device,
            rank=rank,
            world_size=world_size,
            details=details,
            input_bands=input_bands,
        )

    # ------------------------------------------------------------------ batches
    def rows(self, name: str) -> np.ndarray:
        """Row of the store (or of the array given to :meth:`from_arrays`) behind each position of a set.

        Parameters
        ----------
        name : {"unpaired_sdss", "unpaired_cfht", "train_pairs"}

        Returns
        -------
        ndarray of int64
            ``rows(name)[p]`` is the row that position ``p`` of :meth:`plan` refers to.
        """
        for source in self._sources:
            if source.name == name:
                return source.rows.copy()
        raise KeyError(f"no training set {name!r}; the sets are {', '.join(SET_NAMES)}")

    def plan(self, iteration: int) -> BatchPlan:
        """Rows and symmetries of ``iteration`` (positions index the usable rows of each set)."""
        return self._sampler.plan(iteration)

    def batch(self, iteration: int) -> TrainingBatch:
        """The batch of ``iteration`` on the training device, assembled in the calling thread.

        Parameters
        ----------
        iteration : int
            Non-negative iteration number; the batch depends only on it, the seed and the rank.

        Returns
        -------
        TrainingBatch
        """
        return self._assemble(self.plan(iteration))

    def batches(
        self, start: int, stop: int, *, prefetch: int = 4, workers: int | None = None
    ) -> Iterator[tuple[int, TrainingBatch]]:
        """Yield ``(i, batch(i))`` for ``i`` in ``range(start, stop)``, prepared ahead in background threads.

        Parameters
        ----------
        start, stop : int
            Iterations to deliver.
        prefetch : int
            Batches prepared ahead of the one being used (0: each batch is assembled when asked for).
        workers : int, optional
            Threads preparing batches (default ``min(prefetch, 4)``).

        Yields
        ------
        tuple of (int, TrainingBatch)
            Exactly the batches :meth:`batch` gives, in order. On a GPU they are copied on a side stream
            that the consumer's current stream waits for.

        Notes
        -----
        The threads stop when the iterator is exhausted, closed (``close()``, leaving a ``with
        contextlib.closing(...)`` block) or garbage-collected, also when the consumer stops early.
        """
        if prefetch < 0:
            raise ValueError(f"prefetch must be non-negative, not {prefetch}")
        if prefetch == 0:
            for iteration in range(start, stop):
                yield iteration, self.batch(iteration)
            return
        workers = max(1, workers if workers is not None else min(prefetch, 4))
        stream = torch.cuda.Stream(self.device) if self.device.type == "cuda" else None
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="galtk-loader")
        pending: deque[tuple[int, Future[tuple[TrainingBatch, Any]]]] = deque()
        try:
            for iteration in range(start, stop):
                pending.append((iteration, pool.submit(self._prepare, iteration, stream)))
                if len(pending) > prefetch:
                    yield self._receive(*pending.popleft())
            while pending:
                yield self._receive(*pending.popleft())
        finally:
            for _, future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)

    def describe(self) -> dict[str, Any]:
        """What the data are: counts, arrays used, memory mode, excluded rows and why, sampling.

        Returns
        -------
        dict
            JSON-serialisable.
        """
        return {
            "device": str(self.device),
            "bands": list(self.bands),
            **({"input_bands": list(self.input_bands)} if self.input_bands != self.bands else {}),
            "sdss_size": self.sdss_size,
            "cfht_size": self.cfht_size,
            "cfht_array": self._details["cfht_array"],
            "counts": self.counts._asdict(),
            "batch": {
                "unpaired": self.batch_unpaired,
                "pairs": self.batch_pairs,
                "images": 2 * (self.batch_unpaired + self.batch_pairs),
            },
            "seed": self.seed,
            "rank": self.rank,
            "world_size": self.world_size,
            "sampling": SAMPLING,
            "augmentation": AUGMENTATION,
            "memory": dict(self._details["memory"]),
            "open_seconds": self._details["open_seconds"],
            "sets": {source.name: dict(source.info) for source in self._sources},
        }

    # ------------------------------------------------------------------ internals
    def _assemble(self, plan: BatchPlan) -> TrainingBatch:
        draws = (plan.sdss, plan.cfht, plan.pairs)
        images = [
            apply_symmetries(column.gather(draw.positions), draw.codes)
            for source, draw in zip(self._sources, draws, strict=True)
            for column in source.columns
        ]
        return TrainingBatch(*images)

    def _prepare(self, iteration: int, stream: torch.cuda.Stream | None) -> tuple[TrainingBatch, Any]:
        """Assemble a batch in a worker thread (on ``stream`` for a GPU, with an event marking its end)."""
        plan = self.plan(iteration)
        if stream is None:
            return self._assemble(plan), None
        with torch.cuda.stream(stream):
            batch = self._assemble(plan)
            done = torch.cuda.Event()
            done.record(stream)
        return batch, done

    def _receive(
        self, iteration: int, future: Future[tuple[TrainingBatch, Any]]
    ) -> tuple[int, TrainingBatch]:
        batch, done = future.result()
        if done is not None:
            current = torch.cuda.current_stream(self.device)
            current.wait_event(done)
            for name in TrainingBatch.fields():
                getattr(batch, name).record_stream(current)
        return iteration, batch


def default_memory_budget(device: torch.device | str) -> int:
    """Bytes of training images automatic mode may hold on ``device``.

    :data:`MEMORY_SHARE` of the device's memory (a GPU's, or the machine's RAM for the CPU), and at most half
    of what is available now.
    """
    device = torch.device(device)
    total, available = _device_memory(device)
    return int(min(MEMORY_SHARE * total, 0.5 * available))


def _device_memory(device: torch.device) -> tuple[int, int]:
    """Total and currently available bytes of ``device``'s memory."""
    if device.type == "cuda":
        free, total = torch.cuda.mem_get_info(device)
        return int(total), int(free)
    page = os.sysconf("SC_PAGE_SIZE")
    total = page * os.sysconf("SC_PHYS_PAGES")
    available = total
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(total), int(available)


def _choose_held(
    sets: Sequence[TrainingSet], in_memory: bool | None, budget: int, device: torch.device
) -> set[str]:
    """Names of the sets to hold in memory."""
    if in_memory is False:
        return set()
    if in_memory is True:
        needed = sum(training_set.nbytes for training_set in sets)
        available = _device_memory(device)[1]
        if needed > available:
            raise TrainingDataError(
                f"holding the training set in memory needs {needed / 1e9:.1f} GB but {device} has"
                f" {available / 1e9:.1f} GB available; stream it (in_memory=False) or let galtk choose"
            )
        return {training_set.name for training_set in sets}
    held: set[str] = set()
    used = 0
    for training_set in sorted(sets, key=lambda item: item.nbytes):
        if used + training_set.nbytes <= budget:
            held.add(training_set.name)
            used += training_set.nbytes
    return held


def _read_set(training_set: TrainingSet, *, held: bool, device: torch.device) -> _SetSource:
    """Read every image of a set once: drop rows with non-finite pixels, and keep the images if ``held``."""
    workers = min(4, os.cpu_count() or 1)
    finite = np.ones(len(training_set.rows), dtype=bool)
    images: list[torch.Tensor] = []
    for array in training_set.arrays:
        if held:
            loaded, array_finite = _load(array, training_set.rows, device, workers)
            images.append(loaded)
        else:
            array_finite = scan_rows(array.array, training_set.rows, workers=workers)
        finite &= array_finite
    drop_rows(training_set, finite, NONFINITE)
    check_not_empty(training_set)
    columns: tuple[_ImageColumn, ...]
    if held:
        columns = tuple(_MemoryColumn(_compact(loaded, finite)) for loaded in images)
        where = f"in {device} memory"
    else:
        columns = tuple(_StreamColumn(array, training_set.rows, device) for array in training_set.arrays)
        direct = all(column.reader.direct for column in columns)  # type: ignore[attr-defined]
        where = "streamed from zarr" + (" (direct chunk reads)" if direct else " (zarr reads)")
    return _SetSource(
        name=training_set.name,
        columns=columns,
        rows=training_set.rows,
        info={
            "source": str(training_set.path),
            "arrays": [f"{array.store.path}:{array.name}" for array in training_set.arrays],
            "rows": len(training_set.rows),
            "image_shapes": [list(array.image_shape) for array in training_set.arrays],
            "held": where,
            "bytes": training_set.nbytes,
            "excluded": dict(training_set.excluded),
        },
    )


def _load(
    array: ImageArray, rows: np.ndarray, device: torch.device, workers: int
) -> tuple[torch.Tensor, np.ndarray]:
    """All ``rows`` of ``array`` in a tensor on ``device``, and which of them are finite."""
    if device.type == "cpu":
        host = np.empty((len(rows), *array.image_shape), dtype=np.float32)

        def keep_on_host(positions: np.ndarray, images: np.ndarray) -> None:
            host[positions[0] : positions[-1] + 1] = images

        finite = scan_rows(array.array, rows, keep=keep_on_host, workers=workers)
        return torch.from_numpy(host), finite
    target = torch.empty((len(rows), *array.image_shape), dtype=torch.float32, device=device)

    def keep_on_device(positions: np.ndarray, images: np.ndarray) -> None:
        target[positions[0] : positions[-1] + 1].copy_(torch.from_numpy(images))

    finite = scan_rows(array.array, rows, keep=keep_on_device, workers=workers)
    return target, finite


def _compact(images: torch.Tensor, keep: np.ndarray, block: int = 256) -> torch.Tensor:
    """``images[keep]`` moved to the front of ``images`` in place (a view of it), without a full copy."""
    kept = np.flatnonzero(keep)
    if len(kept) == len(images):
        return images
    for start in range(0, len(kept), block):
        source = kept[start : start + block]
        if images.device.type == "cpu":
            images[start : start + len(source)] = torch.from_numpy(images.numpy()[source])
        else:
            images[start : start + len(source)] = images.index_select(
                0, torch.from_numpy(source).to(images.device)
            )
    return images[: len(kept)]


def _check_settings(
    batch_unpaired: int, batch_pairs: int, seed: int, rank: int, world_size: int, device: torch.device | str
) -> torch.device:
    """Refuse impossible settings before any data are read; return the device."""
    if batch_unpaired < 1 or batch_pairs < 1:
        raise ValueError(f"batch sizes must be positive, not {batch_unpaired} and {batch_pairs}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, not {seed}")
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is outside 0 .. {world_size - 1}")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise TrainingDataError(f"cannot deliver batches to {device}: PyTorch sees no CUDA device")
    return device


def _check_arrays(
    sdss: np.ndarray, cfht: np.ndarray, pair_sdss: np.ndarray, pair_cfht: np.ndarray, *, same_channels: bool
) -> None:
    named = {"sdss": sdss, "cfht": cfht, "pair_sdss": pair_sdss, "pair_cfht": pair_cfht}
    for name, images in named.items():
        if images.ndim != 4 or images.shape[2] != images.shape[3] or not len(images):
            raise ValueError(f"{name} must hold square images (N, C, H, W) with N > 0, not {images.shape}")
    if sdss.shape[1:] != pair_sdss.shape[1:] or cfht.shape[1:] != pair_cfht.shape[1:]:
        raise ValueError("paired images must have the shapes of the unpaired images of their survey")
    if same_channels and sdss.shape[1] != cfht.shape[1]:
        raise ValueError(f"SDSS images have {sdss.shape[1]} channels, CFHT images {cfht.shape[1]}")
    if len(pair_sdss) != len(pair_cfht):
        raise ValueError(f"{len(pair_sdss)} SDSS but {len(pair_cfht)} CFHT images of pairs")
