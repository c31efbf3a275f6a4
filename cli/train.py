"""``galtk train``: train a method of SPEC section 5 on the workspace's cross-match and preprocess outputs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from galtk.cli import WorkspaceOption, console, reports_errors

if TYPE_CHECKING:
    from galtk.models.training.trainer import TrainingReport


@reports_errors
def train_command(
    method: Annotated[
        str | None,
        typer.Option(
            "--method",
            "-m",
            help="Method (ours = step 1 then step 2, ours-step1, ours-step2, pix2pix, ... cyclegan, augcgan;"
            " or its number or paper letter; galaxygan on galtk degrade pairs). Default: \\[train] method.",
            show_default=False,
        ),
    ] = None,
    iterations: Annotated[
        int | None, typer.Option("--iterations", min=1, help="Iterations of each step (paper: 60,000).")
    ] = None,
    step1_iterations: Annotated[
        int | None,
        typer.Option("--step1-iterations", min=1, help="Iterations of step 1 of ours, if not --iterations."),
    ] = None,
    width: Annotated[
        float | None,
        typer.Option("--width", min=0.0, help="Scale of every network's channel counts (1: the paper's)."),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", min=1, help="Unpaired images of each survey per iteration (paper: 24)."),
    ] = None,
    batch_pairs: Annotated[
        int | None, typer.Option("--batch-pairs", min=1, help="Training pairs per iteration (paper: 24).")
    ] = None,
    lr: Annotated[float | None, typer.Option("--lr", min=0.0, help="Initial Adam learning rate.")] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="auto (CUDA if present), cpu, cuda or cuda:N.")
    ] = None,
    precision: Annotated[
        str | None, typer.Option("--precision", help="auto (bf16 autocast on CUDA, fp32 on CPU), bf16, fp32.")
    ] = None,
    compile_networks: Annotated[
        bool | None,
        typer.Option("--compile/--no-compile", help="torch.compile the networks.", show_default=False),
    ] = None,
    in_memory: Annotated[
        bool | None,
        typer.Option(
            "--in-memory/--streaming",
            help="Hold every training image in the device's memory, or read batches from the stores"
            " (default: \\[train] memory; auto holds what fits).",
            show_default=False,
        ),
    ] = None,
    run: Annotated[
        str | None,
        typer.Option(
            "--run",
            help="Run directory name under \\[train] runs (default: METHOD-UTCTIME; with --resume: the latest"
            " run of the method).",
            show_default=False,
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue a run from its newest checkpoint, with its saved settings."),
    ] = False,
    checkpoint_every: Annotated[
        int | None, typer.Option("--checkpoint-every", min=1, help="Iterations between checkpoints.")
    ] = None,
    log_every: Annotated[
        int | None, typer.Option("--log-every", min=1, help="Iterations averaged into each log row.")
    ] = None,
    sample_every: Annotated[
        int | None,
        typer.Option("--sample-every", min=0, help="Iterations between sample image grids (0: none)."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Seed of weights, batches and noise.")
    ] = None,
    degraded: Annotated[
        Path | None,
        typer.Option(
            "--degraded",
            help="galaxygan: the galtk degrade store to train on (default: \\[train] degraded, else"
            " data/degraded/NAME.zarr of the first survey).",
            show_default=False,
        ),
    ] = None,
    folds: Annotated[
        int | None,
        typer.Option("--folds", min=0, help="galaxygan: K-fold cross-validation (0: the store's split)."),
    ] = None,
    fold: Annotated[
        int | None, typer.Option("--fold", min=0, help="galaxygan: the held-out fold, 0 to K - 1.")
    ] = None,
    inputs: Annotated[
        str | None,
        typer.Option(
            "--inputs",
            help="pix2pix: input surveys, comma-separated, in channel order (default: \\[train] inputs).",
        ),
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="pix2pix: the target survey (default: \\[train] target).")
    ] = None,
    frozen_from: Annotated[
        Path | None,
        typer.Option(
            "--frozen-from",
            help="ours-step2: run directory (of ours or ours-step1) or checkpoint holding the trained Noise"
            " Emulators.",
            show_default=False,
        ),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Train a method on the cross-match outputs (after `galtk preprocess`), with checkpoints and logs.

    Every run writes a directory (default: runs/METHOD-UTCTIME in the workspace) holding run.json (settings,
    data, versions), losses.csv, TensorBoard events, sample image grids and checkpoints; --resume continues
    an interrupted run exactly. Defaults come from \\[train] of galtk.toml (the paper's settings); flags
    override them. For several GPUs start it with torchrun (docs/training.md).
    """
    from galtk.models.training.launch import prepare_workspace
    from galtk.pipeline.workspace import load_workspace

    ws = load_workspace(workspace)
    overrides = {
        "method": method,
        "iterations": iterations,
        "step1_iterations": step1_iterations,
        "width": width,
        "batch_size": batch_size,
        "batch_pairs": batch_pairs,
        "learning_rate": lr,
        "device": device,
        "precision": precision,
        "compile": compile_networks,
        "memory": None if in_memory is None else ("hold" if in_memory else "stream"),
        "checkpoint_every": checkpoint_every,
        "log_every": log_every,
        "sample_every": sample_every,
        "seed": seed,
        "degraded": None if degraded is None else str(degraded),
        "folds": folds,
        "fold": fold,
        "inputs": None if inputs is None else [name.strip() for name in inputs.split(",") if name.strip()],
        "target": target,
    }
    launch = prepare_workspace(ws, overrides=overrides, name=run, resume=resume, frozen_from=frozen_from)
    if not launch.context.is_main:
        launch.train()
        return
    where = "resuming" if launch.plan.resume else "new run"
    console.print(
        f"galtk train: {launch.request.method.name} on {launch.context.device}"
        + (f" x {launch.context.world_size} processes" if launch.context.enabled else "")
        + f", {where} {launch.plan.root}"
    )
    with _progress() as progress:
        report = launch.train(TrainingProgress(progress))
    console.print(_summary(report, ws.root))


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("it"),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[loss]}"),
        console=console,
    )


class TrainingProgress:
    """The trainer's observer: one bar per stage with iteration rate, ETA and the latest logged losses."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def stage_started(self, stage: str, done: int, total: int) -> None:
        """Open the bar of ``stage`` at ``done`` of ``total``."""
        self._task = self._progress.add_task(stage, total=total, completed=done, rate="", loss="")

    def iteration_done(self, stage: str, done: int, losses: Mapping[str, float] | None) -> None:
        """Advance the bar; show the rate and, when a row was logged, the updates' losses."""
        if self._task is None:
            return
        task = self._progress.tasks[self._task]
        fields = {"rate": f"{task.speed:.2f} it/s" if task.speed else ""}
        if losses is not None:
            fields["loss"] = " ".join(
                f"{name.removesuffix('/loss')} {value:.4g}"
                for name, value in losses.items()
                if name.endswith("/loss")
            )
        self._progress.update(self._task, completed=done, **fields)


def _summary(report: TrainingReport, root: Path) -> Table:
    try:
        where = str(report.run.relative_to(root))
    except ValueError:
        where = str(report.run)
    table = Table(title=f"galtk train {report.method}: {where}")
    for column in ("stage", "iterations", "this launch", "time", "it/s", "final losses"):
        table.add_column(column, justify="left" if column in ("stage", "final losses") else "right")
    for stage in report.stages:
        losses = ", ".join(
            f"{name.removesuffix('/loss')} {value:.4g}"
            for name, value in stage.losses.items()
            if name.endswith("/loss")
        )
        table.add_row(
            stage.stage,
            f"{stage.iterations:,}",
            f"{stage.iterations - stage.first_iteration:,}",
            f"{stage.seconds:,.1f} s",
            f"{stage.iterations_per_second:.2f}",
            losses,
        )
    return table
