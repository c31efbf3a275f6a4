"""The run directory of ``galtk train``: settings snapshot, checkpoints, logs and sample grids.

Layout (``<workspace>/runs/<method>-<UTC time>`` by default)::

    run.json                       galtk version, method, settings, data stores, bands, history of launches
    losses.csv                     a row per logged iteration: stage, iteration, lr, seconds, every loss term
    tensorboard/                   the same scalars as TensorBoard events (if tensorboard is installed)
    checkpoints/<stage>/iter_NNNNNNN.pt
    samples/<stage>/iter_NNNNNNN_<direction>.png
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from galtk import __version__
from galtk.errors import RunError
from galtk.models.training.checkpoint import checkpoint_name
from galtk.models.training.settings import (
    OPERATIONAL_KEYS,
    TrainSettings,
    changed_settings,
    settings_from_dict,
    settings_to_dict,
)
from galtk.pipeline.replace import write_text_atomic
from galtk.pipeline.workspace import override_settings, stays_inside

SNAPSHOT_NAME = "run.json"


@dataclass(frozen=True)
class RunDirectory:
    """Paths inside one run directory."""

    root: Path

    @property
    def snapshot(self) -> Path:
        """The settings snapshot ``run.json``."""
        return self.root / SNAPSHOT_NAME

    @property
    def losses(self) -> Path:
        """The loss log ``losses.csv``."""
        return self.root / "losses.csv"

    @property
    def tensorboard(self) -> Path:
        """Directory of the TensorBoard event files."""
        return self.root / "tensorboard"

    def checkpoints(self, stage: str) -> Path:
        """Checkpoint directory of ``stage``."""
        return self.root / "checkpoints" / stage

    def checkpoint(self, stage: str, iteration: int) -> Path:
        """Checkpoint of ``stage`` after ``iteration`` iterations."""
        return self.checkpoints(stage) / checkpoint_name(iteration)

    def samples(self, stage: str) -> Path:
        """Directory of the sample grids of ``stage``."""
        return self.root / "samples" / stage

    def read_snapshot(self) -> dict[str, Any]:
        """The contents of ``run.json``.

        Raises
        ------
        RunError
            If it is missing or not valid JSON.
        """
        try:
            return json.loads(self.snapshot.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunError(f"{self.root} is not a galtk run (no {SNAPSHOT_NAME})") from None
        except (OSError, json.JSONDecodeError) as error:
            raise RunError(f"cannot read {self.snapshot}: {error}") from None

    def write_snapshot(self, snapshot: dict[str, Any]) -> None:
        """Replace ``run.json`` atomically."""
        write_text_atomic(self.snapshot, json.dumps(snapshot, indent=2, sort_keys=False) + "\n")


def default_run_name(method: str, now: float | None = None) -> str:
    """``<method>-<UTC time>``, e.g. ``ours-20250131T142501Z``."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    return f"{method}-{stamp}"


def latest_run(runs: Path, method: str) -> Path:
    """The most recently started run of ``method`` under ``runs``.

    Raises
    ------
    RunError
        If there is none.
    """
    candidates = []
    for snapshot in runs.glob(f"*/{SNAPSHOT_NAME}") if runs.is_dir() else []:
        try:
            values = json.loads(snapshot.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if values.get("method") == method:
            candidates.append((values.get("created", ""), snapshot.parent))
    if not candidates:
        raise RunError(f"no run of method {method} under {runs} to resume; start one without --resume")
    return max(candidates)[1]


@dataclass(frozen=True)
class RunPlan:
    """Where a launch of ``galtk train`` writes and with which settings, decided before anything is written.

    Attributes
    ----------
    root : Path
        The run directory.
    settings : TrainSettings
        Settings of the launch (a resumed run's snapshot with the allowed overrides).
    resume : bool
        True when continuing an existing run.
    """

    root: Path
    settings: TrainSettings
    resume: bool


def plan_run(
    runs: Path,
    *,
    method: str,
    name: str | None,
    resume: bool,
    settings: TrainSettings,
    overrides: dict[str, Any],
) -> RunPlan:
    """Choose the run directory and settings of a launch; nothing is written.

    Parameters
    ----------
    runs : Path
        Directory of the runs.
    method : str
        Canonical method name.
    name : str, optional
        Run name (a directory under ``runs``, or an absolute path); default: a new
        ``<method>-<UTC time>``, or with ``resume`` the most recent run of ``method``.
    resume : bool
        Continue an existing run.
    settings : TrainSettings
        Settings of a new run (galtk.toml with the flags applied).
    overrides : dict
        The flags given (None: not given); a resumed run applies them to its snapshot, and only
        :data:`OPERATIONAL_KEYS` may change.

    Returns
    -------
    RunPlan

    Raises
    ------
    RunError
        If a new run's directory is in use, the run to resume does not exist or trains another method, or an
        override would change a setting that must stay fixed.
    """
    if name and not Path(name).is_absolute() and not stays_inside(runs / name, runs):
        raise RunError(
            f"--run {name} leads out of {runs}; give a run name, or an absolute path to write elsewhere"
        )
    if not resume:
        root = runs / (name or default_run_name(method))
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise RunError(
                f"{root} exists already; use --resume to continue that run, or choose another --run"
            )
        return RunPlan(root, settings, resume=False)
    root = runs / name if name else latest_run(runs, method)
    run = RunDirectory(root)
    snapshot = run.read_snapshot()
    if snapshot.get("method") != method:
        raise RunError(f"run {root} trains method {snapshot.get('method')}, not {method}")
    saved = settings_from_dict(snapshot["settings"], source=str(run.snapshot))
    resumed = override_settings(saved, **overrides)
    fixed = [key for key in changed_settings(saved, resumed) if key not in OPERATIONAL_KEYS]
    if fixed:
        details = ", ".join(f"{key} {getattr(saved, key)!r} -> {getattr(resumed, key)!r}" for key in fixed)
        raise RunError(
            f"cannot change {details} when resuming {root} (only {', '.join(sorted(OPERATIONAL_KEYS))} may"
            " change); start a new run instead"
        )
    return RunPlan(root, resumed, resume=True)


def start_run(
    plan: RunPlan, *, method: str, details: dict[str, Any], launch: dict[str, Any] | None = None
) -> RunDirectory:
    """Write the snapshot of a planned launch: a new ``run.json``, or a resumed run's updated one.

    Parameters
    ----------
    plan : RunPlan
        From :func:`plan_run`.
    method : str
        Canonical method name.
    details : dict
        More entries of a new snapshot: ``bands``, ``data`` (the stores and what was read from them),
        ``frozen_from``...
    launch : dict, optional
        More entries of this launch's record in ``launches`` (device, number of processes).

    Returns
    -------
    RunDirectory
    """
    run = RunDirectory(plan.root)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    record = {"time": now, "galtk_version": __version__, "resumed": plan.resume, **(launch or {})}
    if plan.resume:
        snapshot = run.read_snapshot()
        snapshot["settings"] = settings_to_dict(plan.settings)
        snapshot.setdefault("launches", []).append(record)
    else:
        plan.root.mkdir(parents=True, exist_ok=True)
        snapshot = {
            "galtk_version": __version__,
            "method": method,
            "created": now,
            "settings": settings_to_dict(plan.settings),
            **details,
            "launches": [record],
        }
    run.write_snapshot(snapshot)
    return run
