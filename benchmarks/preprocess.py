"""Preprocess benchmark: ``galtk preprocess`` of a large synthetic CFHT store against a plain read of it.

A CFHT-like cutout store of N objects (default 50,000: 18.5 GB of float32 images, chunks of 32 objects, no
compression) is written first. Then, each in a fresh subprocess so that its peak RSS is its own:

- a sequential read of ``images`` and ``valid`` on one thread (``store.images[a:b]`` in 256-row slabs);
- a plain read of the same blocks through galtk's dask runner (threads, one per core): the floor for any
  chunked pass over the store;
- the same blocks read and written again as preprocess writes them (1.22 times the input: a full-size and a
  64 x 64 array), without computing anything: the floor for a pass that writes its results;
- ``preprocess`` (rescale + regrid onto the SDSS grid, both arrays written) with the threads scheduler,
  and optionally with the processes scheduler;
- the plain dask read and the threaded preprocess again from a cold page cache: the store's files are
  flushed and evicted (``posix_fadvise(DONTNEED)``, no root needed) before the pass, as they are at survey
  scale, where a 48 GB CFHT store cannot stay in the page cache of a 24 GB machine.

Throughputs are printed with their ratio to the plain dask read from the same cache state (the target is a
preprocess within 3x of it, i.e. limited by reading the store) and peak RSS against the 2 GB target.

    python benchmarks/preprocess.py [--objects 50000] [--schedulers threads,processes] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from galtk.pipeline.stores.cutout_store import STATE_DONE, CutoutBatch, CutoutStore, StoreSchema
from galtk.pipeline.surveys import CFHT, SDSS

SLAB = 256
WARM_READ = "plain read (dask threads)"
COLD_READ = "plain read (dask threads, cold)"


def _write_store(path: Path, n: int) -> float:
    rng = np.random.default_rng(0)
    size = CFHT.cutout_size
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    galaxy = (3000 * np.exp(-np.hypot(xx, yy / 0.7) / 5)).astype(np.float32)
    noise = rng.normal(0, 20, (SLAB, 5, size, size)).astype(np.float32) + galaxy
    store = CutoutStore.create(
        path,
        StoreSchema.for_survey(CFHT),
        ra=rng.uniform(30, 40, n),
        dec=rng.uniform(-10, 0, n),
        ids=np.array([f"c{i}" for i in range(n)], dtype=object),
    )
    started = time.perf_counter()
    for start in range(0, n, SLAB):
        rows = min(SLAB, n - start)
        images = np.roll(noise[:rows], start // SLAB, axis=-1)  # not the same bytes in every slab
        store.write_rows(
            start,
            CutoutBatch(
                images=images, valid=np.ones((rows, 5), bool), state=np.full(rows, STATE_DONE, np.uint8)
            ),
        )
    return time.perf_counter() - started


def _read_block(path: str, start: int, stop: int) -> tuple[int, int]:
    import zarr

    group = zarr.open_group(path, mode="r", zarr_format=3, use_consolidated=False)
    images = group["images"][start:stop]
    group["valid"][start:stop]
    return stop - start, int(images.shape[0])


def _copy_block(path: str, start: int, stop: int) -> tuple[int, int]:
    """Read a block and write as many bytes as preprocess writes (rescaled + regridded), no computing."""
    import zarr

    group = zarr.open_group(path, mode="r+", zarr_format=3, use_consolidated=False)
    images = group["images"][start:stop]
    group["valid"][start:stop]
    group["_bench_copy"][start:stop] = images
    group["_bench_small"][start:stop] = images[:, :, :64, :64]
    return stop - start, 0


def _evict(path: Path) -> None:
    """Write the store's dirty pages to disk and drop all its pages from the page cache."""
    os.sync()
    for file in path.rglob("*"):
        if file.is_file():
            descriptor = os.open(file, os.O_RDONLY)
            try:
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(descriptor)


def _child(kind: str, path: Path) -> None:
    from galtk.pipeline.preprocess.stage import RegridTarget, dask_scheduler, plan_blocks, preprocess

    store = CutoutStore.open(path)
    n = store.n_objects
    started = time.perf_counter()
    if kind == "sequential read":
        for start in range(0, n, SLAB):
            store.images[start : start + SLAB]
            store.valid[start : start + SLAB]
    elif kind.startswith("plain read"):
        row_bytes = 4 * int(np.prod(store.schema.image_shape))
        blocks = plan_blocks(n, store.schema.chunk_objects, row_bytes)
        with dask_scheduler("threads") as run:
            run([(_read_block, str(path), start, stop) for start, stop in blocks], None)
    elif kind == "read + write, no compute":
        writable = CutoutStore.open(path, mode="r+")
        names = ["_bench_copy", "_bench_small"]
        for name, size, dims in ((names[0], None, ("y", "x")), (names[1], 64, ("ys", "xs"))):
            temporary = writable.create_image_array(name.lstrip("_"), size=size, dims=dims)
            (path / temporary).rename(path / name)
        row_bytes = 4 * int(np.prod(store.schema.image_shape))
        blocks = plan_blocks(n, store.schema.chunk_objects, row_bytes)
        with dask_scheduler("threads") as run:
            run([(_copy_block, str(path), start, stop) for start, stop in blocks], None)
        for name in names:
            shutil.rmtree(path / name)
    else:
        scheduler = kind.split("(")[1].split(",")[0].rstrip(")")
        preprocess(
            path,
            regrid={"cfht": RegridTarget("sdss", SDSS.pixel_scale, SDSS.cutout_size)},
            scheduler=scheduler,
            overwrite=True,
        )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": max(peak, children)}))


def main() -> None:
    """Write the store, run every measurement in a subprocess and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=50_000)
    parser.add_argument("--schedulers", default="threads", help="comma-separated: threads, processes")
    parser.add_argument(
        "--keep", type=Path, help="write the store here and keep it (default: a temporary dir)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.store)
        return
    scratch = Path(tempfile.mkdtemp(dir=args.keep.parent if args.keep else None))
    path = args.keep or scratch / "cfht.zarr"
    try:
        write_s = _write_store(path, args.objects)
        kinds = ["sequential read", "plain read (dask threads)", "read + write, no compute"]
        kinds += [f"preprocess ({name.strip()})" for name in args.schedulers.split(",")]
        kinds += [COLD_READ, "preprocess (threads, cold)"]
        results = {}
        for kind in kinds:
            if "cold" in kind:
                _evict(path)
            output = subprocess.run(
                [sys.executable, __file__, "--child", kind, "--store", str(path)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results[kind] = json.loads(output.strip().splitlines()[-1])
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    n = args.objects
    gigabytes = n * 5 * 136 * 136 * 4 / 1e9
    print(f"{n:,} CFHT cutouts ({gigabytes:.1f} GB of float32 images, chunks of 32)")
    print(f"store written at {n / write_s:,.0f} cutouts/s")
    print(
        "ratios: throughput of the plain dask read from the same cache state divided by each throughput "
        "(1 = as fast as reading)\n"
    )
    header = (
        f"{'pass':<32} | {'seconds':>8} | {'cutouts/s':>9} | {'MB/s read':>9} | {'x slower':>8} | "
        f"{'peak RSS MB':>11}"
    )
    print(header)
    print("-" * len(header))
    for kind, r in results.items():
        base = results[COLD_READ if "cold" in kind else WARM_READ]
        rate = n / r["seconds"]
        print(
            f"{kind:<32} | {r['seconds']:>8.1f} | {rate:>9,.0f} | {gigabytes * 1e3 / r['seconds']:>9,.0f} | "
            f"{r['seconds'] / base['seconds']:>8.2f} | {r['peak_mb']:>11,.0f}"
        )


if __name__ == "__main__":
    main()
