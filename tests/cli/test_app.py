"""The galtk command line as a user meets it: help, init, fetch, errors."""

import errno
import os
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from cli_results import one_error_line
from typer.testing import CliRunner

from galtk.cli.app import app
from galtk.pipeline.locks import exclusive_lock
from galtk.pipeline.workspace import CONFIG_NAME

runner = CliRunner()
WORKING_COMMANDS = (
    "init",
    "fetch",
    "models",
    "crossmatch",
    "preprocess",
    "degrade",
    "train",
    "translate",
    "evaluate",
    "demo",
)


def test_help_lists_the_working_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    commands_panel = result.stdout.split("Commands")[1]
    listed = {
        line.split()[1] for line in commands_panel.splitlines() if line.startswith("│ ") and line[2] != " "
    }
    assert listed == set(WORKING_COMMANDS)
    for command in WORKING_COMMANDS:
        assert runner.invoke(app, [command, "--help"]).exit_code == 0


def test_init_then_fetch_builds_two_stores(sim_workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    root = sim_workspace("ws")
    monkeypatch.chdir(root)
    result = runner.invoke(app, ["fetch"])
    assert result.exit_code == 0, result.output
    for survey, size in (("sdss", 64), ("cfht", 136)):
        dataset = xr.open_zarr(root / f"data/raw/{survey}.zarr")
        assert dataset.images.shape[1:] == (5, size, size)
        assert bool((dataset.state == 1).all())
        assert np.isfinite(dataset.images.isel(object=0).values).all()
    assert "galtk fetch" in result.stdout and "sdss" in result.stdout


def test_init_writes_a_workspace_and_refuses_to_clobber_it(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "new"), "--sim"])
    assert result.exit_code == 0, result.output
    config = tmp_path / "new" / CONFIG_NAME
    text = config.read_text()
    assert 'source = "sim"' in text
    again = runner.invoke(app, ["init", str(tmp_path / "new")])
    assert again.exit_code == 1
    assert "already exists" in one_error_line(again)
    assert config.read_text() == text


def test_fetch_with_workspace_option_and_survey_selection(sim_workspace, tmp_path: Path) -> None:
    root = sim_workspace("elsewhere")
    result = runner.invoke(app, ["fetch", "--workspace", str(root), "--survey", "sdss", "--batch-size", "32"])
    assert result.exit_code == 0, result.output
    assert (root / "data/raw/sdss.zarr").exists() and not (root / "data/raw/cfht.zarr").exists()


def test_fetch_outside_a_workspace_fails_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["fetch"])
    assert result.exit_code == 1
    assert "galtk init" in one_error_line(result)


def test_fetch_refuses_to_overwrite_and_leaves_the_store(sim_workspace) -> None:
    root = sim_workspace("ws")
    assert runner.invoke(app, ["fetch", "-w", str(root), "-s", "sdss"]).exit_code == 0
    store = root / "data/raw/sdss.zarr"
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    result = runner.invoke(app, ["fetch", "-w", str(root), "-s", "sdss"])
    assert result.exit_code == 1
    assert "--resume" in one_error_line(result)
    assert {p: p.read_bytes() for p in store.rglob("*") if p.is_file()} == before
    resumed = runner.invoke(app, ["fetch", "-w", str(root), "-s", "sdss", "--resume"])
    assert resumed.exit_code == 0


def test_a_second_fetch_of_the_same_store_is_refused_while_one_runs(sim_workspace) -> None:
    """Two `fetch --overwrite` at once once replaced a complete store by a half-written one (issue 17)."""
    root = sim_workspace("ws")
    assert runner.invoke(app, ["fetch", "-w", str(root), "-s", "sdss"]).exit_code == 0
    store = root / "data/raw/sdss.zarr"
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    with exclusive_lock(store):  # another galtk process writing it
        result = runner.invoke(app, ["fetch", "-w", str(root), "-s", "sdss", "--overwrite"])
    assert result.exit_code == 1
    assert f"{store} is being written by another galtk process (PID {os.getpid()})" in one_error_line(result)
    assert {p: p.read_bytes() for p in store.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(
    ("config_text", "args", "message"),
    [
        ("[sim]\nseeed = 1\n", [], "unknown key 'seeed'"),
        ("", ["--survey", "hst"], "no \\[surveys.hst\\] table"),
        ("", ["--source", "dss"], "source 'dss' is not available"),
        ("", ["--resume", "--overwrite"], "exclude each other"),
        ('[surveys.sdss]\nstore = "blocker/sdss.zarr"\n', ["-s", "sdss"], "not a directory"),
        ("[fetch]\nworkers = 0\n", [], "\\[fetch\\] workers must be at least 1, got 0"),
        ("[fetch]\nchunk_objects = 0\n", [], "\\[fetch\\] chunk_objects must be at least 1, got 0"),
        ("[surveys.sdss]\ncutout_size = 100000\n", ["-s", "sdss"], "GiB of cutouts in memory .*; lower them"),
    ],
)
def test_bad_input_gives_oneone_error_line(
    tmp_path: Path, config_text: str, args: list[str], message: str
) -> None:
    (tmp_path / CONFIG_NAME).write_text(
        config_text + "[sim]\nn_objects = 20\n" * ("[sim]" not in config_text)
    )
    (tmp_path / "blocker").write_text("a file where a directory should be")
    result = runner.invoke(app, ["fetch", "-w", str(tmp_path), *args])
    assert result.exit_code == 1, result.output
    assert result.stdout.strip() == "" or "Error" not in result.stdout
    import re

    assert re.search(message, one_error_line(result))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--iterations", "-5"], "Invalid value for '--iterations'"),
        (["train", "--lr", "-1"], "Invalid value for '--lr'"),
        (["fetch", "--workers", "0"], "Invalid value for '--workers'"),
        (["crossmatch", "--radius", "-1"], "Invalid value for '--radius'"),
        (["crossmatch", "--test-fraction", "2"], "Invalid value for '--test-fraction'"),
        (["evaluate", "--limit", "0"], "Invalid value for '--limit'"),
        (["fetch", "--bogus"], "No such option: --bogus"),
        (["translate"], "Missing argument"),
        (["fetch", "--workers", "two"], "Invalid value for '--workers'"),
    ],
)
def test_bad_options_give_one_error_line_and_exit_code_1(args: list[str], message: str) -> None:
    """Click reports these in a box with exit code 2; galtk's promise is one Error: line and exit code 1."""
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    line = one_error_line(result)
    assert message in line and f"galtk {args[0]} --help" in line


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "data/raw/sdss.zarr/images/c/0"),
            "Error: data/raw/sdss.zarr/images/c/0: No space left on device; free some space",
        ),
        (
            PermissionError(errno.EACCES, "Permission denied", "data/raw"),
            "Error: data/raw: Permission denied; check the file's permissions",
        ),
        (
            RuntimeError("codec failed\nmore detail"),
            "Error: unexpected RuntimeError: codec failed (a damaged store, or a bug: run again with",
        ),
    ],
)
def test_unforeseen_errors_are_one_line_and_a_traceback_on_request(
    sim_workspace, monkeypatch: pytest.MonkeyPatch, error: Exception, expected: str
) -> None:
    root = sim_workspace("ws")

    def failing(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr("galtk.pipeline.fetch.stage.fetch_workspace", failing)
    monkeypatch.delenv("GALTK_DEBUG", raising=False)
    result = runner.invoke(app, ["fetch", "-w", str(root)])
    assert result.exit_code == 1
    assert one_error_line(result).startswith(expected)
    monkeypatch.setenv("GALTK_DEBUG", "1")
    debugged = runner.invoke(app, ["fetch", "-w", str(root)])
    assert debugged.exception is error


def test_library_warnings_are_shown_after_success_and_dropped_before_an_error(
    sim_workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A truncated FITS printed astropy's warning line before galtk's one error line."""
    import warnings

    from galtk.errors import StoreError

    root = sim_workspace("ws")
    outcomes = iter([None, StoreError("the file is truncated")])

    def warning_then(*args: object, **kwargs: object) -> list:
        warnings.warn("File may have been truncated", UserWarning, stacklevel=1)
        failure = next(outcomes)
        if failure is not None:
            raise failure
        return []

    monkeypatch.setattr("galtk.pipeline.fetch.stage.fetch_workspace", warning_then)
    with pytest.warns(UserWarning, match="truncated"):
        assert runner.invoke(app, ["fetch", "-w", str(root)]).exit_code == 0
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        failed = runner.invoke(app, ["fetch", "-w", str(root)])
    assert failed.exit_code == 1 and one_error_line(failed) == "Error: the file is truncated"
    assert not shown


def test_help_keeps_the_galtk_toml_table_names() -> None:
    """Rich markup once swallowed "[surveys.sdss]" in help texts, leaving "(default:  store)"."""
    import typer

    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        tables = {
            table
            for param in command.params
            for table in re.findall(r"\\?\[([a-z]+(?:\.[a-z]+)?)\]", getattr(param, "help", None) or "")
        }
        shown = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"}).stdout
        for table in tables:
            assert f"[{table}]" in shown, f"galtk {name} --help lost [{table}]"
        assert "(default:  " not in shown, name


def test_help_labels_values_plainly_and_flags_not_at_all() -> None:
    """Typer 0.29 labelled values by annotation: ``<int range>``, ``<list[Path]>``, ``<bool>`` for flags."""
    import typer

    group = typer.main.get_command(app)
    for name in [None, *group.commands]:
        shown = runner.invoke(app, [*([name] if name else []), "--help"], env={"COLUMNS": "200"}).stdout
        labels = re.findall(r"<[a-z][^>]*>", shown)  # <int range>, <bool>; not a range such as [0.0<=x<=1.0]
        assert not labels, f"galtk {name} --help shows {labels}"
    train = runner.invoke(app, ["train", "--help"], env={"COLUMNS": "200"}).stdout
    assert re.search(r"--iterations\s+N \[x>=1\]", train) and re.search(r"--lr\s+NUMBER \[x>=0.0\]", train)
    assert re.search(r"--resume\s+Continue", train)
    preprocess = runner.invoke(app, ["preprocess", "--help"], env={"COLUMNS": "200"}).stdout
    assert re.search(r"stores\.\.\.\s+PATH\.\.\.", preprocess)


def test_models_table_shows_whole_parameter_counts_in_80_columns() -> None:
    import json

    records = json.loads(runner.invoke(app, ["models", "--json"]).stdout)
    table = runner.invoke(app, ["models"], env={"COLUMNS": "80"}).stdout
    for record in records:
        assert f"{record['parameters']:,}" in table, record
