"""The fetch stage: cutouts of a survey from a source into a cutout store."""

from galtk.pipeline.fetch.stage import fetch_survey

__all__ = ["fetch_survey"]
