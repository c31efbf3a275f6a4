"""``galtk models``: list the networks of each method with their shapes and parameter counts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from galtk.cli import console, reports_errors

if TYPE_CHECKING:
    from galtk.models.summary import NetworkSummary


@reports_errors
def models_command(
    method: Annotated[
        str | None,
        typer.Option(
            "--method",
            "-m",
            help="Method name or alias (e.g. ours, cyclegan-id, 9 or g); default: every method.",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON only (no table).")
    ] = False,
) -> None:
    """List each network of each method: role, Figure 2 panel, input/output shapes, parameter counts."""
    from galtk.models.summary import summarize

    rows = summarize(method)
    if json_output:
        typer.echo(json.dumps([_as_record(row) for row in rows], indent=2))
        return
    console.print(_table(rows))
    mismatched = [row for row in rows if row.spec_parameters not in (None, row.parameters.stored)]
    if mismatched:
        console.print(f"[bold red]{len(mismatched)} networks differ from SPEC section 4's counts.[/bold red]")
    else:
        console.print(
            "All parameter counts equal SPEC section 4's figures (5 bands, width 1); GalaxyGAN's networks,"
            " which SPEC does not list, equal the pix2pix formula's."
        )


def _as_record(row: NetworkSummary) -> dict[str, object]:
    return {
        "method": row.method,
        "paper": row.paper,
        "aliases": list(row.aliases),
        "role": row.role,
        "step": row.step,
        "network": row.network,
        "panel": row.panel,
        "inputs": list(row.inputs),
        "output": row.output,
        "parameters": row.parameters.stored,
        "free_parameters": row.parameters.free,
        "spec_parameters": row.spec_parameters,
    }


def _table(rows: list[NetworkSummary]) -> Table:
    table = Table(title="Networks per method (X = SDSS, Y = CFHT; B = batch size)")
    for column in ("method", "role", "network", "panel", "input", "output"):
        table.add_column(column)
    # Counts are never cut: their column keeps its width and the text columns wrap instead.
    widest = max((len(f"{row.parameters.stored:,}") for row in rows), default=10)
    table.add_column("parameters", justify="right", no_wrap=True, min_width=widest)
    table.add_column("SPEC", justify="center", no_wrap=True)
    for index, row in enumerate(rows):
        first_of_method = index == 0 or rows[index - 1].method != row.method
        last_of_method = index == len(rows) - 1 or rows[index + 1].method != row.method
        count = f"{row.parameters.stored:,}"
        if row.parameters.free != row.parameters.stored:
            count += f"\n({row.parameters.free:,} free)"
        table.add_row(
            f"{row.method}\n{row.paper}\naliases {', '.join(row.aliases)}" if first_of_method else "",
            f"{row.role} ({row.step})" if row.step else row.role,
            row.network,
            row.panel,
            "\n".join(row.inputs),
            row.output,
            count,
            _spec_check(row),
            end_section=last_of_method,
        )
    return table


def _spec_check(row: NetworkSummary) -> str:
    if row.spec_parameters is None:
        return ""
    return "ok" if row.spec_parameters == row.parameters.stored else f"DIFF {row.spec_parameters:,}"
