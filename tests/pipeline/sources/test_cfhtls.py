"""The cfhtls source: astroquery's CADC client and pyvo against a fake CADC on 127.0.0.1."""

import dataclasses
import logging
from collections import Counter
from pathlib import Path

import fake_cadc
import numpy as np
import pytest
from astropy.table import Table
from typer.testing import CliRunner

from galtk.catalogs.files import ObjectCatalog
from galtk.cli.app import app
from galtk.errors import CadcError, GaltkError
from galtk.pipeline.fetch.stage import fetch_survey
from galtk.pipeline.sources.cfhtls import (
    AT_EDGE,
    OUTSIDE,
    CfhtlsSource,
    WideTile,
    assign_tiles,
    check_cutout,
    cutout_radius,
)
from galtk.pipeline.sources.download import RetryPolicy
from galtk.pipeline.stores.cutout_store import CutoutStore
from galtk.pipeline.surveys import SURVEYS
from galtk.pipeline.workspace import CONFIG_NAME, default_config, render_config

CFHT = SURVEYS["cfht"]
FAST = RetryPolicy(attempts=3, backoff=0.01, max_wait=1.0, timeout=5.0)


@pytest.fixture
def cadc(fake_archive, monkeypatch: pytest.MonkeyPatch):
    """A fake CADC, with astroquery's registry pointed at it for the test's duration."""
    from astroquery.cadc import conf, core

    fake = fake_cadc.FakeCadc(fake_archive)
    monkeypatch.setattr(core.get_access_url, "caps", {})  # astroquery caches the registry per process
    with conf.set_temp("CADC_REGISTRY_URL", fake_archive.url + fake_cadc.REGISTRY_PATH):
        yield fake


def _catalog() -> ObjectCatalog:
    positions = {**fake_cadc.star_positions(), "outside": fake_cadc.OUTSIDE}
    return ObjectCatalog(
        ids=np.array(list(positions), dtype=object),
        ra=np.array([ra for ra, _ in positions.values()]),
        dec=np.array([dec for _, dec in positions.values()]),
    )


def _source(tmp_path: Path, policy: RetryPolicy = FAST) -> CfhtlsSource:
    return CfhtlsSource(_catalog(), tmp_path / "cache", policy=policy)


def test_positions_outside_w1_w4_are_rejected_before_any_download(
    tmp_path: Path, cadc, fake_archive, caplog: pytest.LogCaptureFixture
) -> None:
    source = _source(tmp_path)
    with caplog.at_level(logging.WARNING, logger="galtk"):
        objects = source.objects(CFHT)
    assert list(objects.ids) == ["w1", "overlap", "w3"]  # ordered by tile
    reasons = {name: reason for name, _, _, reason in objects.rejected}
    assert reasons == {"edge": AT_EDGE, "outside": OUTSIDE}
    assert "2 of 5 positions rejected: 1 at the edge of the CFHTLS Wide tiles; 1 outside" in caplog.text
    assert "ignoring 1 tile plane(s) whose filter is not a single u g r i z filter: gri (1)" in caplog.text
    assert "no u tile holds the whole cutout of 1 of 3 objects" in caplog.text
    assert (
        len(cadc.tap_queries) == 1
        and not cadc.cutout_requests
        and "/caom2ops/datalink" not in fake_archive.hits
    )
    with pytest.raises(GaltkError, match="provides CFHTLS Wide cutouts, not sdss's"):
        source.objects(SURVEYS["sdss"])
    renamed = source.objects(dataclasses.replace(CFHT, name="wide"))  # a table naming the cfht preset
    assert list(renamed.ids) == list(objects.ids)


def test_i_band_prefers_i_mp9701_and_falls_back_to_i_mp9702(tmp_path: Path, cadc) -> None:
    source = _source(tmp_path)
    objects = source.objects(CFHT)
    tiles, choices = source.tiles(), source.tile_choices(CFHT)
    i_filters = {name: tiles[choices[row, 3]].filter_name for row, name in enumerate(objects.ids)}
    # W1A holds w1 in both i filters; W1B (overlap) and W3 only have i.MP9702
    assert i_filters == {"w1": "i.MP9701", "overlap": "i.MP9702", "w3": "i.MP9702"}
    assert tiles[choices[1, 0]].file_name.startswith("CFHTLS_W_u_021803")  # W1A cuts overlap off: W1B
    assert choices[2, 0] == -1  # W3 has no u tile


def _square_tile(name: str, filter_name: str, ra: float, dec: float) -> WideTile:
    half = 0.02  # degrees
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    polygon = np.array([(ra + x * half / np.cos(np.deg2rad(dec)), dec + y * half) for x, y in corners])
    return WideTile(name, name, filter_name[0], filter_name, polygon)


def test_tile_choice_ranks_the_filter_before_the_distance() -> None:
    ra, dec = np.array([150.0, 150.018]), np.array([2.0, 2.0])
    tiles = [
        _square_tile("i2_centred", "i.MP9702", 150.0, 2.0),
        _square_tile("i_offset", "i.MP9701", 150.005, 2.0),
        _square_tile("r_far", "r.MP9601", 150.005, 2.0),
        _square_tile("r_near", "r.MP9601", 150.0, 2.0),
    ]
    survey = dataclasses.replace(CFHT, bands=("r", "i"))
    chosen = [[tiles[t].uri if t >= 0 else None for t in row] for row in assign_tiles(tiles, ra, dec, survey)]
    # 150.0: all hold it; i.MP9701 wins although farther, the nearest r wins. 150.018: only the offset ones
    assert chosen == [["r_near", "i_offset"], ["r_far", "i_offset"]]


def test_bands_align_and_keep_their_flux_from_server_side_cutouts(tmp_path: Path, cadc) -> None:
    report = fetch_survey(_source(tmp_path), CFHT, tmp_path / "cfht.zarr", batch_size=8, chunk_objects=8)
    assert (report.done, report.failed, report.rejected) == (3, 0, 2)
    store = CutoutStore.open(tmp_path / "cfht.zarr")
    rows = {name: index for index, name in enumerate(store.ids)}
    yy, xx = np.mgrid[:136, :136]
    aperture = np.hypot(xx - 67.5, yy - 67.5) < 12
    for name in ("w1", "overlap", "w3"):
        for band in range(5):
            if name == "w3" and band == 0:
                continue
            assert store.valid[rows[name], band], (name, band)
            image = store.images[rows[name], band].astype(np.float64)
            assert image.sum() == pytest.approx(fake_cadc.STAR_FLUX, rel=0.01)
            weights = np.where(aperture, image, 0.0)
            assert (weights * xx).sum() / weights.sum() == pytest.approx(67.5, abs=0.1)
            assert (weights * yy).sum() / weights.sum() == pytest.approx(67.5, abs=0.1)
    w3 = rows["w3"]
    assert not store.valid[w3, 0] and np.isnan(store.images[w3, 0]).all()
    assert "u: no CFHTLS Wide u tile holds the whole cutout" in store.extra("error")[w3]
    assert (
        "i=CFHTLS_W_y_141754+543000_T0007_MEDIAN.fits (i.MP9702, zero point 30.0 (PHOTZP))"
        in (store.extra("provenance")[w3])
    )
    # Server-side cutouts only: one request per object and band, each far smaller than a tile.
    assert len(cadc.cutout_requests) == 14 and cadc.tile_downloads == 0
    assert max(cadc.cutout_bytes) < 0.25 * fake_cadc.TILE_SIZE**2 * 4
    assert all(region.endswith(f" {cutout_radius(CFHT):.6f}") for _, region in cadc.cutout_requests)


def test_faults_are_retried_and_nothing_corrupt_is_kept(tmp_path: Path, cadc) -> None:
    def tile_file(pointing: str, token: str) -> str:
        return f"CFHTLS_W_{token}_{fake_cadc.pointing_name(pointing)}_T0007_MEDIAN.fits"

    w3_z = cadc.tile_by_file(tile_file("W3", "z"))
    cadc.tap_faults = [{"status": 503, "headers": {"Retry-After": "0"}, "body": b"busy"}]
    cadc.datalink_faults = [{"status": 503, "body": b"<html>maintenance</html>"}]
    cadc.cutout_faults = faults = {
        tile_file("W1A", "g"): [{"status": 503, "headers": {"Retry-After": "0"}}],
        tile_file("W1A", "r"): [{"delay": 1.5}],  # longer than the timeout below
        tile_file("W1B", "u"): [{"truncate": 1000}],
        tile_file("W1A", "z"): [{"body": b"<html>not FITS</html>"}],
        tile_file("W3", "z"): [{"body": fake_cadc.corrupt_fits(w3_z)}] * 3,  # on every try of this run
    }
    policy = dataclasses.replace(FAST, timeout=0.5)
    path = tmp_path / "cfht.zarr"
    report = fetch_survey(_source(tmp_path, policy), CFHT, path, batch_size=8, chunk_objects=8)
    assert (report.done, report.failed) == (2, 1)
    tries = Counter(name for name, _ in cadc.cutout_requests)
    assert [tries[name] for name in faults] == [2, 2, 2, 2, 3]  # each fault cost one more try
    store = CutoutStore.open(path)
    rows = {name: index for index, name in enumerate(store.ids)}
    assert store.valid[rows["w1"]].all() and store.valid[rows["overlap"]].all()
    lost = rows["w3"]
    assert store.state[lost] == 2 and not store.valid[lost, 4] and np.isnan(store.images[lost, 4]).all()
    assert (
        "z: cutout of CFHTLS_W_z_141754+543000_T0007_MEDIAN.fits not available" in store.extra("error")[lost]
    )
    assert "content check failed" in store.extra("error")[lost]
    valid = store.valid[:]
    assert np.isfinite(store.images[:][valid]).all()
    cached = [path for path in (tmp_path / "cache").glob("??/*") if not path.suffix]
    assert len(cached) == 13
    for cached_file in cached:
        check_cutout(cached_file)  # every cached cutout is complete FITS
    again = fetch_survey(_source(tmp_path), CFHT, path, resume=True, retry_failed=True, batch_size=8)
    assert (again.done, again.failed, again.written) == (3, 0, 1)
    assert CutoutStore.open(path).valid[lost, 1:].all()


def test_cadc_errors_are_one_clear_message(tmp_path: Path, cadc) -> None:
    cadc.tap_faults = [
        fake_cadc.votable_error("IllegalArgumentException: column not found: p.position_bounds")
    ]
    with pytest.raises(CadcError, match=r"TAP service refused the query: .*column not found"):
        _source(tmp_path).objects(CFHT)
    cadc.tap_faults = [{"status": 503, "body": b"down"}] * 3
    with pytest.raises(CadcError, match=r"TAP service could not be queried \(.*503.*; 3 tries\)"):
        _source(tmp_path).objects(CFHT)


def test_bands_without_tiles_are_invalid_and_the_rest_proceeds(
    tmp_path: Path, cadc, caplog: pytest.LogCaptureFixture
) -> None:
    survey = dataclasses.replace(CFHT, bands=("g", "y"))
    source = _source(tmp_path)
    with caplog.at_level(logging.WARNING, logger="galtk"):
        objects = source.objects(survey)
    assert len(objects) == 3 and "no y tile holds the whole cutout of 3 of 3 objects" in caplog.text
    batch = source.cutouts(survey, objects, np.array([0]))
    assert batch.valid.tolist() == [[True, False]] and batch.state.tolist() == [1]
    assert batch.extras["error"][0] == "y: no CFHTLS Wide y tile holds the whole cutout"


def test_cfhtls_source_from_the_command_line(tmp_path: Path, cadc) -> None:
    positions = {**fake_cadc.star_positions(), "outside": fake_cadc.OUTSIDE}
    (tmp_path / "catalogs").mkdir()
    Table(
        {
            "id": list(positions),
            "ra": [p[0] for p in positions.values()],
            "dec": [p[1] for p in positions.values()],
        }
    ).write(tmp_path / "catalogs/cfht_objects.csv")
    config = default_config(sim=False)
    config.surveys = {"cfht": config.surveys["cfht"]}
    (tmp_path / CONFIG_NAME).write_text(render_config(config))
    result = CliRunner().invoke(
        app, ["fetch", "-w", str(tmp_path), "--source", "cfhtls"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    store = CutoutStore.open(tmp_path / "data/raw/cfht.zarr")
    assert store.counts()["done"] == 3
    assert "MB downloaded" in result.stdout
    failures = (tmp_path / "data/raw/cfht.failures.csv").read_text()
    assert "outside,150.1,2.2,outside the CFHTLS Wide W1-W4 tiles" in failures
