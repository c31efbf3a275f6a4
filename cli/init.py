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
    force: Annotated[bool, typer.Option("--force", help="Replace an existing galtk.toml.")] = False,
) -> None:
    """Create a workspace: DIRECTORY/galtk.toml with surveys, data paths and every command's defaults."""
    from galtk.models.methods import workspace_train_table
    from galtk.pipeline.workspace import init_workspace

    path = init_workspace(directory, sim=sim, force=force, train=workspace_train_table())
    source = "the synthetic sky" if sim else "the SDSS and CFHTLS archives (needs object catalogs)"
    console.print(f"Wrote [bold]{path}[/bold] (data source: {source}).")
    hint = f"cd {directory} && galtk fetch" if directory != Path(".") else "galtk fetch"
    console.print(f"Next: [bold]{hint}[/bold]", highlight=False)
