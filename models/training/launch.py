"""One launch of ``galtk train``: join the process group, choose the run, open the data, train.

Rank 0 decides the run directory and settings and writes the snapshot; the other ranks of a ``torchrun``
launch receive its decision, so every process trains the same run with the same settings.
"""

from __future__ import annotations

import shutil
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from galtk.errors import ConfigError, GaltkError
from galtk.models.methods import MULTI_INPUT_METHOD, Method, resolve_method
from galtk.models.training.batches.degraded_pairs import DegradedPairSources
from galtk.models.training.batches.sources import StoreBatchSources
from galtk.models.training.batches.survey_pairs import SurveyPairSources
from galtk.models.training.distributed import Distributed, from_environment
from galtk.models.training.run import RunDirectory, RunPlan, plan_run, start_run
from galtk.models.training.settings import TrainSettings, method_tables, train_settings
from galtk.models.training.trainer import BatchSources, TrainingObserver, TrainingReport, train
from galtk.pipeline.locks import exclusive_lock
from galtk.pipeline.workspace import CONFIG_NAME, Workspace, override_settings


@dataclass(frozen=True)
class LaunchRequest:
    """What ``galtk train`` was asked to do.

    Attributes
    ----------
    method : Method
        The method.
    settings : TrainSettings
        Settings of a new run: ``[train]`` of galtk.toml with the flags applied.
    overrides : dict
        The flags given (None: not given), applied to a resumed run's saved settings.
    runs : Path
        Directory of the runs.
    name : str or None
        ``--run``.
    resume : bool
        ``--resume``.
    frozen_from : Path or None
        ``--frozen-from``: where a first stage's frozen networks come from.
    """

    method: Method
    settings: TrainSettings
    overrides: dict[str, Any]
    runs: Path
    name: str | None = None
    resume: bool = False
    frozen_from: Path | None = None


@dataclass
class Launch:
    """A prepared launch: the process's place, the run's plan and its data, ready for :meth:`train`."""

    request: LaunchRequest
    context: Distributed
    plan: RunPlan
    sources: BatchSources
    bands: tuple[str, ...]
    input_bands: tuple[str, ...] | None = None

    def train(self, observer: TrainingObserver | None = None) -> TrainingReport:
        """Write the run snapshot (rank 0), then train every stage, holding the run's lock (rank 0)."""
        with exclusive_lock(self.plan.root) if self.context.is_main else nullcontext():
            return self._train(observer)

    def _train(self, observer: TrainingObserver | None) -> TrainingReport:
        if self.context.is_main:
            details: dict[str, Any] = {"bands": list(self.bands), "data": self.sources.describe()}
            if self.input_bands:
                details["input_bands"] = list(self.input_bands)
            if self.request.frozen_from is not None:
                details["frozen_from"] = str(self.request.frozen_from)
            launch = {"device": str(self.context.device), "world_size": self.context.world_size}
            run = start_run(self.plan, method=self.request.method.name, details=details, launch=launch)
        else:
            run = RunDirectory(self.plan.root)
        self.context.barrier()
        try:
            return train(
                self.request.method,
                self.plan.settings,
                run,
                self.sources,
                bands=self.bands,
                input_bands=self.input_bands,
                context=self.context,
                frozen_from=self.request.frozen_from,
                observer=observer,
            )
        except GaltkError:
            if self.context.is_main and not self.plan.resume:
                _remove_if_never_trained(run)
            raise


def _remove_if_never_trained(run: RunDirectory) -> None:
    """Remove a new run that failed before its first checkpoint, so that its name can be used again."""
    checkpoints = run.root / "checkpoints"
    if checkpoints.exists() and any(path.is_file() for path in checkpoints.rglob("*.pt")):
        return
    shutil.rmtree(run.root, ignore_errors=True)


def prepare(request: LaunchRequest, sources: BatchSources, context: Distributed | None = None) -> Launch:
    """Join the process group (under ``torchrun``), choose the run and open its data; nothing is written.

    Parameters
    ----------
    request : LaunchRequest
        What was asked.
    sources : BatchSources
        Where the run's batches come from.
    context : Distributed, optional
        This process's place (default: from the ``torchrun`` environment and the ``device`` setting).

    Returns
    -------
    Launch

    Raises
    ------
    GaltkError
        If the run cannot be chosen (see :func:`~galtk.models.training.run.plan_run`) or the data cannot
        be opened; under ``torchrun`` every rank raises rank 0's error.
    """
    device = request.overrides.get("device") or request.settings.device
    context = context or from_environment(device)
    overrides = {**request.overrides, "device": device}
    decision: tuple[RunPlan | None, str] = (None, "")
    if context.is_main:
        try:
            plan = plan_run(
                request.runs,
                method=request.method.name,
                name=request.name,
                resume=request.resume,
                settings=request.settings,
                overrides=overrides,
            )
            decision = (plan, "")
        except GaltkError as error:
            decision = (None, str(error))
    plan, problem = context.broadcast_object(decision)
    if plan is None:
        raise GaltkError(problem)
    opened = sources.open_all(request.method, context, plan.settings)
    bands = tuple(opened[0].bands)
    input_bands = tuple(getattr(opened[0], "input_bands", bands))
    return Launch(request, context, plan, sources, bands, input_bands if input_bands != bands else None)


def prepare_workspace(
    workspace: Workspace,
    *,
    overrides: dict[str, Any],
    name: str | None = None,
    resume: bool = False,
    frozen_from: str | Path | None = None,
    context: Distributed | None = None,
) -> Launch:
    """Prepare ``galtk train`` in a workspace: ``[train]`` with the flags, on the cross-match outputs.

    Parameters
    ----------
    workspace : Workspace
        The loaded workspace.
    overrides : dict
        Training settings given as flags (None: not given), including ``method``.
    name : str, optional
        The run's name (``--run``).
    resume : bool, optional
        Continue that run, or the latest run of the method.
    frozen_from : str or Path, optional
        Checkpoint or run holding the frozen networks of a first stage (relative to the workspace).
    context : Distributed, optional
        As for :func:`prepare`.

    Returns
    -------
    Launch
    """
    requested = override_settings(train_settings(workspace), **overrides)
    chosen = resolve_method(requested.method)
    if chosen.name == "pix2pix" and requested.inputs:  # pix2pix given input surveys: its multi-input form
        chosen = resolve_method(MULTI_INPUT_METHOD)
    for table in method_tables(workspace):
        try:
            resolve_method(table)
        except GaltkError as error:
            raise ConfigError(f"{workspace.root / CONFIG_NAME}: [train.{table}]: {error}") from None
    settings = train_settings(workspace, method=chosen.name, defaults=dict(chosen.settings))
    settings = override_settings(settings, **overrides)
    settings = override_settings(settings, method=chosen.name)
    request = LaunchRequest(
        method=chosen,
        settings=settings,
        overrides={key: value for key, value in overrides.items() if key != "method"},
        runs=workspace.output(settings.runs, "[train] runs"),
        name=name,
        resume=resume,
        frozen_from=workspace.resolve(frozen_from) if frozen_from is not None else None,
    )
    return prepare(request, _batch_sources(workspace, chosen, settings), context)


def _batch_sources(workspace: Workspace, method: Method, settings: TrainSettings) -> BatchSources:
    """The cross-match outputs; for ``galaxygan`` the degrade store of ``[train] degraded``; for ``pix2pix``
    the pairs across surveys of ``[crossmatch] paired``."""
    if method.pairs == "crossmatch":
        return StoreBatchSources.of_workspace(workspace)
    if method.pairs == "surveys":
        if not settings.inputs or not settings.target:
            raise GaltkError(
                f"{method.name} needs its input surveys and its target survey: --inputs B,C,D --target A "
                "(or inputs and target in [train])"
            )
        return SurveyPairSources(
            workspace.output(workspace.config.crossmatch.paired, "[crossmatch] paired"),
            inputs=tuple(workspace.survey(name) for name in settings.inputs),
            target=workspace.survey(settings.target),
        )
    if settings.degraded:
        return DegradedPairSources(workspace.resolve(settings.degraded))
    first = next(iter(workspace.config.surveys), None)
    if first is None:
        raise GaltkError("galtk.toml declares no survey; name the degrade store with --degraded")
    return DegradedPairSources(workspace.root / "data" / "degraded" / workspace.store_path(first).name)
