"""Cutouts per second from local FITS frames (the ``fits`` source), per resampling kernel, in one run.

Writes SDSS-sized frames (2048 x 1489 px, 5 bands with different rotations, as drift-scan frames) into a
temporary folder, a catalog of objects spread over them, then runs the fetch engine with the fits source for
each resampling kernel (``lanczos3``, ``bilinear``, ``nearest``) with 1 and N workers. The baseline, measured
in the same run on the same frames: ``reproject.reproject_interp`` (bilinear) cutting the same 5-band cutouts
one by one on one core. The first target was 300 five-band cutouts per second on 2 cores, so that cutting is
never the bottleneck next to downloading.

    python benchmarks/fits_cutouts.py [--frames 4] [--objects 2000] [--workers 2] [--kernels lanczos3 ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from galtk.catalogs.files import ObjectCatalog
from galtk.pipeline.fetch.stage import fetch_survey
from galtk.pipeline.geometry import cutout_wcs
from galtk.pipeline.resample import KERNELS
from galtk.pipeline.sources.fits import FitsSource
from galtk.pipeline.surveys import SURVEYS, SurveySpec

SHAPE = (1489, 2048)


def _write_frames(folder: Path, n_frames: int) -> list[WCS]:
    rng = np.random.default_rng(0)
    reference = []
    for frame in range(n_frames):
        for number, band in enumerate("ugriz"):
            wcs = WCS(naxis=2)
            wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
            wcs.wcs.crval = [150.0 + 0.25 * frame, 2.0]
            wcs.wcs.crpix = [SHAPE[1] / 2 + 2.5 * number, SHAPE[0] / 2 - 1.5 * number]
            theta = np.deg2rad(8.0 + 0.2 * number)
            s = 0.396 / 3600
            wcs.wcs.cd = [[-s * np.cos(theta), s * np.sin(theta)], [s * np.sin(theta), s * np.cos(theta)]]
            header = wcs.to_header()
            header["FILTER"] = band
            header["BUNIT"] = "nanomaggy"
            data = rng.normal(0, 0.03, SHAPE).astype(np.float32)
            fits.PrimaryHDU(data, header).writeto(folder / f"frame-{band}-{frame:04d}.fits")
            if number == 2:
                reference.append(wcs)
    return reference


def _catalog(frames: list[WCS], n_objects: int) -> ObjectCatalog:
    rng = np.random.default_rng(1)
    which = rng.integers(0, len(frames), n_objects)
    x = rng.uniform(60, SHAPE[1] - 60, n_objects)
    y = rng.uniform(60, SHAPE[0] - 60, n_objects)
    ra = np.empty(n_objects)
    dec = np.empty(n_objects)
    for index, wcs in enumerate(frames):
        members = which == index
        ra[members], dec[members] = wcs.pixel_to_world_values(x[members], y[members])
    ids = np.array([f"o{i}" for i in range(n_objects)], dtype=object)
    return ObjectCatalog(ids=ids, ra=ra, dec=dec)


def reproject_rate(images: list[Path], catalog: ObjectCatalog, spec: SurveySpec, count: int) -> float:
    """Five-band cutouts per second of ``reproject_interp`` (bilinear) on the first ``count`` objects."""
    from reproject import reproject_interp

    frames = {}
    for path in images:
        with fits.open(path) as hdus:
            frames.setdefault(path.name.split("-")[1], []).append(
                (np.array(hdus[0].data), WCS(hdus[0].header))
            )
    started = time.perf_counter()
    done = 0
    for ra, dec in zip(catalog.ra[:count], catalog.dec[:count], strict=True):
        target = cutout_wcs(float(ra), float(dec), spec.pixel_scale, spec.cutout_size)
        for band in spec.bands:
            for data, wcs in frames[band]:
                x, y = wcs.world_to_pixel_values(ra, dec)
                if 40 < x < data.shape[1] - 40 and 40 < y < data.shape[0] - 40:
                    reproject_interp((data, wcs), target, shape_out=(spec.cutout_size,) * 2, order="bilinear")
                    break
        done += 1
    return done / (time.perf_counter() - started)


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kernels", nargs="+", choices=KERNELS, default=list(KERNELS))
    parser.add_argument("--reproject-objects", type=int, default=200, help="objects cut by reproject_interp")
    args = parser.parse_args()
    spec = SURVEYS["sdss"]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        catalog = _catalog(_write_frames(folder, args.frames), args.objects)
        images = sorted(folder.glob("frame-*.fits"))
        baseline = reproject_rate(images, catalog, spec, args.reproject_objects)
        for kernel in args.kernels:
            for workers in sorted({1, args.workers}):
                source = FitsSource(catalog, images, kernel=kernel)
                started = time.perf_counter()
                source.objects(spec)
                planning = time.perf_counter() - started
                store = folder / f"{kernel}-w{workers}.zarr"
                report = fetch_survey(source, spec, store, workers=workers, batch_size=128)
                rate = report.done / report.seconds
                rows.append((kernel, workers, report.done, planning, report.seconds, rate))
    print(f"fits source: {args.objects} objects on {args.frames} SDSS-sized frames x 5 bands")
    print(f"baseline: reproject_interp (bilinear), one core, {baseline:.1f} five-band cutouts/s\n")
    columns = ("kernel", "workers", "cutouts", "index+plan s", "fetch s", "cutouts/s", "x reproject")
    print(" | ".join(f"{column:>12}" for column in columns))
    for kernel, workers, done, planning, seconds, rate in rows:
        values = (
            kernel,
            f"{workers}",
            f"{done}",
            f"{planning:.2f}",
            f"{seconds:.2f}",
            f"{rate:.0f}",
            f"{rate / baseline:.2f}",
        )
        print(" | ".join(f"{value:>12}" for value in values))


if __name__ == "__main__":
    main()
