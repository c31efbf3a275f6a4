"""Evaluating one method: its generated images against the originals, per direction and band.

:func:`measure_originals` measures the original images of a direction once; :func:`evaluate_method`
measures a method's generated images, compares, and returns an :class:`EvaluationResult` whose numbers
:mod:`galtk.models.evaluation.report` writes as JSON, CSV, figures and HTML. Definitions: docs/metrics.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from galtk.errors import EvaluationError
from galtk.models.evaluation import metrics
from galtk.models.evaluation.criteria import CriterionOutcome, check_criteria, criteria_to_dict
from galtk.models.evaluation.inputs import EvaluationSet, check_generated, check_name
from galtk.models.evaluation.measure import (
    DEFAULT_CHUNK_SIZE,
    ImageStatistics,
    ProgressCallback,
    measure_difference,
    measure_images,
)

#: Radius of the circular aperture, centred on the cutout centre, in arcsec.
DEFAULT_APERTURE_RADIUS_ARCSEC = 3.0
#: Images of each direction kept for the image grids and RGB composites.
DEFAULT_EXAMPLES = 6
#: Bins of log10(sum |original|) in the global-shape statistics and of magnitude in the photometry ones.
FLUX_BINS = 10
MAGNITUDE_BINS = 8

#: The summary numbers per method, direction and band: name -> meaning (columns of metrics.csv).
SUMMARY_FIELDS: dict[str, str] = {
    "flux_difference_median": "median over images of sum |generated - original| (nanomaggies)",
    "reference_noise_sum": "sigma: median summed noise amplitude, sum |noise| of one image (nanomaggies)",
    "flux_difference_ratio": "flux_difference_median / (sqrt(2) sigma); 1 = exact shapes, noise reproduced",
    "flux_difference_slope": "slope of log sum |generated - original| against log sum |original|; 0 = flat",
    "noise_sigma_original": "median background noise sigma per pixel of the originals (nanomaggies/px)",
    "noise_sigma_generated": "median noise sigma of the generated images (nanomaggies/px)",
    "noise_sigma_true": "median true noise sigma of the originals (nanomaggies/px; synthetic data)",
    "noise_ratio": "noise_sigma_generated / noise_sigma_original",
    "noise_ratio_true": "noise_sigma_generated / noise_sigma_true",
    "original_noise_ratio_true": "noise_sigma_original / noise_sigma_true (checks the estimator itself)",
    "fourier_log_ratio_rms": "rms over frequencies of log10(stacked Fourier map generated / original)",
    "fourier_peak_ratio": "largest ratio stacked Fourier map generated / original (peaks = ripples)",
    "power_log_ratio_rms": "rms over frequency rings of log10(power spectrum generated / original)",
    "total_dmag_median": "median m(generated) - m(original), total flux of the cutout (mag)",
    "total_dmag_scatter": "robust spread (MAD sigma) of that magnitude difference (mag)",
    "total_flux_pull_scatter": "robust spread of total-flux difference / its noise-only expectation",
    "aperture_dmag_median": "median m(generated) - m(original) in the circular aperture (mag)",
    "aperture_dmag_scatter": "robust spread (MAD sigma) of that magnitude difference (mag)",
    "aperture_flux_pull_scatter": "robust spread of aperture-flux difference / its noise-only expectation",
}

#: The two fluxes of the photometry checks: the whole cutout, and the circular aperture.
PHOTOMETRY_KINDS = ("total", "aperture")
#: Where the reference noise level sigma of the global-shape figure comes from, best first.
NOISE_SOURCES = ("noise emulator", "true sigma", "measured on originals")

#: Called with a description and a number of images when a measurement pass starts.
StartCallback = Callable[[str, int], None]


@dataclass(frozen=True, eq=False)
class OriginalMeasurements:
    """The measured original images of one direction, shared by every method evaluated on them.

    Attributes
    ----------
    evaluation_set : EvaluationSet
    statistics : ImageStatistics
        Of the originals, in nanomaggies.
    aperture : ndarray, shape (H, W)
        Aperture weights.
    aperture_radius_arcsec : float
    reference_noise : ndarray, shape (C,)
        sigma of the paper's Fig. 5 per band: the median summed noise amplitude (nanomaggies).
    reference_noise_source : str
        One of :data:`NOISE_SOURCES`.
    true_sigma : ndarray, shape (N, C), or None
        True noise sigma in nanomaggies per pixel.
    """

    evaluation_set: EvaluationSet
    statistics: ImageStatistics
    aperture: np.ndarray
    aperture_radius_arcsec: float
    reference_noise: np.ndarray
    reference_noise_source: str
    true_sigma: np.ndarray | None

    @property
    def noise_sigma(self) -> np.ndarray:
        """Per-pixel noise sigma (N, C) of the originals: the true one where known, else the measured one."""
        return self.statistics.noise_sigma if self.true_sigma is None else self.true_sigma

    def noise_area(self, kind: str) -> float:
        """Sum of squared pixel weights of the ``"total"`` (H W) or ``"aperture"`` flux."""
        if kind == "total":
            return float(self.aperture.size)
        return float(np.sum(np.square(self.aperture)))

    def expected_dmag_scatter(self, kind: str) -> np.ndarray:
        """Spread of m(generated) - m(original) from noise alone, both images carrying the original's noise.

        ``2.5 / ln(10) * sqrt(2 A) * sigma / F`` per image and band (N, C), with A the noise area, sigma the
        original's noise and F its flux; NaN where F <= 0.
        """
        flux = _flux(self.statistics, kind)
        noise = metrics.MAGNITUDE_PER_LN_FLUX * np.sqrt(2.0 * self.noise_area(kind)) * self.noise_sigma
        return np.divide(noise, flux, out=np.full(flux.shape, np.nan), where=flux > 0)


@dataclass(frozen=True, eq=False)
class Photometry:
    """Photometry of generated against original images for one kind of flux (total or aperture), (N, C).

    Attributes
    ----------
    magnitude : ndarray
        AB magnitude of the originals (NaN for non-positive flux).
    dmag : ndarray
        m(generated) - m(original).
    pull : ndarray
        Flux difference over its noise-only expectation (:func:`~galtk.models.evaluation.metrics.flux_pull`).
    """

    magnitude: np.ndarray
    dmag: np.ndarray
    pull: np.ndarray

    @property
    def used(self) -> np.ndarray:
        """Images per band with a finite magnitude difference (C,): those in the photometry numbers."""
        return np.sum(np.isfinite(self.dmag), axis=0)

    @property
    def excluded(self) -> np.ndarray:
        """Images per band left out (C,): non-positive flux in the original or the generated image."""
        return self.dmag.shape[0] - self.used

    def counts(self, bands: Sequence[str]) -> dict[str, dict[str, int]]:
        """Band -> ``{"used": n, "excluded": m}``."""
        return {
            band: {"used": int(used), "excluded": int(excluded)}
            for band, used, excluded in zip(bands, self.used, self.excluded, strict=True)
        }


@dataclass(frozen=True, eq=False)
class DirectionResult:
    """Everything measured for one method in one direction.

    Attributes
    ----------
    method, direction : str
    originals : OriginalMeasurements
    generated : ImageStatistics
        Of the generated images.
    flux_difference : ndarray, shape (N, C)
        Sum over pixels of |generated - original| (nanomaggies).
    generated_examples : ndarray, shape (k, C, H, W)
        The first generated images, in nanomaggies, for the figures.
    photometry : dict of str to Photometry
        ``"total"`` and ``"aperture"``.
    summary : dict of str to dict of str to float
        Band -> :data:`SUMMARY_FIELDS` -> value (NaN where not available).
    curves : dict of str to dict
        Band -> binned global-shape and photometry statistics and radial power spectra (lists, JSON-ready).
    """

    method: str
    direction: str
    originals: OriginalMeasurements
    generated: ImageStatistics
    flux_difference: np.ndarray
    generated_examples: np.ndarray
    photometry: dict[str, Photometry]
    summary: dict[str, dict[str, float]]
    curves: dict[str, dict[str, Any]]

    @property
    def bands(self) -> tuple[str, ...]:
        """Band names."""
        return self.originals.evaluation_set.band_names

    @property
    def criteria(self) -> dict[str, CriterionOutcome]:
        """Criterion name -> worst band and pass/fail (:func:`~.criteria.check_criteria`)."""
        return check_criteria(self.summary)

    @property
    def original_examples(self) -> np.ndarray:
        """The originals of :attr:`generated_examples`, in nanomaggies."""
        evaluation_set = self.originals.evaluation_set
        count = self.generated_examples.shape[0]
        return (
            np.asarray(evaluation_set.original[:count], dtype=np.float64)
            * evaluation_set.nanomaggies_per_unit
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description: settings, summary and curves per band (NaN written as None)."""
        evaluation_set = self.originals.evaluation_set
        return {
            "survey": evaluation_set.spec.name,
            "bands": list(self.bands),
            "n_images": int(evaluation_set.original.shape[0]),
            "image_shape": list(evaluation_set.original.shape[2:]),
            "pixel_scale_arcsec": evaluation_set.arcsec_per_pixel,
            "aperture_radius_arcsec": self.originals.aperture_radius_arcsec,
            "units": {"flux": "nanomaggy", "noise_sigma": "nanomaggy per pixel", "magnitude": "AB"},
            "reference_noise": {
                "source": self.originals.reference_noise_source,
                "summed_amplitude": {
                    band: _json_number(value)
                    for band, value in zip(self.bands, self.originals.reference_noise, strict=True)
                },
            },
            "criteria": criteria_to_dict(self.criteria),
            "photometry_counts": {
                kind: measurement.counts(self.bands) for kind, measurement in self.photometry.items()
            },
            "bands_summary": {
                band: {k: _json_number(v) for k, v in s.items()} for band, s in self.summary.items()
            },
            "bands_curves": _json_ready(self.curves),
        }


@dataclass(frozen=True, eq=False)
class EvaluationResult:
    """The evaluation of one method: a :class:`DirectionResult` per direction it was evaluated in.

    Attributes
    ----------
    method : str
        Name in the report.
    directions : dict of str to DirectionResult
    model : dict of str to object, optional
        What names the evaluated model (for a checkpoint of ``galtk train``:
        :meth:`galtk.models.translation.translator.Translator.identity`), JSON-ready; None when not known.
    """

    method: str
    directions: dict[str, DirectionResult]
    model: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description of the model and every direction."""
        return {
            "method": self.method,
            "model": _json_ready(dict(self.model)) if self.model is not None else None,
            "directions": {k: v.to_dict() for k, v in self.directions.items()},
        }

    def summary_rows(self) -> list[dict[str, Any]]:
        """A row per direction and band: method, direction, survey, band, n_images and the summary fields."""
        rows = []
        for direction, result in self.directions.items():
            evaluation_set = result.originals.evaluation_set
            for band in result.bands:
                row: dict[str, Any] = {
                    "method": self.method,
                    "direction": direction,
                    "survey": evaluation_set.spec.name,
                    "band": band,
                    "n_images": int(evaluation_set.original.shape[0]),
                }
                row.update(result.summary[band])
                rows.append(row)
        return rows


def measure_originals(
    evaluation_set: EvaluationSet,
    *,
    aperture_radius_arcsec: float = DEFAULT_APERTURE_RADIUS_ARCSEC,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_start: StartCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> OriginalMeasurements:
    """Measure the original images of one direction (once for every method).

    Parameters
    ----------
    evaluation_set : EvaluationSet
    aperture_radius_arcsec : float, optional
        Radius of the circular aperture centred on the cutout centre.
    chunk_size : int, optional
        Images processed together.
    on_start : callable, optional
        Called as ``on_start("measure DIRECTION originals", N)`` before the pass over the originals.
    on_progress : callable, optional
        Called with the number of originals measured after every chunk.

    Returns
    -------
    OriginalMeasurements
    """
    if not aperture_radius_arcsec > 0:
        raise EvaluationError(f"the aperture radius must be positive, got {aperture_radius_arcsec}")
    scale = evaluation_set.nanomaggies_per_unit
    original = evaluation_set.original
    height, width = original.shape[2:]
    aperture = metrics.aperture_weights(
        (height, width), aperture_radius_arcsec / evaluation_set.arcsec_per_pixel
    )
    if on_start is not None:
        on_start(f"measure {evaluation_set.direction} originals", int(original.shape[0]))
    statistics = measure_images(
        original,
        to_nanomaggies=scale,
        aperture=aperture,
        label=f"{evaluation_set.direction} originals",
        chunk_size=chunk_size,
        on_progress=on_progress,
    )
    true_sigma = None
    if evaluation_set.true_sigma is not None:
        true_sigma = np.asarray(evaluation_set.true_sigma, dtype=np.float64) * scale
    pixels = height * width
    if evaluation_set.emulator_noise is not None:
        summed_noise = measure_difference(
            evaluation_set.emulator_noise,
            None,
            to_nanomaggies=scale,
            label=f"{evaluation_set.direction} noise emulator samples",
            chunk_size=chunk_size,
        )
        reference, source = np.median(summed_noise, axis=0), NOISE_SOURCES[0]
    elif true_sigma is not None:
        reference = np.median(metrics.expected_summed_noise_amplitude(true_sigma, pixels), axis=0)
        source = NOISE_SOURCES[1]
    else:
        reference = np.median(metrics.expected_summed_noise_amplitude(statistics.noise_sigma, pixels), axis=0)
        source = NOISE_SOURCES[2]
    return OriginalMeasurements(
        evaluation_set=evaluation_set,
        statistics=statistics,
        aperture=aperture,
        aperture_radius_arcsec=float(aperture_radius_arcsec),
        reference_noise=reference,
        reference_noise_source=source,
        true_sigma=true_sigma,
    )


def evaluate_method(
    method: str,
    generated: Mapping[str, np.ndarray],
    originals: Sequence[OriginalMeasurements],
    *,
    examples: int = DEFAULT_EXAMPLES,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_start: StartCallback | None = None,
    on_progress: ProgressCallback | None = None,
    model: Mapping[str, Any] | None = None,
) -> EvaluationResult:
    """Compare a method's generated images with the originals in each direction it was run.

    Parameters
    ----------
    method : str
        Method name (see :data:`~galtk.models.evaluation.inputs.NAME_PATTERN`).
    generated : mapping of str to ndarray
        Direction name -> generated images (N, C, H, W) in the target survey's pixel unit, in the order of
        that direction's originals.
    originals : sequence of OriginalMeasurements
        From :func:`measure_originals`, one per direction (directions the method lacks are skipped).
    examples : int, optional
        Images kept for the image grids and RGB composites.
    chunk_size : int, optional
        Images processed together.
    on_start : callable, optional
        Called as ``on_start("measure METHOD DIRECTION", N)`` before each direction's pass.
    on_progress : callable, optional
        Called with the number of generated images measured after every chunk.
    model : mapping of str to object, optional
        What names the model that generated the images (run, checkpoint, digest...), written into the
        report as it is (JSON-ready values).

    Returns
    -------
    EvaluationResult

    Raises
    ------
    EvaluationError
        If a direction is unknown, shapes disagree, or an image is not finite.
    """
    check_name("method", method)
    by_direction = {measured.evaluation_set.direction: measured for measured in originals}
    unknown = sorted(set(generated) - set(by_direction))
    if unknown or not generated:
        raise EvaluationError(
            f"{method}: generated images for {', '.join(unknown) or 'no direction'}; "
            f"directions with originals: {', '.join(by_direction) or 'none'}"
        )
    results = {}
    for direction, images in generated.items():
        measured = by_direction[direction]
        check_generated(measured.evaluation_set, images, method)
        if on_start is not None:
            on_start(f"measure {method} {direction}", int(images.shape[0]))
        results[direction] = _evaluate_direction(method, images, measured, examples, chunk_size, on_progress)
    return EvaluationResult(method=method, directions=results, model=model)


def evaluate_methods(
    generated_by_method: Mapping[str, Mapping[str, np.ndarray]],
    evaluation_sets: Sequence[EvaluationSet],
    *,
    aperture_radius_arcsec: float = DEFAULT_APERTURE_RADIUS_ARCSEC,
    examples: int = DEFAULT_EXAMPLES,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_start: StartCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> list[EvaluationResult]:
    """Measure the originals once, then evaluate every method (see :func:`evaluate_method`).

    Parameters
    ----------
    generated_by_method : mapping of str to mapping of str to ndarray
        Method name -> direction name -> generated images.
    evaluation_sets : sequence of EvaluationSet
        The originals of each direction (distinct direction names).
    aperture_radius_arcsec, examples, chunk_size, on_start, on_progress
        See :func:`measure_originals` and :func:`evaluate_method`.

    Returns
    -------
    list of EvaluationResult
        In the order of ``generated_by_method``.
    """
    directions = [evaluation_set.direction for evaluation_set in evaluation_sets]
    if len(set(directions)) != len(directions):
        raise EvaluationError(f"direction names must be distinct, got {', '.join(directions)}")
    hooks = {"chunk_size": chunk_size, "on_start": on_start, "on_progress": on_progress}
    originals = [
        measure_originals(s, aperture_radius_arcsec=aperture_radius_arcsec, **hooks) for s in evaluation_sets
    ]
    return [
        evaluate_method(method, generated, originals, examples=examples, **hooks)
        for method, generated in generated_by_method.items()
    ]


def _evaluate_direction(
    method: str,
    images: np.ndarray,
    measured: OriginalMeasurements,
    examples: int,
    chunk_size: int,
    on_progress: ProgressCallback | None,
) -> DirectionResult:
    evaluation_set = measured.evaluation_set
    scale = evaluation_set.nanomaggies_per_unit
    label = f"{method} {evaluation_set.direction}"
    statistics = measure_images(
        images,
        to_nanomaggies=scale,
        aperture=measured.aperture,
        label=label,
        chunk_size=chunk_size,
        on_progress=on_progress,
    )
    difference = measure_difference(
        images, evaluation_set.original, to_nanomaggies=scale, label=label, chunk_size=chunk_size
    )
    photometry = {kind: _photometry(kind, measured, statistics) for kind in PHOTOMETRY_KINDS}
    summary, curves = {}, {}
    for index, band in enumerate(evaluation_set.band_names):
        summary[band] = _band_summary(index, measured, statistics, difference[:, index], photometry)
        curves[band] = _band_curves(index, measured, statistics, difference[:, index], photometry)
    return DirectionResult(
        method=method,
        direction=evaluation_set.direction,
        originals=measured,
        generated=statistics,
        flux_difference=difference,
        generated_examples=np.asarray(images[:examples], dtype=np.float64) * scale,
        photometry=photometry,
        summary=summary,
        curves=curves,
    )


def _photometry(kind: str, measured: OriginalMeasurements, generated: ImageStatistics) -> Photometry:
    original_flux, generated_flux = _flux(measured.statistics, kind), _flux(generated, kind)
    return Photometry(
        magnitude=metrics.magnitude(original_flux),
        dmag=metrics.magnitude_difference(generated_flux, original_flux),
        pull=metrics.flux_pull(
            generated_flux,
            original_flux,
            generated.noise_sigma,
            measured.noise_sigma,
            measured.noise_area(kind),
        ),
    )


def _flux(statistics: ImageStatistics, kind: str) -> np.ndarray:
    if kind not in PHOTOMETRY_KINDS:
        raise ValueError(f"unknown flux {kind!r}; known: {', '.join(PHOTOMETRY_KINDS)}")
    return statistics.total_flux if kind == "total" else statistics.aperture_flux


def _band_summary(
    band: int,
    measured: OriginalMeasurements,
    generated: ImageStatistics,
    difference: np.ndarray,
    photometry: dict[str, Photometry],
) -> dict[str, float]:
    original = measured.statistics
    reference = float(measured.reference_noise[band])
    median_difference = metrics.finite_median(difference)
    sigma_original = metrics.finite_median(original.noise_sigma[:, band])
    sigma_generated = metrics.finite_median(generated.noise_sigma[:, band])
    sigma_true = (
        math.nan if measured.true_sigma is None else metrics.finite_median(measured.true_sigma[:, band])
    )
    fourier_mask = metrics.high_pass_response_mask(original.fourier_amplitude.shape[-2:])
    ring_mask = _ring_mask(original.power.shape[-2:])
    _, power_original = metrics.radial_average(original.power[band])
    _, power_generated = metrics.radial_average(generated.power[band])
    summary = {
        "flux_difference_median": median_difference,
        "reference_noise_sum": reference,
        "flux_difference_ratio": _ratio(median_difference, math.sqrt(2.0) * reference),
        "flux_difference_slope": _log_slope(original.summed_absolute[:, band], difference),
        "noise_sigma_original": sigma_original,
        "noise_sigma_generated": sigma_generated,
        "noise_sigma_true": sigma_true,
        "noise_ratio": _ratio(sigma_generated, sigma_original),
        "noise_ratio_true": _ratio(sigma_generated, sigma_true),
        "original_noise_ratio_true": _ratio(sigma_original, sigma_true),
        "fourier_log_ratio_rms": metrics.log_ratio_rms(
            generated.fourier_amplitude[band], original.fourier_amplitude[band], fourier_mask
        ),
        "fourier_peak_ratio": _peak_ratio(
            generated.fourier_amplitude[band], original.fourier_amplitude[band], fourier_mask
        ),
        "power_log_ratio_rms": metrics.log_ratio_rms(power_generated, power_original, ring_mask),
    }
    for kind, measurement in photometry.items():
        summary[f"{kind}_dmag_median"] = metrics.finite_median(measurement.dmag[:, band])
        summary[f"{kind}_dmag_scatter"] = metrics.robust_spread(measurement.dmag[:, band])
        summary[f"{kind}_flux_pull_scatter"] = metrics.robust_spread(measurement.pull[:, band])
    return {name: float(summary[name]) for name in SUMMARY_FIELDS}


def _band_curves(
    band: int,
    measured: OriginalMeasurements,
    generated: ImageStatistics,
    difference: np.ndarray,
    photometry: dict[str, Photometry],
) -> dict[str, Any]:
    original = measured.statistics
    log_flux = metrics.log10_positive(original.summed_absolute[:, band])
    shape = metrics.binned_statistics(log_flux, difference, _edges(log_flux, FLUX_BINS))
    curves: dict[str, Any] = {
        "flux_difference": {"original_sum": 10.0 ** shape.pop("centre"), **shape},
    }
    for kind, measurement in photometry.items():
        magnitude = measurement.magnitude[:, band]
        edges = _edges(magnitude, MAGNITUDE_BINS)
        binned = metrics.binned_statistics(magnitude, measurement.dmag[:, band], edges)
        expected_scatter = measured.expected_dmag_scatter(kind)[:, band]
        expected = metrics.binned_statistics(magnitude, expected_scatter, edges)
        curves[f"photometry_{kind}"] = {
            "magnitude": binned.pop("centre"),
            **binned,
            "expected_scatter": expected["median"],
        }
    frequency, power_original = metrics.radial_average(original.power[band])
    _, power_generated = metrics.radial_average(generated.power[band])
    curves["power_spectrum"] = {
        "frequency": frequency,
        "original": power_original,
        "generated": power_generated,
    }
    return curves


def _edges(values: np.ndarray, bins: int) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.linspace(0.0, 1.0, bins + 1)
    low, high = float(finite.min()), float(finite.max())
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, bins + 1)


def _ring_mask(shape: tuple[int, ...]) -> np.ndarray:
    _, response = metrics.radial_average(metrics.high_pass_transfer((shape[0], shape[1])))
    return response >= metrics.RESPONSE_FLOOR * response.max()


def _ratio(numerator: float, denominator: float) -> float:
    if not (math.isfinite(numerator) and math.isfinite(denominator)) or denominator == 0:
        return math.nan
    return numerator / denominator


def _peak_ratio(generated: np.ndarray, original: np.ndarray, mask: np.ndarray) -> float:
    keep = mask & (original > 0)
    return float(np.max(generated[keep] / original[keep])) if keep.any() else math.nan


def _log_slope(x: np.ndarray, y: np.ndarray) -> float:
    keep = (x > 0) & (y > 0) & np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 2 or np.ptp(np.log10(x[keep])) == 0:
        return math.nan
    slope, _ = np.polyfit(np.log10(x[keep]), np.log10(y[keep]), 1)
    return float(slope)


def _json_number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return [_json_ready(item) for item in value.tolist()]
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    if isinstance(value, float | np.floating):
        return _json_number(float(value))
    if isinstance(value, np.integer):
        return int(value)
    return value
