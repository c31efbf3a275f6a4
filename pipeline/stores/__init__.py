"""Cutout stores: the zarr layout of every stage's output, paired stores and their rows."""

from galtk.pipeline.stores.cutout_store import CutoutBatch, CutoutStore, ExtraArray, StoreSchema

__all__ = ["CutoutBatch", "CutoutStore", "ExtraArray", "StoreSchema"]
