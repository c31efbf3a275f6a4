"""The trainer on the CPU: schedule, clipping, logs, exact resume, ours step 1 -> step 2, two processes."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook
from training_fakes import BANDS, FakeBatches, FakeBatchSources, fake_method, tiny_settings

from galtk.errors import CheckpointError, ConfigError, RunError, TrainingError
from galtk.models.methods import Method, resolve_method
from galtk.models.training.checkpoint import latest_checkpoint, load_checkpoint
from galtk.models.training.distributed import Distributed
from galtk.models.training.run import RunDirectory, plan_run, start_run
from galtk.models.training.settings import (
    TrainSettings,
    learning_rate_at,
    settings_from_dict,
    train_settings,
)
from galtk.models.training.trainer import TrainingReport, train
from galtk.pipeline.workspace import CONFIG_NAME, load_workspace, override_settings

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _train(
    runs: Path,
    settings: TrainSettings,
    method: Method | None = None,
    *,
    name: str = "run",
    resume: bool = False,
    data: object = None,
    **options: object,
) -> TrainingReport:
    method = method or fake_method()
    plan = plan_run(runs, method=method.name, name=name, resume=resume, settings=settings, overrides={})
    run = start_run(plan, method=method.name, details={"bands": list(BANDS)})
    return train(method, plan.settings, run, data or FakeBatchSources(), bands=BANDS, **options)


def _assert_same_state(have: dict, want: dict, *, rtol: float, atol: float) -> None:
    """Two network state dicts hold the same tensors (within tolerances) and the same extra state."""
    assert have.keys() == want.keys()
    for name, value in want.items():
        if isinstance(value, torch.Tensor):
            torch.testing.assert_close(have[name], value, rtol=rtol, atol=atol)
        else:
            assert have[name] == value, name


def _rows(run: Path) -> list[dict[str, str]]:
    with open(run / "losses.csv", newline="") as stream:
        return list(csv.DictReader(stream))


def test_learning_rate_is_divided_by_5_every_20000_iterations() -> None:
    paper = TrainSettings()
    expected = {0: 1e-4, 19_999: 1e-4, 20_000: 2e-5, 39_999: 2e-5, 40_000: 4e-6, 59_999: 4e-6}
    for iteration, lr in expected.items():
        assert learning_rate_at(iteration, paper) == pytest.approx(lr, rel=1e-12)


def test_train_settings_come_from_galtk_toml_and_are_validated(tmp_path: Path) -> None:
    def read(text: str) -> TrainSettings:
        (tmp_path / CONFIG_NAME).write_text(text, encoding="utf-8")
        return train_settings(load_workspace(tmp_path))

    settings = read('[train]\nwidth = 0.25\nprecision = "bf16"\nsample_every = 0\n')
    assert (settings.width, settings.precision, settings.eps) == (0.25, "bf16", 1e-8)
    for text, message in (
        ("[train]\nlearning_rat = 1.0\n", "unknown key 'learning_rat' in \\[train\\]"),
        ('[train]\nprecision = "fp16"\n', "precision must be auto, bf16 or fp32"),
        ("[train]\nlr_decay_factor = 0.5\n", "lr_decay_factor must be at least 1"),
        ("[train]\ncompile = 1\n", "train.compile must be of type bool"),
        ("[train]\nwidth = inf\n", "train.width must be a finite number, got inf"),
        ("[train]\nlearning_rate = nan\n", "train.learning_rate must be a finite number, got nan"),
        ("[train]\ncontent_weight = 0\n", "content_weight must be positive"),
        ("[train]\nadversarial_weight = -1\n", "adversarial_weight must not be negative"),
    ):
        with pytest.raises(ConfigError, match=message):
            read(text)
    assert settings_from_dict({"width": 0.5}, source="run.json").width == 0.5
    assert override_settings(settings, width=None, iterations=7).iterations == 7
    with pytest.raises(ConfigError, match="device must be auto, cpu, cuda or cuda:N"):
        override_settings(settings, device="tpu")
    with pytest.raises(ConfigError, match="learning_rate must be a finite number"):
        override_settings(settings, learning_rate=float("nan"))


def test_run_logs_every_term_with_the_schedule_and_writes_samples(tmp_path: Path) -> None:
    settings = tiny_settings(iterations=5, checkpoint_every=2, keep_checkpoints=2, sample_every=5)
    report = _train(tmp_path, settings)
    run = tmp_path / "run"
    rows = _rows(run)
    assert [int(row["iteration"]) for row in rows] == [1, 2, 3, 4, 5]
    assert [float(row["lr"]) for row in rows] == pytest.approx([1e-4, 1e-4, 2e-5, 2e-5, 4e-6], rel=1e-12)
    expected = {"A/loss", "A/mse", "A/grad_norm", "NE/loss", "NE/std", "NE/grad_norm", "stage", "seconds"}
    assert expected <= set(rows[0])
    assert all(float(row["A/loss"]) > 0 for row in rows)
    assert report.stages[0].losses["A/loss"] == pytest.approx(float(rows[-1]["A/loss"]))
    assert sorted(p.name for p in (run / "checkpoints" / "train").iterdir()) == [
        "iter_0000004.pt",
        "iter_0000005.pt",
    ]
    assert report.stages[0].checkpoint == run / "checkpoints/train/iter_0000005.pt"
    assert (run / "samples/train/iter_0000005_sdss-autoencoder.png").stat().st_size > 1000
    assert any((run / "tensorboard").iterdir())
    snapshot = json.loads((run / "run.json").read_text())
    assert snapshot["method"] == "fake" and snapshot["settings"]["iterations"] == 5


def _norms_after_clipping(tmp_path: Path, scale: float, clip: float) -> tuple[list[float], list[float]]:
    """Gradient norm of every optimizer step as the optimizer sees it, and as logged (before clipping)."""
    seen: list[float] = []

    def record(optimizer: torch.optim.Optimizer, args: object, kwargs: object) -> None:
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        seen.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))

    handle = register_optimizer_step_pre_hook(record)
    try:
        settings = tiny_settings(iterations=2, grad_clip_norm=clip)
        _train(tmp_path, settings, fake_method(noise=False, scale=scale), name=f"scale{scale}")
    finally:
        handle.remove()
    logged = [float(row["A/grad_norm"]) for row in _rows(tmp_path / f"scale{scale}")]
    return seen, logged


def test_gradients_are_clipped_to_the_global_norm(tmp_path: Path) -> None:
    seen, logged = _norms_after_clipping(tmp_path, scale=1e6, clip=5.0)
    assert min(logged) > 1e3
    assert seen == pytest.approx([5.0, 5.0], rel=1e-5)
    seen, logged = _norms_after_clipping(tmp_path, scale=1.0, clip=1e9)
    assert seen == pytest.approx(logged, rel=1e-5)


class _StopAt:
    """Observer that interrupts training after iteration ``stop`` (as Ctrl-C would)."""

    def __init__(self, stop: int) -> None:
        self.stop = stop

    def stage_started(self, stage: str, done: int, total: int) -> None:
        pass

    def iteration_done(self, stage: str, done: int, losses: object) -> None:
        if done == self.stop:
            raise KeyboardInterrupt


def test_interrupted_and_resumed_run_matches_an_uninterrupted_one(tmp_path: Path) -> None:
    settings = tiny_settings(iterations=6, checkpoint_every=3)
    straight = _train(tmp_path, settings, name="straight")
    with pytest.raises(KeyboardInterrupt):
        _train(tmp_path, settings, name="resumed", observer=_StopAt(4))
    assert len(_rows(tmp_path / "resumed")) == 4
    resumed = _train(tmp_path, settings, name="resumed", resume=True)
    assert resumed.stages[0].first_iteration == 3 and resumed.stages[0].iterations == 6

    def losses(run: str) -> list[dict[str, str]]:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in _rows(tmp_path / run)]

    expected, got = losses("straight"), losses("resumed")
    assert [row["iteration"] for row in got] == ["1", "2", "3", "4", "5", "6"]
    for want, have in zip(expected, got, strict=True):
        assert {k: float(v) for k, v in have.items() if k != "stage"} == pytest.approx(
            {k: float(v) for k, v in want.items() if k != "stage"}, rel=1e-6, abs=1e-9
        )
    final = [load_checkpoint(report.stages[0].checkpoint) for report in (straight, resumed)]
    for role in ("A_X", "NE_X"):
        _assert_same_state(final[1]["networks"][role], final[0]["networks"][role], rtol=1e-6, atol=1e-8)
    for update in ("A", "NE"):
        assert final[1]["schedulers"][update]["last_epoch"] == 6
    launches = json.loads((tmp_path / "resumed/run.json").read_text())["launches"]
    assert [launch["resumed"] for launch in launches] == [False, True]


def test_resume_refuses_to_change_fixed_settings(tmp_path: Path) -> None:
    settings = tiny_settings(iterations=2)
    _train(tmp_path, settings)
    with pytest.raises(RunError, match=r"cannot change width 0.0625 -> 0.5"):
        plan_run(
            tmp_path, method="fake", name="run", resume=True, settings=settings, overrides={"width": 0.5}
        )
    longer = plan_run(
        tmp_path, method="fake", name=None, resume=True, settings=settings, overrides={"iterations": 3}
    )
    assert longer.root == tmp_path / "run" and longer.settings.iterations == 3
    with pytest.raises(RunError, match="exists already"):
        plan_run(tmp_path, method="fake", name="run", resume=False, settings=settings, overrides={})
    with pytest.raises(RunError, match="trains method fake, not ours"):
        plan_run(tmp_path, method="ours", name="run", resume=True, settings=settings, overrides={})
    for resume in (False, True):
        with pytest.raises(RunError, match=r"--run \.\./\.\./x leads out of"):
            plan_run(tmp_path, method="fake", name="../../x", resume=resume, settings=settings, overrides={})
    assert not (tmp_path.parent.parent / "x").exists()


def test_a_checkpoint_of_another_width_is_refused(tmp_path: Path) -> None:
    _train(tmp_path, tiny_settings(iterations=2))
    run = RunDirectory(tmp_path / "run")
    with pytest.raises(CheckpointError, match=r"width 0.0625 \(this run: 0.125\)"):
        train(fake_method(), tiny_settings(iterations=3, width=0.125), run, FakeBatchSources(), bands=BANDS)


def test_non_finite_loss_stops_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match=r"A/loss became non-finite by iteration 1.*resume"):
        _train(tmp_path, tiny_settings(iterations=2), fake_method(noise=False, scale=float("nan")))


def _ours_data(stage: object, context: Distributed, settings: object) -> FakeBatches:
    return FakeBatches(batch=1, pairs=1)


def test_ours_step2_trains_generators_on_the_frozen_noise_emulators_of_step1(tmp_path: Path) -> None:
    settings = tiny_settings(method="ours", iterations=1, checkpoint_every=1)
    report = _train(tmp_path, settings, resolve_method("ours"), data=_ours_data)
    assert [stage.stage for stage in report.stages] == ["step1", "step2"]
    step1 = load_checkpoint(report.stages[0].checkpoint)
    step2 = load_checkpoint(report.stages[1].checkpoint)
    assert set(step2["networks"]) == {"G_XY", "G_YX", "NE_X", "NE_Y"} and step2["frozen"] == ["NE_X", "NE_Y"]
    for role in ("NE_X", "NE_Y"):
        _assert_same_state(step2["networks"][role], step1["networks"][role], rtol=0, atol=0)
        assert step2["networks"][role]["_extra_state"] == {"parametrisation": "measured"}
        assert not any(p.requires_grad for p in report.stages[1].networks[role].parameters())
    assert {row["stage"] for row in _rows(tmp_path / "run")} == {"step1", "step2"}

    alone = tiny_settings(method="ours-step2", iterations=1)
    with pytest.raises(TrainingError, match="--frozen-from"):
        _train(tmp_path, alone, resolve_method("2"), name="alone", data=_ours_data)
    report = _train(
        tmp_path,
        alone,
        resolve_method("ours-step2"),
        name="alone-from-run",
        data=_ours_data,
        frozen_from=tmp_path / "run",
    )
    frozen = report.stages[0].networks["NE_Y"].state_dict()
    _assert_same_state(dict(frozen), step1["networks"]["NE_Y"], rtol=0, atol=0)
    plan = plan_run(
        tmp_path, method="ours-step2", name=None, resume=True, settings=alone, overrides={"iterations": 2}
    )
    assert plan.root == tmp_path / "alone-from-run"
    resumed = train(  # its own checkpoint holds the frozen networks: no --frozen-from needed
        resolve_method("ours-step2"), plan.settings, RunDirectory(plan.root), _ours_data, bands=BANDS
    )
    assert (resumed.stages[0].first_iteration, resumed.stages[0].iterations) == (1, 2)


@pytest.mark.slow
def test_two_gloo_processes_stay_identical_and_average_their_gradients(tmp_path: Path) -> None:
    worker = Path(__file__).parents[2] / "support" / "training_fakes.py"
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(worker.parent), os.environ.get("PYTHONPATH")])),
        "OMP_NUM_THREADS": "1",
    }
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    result = subprocess.run(
        [*command, str(worker), str(tmp_path)], env=environment, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for rank in (0, 1):
        torch.testing.assert_close(torch.load(tmp_path / f"averaged_rank{rank}.pt"), torch.full((3,), 1.5))
    weights = {
        (name, rank): torch.load(tmp_path / f"{name}_rank{rank}.pt", weights_only=True)
        for name in ("shared", "per-rank")
        for rank in (0, 1)
    }
    for name in ("shared", "per-rank"):
        for key, value in weights[name, 0]["A_X"].items():
            assert torch.equal(weights[name, 1]["A_X"][key], value), f"{name}: ranks differ in {key}"
    single = _train(
        tmp_path / "single", tiny_settings(), fake_method(noise=False), data=FakeBatchSources(shared=True)
    )
    reference = single.stages[0].networks["A_X"].state_dict()
    for key, value in reference.items():  # the same batches on both ranks: the mean gradient is the gradient
        torch.testing.assert_close(weights["shared", 0]["A_X"][key], value, rtol=1e-6, atol=1e-8)
    assert any(  # different batches per rank: a different (averaged) trajectory
        not torch.allclose(weights["per-rank", 0]["A_X"][key], value) for key, value in reference.items()
    )
    assert latest_checkpoint(tmp_path / "runs/per-rank/checkpoints/train") is not None
    assert len(load_checkpoint(tmp_path / "runs/per-rank/checkpoints/train/iter_0000004.pt")["rng"]) == 2
