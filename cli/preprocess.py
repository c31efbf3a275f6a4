"""``galtk preprocess``: rescaled (and regridded CFHT) arrays next to the images of the data-set stores."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from galtk.cli import StagedProgress, WorkspaceOption, console, cutout_progress, reports_errors

if TYPE_CHECKING:
    from galtk.pipeline.preprocess.stage import PreprocessReport


@reports_errors(
    interrupted="interrupted; the store being processed keeps its previous arrays (finished stores are done:"
    " rerun with the remaining stores, or --overwrite)"
)
def preprocess_command(
    stores: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Cutout or paired stores (default: \\[preprocess] stores, or else the crossmatch outputs).",
            show_default=False,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Dask scheduler: threads, processes, synchronous, or a dask.distributed address "
            "(tcp://host:8786) whose workers see the stores at the same paths.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Threads or processes of a local scheduler (default: all cores)."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Recompute rescaled/regridded arrays that exist already.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Rescale every store (CFHT x 1e-3, then signed square root) and regrid CFHT onto the SDSS grid.

    Results are stored next to the images as the arrays `rescaled` and `regridded`, with their units and
    transform history in attributes. A store that is already rescaled is refused unless --overwrite is given.
    """
    from galtk.pipeline.preprocess.stage import preprocess_workspace
    from galtk.pipeline.workspace import load_workspace, override_settings

    ws = load_workspace(workspace)
    settings = override_settings(
        ws.config.preprocess,
        stores=[str(path) for path in stores] if stores else None,
        scheduler=scheduler,
        workers=workers,
    )
    with cutout_progress() as progress:
        stages = StagedProgress(progress)
        reports = preprocess_workspace(
            ws, settings, overwrite=overwrite, on_start=stages.start, on_progress=stages.advance
        )
    console.print(_summary(reports, ws.root))


def _summary(reports: list[PreprocessReport], root: Path) -> Table:
    table = Table(title="galtk preprocess")
    for column in ("store", "survey", "objects", "arrays", "NaN px in valid bands", "per s"):
        table.add_column(column, justify="left" if column in ("store", "survey", "arrays") else "right")
    for report in reports:
        try:
            where = str(report.path.relative_to(root))
        except ValueError:
            where = str(report.path)
        rate = report.objects / report.seconds if report.seconds > 0 else 0.0
        table.add_row(
            where,
            report.survey,
            f"{report.objects:,}",
            ", ".join(report.arrays),
            f"{report.nonfinite_valid_pixels:,}",
            f"{rate:,.0f}",
        )
    return table
