"""Training pairs read once into memory: the batch sources of the conditional (pix2pix-like) methods.

``galaxygan`` (a degraded image and its original, :mod:`~galtk.models.training.batches.degraded_pairs`) and
``pix2pix-multi`` (several surveys and a target survey, :mod:`~galtk.models.training.batches.survey_pairs`)
train on (input, target) pairs read from a paired store. :class:`ArrayPairSources` holds what they share:
the pairs are read on first use, served by one
:class:`~galtk.models.training.batches.loader.StoreBatchSource` for every stage whose SDSS side is the
input and whose CFHT side is the target (the layout :class:`~galtk.models.training.updates.\
ConditionalGeneratorLoss` reads), and described in the run snapshot.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from galtk.models.training.batches.loader import StoreBatchSource
from galtk.models.training.distributed import Distributed
from galtk.models.training.settings import TrainSettings
from galtk.models.training.updates import Stage


@dataclass(frozen=True)
class PairArrays:
    """The training pairs of a run, as a subclass of :class:`ArrayPairSources` reads them.

    Attributes
    ----------
    inputs, targets : ndarray of float32
        (N, C_in, H, W) and (N, C, H, W), rescaled.
    bands : tuple of str
        Target bands.
    input_bands : tuple of str or None
        Input channel names, when they are not the target bands.
    details : dict
        What was read, for the run snapshot.
    """

    inputs: np.ndarray
    targets: np.ndarray
    bands: tuple[str, ...]
    input_bands: tuple[str, ...] | None
    details: dict[str, Any]


@dataclass
class ArrayPairSources(ABC):
    """The batches of a run trained on (input, target) pairs held in memory; subclasses read the pairs.

    Attributes
    ----------
    path : Path
        The paired store.
    rows : ndarray of int64
        Rows of the store that train (once opened); position ``p`` of the batch source's sets is row
        ``rows[p]``.
    """

    path: Path
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _opened: StoreBatchSource | None = field(default=None, repr=False)
    _details: dict[str, Any] = field(default_factory=dict, repr=False)

    #: The key of the store's path in :meth:`describe`.
    store_key = "paired"

    @abstractmethod
    def read_pairs(self, settings: TrainSettings) -> PairArrays:
        """Read the training pairs and set :attr:`rows`."""

    def __call__(self, stage: Stage, context: Distributed, settings: TrainSettings) -> StoreBatchSource:
        """The batches of this process (batch sizes and seed of ``settings``); read once."""
        if self._opened is None:
            pairs = self.read_pairs(settings)
            self._details = pairs.details
            self._opened = StoreBatchSource.from_arrays(
                pairs.inputs,
                pairs.targets,
                pairs.inputs,
                pairs.targets,
                batch_unpaired=settings.batch_size,
                batch_pairs=settings.batch_pairs,
                seed=settings.seed,
                device=context.device,
                rank=context.rank,
                world_size=context.world_size,
                bands=pairs.bands,
                input_bands=pairs.input_bands,
            )
        return self._opened

    def open_all(self, method: Any, context: Distributed, settings: TrainSettings) -> list[StoreBatchSource]:
        """Open the pairs now (so a missing store is reported before a run starts)."""
        return [self(stage, context, settings) for stage in method.stages]

    def describe(self) -> dict[str, Any]:
        """The store and what was read from it, for the run snapshot (its ``data``)."""
        opened = self._opened.describe() if self._opened is not None else {}
        return {self.store_key: str(self.path), **self._details, "opened": opened}
