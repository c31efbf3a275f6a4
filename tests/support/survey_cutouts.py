"""Synthetic input cutouts of a survey's shape and unit for translation tests."""

from __future__ import annotations

import numpy as np

from galtk.pipeline.surveys import SDSS, SurveySpec


def survey_cutouts(survey: SurveySpec, count: int = 3, seed: int = 1) -> np.ndarray:
    """``count`` float32 cutouts (count, 5, size, size) of ``survey``: a flat level of 10 sigma plus white
    Gaussian noise of sigma 0.05 nanomaggies (SDSS) or 5 ZP30 ADU (CFHT)."""
    rng = np.random.default_rng(seed)
    size = survey.cutout_size
    scale = 0.05 if survey is SDSS else 5.0
    return (rng.normal(0, scale, (count, 5, size, size)) + 10 * scale).astype(np.float32)
