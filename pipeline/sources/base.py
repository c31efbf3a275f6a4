"""The interface every cutout source implements.

A source answers two questions for a survey: which objects it has (:meth:`CutoutSource.objects`) and what
the cutouts of some of them look like (:meth:`CutoutSource.cutouts`). The fetch engine
(:mod:`galtk.pipeline.fetch.stage`) owns everything else: the store, batching, parallelism, resuming and
progress. Archive sources (SDSS, CFHTLS, FITS files, HiPS) implement the same two methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from galtk.pipeline.stores.cutout_store import STATE_DONE, STATE_FAILED, CutoutBatch, ExtraArray
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


#: What cutting did to each band's pixels: the noise gain of resampling and the object's sub-pixel offset.
CUT_EXTRAS = (
    ExtraArray(
        "noise_gain",
        True,
        "float32",
        "",
        "factor by which resampling multiplied the per-pixel sigma of the source image's white noise"
        " (NaN: not known)",
    ),
    ExtraArray(
        "offset_x",
        True,
        "float32",
        "pixel",
        "object's x on the cutout minus the centre pixel (size-1)/2: 0 when resampled onto a grid centred on"
        " it, up to 0.5 for the source image's own pixels",
    ),
    ExtraArray(
        "offset_y", True, "float32", "pixel", "object's y on the cutout minus the centre pixel (size-1)/2"
    ),
)

#: Per-object records of the sources that cut each band from a file or a service.
RECORD_EXTRAS = (
    ExtraArray("provenance", False, "str", "", "image file or service used for each band"),
    ExtraArray("error", False, "str", "", "why a band or the object could not be cut out"),
    *CUT_EXTRAS,
)


def assemble_batch(
    images: np.ndarray,
    valid: np.ndarray,
    used: list[list[str]],
    errors: list[list[str]],
    unavailable: np.ndarray | None = None,
    noise_gain: np.ndarray | None = None,
    offset: np.ndarray | None = None,
) -> CutoutBatch:
    """Rows of a store from per-band results, with :data:`RECORD_EXTRAS`.

    Parameters
    ----------
    images : ndarray, shape (n, band, y, x)
        Cutouts; pixels of invalid bands are set to NaN here.
    valid : ndarray of bool, shape (n, band)
        Bands holding complete data.
    used : list of list of str
        Per row and band, where the band came from ("" when nowhere).
    errors : list of list of str
        Per row, what went wrong.
    unavailable : ndarray of bool, shape (n,), optional
        Rows that lost a band to a transient failure (download, service): failed, so a later run retries them.
    noise_gain : ndarray, shape (n, band), optional
        What resampling did to each band's noise (:func:`galtk.pipeline.resample.resample`); NaN where not
        known (invalid bands, or a service that resampled the pixels itself).
    offset : ndarray, shape (n, band, 2), optional
        Object's (x, y) on each band's cutout minus its centre pixel (0 by default: resampled onto a grid
        centred on the object); NaN for invalid bands.

    Returns
    -------
    CutoutBatch
        A row is done when it has at least one valid band and nothing was unavailable, else failed.
    """
    images[~valid] = np.nan
    gain = np.full(valid.shape, np.nan, np.float32) if noise_gain is None else noise_gain.astype(np.float32)
    gain[~valid] = np.nan
    shift = np.zeros((*valid.shape, 2), np.float32) if offset is None else offset.astype(np.float32)
    shift[~valid] = np.nan
    done = valid.any(axis=1)
    if unavailable is not None:
        done &= ~unavailable
    return CutoutBatch(
        images=images,
        valid=valid,
        state=np.where(done, STATE_DONE, STATE_FAILED).astype(np.uint8),
        extras={
            "provenance": np.array(["; ".join(item for item in row if item) for row in used], dtype=object),
            "error": np.array(["; ".join(row) for row in errors], dtype=object),
            "noise_gain": gain,
            "offset_x": shift[..., 0],
            "offset_y": shift[..., 1],
        },
    )


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

    def watch_bytes(self, callback: Callable[[int], None]) -> None:
        """Have ``callback`` called with the size of every block of bytes downloaded from now on.

        Sources that download nothing (the synthetic sky, local files) never call it.
        """
        return None

    @abstractmethod
    def describe(self) -> Mapping[str, Any]:
        """JSON-serialisable description of the source and its settings.

        Stored in the store's provenance, and compared on resume: a store is only completed by the source
        that started it.
        """
