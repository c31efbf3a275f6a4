"""``galtk models`` as a user meets it, through a small Typer app that registers the command."""

import json

import typer
from typer.testing import CliRunner

from galtk.cli.models import models_command

runner = CliRunner()
app = typer.Typer()
app.command("models")(models_command)


@app.command("other")
def _other() -> None:
    """A second command, so that Typer keeps ``models`` as a subcommand."""


def test_table_lists_every_method_and_checks_spec_counts() -> None:
    result = runner.invoke(app, ["models"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in ("ours", "pix2pix", "cyclegan-id-ps", "ours-auto", "augcgan", "3,859,845", "21,815 free"):
        assert name in result.stdout
    assert "All parameter counts equal SPEC" in result.stdout
    assert "DIFF" not in result.stdout


def test_json_output_is_json_only() -> None:
    result = runner.invoke(app, ["models", "--method", "9", "--json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["role"] for r in records] == ["G_XY", "G_YX", "D_X", "D_Y"]
    assert {r["method"] for r in records} == {"cyclegan"}
    assert records[0]["parameters"] == 7_850_245 == records[0]["spec_parameters"]
    assert records[2]["output"] == "(B, 1, 8, 8)"


def test_unknown_method_is_one_error_line() -> None:
    result = runner.invoke(app, ["models", "--method", "bogus"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("Error: unknown method 'bogus'")
    assert "augcgan (10, h)" in lines[0]
