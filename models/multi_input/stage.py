"""``galtk evaluate --method pix2pix-multi``: the multi-input runs of a workspace, side by side.

Writes ``metrics.json`` and ``summary.md`` (a table per band of the photometric bias and scatter of each
run, by number of input surveys, and of the observed target against the truth) into the report directory,
atomically: a new report is built beside it and swapped in; an existing one is replaced only with
``overwrite``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from galtk import __version__
from galtk.errors import EvaluationError
from galtk.models.evaluation.report import check_destination, fill_directory
from galtk.models.multi_input.evaluate import (
    APERTURE_ARCSEC,
    MultiInputEvaluation,
    evaluate_multi_input,
    report_rows,
)
from galtk.models.multi_input.photometry import MOSTLY_NOT_POSITIVE, error_text
from galtk.models.multi_input.translator import find_multi_input_runs, load_multi_input
from galtk.models.training.settings import resolve_device, train_settings

if TYPE_CHECKING:
    from galtk.pipeline.workspace import Workspace

DEFAULT_OUTPUT = "reports/multi_input"
REPORT_FORMAT = "galtk-multi-input-report"


def evaluate_multi_input_workspace(
    workspace: Workspace,
    *,
    runs: list[str] | tuple[str, ...] = (),
    truth: str | Path | None = None,
    output: str | Path = DEFAULT_OUTPUT,
    overwrite: bool = False,
    device: str | None = None,
    batch_size: int = 64,
) -> tuple[MultiInputEvaluation, Path]:
    """Evaluate the named ``pix2pix-multi`` runs (default: all of them) on the test pairs; write the report.

    Returns
    -------
    evaluation : MultiInputEvaluation
    report : Path
        ``summary.md`` of the written report.
    """
    settings = train_settings(workspace)
    where = resolve_device(device or settings.device)
    checkpoints = find_multi_input_runs(workspace.output(settings.runs, "[train] runs"), list(runs))
    translators = [load_multi_input(path, device=where) for path in checkpoints]
    specs = {name: workspace.survey(name) for name in workspace.config.surveys}
    missing = sorted({n for t in translators for n in (*t.inputs, t.target)} - set(specs))
    if missing:
        raise EvaluationError(f"galtk.toml has no [surveys.{missing[0]}] table, which a run was trained on")
    paired = workspace.output(workspace.config.crossmatch.paired, "[crossmatch] paired")
    evaluation = evaluate_multi_input(
        paired,
        translators,
        specs,
        truth=workspace.resolve(truth) if truth is not None else None,
        batch_size=batch_size,
    )
    directory = workspace.output(output, "--output")
    return evaluation, write_report(evaluation, directory, overwrite=overwrite)


def write_report(evaluation: MultiInputEvaluation, directory: Path, *, overwrite: bool = False) -> Path:
    """Write metrics.json and summary.md into ``directory``; return summary.md's path.

    Raises
    ------
    EvaluationError
        If ``directory`` holds something else, or a report while ``overwrite`` is false.
    """
    directory = Path(directory)
    check_destination(
        directory, overwrite=overwrite, flag="--overwrite", report_format=REPORT_FORMAT, kind="multi-input"
    )
    document = {
        "format": REPORT_FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "galtk_version": __version__,
        **evaluation.as_dict(),
    }

    def fill(staging: Path) -> None:
        (staging / "metrics.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        (staging / "summary.md").write_text(summary_markdown(document), encoding="utf-8")

    fill_directory(directory, fill)
    return directory / "summary.md"


def summary_markdown(document: dict[str, Any]) -> str:
    """The report's tables: per band and colour, the bias and scatter (mag) of each run, of the flux
    regression of each set of inputs and of the observed target."""
    bands = document["bands"]
    labelled = report_rows(document)
    labels, rows = [label for label, _ in labelled], [record for _, record in labelled]
    lines = [
        f"# Multi-input translation into {document['target']}",
        "",
        f'{document["objects"]} test pairs; aperture photometry in a {APERTURE_ARCSEC:g}" radius against the '
        f"{'noiseless truth' if document['reference'] == 'truth' else 'observed target cutouts'}. Each cell: "
        "median offset / robust scatter of m - m_reference (mag); lower scatter is better. A flux "
        "regression row is the linear reference: each band's aperture flux fitted on the training pairs "
        "from the inputs' aperture fluxes, what those inputs tell without a network.",
        "",
        *_table(labels, bands, [[_cell(run["bands"][band]) for band in bands] for run in rows]),
    ]
    if rows and "bright" in rows[0]:
        bright_errors = [run["bright"] for run in rows]
        cells = [[f"{_cell(errors[b])} ({errors[b]['objects']})" for b in bands] for errors in bright_errors]
        lines += [
            "",
            f"Bright objects (S/N >= {document['bright_snr']:g} in the band's aperture, where the survey's "
            "own noise is below 0.05 mag; object counts in brackets):",
            "",
            *_table(labels, bands, cells),
        ]
    colours = list(rows[0]["colours"]) if rows else []
    cells = [[_cell(run["colours"][colour]) for colour in colours] for run in rows]
    lines += ["", "Colours (consecutive bands):", "", *_table(labels, colours, cells)]
    if any(line.startswith("| ") and "*" in line for line in lines):
        lines += ["", f"\\* {MOSTLY_NOT_POSITIVE}."]
    verdict = document["more_inputs_better"]
    lines += [
        "",
        "More input surveys, lower scatter: " + ", ".join(f"{b} {_yes(v)}" for b, v in verdict.items()),
    ]
    bright = document.get("more_inputs_better_bright", {})
    if any(value is not None for value in bright.values()):
        lines.append("On bright objects: " + ", ".join(f"{b} {_yes(v)}" for b, v in bright.items()))
    for key, where in (("", ""), ("_bright", " (bright objects)")):
        verdict = document.get(f"regression_more_inputs_better{key}", {})
        if any(value is not None for value in verdict.values()):
            lines.append(
                f"Flux regression, more input surveys, lower scatter{where}: "
                + ", ".join(f"{b} {_yes(v)}" for b, v in verdict.items())
            )
    return "\n".join(lines) + "\n"


def _table(labels: list[str], columns: list[str], cells: list[list[str]]) -> list[str]:
    """A markdown table: one row per label, one column per band or colour."""
    lines = ["| inputs | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    rows = zip(labels, cells, strict=True)
    return lines + [f"| {label} | " + " | ".join(row) + " |" for label, row in rows]


def _cell(errors: dict[str, Any]) -> str:
    return error_text(errors)


def _yes(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "no")
