"""The static index.html of an evaluation report: tables with the methods side by side, then the figures."""

from __future__ import annotations

import math
from html import escape

from galtk.models.evaluation.results import SUMMARY_FIELDS, DirectionResult

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
        "bright isolated peaks mean regular ripples."
    ),
    "noise_sigma": "Per-image noise sigma: MAD of the high-passed image divided by the filter's noise gain.",
    "power_spectra": "Radially averaged power spectra of the high-passed images; ratio to the originals'.",
    "photometry_total": "Total flux of the cutout: magnitude error against magnitude; grey band: noise only.",
    "photometry_aperture": "Aperture flux: magnitude error against magnitude; grey band: noise only.",
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
"""


def render_index(
    title: str,
    created: str,
    version: str,
    directions: dict[str, list[DirectionResult]],
    figure_files: dict[str, dict[str, str]],
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
        parts.append(_figure(files[key], caption))
    for outcome in outcomes:
        key = f"{outcome.method}_images"
        parts.append(_figure(files[key], f"{outcome.method}: original and generated images, band by band."))
    return parts


def _figure(source: str, caption: str) -> str:
    return (
        f'<figure><a href="{escape(source)}"><img src="{escape(source)}" alt="{escape(caption)}"></a>'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _number(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else "&ndash;"
