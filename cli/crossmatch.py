"""``galtk crossmatch``: paired train/test and unpaired stores from the two raw stores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from galtk.cli import StagedProgress, WorkspaceOption, console, cutout_progress, reports_errors
from galtk.errors import UsageError


@reports_errors(interrupted="interrupted; no output was changed")
def crossmatch_command(
    sdss: Annotated[
        Path | None, typer.Option("--sdss", help="Raw SDSS store (default: \\[surveys.sdss] store).")
    ] = None,
    cfht: Annotated[
        Path | None, typer.Option("--cfht", help="Raw CFHT store (default: \\[surveys.cfht] store).")
    ] = None,
    radius: Annotated[float | None, typer.Option("--radius", min=0.0, help="Match radius in arcsec.")] = None,
    peak_tolerance: Annotated[
        float | None,
        typer.Option(
            "--peak-tolerance",
            min=0.0,
            help="Largest distance of the two peaks, in SDSS pixels.",
        ),
    ] = None,
    n_test: Annotated[
        int | None, typer.Option("--n-test", min=1, help="Number of test pairs (the paper: 2,500).")
    ] = None,
    test_fraction: Annotated[
        float | None,
        typer.Option("--test-fraction", min=0.0, max=1.0, help="Fraction of test pairs, in (0, 1)."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the train/test split.")] = None,
    paired: Annotated[Path | None, typer.Option("--paired", help="Paired store to write.")] = None,
    unpaired_sdss: Annotated[
        Path | None, typer.Option("--unpaired-sdss", help="Unpaired SDSS store to write.")
    ] = None,
    unpaired_cfht: Annotated[
        Path | None, typer.Option("--unpaired-cfht", help="Unpaired CFHT store to write.")
    ] = None,
    summary: Annotated[Path | None, typer.Option("--summary", help="JSON summary to write.")] = None,
    surveys: Annotated[
        str | None,
        typer.Option(
            "--surveys",
            help="Pair these surveys (comma-separated, at least two) for multi-input translation instead of "
            "the paper's SDSS-CFHT cross-match (default: \\[crossmatch] surveys).",
        ),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace existing outputs (only once the new ones are complete)."),
    ] = False,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Threads reading cutouts (default: \\[crossmatch] workers).")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Cross-match the SDSS and CFHT stores: pairs (train/test split) and the unpaired stores of each survey.

    Objects are matched by position (mutual nearest within the radius) and kept as pairs when their cutouts'
    peaks agree on the SDSS grid; the summary of every step is printed and saved as JSON. With --surveys
    (or [crossmatch] surveys), the objects present in every listed survey are paired instead, one group per
    survey.
    """
    from galtk.pipeline.crossmatch.stage import crossmatch_workspace
    from galtk.pipeline.workspace import load_workspace, override_settings

    if n_test is not None and test_fraction is not None:
        raise UsageError("--n-test and --test-fraction exclude each other")
    if test_fraction is not None and not 0.0 < test_fraction < 1.0:
        raise UsageError(f"--test-fraction must be between 0 and 1, got {test_fraction}")
    ws = load_workspace(workspace)
    settings = override_settings(
        ws.config.crossmatch,
        radius_arcsec=radius,
        peak_tolerance_px=peak_tolerance,
        n_test=n_test,
        test_fraction=0.0 if n_test is not None else test_fraction,
        seed=seed,
        workers=workers,
        paired=_text(paired),
        unpaired_sdss=_text(unpaired_sdss),
        unpaired_cfht=_text(unpaired_cfht),
        summary=_text(summary),
        surveys=[name.strip() for name in surveys.split(",")] if surveys is not None else None,
    )
    if settings.surveys:
        return _pair_surveys(ws, settings, overwrite)
    with cutout_progress() as progress:
        stages = StagedProgress(progress)
        result, outputs = crossmatch_workspace(
            ws,
            settings,
            sdss=sdss,
            cfht=cfht,
            overwrite=overwrite,
            on_stage=stages.start,
            on_progress=stages.advance,
        )
    console.print(_summary_table(result))
    console.print(f"Summary saved to [bold]{_relative(outputs.summary, ws.root)}[/bold]", highlight=False)


def _pair_surveys(ws: Any, settings: Any, overwrite: bool) -> None:
    """``galtk crossmatch --surveys``: the same objects in every survey, for multi-input translation."""
    from galtk.pipeline.crossmatch.surveys import pair_surveys_workspace

    with cutout_progress() as progress:
        stages = StagedProgress(progress)
        result, paired, summary = pair_surveys_workspace(
            ws, settings, overwrite=overwrite, on_stage=stages.start, on_progress=stages.advance
        )
    table = Table(title=f"galtk crossmatch: pairs across {len(result['inputs'])} surveys")
    columns = ("survey", "objects", "usable (all bands valid)", "matched to reference", 'median sep (")')
    for column in columns:
        table.add_column(column, justify="left" if column == "survey" else "right")
    for name, facts in result["inputs"].items():
        matched = "reference" if name == result["reference"] else f"{result['matched_to_reference'][name]:,}"
        separation = result["separation"].get(name, {}).get("median_arcsec")
        median = "" if separation is None else f"{separation:.3f}"
        table.add_row(name, f"{facts['objects']:,}", f"{facts['usable']:,}", matched, median)
    console.print(table)
    pairs = result["pairs"]
    console.print(
        f"Pairs in every survey: {pairs['total']:,} ({pairs['train']:,} train, {pairs['test']:,} test), "
        f"written to [bold]{_relative(paired, ws.root)}[/bold]; "
        f"summary [bold]{_relative(summary, ws.root)}[/bold]",
        highlight=False,
    )


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _summary_table(summary: dict[str, Any]) -> Table:
    names = list(summary["inputs"])
    table = Table(title="galtk crossmatch")
    table.add_column("step")
    for name in names:
        table.add_column(name, justify="right")
    positional = summary["positional"]
    peak = summary["peak_test"]
    pairs = summary["pairs"]
    excluded = summary["excluded"]

    def row(label: str, *values: Any) -> None:
        table.add_row(label, *(f"{value:,}" if isinstance(value, int) else str(value) for value in values))

    row("objects", *(summary["inputs"][name]["objects"] for name in names))
    row("usable (fetched)", *(summary["inputs"][name]["usable"] for name in names))
    row("within radius (candidate pairs)", *([positional["candidates_within_radius"]] * 2))
    row("mutual nearest matches", *([positional["mutual_nearest"]] * 2))
    row("  ties / many-to-one", *(f"{positional['ties'][n]} / {positional['many_to_one'][n]}" for n in names))
    row("  ambiguous (excluded)", *(positional["ambiguous"][name] for name in names))
    row("peak test rejected (excluded)", *([peak["rejected"]] * 2))
    row("pairs: train / test", *([f"{pairs['train']:,} / {pairs['test']:,}"] * 2))
    row("same id as a pair (excluded)", *(excluded[name]["same_id_as_paired"] for name in names))
    row("unpaired", *(summary["unpaired"][name] for name in names))
    return table
