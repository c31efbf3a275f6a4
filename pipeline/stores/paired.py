"""The paired store: two surveys' cutouts of the same galaxies, aligned row by row (``galtk crossmatch``).

Layout of a paired store (a directory, one zarr format 3 group)::

    sdss/                    a complete cutout store (galtk.pipeline.stores.cutout_store) of the SDSS cutouts
    cfht/                    a complete cutout store of the CFHT cutouts; row i of both is pair i
    split        (object,)  str      "train" or "test"; train rows come first, then test rows
    separation   (object,)  float64  angular distance of the two catalog positions, arcsec
    peak_dx, peak_dy, peak_offset (object,) float32
                                     CFHT peak minus SDSS peak on the SDSS cutout grid, SDSS pixels
    sdss_row, cfht_row (object,) int64  row of each object in its raw store
    sdss_id, cfht_id   (object,) str    object identifiers

Each member store also carries ``split`` and ``source_row`` as extra arrays, so it is self-describing when
opened alone. Group attributes: ``format`` (``galtk-paired``), ``format_version``, ``surveys`` (member
names, reference grid first), ``n_train``, ``n_test``, ``crossmatch`` (the settings), ``provenance``.

``xarray.open_zarr(path)`` opens the pair table, ``xarray.open_zarr(path, group="sdss")`` one member, and
``xarray.open_datatree(path, engine="zarr")`` the whole tree.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from galtk import __version__
from galtk.errors import StoreError
from galtk.pipeline.stores.cutout_store import CutoutStore, ExtraArray, is_store

PAIRED_FORMAT = "galtk-paired"
PAIRED_FORMAT_VERSION = 1
SPLIT_EXTRA = ExtraArray("split", False, "str", "", "train or test")
"""The member stores' copy of the pair table's split."""
SOURCE_ROW_EXTRA = ExtraArray("source_row", False, "int64", "", "row of the object in the store copied from")
"""The row each member row was copied from (a raw store for the cross-match, the degraded store's source)."""


class PairedStore:
    """A paired store on disk; create with :meth:`create`, open with :meth:`open`.

    Parameters
    ----------
    group : zarr.Group
        The opened root group.
    path : Path
        Directory of the store.
    """

    def __init__(self, group: zarr.Group, path: Path) -> None:
        self._group = group
        self.path = path

    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        table: Mapping[str, tuple[np.ndarray, Mapping[str, Any]]],
        attributes: Mapping[str, Any],
    ) -> PairedStore:
        """Create the root group with its pair table; the member stores are then created by the caller.

        Parameters
        ----------
        path : str or Path
            Directory to create (must not exist).
        table : mapping of str to (ndarray, mapping)
            Per-pair arrays (one value per pair) and their attributes.
        attributes : mapping
            Group attributes (``surveys``, ``n_train``, ``n_test``, settings).

        Returns
        -------
        PairedStore
        """
        path = Path(path)
        if path.exists():
            raise StoreError(f"{path} already exists")
        group = zarr.open_group(str(path), mode="w", zarr_format=3)
        group.attrs.update(
            {
                "format": PAIRED_FORMAT,
                "format_version": PAIRED_FORMAT_VERSION,
                "status": "creating",
                **dict(attributes),
                "provenance": {
                    "galtk_version": __version__,
                    "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                    **dict(attributes.get("provenance", {})),
                },
            }
        )
        for name, (values, array_attributes) in table.items():
            values = np.asarray(values)
            is_text = values.dtype.kind in "UO"
            array = group.create_array(
                name,
                shape=values.shape,
                chunks=(max(1, min(len(values), 8192)),),
                dtype=str if is_text else values.dtype,
                fill_value="" if is_text else _fill(values.dtype),
                dimension_names=("object",),
                attributes=dict(array_attributes),
            )
            if len(values):
                array[:] = values.astype(object) if is_text else values
        return cls(group, path)

    @classmethod
    def open(cls, path: str | Path, mode: str = "r") -> PairedStore:
        """Open an existing, complete paired store (``mode`` ``"r"`` or ``"r+"``).

        Raises
        ------
        StoreError
            If ``path`` is not a complete paired store.
        """
        path = Path(path)
        if not is_paired_store(path):
            raise StoreError(f"{path} is not a galtk paired store")
        group = zarr.open_group(str(path), mode=mode, zarr_format=3, use_consolidated=False)
        if group.attrs.get("status") != "ready":
            raise StoreError(f"{path} was not completely created (its writer was interrupted); recreate it")
        return cls(group, path)

    @property
    def attrs(self) -> dict[str, Any]:
        """Group attributes (a copy)."""
        return dict(self._group.attrs)

    @property
    def surveys(self) -> tuple[str, ...]:
        """Member names, the reference grid's survey first."""
        return tuple(self._group.attrs["surveys"])

    @property
    def n_pairs(self) -> int:
        """Number of pairs (rows)."""
        return int(self._group["split"].shape[0])

    @property
    def split(self) -> np.ndarray:
        """``"train"`` or ``"test"`` for every pair."""
        return np.asarray(self._group["split"][:], dtype=object).astype(str)

    def column(self, name: str) -> np.ndarray:
        """One array of the pair table, read whole."""
        return self._group[name][:]

    def member_path(self, survey: str) -> Path:
        """Directory of the member store of ``survey``."""
        if survey not in self._group.attrs["surveys"]:
            raise KeyError(f"paired store has no member {survey!r}")
        return self.path / survey

    def member(self, survey: str, mode: str = "r") -> CutoutStore:
        """The member cutout store of ``survey``."""
        return CutoutStore.open(self.member_path(survey), mode=mode)

    def mark_ready(self) -> None:
        """Flag the store as completely written (after its members) and consolidate its metadata."""
        self._group.attrs["status"] = "ready"
        self.consolidate()

    def consolidate(self) -> None:
        """Refresh the consolidated metadata of the whole tree (after any member changed)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part")
            zarr.consolidate_metadata(str(self.path), zarr_format=3)


def is_paired_store(path: str | Path) -> bool:
    """True if ``path`` holds a galtk paired store (complete or not)."""
    path = Path(path)
    if not (path / "zarr.json").is_file() or is_store(path):
        return False
    try:
        group = zarr.open_group(str(path), mode="r", zarr_format=3, use_consolidated=False)
    except Exception:
        return False
    return group.attrs.get("format") == PAIRED_FORMAT


def _fill(dtype: np.dtype) -> Any:
    if dtype.kind == "f":
        return np.nan
    if dtype.kind in "iu":
        return -1 if dtype.kind == "i" else 0
    return None
