"""The sdss source: the real astroquery client against a fake SkyServer and SAS on 127.0.0.1."""

import dataclasses
from pathlib import Path

import fake_sdss
import numpy as np
import pytest
from astropy.table import Table
from typer.testing import CliRunner

from galtk.catalogs.files import ObjectCatalog
from galtk.cli.app import app
from galtk.errors import GaltkError, SkyServerError
from galtk.pipeline.fetch.stage import fetch_survey
from galtk.pipeline.sources.download import RetryPolicy
from galtk.pipeline.sources.sdss import FrameId, SdssSource
from galtk.pipeline.stores.cutout_store import CutoutStore
from galtk.pipeline.surveys import SURVEYS, get_survey
from galtk.pipeline.workspace import CONFIG_NAME, default_config, render_config

SDSS = SURVEYS["sdss"]
FAST = RetryPolicy(attempts=3, backoff=0.01, max_wait=1.0, timeout=5.0)


@pytest.fixture
def sky(fake_archive):
    """A fake SDSS, with astroquery's configuration pointed at it for the test's duration."""
    from astroquery.sdss import conf

    fake = fake_sdss.FakeSdss(fake_archive)
    with (
        conf.set_temp("skyserver_baseurl", fake_archive.url),
        conf.set_temp("sas_baseurl", f"{fake_archive.url}/sas"),
    ):
        yield fake


def _catalog(extra: dict[str, tuple[float, float]] | None = None) -> ObjectCatalog:
    positions = {**fake_sdss.star_positions(), **(extra or {})}
    return ObjectCatalog(
        ids=np.array(list(positions), dtype=object),
        ra=np.array([ra for ra, _ in positions.values()]),
        dec=np.array([dec for _, dec in positions.values()]),
    )


def _source(tmp_path: Path, **options) -> SdssSource:
    options.setdefault("catalog", _catalog({"far": (10.0, -40.0)}))
    return SdssSource(tmp_path / "cache", policy=FAST, query_interval=0.0, **options)


def test_frame_urls_follow_the_dr12_sas_layout(tmp_path: Path, sky, fake_archive) -> None:
    url = _source(tmp_path).frame_url(FrameId(3000, 301, 2, 50), "r")
    assert (
        url == f"{fake_archive.url}/sas/dr12/boss/photoObj/frames/301/3000/2/frame-r-003000-2-0050.fits.bz2"
    )


def test_catalog_positions_are_located_in_their_frames(tmp_path: Path, sky) -> None:
    source = _source(tmp_path)
    objects = source.objects(SDSS)
    assert list(objects.ids) == ["centre50", "overlap", "camcol_edge", "centre52"]  # ordered by frame
    assert source.frame_ids()[:, 3].tolist() == [50, 50, 51, 52]
    assert objects.rejected == (("far", 10.0, -40.0, "outside the SDSS imaging"),)


def test_a_table_naming_the_sdss_preset_is_served_whatever_its_name(tmp_path: Path, sky) -> None:
    source = _source(tmp_path)
    objects = source.objects(dataclasses.replace(SDSS, name="dr12"))
    assert list(objects.ids) == ["centre50", "overlap", "camcol_edge", "centre52"]
    with pytest.raises(GaltkError, match=r"not sdss9's \(name preset = \"sdss\""):
        source.objects(get_survey("sdss9"))


def test_cutouts_align_all_bands_and_use_neighbouring_fields(tmp_path: Path, sky) -> None:
    report = fetch_survey(_source(tmp_path), SDSS, tmp_path / "sdss.zarr", batch_size=8, chunk_objects=8)
    store = CutoutStore.open(tmp_path / "sdss.zarr")
    rows = {name: index for index, name in enumerate(store.ids)}
    yy, xx = np.mgrid[:64, :64]
    aperture = np.hypot(xx - 31.5, yy - 31.5) < 8  # centroids within 8 px, where the star dominates the noise
    for name in ("centre50", "overlap", "centre52"):
        assert store.valid[rows[name]].all(), name
        for band in range(5):
            image = store.images[rows[name], band].astype(np.float64)
            assert image.sum() == pytest.approx(fake_sdss.STAR_FLUX, rel=0.01)
            weights = np.where(aperture, image, 0.0)
            assert (weights * xx).sum() / weights.sum() == pytest.approx(31.5, abs=0.1)
            assert (weights * yy).sum() / weights.sum() == pytest.approx(31.5, abs=0.1)
    assert "field 51" in store.extra("provenance")[rows["overlap"]]  # its own field 50 cuts it off
    edge = rows["camcol_edge"]
    assert store.state[edge] == 2 and not store.valid[edge].any()
    assert "at the edge of run 3000 camcol 2 field 51" in store.extra("error")[edge]
    assert (report.done, report.failed, report.rejected) == (3, 1, 1)
    # Each frame was downloaded once for all its objects (fields 50-52, 5 bands, plus the neighbours tried).
    assert len(sky.frame_requests) == len(set(sky.frame_requests))


def test_server_errors_are_retried_and_lost_frames_retried_on_resume(tmp_path: Path, sky) -> None:
    sky.faults[("g", 50)] = [{"status": 503, "headers": {"Retry-After": "0"}}]
    sky.faults[("z", 52)] = [{"body": b"not a FITS file"}] * 3  # corrupt on every try of this run
    path = tmp_path / "sdss.zarr"
    report = fetch_survey(_source(tmp_path), SDSS, path, batch_size=8, chunk_objects=8)
    store = CutoutStore.open(path)
    rows = {name: index for index, name in enumerate(store.ids)}
    assert store.valid[rows["centre50"]].all()  # the 503 was retried
    lost = rows["centre52"]
    assert store.state[lost] == 2
    assert "z: frame run 3000 camcol 2 field 52 not available" in store.extra("error")[lost]
    assert "content check failed" in store.extra("error")[lost]
    assert report.failed == 2
    again = fetch_survey(_source(tmp_path), SDSS, path, resume=True, retry_failed=True, batch_size=8)
    store = CutoutStore.open(path)
    assert store.valid[lost].all() and store.state[lost] == 1
    assert again.failed == 1  # only the camcol-edge object, which no frame can hold


def test_sample_from_a_skyserver_query(tmp_path: Path, sky) -> None:
    source = _source(tmp_path, catalog=None, sql="SELECT p.objid, p.ra, p.dec, p.run FROM SpecObj AS s")
    objects = source.objects(SDSS)
    assert len(objects) == 4 and objects.ids[0].startswith("123765")
    assert sorted(source.frame_ids()[:, 3].tolist()) == [50, 50, 51, 52]


def test_skyserver_errors_are_one_clear_message(tmp_path: Path, sky) -> None:
    source = _source(tmp_path, catalog=None, sql="SELECT ra FORM PhotoObj")
    with pytest.raises(SkyServerError, match=r"SkyServer refused the query: .*Incorrect syntax"):
        source.objects(SDSS)


def test_sdss_source_from_the_command_line(tmp_path: Path, sky) -> None:
    positions = fake_sdss.star_positions()
    Table(
        {
            "objid": list(positions),
            "ra": [p[0] for p in positions.values()],
            "dec": [p[1] for p in positions.values()],
        }
    ).write(tmp_path / "objects.csv")
    config = default_config(sim=False)
    config.surveys = {"sdss": config.surveys["sdss"]}
    config.surveys["sdss"].catalog = "objects.csv"
    config.fetch.cache_max_gb = 1.0
    (tmp_path / CONFIG_NAME).write_text(render_config(config))
    result = CliRunner().invoke(app, ["fetch", "-w", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    store = CutoutStore.open(tmp_path / "data/raw/sdss.zarr")
    assert store.counts()["done"] == 3
    assert any((tmp_path / "data/cache").rglob("*.json"))  # frames cached for the next run
    assert "MB downloaded" in result.stdout
