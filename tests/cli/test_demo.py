"""``galtk demo --quick``: the whole chain, offline, end to end; refusals of a directory in use."""

from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path

import pytest
import torch
from astropy.io import fits
from cli_results import one_error_line
from typer.testing import CliRunner

from galtk.cli.app import app
from galtk.cli.demo import QUICK

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("one_torch_thread")
#: The quick demo must stay well within CI budgets on 2 cores.
QUICK_DEMO_SECONDS = 120


def test_quick_demo_runs_every_step_and_can_be_rerun_with_force(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    started = time.perf_counter()
    result = runner.invoke(app, ["demo", str(directory), "--quick", "--device", "cpu"])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert elapsed < QUICK_DEMO_SECONDS
    assert Path.cwd() != directory.resolve()
    output = result.stdout
    steps = [line for line in output.splitlines() if line.startswith("$ ")]
    assert steps[:2] == [f"$ galtk init --sim {directory}", f"$ cd {directory}"]
    commands = ["fetch", "crossmatch", "preprocess", "train", "translate", "evaluate"]
    assert [step.split()[2] for step in steps[2:]] == commands
    assert "$ galtk train --device cpu\n" in output
    assert f"n_objects = {QUICK.n_objects}" in output
    config = tomllib.loads((directory / "galtk.toml").read_text())
    assert {key: config["train"][key] for key in QUICK.train} == QUICK.train
    assert "Report:" in output and "galtk demo:" in output
    # every step's outputs are where the commands put them
    assert (directory / "galtk.toml").is_file()
    for store in (
        "raw/sdss.zarr",
        "raw/cfht.zarr",
        "paired.zarr",
        "unpaired_sdss.zarr",
        "unpaired_cfht.zarr",
    ):
        assert (directory / "data" / store / "zarr.json").is_file(), store
    (run,) = (directory / "runs").iterdir()
    assert run.name.startswith("ours-") and list((run / "checkpoints" / "step2").glob("*.pt"))
    inputs = sorted((directory / "cutouts").rglob("*.fits"))
    assert len(inputs) == 2 * QUICK.cutouts
    translated = sorted((directory / "translated").glob("*.fits"))
    assert len(translated) == 2 * QUICK.cutouts
    for path in translated:
        with fits.open(path) as hdus:
            header, data = hdus[0].header, hdus[0].data
            size = 136 if header["SURVEY"] == "cfht" else 64
            assert data.shape == (5, size, size) and header["METHOD"] == "ours"
    report = directory / "reports" / "evaluation"
    document = json.loads((report / "metrics.json").read_text())
    assert list(document["methods"]) == ["ours"]
    assert set(document["methods"]["ours"]) == {"sdss2cfht", "cfht2sdss"}
    assert (report / "index.html").is_file() and len(list((report / "figures").glob("*.png"))) >= 10

    again = runner.invoke(app, ["demo", str(directory), "--quick", "--device", "cpu", "--force"])
    assert again.exit_code == 0, again.output
    assert (
        "$ galtk fetch --overwrite" in again.stdout
        and "$ galtk evaluate --method ours --overwrite" in again.stdout
    )
    assert len(list((directory / "runs").iterdir())) == 2
    assert json.loads((report / "metrics.json").read_text())["created_utc"] >= document["created_utc"]


def test_demo_refuses_a_directory_in_use(tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "thesis.tex").write_text("precious")
    result = runner.invoke(app, ["demo", str(busy), "--quick"])
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "not empty" in line and "--force" in line
    assert [path.name for path in busy.iterdir()] == ["thesis.tex"]
    a_file = tmp_path / "file"
    a_file.write_text("")
    result = runner.invoke(app, ["demo", str(a_file), "--quick"])
    assert result.exit_code == 1
    assert "not a directory" in one_error_line(result)


@pytest.mark.parametrize(
    ("device", "message"), [("tpu", "device must be auto, cpu, cuda or cuda:N"), ("cuda:9", "cuda")]
)
def test_a_device_training_would_refuse_is_refused_before_anything_is_written(
    tmp_path: Path, device: str, message: str
) -> None:
    """--device tpu was refused at the training step, after 147 MB of stores had been written."""
    if device.startswith("cuda") and torch.cuda.device_count() > 9:
        pytest.skip("this machine has a tenth GPU")
    result = runner.invoke(app, ["demo", str(tmp_path / "demo"), "--quick", "--device", device])
    assert result.exit_code == 1
    assert message in one_error_line(result)
    assert not (tmp_path / "demo").exists()
