"""Evaluation of translated images (``galtk evaluate``; SPEC section 7 and the paper's Section IV-D).

Works on arrays: for each translation direction, the original test images (:class:`EvaluationSet`) and each
method's generated images of the same objects, in the target survey's pixel unit. Definitions of every
number and figure: docs/metrics.md.

Typical use::

    sets = [EvaluationSet("sdss_to_cfht", "cfht", cfht_test, true_sigma=cfht_sigma),
            EvaluationSet("cfht_to_sdss", "sdss", sdss_test, true_sigma=sdss_sigma)]
    results = evaluate_methods({"ours": {"sdss_to_cfht": fake_cfht, "cfht_to_sdss": fake_sdss}}, sets)
    write_report(results, Path("report"))

Modules
-------
metrics
    The metrics as functions of image arrays (high-pass, noise sigma, Fourier maps, power spectra, fluxes).
measure
    One chunked pass over a set of images.
inputs, results
    The inputs of an evaluation and the evaluation of one method.
criteria
    Pass or fail: the worst band of each criterion against its threshold.
figures, html, report
    The PNG figures, the index page, and the report directory (JSON, CSV, figures, HTML).
pairs, translators, plan
    The test pairs of a paired store, translating them with trained models, and ``galtk evaluate`` in a
    workspace (choosing and naming the models).
"""

from galtk.errors import EvaluationError
from galtk.models.evaluation.inputs import EvaluationSet
from galtk.models.evaluation.report import write_report
from galtk.models.evaluation.results import (
    SUMMARY_FIELDS,
    DirectionResult,
    EvaluationResult,
    OriginalMeasurements,
    evaluate_method,
    evaluate_methods,
    measure_originals,
)

__all__ = [
    "SUMMARY_FIELDS",
    "DirectionResult",
    "EvaluationError",
    "EvaluationResult",
    "EvaluationSet",
    "OriginalMeasurements",
    "evaluate_method",
    "evaluate_methods",
    "measure_originals",
    "write_report",
]
