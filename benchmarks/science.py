"""Science benchmark: the paper's claims checked against the synthetic sky's truth, ours and five baselines.

What is measured, in one run:

1. A synthetic-sky workspace is built through the library (``galtk.pipeline``: fetch, cross-match,
   preprocess, as ``galtk fetch``, ``crossmatch`` and ``preprocess`` do), in a temporary directory, or in
   ``--workspace DIR``, where an earlier build is reused (each step that is complete is skipped).
2. ``ours`` and the baselines pix2pix (a), cyclegan-adapted (b), cyclegan-id (d), ours-auto (f) and
   cyclegan (g) are trained through the library (``LaunchRequest``/``prepare`` with ``StoreBatchSources``, as
   ``galtk train`` does) with the settings of :data:`TRAIN_SETTINGS`: ``ours`` as ``galtk demo`` trains it
   (``cli/demo.py`` ``FULL.train``), ours-auto with the same settings, and the GAN baselines at the same
   width, batches and iterations with the learning rate and content weight under which they make galaxies
   (:data:`CPU_GAN_SCHEDULE`; ``noise_emulator``, ``content_loss`` and ``noise_lr_factor`` only concern
   methods with Noise Emulators, ``content_weight`` only the GAN baselines).
3. Every method translates the test pairs both ways and is evaluated with the library's evaluation
   (``evaluate_translators``, as ``galtk evaluate`` does, with the regridded direction for cyclegan); the
   report (index.html, metrics.json, metrics.csv, figures/) is written to ``--output``.
4. Per direction and method the table gives, from the summary numbers
   (``galtk.models.evaluation.results.SUMMARY_FIELDS``) and the pass/fail criteria
   (``galtk.models.evaluation.criteria``): the noise sigma over the true sigma (worst band), the flux
   difference over sqrt(2) sigma (worst band) and the flux-difference slope (steepest band), the rms
   Fourier log-ratio (worst band), the median aperture magnitude offset (worst of g, r, i) and its scatter
   (same band), and the verdict of the three criteria.
5. Two claims of the paper are checked against the truth, each printed PASS or FAIL with its numbers:
   (i) ours' noise is within 25 % of the true sigma in every band, while the methods without Noise
   Emulators (a, b, d, g) are far off (worst-band noise ratio outside [0.75, 1.25]), in the two directions
   that have a true sigma (``sdss2cfht``, ``cfht2sdss``); (ii) the methods with the identity loss (a, d,
   ours) have a flatter flux-difference slope (smaller |slope| in their steepest band) than b and g, in
   every direction where both groups appear. The script exits 0 whatever the claims give: it measures.

The machine (CPU cores, torch threads and version, device), the settings, the wall time of each method and
every table are printed and saved to ``OUTPUT/science.txt``; progress goes to stderr.

Configurations (``--config``):

- ``cpu`` (default): a sky of 2,000 galaxies (about 765 pairs, 378 of them test) and ``galtk demo``'s
  training for every method (cli/demo.py ``FULL.train``: width 1/8, batches of 4 + 4 + 4, 800 iterations
  from 3e-3 divided by 2.5 every 160; ours: 50 iterations of step 1, then 800 of step 2; the GAN baselines
  from 1e-3 divided by 2.5 after 400, content weight 1e5, :data:`CPU_GAN_SCHEDULE`), on the CPU:
  46.5 minutes on 2 CPU cores, measured 2026-12-02 (docs/reproducing.md, section 4). An earlier estimate,
  65 minutes, came from the trainer's seconds per iteration at these
  settings, measured over 4 iterations after a first one (one torch thread, the 2-core development machine
  shared with another training job; ``galtk demo``'s training, the same settings on 2 idle cores, gave the
  same 1.8 and 0.36 s for ours):

  | method | s/iteration | iterations | minutes |
  |---|---:|---:|---:|
  | ours (step 1 + step 2) | 1.81 + 0.36 | 50 + 800 | 6.3 |
  | pix2pix (a) | 0.88 | 800 | 11.7 |
  | cyclegan-adapted (b) | 0.88 | 800 | 11.7 |
  | cyclegan-id (d) | 0.99 | 800 | 13.2 |
  | ours-auto (f) | 1.19 | 800 | 15.9 |
  | cyclegan (g) | 0.21 | 800 | 2.8 |

  61 minutes of training, plus about 1 to build the sky and 3 to evaluate. On a CPU shared with other
  work, torch's default of one thread per core can be many times slower (0.36 s per iteration of step 2
  became 7.5 s on the 2 busy cores): pass ``--threads 1`` there.
- ``gpu``: a sky of 6,000 galaxies, width 1/2, batches of 12 + 12 + 12, 10,000 iterations from 1e-3 divided
  by 2.5 every 2,000 (ours: 1,000 of step 1, then 10,000 of step 2), on CUDA with bf16 autocast. Not
  measured yet (no GPU was available while it was written).
- ``--quick``: the configuration's settings with 2 iterations per method (and per step of ours) at width
  1/16 and batches of 2, on a sky of 150 galaxies: a smoke test of the whole chain, about a minute on 2 CPU
  cores.

    python benchmarks/science.py [--config cpu|gpu] [--quick] [--workspace DIR] [--output DIR]
        [--device D] [--threads N] [--methods M ...] [--iterations N]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from galtk import __version__ as galtk_version
from galtk.cli.demo import FULL as DEMO
from galtk.errors import ConfigError, GaltkError
from galtk.models.evaluation import DirectionResult, EvaluationResult, write_report
from galtk.models.evaluation.criteria import (
    APERTURE_DMAG_MAX,
    FLUX_DIFFERENCE_RATIO_MAX,
    NOISE_RATIO_HIGH,
    NOISE_RATIO_LOW,
    PASS,
    CriterionOutcome,
    verdict,
)
from galtk.models.evaluation.pairs import TestPairs, read_test_pairs
from galtk.models.evaluation.report import check_destination
from galtk.models.evaluation.results import SUMMARY_FIELDS
from galtk.models.evaluation.translators import CFHT_TO_SDSS, SDSS_TO_CFHT, evaluate_translators
from galtk.models.methods import resolve_method
from galtk.models.training.batches.sources import StoreBatchSources
from galtk.models.training.launch import LaunchRequest, prepare
from galtk.models.training.settings import TrainSettings, resolve_device, train_settings
from galtk.models.training.trainer import TrainingReport
from galtk.models.translation.translator import Translator, load_translator
from galtk.pipeline.crossmatch.stage import crossmatch_workspace
from galtk.pipeline.fetch.stage import fetch_workspace
from galtk.pipeline.preprocess.stage import cutout_stores, preprocess_workspace
from galtk.pipeline.stores.cutout_store import CutoutStore
from galtk.pipeline.workspace import (
    CONFIG_NAME,
    Workspace,
    default_config,
    load_workspace,
    override_settings,
    render_config,
)

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "science-output"
"""Report directory when ``--output`` is not given (gitignored)."""
TEXT_NAME = "science.txt"
"""The printed tables, saved in the report directory."""


@dataclass(frozen=True)
class Method:
    """A method of the benchmark.

    Attributes
    ----------
    name : str
        Canonical galtk name (``galtk.models.training.updates.training_method``).
    letter : str
        The paper's letter of a baseline (empty for ours).
    """

    name: str
    letter: str

    @property
    def label(self) -> str:
        """The name with the paper's letter, e.g. ``pix2pix (a)``."""
        return f"{self.name} ({self.letter})" if self.letter else self.name


METHODS = (
    Method("ours", ""),
    Method("pix2pix", "a"),
    Method("cyclegan-adapted", "b"),
    Method("cyclegan-id", "d"),
    Method("ours-auto", "f"),
    Method("cyclegan", "g"),
)
METHOD_NAMES = tuple(method.name for method in METHODS)
LABELS = {method.name: method.label for method in METHODS}

NOISE_EMULATED = ("ours",)
"""Claim (i): the noise of these methods is within 25 % of the true sigma in every band..."""
WITHOUT_NOISE_EMULATORS = ("pix2pix", "cyclegan-adapted", "cyclegan-id", "cyclegan")
"""... and that of these (a, b, d, g), without Noise Emulators, is not (worst band outside the range)."""
TRUE_SIGMA_DIRECTIONS = (SDSS_TO_CFHT, CFHT_TO_SDSS)
"""The directions of claim (i): those with a true sigma (the regridded one has none)."""
WITH_IDENTITY_LOSS = ("ours", "pix2pix", "cyclegan-id")
"""Claim (ii): these (ours, a, d) have a flatter flux-difference slope..."""
WITHOUT_IDENTITY_LOSS = ("cyclegan-adapted", "cyclegan")
"""... than these (b, g)."""

CPU_SCHEDULE: dict[str, Any] = {
    key: value
    for key, value in DEMO.train.items()
    if key not in ("method", "step1_iterations", "checkpoint_every", "sample_every")
}
"""``galtk demo``'s training (cli/demo.py ``FULL.train``) for every method of the cpu configuration."""
GPU_SCHEDULE: dict[str, Any] = {
    "iterations": 10000,
    "width": 0.5,
    "batch_size": 12,
    "batch_pairs": 12,
    "learning_rate": 1e-3,
    "lr_decay_every": 2000,
    "lr_decay_factor": 2.5,
    "noise_lr_factor": 0.05,
}
"""Ten times the cpu configuration's iterations at half the paper's width and batches, for one GPU."""

CPU_GAN_SCHEDULE: dict[str, Any] = {
    **CPU_SCHEDULE,
    "learning_rate": 1e-3,
    "lr_decay_every": 400,
    "content_weight": 1e5,
}
"""The GAN baselines of the cpu configuration: the same width, batches and iterations, lr 1e-3 divided by 2.5
after 400 iterations, content terms weighted 1e5. With the paper's weight (1000) and the demo's lr the
discriminators separate the noiseless translations from the noisy originals within 100 iterations and the
adversarial term (15-20 against 2-3 for 1000 L_id) drives pix2pix's SDSS -> CFHT generator to frames
without galaxies, at lr 3e-4 and 1e-3 alike; at 1e5 it makes the galaxies (docs/reproducing.md, section 4)."""

TRAIN_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "cpu": {
        "ours": {**CPU_SCHEDULE, "step1_iterations": DEMO.train["step1_iterations"]},
        "pix2pix": CPU_GAN_SCHEDULE,
        "cyclegan-adapted": CPU_GAN_SCHEDULE,
        "cyclegan-id": CPU_GAN_SCHEDULE,
        "ours-auto": CPU_SCHEDULE,
        "cyclegan": CPU_GAN_SCHEDULE,
    },
    "gpu": {
        "ours": {**GPU_SCHEDULE, "step1_iterations": 1000},
        "pix2pix": GPU_SCHEDULE,
        "cyclegan-adapted": GPU_SCHEDULE,
        "cyclegan-id": GPU_SCHEDULE,
        "ours-auto": GPU_SCHEDULE,
        "cyclegan": GPU_SCHEDULE,
    },
}
"""``[train]`` settings per configuration and method; the others are galtk's defaults (``TrainSettings()``),
whatever the workspace's galtk.toml says, except its ``runs`` directory."""
SKY_OBJECTS = {"cpu": 2000, "gpu": 6000}
"""Galaxies of the synthetic sky per configuration."""
DEVICES = {"cpu": "cpu", "gpu": "cuda"}
"""Default device per configuration."""
QUICK_SETTINGS: dict[str, Any] = {
    "step1_iterations": 2,
    "iterations": 2,
    "width": 0.0625,
    "batch_size": 2,
    "batch_pairs": 2,
}
"""``--quick``: applied to every method's settings (the schedule is kept)."""
QUICK_OBJECTS = 150
"""``--quick``: galaxies of the synthetic sky (about 30 test pairs)."""
OPERATIONAL_SETTINGS: dict[str, Any] = {
    "seed": 0,
    "sample_every": 0,
    "checkpoint_every": 10**9,
    "log_every": 50,
}
"""Every run: seed 0, no sample grids, one checkpoint at the end of each stage."""
SHOWN_SETTINGS = (
    "step1_iterations",
    "iterations",
    "width",
    "batch_size",
    "batch_pairs",
    "learning_rate",
    "lr_decay_every",
    "lr_decay_factor",
    "noise_lr_factor",
    "content_weight",
)
"""Settings printed in the settings table."""


@dataclass
class TrainedMethod:
    """One method trained by this benchmark.

    Attributes
    ----------
    method : Method
    report : TrainingReport
        The trainer's report (run directory, each stage's iterations, seconds and final checkpoint).
    seconds : float
        Wall time of the launch: opening the data, conditioning, every stage, checkpoints.
    """

    method: Method
    report: TrainingReport
    seconds: float


@dataclass(frozen=True)
class ClaimOutcome:
    """A claim of the paper checked against the truth.

    Attributes
    ----------
    title : str
        The claim.
    status : str
        ``PASS``, ``FAIL``, or ``n/a`` when the methods it needs were not evaluated.
    details : list of str
        The numbers it rests on, one line each.
    """

    title: str
    status: str
    details: list[str]


class ProgressObserver:
    """Trainer observer writing one line to stderr at each tenth of a stage."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.total = 0
        self.started = time.perf_counter()

    def stage_started(self, stage: str, done: int, total: int) -> None:
        """Remember the stage's length and announce it."""
        self.total = total
        self.started = time.perf_counter()
        progress(f"  {self.method} {stage}: {total:,} iterations")

    def iteration_done(self, stage: str, done: int, losses: Mapping[str, float] | None) -> None:
        """Report the iterations done and their rate at each tenth of the stage."""
        step = max(1, self.total // 10)
        if done % step == 0 or done == self.total:
            seconds = time.perf_counter() - self.started
            progress(f"  {self.method} {stage}: {done:,}/{self.total:,} ({seconds / done:.3f} s/iteration)")


def progress(message: str) -> None:
    """One line of progress on stderr."""
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------ the sky


def prepare_workspace(root: Path, n_objects: int) -> tuple[Workspace, dict[str, Any]]:
    """Create (or reuse) a synthetic-sky workspace and complete its fetch, cross-match and preprocessing.

    Parameters
    ----------
    root : Path
        Workspace directory: new, empty, or a workspace of the synthetic sky made earlier.
    n_objects : int
        Galaxies of a new workspace's sky (a reused workspace keeps its own).

    Returns
    -------
    tuple of Workspace and dict
        The workspace and the cross-match summary (pair and unpaired counts).
    """
    if not (root / CONFIG_NAME).is_file():
        write_sim_config(root, n_objects)
    workspace = load_workspace(root)
    check_synthetic(workspace)
    fetch_surveys(workspace)
    summary = crossmatch_surveys(workspace)
    preprocess_stores(workspace)
    return workspace, summary


def write_sim_config(root: Path, n_objects: int) -> None:
    """Write the ``galtk.toml`` of a synthetic sky of ``n_objects`` galaxies in a new or empty ``root``."""
    if root.exists() and any(root.iterdir()):
        raise ConfigError(
            f"--workspace {root}: not empty and no {CONFIG_NAME}; give a new or empty directory"
        )
    config = default_config(sim=True)
    config.sim_sky = dataclasses.replace(config.sim_sky, n_objects=n_objects)
    root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_NAME).write_text(render_config(config), encoding="utf-8")


def check_synthetic(workspace: Workspace) -> None:
    """Refuse a workspace whose surveys do not come from the synthetic sky (the truth is needed)."""
    sources = {name: section.source for name, section in workspace.config.surveys.items()}
    if set(sources) != {"sdss", "cfht"} or set(sources.values()) != {"sim"}:
        raise ConfigError(f"{workspace.root}: not a synthetic-sky workspace of SDSS and CFHT ({sources})")


def fetch_surveys(workspace: Workspace) -> None:
    """Fill (or complete) the raw store of each survey from the synthetic sky."""
    for report in fetch_workspace(workspace, resume=True):
        progress(
            f"fetch {report.survey}: {report.done:,} cutouts ({report.written:,} written,"
            f" {report.seconds:.1f} s)"
        )


def crossmatch_surveys(workspace: Workspace) -> dict[str, Any]:
    """Cross-match the raw stores with ``[crossmatch]``'s settings, unless done; return the summary."""
    outputs = workspace.crossmatch_outputs()
    if outputs.summary.is_file():
        return json.loads(outputs.summary.read_text(encoding="utf-8"))
    summary, _ = crossmatch_workspace(workspace)
    progress(f"crossmatch: {summary['pairs']['train']:,} train and {summary['pairs']['test']:,} test pairs")
    return summary


def training_stores(workspace: Workspace) -> list[Path]:
    """The paired, unpaired SDSS and unpaired CFHT stores, in ``StoreBatchSources``' order."""
    outputs = workspace.crossmatch_outputs()
    return [outputs.paired, outputs.unpaired["sdss"], outputs.unpaired["cfht"]]


def is_preprocessed(path: Path) -> bool:
    """True when every cutout store of ``path`` has its ``rescaled`` array (and CFHT its ``regridded``)."""
    for member in cutout_stores(path):
        store = CutoutStore.open(member)
        wanted = ("rescaled", "regridded") if store.schema.survey == "cfht" else ("rescaled",)
        if not all(store.has_array(array) for array in wanted):
            return False
    return True


def preprocess_stores(workspace: Workspace) -> None:
    """Rescale the training stores and regrid CFHT onto the SDSS grid, unless done already."""
    if all(is_preprocessed(path) for path in training_stores(workspace)):
        return
    reports = preprocess_workspace(workspace, overwrite=True)
    progress(f"preprocess: {sum(report.objects for report in reports):,} cutouts")


# ------------------------------------------------------------------------------------------- training


def method_settings(config: str, method: str, args: argparse.Namespace) -> dict[str, Any]:
    """The ``[train]`` settings of ``method``: the table's, then ``--quick``, ``--iterations``, the device."""
    settings = {**TRAIN_SETTINGS[config][method], **OPERATIONAL_SETTINGS, "method": method}
    if args.quick:
        settings.update(QUICK_SETTINGS)
    if args.iterations:
        settings.update(iterations=args.iterations, step1_iterations=args.iterations)
    settings["device"] = args.device
    return settings


def train_method(workspace: Workspace, method: Method, settings: Mapping[str, Any]) -> TrainedMethod:
    """Train ``method`` on the workspace's stores as ``galtk train`` does, in a new run directory.

    Parameters
    ----------
    workspace : Workspace
        Where the stores are and where the run is written (its ``[train] runs``).
    method : Method
        The method.
    settings : mapping
        ``[train]`` settings applied to galtk's defaults (:func:`method_settings`).

    Returns
    -------
    TrainedMethod
    """
    chosen = resolve_method(method.name)
    settings_of_run = override_settings(TrainSettings(runs=train_settings(workspace).runs), **settings)
    stores = training_stores(workspace)
    request = LaunchRequest(
        chosen, settings_of_run, overrides={}, runs=workspace.resolve(settings_of_run.runs)
    )
    started = time.perf_counter()
    launch = prepare(request, StoreBatchSources(*stores))
    report = launch.train(ProgressObserver(method.name))
    return TrainedMethod(method, report, time.perf_counter() - started)


def load_translators(
    trained: Sequence[TrainedMethod], bands: tuple[str, ...], device: str
) -> dict[str, Translator]:
    """The translator of each trained method, from the final checkpoint of its last stage."""
    translators = {}
    for item in trained:
        checkpoint = item.report.stages[-1].checkpoint
        if checkpoint is None:
            raise GaltkError(f"{item.method.name}: the trainer wrote no final checkpoint")
        translators[item.method.name] = load_translator(
            checkpoint, method=item.method.name, bands=bands, device=resolve_device(device)
        )
    return translators


# ----------------------------------------------------------------------------------------- the tables


def number(value: float) -> str:
    """Three significant digits, ``-`` when not finite."""
    return f"{value:.3g}" if math.isfinite(value) else "-"


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table with padded columns (readable as plain text)."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True))
            + " |"
        )

    return [line(header), "|" + "|".join("-" * (width + 2) for width in widths) + "|", *map(line, rows)]


def machine_lines(device: str) -> list[str]:
    """The machine: platform, CPU cores, torch threads and version, device (and GPU)."""
    chosen = resolve_device(device)
    gpu = f" ({torch.cuda.get_device_name(chosen)})" if chosen.type == "cuda" else ""
    return [
        f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, torch"
        f" {torch.__version__} ({torch.get_num_threads()} threads), device {chosen}{gpu}, python"
        f" {platform.python_version()}, galtk {galtk_version}"
    ]


def sky_lines(
    workspace: Workspace, summary: Mapping[str, Any], pairs: TestPairs, seconds: float
) -> list[str]:
    """The synthetic sky: galaxies, pairs, unpaired images, test pairs evaluated."""
    return [
        f"sky: {workspace.config.sim_sky.n_objects:,} galaxies (workspace {workspace.root}, ready in"
        f" {seconds:.0f} s): {summary['pairs']['train']:,} train and {summary['pairs']['test']:,} test pairs,"
        f" {summary['unpaired']['sdss']:,} unpaired SDSS and {summary['unpaired']['cfht']:,} unpaired CFHT"
        f" images; {len(pairs):,} test pairs evaluated ({pairs.skipped} left out),"
        f" bands {' '.join(pairs.bands)}"
    ]


def settings_lines(settings: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The training settings of every method (``step1_iterations`` only for the methods with a step 1)."""
    rows = []
    for name, values in settings.items():
        stages = {stage.name for stage in resolve_method(name).stages}
        shown = {key: values[key] for key in SHOWN_SETTINGS if key in values}
        if "step1" not in stages:
            shown.pop("step1_iterations", None)
        rows.append([LABELS[name], *(f"{shown[key]:g}" if key in shown else "-" for key in SHOWN_SETTINGS)])
    return [
        "training settings ([train] of galtk.toml; the others are galtk's defaults):",
        *text_table(["method", *SHOWN_SETTINGS], rows),
    ]


def timing_lines(
    trained: Sequence[TrainedMethod], evaluation_seconds: float, total_seconds: float
) -> list[str]:
    """Wall time per method: each stage's iterations and seconds, and the whole launch."""
    rows = []
    for item in trained:
        stages = item.report.stages
        iterations = " + ".join(f"{stage.iterations - stage.first_iteration:,}" for stage in stages)
        seconds = " + ".join(f"{stage.seconds:.1f}" for stage in stages)
        per_iteration = " + ".join(
            f"{stage.seconds / max(1, stage.iterations - stage.first_iteration):.3f}" for stage in stages
        )
        rows.append([item.method.label, iterations, seconds, per_iteration, f"{item.seconds:.1f}"])
    return [
        "wall time per method (stages of ours: step 1 + step 2):",
        *text_table(["method", "iterations", "training s", "s/iteration", "wall s"], rows),
        f"evaluation and report: {evaluation_seconds:.0f} s; whole benchmark: {total_seconds:.0f} s"
        f" ({total_seconds / 60:.1f} min)",
    ]


def criterion_cell(outcome: CriterionOutcome) -> str:
    """``value (band)``, starred when checked against another field than the criterion's own."""
    if outcome.band is None:
        return outcome.status
    star = "*" if outcome.note else ""
    return f"{number(outcome.value)} ({outcome.band}){star}"


def steepest_slope(result: DirectionResult) -> tuple[str | None, float]:
    """The band whose flux-difference slope is farthest from 0, and that slope (NaN if none is finite)."""
    slopes = {band: values["flux_difference_slope"] for band, values in result.summary.items()}
    finite = {band: slope for band, slope in slopes.items() if math.isfinite(slope)}
    if not finite:
        return None, math.nan
    band = max(finite, key=lambda name: abs(finite[name]))
    return band, finite[band]


def worst_fourier(result: DirectionResult) -> tuple[str | None, float]:
    """The band with the largest rms Fourier log-ratio, and that value."""
    values = {band: numbers["fourier_log_ratio_rms"] for band, numbers in result.summary.items()}
    finite = {band: value for band, value in values.items() if math.isfinite(value)}
    if not finite:
        return None, math.nan
    band = max(finite, key=finite.__getitem__)
    return band, finite[band]


def metric_row(method: str, result: DirectionResult) -> list[str]:
    """One row of a direction's table."""
    criteria = result.criteria
    slope_band, slope = steepest_slope(result)
    fourier_band, fourier = worst_fourier(result)
    photometry = criteria["photometry"]
    scatter = result.summary[photometry.band]["aperture_dmag_scatter"] if photometry.band else math.nan
    return [
        method,
        criterion_cell(criteria["noise"]),
        criterion_cell(criteria["flux_difference"]),
        f"{number(slope)} ({slope_band})",
        f"{number(fourier)} ({fourier_band})",
        criterion_cell(photometry),
        number(scatter),
        verdict(criteria),
    ]


COLUMNS = (
    (
        "noise",
        "noise_ratio_true",
        f"worst band, pass {NOISE_RATIO_LOW:g} to {NOISE_RATIO_HIGH:g}; * no true sigma in that direction:"
        " noise_ratio, against the originals' noise",
    ),
    ("flux diff", "flux_difference_ratio", f"worst band, pass <= {FLUX_DIFFERENCE_RATIO_MAX:g}"),
    ("slope", "flux_difference_slope", "the band farthest from 0"),
    ("Fourier", "fourier_log_ratio_rms", "worst band"),
    ("dmag", "aperture_dmag_median", f"worst of g r i, pass |x| <= {APERTURE_DMAG_MAX:g}"),
    ("dmag scatter", "aperture_dmag_scatter", "in the band of the dmag column"),
)
"""Columns of the metric tables: heading, summary field, which band is shown."""


def metric_lines(results: Sequence[EvaluationResult], pairs: int) -> list[str]:
    """A legend, then one table per direction: each method's worst-band numbers and verdict."""
    lines = [f"metrics on {pairs:,} test pairs (the band in brackets; every band in metrics.csv):"]
    lines += [f"  {heading}: {field}, {SUMMARY_FIELDS[field]}; {shown}" for heading, field, shown in COLUMNS]
    lines.append("  verdict: every band passes the noise, flux diff and dmag criteria (galtk evaluate's)")
    header = ["method", *(heading for heading, _, _ in COLUMNS), "verdict"]
    directions = list(dict.fromkeys(direction for result in results for direction in result.directions))
    for direction in directions:
        rows = [
            metric_row(LABELS.get(r.method, r.method), r.directions[direction])
            for r in results
            if direction in r.directions
        ]
        lines += ["", f"{direction}:", *text_table(header, rows)]
    return lines


# ------------------------------------------------------------------------------------------ the claims


def noise_claim(results: Sequence[EvaluationResult]) -> ClaimOutcome:
    """Claim (i): ours within 25 % of the true sigma in every band; a, b, d, g outside in their worst band."""
    title = (
        f"(i) ours' noise within {NOISE_RATIO_LOW:g}-{NOISE_RATIO_HIGH:g} of the true sigma in every band;"
        " a, b, d, g (no Noise Emulators) outside that range in their worst band"
    )
    checks: list[bool] = []
    details: list[str] = []
    for direction in TRUE_SIGMA_DIRECTIONS:
        for result in results:
            if (
                result.method not in (*NOISE_EMULATED, *WITHOUT_NOISE_EMULATORS)
                or direction not in result.directions
            ):
                continue
            outcome = result.directions[direction].criteria["noise"]
            within = outcome.status == PASS
            as_claimed = within == (result.method in NOISE_EMULATED)
            checks.append(as_claimed)
            details.append(
                f"{direction} {result.method}: worst band {outcome.band} {outcome.field}"
                f" {number(outcome.value)}, {'within' if within else 'outside'} the range:"
                f" {'as claimed' if as_claimed else 'NOT as claimed'}"
            )
    methods = {result.method for result in results}
    applicable = bool(methods & set(NOISE_EMULATED)) and bool(methods & set(WITHOUT_NOISE_EMULATORS))
    return ClaimOutcome(title, claim_status(checks, applicable), details)


def slope_claim(results: Sequence[EvaluationResult]) -> ClaimOutcome:
    """Claim (ii): ours, a, d have a smaller |flux-difference slope| than b, g (steepest band of each)."""
    title = (
        "(ii) the methods with the identity loss (ours, a, d) have a flatter flux-difference slope"
        " (smaller |slope|, steepest band) than b and g"
    )
    checks: list[bool] = []
    details: list[str] = []
    directions = list(dict.fromkeys(direction for result in results for direction in result.directions))
    for direction in directions:
        slopes = {
            result.method: steepest_slope(result.directions[direction])
            for result in results
            if direction in result.directions
        }
        flat = {name: slopes[name] for name in WITH_IDENTITY_LOSS if name in slopes}
        steep = {name: slopes[name] for name in WITHOUT_IDENTITY_LOSS if name in slopes}
        if not flat or not steep:
            continue
        steepest_flat = max(abs(slope) for _, slope in flat.values())
        flattest_steep = min(abs(slope) for _, slope in steep.values())
        holds = steepest_flat < flattest_steep
        checks.append(holds)
        shown = ", ".join(
            f"{name} {number(slope)} ({band})" for name, (band, slope) in {**flat, **steep}.items()
        )
        details.append(
            f"{direction}: {shown}; largest |slope| with identity loss {number(steepest_flat)}"
            f" {'<' if holds else '>='} smallest without {number(flattest_steep)}"
        )
    return ClaimOutcome(title, claim_status(checks, bool(checks)), details)


def claim_status(checks: Sequence[bool], applicable: bool) -> str:
    """``PASS`` when every check holds, ``FAIL`` otherwise, ``n/a`` without the methods the claim needs."""
    if not applicable or not checks:
        return "n/a"
    return "PASS" if all(checks) else "FAIL"


def claim_lines(claims: Sequence[ClaimOutcome]) -> list[str]:
    """Each claim with its status and numbers, then a one-line summary."""
    lines = ["claims of the paper, against the synthetic sky's truth:"]
    for claim in claims:
        lines += [f"{claim.status}: {claim.title}", *(f"    {detail}" for detail in claim.details)]
    passed = sum(claim.status == "PASS" for claim in claims)
    lines.append(f"summary: {passed} of {len(claims)} claims hold ({', '.join(c.status for c in claims)})")
    return lines


# ------------------------------------------------------------------------------------------------ main


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", choices=sorted(TRAIN_SETTINGS), default="cpu", help="cpu (default) or gpu"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2 iterations per method at width 1/16 on 150 galaxies: a smoke test",
    )
    parser.add_argument(
        "--workspace",
        type=Path,
        help="build the sky here, or reuse the one built here earlier (default: a temporary directory)",
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help=f"report directory (default: {DEFAULT_OUTPUT})"
    )
    parser.add_argument(
        "--device", help="auto, cpu, cuda or cuda:N (default: cpu for --config cpu, else cuda)"
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHOD_NAMES,
        default=list(METHOD_NAMES),
        metavar="METHOD",
        help=f"methods to train and evaluate (default: all of {', '.join(METHOD_NAMES)})",
    )
    parser.add_argument(
        "--iterations", type=int, help="iterations of every method and step instead of the table's"
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's, one per core)")
    args = parser.parse_args(argv)
    if args.iterations is not None and args.iterations < 1:
        parser.error("--iterations must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    args.device = args.device or DEVICES[args.config]
    return args


def run(args: argparse.Namespace, workspace_root: Path) -> list[str]:
    """Build the sky, train, evaluate, write the report; return the lines of the printed summary."""
    started = time.perf_counter()
    config = args.config
    chosen = [method for method in METHODS if method.name in args.methods]
    settings = {method.name: method_settings(config, method.name, args) for method in chosen}
    n_objects = QUICK_OBJECTS if args.quick else SKY_OBJECTS[config]
    workspace, summary = prepare_workspace(workspace_root, n_objects)
    sky_seconds = time.perf_counter() - started
    trained = []
    for method in chosen:
        progress(f"training {method.label}")
        trained.append(train_method(workspace, method, settings[method.name]))
    evaluation_started = time.perf_counter()
    pairs = read_test_pairs(training_stores(workspace)[0])
    translators = load_translators(trained, pairs.bands, args.device)
    progress(f"evaluating {', '.join(translators)} on {len(pairs):,} test pairs")
    results = evaluate_translators(translators, pairs, seed=0, reference_noise="auto")
    write_report(results, args.output, overwrite=True, title=f"galtk science benchmark ({config})")
    evaluation_seconds = time.perf_counter() - evaluation_started
    claims = [noise_claim(results), slope_claim(results)]
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        f"galtk science benchmark: config {config}{' --quick' if args.quick else ''}, {created}",
        *machine_lines(args.device),
        *sky_lines(workspace, summary, pairs, sky_seconds),
        *settings_lines(settings),
        *timing_lines(trained, evaluation_seconds, time.perf_counter() - started),
        "",
        *metric_lines(results, len(pairs)),
        "",
        *claim_lines(claims),
        "",
        f"report: {args.output / 'index.html'} (metrics.json, metrics.csv, figures/, {TEXT_NAME})",
    ]


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print the summary and save it beside the report."""
    args = parse_arguments(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    temporary = None if args.workspace else Path(tempfile.mkdtemp(prefix="galtk-science-"))
    try:
        check_destination(args.output, overwrite=True)
        resolve_device(args.device)
        lines = run(args, args.workspace or temporary)
    except GaltkError as error:
        raise SystemExit(f"Error: {error}") from None
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    text = "\n".join(lines) + "\n"
    print(text, end="")
    (args.output / TEXT_NAME).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
