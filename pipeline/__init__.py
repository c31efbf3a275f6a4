"""The data pipeline: from survey archives (or the synthetic sky) to preprocessed training stores.

Modules: ``surveys`` (survey facts), ``workspace`` (galtk.toml), ``geometry`` and ``resample`` (cutout grids),
``fits_headers`` (FITS band, unit and zero-point rules), ``replace`` (crash-safe writes). One sub-package per
stage: ``sources`` and ``fetch`` (galtk fetch), ``crossmatch``, ``preprocess``; ``stores`` (the zarr cutout
and paired stores) and ``synthetic`` (the synthetic sky and its ``sim`` source). See docs/architecture.md.
"""

from galtk.pipeline.stores.cutout_store import CutoutBatch, CutoutStore, ExtraArray, StoreSchema
from galtk.pipeline.surveys import SURVEYS, SurveySpec, get_survey

__all__ = ["SURVEYS", "CutoutBatch", "CutoutStore", "ExtraArray", "StoreSchema", "SurveySpec", "get_survey"]
