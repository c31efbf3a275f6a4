"""The entry point of ``galtk evaluate --method galaxygan``: recover the held-out pairs, measure, report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from galtk.models.recovery.evaluate import (
    HeldOutPairs,
    RecoveryResults,
    choose_deconvolutions,
    held_out_pairs,
    measure_recoveries,
    recover_all,
    summarise,
)
from galtk.models.recovery.recoverer import find_recovery_checkpoint, load_recoverer
from galtk.models.recovery.report import claim_verdict, write_recovery_report
from galtk.models.training.settings import resolve_device, train_settings
from galtk.pipeline.workspace import Workspace

DEFAULT_OUTPUT = "reports/recovery"
TUNE_OBJECTS = 40
"""Training pairs the deconvolutions' regularisation is chosen on (per band)."""


@dataclass(frozen=True)
class RecoveryOutcome:
    """What ``galtk evaluate --method galaxygan`` did."""

    report: Path
    pairs: HeldOutPairs
    summaries: dict[str, dict[str, dict[str, dict[str, float]]]]
    claim: dict[str, Any]
    checkpoint: Path


def evaluate_recovery(
    workspace: Workspace,
    *,
    run: str | Path | None = None,
    truth: str | Path | None = None,
    output: str | Path = DEFAULT_OUTPUT,
    overwrite: bool = False,
    limit: int | None = None,
    device: str | None = None,
    batch_size: int = 64,
    tune_objects: int = TUNE_OBJECTS,
    tune: str = "morphology",
    on_stage: Callable[[str, int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> RecoveryOutcome:
    """Evaluate a ``galaxygan`` run against Richardson-Lucy and Wiener on the pairs it never trained on.

    Parameters
    ----------
    workspace : Workspace
        The loaded workspace (its ``[train] runs``).
    run : str or Path, optional
        The run (default: the latest ``galaxygan`` run).
    truth : str or Path, optional
        A cutout store of the same objects without noise (the synthetic sky with ``noise_scale = 0``).
    output : str or Path
        The report directory, relative to the workspace.
    overwrite : bool
        Replace an existing report.
    limit : int, optional
        Evaluate only the first N held-out pairs.
    device : str, optional
        Where the generator runs (default: ``[train] device``).
    batch_size : int
        Images per forward pass.
    tune_objects : int
        Training pairs the deconvolutions' regularisation is chosen on.
    tune : {"morphology", "mse"}
        What that choice minimises against the originals: the claim's shape errors, or the mean squared
        error.
    on_stage, on_progress : callable, optional
        Called with (stage, count) when a stage starts and with a count as it advances.

    Returns
    -------
    RecoveryOutcome
    """
    settings = train_settings(workspace)
    runs = workspace.resolve(settings.runs)
    checkpoint = find_recovery_checkpoint(runs, run=run)
    recoverer = load_recoverer(checkpoint, device=resolve_device(device or settings.device))
    target = workspace.output(output, "--output")
    store = Path(recoverer.data["degraded"])
    pairs = held_out_pairs(store, recoverer, truth=workspace.resolve(truth) if truth else None, limit=limit)
    if on_stage:
        on_stage(f"choose the deconvolutions' regularisation ({tune})", 0)
    regularisation = choose_deconvolutions(store, recoverer, pairs, tune_objects=tune_objects, tune=tune)
    if on_stage:
        on_stage("recover", len(pairs.rows))
    outputs = recover_all(pairs, recoverer, regularisation, batch_size=batch_size, on_progress=on_progress)
    if on_stage:
        on_stage("measure", len(pairs.rows) * (1 if pairs.truth is None else 2))
    values, spectra = measure_recoveries(pairs, outputs, on_progress=on_progress)
    summaries = {name: summarise(values[name], spectra[name], pairs.bands) for name in values}
    record = {
        "run": str(recoverer.run),
        "checkpoint": str(checkpoint),
        "checkpoint_sha256": recoverer.checkpoint_sha256,
        "iteration": recoverer.iteration,
        "degraded": str(store),
        "folds": recoverer.settings.folds,
        "fold": recoverer.settings.fold,
        "deconvolutions_tuned_on": tune,
    }
    results = RecoveryResults(pairs, values, spectra, outputs, regularisation, record)
    held_out = (
        f"fold {recoverer.settings.fold} of {recoverer.settings.folds}"
        if recoverer.settings.folds
        else "test split"
    )
    report = write_recovery_report(results, summaries, target, overwrite=overwrite, held_out=held_out)
    reference = "truth" if "truth" in summaries else "original"
    claim = {"reference": reference, **claim_verdict(summaries[reference], pairs.bands)}
    return RecoveryOutcome(report, pairs, summaries, claim, checkpoint)
