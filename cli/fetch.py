"""``galtk fetch``: fill the raw cutout stores of the workspace's surveys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, TaskID, TextColumn
from rich.table import Table

from galtk.cli import WorkspaceOption, console, cutout_progress, reports_errors

if TYPE_CHECKING:
    from pathlib import Path

    from galtk.pipeline.fetch.stage import FetchCallbacks, FetchReport


@reports_errors
def fetch_command(
    survey: Annotated[
        list[str] | None,
        typer.Option(
            "--survey", "-s", help="Survey to fetch (repeatable; default: every survey in galtk.toml)."
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(help="Data source for all selected surveys, overriding galtk.toml (e.g. sim)."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Complete existing stores left by an interrupted fetch.")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace existing stores (swapped in only once complete).")
    ] = False,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="With --resume, try the rows that failed before again.")
    ] = False,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Cutouts per write batch.")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Parallel workers.")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Fetch 5-band cutouts of every object of each survey into its raw zarr store."""
    from galtk.pipeline.fetch.stage import fetch_workspace
    from galtk.pipeline.workspace import load_workspace

    ws = load_workspace(workspace)
    with cutout_progress(TextColumn("{task.fields[downloaded]}")) as progress:
        reports = fetch_workspace(
            ws,
            survey or (),
            source=source,
            resume=resume,
            overwrite=overwrite,
            retry_failed=retry_failed,
            batch_size=batch_size,
            workers=workers,
            callbacks=lambda name, source_name: _survey_bar(progress, name, source_name),
        )
    console.print(_summary(reports, ws.root))
    for report in reports:
        if report.failures_csv:
            console.print(f"{report.survey}: failed and rejected objects are listed in {report.failures_csv}")


def _survey_bar(progress: Progress, survey: str, source: str) -> FetchCallbacks:
    """A progress bar for one survey's fetch, with the megabytes downloaded so far.

    The bar appears with the fetch's first news (its start, or a download), so that a fetch refused before
    any work (a store that exists, a bad setting) prints its error line alone.
    """
    from galtk.pipeline.fetch.stage import FetchCallbacks

    tasks: list[TaskID] = []
    received = [0]

    def task() -> TaskID:
        if not tasks:
            tasks.append(progress.add_task(f"{survey} ({source})", total=None, downloaded=""))
        return tasks[0]

    def on_bytes(size: int) -> None:
        received[0] += size
        progress.update(task(), downloaded=f"{received[0] / 1e6:,.1f} MB downloaded")

    return FetchCallbacks(
        on_start=lambda total, todo: progress.update(task(), total=total, completed=total - todo),
        on_progress=lambda rows: progress.advance(task(), rows),
        on_bytes=on_bytes,
    )


def _summary(reports: list[FetchReport], root: Path) -> Table:
    table = Table(title="galtk fetch")
    for column in (
        "survey",
        "store",
        "objects",
        "done",
        "failed",
        "rejected",
        "pending",
        "written",
        "per min",
    ):
        table.add_column(column, justify="left" if column in ("survey", "store") else "right")
    for report in reports:
        try:
            where = str(report.path.relative_to(root))
        except ValueError:
            where = str(report.path)
        rate = report.written / report.seconds * 60 if report.seconds > 0 else 0.0
        table.add_row(
            report.survey,
            where,
            str(report.objects),
            str(report.done),
            str(report.failed),
            str(report.rejected),
            str(report.pending),
            str(report.written),
            f"{rate:,.0f}",
        )
    return table
