"""``galtk evaluate`` in a workspace: choose and name the models, then translate, measure and report.

:func:`plan_evaluation` checks everything that can be checked before the work starts (the report's
destination, the test split, every model asked for, two models that would share a name) and returns an
:class:`EvaluationPlan`; :meth:`EvaluationPlan.run` reads the test pairs, evaluates every model on them
(:func:`~galtk.models.evaluation.translators.evaluate_translators`) and writes the report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from galtk.errors import GaltkError
from galtk.models.evaluation.pairs import TestPairs, open_test_split, read_test_pairs
from galtk.models.evaluation.report import check_destination, write_report
from galtk.models.evaluation.results import EvaluationResult
from galtk.models.evaluation.translators import REFERENCE_NOISE_CHOICES, evaluate_translators
from galtk.models.training.settings import resolve_device, train_settings
from galtk.models.translation.translator import Translator, find_checkpoint, load_translator
from galtk.pipeline.crossmatch.stage import check_outputs_whole
from galtk.pipeline.locks import exclusive_lock
from galtk.pipeline.workspace import Workspace


@dataclass(frozen=True)
class EvaluationOutcome:
    """What :meth:`EvaluationPlan.run` did.

    Attributes
    ----------
    results : list of EvaluationResult
        One per model.
    pairs : TestPairs
        The test pairs evaluated (``pairs.skipped`` counts those left out).
    report : Path
        The report's ``index.html``.
    """

    results: list[EvaluationResult]
    pairs: TestPairs
    report: Path


@dataclass(frozen=True)
class EvaluationPlan:
    """An evaluation ready to run: the models, the test pairs and where the report goes.

    Attributes
    ----------
    translators : dict of str to Translator
        The models, by their name in the report.
    paired : Path
        The paired store whose test pairs are evaluated.
    test_rows : int
        Its number of test pairs.
    destination : Path
        The report directory.
    device : torch.device
        Where the models run.
    limit : int or None
        Evaluate only the first ``limit`` usable test pairs.
    seed, reference_noise, batch_size, overwrite
        As for :func:`plan_evaluation`.
    """

    translators: dict[str, Translator]
    paired: Path
    test_rows: int
    destination: Path
    device: torch.device
    limit: int | None = None
    seed: int = 0
    reference_noise: str = "auto"
    batch_size: int = 64
    overwrite: bool = False

    @property
    def wanted(self) -> int:
        """The number of test pairs asked for."""
        return min(self.limit or self.test_rows, self.test_rows)

    def run(
        self,
        on_start: Callable[[str, int], None] | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> EvaluationOutcome:
        """Read the test pairs, evaluate every model on them and write the report (atomically).

        The report directory is locked from the start (:func:`~galtk.pipeline.locks.exclusive_lock`): a
        second evaluation into it is refused at once rather than after its work, and two never write the
        same staging directory.
        """
        with exclusive_lock(self.destination):
            pairs = read_test_pairs(self.paired, limit=self.limit, on_start=on_start, on_progress=on_progress)
            results = evaluate_translators(
                self.translators,
                pairs,
                seed=self.seed,
                reference_noise=self.reference_noise,
                batch_size=self.batch_size,
                on_start=on_start,
                on_progress=on_progress,
            )
            title = f"galtk evaluation: {', '.join(self.translators)}"
            report = write_report(results, self.destination, overwrite=self.overwrite, title=title)
        return EvaluationOutcome(results, pairs, report)


def plan_evaluation(
    workspace: Workspace,
    *,
    methods: Sequence[str] = (),
    runs: Sequence[str] = (),
    checkpoints: Sequence[str | Path] = (),
    output: str | Path,
    overwrite: bool = False,
    limit: int | None = None,
    seed: int = 0,
    reference_noise: str = "auto",
    device: str | None = None,
    batch_size: int = 64,
) -> EvaluationPlan:
    """Check the inputs of ``galtk evaluate`` and load its models.

    Parameters
    ----------
    workspace : Workspace
        The loaded workspace: its paired store (``[crossmatch] paired``) and runs (``[train] runs``).
    methods, runs, checkpoints : sequence, optional
        The models: the latest run of each method, each run, each checkpoint file (default: the latest run
        of ``[train] method``).
    output : str or Path
        Report directory, relative to the workspace.
    overwrite : bool, optional
        Replace an existing report.
    limit : int, optional
        Evaluate only the first ``limit`` usable test pairs.
    seed : int, optional
        Noise seed of the first translation (image i gets ``seed + i``).
    reference_noise : {"auto", "true", "emulator"}, optional
        Sigma of the flux-difference figure.
    device : str, optional
        Default: ``[train] device``.
    batch_size : int, optional
        Images per forward pass.

    Returns
    -------
    EvaluationPlan

    Raises
    ------
    GaltkError
        If an option is invalid, the report is in the way, the paired store has no test pairs, or a model
        cannot be found or loaded.
    """
    if reference_noise not in REFERENCE_NOISE_CHOICES:
        raise GaltkError(f"--reference-noise {reference_noise!r}: use {', '.join(REFERENCE_NOISE_CHOICES)}")
    destination = workspace.output(output, "--output")
    check_destination(destination, overwrite=overwrite, flag="--overwrite")
    outputs = workspace.crossmatch_outputs()
    check_outputs_whole(outputs)
    paired = outputs.paired
    _, test_rows, bands = open_test_split(paired)
    train = train_settings(workspace)
    chosen_device = resolve_device(device or train.device)
    translators = load_named_translators(
        workspace.resolve(train.runs),
        methods=methods,
        runs=runs,
        checkpoints=checkpoints,
        default_method=train.method,
        bands=bands,
        device=chosen_device,
    )
    return EvaluationPlan(
        translators,
        paired,
        int(test_rows.size),
        destination,
        chosen_device,
        limit=limit,
        seed=seed,
        reference_noise=reference_noise,
        batch_size=batch_size,
        overwrite=overwrite,
    )


def load_named_translators(
    runs_dir: Path,
    *,
    methods: Sequence[str] = (),
    runs: Sequence[str] = (),
    checkpoints: Sequence[str | Path] = (),
    default_method: str = "ours",
    bands: tuple[str, ...],
    device: torch.device,
) -> dict[str, Translator]:
    """Find and load every model asked for; name each by its method (and run, where methods repeat).

    Parameters
    ----------
    runs_dir : Path
        The workspace's runs directory.
    methods, runs, checkpoints : sequence, optional
        As for :func:`plan_evaluation`; none at all means the latest run of ``default_method``.
    default_method : str, optional
        The method evaluated when nothing else is asked for.
    bands : tuple of str
        Bands of the test pairs.
    device : torch.device
        Where the models run.

    Returns
    -------
    dict of str to Translator

    Raises
    ------
    GaltkError
        If a model cannot be found or loaded, the same checkpoint is asked for twice, or two models would
        share a name.
    """
    requests: list[tuple[str | None, str | None, str | Path | None]] = [(m, None, None) for m in methods]
    requests += [(None, name, None) for name in runs]
    requests += [(None, None, path) for path in checkpoints]
    if not requests:
        requests = [(default_method, None, None)]
    paths = [find_checkpoint(runs_dir, method=m, run=r, checkpoint=c) for m, r, c in requests]
    resolved = [path.resolve() for path in paths]
    repeated = sorted({str(path) for path in resolved if resolved.count(path) > 1})
    if repeated:
        raise GaltkError(f"the same checkpoint is asked for twice: {repeated[0]}")
    loaded = [
        load_translator(path, method=request[0], bands=bands, device=device)
        for path, request in zip(paths, requests, strict=True)
    ]
    names = [translator.method for translator in loaded]
    labelled: dict[str, Translator] = {}
    for translator in loaded:
        name = translator.method
        if names.count(name) > 1:
            name = _safe_name(f"{name}.{_run_name(translator)}")
        if name in labelled:
            raise GaltkError(f"two models would both be called {name} in the report; name other runs")
        labelled[name] = translator
    return labelled


def _run_name(translator: Translator) -> str:
    """The name of the translator's run directory, else its checkpoint's stem."""
    run = translator.run_directory
    return run.name if run is not None else translator.checkpoint.stem


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._")
    return cleaned or "model"
