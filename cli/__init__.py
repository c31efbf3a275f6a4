"""The ``galtk`` command line (Typer), and what its commands share: console, --workspace, error lines."""

from __future__ import annotations

import errno
import functools
import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

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


def print_error_line(message: str) -> None:
    """Print ``Error: message`` as one line on standard error."""
    error_console.print(f"[bold red]Error:[/bold red] {escape(message)}", highlight=False, soft_wrap=True)


def exit_with_error(message: str, code: int = 1) -> NoReturn:
    """Print one error line on standard error and stop with ``code``."""
    print_error_line(message)
    raise typer.Exit(code)


RESUME_HINT = "interrupted; rerun with --resume to continue"
#: Set (to anything) to see the traceback of an unexpected error instead of its one line.
DEBUG_VARIABLE = "GALTK_DEBUG"
#: Click's usage and base exceptions as Typer raises them (recent Typer vendors its own copy of Click, so they
#: are taken from the hierarchy of ``typer.BadParameter`` rather than imported from ``click``). Commands let
#: them through; the application prints them as one line (``galtk.cli.app.OneLineErrors``).
USAGE_ERROR: type[Exception] = typer.BadParameter.__bases__[0]
CLICK_EXCEPTION: type[Exception] = USAGE_ERROR.__bases__[0]


def describe_unexpected(error: Exception) -> str:
    """One line for an error galtk did not foresee: the file and what to do where the system says so.

    Parameters
    ----------
    error : Exception

    Returns
    -------
    str
    """
    if isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        advice = {
            errno.ENOSPC: "free some space or write elsewhere, then run the command again",
            errno.EDQUOT: "free some space or write elsewhere, then run the command again",
            errno.EACCES: "check the file's permissions",
            errno.EROFS: "write elsewhere",
        }.get(error.errno or 0, "")
        return f"{where}{error.strerror}" + (f"; {advice}" if advice else "")
    lines = str(error).strip().splitlines()
    detail = f": {lines[0]}" if lines else ""
    return (
        f"unexpected {type(error).__name__}{detail} (a damaged store, or a bug: run again with "
        f"{DEBUG_VARIABLE}=1 for the traceback, and please report it)"
    )


def reports_errors(command: F | None = None, *, interrupted: str = RESUME_HINT) -> Any:
    """Turn a :class:`~galtk.errors.GaltkError` raised by a command into one error line and exit code 1.

    Ctrl-C (``KeyboardInterrupt``) becomes the line ``interrupted`` and exit code 130. Library warnings
    (astropy's "File may have been truncated"...) are held until the command succeeds: a command that fails
    prints its one error line, not the warnings that led to it. Use as
    ``@reports_errors`` or ``@reports_errors(interrupted="...")`` for a command whose interruption needs
    another hint than ``--resume``.
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            import astropy  # noqa: F401  # its warning logger hooks showwarning on import: before the block

            try:
                with warnings.catch_warnings(record=True) as caught:
                    result = function(*args, **kwargs)
                for warning in caught:  # shown once the command has succeeded; a failure is one line
                    warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
                return result
            except GaltkError as error:
                exit_with_error(str(error))
            except KeyboardInterrupt:
                exit_with_error(interrupted, code=130)
            except (typer.Exit, typer.Abort, CLICK_EXCEPTION):
                raise
            except Exception as error:  # an OS error (full disk...), a damaged store, or a galtk bug
                if os.environ.get(DEBUG_VARIABLE):
                    raise
                exit_with_error(describe_unexpected(error))

        return wrapper  # type: ignore[return-value]

    return decorate(command) if command is not None else decorate
