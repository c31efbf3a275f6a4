"""The hips source: astroquery's hips2fits client against a fake service on 127.0.0.1."""

import json

import fake_hips
import numpy as np
import pytest

from galtk.catalogs.files import ObjectCatalog
from galtk.pipeline.fetch.stage import fetch_survey
from galtk.pipeline.sources.download import RetryPolicy
from galtk.pipeline.sources.hips import HipsSource
from galtk.pipeline.stores.cutout_store import CutoutStore
from galtk.pipeline.surveys import SURVEYS

SDSS = SURVEYS["sdss"]
HIPS = [f"CDS/P/SDSS9/{band}" for band in "ugriz"]


@pytest.fixture
def service(fake_archive):
    return fake_hips.FakeHips2fits(fake_archive)


def _source(service, hips=HIPS, extra=None) -> HipsSource:
    positions = {**fake_hips.STARS, **(extra or {})}
    catalog = ObjectCatalog(
        ids=np.array(list(positions), dtype=object),
        ra=np.array([p[0] for p in positions.values()]),
        dec=np.array([p[1] for p in positions.values()]),
    )
    policy = RetryPolicy(attempts=3, backoff=0.01, timeout=5.0)
    return HipsSource(catalog, hips, server=service.url, policy=policy)


def test_each_band_is_requested_on_the_cutout_grid(tmp_path, service) -> None:
    report = fetch_survey(_source(service), SDSS, tmp_path / "s.zarr", batch_size=8, chunk_objects=8)
    assert report.done == 2
    store = CutoutStore.open(tmp_path / "s.zarr")
    assert len(service.requests) == 10 and {r["hips"] for r in service.requests} == set(HIPS)
    header = json.loads(service.requests[0]["wcs"])
    assert (header["NAXIS1"], header["NAXIS2"]) == (64, 64)
    assert header["CTYPE1"] == "RA---TAN" and header["CDELT2"] == pytest.approx(0.396 / 3600)
    yy, xx = np.mgrid[:64, :64]
    row = list(store.ids).index("a")
    for band in range(5):
        image = store.images[row, band].astype(np.float64)
        assert image.sum() == pytest.approx(fake_hips.STAR_FLUX * (1 + 0.1 * band), rel=0.01)
        assert (image * xx).sum() / image.sum() == pytest.approx(31.5, abs=0.05)
        assert (image * yy).sum() / image.sum() == pytest.approx(31.5, abs=0.05)
    assert "u=CDS/P/SDSS9/u" in store.extra("provenance")[row]


def test_failures_are_retried_or_recorded(tmp_path, service) -> None:
    service.faults = [{"status": 503, "body": b"<html>busy</html>"}]  # not JSON: retried
    source = _source(service, extra={"edge": (150.0, 2.05)})
    report = fetch_survey(source, SDSS, tmp_path / "s.zarr", batch_size=8, chunk_objects=8, workers=1)
    store = CutoutStore.open(tmp_path / "s.zarr")
    rows = {name: index for index, name in enumerate(store.ids)}
    assert store.valid[rows["a"]].all()
    edge = rows["edge"]
    assert not store.valid[edge].any() and store.state[edge] == 2
    assert "does not cover the whole cutout" in store.extra("error")[edge]
    assert report.failed == 1


def test_a_refused_hips_is_reported_with_the_service_message(tmp_path, service) -> None:
    source = _source(service, hips=[*HIPS[:4], "ivo://nowhere/z"])
    fetch_survey(source, SDSS, tmp_path / "s.zarr", batch_size=8, chunk_objects=8, workers=1)
    store = CutoutStore.open(tmp_path / "s.zarr")
    assert store.valid[0].tolist() == [True, True, True, True, False]
    assert "unknown HiPS ivo://nowhere/z" in store.extra("error")[0]


def test_one_hips_per_band_is_required(service) -> None:
    from galtk.errors import GaltkError

    with pytest.raises(GaltkError, match="one HiPS per band"):
        _source(service, hips=HIPS[:3]).objects(SDSS)


def test_hips_source_from_the_command_line(tmp_path, service) -> None:
    from astropy.table import Table
    from typer.testing import CliRunner

    from galtk.cli.app import app
    from galtk.pipeline.workspace import CONFIG_NAME, default_config, render_config

    Table(
        rows=[(name, *position) for name, position in fake_hips.STARS.items()], names=("id", "ra", "dec")
    ).write(tmp_path / "objects.csv")
    config = default_config(sim=False)
    config.surveys = {"sdss": config.surveys["sdss"]}
    section = config.surveys["sdss"]
    section.source, section.catalog, section.hips, section.hips_server = (
        "hips",
        "objects.csv",
        HIPS,
        service.url,
    )
    (tmp_path / CONFIG_NAME).write_text(render_config(config))
    result = CliRunner().invoke(app, ["fetch", "-w", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert CutoutStore.open(tmp_path / "data/raw/sdss.zarr").counts()["done"] == 2
    section.hips = HIPS[:2]
    (tmp_path / CONFIG_NAME).write_text(render_config(config))
    result = CliRunner().invoke(app, ["fetch", "-w", str(tmp_path), "--overwrite"])
    assert result.exit_code == 1 and "one HiPS per band" in result.stderr


def _fits_answer(data: np.ndarray, **keywords) -> dict:
    import io

    from astropy.io import fits

    hdu = fits.PrimaryHDU(data)
    for key, value in keywords.items():
        hdu.header[key] = value
    buffer = io.BytesIO()
    hdu.writeto(buffer)
    return {"body": buffer.getvalue()}


def test_wrong_sizes_and_blank_tiles_are_recorded_never_stored(tmp_path, service) -> None:
    blank = np.full((64, 64), 100, dtype=np.int16)
    blank[10:20, 10:20] = -32768  # an integer tile's BLANK pixels: no data there
    service.faults = [
        _fits_answer(np.zeros((32, 32), dtype=np.float32)),  # not the requested grid
        _fits_answer(blank, BLANK=-32768),
    ]
    report = fetch_survey(
        _source(service), SDSS, tmp_path / "s.zarr", batch_size=8, chunk_objects=8, workers=1
    )
    store = CutoutStore.open(tmp_path / "s.zarr")
    first = list(store.ids).index("a")
    assert store.valid[first].tolist() == [False, False, True, True, True]
    errors = store.extra("error")[first]
    assert "returned a (32, 32) image" in errors and "does not cover the whole cutout" in errors
    assert np.isnan(store.images[first, 0]).all()  # nothing of the wrong-sized answer is kept
    # The object is fetched, with two bands marked invalid: pairing across surveys leaves it out.
    assert report.failed == 0 and report.done == 2
