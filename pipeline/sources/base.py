"""The interface every cutout source implements.

A source answers two questions for a survey: which objects it has (:meth:`CutoutSource.objects`) and what
the cutouts of some of them look like (:meth:`CutoutSource.cutouts`). The fetch engine
(:mod:`galtk.pipeline.fetch`) owns everything else: the store, batching, parallelism, resuming and progress.
Archive sources (SDSS, CFHTLS, FITS files, HiPS) implement the same two methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from galtk.pipeline.store import CutoutBatch, ExtraArray
from galtk.pipeline.surveys import SurveySpec


@dataclass(frozen=True)
class ObjectList:
    """The objects a source provides for one survey, in store row order.

    Attributes
    ----------
    ids : ndarray of str
    ra, dec : ndarray of float64
        Cutout centres in degrees (ICRS).
    rejected : tuple of (id, ra, dec, reason)
        Objects of the input sample the source cannot provide (e.g. outside its coverage); they get no row,
        and the fetch reports them.
    """

    ids: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    rejected: tuple[tuple[str, float, float, str], ...] = ()

    def __post_init__(self) -> None:
        if not len(self.ids) == len(self.ra) == len(self.dec):
            raise ValueError("ids, ra and dec must have the same length")

    def __len__(self) -> int:
        return len(self.ids)


class CutoutSource(ABC):
    """Where the pixels of a cutout store come from."""

    #: Name used on the command line (``galtk fetch --source NAME``).
    name: ClassVar[str]

    #: How the fetch engine runs several workers: ``"threads"`` for sources that wait on the network or
    #: release the GIL, ``"processes"`` for CPU-bound ones (the source must then be picklable).
    parallelism: ClassVar[str] = "threads"

    @abstractmethod
    def objects(self, survey: SurveySpec) -> ObjectList:
        """Objects of ``survey`` this source provides, in a deterministic order."""

    @abstractmethod
    def cutouts(self, survey: SurveySpec, objects: ObjectList, rows: np.ndarray) -> CutoutBatch:
        """Cutouts of ``objects`` at positions ``rows`` (sorted indices into ``objects``).

        Must be safe to call from several threads at once, and deterministic: the same rows give the same
        pixels whatever the batch they are asked in.
        """

    def extras(self, survey: SurveySpec) -> tuple[ExtraArray, ...]:
        """Extra per-object arrays this source records (none by default)."""
        return ()

    @abstractmethod
    def describe(self) -> Mapping[str, Any]:
        """JSON-serialisable description of the source and its settings.

        Stored in the store's provenance, and compared on resume: a store is only completed by the source
        that started it.
        """
