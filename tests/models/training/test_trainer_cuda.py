"""``galtk train`` on a CUDA device: every kind of method, bf16 autocast, torch.compile, streamed and held
training sets (skipped without a CUDA device)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import torch
from sim_workspaces import preprocessed_sim_workspace
from typer.testing import CliRunner

from galtk.cli.app import app
from galtk.models.training.checkpoint import list_checkpoints, load_checkpoint
from galtk.pipeline.workspace import CONFIG_NAME, load_workspace, render_config

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

TINY = ["--width", "0.0625", "--batch-size", "2", "--batch-pairs", "2", "--iterations", "3"]
TINY += ["--checkpoint-every", "3", "--log-every", "1", "--sample-every", "3", "--device", "cuda"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A preprocessed 100-galaxy synthetic workspace."""
    return preprocessed_sim_workspace(tmp_path_factory.mktemp("cuda") / "ws")


def _set_memory(root: Path, memory: str) -> None:
    config = load_workspace(root).config
    config.train = {**config.train, "memory": memory}
    (root / CONFIG_NAME).write_text(render_config(config), encoding="utf-8")


def _train(root: Path, method: str, run: str, *options: str) -> Path:
    result = CliRunner().invoke(
        app, ["train", "--method", method, "--run", run, *TINY, *options, "-w", str(root)]
    )
    assert result.exit_code == 0, result.output
    return root / "runs" / run


def _losses(run: Path) -> list[dict[str, float]]:
    with open(run / "losses.csv", newline="") as stream:
        rows = csv.DictReader(stream)
        return [{k: float(v) for k, v in row.items() if k != "stage" and v != ""} for row in rows]


@pytest.mark.parametrize(
    ("method", "options"),
    [
        ("ours", ["--precision", "bf16"]),
        ("ours-step1", ["--precision", "fp32"]),
        ("cyclegan-pid", ["--precision", "bf16", "--compile"]),
        ("cyclegan", ["--precision", "bf16"]),
        ("augcgan", ["--precision", "bf16"]),
    ],
)
def test_methods_train_on_cuda_and_their_checkpoints_load_on_the_cpu(
    workspace: Path, method, options
) -> None:
    _set_memory(workspace, "auto")
    run = _train(workspace, method, f"{method}-{'-'.join(o.strip('-') for o in options)}", *options)
    details = json.loads((run / "run.json").read_text())
    assert details["launches"][-1]["device"].startswith("cuda")
    rows = _losses(run)
    assert rows and all(math.isfinite(value) for row in rows for value in row.values())
    stages = sorted(path.name for path in (run / "checkpoints").iterdir())
    assert stages == (["step1", "step2"] if method == "ours" else [stages[0]])
    for stage in stages:
        iteration, path = list_checkpoints(run / "checkpoints" / stage)[-1]
        assert iteration == 3
        state = load_checkpoint(path, map_location="cpu")
        for weights in state["networks"].values():
            for tensor in weights.values():
                assert tensor.device.type == "cpu" and torch.isfinite(tensor).all()
        assert list((run / "samples" / stage).glob("iter_0000003_*.png"))


def test_held_and_streamed_training_sets_give_the_same_first_losses(workspace: Path) -> None:
    """Held sets live in GPU memory; streamed ones come through pinned buffers and a copy stream: both give
    the same batches, so the losses of the first iteration (no update yet) agree to GPU float precision."""
    first = {}
    for memory in ("hold", "stream"):
        _set_memory(workspace, memory)
        run = _train(workspace, "ours-step1", f"memory-{memory}", "--precision", "fp32")
        sets = json.loads((run / "run.json").read_text())["data"]["opened"]["rescaled"]["sets"]
        where = {info["held"] for info in sets.values()}
        assert where == (
            {"in cuda:0 memory"} if memory == "hold" else {"streamed from zarr (direct chunk reads)"}
        )
        first[memory] = _losses(run)[0]
    _set_memory(workspace, "auto")
    for name in ("A/loss", "D/loss"):
        assert first["stream"][name] == pytest.approx(first["hold"][name], rel=1e-3), name
