"""Per-object overhead of the cfhtls source against a local fake CADC, cold and warm cache.

Objects are placed around the stars of the test suite's fake CADC (tests/support/fake_cadc.py: small CFHTLS
Wide tiles in W1 and W3, five bands, served over HTTP on 127.0.0.1 by a TAP service, DataLink and SODA
cutouts). The same objects are then fetched three ways in one run: through the cfhtls source with an empty
cache (TAP query, DataLink, one SODA cutout per object and band, resampling), again with the cutouts cached,
and through the fits source on the same tiles on disk (resampling only). The ratios show what the archive path
adds per object; the fake answers instantly, so CADC's own answer time comes on top of them.

    python benchmarks/cfhtls_overhead.py [--objects 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from astropy.io import fits

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "support"), str(ROOT / "benchmarks")]

import fake_cadc  # noqa: E402
from archive_overhead import objects_around, print_overhead_table  # noqa: E402
from conftest import FakeArchive  # noqa: E402

from galtk.pipeline.fetch.stage import fetch_survey  # noqa: E402
from galtk.pipeline.sources.cfhtls import CfhtlsSource  # noqa: E402
from galtk.pipeline.sources.download import RetryPolicy  # noqa: E402
from galtk.pipeline.sources.fits import FitsSource  # noqa: E402
from galtk.pipeline.surveys import SURVEYS  # noqa: E402


def main() -> None:
    """Run the benchmark and print the table."""
    from astroquery.cadc import conf, core

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=300)
    args = parser.parse_args()
    spec = SURVEYS["cfht"]
    stars = [position for name, position in fake_cadc.star_positions().items() if name != "edge"]
    catalog = objects_around(stars, args.objects)
    archive = FakeArchive()
    fake = fake_cadc.FakeCadc(archive)
    core.get_access_url.caps = {}
    rows = []
    try:
        with (
            tempfile.TemporaryDirectory() as scratch,
            conf.set_temp("CADC_REGISTRY_URL", archive.url + fake_cadc.REGISTRY_PATH),
        ):
            folder = Path(scratch)
            policy = RetryPolicy(attempts=3, backoff=0.1, timeout=30)
            for label in ("cfhtls source, empty cache", "cfhtls source, cutouts cached"):
                source = CfhtlsSource(catalog, folder / "cache", policy=policy)
                started = time.perf_counter()
                report = fetch_survey(source, spec, folder / f"{len(rows)}.zarr", workers=2, batch_size=64)
                rows.append((label, report.done, time.perf_counter() - started))
            requests = len(fake.cutout_requests)
            tiles = folder / "tiles"
            tiles.mkdir()
            for tile in fake_cadc.TILES:
                if tile.filter_name == "gri":
                    continue
                fits.PrimaryHDU(tile.pixels(), tile.header()).writeto(tiles / tile.file_name)
            source = FitsSource(catalog, sorted(tiles.glob("*.fits")))
            started = time.perf_counter()
            report = fetch_survey(source, spec, folder / "fits.zarr", workers=1, batch_size=64)
            rows.append(("fits source, same tiles on disk", report.done, time.perf_counter() - started))
    finally:
        archive.close()
        core.get_access_url.caps = {}
    print(
        f"{args.objects} objects on the fake CADC ({len(fake_cadc.TILES)} tile planes, {requests} cutout"
        " requests); ratios per object to the fits source\n"
    )
    print_overhead_table(rows)

if __name__ == "__main__":
    main()
