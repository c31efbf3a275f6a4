"""``galtk degrade`` on a small synthetic sky: the paired store it writes, its defaults and its refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cli_results import one_error_line
from typer.testing import CliRunner

from galtk.cli.app import app
from galtk.pipeline.stores.paired import PairedStore

runner = CliRunner()


@pytest.fixture(scope="module")
def fetched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sim_workspaces import write_sim_config

    root = write_sim_config(tmp_path_factory.mktemp("degrade") / "ws", n_objects=40)
    assert runner.invoke(app, ["fetch", "-w", str(root), "-s", "sdss"]).exit_code == 0
    return root


def _listing(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def test_degrade_writes_pairs_next_to_the_raw_stores_and_records_the_degradation(fetched: Path) -> None:
    result = runner.invoke(
        app, ["degrade", "-w", str(fetched), "--fwhm", "2.2", "--noise-factor", "1.5", "--seed", "4"]
    )
    assert result.exit_code == 0, result.output
    path = fetched / "data/degraded/sdss.zarr"
    assert "train and" in result.stdout and str(path) in result.stdout.replace("\n", "")
    paired = PairedStore.open(path)
    assert paired.attrs["degrade"]["fwhm"] == [2.2] and paired.attrs["degrade"]["seed"] == 4
    degraded = paired.member("degraded")
    assert np.all(degraded.extra("psf_fwhm") == np.float32(2.2))
    again = runner.invoke(app, ["degrade", "-w", str(fetched), "--fwhm", "2.2"])
    assert again.exit_code == 1 and "pass --overwrite" in one_error_line(again)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "give the target PSF as a FWHM (--fwhm) or as a factor (--fwhm-factor)"),
        (["--fwhm", "0.3"], "a convolution cannot sharpen"),
        (["--fwhm", "2", "--fwhm", "3"], "one value or one per band"),
        (["--fwhm-factor", "1.5", "--profile", "airy"], "unknown PSF profile 'airy'"),
        (["--fwhm", "2", "--noise-factor", "0.5"], "--noise-factor must be at least 1"),
        (["--fwhm", "2", "-o", "../elsewhere.zarr"], "leads out of the workspace"),
        (["--fwhm", "2", "--survey", "hst"], "no [surveys.hst] table"),
        (["nothing.zarr", "--fwhm", "2"], "nothing.zarr"),
    ],
)
def test_bad_requests_are_one_error_line_and_write_nothing(
    fetched: Path, arguments: list[str], message: str
) -> None:
    before = _listing(fetched)
    result = runner.invoke(app, ["degrade", "-w", str(fetched), "--overwrite", *arguments])
    assert result.exit_code == 1, result.output
    assert message in one_error_line(result)
    assert _listing(fetched) == before


def _store_without_psf(path: Path, survey: str, bands: tuple[str, ...]) -> Path:
    """A complete store of 12 cutouts (a star on white noise) that records no PSF FWHM."""
    from galtk.pipeline.stores.cutout_store import STATE_DONE, CutoutBatch, CutoutStore, StoreSchema

    size, count = 24, 12
    schema = StoreSchema(survey, "test", bands, size, 0.4, "nanomaggy")
    store = CutoutStore.create(
        path, schema, ra=np.linspace(10, 10.1, count), dec=np.zeros(count), ids=[f"o{i}" for i in range(12)]
    )
    rng = np.random.default_rng(3)
    y, x = np.mgrid[:size, :size] - size // 2
    star = 50 * np.exp(-(x**2 + y**2) / (2 * 1.5**2))
    images = (star + rng.normal(0, 0.1, (count, len(bands), size, size))).astype(np.float32)
    valid = np.ones((count, len(bands)), dtype=bool)
    store.write_rows(0, CutoutBatch(images, valid, np.full(count, STATE_DONE, dtype=np.uint8)))
    store.consolidate()
    return path


def test_a_store_without_psf_takes_its_seeing_from_the_survey_table(tmp_path: Path) -> None:
    (tmp_path / "galtk.toml").write_text(
        '[surveys.nir]\npreset = "2mass"\nbands = ["J", "K"]\nseeing_fwhm = [1.1, 1.3]\n', encoding="utf-8"
    )
    _store_without_psf(tmp_path / "data/raw/nir.zarr", "nir", ("J", "K"))
    result = runner.invoke(app, ["degrade", "-w", str(tmp_path), "--fwhm-factor", "2", "--overwrite"])
    assert result.exit_code == 0, result.output
    degraded = PairedStore.open(tmp_path / "data/degraded/nir.zarr").member("degraded")
    assert np.allclose(degraded.extra("psf_fwhm"), [2.2, 2.6])

    _store_without_psf(tmp_path / "data/raw/hsc.zarr", "hsc", ("g", "i"))
    unknown = runner.invoke(app, ["degrade", "-w", str(tmp_path), "data/raw/hsc.zarr", "--fwhm", "3"])
    assert unknown.exit_code == 1
    assert "records no PSF FWHM and its survey 'hsc' has no typical seeing" in one_error_line(unknown)
    given = runner.invoke(
        app, ["degrade", "-w", str(tmp_path), "data/raw/hsc.zarr", "--fwhm", "3", "--seeing", "0.7"]
    )
    assert given.exit_code == 0, given.output
