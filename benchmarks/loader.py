"""Training loader benchmark: batches per second streamed from zarr and held in memory, against the GPU.

Synthetic stores like the cross-match outputs are written in a temporary directory (a paired store with half
of its pairs in the train split, an unpaired SDSS and an unpaired CFHT store, 32 objects per chunk) and
preprocessed by ``galtk preprocess`` (rescaled and regridded arrays). Then, for the CFHT images of each array
(``rescaled`` 136 px for most methods, ``regridded`` 64 px for cyclegan/augcgan), with batches of 24 unpaired
SDSS + 24 unpaired CFHT + 24 pairs (96 images) delivered to the CPU (rotations and mirrors included):

- zarr reads: the rows of each batch read through zarr's orthogonal selection (``array.oindex[sorted rows]``,
  which reads whole 32-object chunks), without rotation: what a loader built on zarr indexing could reach;
- direct row reads: the same rows read by :class:`galtk.models.training.batches.row_reader.ChunkRowReader`
  (one row's bytes from its chunk file), without rotation: the CPU's share of a batch when a GPU does the
  rotations;
- streamed: :class:`galtk.models.training.batches.loader.StoreBatchSource` with ``in_memory=False``
  (direct reads of one row's bytes from its chunk file), ``batch(i)`` in the calling thread and
  ``batches()`` with 1, 2 and 4 threads;
- streamed from a cold page cache (the chunk files evicted with ``posix_fadvise`` first, 4 threads): reads
  that reach the disk;
- in memory: ``in_memory=True``, ``batch(i)`` and ``batches()`` with 2 threads;
- a training loop whose step waits 0.03 s per batch (``time.sleep``, as a process waiting for its GPU does),
  fed by streamed ``batch(i)`` calls inline or by ``batches()`` with 2 threads, against the same loop without
  data (its ceiling, just under 33 iterations/s): how close the loader keeps a GPU-bound loop to its rate.

Every rate is also given as a ratio to the in-memory ``batch(i)`` rate measured in the same run, next to the
GPU's step rate that the loader must exceed: 0.03 s per ours-step1 iteration on one H100 (33 batches/s); the
paper's Titan V took 0.9 s (1.1 batches/s).

    python benchmarks/loader.py [--sdss 8192] [--cfht 2048] [--pairs 1024] [--batches 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from functools import partial
from pathlib import Path

import numpy as np
import zarr

from galtk.models.training.batches.loader import StoreBatchSource
from galtk.models.training.batches.row_reader import ChunkRowReader
from galtk.pipeline.preprocess.stage import RegridTarget, preprocess
from galtk.pipeline.stores.cutout_store import STATE_DONE, CutoutBatch, CutoutStore, StoreSchema
from galtk.pipeline.stores.paired import PairedStore
from galtk.pipeline.surveys import CFHT, SDSS, SurveySpec

GPU_SECONDS_PER_ITERATION = 0.03
PAPER_SECONDS_PER_ITERATION = 0.9
SLAB = 256


def _write_store(path: Path, spec: SurveySpec, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = spec.cutout_size
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    galaxy = np.exp(-np.hypot(xx, yy / 0.7) / (size / 24)).astype(np.float32) / spec.nanomaggies_per_unit
    noise = rng.normal(0, 0.03 / spec.nanomaggies_per_unit, (SLAB, 5, size, size)).astype(np.float32)
    store = CutoutStore.create(
        path,
        StoreSchema.for_survey(spec),
        ra=rng.uniform(30, 40, n),
        dec=rng.uniform(-10, 0, n),
        ids=np.array([f"{spec.name}{i}" for i in range(n)], dtype=object),
    )
    for start in range(0, n, SLAB):
        rows = min(SLAB, n - start)
        images = np.roll(noise[:rows], start // SLAB, axis=-1) + galaxy  # not the same bytes in every slab
        store.write_rows(
            start,
            CutoutBatch(
                images=images, valid=np.ones((rows, 5), bool), state=np.full(rows, STATE_DONE, np.uint8)
            ),
        )


def _write_stores(root: Path, n_sdss: int, n_cfht: int, n_pairs: int) -> dict[str, Path]:
    paths = {"paired": root / "paired.zarr", "sdss": root / "sdss.zarr", "cfht": root / "cfht.zarr"}
    n_train = n_pairs // 2
    split = np.array(["train"] * n_train + ["test"] * (n_pairs - n_train), dtype=object)
    paired = PairedStore.create(
        paths["paired"],
        table={"split": (split, {"long_name": "train or test"})},
        attributes={"surveys": ["sdss", "cfht"], "n_train": n_train, "n_test": n_pairs - n_train},
    )
    _write_store(paths["paired"] / "sdss", SDSS, n_pairs, 1)
    _write_store(paths["paired"] / "cfht", CFHT, n_pairs, 2)
    paired.mark_ready()
    _write_store(paths["sdss"], SDSS, n_sdss, 3)
    _write_store(paths["cfht"], CFHT, n_cfht, 4)
    regrid = {"cfht": RegridTarget("sdss", SDSS.pixel_scale, SDSS.cutout_size)}
    for path in paths.values():
        preprocess(path, regrid=regrid, scheduler="threads")
    return paths


def _rate(run: Callable[[], int]) -> float:
    """Batches per second of ``run``, which returns how many batches it delivered."""
    started = time.perf_counter()
    count = run()
    return count / (time.perf_counter() - started)


def _arrays(paths: dict[str, Path], cfht_array: str) -> dict[str, list[zarr.Array]]:
    """The image arrays each training set reads."""
    return {
        "unpaired_sdss": [CutoutStore.open(paths["sdss"]).array("rescaled")],
        "unpaired_cfht": [CutoutStore.open(paths["cfht"]).array(cfht_array)],
        "train_pairs": [
            CutoutStore.open(paths["paired"] / "sdss").array("rescaled"),
            CutoutStore.open(paths["paired"] / "cfht").array(cfht_array),
        ],
    }


def _zarr_reads(data: StoreBatchSource, paths: dict[str, Path], cfht_array: str, count: int) -> int:
    """The rows of ``count`` batches through zarr's orthogonal selection."""
    arrays = _arrays(paths, cfht_array)
    for iteration in range(count):
        plan = data.plan(iteration)
        for name, draw in zip(arrays, (plan.sdss, plan.cfht, plan.pairs), strict=True):
            rows = np.sort(data.rows(name)[draw.positions])
            for array in arrays[name]:
                array.oindex[(rows,)]
    return count


def _direct_reads(data: StoreBatchSource, paths: dict[str, Path], cfht_array: str, count: int) -> int:
    """The rows of ``count`` batches through the loader's direct chunk reads, without rotations."""
    readers = {
        name: [ChunkRowReader(array) for array in arrays]
        for name, arrays in _arrays(paths, cfht_array).items()
    }
    for iteration in range(count):
        plan = data.plan(iteration)
        for name, draw in zip(readers, (plan.sdss, plan.cfht, plan.pairs), strict=True):
            rows = data.rows(name)[draw.positions]
            for reader in readers[name]:
                reader.read_into(rows, np.empty((len(rows), *reader.row_shape), np.float32))
    return count


def _sequential(data: StoreBatchSource, count: int, offset: int = 0) -> int:
    for iteration in range(offset, offset + count):
        data.batch(iteration)
    return count


def _prefetched(data: StoreBatchSource, count: int, workers: int, offset: int = 0) -> int:
    with closing(data.batches(offset, offset + count, prefetch=2 * workers, workers=workers)) as batches:
        for _ in batches:
            pass
    return count


def _evict(root: Path) -> None:
    """Drop the stores' files from the page cache (clean pages only, where the OS can)."""
    if not hasattr(os, "posix_fadvise"):
        return
    for path in root.rglob("*"):
        if path.is_file():
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(descriptor)


def _measure(paths: dict[str, Path], scratch: Path, cfht_array: str, n: int) -> tuple[str, list]:
    """Open the data both ways and time every mode; returns the opening line and (mode, batches/s) rows."""
    started = time.perf_counter()
    streamed = StoreBatchSource.open(
        paths["paired"], paths["sdss"], paths["cfht"], in_memory=False, cfht_array=cfht_array
    )
    open_streamed = time.perf_counter() - started
    started = time.perf_counter()
    held = StoreBatchSource.open(
        paths["paired"], paths["sdss"], paths["cfht"], in_memory=True, cfht_array=cfht_array
    )
    open_held = time.perf_counter() - started
    images = sum(held.counts[:2]) + 2 * held.counts[2]
    opening = (
        f"open, {cfht_array} CFHT ({images:,} training images read and checked): streamed"
        f" {open_streamed:.2f} s ({images / open_streamed:,.0f} images/s), in memory {open_held:.2f} s"
    )
    modes: list[tuple[str, Callable[[], int]]] = [
        (
            "zarr reads (oindex), no rotation",
            partial(_zarr_reads, streamed, paths, cfht_array, max(5, n // 10)),
        ),
        ("direct row reads, no rotation", partial(_direct_reads, streamed, paths, cfht_array, n)),
        ("streamed, batch(i) in one thread", partial(_sequential, streamed, n)),
        *(
            (f"streamed, batches() {workers} thread(s)", partial(_prefetched, streamed, n, workers))
            for workers in (1, 2, 4)
        ),
        ("streamed, cold page cache, 4 threads", partial(_cold, scratch, streamed, n)),
        ("in memory, batch(i) in one thread", partial(_sequential, held, n)),
        ("in memory, batches() 2 threads", partial(_prefetched, held, n, 2)),
        ("loop with 30 ms steps, no data (ceiling)", partial(_training_loop, streamed, n // 2, -1)),
        ("loop with 30 ms steps, streamed, inline", partial(_training_loop, streamed, n // 2, 0)),
        ("loop with 30 ms steps, streamed, 2 threads", partial(_training_loop, streamed, n // 2, 2)),
    ]
    return opening, [(mode, _rate(run)) for mode, run in modes]


def _training_loop(data: StoreBatchSource, count: int, workers: int) -> int:
    """``count`` iterations of a loop whose step waits 30 ms, as a GPU-bound step does.

    ``workers`` 0: batches assembled inline; -1: no batches at all (the loop's own rate, the ceiling).
    """
    if workers == -1:
        for _ in range(count):
            time.sleep(GPU_SECONDS_PER_ITERATION)
        return count
    if workers == 0:
        for iteration in range(count):
            data.batch(iteration)
            time.sleep(GPU_SECONDS_PER_ITERATION)
        return count
    with closing(data.batches(0, count, prefetch=2 * workers, workers=workers)) as batches:
        for _ in batches:
            time.sleep(GPU_SECONDS_PER_ITERATION)
    return count


def _cold(scratch: Path, data: StoreBatchSource, count: int) -> int:
    """Batches not delivered before, after evicting the stores from the page cache."""
    _evict(scratch)
    return _prefetched(data, count, 4, offset=10 * count)


def main() -> None:
    """Write the stores, measure every mode and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdss", type=int, default=8192, help="unpaired SDSS cutouts")
    parser.add_argument("--cfht", type=int, default=2048, help="unpaired CFHT cutouts")
    parser.add_argument("--pairs", type=int, default=1024, help="pairs (half of them in the train split)")
    parser.add_argument("--batches", type=int, default=200, help="batches per measurement")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp())
    results = {}
    try:
        started = time.perf_counter()
        paths = _write_stores(scratch, args.sdss, args.cfht, args.pairs)
        print(f"stores written and preprocessed in {time.perf_counter() - started:.0f} s")
        for cfht_array in ("rescaled", "regridded"):
            results[cfht_array] = _measure(paths, scratch, cfht_array, args.batches)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    per_batch = 2 * 24 + 2 * 24
    print(
        f"{args.sdss:,} unpaired SDSS, {args.cfht:,} unpaired CFHT, {args.pairs // 2:,} train pairs;"
        f" batches of 24 + 24 + 24 pairs = {per_batch} images delivered to the CPU; {os.cpu_count()} cores"
    )
    for opening, _ in results.values():
        print(opening)
    gpu = 1 / GPU_SECONDS_PER_ITERATION
    print(
        "x in-memory: rate divided by the in-memory batch(i) rate of the same CFHT array;"
        f" x GPU: rate divided by the GPU step rate ({gpu:.1f}/s)\n"
    )
    header = (
        f"{'CFHT array':<10} | {'mode':<42} | {'batches/s':>9} | {'images/s':>9} | {'x in-memory':>11} |"
        f" {'x GPU':>6}"
    )
    print(header)
    print("-" * len(header))
    for cfht_array, (_, rates) in results.items():
        base = dict(rates)["in memory, batch(i) in one thread"]
        for mode, rate in rates:
            print(
                f"{cfht_array:<10} | {mode:<42} | {rate:>9.1f} | {rate * per_batch:>9,.0f} |"
                f" {rate / base:>11.2f} | {rate / gpu:>6.2f}"
            )
    print("-" * len(header))
    for mode, seconds in (
        ("GPU step target: ours-step1, one H100", GPU_SECONDS_PER_ITERATION),
        ("paper: Titan V, 0.9 s per iteration", PAPER_SECONDS_PER_ITERATION),
    ):
        print(f"{'reference':<10} | {mode:<42} | {1 / seconds:>9.1f} | {per_batch / seconds:>9,.0f} |")


if __name__ == "__main__":
    main()
