"""Degrade benchmark: ``galtk degrade`` of a large SDSS-like store against copying the same rows.

An SDSS-like cutout store of N objects (default 50,000: 4.1 GB of float32 images, 5 bands of 64 x 64, chunks
of 32 objects) is written first, each cutout a galaxy with white noise and its PSF FWHM recorded. Then, each
in a fresh subprocess so that its peak RSS is its own:

- ``copy``: the rows copied into a new store as ``degrade`` copies the originals (``copy_rows``), the floor of
  any pass that reads the store and writes it again;
- ``degrade`` with a Gaussian target and with a Moffat target (the originals copied, then every cutout
  convolved, its noise measured three times and noise added, the degraded member written).

Throughputs (cutouts per second) are printed with their ratio to the copy, and the peak RSS.

    python benchmarks/degrade.py [--objects 50000] [--workers 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from galtk.pipeline.stores.cutout_store import STATE_DONE, CutoutBatch, CutoutStore, ExtraArray, StoreSchema
from galtk.pipeline.surveys import SDSS

SLAB = 256
PSF_EXTRA = ExtraArray("psf_fwhm", True, "float32", "arcsec", "PSF full width at half maximum")


def _write_store(path: Path, n: int) -> float:
    """An SDSS-like store of ``n`` noisy galaxies with their PSF FWHM; returns the seconds it took."""
    rng = np.random.default_rng(0)
    size = SDSS.cutout_size
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    galaxy = (20.0 * np.exp(-np.hypot(xx, yy / 0.7) / 3)).astype(np.float32)
    store = CutoutStore.create(
        path,
        StoreSchema.for_survey(SDSS, extras=(PSF_EXTRA,)),
        ra=rng.uniform(150, 151, n),
        dec=rng.uniform(2, 3, n),
        ids=np.array([f"s{i}" for i in range(n)], dtype=object),
    )
    started = time.perf_counter()
    for start in range(0, n, SLAB):
        rows = min(SLAB, n - start)
        images = rng.normal(0, 0.05, (rows, 5, size, size)).astype(np.float32) + galaxy
        store.write_rows(
            start,
            CutoutBatch(
                images=images,
                valid=np.ones((rows, 5), bool),
                state=np.full(rows, STATE_DONE, np.uint8),
                extras={"psf_fwhm": rng.uniform(1.1, 1.6, (rows, 5)).astype(np.float32)},
            ),
        )
    return time.perf_counter() - started


def _child(task: str, source: Path, output: Path, workers: int) -> dict[str, float]:
    """Run one pass in this process; return its seconds and peak RSS."""
    from galtk.pipeline.crossmatch.subset import copy_rows
    from galtk.pipeline.degrade.stage import DegradeSettings, degrade_store

    store = CutoutStore.open(source)
    started = time.perf_counter()
    if task == "copy":
        target = CutoutStore.create(output, store.schema, ra=store.ra, dec=store.dec, ids=store.ids)
        copy_rows(store, np.arange(store.n_objects), target, workers=workers)
    else:
        profile = task.split()[1]
        degrade_store(source, output, DegradeSettings(fwhm=(2.5,), profile=profile), workers=workers)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    """Write the store, time each pass in a subprocess, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="directory to build the store in, kept afterwards")
    parser.add_argument("--child", nargs=3, metavar=("TASK", "SOURCE", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        task, source, output = args.child
        print(json.dumps(_child(task, Path(source), Path(output), args.workers)))
        return
    root = args.keep or Path(tempfile.mkdtemp(prefix="galtk-degrade-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    source = root / "sdss.zarr"
    if not source.exists():
        print(f"writing {args.objects:,} cutouts: {_write_store(source, args.objects):.0f} s", flush=True)
    n = CutoutStore.open(source).n_objects
    results = {}
    for task in ("copy", "degrade gaussian", "degrade moffat"):
        output = root / f"{task.replace(' ', '-')}.zarr"
        shutil.rmtree(output, ignore_errors=True)
        command = [
            sys.executable,
            __file__,
            "--workers",
            str(args.workers),
            "--child",
            task,
            str(source),
            str(output),
        ]
        line = (
            subprocess.run(command, check=True, capture_output=True, text=True)
            .stdout.strip()
            .splitlines()[-1]
        )
        results[task] = json.loads(line)
        shutil.rmtree(output, ignore_errors=True)
        print(f"{task}: {results[task]['seconds']:.1f} s", flush=True)
    copy_rate = n / results["copy"]["seconds"]
    print(f"\n{n:,} SDSS cutouts (5 x 64 x 64 float32), {args.workers} workers")
    print("| pass | cutouts/s | ratio to copy | peak RSS (MB) |")
    print("|---|---:|---:|---:|")
    for task, result in results.items():
        rate = n / result["seconds"]
        print(f"| {task} | {rate:,.0f} | {rate / copy_rate:.3f} | {result['peak_rss_mb']:,.0f} |")
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
