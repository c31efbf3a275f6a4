"""Facts about imaging surveys in one place.

Every other module asks for a :class:`SurveySpec` (a workspace's ``Workspace.survey(name)``, or
:func:`get_survey` for a built-in description) for pixel scales, cutout sizes, units, zero points and typical
seeing and noise instead of repeating the numbers.
"""

from galtk.pipeline.surveys.presets import BANDS, CFHT, HIPS_SURVEYS, PRESETS, SDSS, SURVEYS, get_survey
from galtk.pipeline.surveys.spec import (
    NANOMAGGY_ZEROPOINT,
    ZP30_ADU_IN_NANOMAGGIES,
    HipsBands,
    SurveySpec,
    nanomaggies_per_count,
    with_bands,
)

__all__ = [
    "BANDS",
    "CFHT",
    "HIPS_SURVEYS",
    "NANOMAGGY_ZEROPOINT",
    "PRESETS",
    "SDSS",
    "SURVEYS",
    "ZP30_ADU_IN_NANOMAGGIES",
    "HipsBands",
    "SurveySpec",
    "get_survey",
    "nanomaggies_per_count",
    "with_bands",
]
