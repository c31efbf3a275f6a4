"""Pieces shared by every command: the console, the --workspace option and error reporting."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from galtk.errors import GaltkError

console = Console()
error_console = Console(stderr=True)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace directory holding galtk.toml (default: the current directory).",
        show_default=False,
    ),
]

F = TypeVar("F", bound=Callable[..., Any])


def cutout_progress(*extra_columns: ProgressColumn) -> Progress:
    """The progress display of long commands: one bar per task, counting cutouts, then ``extra_columns``."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("cutouts"),
        TimeRemainingColumn(),
        *extra_columns,
        console=console,
    )


class StagedProgress:
    """One bar per stage of a job: the library calls ``start(description, total)``, then ``advance(rows)``."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def start(self, description: str, total: int) -> None:
        """Open the bar of a new stage."""
        self._task = self._progress.add_task(description, total=total)

    def advance(self, rows: int) -> None:
        """Count ``rows`` more cutouts in the current stage."""
        if self._task is not None:
            self._progress.advance(self._task, rows)


def setup_logging(verbose: bool) -> None:
    """Show galtk's log messages on standard error: warnings, or also progress details with ``verbose``."""
    from rich.logging import RichHandler

    logger = logging.getLogger("galtk")
    if not any(isinstance(handler, RichHandler) for handler in logger.handlers):
        handler = RichHandler(console=error_console, show_time=False, show_path=False, markup=False)
        logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)


def exit_with_error(message: str, code: int = 1) -> None:
    """Print one error line on standard error and stop with ``code``."""
    error_console.print(f"[bold red]Error:[/bold red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def reports_errors(command: F) -> F:
    """Turn :class:`~galtk.errors.GaltkError` (and invalid values) raised by a command into one error line."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except GaltkError as error:
            exit_with_error(str(error))
        except KeyboardInterrupt:
            exit_with_error("interrupted; rerun with --resume to continue", code=130)

    return wrapper  # type: ignore[return-value]
