"""The ``galtk`` Typer application."""

from __future__ import annotations

from typing import Annotated

import typer

from galtk import __version__
from galtk.cli import setup_logging
from galtk.cli.crossmatch import crossmatch_command
from galtk.cli.demo import demo_command
from galtk.cli.evaluate import evaluate_command
from galtk.cli.fetch import fetch_command
from galtk.cli.init import init_command
from galtk.cli.models import models_command
from galtk.cli.preprocess import preprocess_command
from galtk.cli.train import train_command
from galtk.cli.translate import translate_command

app = typer.Typer(
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
