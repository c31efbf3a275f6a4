"""``galtk init``: create a workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from galtk.cli import console, reports_errors


@reports_errors
def init_command(
    directory: Annotated[
        Path,
        typer.Argument(help="Workspace directory (created if missing).", show_default="current directory"),
    ] = Path("."),
    sim: Annotated[
        bool, typer.Option("--sim", help="Use the built-in synthetic sky as the data source of both surveys.")
    ] = False,
    surveys: Annotated[
        str | None,
        typer.Option(
            "--surveys",
            help="Built-in surveys to describe, comma-separated (sdss, cfht, dss2, 2mass, galex, sdss9, ps1, "
            "legacy, unwise).",
            show_default="sdss,cfht",
        ),
    ] = None,
    hips: Annotated[
        bool,
        typer.Option(
            "--hips",
            help="With --sim: read the synthetic sky through hips2fits, from galtk's offline stand-in on "
            "127.0.0.1, in each survey's HiPS unit.",
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing galtk.toml.")] = False,
) -> None:
    """Create a workspace: DIRECTORY/galtk.toml with surveys, data paths and every command's defaults.

    Without --surveys it describes the paper's SDSS and CFHTLS; with it, any built-in surveys (e.g. --surveys
    dss2,2mass,galex,sdss9 for multi-input translation). --sim --hips serves the synthetic sky as their HiPS
    on 127.0.0.1 during galtk fetch (offline, through astroquery's hips2fits client).
    """
    from galtk.models.methods import workspace_train_table
    from galtk.pipeline.workspace import init_workspace

    names = [name.strip().lower() for name in surveys.split(",")] if surveys is not None else None
    path = init_workspace(
        directory, sim=sim, force=force, train=workspace_train_table(), surveys=names, hips_standin=hips
    )
    archives = "the SDSS and CFHTLS archives" if names is None else "their archives"
    source = "the synthetic sky" if sim else f"{archives} (needs object catalogs)"
    if hips:
        source = "the synthetic sky through the hips2fits stand-in"
    console.print(f"Wrote [bold]{path}[/bold] (data source: {source}).")
    hint = f"cd {directory} && galtk fetch" if directory != Path(".") else "galtk fetch"
    console.print(f"Next: [bold]{hint}[/bold]", highlight=False)
