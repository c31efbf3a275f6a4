"""Pass/fail criteria of a translation: the worst band of each method and direction against fixed thresholds.

Every band must pass every criterion; a criterion shows the value of its worst band and which band that is
(a median over bands would hide a failing band). The thresholds:

noise
    The generated images' noise sigma within 25 % of the true sigma: ``0.75 <= noise_ratio_true <= 1.25``.
    Without true sigmas (real data, the regridded direction) ``noise_ratio``, against the noise measured on
    the originals, is checked instead, and the outcome says so.
flux difference
    The median summed ``|generated - original|`` at most 1.5 times ``sqrt(2) sigma``:
    ``flux_difference_ratio <= 1.5``.
photometry
    The median aperture magnitude offset within 0.15 mag in the bands g, r and i only:
    ``|aperture_dmag_median| <= 0.15``.

A band whose value is not finite fails. A criterion whose bands are all absent (no g, r or i band) is not
applicable. Definitions of the summary numbers: docs/metrics.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Generated noise sigma over the true one (or the originals'), allowed range.
NOISE_RATIO_LOW = 0.75
NOISE_RATIO_HIGH = 1.25
#: Largest median summed |generated - original| in units of sqrt(2) sigma.
FLUX_DIFFERENCE_RATIO_MAX = 1.5
#: Largest |median aperture magnitude offset| (mag), in :data:`PHOTOMETRY_BANDS`.
APERTURE_DMAG_MAX = 0.15
#: The bands of the photometry criterion.
PHOTOMETRY_BANDS = ("g", "r", "i")

#: Outcomes of a criterion, and the verdict of a method and direction.
PASS, FAIL, NOT_APPLICABLE = "pass", "fail", "n/a"


@dataclass(frozen=True)
class Criterion:
    """A threshold every band's summary number must meet: ``low <= value <= high``.

    Attributes
    ----------
    name : str
        Key of the criterion (``"noise"``, ``"flux_difference"``, ``"photometry"``).
    label : str
        Short heading of tables (``"noise"``, ``"flux diff"``, ``"dmag g r i"``).
    field : str
        The summary number checked.
    low, high : float or None
        Bounds of the allowed values (None: unbounded).
    bands : tuple of str or None
        The bands checked (None: every band).
    fallback : str or None
        The summary number checked instead when ``field`` is not finite in any band.
    fallback_note : str
        What the outcome says when the fallback is used.
    """

    name: str
    label: str
    field: str
    low: float | None
    high: float | None
    bands: tuple[str, ...] | None = None
    fallback: str | None = None
    fallback_note: str = ""

    def rule(self, field: str | None = None) -> str:
        """The threshold as text, e.g. ``"0.75 <= noise_ratio_true <= 1.25"``."""
        shown = field or self.field
        if self.low is not None and self.high is not None and self.low == -self.high:
            return f"|{shown}| <= {self.high:g}"
        low = f"{self.low:g} <= " if self.low is not None else ""
        high = f" <= {self.high:g}" if self.high is not None else ""
        return f"{low}{shown}{high}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description: field, fallback, rule, bounds and bands (None: every band)."""
        return {
            "field": self.field,
            "fallback": self.fallback,
            "rule": self.rule(),
            "low": self.low,
            "high": self.high,
            "bands": list(self.bands) if self.bands is not None else None,
        }

    def excess(self, value: float) -> float:
        """How far ``value`` lies outside the bounds (<= 0 inside; infinite if not finite)."""
        if not math.isfinite(value):
            return math.inf
        above = value - self.high if self.high is not None else -math.inf
        below = self.low - value if self.low is not None else -math.inf
        return max(above, below)


#: The criteria, in display order.
CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "noise",
        "noise",
        "noise_ratio_true",
        NOISE_RATIO_LOW,
        NOISE_RATIO_HIGH,
        fallback="noise_ratio",
        fallback_note="no true sigma: against the noise measured on the originals",
    ),
    Criterion(
        "flux_difference",
        "flux diff",
        "flux_difference_ratio",
        None,
        FLUX_DIFFERENCE_RATIO_MAX,
    ),
    Criterion(
        "photometry",
        "dmag g r i",
        "aperture_dmag_median",
        -APERTURE_DMAG_MAX,
        APERTURE_DMAG_MAX,
        bands=PHOTOMETRY_BANDS,
    ),
)


@dataclass(frozen=True)
class CriterionOutcome:
    """The worst band of one criterion for one method and direction.

    Attributes
    ----------
    criterion : Criterion
    field : str
        The summary number checked (the criterion's field, or its fallback).
    bands : tuple of str
        The bands checked.
    band : str or None
        The worst band (None when no band was checked).
    value : float
        Its value (NaN when not available).
    status : str
        :data:`PASS`, :data:`FAIL` or :data:`NOT_APPLICABLE`.
    note : str
        Why another field was checked, else empty.
    """

    criterion: Criterion
    field: str
    bands: tuple[str, ...]
    band: str | None
    value: float
    status: str
    note: str = ""

    @property
    def rule(self) -> str:
        """The threshold on :attr:`field` as text."""
        return self.criterion.rule(self.field)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (NaN written as None)."""
        return {
            "field": self.field,
            "rule": self.rule,
            "low": self.criterion.low,
            "high": self.criterion.high,
            "bands": list(self.bands),
            "worst_band": self.band,
            "value": self.value if math.isfinite(self.value) else None,
            "status": self.status,
            "note": self.note,
        }


def check_criterion(criterion: Criterion, summary: Mapping[str, Mapping[str, float]]) -> CriterionOutcome:
    """Find the worst band of one criterion and whether it passes.

    Parameters
    ----------
    criterion : Criterion
    summary : mapping of str to mapping of str to float
        Band -> summary number -> value, as :attr:`DirectionResult.summary
        <galtk.models.evaluation.results.DirectionResult.summary>`.

    Returns
    -------
    CriterionOutcome
        The band farthest outside the bounds (the first of equals; a non-finite value is the worst), its
        value, and :data:`PASS` when it is within them.
    """
    bands = tuple(band for band in summary if criterion.bands is None or band in criterion.bands)
    field, note = criterion.field, ""
    if criterion.fallback and not any(math.isfinite(summary[band][field]) for band in bands):
        field, note = criterion.fallback, criterion.fallback_note
    if not bands:
        return CriterionOutcome(criterion, field, bands, None, math.nan, NOT_APPLICABLE, note)
    worst = max(bands, key=lambda band: criterion.excess(summary[band][field]))
    value = float(summary[worst][field])
    status = PASS if criterion.excess(value) <= 0 else FAIL
    return CriterionOutcome(criterion, field, bands, worst, value, status, note)


def check_criteria(summary: Mapping[str, Mapping[str, float]]) -> dict[str, CriterionOutcome]:
    """Every criterion of :data:`CRITERIA` for one method and direction (see :func:`check_criterion`).

    Parameters
    ----------
    summary : mapping of str to mapping of str to float
        Band -> summary number -> value.

    Returns
    -------
    dict of str to CriterionOutcome
        Criterion name -> outcome, in :data:`CRITERIA` order.
    """
    return {criterion.name: check_criterion(criterion, summary) for criterion in CRITERIA}


def verdict(outcomes: Mapping[str, CriterionOutcome]) -> str:
    """:data:`FAIL` if any criterion fails, :data:`PASS` if at least one passes and none fails, else n/a."""
    statuses = {outcome.status for outcome in outcomes.values()}
    if FAIL in statuses:
        return FAIL
    return PASS if PASS in statuses else NOT_APPLICABLE


def criteria_to_dict(outcomes: Mapping[str, CriterionOutcome]) -> dict[str, Any]:
    """JSON-ready criteria of one method and direction: each outcome and the ``verdict``."""
    return {"verdict": verdict(outcomes), **{name: outcome.to_dict() for name, outcome in outcomes.items()}}
