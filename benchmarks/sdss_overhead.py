"""Per-object overhead of the sdss source against a local fake SkyServer + SAS, cold and warm cache.

Objects are placed around the stars of the test suite's fake SDSS stripe (tests/support/fake_sdss.py: three
overlapping fields, five bands, bzip2-compressed frames served over HTTP on 127.0.0.1). The same objects are
then fetched three ways in one run: through the sdss source with an empty frame cache (SkyServer queries,
downloads, decompression, cutting), again with the frames cached, and through the fits source on the same
frames decompressed on disk (cutting only). The ratios show what the archive path adds per object.

    python benchmarks/sdss_overhead.py [--objects 400]
"""

from __future__ import annotations

import argparse
import bz2
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "support"), str(ROOT / "benchmarks")]

import fake_sdss  # noqa: E402
from archive_overhead import objects_around, print_overhead_table  # noqa: E402
from conftest import FakeArchive  # noqa: E402

from galtk.pipeline.fetch.stage import fetch_survey  # noqa: E402
from galtk.pipeline.sources.download import RetryPolicy  # noqa: E402
from galtk.pipeline.sources.fits import FitsSource  # noqa: E402
from galtk.pipeline.sources.sdss import SdssSource  # noqa: E402
from galtk.pipeline.surveys import SURVEYS  # noqa: E402


def main() -> None:
    """Run the benchmark and print the table."""
    from astroquery.sdss import conf

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=400)
    args = parser.parse_args()
    spec = SURVEYS["sdss"]
    stars = [position for name, position in fake_sdss.star_positions().items() if name != "camcol_edge"]
    catalog = objects_around(stars, args.objects)
    archive = FakeArchive()
    fake_sdss.FakeSdss(archive)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as scratch, conf.set_temp("skyserver_baseurl", archive.url):
            folder = Path(scratch)
            with conf.set_temp("sas_baseurl", f"{archive.url}/sas"):
                policy = RetryPolicy(attempts=3, backoff=0.1, timeout=30)
                for label in ("sdss source, empty cache", "sdss source, frames cached"):
                    source = SdssSource(folder / "cache", catalog=catalog, policy=policy, query_interval=0.0)
                    started = time.perf_counter()
                    report = fetch_survey(
                        source, spec, folder / f"{len(rows)}.zarr", workers=4, batch_size=64
                    )
                    rows.append((label, report.done, time.perf_counter() - started))
            frames = folder / "frames"
            frames.mkdir()
            for field in fake_sdss.FIELDS:
                for band in "ugriz":
                    data = bz2.decompress(fake_sdss.frame_bytes(field, band))
                    (frames / f"frame-{band}-{field}.fits").write_bytes(data)
            source = FitsSource(catalog, sorted(frames.glob("*.fits")))
            started = time.perf_counter()
            report = fetch_survey(source, spec, folder / "fits.zarr", workers=1, batch_size=64)
            rows.append(("fits source, same frames on disk", report.done, time.perf_counter() - started))
    finally:
        archive.close()
    print(
        f"{args.objects} objects on the fake SDSS stripe (15 frames); ratios per object to the fits source\n"
    )
    print_overhead_table(rows)

if __name__ == "__main__":
    main()
