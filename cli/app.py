"""The ``galtk`` Typer application: its commands, one-line option errors and plain value labels in help."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, get_args

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from galtk import __version__
from galtk.cli import CLICK_EXCEPTION, USAGE_ERROR, error_console, print_error_line, setup_logging
from galtk.cli.crossmatch import crossmatch_command
from galtk.cli.degrade import degrade_command
from galtk.cli.demo import demo_command
from galtk.cli.evaluate import evaluate_command
from galtk.cli.fetch import fetch_command
from galtk.cli.init import init_command
from galtk.cli.models import models_command
from galtk.cli.preprocess import preprocess_command
from galtk.cli.train import train_command
from galtk.cli.translate import translate_command

# Typer 0.29 labels values in help by their Python annotation (<int range>, <list[Path]>, and <bool> even for
# a flag that takes no value); galtk's commands and group show the conventional labels instead.
_LABELS = {int: "N", float: "NUMBER", str: "TEXT", Path: "PATH"}


def value_label(param: TyperOption | TyperArgument, ctx: typer.Context | None = None) -> str:
    """The label of the value ``param`` takes: empty for a flag, ``...`` appended when it takes several.

    Parameters
    ----------
    param : TyperOption or TyperArgument
        A parameter of a galtk command.
    ctx : typer.Context, optional
        Unused; Typer passes it.

    Returns
    -------
    str
        ``N``, ``NUMBER``, ``TEXT``, ``PATH`` or the choices joined by ``|``, or ``""`` for a flag.
    """
    if isinstance(param, TyperOption) and param.is_flag:
        return ""
    descriptor = param.type_descriptor
    annotation: Any = descriptor.annotation
    if descriptor.is_list:
        (annotation,) = get_args(annotation) or (str,)
    if descriptor.is_choice:
        label = "|".join(str(getattr(choice, "value", choice)) for choice in descriptor.choices or ())
    else:
        label = _LABELS.get(annotation, "TEXT")
    return label + "..." if descriptor.is_list else label


class _LabelledOption(TyperOption):
    def display_type(self, ctx: Any) -> str:
        return value_label(self, ctx)


class _LabelledArgument(TyperArgument):
    def display_type(self, ctx: Any) -> str:
        return value_label(self, ctx)


class LabelledValues:
    """Mixin of a Typer command or group: its help labels values as :func:`value_label` does.

    Typer builds the parameters itself, with no hook for their class; each is given the subclass above, which
    adds no state and changes only the label.
    """

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]  # own ones, and --help made for this context
        for param in params:
            if type(param) is TyperOption:
                param.__class__ = _LabelledOption
            elif type(param) is TyperArgument:
                param.__class__ = _LabelledArgument
        return params


class LabelledCommand(LabelledValues, TyperCommand):
    """A galtk command: Typer's command with the plain value labels of :class:`LabelledValues`."""


class OneLineErrors(LabelledValues, TyperGroup):
    """The galtk group: a bad option or argument is one ``Error:`` line and exit code 1, as any other error.

    Click reports them (out-of-range values, unknown options, missing arguments) in a box with exit code 2;
    galtk's promise is the same single line for every bad input (docs/troubleshooting.md). Its help labels
    values plainly (:class:`LabelledValues`).
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
    help="Build galaxy cutout data sets from sky surveys and translate galaxy images between surveys.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.command("init", cls=LabelledCommand)(init_command)
app.command("fetch", cls=LabelledCommand)(fetch_command)
app.command("models", cls=LabelledCommand)(models_command)
app.command("crossmatch", cls=LabelledCommand)(crossmatch_command)
app.command("preprocess", cls=LabelledCommand)(preprocess_command)
app.command("degrade", cls=LabelledCommand)(degrade_command)
app.command("train", cls=LabelledCommand)(train_command)
app.command("translate", cls=LabelledCommand)(translate_command)
app.command("evaluate", cls=LabelledCommand)(evaluate_command)
app.command("demo", cls=LabelledCommand)(demo_command)


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
    """Build galaxy cutout data sets from sky surveys and translate galaxy images between surveys."""
    setup_logging(verbose)


def main() -> None:
    """Entry point of the ``galtk`` console script."""
    app()
