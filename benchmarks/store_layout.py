"""Cutout-store layout benchmark: objects per chunk and compression, measured in one run.

For each layout, N SDSS-like (5 x 64 x 64) or CFHT-like (5 x 136 x 136) cutouts are written through
galtk's CutoutStore in batches of 256 rows, then read back three ways: one random image at a time
(interactive inspection, translate), random batches of 24 (training without the in-memory cache) and a
sequential pass (preprocess, crossmatch copies). Every figure is also printed as a ratio to the default layout
(32 objects per chunk, no compression) measured in the same run.

    python benchmarks/store_layout.py [--survey sdss|cfht] [--objects 4096]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import zarr

from galtk.pipeline.stores.cutout_store import STATE_DONE, CutoutBatch, CutoutStore, StoreSchema
from galtk.pipeline.surveys import SURVEYS

LAYOUTS = [(1, None), (8, None), (32, None), (128, None), (32, "zstd")]
BASELINE = (32, None)


def _images(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    blob = np.exp(-(xx**2 + yy**2) / (2 * (size / 12) ** 2)).astype(np.float32)
    return rng.normal(0, 0.03, (n, 5, size, size)).astype(np.float32) + blob


def _measure(path: Path, chunk: int, compression: str | None, survey: str, n: int) -> dict[str, float]:
    spec = SURVEYS[survey]
    rng = np.random.default_rng(0)
    schema = StoreSchema.for_survey(spec, chunk_objects=chunk)
    ids = np.array([f"o{i}" for i in range(n)], dtype=object)
    store = CutoutStore.create(path, schema, ra=np.zeros(n), dec=np.zeros(n), ids=ids)
    if compression:  # recreate the image array with a compressor, same chunks
        group = zarr.open_group(str(path), mode="r+", use_consolidated=False)
        attributes = dict(group["images"].attrs)
        del group["images"]
        group.create_array(
            "images",
            shape=(n, 5, spec.cutout_size, spec.cutout_size),
            chunks=(chunk, 5, spec.cutout_size, spec.cutout_size),
            dtype="float32",
            fill_value=np.nan,
            compressors=zarr.codecs.ZstdCodec(level=1),
            dimension_names=("object", "band", "y", "x"),
            attributes=attributes,
        )
        store = CutoutStore.open(path, mode="r+")
    batch_rows = 256
    data = _images(batch_rows, spec.cutout_size, rng)
    started = time.perf_counter()
    for start in range(0, n, batch_rows):
        rows = min(batch_rows, n - start)
        store.write_rows(
            start,
            CutoutBatch(
                images=data[:rows],
                valid=np.ones((rows, 5), bool),
                state=np.full(rows, STATE_DONE, np.uint8),
            ),
        )
    write = n / (time.perf_counter() - started)

    images = CutoutStore.open(path).images
    picks = rng.integers(0, n, 200)
    started = time.perf_counter()
    for index in picks:
        images[int(index)]
    single_ms = (time.perf_counter() - started) / len(picks) * 1e3

    started = time.perf_counter()
    for _ in range(20):
        images.oindex[np.sort(rng.choice(n, 24, replace=False))]
    batch_ms = (time.perf_counter() - started) / 20 * 1e3

    started = time.perf_counter()
    for start in range(0, n, 256):
        images[start : start + 256]
    stream = n / (time.perf_counter() - started)
    files = sum(1 for item in (path / "images").rglob("*") if item.is_file())
    return {"write": write, "single_ms": single_ms, "batch_ms": batch_ms, "stream": stream, "files": files}


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survey", choices=sorted(SURVEYS), default="sdss")
    parser.add_argument("--objects", type=int, default=4096)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for chunk, compression in LAYOUTS:
            path = Path(scratch) / f"c{chunk}-{compression}.zarr"
            results[(chunk, compression)] = _measure(path, chunk, compression, args.survey, args.objects)
            shutil.rmtree(path)
    base = results[BASELINE]
    print(f"{args.survey}: {args.objects} cutouts; ratios are relative to chunk 32, no compression\n")
    header = (
        f"{'chunk':>5} {'codec':>5} | {'write img/s':>11} {'x':>5} | {'1 random ms':>11} {'x':>5} | "
        f"{'24 random ms':>12} {'x':>5} | {'stream img/s':>12} {'x':>5} | {'files':>6}"
    )
    print(header)
    print("-" * len(header))
    for (chunk, compression), r in results.items():
        print(
            f"{chunk:>5} {compression or 'none':>5} | "
            f"{r['write']:>11,.0f} {r['write'] / base['write']:>5.2f} | "
            f"{r['single_ms']:>11.2f} {r['single_ms'] / base['single_ms']:>5.2f} | "
            f"{r['batch_ms']:>12.1f} {r['batch_ms'] / base['batch_ms']:>5.2f} | "
            f"{r['stream']:>12,.0f} {r['stream'] / base['stream']:>5.2f} | {r['files']:>6}"
        )


if __name__ == "__main__":
    main()
