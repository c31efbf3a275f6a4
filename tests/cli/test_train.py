"""``galtk train`` on a synthetic-sky workspace: missing inputs, a tiny ours run, resume, refusals."""

from __future__ import annotations

import csv
import json
import os

import pytest
from cli_results import one_error_line
from typer.testing import CliRunner

from galtk.cli.app import app
from galtk.pipeline.locks import exclusive_lock

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("one_torch_thread")
TINY = ["--width", "0.0625", "--batch-size", "1", "--batch-pairs", "1", "--device", "cpu"]


def test_missing_crossmatch_or_preprocess_outputs_are_named_and_no_run_is_created(fetched_workspace) -> None:
    root = fetched_workspace()
    result = runner.invoke(app, ["train", "-w", str(root), *TINY])
    assert result.exit_code == 1
    assert "galtk crossmatch" in one_error_line(result)
    assert runner.invoke(app, ["crossmatch", "-w", str(root)]).exit_code == 0
    result = runner.invoke(app, ["train", "-w", str(root), *TINY])
    assert result.exit_code == 1
    assert "galtk preprocess" in one_error_line(result)
    assert not (root / "runs").exists()
    result = runner.invoke(app, ["train", "-w", str(root), "--method", "ours-3"])
    assert result.exit_code == 1
    assert "unknown method 'ours-3'" in one_error_line(result)


def test_ours_runs_both_steps_then_resume_finds_them_done(fetched_workspace) -> None:
    root = fetched_workspace()
    for command in ("crossmatch", "preprocess"):
        assert runner.invoke(app, [command, "-w", str(root)]).exit_code == 0
    arguments = ["train", "-w", str(root), "--method", "ours", "--iterations", "2", "--run", "tiny", *TINY]
    result = runner.invoke(app, [*arguments, "--checkpoint-every", "1", "--log-every", "1"])
    assert result.exit_code == 0, result.output
    assert "galtk train ours" in result.stdout and "step2" in result.stdout
    run = root / "runs" / "tiny"
    snapshot = json.loads((run / "run.json").read_text())
    assert snapshot["method"] == "ours" and snapshot["bands"] == ["u", "g", "r", "i", "z"]
    assert snapshot["settings"]["width"] == 0.0625 and snapshot["settings"]["learning_rate"] == 1e-4
    assert snapshot["data"]["paired"] == str(root / "data/paired.zarr")
    assert snapshot["data"]["opened"]["rescaled"]["counts"]["train_pairs"] > 0
    assert snapshot["launches"][0]["device"] == "cpu"
    with open(run / "losses.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [(row["stage"], row["iteration"]) for row in rows] == [
        ("step1", "1"),
        ("step1", "2"),
        ("step2", "1"),
        ("step2", "2"),
    ]
    assert rows[0]["A/loss"] and rows[0]["NE/loss"] and rows[-1]["G/cyc"] and not rows[-1]["A/loss"]
    for stage, grids in (("step1", ("sdss-autoencoder", "cfht-autoencoder")), ("step2", ("sdss-to-cfht",))):
        assert (run / "checkpoints" / stage / "iter_0000002.pt").exists()
        for grid in grids:
            assert (run / "samples" / stage / f"iter_0000002_{grid}.png").exists()

    again = runner.invoke(app, ["train", "-w", str(root), "--method", "ours", "--resume"])
    assert again.exit_code == 0, again.output
    assert "tiny" in again.stdout
    assert len(json.loads((run / "run.json").read_text())["launches"]) == 2

    refused = runner.invoke(app, ["train", "-w", str(root), "--resume", "--run", "tiny", "--width", "0.5"])
    assert refused.exit_code == 1
    assert "cannot change width" in one_error_line(refused)
    taken = runner.invoke(app, [*arguments])
    assert taken.exit_code == 1
    assert "--resume" in one_error_line(taken)
    for attempt in range(2):  # a failed start leaves no run behind: the name can be used again at once
        stub = runner.invoke(
            app,
            [
                *("train", "-w", str(root), "--method", "ours-step2", "--run", "stub", "--iterations", "1"),
                *("--frozen-from", str(root / "runs" / "nothing"), *TINY),
            ],
        )
        assert stub.exit_code == 1, stub.output
        assert "exists already" not in one_error_line(stub), attempt
        assert not (root / "runs" / "stub").exists()
    rows_before = (run / "losses.csv").read_text()
    with exclusive_lock(run):  # another process trains this run
        busy = runner.invoke(app, ["train", "-w", str(root), "--resume", "--run", "tiny"])
    assert busy.exit_code == 1
    assert f"being written by another galtk process (PID {os.getpid()})" in one_error_line(busy)
    assert (run / "losses.csv").read_text() == rows_before
