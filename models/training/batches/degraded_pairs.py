"""The training data of ``galaxygan``: the (degraded, original) pairs of a ``galtk degrade`` store.

A degrade store (:mod:`galtk.pipeline.degrade.stage`) holds each cutout twice, as it was (member
``original``) and with a wider PSF and more noise (member ``degraded``). GalaxyGAN learns to recover the
first from the second. :class:`DegradedPairSources` reads the training rows of both members, puts them in
galtk's rescaled units (SPEC section 3: the survey's unit to nanomaggies, then the signed square root; the
same transform ``galtk preprocess`` applies), and serves them as a
:class:`~galtk.models.training.batches.loader.StoreBatchSource` held in memory whose SDSS side is the
degraded image and whose CFHT side is the original, the layout the ``galaxygan`` losses read
(:class:`~galtk.models.training.updates.ConditionalGeneratorLoss`).

Which rows train: the ``train`` split of the store, or, with ``folds = K``, every pair but those of fold
``fold`` (:func:`fold_of_pairs`), so that K runs make a K-fold cross-validation, as GalaxyGAN's ten.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from galtk.errors import StoreError, TrainingDataError
from galtk.models.training.batches.array_pairs import ArrayPairSources, PairArrays
from galtk.models.training.settings import TrainSettings
from galtk.pipeline.preprocess.transforms import rescale
from galtk.pipeline.stores.paired import PairedStore

ORIGINAL, DEGRADED = "original", "degraded"
"""Member names of a degrade store."""


def fold_of_pairs(ids: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """The fold (0 to ``folds - 1``) of every pair: a seeded shuffle of the identifiers, dealt round.

    The folds depend on the identifiers, the number of folds and the seed only, not on the rows' order,
    and their sizes differ by one at most.

    Parameters
    ----------
    ids : ndarray of str
        Object identifier of every pair.
    folds : int
        Number of folds (at least 2).
    seed : int
        Seed of the shuffle.

    Returns
    -------
    ndarray of int64
    """
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    order = np.argsort(np.asarray(ids, dtype=str), kind="stable")
    shuffled = order[np.random.default_rng([seed, folds]).permutation(len(order))]
    fold = np.empty(len(ids), dtype=np.int64)
    fold[shuffled] = np.arange(len(ids)) % folds
    return fold


def held_out_rows(store: PairedStore, settings: TrainSettings) -> np.ndarray:
    """Rows a ``galaxygan`` run never trains on: the ``test`` split, or its fold with ``folds``.

    Parameters
    ----------
    store : PairedStore
        The degrade store.
    settings : TrainSettings
        The run's ``folds``, ``fold`` and ``seed``.

    Returns
    -------
    ndarray of int64
        Ascending rows.
    """
    if settings.folds:
        ids = np.asarray(store.column("id"), dtype=object).astype(str)
        folds = fold_of_pairs(ids, settings.folds, settings.seed)
        return np.flatnonzero(folds == settings.fold)
    return np.flatnonzero(store.split == "test")


def open_degrade_store(path: str | Path) -> PairedStore:
    """Open a complete ``galtk degrade`` output, or say what ``path`` is instead."""
    store = PairedStore.open(path)
    if tuple(store.surveys) != (ORIGINAL, DEGRADED) or "degrade" not in store.attrs:
        raise StoreError(f"{path} is a paired store but not one written by galtk degrade")
    return store


def rescaled_rows(store: PairedStore, member: str, rows: np.ndarray) -> np.ndarray:
    """Images of ``rows`` of one member in galtk's rescaled units (float32)."""
    cutouts = store.member(member)
    images = cutouts.read(rows).images.astype(np.float32)
    return rescale(images, cutouts.schema.unit)


@dataclass
class DegradedPairSources(ArrayPairSources):
    """The batches of a ``galaxygan`` run: the training pairs of a degrade store, held in memory.

    Attributes
    ----------
    path : Path
        The degrade store.
    rows : ndarray of int64
        Rows of the store that train (once opened); position ``p`` of the batch source's sets is row
        ``rows[p]``.
    """

    store_key = "degraded"

    def read_pairs(self, settings: TrainSettings) -> PairArrays:
        """The usable pairs outside the held-out fold: (degraded, original), rescaled."""
        store = open_degrade_store(self.path)
        member = store.member(ORIGINAL)
        usable = np.ones(store.n_pairs, dtype=bool)
        for name in (ORIGINAL, DEGRADED):
            cutouts = store.member(name)
            usable &= np.asarray(cutouts.valid[:]).all(axis=1)
        usable[held_out_rows(store, settings)] = False
        rows = self.rows = np.flatnonzero(usable)
        if not len(rows):
            raise TrainingDataError(f"{self.path} holds no training pair (folds {settings.folds})")
        details = {
            "kind": "degraded pairs",
            "survey": member.schema.survey,
            "unit": member.schema.unit,
            "bands": list(member.schema.bands),
            "image_size": int(member.schema.image_shape[-1]),
            "pixel_scale": float(member.schema.pixel_scale),
            "folds": settings.folds,
            "fold": settings.fold if settings.folds else None,
            "train_rows": len(rows),
            "degrade": store.attrs["degrade"],
        }
        return PairArrays(
            inputs=rescaled_rows(store, DEGRADED, rows),
            targets=rescaled_rows(store, ORIGINAL, rows),
            bands=tuple(member.schema.bands),
            input_bands=None,
            details=details,
        )
