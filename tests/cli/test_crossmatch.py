"""``galtk crossmatch`` on a fetched synthetic sky: defaults, flags, outputs, one-line errors."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from cli_results import one_error_line
from typer.testing import CliRunner

from galtk.cli.app import app
from galtk.pipeline.stores.cutout_store import CutoutStore
from galtk.pipeline.stores.paired import PairedStore
from galtk.pipeline.workspace import CONFIG_NAME, SIM_TEST_FRACTION

runner = CliRunner()


def _files(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in (root / "data").rglob("*") if path.is_file()}


def test_crossmatch_with_workspace_defaults_pairs_the_same_galaxies(fetched_workspace) -> None:
    root = fetched_workspace()
    result = runner.invoke(app, ["crossmatch", "-w", str(root)])
    assert result.exit_code == 0, result.output
    assert "galtk crossmatch" in result.stdout and "unpaired" in result.stdout
    summary = json.loads((root / "data/crossmatch_summary.json").read_text())
    paired = PairedStore.open(root / "data/paired.zarr")
    sdss_ids = paired.column("sdss_id").tolist()
    assert sdss_ids == paired.column("cfht_id").tolist()  # the sim's ids name the same galaxy in both
    raw_sdss, raw_cfht = (
        CutoutStore.open(root / "data/raw/sdss.zarr"),
        CutoutStore.open(root / "data/raw/cfht.zarr"),
    )
    truth = set(raw_sdss.ids) & set(raw_cfht.ids)
    assert len(sdss_ids) >= 0.9 * len(truth) and set(sdss_ids) <= truth
    assert summary["pairs"]["test"] == round(SIM_TEST_FRACTION * len(sdss_ids))
    unpaired_sdss = set(CutoutStore.open(root / "data/unpaired_sdss.zarr").ids)
    unpaired_cfht = set(CutoutStore.open(root / "data/unpaired_cfht.zarr").ids)
    assert not unpaired_sdss & set(sdss_ids) and not unpaired_cfht & set(sdss_ids)
    assert len(unpaired_sdss) == summary["unpaired"]["sdss"] > 0
    assert xr.open_zarr(root / "data/paired.zarr", group="cfht").images.shape[1:] == (5, 136, 136)


def test_flags_override_galtk_toml_and_outputs_need_overwrite(fetched_workspace) -> None:
    root = fetched_workspace()
    config = root / CONFIG_NAME
    config.write_text(re.sub(r"test_fraction = [0-9.]+", "test_fraction = 0.0", config.read_text()))
    config.write_text(config.read_text().replace("n_test = 2500", "n_test = 3"))
    assert runner.invoke(app, ["crossmatch", "-w", str(root)]).exit_code == 0
    summary = root / "data/crossmatch_summary.json"
    assert json.loads(summary.read_text())["pairs"]["test"] == 3
    before = _files(root)
    again = runner.invoke(app, ["crossmatch", "-w", str(root), "--n-test", "4"])
    assert again.exit_code == 1
    assert "already exists; use --overwrite" in one_error_line(again)
    assert _files(root) == before
    redone = runner.invoke(
        app, ["crossmatch", "-w", str(root), "--n-test", "4", "--seed", "9", "--radius", "1.5", "--overwrite"]
    )
    assert redone.exit_code == 0, redone.output
    written = json.loads(summary.read_text())
    assert written["pairs"]["test"] == 4
    assert written["settings"]["seed"] == 9 and written["settings"]["radius_arcsec"] == 1.5


def test_surveys_pairs_the_objects_in_every_listed_survey(fetched_workspace) -> None:
    root = fetched_workspace()
    result = runner.invoke(app, ["crossmatch", "-w", str(root), "--surveys", "cfht,sdss"])
    assert result.exit_code == 0, result.output
    assert "pairs across 2 surveys" in result.stdout
    paired = PairedStore.open(root / "data/paired.zarr")
    assert paired.attrs["surveys"] == ["cfht", "sdss"] and paired.attrs["reference"] == "cfht"
    truth = set(CutoutStore.open(root / "data/raw/sdss.zarr").ids) & set(
        CutoutStore.open(root / "data/raw/cfht.zarr").ids
    )
    assert (
        set(paired.column("sdss_id")) == set(paired.column("cfht_id"))
        and set(paired.column("sdss_id")) <= truth
    )
    assert len(paired.column("sdss_id")) >= 0.9 * len(truth)


def test_output_paths_can_be_chosen(fetched_workspace, tmp_path: Path) -> None:
    root = fetched_workspace()
    out = tmp_path / "elsewhere"
    args = ["--paired", str(out / "p.zarr"), "--unpaired-sdss", str(out / "us.zarr")]
    args += ["--unpaired-cfht", str(out / "uc.zarr"), "--summary", str(out / "s.json")]
    result = runner.invoke(app, ["crossmatch", "-w", str(root), "--test-fraction", "0.3", *args])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["p.zarr", "s.json", "uc.zarr", "us.zarr"]
    assert not (root / "data/paired.zarr").exists()


@pytest.fixture(scope="module")
def untouched_workspace(_fetched_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy shared by the bad-input cases, which must all leave it as it is."""
    return Path(shutil.copytree(_fetched_template, tmp_path_factory.mktemp("bad-input") / "ws"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n-test", "3", "--test-fraction", "0.5"], "exclude each other"),
        (["--n-test", "100000"], "cannot hold out 100000 test pairs"),
        (["--sdss", "nowhere.zarr"], "nowhere.zarr does not exist; fill it with `galtk fetch`"),
        (["--cfht", "data/raw/sdss.zarr"], "both stores hold sdss cutouts"),
        (["--radius", "0"], "must be positive"),
        (["--surveys", "sdss"], "surveys must name at least two different surveys"),
        (["--surveys", "sdss,hst"], "galtk.toml has no [surveys.hst] table"),
    ],
)
def test_bad_input_gives_one_error_line_and_writes_nothing(untouched_workspace: Path, args, message) -> None:
    root = untouched_workspace
    before = _files(root)
    result = runner.invoke(app, ["crossmatch", "-w", str(root), *args])
    assert result.exit_code == 1, result.output
    assert message in one_error_line(result)
    assert _files(root) == before
    assert not np.any([path.name.endswith(".galtk-new") for path in (root / "data").iterdir()])
