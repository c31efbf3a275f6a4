"""Writing the evaluation report: metrics.json, metrics.csv, the figures and a static index.html.

Layout of a report directory::

    index.html          the verdict (worst band of each criterion, pass/fail) and the models on top, then
                        tables of numbers per direction and band (methods side by side) and every figure
    metrics.json        the models, the criteria, everything in the tables plus the binned curves and power
                        spectra, per method
    metrics.csv         a row per method, direction and band with the summary numbers
    figures/*.png       the figures (galtk.models.evaluation.figures), linked from index.html

The report is written beside its destination as ``NAME.galtk-new`` and renamed into place once complete
(:mod:`galtk.pipeline.replace`); an existing report is replaced only with ``overwrite=True``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from galtk import __version__
from galtk.errors import EvaluationError
from galtk.models.evaluation import figures
from galtk.models.evaluation.criteria import CRITERIA
from galtk.models.evaluation.html import render_index
from galtk.models.evaluation.results import (
    PHOTOMETRY_KINDS,
    SUMMARY_FIELDS,
    DirectionResult,
    EvaluationResult,
)
from galtk.pipeline.replace import (
    check_creatable,
    recover_interrupted_swap,
    remove_leftover,
    staging_path,
    swap_in,
)

#: Marks a metrics.json as written by this module.
REPORT_FORMAT = "galtk-evaluation"
REPORT_FORMAT_VERSION = 1
FIGURE_DIRECTORY = "figures"
CSV_COLUMNS = ("method", "direction", "survey", "band", "n_images", *SUMMARY_FIELDS)


def write_report(
    results: Sequence[EvaluationResult],
    directory: Path,
    *,
    overwrite: bool = False,
    title: str = "galtk evaluation",
) -> Path:
    """Write the report of one or several evaluated methods into ``directory``.

    Parameters
    ----------
    results : sequence of EvaluationResult
        One per method (:func:`~galtk.models.evaluation.results.evaluate_method`), evaluated on the same
        originals; shown side by side in the given order.
    directory : Path
        The report directory to create.
    overwrite : bool, optional
        Replace an existing report there (a directory holding a galtk metrics.json). Anything else in the
        way, except an empty directory, is never replaced.
    title : str, optional
        Title of index.html.

    Returns
    -------
    Path
        ``directory/index.html``.

    Raises
    ------
    EvaluationError
        If there is nothing to report, methods repeat or were evaluated on different originals, or
        ``directory`` exists and may not be replaced.
    """
    directions = _group_by_direction(results)
    directory = Path(directory)
    check_destination(directory, overwrite=overwrite)

    def fill(staging: Path) -> None:
        (staging / FIGURE_DIRECTORY).mkdir()
        figure_files = {
            direction: _write_figures(staging, direction, rows) for direction, rows in directions.items()
        }
        created = datetime.now(UTC).isoformat(timespec="seconds")
        document = _json_document(results, figure_files, title, created)
        (staging / "metrics.json").write_text(
            json.dumps(document, indent=1, allow_nan=False), encoding="utf-8"
        )
        (staging / "metrics.csv").write_text(_csv_text(results), encoding="utf-8")
        models = {result.method: result.model for result in results}
        index = render_index(title, created, __version__, directions, figure_files, models)
        (staging / "index.html").write_text(index, encoding="utf-8")

    fill_directory(directory, fill)
    return directory / "index.html"


def check_destination(
    directory: Path,
    *,
    overwrite: bool = False,
    flag: str = "overwrite=True",
    report_format: str = REPORT_FORMAT,
    kind: str = "evaluation",
) -> None:
    """Raise unless a report may be written into ``directory``.

    Finishes a replacement an earlier writer was interrupted in, then accepts a missing or empty directory,
    or an existing report of the same format when ``overwrite`` is true.

    Parameters
    ----------
    directory : Path
        The report directory.
    overwrite : bool, optional
        Whether an existing report may be replaced.
    flag : str, optional
        How the message names the way to allow replacing (e.g. ``"--overwrite"``).
    report_format : str, optional
        The ``format`` of the report's metrics.json (:func:`write_report`'s by default; the recovery and
        multi-input reports have their own).
    kind : str, optional
        How messages name such a report (``"evaluation"``, ``"recovery"``).

    Raises
    ------
    EvaluationError
        If ``directory`` holds something other than such a report, or one while ``overwrite`` is false.
    StoreError
        If ``directory`` cannot be created (its nearest existing parent is not a writable directory).
    """
    directory = Path(directory)
    recover_interrupted_swap(directory, accept=lambda path: holds_report(path, report_format))
    if (directory.exists() or directory.is_symlink()) and not _is_empty_directory(directory):
        if not holds_report(directory, report_format):
            raise EvaluationError(f"{directory} exists and is not a galtk {kind} report; not replacing it")
        if not overwrite:
            raise EvaluationError(f"{directory} holds a report already; pass {flag} to replace it")
    check_creatable(directory)


def fill_directory(directory: Path, fill: Callable[[Path], None]) -> None:
    """Build a new ``directory`` beside it with ``fill(staging)``, then swap it in: readers see the old
    directory or the whole new one, and nothing is left of a build that fails."""
    staging = staging_path(Path(directory))
    remove_leftover(staging)
    try:
        staging.mkdir(parents=True)
        fill(staging)
        swap_in(staging, Path(directory))
    except BaseException:
        remove_leftover(staging)
        raise


def holds_report(path: Path, report_format: str) -> bool:
    """True if ``path`` is a directory holding a metrics.json of ``report_format``."""
    try:
        document = json.loads((Path(path) / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and document.get("format") == report_format


def is_report(path: Path) -> bool:
    """True if ``path`` is a directory holding a metrics.json written by :func:`write_report`."""
    return holds_report(path, REPORT_FORMAT)


def _is_empty_directory(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and not any(path.iterdir())


def _group_by_direction(results: Sequence[EvaluationResult]) -> dict[str, list[DirectionResult]]:
    if not results:
        raise EvaluationError("no evaluated method to report")
    methods = [result.method for result in results]
    repeated = sorted({method for method in methods if methods.count(method) > 1})
    if repeated:
        raise EvaluationError(f"methods appear more than once: {', '.join(repeated)}")
    directions: dict[str, list[DirectionResult]] = {}
    for result in results:
        for direction, outcome in result.directions.items():
            directions.setdefault(direction, []).append(outcome)
    for direction, outcomes in directions.items():
        first = outcomes[0].originals
        for outcome in outcomes[1:]:
            other = outcome.originals
            same = other is first or (
                other.evaluation_set.band_names == first.evaluation_set.band_names
                and other.evaluation_set.spec == first.evaluation_set.spec
                and np.array_equal(other.statistics.summed_absolute, first.statistics.summed_absolute)
            )
            if not same:
                raise EvaluationError(
                    f"{direction}: {outcome.method} and {outcomes[0].method} were evaluated on "
                    "different originals"
                )
    return directions


def _write_figures(root: Path, direction: str, outcomes: list[DirectionResult]) -> dict[str, str]:
    """Draw every figure of one direction; return caption key -> path relative to ``root``."""
    originals = outcomes[0].originals
    bands = originals.evaluation_set.band_names
    survey = originals.evaluation_set.spec.title
    by_method = {outcome.method: outcome for outcome in outcomes}
    files: dict[str, str] = {}

    def target(name: str) -> Path:
        relative = f"{FIGURE_DIRECTORY}/{direction}_{name}.png"
        files[name] = relative
        return root / relative

    heading = f"{direction} ({survey})"
    figures.plot_flux_difference(
        target("flux_difference"),
        originals.statistics.summed_absolute,
        {method: outcome.flux_difference for method, outcome in by_method.items()},
        originals.reference_noise,
        bands,
        title=f"{heading}: global shape, sigma from {originals.reference_noise_source}",
    )
    figures.plot_fourier_maps(
        target("fourier_maps"),
        originals.statistics.fourier_amplitude,
        {method: outcome.generated.fourier_amplitude for method, outcome in by_method.items()},
        bands,
        title=f"{heading}: stacked Fourier amplitude of high-passed images",
    )
    figures.plot_noise_histograms(
        target("noise_sigma"),
        originals.statistics.noise_sigma,
        {method: outcome.generated.noise_sigma for method, outcome in by_method.items()},
        bands,
        title=f"{heading}: per-pixel background noise sigma (MAD, sources masked)",
        sigma_true=originals.true_sigma,
    )
    first = outcomes[0].curves
    frequency = np.asarray(first[bands[0]]["power_spectrum"]["frequency"])
    figures.plot_power_spectra(
        target("power_spectra"),
        frequency,
        np.stack([first[band]["power_spectrum"]["original"] for band in bands]),
        {
            method: np.stack([outcome.curves[band]["power_spectrum"]["generated"] for band in bands])
            for method, outcome in by_method.items()
        },
        bands,
        title=f"{heading}: radially averaged power spectrum of high-passed images",
    )
    for kind in PHOTOMETRY_KINDS:
        figures.plot_photometry(
            target(f"photometry_{kind}"),
            outcomes[0].photometry[kind].magnitude,
            {method: outcome.photometry[kind].dmag for method, outcome in by_method.items()},
            bands,
            title=f"{heading}: {kind} flux photometry"
            + (f" (r = {originals.aperture_radius_arcsec:g} arcsec)" if kind == "aperture" else ""),
            expected_scatter=originals.expected_dmag_scatter(kind),
        )
    original_examples = outcomes[0].original_examples
    figures.plot_rgb_comparison(
        target("rgb"),
        original_examples,
        {method: outcome.generated_examples for method, outcome in by_method.items()},
        bands,
        stretch=_rgb_stretch(originals.statistics.noise_sigma, original_examples, bands),
        title=f"{heading}: colour composites",
    )
    for method, outcome in by_method.items():
        figures.plot_image_grid(
            target(f"{method}_images"),
            outcome.original_examples,
            outcome.generated_examples,
            bands,
            title=f"{heading}: {method}, original and generated images",
        )
    return files


def _rgb_stretch(noise_sigma: np.ndarray, examples: np.ndarray, bands: Sequence[str]) -> float:
    """Lupton linear stretch: a fixed multiple of the green band's median noise sigma."""
    green = figures.rgb_band_indices(bands)[1]
    sigma = float(np.median(noise_sigma[:, green]))
    if sigma > 0:
        return figures.LUPTON_STRETCH_IN_SIGMA * sigma
    peak = float(np.max(np.abs(examples[:, green]))) if examples.size else 0.0
    return 0.1 * peak if peak > 0 else 1.0


def _json_document(
    results: Sequence[EvaluationResult], figure_files: dict[str, dict[str, str]], title: str, created: str
) -> dict[str, Any]:
    described = {result.method: result.to_dict() for result in results}
    return {
        "format": REPORT_FORMAT,
        "format_version": REPORT_FORMAT_VERSION,
        "title": title,
        "galtk_version": __version__,
        "created_utc": created,
        "definitions": SUMMARY_FIELDS,
        "thresholds": {criterion.name: criterion.to_dict() for criterion in CRITERIA},
        "models": {method: document["model"] for method, document in described.items()},
        "methods": {method: document["directions"] for method, document in described.items()},
        "figures": figure_files,
    }


def _csv_text(results: Sequence[EvaluationResult]) -> str:
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for result in results:
        for row in result.summary_rows():
            writer.writerow({key: _csv_value(value) for key, value in row.items()})
    return stream.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, float):
        return "" if not math.isfinite(value) else repr(value)
    return value
