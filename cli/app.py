"""The ``galtk`` Typer application."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from galtk import __version__
from galtk.cli import CLICK_EXCEPTION, USAGE_ERROR, error_console, print_error_line, setup_logging
from galtk.cli.crossmatch import crossmatch_command
from galtk.cli.demo import demo_command
from galtk.cli.evaluate import evaluate_command
from galtk.cli.fetch import fetch_command
from galtk.cli.init import init_command
from galtk.cli.models import models_command
from galtk.cli.preprocess import preprocess_command
from galtk.cli.train import train_command
from galtk.cli.translate import translate_command


class OneLineErrors(TyperGroup):
    """The galtk group: a bad option or argument is one ``Error:`` line and exit code 1, as any other error.

    Click reports them (out-of-range values, unknown options, missing arguments) in a box with exit code 2;
    galtk's promise is the same single line for every bad input (docs/troubleshooting.md).
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except CLICK_EXCEPTION as error:
            if not standalone_mode:
                raise
            if not error.format_message():  # type: ignore[attr-defined]
                sys.exit(error.exit_code)  # type: ignore[attr-defined]  # help shown for a bare command
            hint = ""
            context = getattr(error, "ctx", None)
            if isinstance(error, USAGE_ERROR) and context is not None:
                hint = f" (see {context.command_path} --help)"
            print_error_line(error.format_message() + hint)  # type: ignore[attr-defined]
            sys.exit(1)
        except typer.Abort:
            if not standalone_mode:
                raise
            error_console.print("Aborted.", highlight=False)
            sys.exit(1)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    cls=OneLineErrors,
    name="galtk",
    help="Build SDSS/CFHTLS galaxy cutout data sets and translate galaxy images between the surveys.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.command("init")(init_command)
app.command("fetch")(fetch_command)
app.command("models")(models_command)
app.command("crossmatch")(crossmatch_command)
app.command("preprocess")(preprocess_command)
app.command("train")(train_command)
app.command("translate")(translate_command)
app.command("evaluate")(evaluate_command)
app.command("demo")(demo_command)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"galtk {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also log progress details.")] = False,
) -> None:
    """Build SDSS/CFHTLS galaxy cutout data sets and translate galaxy images between the surveys."""
    setup_logging(verbose)


def main() -> None:
    """Entry point of the ``galtk`` console script."""
    app()
