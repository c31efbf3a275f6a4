"""``galtk evaluate`` on tiny trained runs: the report, several methods, reference noise, refusals."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr
from cli_results import one_error_line
from matplotlib.image import imread
from torch_threads import torch_on_one_thread
from typer.testing import CliRunner

from galtk.cli.app import app
from galtk.models.evaluation.pairs import read_test_pairs
from galtk.models.evaluation.report import is_report
from galtk.models.evaluation.results import SUMMARY_FIELDS
from galtk.models.translation.translator import file_sha256
from galtk.pipeline.locks import exclusive_lock

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("one_torch_thread")
BANDS = ("u", "g", "r", "i", "z")


@pytest.fixture(scope="module")
def report(trained_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The report of ours and cyclegan on the first 8 test pairs, and the command's output."""
    directory = tmp_path_factory.mktemp("evaluate") / "report"
    arguments = ["evaluate", "-w", str(trained_workspace), "--method", "ours", "--method", "cyclegan"]
    arguments += ["--output", str(directory), "--limit", "8", "--device", "cpu"]
    with torch_on_one_thread():
        result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    return directory, result.stdout


def test_report_holds_numbers_and_non_empty_figures_of_both_methods(report: tuple[Path, str]) -> None:
    directory, output = report
    assert is_report(directory)
    assert f"Report: {directory / 'index.html'}" in output.replace("\n", "")
    document = json.loads((directory / "metrics.json").read_text())
    ours, cyclegan = document["methods"]["ours"], document["methods"]["cyclegan"]
    assert list(ours) == ["sdss2cfht", "sdss2cfht-regridded", "cfht2sdss"]
    assert list(cyclegan) == ["sdss2cfht-regridded", "cfht2sdss"]
    assert ours["sdss2cfht"]["image_shape"] == [136, 136] and ours["sdss2cfht"]["n_images"] == 8
    assert cyclegan["sdss2cfht-regridded"]["image_shape"] == [64, 64]
    assert cyclegan["sdss2cfht-regridded"]["pixel_scale_arcsec"] == 0.396
    assert ours["cfht2sdss"]["survey"] == "sdss" and ours["cfht2sdss"]["bands"] == list(BANDS)
    assert ours["sdss2cfht"]["reference_noise"]["source"] == "true sigma"
    assert cyclegan["sdss2cfht-regridded"]["reference_noise"]["source"] == "measured on originals"
    for band in BANDS:
        numbers = ours["sdss2cfht"]["bands_summary"][band]
        assert numbers["noise_sigma_true"] > 0 and numbers["flux_difference_median"] > 0
        # the estimator recovers the synthetic sky's true noise on the originals
        assert numbers["original_noise_ratio_true"] == pytest.approx(1.0, abs=0.15)
        assert cyclegan["sdss2cfht-regridded"]["bands_summary"][band]["noise_sigma_true"] is None
    with open(directory / "metrics.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == (3 + 2) * len(BANDS)
    assert {row["method"] for row in rows} == {"ours", "cyclegan"}
    assert set(SUMMARY_FIELDS) <= set(rows[0])
    figures = sorted((directory / "figures").glob("*.png"))
    names = {path.name for path in figures}
    for direction in ("sdss2cfht", "sdss2cfht-regridded", "cfht2sdss"):
        for figure in ("flux_difference", "fourier_maps", "noise_sigma", "power_spectra", "rgb"):
            assert f"{direction}_{figure}.png" in names
    assert "sdss2cfht_ours_images.png" in names and "cfht2sdss_cyclegan_images.png" in names
    for path in figures:
        pixels = imread(path)
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100
        assert np.ptp(pixels[..., :3]) > 0, path.name
    index = (directory / "index.html").read_text()
    assert "cyclegan" in index and "sdss2cfht-regridded" in index and "figures/cfht2sdss_rgb.png" in index


def test_report_names_each_model(trained_workspace: Path, report: tuple[Path, str]) -> None:
    directory, _ = report
    document = json.loads((directory / "metrics.json").read_text())
    index = (directory / "index.html").read_text()
    for method, stage in (("ours", "step2"), ("cyclegan", "train")):
        (checkpoint,) = (trained_workspace / "runs" / method / "checkpoints" / stage).glob("*.pt")
        identity = document["models"][method]
        assert identity == {
            "method": method,
            "run": method,
            "run_directory": str((trained_workspace / "runs" / method).resolve()),
            "checkpoint": checkpoint.name,
            "checkpoint_sha256": file_sha256(checkpoint),
            "stage": stage,
            "iteration": 1,
            "stage_iterations": 1,
            "width": 0.0625,
        }
        assert identity["checkpoint_sha256"] in index and identity["run_directory"] in index


def _table_rows(output: str) -> list[list[str]]:
    """The body rows of the rich table in ``output``, cells of wrapped rows joined."""
    rows: list[list[str]] = []
    for line in output.splitlines():
        if not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if cells[0]:
            rows.append(cells)
        else:
            rows[-1] = [f"{old} {new}".strip() for old, new in zip(rows[-1], cells, strict=True)]
    return rows


def test_console_and_report_show_the_worst_band_of_each_criterion(report: tuple[Path, str]) -> None:
    directory, output = report
    document = json.loads((directory / "metrics.json").read_text())
    assert "worst band of each criterion" in output and "median" not in output
    expected = []
    for method, directions in document["methods"].items():
        for direction, written in directions.items():
            criteria = written["criteria"]
            cells = [method, direction]
            for name in ("noise", "flux_difference", "photometry"):
                checked = criteria[name]
                note = " [1]" if checked["note"] else ""
                value = "-" if checked["value"] is None else f"{checked['value']:.3g}"
                cells.append(f"{value} ({checked['worst_band']}) {checked['status']}{note}")
            expected.append([*cells, criteria["verdict"]])
            counts = written["photometry_counts"]["aperture"]
            assert all(n["used"] + n["excluded"] == written["n_images"] for n in counts.values())
    assert _table_rows(output) == expected
    regridded = document["methods"]["cyclegan"]["sdss2cfht-regridded"]["criteria"]["noise"]
    assert regridded["field"] == "noise_ratio" and "no true sigma" in regridded["note"]
    assert document["methods"]["ours"]["sdss2cfht"]["criteria"]["noise"]["field"] == "noise_ratio_true"
    assert "[1] no true sigma" in output


def test_existing_report_or_other_directory_is_refused_before_any_work(
    trained_workspace: Path, report: tuple[Path, str], tmp_path: Path
) -> None:
    directory, _ = report
    before = (directory / "metrics.json").read_bytes()
    again = runner.invoke(app, ["evaluate", "-w", str(trained_workspace), "--output", str(directory)])
    assert again.exit_code == 1
    assert "--overwrite" in one_error_line(again)
    assert (directory / "metrics.json").read_bytes() == before
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("keep me")
    refused = runner.invoke(
        app, ["evaluate", "-w", str(trained_workspace), "--output", str(other), "--overwrite"]
    )
    assert refused.exit_code == 1
    assert "not a galtk evaluation report" in one_error_line(refused)
    assert (other / "todo.txt").read_text() == "keep me"


def test_a_report_being_written_by_another_evaluation_is_refused_at_once(
    trained_workspace: Path, report: tuple[Path, str], tmp_path: Path
) -> None:
    directory = Path(shutil.copytree(report[0], tmp_path / "report"))
    before = (directory / "metrics.json").read_bytes()
    arguments = ["evaluate", "-w", str(trained_workspace), "--output", str(directory), "--overwrite"]
    with exclusive_lock(directory):  # another galtk evaluate writing this report
        refused = runner.invoke(app, [*arguments, "--limit", "2", "--device", "cpu"])
    assert refused.exit_code == 1
    assert f"{directory} is being written by another galtk process" in one_error_line(refused)
    assert (directory / "metrics.json").read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report"]


def test_overwrite_replaces_a_report_and_the_emulator_reference_is_used(
    trained_workspace: Path, report: tuple[Path, str], tmp_path: Path
) -> None:
    directory = Path(shutil.copytree(report[0], tmp_path / "report"))
    arguments = ["evaluate", "-w", str(trained_workspace), "--output", str(directory), "--overwrite"]
    arguments += ["--limit", "3", "--reference-noise", "emulator", "--device", "cpu"]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    document = json.loads((directory / "metrics.json").read_text())
    assert list(document["methods"]) == ["ours"]
    assert document["methods"]["ours"]["sdss2cfht"]["n_images"] == 3
    assert document["methods"]["ours"]["cfht2sdss"]["reference_noise"]["source"] == "noise emulator"
    assert not (directory / "figures" / "cfht2sdss_cyclegan_images.png").exists()


def test_two_models_of_one_method_are_named_by_run_or_file(trained_workspace: Path, tmp_path: Path) -> None:
    (original,) = (trained_workspace / "runs" / "ours" / "checkpoints" / "step2").glob("*.pt")
    copy = Path(shutil.copy(original, tmp_path / "copy.pt"))
    output = tmp_path / "report"
    arguments = ["evaluate", "-w", str(trained_workspace), "--run", "ours", "--checkpoint", str(copy)]
    result = runner.invoke(app, [*arguments, "--output", str(output), "--limit", "2", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    document = json.loads((output / "metrics.json").read_text())
    assert list(document["methods"]) == ["ours.ours", "ours.copy"]
    first, second = (document["methods"][name]["cfht2sdss"]["bands_summary"] for name in document["methods"])
    assert first == second  # same weights, same seeds: the same numbers


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--method", "cyclegan", "--reference-noise", "emulator"],
            "no evaluated method has Noise Emulators",
        ),
        (["--method", "ours", "--run", "ours"], "the same checkpoint is asked for twice"),
        (["--method", "pix2pix"], "galtk train --method pix2pix"),
        (["--run", "nowhere"], "--run nowhere"),
        (["--reference-noise", "median"], "--reference-noise 'median'"),
    ],
)
def test_bad_choices_give_oneone_error_line(
    trained_workspace: Path, tmp_path: Path, arguments: list[str], message: str
) -> None:
    output = tmp_path / "report"
    result = runner.invoke(
        app, ["evaluate", "-w", str(trained_workspace), "--output", str(output), "--limit", "2", *arguments]
    )
    assert result.exit_code == 1, result.output
    assert message in one_error_line(result)
    assert not output.exists()


def test_a_relative_output_leading_out_of_the_workspace_is_refused(trained_workspace: Path) -> None:
    result = runner.invoke(app, ["evaluate", "-w", str(trained_workspace), "--output", "../escaped-report"])
    assert result.exit_code == 1, result.output
    assert "leads out of the workspace" in one_error_line(result)
    assert not (trained_workspace.parent / "escaped-report").exists()


def test_missing_paired_store_then_missing_runs_are_named(
    fetched_workspace, tmp_path: Path, monkeypatch
) -> None:
    root = fetched_workspace()
    result = runner.invoke(app, ["evaluate", "-w", str(root)])
    assert result.exit_code == 1
    assert "run `galtk crossmatch` first" in one_error_line(result)
    assert runner.invoke(app, ["crossmatch", "-w", str(root)]).exit_code == 0
    result = runner.invoke(app, ["evaluate", "-w", str(root)])
    assert result.exit_code == 1
    assert "galtk train --method ours" in one_error_line(result)
    assert not (root / "reports").exists()
    monkeypatch.chdir(tmp_path)
    outside = runner.invoke(app, ["evaluate"])
    assert outside.exit_code == 1
    assert "galtk init" in one_error_line(outside)


def test_test_pairs_leave_out_invalid_bands_and_respect_the_limit(fetched_workspace) -> None:
    root = fetched_workspace()
    assert runner.invoke(app, ["crossmatch", "-w", str(root)]).exit_code == 0
    paired = root / "data" / "paired.zarr"
    full = read_test_pairs(paired)
    assert full.skipped == 0 and len(full) == full.n_test > 3
    assert full.sdss.shape == (len(full), 5, 64, 64) and full.cfht.shape == (len(full), 5, 136, 136)
    assert full.sdss_sigma.shape == (len(full), 5) and (full.cfht_sigma > 0).all()
    valid = zarr.open_array(str(paired / "cfht" / "valid"), mode="r+")
    first = int(full.rows[0])
    flags = valid[first]
    flags[2] = False
    valid[first] = flags
    fewer = read_test_pairs(paired)
    assert fewer.skipped == 1 and len(fewer) == len(full) - 1 and first not in fewer.rows
    np.testing.assert_array_equal(fewer.cfht, full.cfht[1:])
    limited = read_test_pairs(paired, limit=2)
    assert len(limited) == 2 and limited.skipped == 1
    np.testing.assert_array_equal(limited.rows, full.rows[1:3])
    np.testing.assert_array_equal(limited.centres["cfht"][:, 0], fewer.centres["cfht"][:2, 0])
