"""The recovery report: GalaxyGAN and the deconvolutions side by side, and the seed's claim checked.

A report directory holds ``metrics.json`` (every summary, the regularisation chosen, the claim's verdict per
band, the run), ``summary.md`` (the tables a reader wants first) and ``figures/``: example images of each
band (the truth when known, the original, the degraded copy and each recovery) and the residual power
spectra. It is written beside its path and swapped in complete; an existing report is replaced only on
request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from galtk import __version__
from galtk.models.evaluation.figures import plot_band_curves, plot_image_rows
from galtk.models.evaluation.report import check_destination, fill_directory
from galtk.models.recovery.evaluate import OUTPUTS, RecoveryResults, median_spectrum
from galtk.models.recovery.measure import MORPHOLOGY
from galtk.models.recovery.recoverer import METHOD
from galtk.pipeline.degrade.deconvolution import DECONVOLUTIONS

REPORT_FORMAT = "galtk-recovery-report"
EXAMPLES = 6
"""Objects shown in the example figures (the brightest in the middle band)."""
COLUMNS: tuple[tuple[str, str], ...] = (
    ("median_abs_flux_error", "|flux err|"),
    ("median_abs_size_error", "|size err|"),
    ("median_abs_ellipticity_error", "|e err|"),
    ("median_abs_gini_error", "|Gini err|"),
    ("median_residual_rms", "resid rms/sigma"),
    ("median_noise", "noise/sigma"),
    ("power_0-0.25", "P(k<0.25)"),
    ("power_0.5-1", "P(k>0.5)"),
)
"""Statistics of the summary tables and their headings."""


def claim_verdict(summary: dict[str, dict[str, dict[str, float]]], bands: Sequence[str]) -> dict[str, Any]:
    """GalaxyGAN's claim per band: it recovers morphology better than both deconvolutions.

    In a band the claim holds when, for every measure of :data:`~galtk.models.recovery.measure.MORPHOLOGY`
    (size, ellipticity, Gini), GalaxyGAN's median absolute error is below those of Richardson-Lucy and of
    Wiener. The outputs' noise is reported beside it, since the seed compares "at equal noise".

    Returns
    -------
    dict
        ``{"bands": {band: {"holds": bool, "measures": {measure: bool}, "noise": {output: float}}},
        "holds_in": [bands]}``.
    """
    verdicts: dict[str, Any] = {}
    for band in bands:
        measures = {}
        for measure in MORPHOLOGY:
            key = f"median_abs_{measure}"
            ours = summary[METHOD][band][key]
            others = [summary[name][band][key] for name in DECONVOLUTIONS]
            measures[measure] = bool(np.isfinite(ours) and all(ours < other for other in others))
        verdicts[band] = {
            "holds": all(measures.values()),
            "measures": measures,
            "noise": {name: summary[name][band]["median_noise"] for name in OUTPUTS},
        }
    return {"bands": verdicts, "holds_in": [band for band in bands if verdicts[band]["holds"]]}


def markdown_tables(document: dict[str, Any]) -> str:
    """``summary.md``: per reference, one table per band of every output's statistics, then the claim."""
    lines = [f"# {document['title']}", ""]
    lines.append(
        f"{document['objects']} held-out pairs ({document['held_out']}); run {document['run']['run']}."
    )
    lines.append("Errors are medians over the objects of absolute differences against the reference; noise")
    lines.append("and residuals are in units of each original's background sigma; P(k) is the residual power")
    lines.append("in units of white noise of that sigma, at frequencies below 0.25 and above 0.5 of Nyquist.")
    lines.append("")
    for reference, summary in document["summaries"].items():
        lines.append(f"## Against the {reference}")
        lines.append("")
        for band in document["bands"]:
            lines.append(f"### {band}")
            lines.append("")
            lines.append("| output | objects | " + " | ".join(title for _, title in COLUMNS) + " |")
            lines.append("|---|---:|" + "---:|" * len(COLUMNS))
            for output, bands in summary.items():
                row = bands[band]
                cells = [f"{row[key]:.3g}" if np.isfinite(row[key]) else "-" for key, _ in COLUMNS]
                lines.append(f"| {output} | {row['objects']} | " + " | ".join(cells) + " |")
            lines.append("")
    tuned_on = document["run"]["deconvolutions_tuned_on"]
    lines.append(f"## The deconvolutions' regularisation, chosen on training pairs (by {tuned_on})")
    lines.append("")
    for name, bands in document["regularisation"].items():
        chosen = ", ".join(
            f"{band} {entry['parameter']:g}" + (" (edge of the candidates)" if entry["at_edge"] else "")
            for band, entry in bands.items()
        )
        lines.append(f"- {name}: {chosen}")
    lines.append("")
    claim = document["claim"]
    lines.append(f"## The claim, against the {claim['reference']}")
    lines.append("")
    lines.append(
        "GalaxyGAN recovers size, ellipticity and Gini better than both deconvolutions in: "
        + (", ".join(claim["holds_in"]) or "no band")
        + "."
    )
    lines.append("")
    lines.append("| band | holds | size | ellipticity | Gini | noise/sigma: " + ", ".join(OUTPUTS) + " |")
    lines.append("|---|---|---|---|---|---|")
    for band, verdict in claim["bands"].items():
        noise = ", ".join(f"{verdict['noise'][name]:.3g}" for name in OUTPUTS)
        marks = ["yes" if verdict["measures"][m] else "no" for m in MORPHOLOGY]
        lines.append(
            f"| {band} | {'yes' if verdict['holds'] else 'no'} | " + " | ".join(marks) + f" | {noise} |"
        )
    lines.append("")
    return "\n".join(lines)


def write_recovery_report(
    results: RecoveryResults,
    summaries: dict[str, dict[str, dict[str, dict[str, float]]]],
    directory: Path,
    *,
    overwrite: bool = False,
    held_out: str,
) -> Path:
    """Write metrics.json, summary.md and figures/ into ``directory``; return summary.md's path.

    Raises
    ------
    EvaluationError
        If ``directory`` holds something other than a recovery report, or one while ``overwrite`` is false.
    """
    directory = Path(directory)
    check_destination(
        directory, overwrite=overwrite, flag="--overwrite", report_format=REPORT_FORMAT, kind="recovery"
    )
    pairs = results.pairs
    reference = "truth" if "truth" in summaries else "original"
    document = {
        "format": REPORT_FORMAT,
        "title": "galtk recovery: GalaxyGAN against deconvolution",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "galtk_version": __version__,
        "objects": len(pairs.rows),
        "held_out": held_out,
        "skipped": pairs.skipped,
        "bands": list(pairs.bands),
        "unit": pairs.unit,
        "run": results.recoverer,
        "regularisation": results.regularisation,
        "summaries": summaries,
        "claim": {"reference": reference, **claim_verdict(summaries[reference], pairs.bands)},
        "figures": {},
    }

    def fill(staging: Path) -> None:
        (staging / "figures").mkdir()
        document["figures"] = _figures(staging, results, reference)
        (staging / "metrics.json").write_text(json.dumps(_finite(document), indent=1), encoding="utf-8")
        (staging / "summary.md").write_text(markdown_tables(document), encoding="utf-8")

    fill_directory(directory, fill)
    return directory / "summary.md"


def _figures(root: Path, results: RecoveryResults, reference: str) -> dict[str, str]:
    pairs = results.pairs
    middle = len(pairs.bands) // 2
    brightest = np.argsort(-pairs.original[:, middle].sum(axis=(1, 2)))[: min(EXAMPLES, len(pairs.rows))]
    figures = {}
    for b, band in enumerate(pairs.bands):
        rows = [] if pairs.truth is None else [("truth", pairs.truth[brightest, b])]
        rows.append(("original", pairs.original[brightest, b]))
        rows += [(name, results.outputs[name][brightest, b]) for name in OUTPUTS]
        name = f"figures/examples_{band}.png"
        plot_image_rows(
            root / name,
            rows,
            pairs.original[brightest, b],
            pairs.sigma[brightest, b],
            title=f"{band}: the brightest held-out galaxies, asinh(x / 3 sigma of the original)",
        )
        figures[f"examples_{band}"] = name
    rings = next(iter(results.spectra[reference].values())).shape[-1]
    frequency = (np.arange(rings) + 0.5) / rings
    curves = {
        output: np.array([median_spectrum(spectra[:, b]) for b in range(len(pairs.bands))])
        for output, spectra in results.spectra[reference].items()
    }
    plot_band_curves(
        root / "figures/residual_power.png",
        frequency,
        curves,
        pairs.bands,
        xlabel="frequency / Nyquist",
        ylabel="residual power / white noise of sigma",
        title=f"Median power spectrum of (output - {reference}), in units of the original's noise",
    )
    figures["residual_power"] = "figures/residual_power.png"
    return figures


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None (strict JSON)."""
    if isinstance(value, dict):
        return {str(key): _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
