"""Data pipeline: survey facts, cutout stores, cutout sources and the fetch engine."""

from galtk.pipeline.stores.cutout_store import CutoutBatch, CutoutStore, ExtraArray, StoreSchema
from galtk.pipeline.surveys import SURVEYS, SurveySpec, get_survey

__all__ = ["SURVEYS", "CutoutBatch", "CutoutStore", "ExtraArray", "StoreSchema", "SurveySpec", "get_survey"]
