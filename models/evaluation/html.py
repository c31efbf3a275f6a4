"""The static index.html of an evaluation report.

From the top: the verdict of every method and direction (the worst band of each criterion against its
threshold, :mod:`galtk.models.evaluation.criteria`), the evaluated models, then per direction the tables
with the methods side by side and the figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from html import escape
from typing import Any

from galtk.models.evaluation.criteria import CRITERIA, FAIL, PASS, Criterion, CriterionOutcome, verdict
from galtk.models.evaluation.results import PHOTOMETRY_KINDS, SUMMARY_FIELDS, DirectionResult

#: Caption of each figure of a direction, in page order (per-method image grids come last).
FIGURE_CAPTIONS: dict[str, str] = {
    "flux_difference": (
        "Global shape (paper Fig. 5): sum |generated - original| against sum |original|. Dotted: "
        "sqrt(2) sigma, what exact shapes with independently reproduced noise give; dashed: sigma, exact "
        "noise-free shapes."
    ),
    "fourier_maps": (
        "Local fluctuations (paper Fig. 6): mean Fourier amplitude of the high-passed images; corners are "
        "the lowest frequencies, the centre the highest. Maps like the original's mean realistic noise; "
        "bright isolated peaks mean regular ripples. A panel whose map falls partly below its row's colour "
        "scale (shown black) says which fraction does."
    ),
    "noise_sigma": "Per-image noise sigma per pixel: the MAD of the background pixels, sources masked.",
    "power_spectra": (
        "Radially averaged power spectra of the high-passed images; ratio to the originals'. A panel says so "
        "when a curve has no positive values to draw on the log scale."
    ),
    "photometry_total": (
        "Total flux of the cutout: magnitude error against magnitude; grey band: noise only. Images with a"
        " non-positive flux in either image are left out (counts in the table above)."
    ),
    "photometry_aperture": (
        "Aperture flux: magnitude error against magnitude; grey band: noise only. Images with a non-positive"
        " flux in either image are left out (counts in the table above)."
    ),
    "rgb": "Colour composites (Lupton asinh scaling, one stretch for every panel).",
}

_STYLE = """
body { font-family: sans-serif; margin: 1.5em; max-width: 1400px; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #bbb; padding: 2px 6px; text-align: right; }
th.name, td.name { text-align: left; }
td.about { text-align: left; color: #555; }
figure { margin: 1em 0 2em; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #333; }
td.pass { background: #d9f2d9; }
td.fail { background: #f7d4d4; font-weight: bold; }
td.na { color: #777; }
td.code { font-family: monospace; text-align: left; }
"""
#: The identity of a model in the models table: key of the identity -> heading.
MODEL_COLUMNS = {
    "method": "method",
    "run_directory": "run directory",
    "stage": "stage",
    "checkpoint": "checkpoint",
    "checkpoint_sha256": "SHA-256",
    "iteration": "iterations",
    "stage_iterations": "of planned",
    "width": "width",
}


def render_index(
    title: str,
    created: str,
    version: str,
    directions: dict[str, list[DirectionResult]],
    figure_files: dict[str, dict[str, str]],
    models: Mapping[str, Mapping[str, Any] | None] | None = None,
) -> str:
    """The HTML page of a report.

    Parameters
    ----------
    title : str
        Page title.
    created : str
        Creation time (ISO 8601).
    version : str
        galtk version.
    directions : dict of str to list of DirectionResult
        Direction -> the results of each method there, in column order.
    figure_files : dict of str to dict of str to str
        Direction -> figure key -> path of the PNG relative to the page.
    models : mapping of str to mapping, optional
        Method -> identity of its model (:attr:`EvaluationResult.model
        <galtk.models.evaluation.results.EvaluationResult.model>`; None when not known).

    Returns
    -------
    str
    """
    methods = list(dict.fromkeys(outcome.method for outcomes in directions.values() for outcome in outcomes))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>Methods: {escape(', '.join(methods))}. Written {escape(created)} by galtk {escape(version)}. "
        'Numbers for scripts: <a href="metrics.json">metrics.json</a>, '
        '<a href="metrics.csv">metrics.csv</a>. '
        "Fluxes in nanomaggies (AB zero point 22.5), whatever the survey's pixel unit.</p>",
        *_verdict_section(directions),
        *_models_section(methods, models or {}),
        "<ul>",
        *(f'<li><a href="#{escape(d)}">{escape(d)}</a></li>' for d in directions),
        '<li><a href="#definitions">definitions</a></li></ul>',
    ]
    for direction, outcomes in directions.items():
        parts.extend(_direction_section(direction, outcomes, figure_files[direction]))
    parts.append('<h2 id="definitions">Definitions</h2><table>')
    parts.extend(
        f'<tr><td class="name">{escape(name)}</td><td class="about">{escape(about)}</td></tr>'
        for name, about in SUMMARY_FIELDS.items()
    )
    parts.append(
        "</table><p>Formulas and how to read each figure: docs/metrics.md of galtk.</p></body></html>"
    )
    return "\n".join(parts) + "\n"


def _direction_section(direction: str, outcomes: list[DirectionResult], files: dict[str, str]) -> list[str]:
    originals = outcomes[0].originals
    evaluation_set = originals.evaluation_set
    count, _, height, width = evaluation_set.original.shape
    bands = " ".join(evaluation_set.band_names)
    parts = [
        f'<h2 id="{escape(direction)}">{escape(direction)}</h2>',
        f"<p>{count} {escape(evaluation_set.spec.title)} test images of {height} x {width} pixels at "
        f"{evaluation_set.arcsec_per_pixel:g} arcsec/px; bands {escape(bands)}; "
        f"reference noise sigma from {escape(originals.reference_noise_source)}; aperture radius "
        f"{originals.aperture_radius_arcsec:g} arcsec.</p>",
    ]
    for band in evaluation_set.band_names:
        parts.append(f"<h3>{escape(direction)}, band {escape(band)}</h3><table>")
        header = "".join(f"<th>{escape(outcome.method)}</th>" for outcome in outcomes)
        parts.append(f'<tr><th class="name">metric</th>{header}<th class="name">meaning</th></tr>')
        for name, about in SUMMARY_FIELDS.items():
            cells = "".join(f"<td>{_number(outcome.summary[band][name])}</td>" for outcome in outcomes)
            parts.append(
                f'<tr><td class="name">{escape(name)}</td>{cells}<td class="about">{escape(about)}</td></tr>'
            )
        parts.append("</table>")
    for key, caption in FIGURE_CAPTIONS.items():
        if key == "photometry_total":
            parts.extend(_photometry_counts(outcomes))
        parts.append(_figure(files[key], caption))
    for outcome in outcomes:
        key = f"{outcome.method}_images"
        parts.append(
            _figure(
                files[key],
                f"{outcome.method}: original and generated images, band by band, each pair on the same asinh"
                " scale (3 sigma of the original's noise, up to the original's maximum).",
            )
        )
    return parts


def _verdict_section(directions: dict[str, list[DirectionResult]]) -> list[str]:
    """The verdict table: per method and direction, the worst band of each criterion, pass or fail."""
    rules = "; ".join(escape(_rule_with_bands(criterion)) for criterion in CRITERIA)
    parts = [
        '<h2 id="verdict">Verdict</h2>',
        f"<p>Every band must pass every criterion: {rules}. Each cell shows the worst band's value and that "
        "band; a value that cannot be computed fails.</p>",
        '<table><tr><th class="name">method</th><th class="name">direction</th>',
        *(f"<th>{escape(criterion.label)}<br>{escape(criterion.rule('x'))}</th>" for criterion in CRITERIA),
        "<th>verdict</th></tr>",
    ]
    notes: dict[str, int] = {}
    for direction, outcomes in directions.items():
        for outcome in outcomes:
            criteria = outcome.criteria
            cells = "".join(_criterion_cell(result, notes) for result in criteria.values())
            overall = verdict(criteria)
            parts.append(
                f'<tr><td class="name">{escape(outcome.method)}</td><td class="name">{escape(direction)}</td>'
                f'{cells}<td class="{_status_class(overall)}">{escape(overall)}</td></tr>'
            )
    parts.append("</table>")
    parts.extend(f"<p>[{number}] {escape(note)}.</p>" for note, number in notes.items())
    return parts


def _rule_with_bands(criterion: Criterion) -> str:
    bands = f" in bands {', '.join(criterion.bands)}" if criterion.bands is not None else ""
    return criterion.rule() + bands


def _criterion_cell(outcome: CriterionOutcome, notes: dict[str, int]) -> str:
    marker = ""
    if outcome.note:
        number = notes.setdefault(outcome.note, len(notes) + 1)
        marker = f" [{number}]"
    band = f" ({escape(outcome.band)})" if outcome.band is not None else ""
    return (
        f'<td class="{_status_class(outcome.status)}" title="{escape(outcome.rule)}">'
        f"{_number(outcome.value)}{band} {escape(outcome.status)}{marker}</td>"
    )


def _status_class(status: str) -> str:
    return {PASS: "pass", FAIL: "fail"}.get(status, "na")


def _models_section(methods: list[str], models: Mapping[str, Mapping[str, Any] | None]) -> list[str]:
    """Which model each column of the report is: run, checkpoint and its digest, iterations, width."""
    header = "".join(f"<th>{escape(heading)}</th>" for heading in MODEL_COLUMNS.values())
    parts = ['<h2 id="models">Models</h2>', f'<table><tr><th class="name">name in report</th>{header}</tr>']
    for method in methods:
        identity = models.get(method)
        if identity is None:
            cells = f'<td class="about" colspan="{len(MODEL_COLUMNS)}">not from a galtk checkpoint</td>'
        else:
            cells = "".join(f'<td class="code">{_text(identity.get(key))}</td>' for key in MODEL_COLUMNS)
        parts.append(f'<tr><td class="name">{escape(method)}</td>{cells}</tr>')
    parts.append("</table>")
    return parts


def _photometry_counts(outcomes: list[DirectionResult]) -> list[str]:
    """Images used in the photometry, and left out for a non-positive flux, per flux, method and band."""
    bands = outcomes[0].bands
    header = "".join(f"<th>{escape(band)}</th>" for band in bands)
    parts = [
        "<p>Photometry: test images used, and left out because the original or the generated image has a"
        " non-positive flux.</p>",
        f'<table><tr><th class="name">flux</th><th class="name">method</th>{header}</tr>',
    ]
    for kind in PHOTOMETRY_KINDS:
        for outcome in outcomes:
            counts = outcome.photometry[kind].counts(bands)
            cells = "".join(
                f"<td>{counts[band]['used']} used, {counts[band]['excluded']} excluded</td>" for band in bands
            )
            parts.append(
                f'<tr><td class="name">{escape(kind)}</td><td class="name">{escape(outcome.method)}</td>'
                f"{cells}</tr>"
            )
    parts.append("</table>")
    return parts


def _text(value: Any) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, float):
        return f"{value:g}"
    return escape(str(value))


def _figure(source: str, caption: str) -> str:
    return (
        f'<figure><a href="{escape(source)}"><img src="{escape(source)}" alt="{escape(caption)}"></a>'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _number(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else "&ndash;"
