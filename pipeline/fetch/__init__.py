"""The fetch stage: cutouts of a survey from a source into a cutout store."""

from galtk.pipeline.fetch.stage import FetchCallbacks, FetchReport, fetch_survey, fetch_workspace

__all__ = ["FetchCallbacks", "FetchReport", "fetch_survey", "fetch_workspace"]
