"""``galtk evaluate``: translate the test pairs with trained methods and write the evaluation report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from galtk.cli import (
    StagedProgress,
    WorkspaceOption,
    console,
    cutout_progress,
    reports_errors,
)
from galtk.errors import UsageError

if TYPE_CHECKING:
    from galtk.models.evaluation import EvaluationResult
    from galtk.models.evaluation.criteria import CriterionOutcome
    from galtk.models.recovery.stage import RecoveryOutcome
    from galtk.pipeline.workspace import Workspace

#: Report directory, relative to the workspace, when --output is not given.
DEFAULT_OUTPUT = "reports/evaluation"


@reports_errors(interrupted="interrupted; no report was written (an earlier one is left as it was)")
def evaluate_command(
    method: Annotated[
        list[str] | None,
        typer.Option(
            "--method",
            "-m",
            help="Evaluate the latest run of this method (repeat for several, side by side). Default:"
            " \\[train] method, unless --run or --checkpoint is given.",
            show_default=False,
        ),
    ] = None,
    run: Annotated[
        list[str] | None,
        typer.Option(
            "--run",
            help="Also evaluate this run (a directory, or its name under \\[train] runs); repeatable.",
            show_default=False,
        ),
    ] = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint", help="Also evaluate this checkpoint file; repeatable.", show_default=False
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help=f"Report directory, relative to the workspace (default: {DEFAULT_OUTPUT}).",
            show_default=False,
            file_okay=False,
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing report (never anything else).")
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", min=1, help="Evaluate only the first N usable test pairs.", show_default=False
        ),
    ] = None,
    seed: Annotated[
        int,
        typer.Option("--seed", min=0, help="Noise seed of the first translation (image i gets seed + i)."),
    ] = 0,
    reference_noise: Annotated[
        str,
        typer.Option(
            "--reference-noise",
            help="sigma of the flux-difference figure: true (noise sigma stored with synthetic images),"
            " emulator (the Noise Emulator, as in the paper), auto (true if stored, else emulator, else"
            " measured on the originals).",
        ),
    ] = "auto",
    device: Annotated[
        str | None,
        typer.Option(
            "--device",
            help="auto (CUDA if present), cpu, cuda or cuda:N. Default: \\[train] device.",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Images per forward pass.")] = 64,
    truth: Annotated[
        Path | None,
        typer.Option(
            "--truth",
            help="galaxygan and pix2pix-multi: a store of the same cutouts without noise (the synthetic sky"
            " fetched with \\[sim] noise_scale = 0), measured against instead of the observed ones.",
            show_default=False,
        ),
    ] = None,
    tune: Annotated[
        str,
        typer.Option(
            "--tune",
            help="galaxygan: what the deconvolutions' regularisation minimises on training pairs: morphology"
            " (size, ellipticity and Gini errors) or mse.",
        ),
    ] = "morphology",
    workspace: WorkspaceOption = None,
) -> None:
    """Evaluate trained methods on the test pairs and write an HTML report with figures, JSON and CSV.

    Every usable test pair of the paired store (\\[crossmatch] paired) is translated both ways by each
    method, with one noise seed per image, and compared with the pair's other image: the paper's global
    shape (flux difference) and Fourier-map metrics per band, noise sigma (also against the true sigma of
    synthetic data), total and aperture photometry, and power spectra of the high-passed images. Several
    methods appear side by side. The report (index.html, metrics.json, metrics.csv, figures/) is written
    atomically; an existing report is replaced only with --overwrite. See docs/evaluate.md. With --method
    galaxygan, a GalaxyGAN run is compared with deconvolution on its held-out degrade pairs instead
    (docs/recovery.md).
    """
    from galtk.models.evaluation.plan import plan_evaluation
    from galtk.pipeline.workspace import load_workspace

    ws = load_workspace(workspace)
    if _is_recovery(method or ()):
        _evaluate_recovery(ws, run, truth, output, overwrite, limit, device, batch_size, tune)
        return
    if _is_multi_input(method or ()):
        _evaluate_multi_input(ws, run, truth, output, overwrite, device, batch_size)
        return
    plan = plan_evaluation(
        ws,
        methods=method or (),
        runs=run or (),
        checkpoints=checkpoint or (),
        output=output if output is not None else DEFAULT_OUTPUT,
        overwrite=overwrite,
        limit=limit,
        seed=seed,
        reference_noise=reference_noise,
        device=device,
        batch_size=batch_size,
    )
    console.print(
        f"galtk evaluate: {', '.join(plan.translators)} on {plan.device}, {plan.wanted} of {plan.test_rows}"
        f" test pairs of {_shown(plan.paired, ws.root)}"
    )
    with cutout_progress() as progress:
        stages = StagedProgress(progress)
        outcome = plan.run(on_start=stages.start, on_progress=stages.advance)
    if outcome.pairs.skipped:
        console.print(f"left out {outcome.pairs.skipped} test pair(s) with an invalid band or NaN pixels")
    console.print(_summary(outcome.results, len(outcome.pairs)))
    console.print(
        f"Report: [bold]{escape(str(outcome.report))}[/bold] (metrics.json, metrics.csv, figures/ beside it)",
        highlight=False,
    )


def _is_recovery(methods: Sequence[str]) -> bool:
    """True for ``--method galaxygan`` (alone: it is not evaluated on the cross-match's test pairs)."""
    from galtk.models.methods import resolve_method

    recovery = [name for name in methods if resolve_method(name).pairs == "degraded"]
    if recovery and len(methods) > 1:
        raise UsageError(
            "--method galaxygan is evaluated on its degrade pairs, alone; evaluate it separately"
        )
    return bool(recovery)


def _is_multi_input(methods: Sequence[str]) -> bool:
    """True for ``--method pix2pix-multi`` (alone: its runs are compared with each other)."""
    from galtk.models.methods import resolve_method

    multi = [name for name in methods if resolve_method(name).pairs == "surveys"]
    if multi and len(methods) > 1:
        raise UsageError("--method pix2pix-multi compares its own runs; evaluate other methods separately")
    return bool(multi)


def _evaluate_multi_input(
    ws: Workspace,
    run: list[str] | None,
    truth: Path | None,
    output: Path | None,
    overwrite: bool,
    device: str | None,
    batch_size: int,
) -> None:
    """``galtk evaluate --method pix2pix-multi``: photometry of each run against the target, side by side."""
    from galtk.models.multi_input.evaluate import report_rows
    from galtk.models.multi_input.photometry import MOSTLY_NOT_POSITIVE, error_text
    from galtk.models.multi_input.stage import DEFAULT_OUTPUT as MULTI_OUTPUT
    from galtk.models.multi_input.stage import evaluate_multi_input_workspace

    evaluation, report = evaluate_multi_input_workspace(
        ws,
        runs=run or (),
        truth=truth,
        output=output if output is not None else MULTI_OUTPUT,
        overwrite=overwrite,
        device=device,
        batch_size=batch_size,
    )
    table = Table(
        title=f"galtk evaluate: into {evaluation.target}, scatter of m - m_{evaluation.reference} (mag)"
    )
    table.add_column("inputs")
    for band in evaluation.bands:
        table.add_column(band, justify="right")
    cells = [
        (label, [error_text(record["bands"][b], bias=False) for b in evaluation.bands])
        for label, record in report_rows(evaluation.as_dict())
    ]
    for label, row in cells:
        table.add_row(label, *row)
    console.print(table)
    if any(cell.endswith("*") for _, row in cells for cell in row):
        console.print(f"* {MOSTLY_NOT_POSITIVE}")
    console.print(f"Report: [bold]{escape(str(report))}[/bold] (metrics.json beside it)", highlight=False)


def _evaluate_recovery(
    ws: Workspace,
    run: list[str] | None,
    truth: Path | None,
    output: Path | None,
    overwrite: bool,
    limit: int | None,
    device: str | None,
    batch_size: int,
    tune: str,
) -> None:
    """``galtk evaluate --method galaxygan``: the run against deconvolution, the claim's verdict per band."""
    from galtk.models.recovery.stage import DEFAULT_OUTPUT as RECOVERY_OUTPUT
    from galtk.models.recovery.stage import evaluate_recovery

    if run and len(run) > 1:
        raise UsageError("--method galaxygan evaluates one run at a time")
    console.print("galtk evaluate: galaxygan against richardson-lucy and wiener")
    with cutout_progress() as progress:
        stages = StagedProgress(progress)
        outcome = evaluate_recovery(
            ws,
            run=run[0] if run else None,
            truth=truth,
            output=output if output is not None else RECOVERY_OUTPUT,
            overwrite=overwrite,
            limit=limit,
            device=device,
            batch_size=batch_size,
            tune=tune,
            on_stage=stages.start,
            on_progress=stages.advance,
        )
    console.print(_recovery_table(outcome))
    console.print(f"Report: [bold]{escape(str(outcome.report))}[/bold] (metrics.json, figures/ beside it)")


def _recovery_table(outcome: RecoveryOutcome) -> Table:
    """Per band and output, the median errors of size, ellipticity and Gini and the noise; the claim."""
    reference = outcome.claim["reference"]
    summary = outcome.summaries[reference]
    table = Table(title=f"{len(outcome.pairs.rows)} held-out pairs against the {reference}: medians")
    for column in ("band", "output", "|size err|", "|e err|", "|Gini err|", "noise/sigma", "GAN better"):
        table.add_column(column, justify="left" if column in ("band", "output") else "right")
    keys = ("median_abs_size_error", "median_abs_ellipticity_error", "median_abs_gini_error", "median_noise")
    for band in outcome.pairs.bands:
        holds = outcome.claim["bands"][band]["holds"]
        verdict = "[green]yes[/green]" if holds else "[bold red]no[/bold red]"
        for index, (name, bands) in enumerate(summary.items()):
            cells = [f"{bands[band][key]:.3g}" for key in keys]
            table.add_row(band if index == 0 else "", name, *cells, verdict if name == "galaxygan" else "")
        table.add_section()
    return table


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _summary(results: list[EvaluationResult], count: int) -> Table:
    """Per method and direction, the worst band of each criterion against its threshold, and the verdict."""
    from galtk.models.evaluation.criteria import CRITERIA, verdict

    table = Table(
        title=f"galtk evaluate: {count} test pairs; worst band of each criterion, every band must pass"
    )
    table.add_column("method", no_wrap=True)
    table.add_column("direction", no_wrap=True)
    for criterion in CRITERIA:
        table.add_column(f"{criterion.label}\n{criterion.rule('x')}", justify="right")
    table.add_column("verdict", no_wrap=True)
    notes: dict[str, int] = {}
    for result in results:
        for direction, outcome in result.directions.items():
            criteria = outcome.criteria
            cells = [_criterion_cell(checked, notes) for checked in criteria.values()]
            table.add_row(escape(result.method), direction, *cells, _status(verdict(criteria)))
    if notes:
        table.caption = "; ".join(f"\\[{number}] {escape(note)}" for note, number in notes.items())
    return table


def _criterion_cell(outcome: CriterionOutcome, notes: dict[str, int]) -> str:
    """``value (band) pass|fail``, with a numbered note when another field than the criterion's was used."""
    if outcome.band is None:
        return _status(outcome.status)
    marker = ""
    if outcome.note:
        marker = f" \\[{notes.setdefault(outcome.note, len(notes) + 1)}]"
    value = f"{outcome.value:.3g}" if math.isfinite(outcome.value) else "-"
    return f"{value} ({escape(outcome.band)}) {_status(outcome.status)}{marker}"


def _status(status: str) -> str:
    colour = {"pass": "green", "fail": "bold red"}.get(status, "dim")
    return f"[{colour}]{status}[/{colour}]"
