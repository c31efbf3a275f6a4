"""The evaluation report: files, figures, HTML, JSON and CSV, several methods, and safe replacement."""

import csv
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.image import imread

from galtk.models.evaluation import (
    SUMMARY_FIELDS,
    EvaluationError,
    EvaluationSet,
    evaluate_method,
    evaluate_methods,
    measure_originals,
    write_report,
)
from galtk.models.evaluation import figures as figure_module
from galtk.models.evaluation.report import CSV_COLUMNS, check_destination, fill_directory, is_report

METHODS = ("ideal", "noise-free")
DIRECTIONS = ("cfht_to_sdss", "sdss_to_cfht")


@pytest.fixture(scope="module")
def results(sdss_pairs: Any, cfht_pairs: Any) -> list:
    """Two methods in both directions: fresh noise of the true sigma, and the noise-free galaxies."""
    sets = [
        EvaluationSet(
            "cfht_to_sdss", "sdss", sdss_pairs.original, sdss_pairs.bands, true_sigma=sdss_pairs.true_sigma
        ),
        EvaluationSet(
            "sdss_to_cfht", "cfht", cfht_pairs.original, cfht_pairs.bands, true_sigma=cfht_pairs.true_sigma
        ),
    ]
    generated = {
        "ideal": {"cfht_to_sdss": sdss_pairs.generated, "sdss_to_cfht": cfht_pairs.generated},
        "noise-free": {"cfht_to_sdss": sdss_pairs.clean, "sdss_to_cfht": cfht_pairs.clean},
    }
    return evaluate_methods(generated, sets, examples=4)


@pytest.fixture(scope="module")
def report(results: list, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of both methods; returns its directory."""
    directory = tmp_path_factory.mktemp("evaluation") / "report"
    index = write_report(results, directory)
    assert index == directory / "index.html"
    return directory


@pytest.fixture
def small_report(pair_factory: Callable[..., Any]) -> Callable[[Path, str], Path]:
    """Write a one-band, one-direction report of one method (``name``) into a directory; fast."""
    pairs = pair_factory("sdss", 6, seed=31, bands=("r",))
    originals = [measure_originals(EvaluationSet("cfht_to_sdss", "sdss", pairs.original, pairs.bands))]

    def write(directory: Path, name: str = "ideal", **options: Any) -> Path:
        result = evaluate_method(name, {"cfht_to_sdss": pairs.generated}, originals, examples=2)
        write_report([result], directory, **options)
        return directory

    return write


def _figure_files(directory: Path) -> set[str]:
    return {path.relative_to(directory).as_posix() for path in (directory / "figures").glob("*.png")}


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in directory.rglob("*")
        if path.is_file()
    }


def test_report_holds_every_file_and_decodable_figures(report: Path) -> None:
    assert {path.name for path in report.iterdir()} == {
        "index.html",
        "metrics.json",
        "metrics.csv",
        "figures",
    }
    expected = {
        f"figures/{direction}_{name}.png"
        for direction in DIRECTIONS
        for name in (
            "flux_difference",
            "fourier_maps",
            "noise_sigma",
            "power_spectra",
            "photometry_total",
            "photometry_aperture",
            "rgb",
            *(f"{method}_images" for method in METHODS),
        )
    }
    assert _figure_files(report) == expected
    for name in expected:
        image = imread(report / name)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
        assert image.std() > 0.01  # something was drawn


def test_html_references_every_figure_with_relative_links(report: Path) -> None:
    html = (report / "index.html").read_text(encoding="utf-8")
    sources = set(re.findall(r'<img src="([^"]+)"', html))
    assert sources == _figure_files(report)
    assert 'href="metrics.json"' in html and 'href="metrics.csv"' in html
    assert str(report) not in html
    for direction in DIRECTIONS:
        assert f'id="{direction}"' in html


def test_html_compares_the_methods_side_by_side(report: Path) -> None:
    html = (report / "index.html").read_text(encoding="utf-8")
    headers = re.findall(r'<tr><th class="name">metric</th>(.*?)<th class="name">meaning</th></tr>', html)
    assert len(headers) == 2 * 3  # a table per direction and band
    assert all(header == "<th>ideal</th><th>noise-free</th>" for header in headers)
    for name in SUMMARY_FIELDS:
        assert html.count(f'<td class="name">{name}</td>') == 2 * 3 + 1  # the tables and the definitions


def test_json_parses_strictly_and_matches_the_results(report: Path, results: list) -> None:
    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    document = json.loads((report / "metrics.json").read_text(encoding="utf-8"), parse_constant=refuse)
    assert document["format"] == "galtk-evaluation"
    assert list(document["methods"]) == list(METHODS)
    for result in results:
        for direction, outcome in result.directions.items():
            written = document["methods"][result.method][direction]
            assert written["bands"] == ["g", "r", "i"]
            assert written["units"]["flux"] == "nanomaggy"
            assert written["reference_noise"]["source"] == "true sigma"
            for band in ("g", "r", "i"):
                for name, value in outcome.summary[band].items():
                    expected = None if np.isnan(value) else pytest.approx(value)
                    assert written["bands_summary"][band][name] == expected
                curves = written["bands_curves"][band]
                assert len(curves["power_spectrum"]["frequency"]) == len(curves["power_spectrum"]["original"])
                assert len(curves["flux_difference"]["median"]) == 10
    assert set(document["figures"]) == set(DIRECTIONS)


def test_csv_has_a_row_per_method_direction_and_band(report: Path) -> None:
    with (report / "metrics.csv").open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == len(METHODS) * len(DIRECTIONS) * 3
    assert {(row["method"], row["direction"], row["band"]) for row in rows} == {
        (method, direction, band) for method in METHODS for direction in DIRECTIONS for band in "gri"
    }
    for row in rows:
        for name in SUMMARY_FIELDS:
            assert row[name] == "" or np.isfinite(float(row[name]))
    ideal = [row for row in rows if row["method"] == "ideal"]
    assert all(abs(float(row["flux_difference_ratio"]) - 1.0) < 0.03 for row in ideal)


def test_existing_report_is_kept_unless_overwrite(tmp_path: Path, small_report: Callable[..., Path]) -> None:
    directory = small_report(tmp_path / "report")
    before = _tree(directory)
    with pytest.raises(EvaluationError, match="overwrite=True"):
        small_report(directory, name="other")
    assert _tree(directory) == before
    small_report(directory, name="other", overwrite=True)
    assert "other" in (directory / "index.html").read_text(encoding="utf-8")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report"]  # no staging left behind


def test_refuses_to_replace_what_is_not_a_report(tmp_path: Path, small_report: Callable[..., Path]) -> None:
    precious = tmp_path / "data"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(EvaluationError, match="not a galtk evaluation report"):
        small_report(precious, overwrite=True)
    assert (precious / "notes.txt").read_text(encoding="utf-8") == "keep me"
    empty = tmp_path / "empty"
    empty.mkdir()
    small_report(empty)
    assert is_report(empty)


def test_failure_while_writing_leaves_the_previous_report(
    tmp_path: Path, small_report: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = small_report(tmp_path / "report")
    before = _tree(directory)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(figure_module, "plot_rgb_comparison", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        small_report(directory, name="other", overwrite=True)
    assert _tree(directory) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report"]


def test_inconsistent_inputs_are_refused(pair_factory: Callable[..., Any]) -> None:
    pairs = pair_factory("sdss", 4, seed=41, bands=("r",))
    test_set = EvaluationSet("cfht_to_sdss", "sdss", pairs.original, pairs.bands)
    originals = [measure_originals(test_set)]
    with pytest.raises(EvaluationError, match="shape"):
        evaluate_method("ideal", {"cfht_to_sdss": pairs.generated[:3]}, originals)
    with pytest.raises(EvaluationError, match="sdss_to_cfht"):
        evaluate_method("ideal", {"sdss_to_cfht": pairs.generated}, originals)
    broken = pairs.generated.copy()
    broken[2, 0, 5, 5] = np.nan
    with pytest.raises(EvaluationError, match="image 2"):
        evaluate_method("ideal", {"cfht_to_sdss": broken}, originals)
    with pytest.raises(EvaluationError, match="method name"):
        evaluate_method("../escape", {"cfht_to_sdss": pairs.generated}, originals)
    with pytest.raises(EvaluationError, match="band names"):
        EvaluationSet("cfht_to_sdss", "sdss", pairs.original, ("g", "r"))
    with pytest.raises(EvaluationError, match="true_sigma"):
        EvaluationSet("cfht_to_sdss", "sdss", pairs.original, pairs.bands, true_sigma=np.ones(4))
    with pytest.raises(EvaluationError, match="unknown survey"):
        EvaluationSet("cfht_to_sdss", "hst", pairs.original, pairs.bands)


def test_report_refuses_repeated_methods_and_different_originals(
    tmp_path: Path, pair_factory: Callable[..., Any]
) -> None:
    first = pair_factory("sdss", 4, seed=51, bands=("r",))
    second = pair_factory("sdss", 4, seed=52, bands=("r",))
    one = evaluate_method(
        "a", {"d": first.generated}, [measure_originals(EvaluationSet("d", "sdss", first.original, ("r",)))]
    )
    other = evaluate_method(
        "b", {"d": second.generated}, [measure_originals(EvaluationSet("d", "sdss", second.original, ("r",)))]
    )
    with pytest.raises(EvaluationError, match="more than once"):
        write_report([one, one], tmp_path / "report")
    with pytest.raises(EvaluationError, match="different originals"):
        write_report([one, other], tmp_path / "report")
    assert not (tmp_path / "report").exists()


def test_lupton_composite_maps_i_r_g_to_red_green_blue() -> None:
    image = np.zeros((3, 8, 8))
    image[2, 3:5, 3:5] = 5.0  # flux in the i band only (bands g, r, i)
    rgb = figure_module.lupton_rgb(image, ("g", "r", "i"), stretch=1.0)
    assert rgb.dtype == np.uint8 and rgb.shape == (8, 8, 3)
    assert rgb[3, 3, 0] > 0 and rgb[3, 3, 1] == 0 and rgb[3, 3, 2] == 0
    assert figure_module.rgb_band_indices(("u", "g", "r", "i", "z")) == (3, 2, 1)
    assert figure_module.rgb_band_indices(("a", "b", "c", "d", "e")) == (4, 2, 0)


def test_json_and_html_give_the_worst_band_of_each_criterion_with_pass_or_fail(
    report: Path, results: list
) -> None:
    document = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    assert document["thresholds"]["noise"]["rule"] == "0.75 <= noise_ratio_true <= 1.25"
    assert document["thresholds"]["photometry"]["bands"] == ["g", "r", "i"]
    for direction in DIRECTIONS:
        ideal = document["methods"]["ideal"][direction]["criteria"]
        assert ideal["verdict"] == "pass"
        assert {ideal[name]["status"] for name in ("noise", "flux_difference", "photometry")} == {"pass"}
        noise_free = document["methods"]["noise-free"][direction]
        noise = noise_free["criteria"]["noise"]
        ratios = {band: numbers["noise_ratio_true"] for band, numbers in noise_free["bands_summary"].items()}
        assert noise["status"] == "fail" and noise_free["criteria"]["verdict"] == "fail"
        assert noise["worst_band"] == max(ratios, key=lambda band: abs(ratios[band] - 1.0))
        assert noise["value"] == pytest.approx(ratios[noise["worst_band"]])
    html = (report / "index.html").read_text(encoding="utf-8")
    verdict = html[html.index('id="verdict"') : html.index('id="models"')]
    assert verdict.count("<tr><td") == len(METHODS) * len(DIRECTIONS)
    outcome = results[1].directions[DIRECTIONS[0]].criteria["noise"]
    assert f"{outcome.value:.4g} ({outcome.band}) fail" in verdict
    assert "0.75 &lt;= noise_ratio_true &lt;= 1.25" in verdict


def test_photometry_counts_images_used_and_left_out(tmp_path: Path, pair_factory: Callable[..., Any]) -> None:
    pairs = pair_factory("sdss", 6, seed=61, bands=("g", "r"))
    generated = pairs.generated.copy()
    generated[1, 0] -= 10.0 * np.abs(generated[1, 0]).max()  # negative flux in g: no magnitude
    originals = [measure_originals(EvaluationSet("cfht_to_sdss", "sdss", pairs.original, pairs.bands))]
    result = evaluate_method("ideal", {"cfht_to_sdss": generated}, originals, examples=2)
    photometry = result.directions["cfht_to_sdss"].photometry
    for kind in ("total", "aperture"):
        np.testing.assert_array_equal(photometry[kind].used, [5, 6])
        np.testing.assert_array_equal(photometry[kind].excluded, [1, 0])
    write_report([result], tmp_path / "report")
    document = json.loads((tmp_path / "report" / "metrics.json").read_text(encoding="utf-8"))
    counts = document["methods"]["ideal"]["cfht_to_sdss"]["photometry_counts"]
    assert counts["aperture"] == {"g": {"used": 5, "excluded": 1}, "r": {"used": 6, "excluded": 0}}
    html = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    table = html[: html.index("figures/cfht_to_sdss_photometry_total.png")]
    assert table.count("<td>5 used, 1 excluded</td><td>6 used, 0 excluded</td>") == 2  # total, aperture


def test_json_and_html_name_the_model(tmp_path: Path, pair_factory: Callable[..., Any]) -> None:
    pairs = pair_factory("sdss", 4, seed=71, bands=("r",))
    originals = [measure_originals(EvaluationSet("cfht_to_sdss", "sdss", pairs.original, pairs.bands))]
    identity = {
        "method": "ours",
        "run": "ours-20250101T120000Z",
        "run_directory": "/runs/ours-20250101T120000Z",
        "checkpoint": "iter_0000200.pt",
        "checkpoint_sha256": "ab" * 32,
        "stage": "step2",
        "iteration": 200,
        "stage_iterations": 300,
        "width": 0.0625,
    }
    named = evaluate_method("ours", {"cfht_to_sdss": pairs.generated}, originals, model=identity)
    unnamed = evaluate_method("copy", {"cfht_to_sdss": pairs.generated}, originals)
    write_report([named, unnamed], tmp_path / "report")
    document = json.loads((tmp_path / "report" / "metrics.json").read_text(encoding="utf-8"))
    assert document["models"] == {"ours": identity, "copy": None}
    html = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    models = html[html.index('id="models"') : html.index('id="cfht_to_sdss"')]
    for value in ("/runs/ours-20250101T120000Z", "iter_0000200.pt", "ab" * 32, "step2", ">200<", ">0.0625<"):
        assert value in models
    assert "not from a galtk checkpoint" in models


def _drawn_texts(monkeypatch: pytest.MonkeyPatch, plot: Callable[[], None]) -> list[str]:
    """The texts written on the panels (and tick labels) of the figure ``plot`` draws."""
    drawn = []
    monkeypatch.setattr(figure_module, "_save", lambda figure, path: drawn.append(figure))
    plot()
    (figure,) = drawn
    texts = [text.get_text() for axes in figure.axes for text in axes.texts]
    return texts + [label.get_text() for axes in figure.axes for label in axes.get_yticklabels()]


def test_panels_clipped_to_black_say_so(
    monkeypatch: pytest.MonkeyPatch, results: list, tmp_path: Path
) -> None:
    ideal, noise_free = (result.directions["cfht_to_sdss"] for result in results)
    bands = ideal.bands
    maps = {"ideal": ideal.generated.fourier_amplitude, "noise-free": noise_free.generated.fourier_amplitude}
    texts = _drawn_texts(
        monkeypatch,
        lambda: figure_module.plot_fourier_maps(
            tmp_path / "f.png", ideal.originals.statistics.fourier_amplitude, maps, bands, title="t"
        ),
    )
    notes = [text for text in texts if "below scale (black)" in text]
    assert len(notes) == len(bands)  # the noise-free column only, a note per band
    frequency = np.linspace(0.05, 0.5, 8)
    power = np.ones((len(bands), 8))
    texts = _drawn_texts(
        monkeypatch,
        lambda: figure_module.plot_power_spectra(
            tmp_path / "p.png", frequency, power, {"ok": power, "flat": 0.0 * power}, bands, title="t"
        ),
    )
    assert texts.count("flat: 8 of 8 rings <= 0, not drawn") == len(bands)
    original = ideal.original_examples
    texts = _drawn_texts(
        monkeypatch,
        lambda: figure_module.plot_image_grid(tmp_path / "i.png", original, original - 1e3, bands, title="t"),
    )
    assert [text for text in texts if "black" in text] == [f"{band} gen (100% black)" for band in bands]


def test_each_kind_of_report_replaces_only_its_own(tmp_path: Path) -> None:
    """Evaluation, recovery and multi-input reports share one destination check, by metrics.json format."""
    report = tmp_path / "report"
    fill_directory(report, lambda staging: (staging / "metrics.json").write_text('{"format": "galtk-x"}'))
    check_destination(report, overwrite=True, report_format="galtk-x", kind="x")
    with pytest.raises(EvaluationError, match="holds a report already; pass --overwrite"):
        check_destination(report, flag="--overwrite", report_format="galtk-x", kind="x")
    with pytest.raises(EvaluationError, match="is not a galtk recovery report"):
        check_destination(report, overwrite=True, report_format="galtk-recovery-report", kind="recovery")
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(EvaluationError, match="is not a galtk multi-input report"):
        check_destination(tmp_path / "file", overwrite=True, report_format="y", kind="multi-input")


def test_a_failed_fill_leaves_the_old_directory_and_no_staging(tmp_path: Path) -> None:
    report = tmp_path / "report"
    fill_directory(report, lambda staging: (staging / "a.txt").write_text("old"))

    def fail(staging: Path) -> None:
        (staging / "a.txt").write_text("new")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        fill_directory(report, fail)
    assert (report / "a.txt").read_text() == "old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report"]
