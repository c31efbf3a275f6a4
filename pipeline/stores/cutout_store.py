"""The cutout store: a zarr (format 3) group holding one survey's 5-band cutouts (SPEC section 8).

Layout of a store (a directory)::

    images  (object, band, y, x)  float32   pixels in the survey unit, NaN where nothing was written
    valid   (object, band)        bool      band holds real data
    state   (object,)             uint8     0 pending, 1 done, 2 failed (the row's commit flag)
    ra, dec (object,)             float64   cutout centre, degrees ICRS
    id      (object,)             str       object identifier
    band    (band,)               str       band names
    <extra> (object[, band])      float32 or str, declared by the source (e.g. noise_sigma, psf_fwhm)

Group attributes hold the survey, release, bands, pixel scale, cutout size, unit, the list of transforms
applied and the provenance (galtk version, creation time, source description).

Derived image arrays (``galtk preprocess`` adds ``rescaled`` and, for CFHT, ``regridded``) share the object
chunking of ``images``; each is written under a temporary name and renamed into place when complete
(:meth:`CutoutStore.create_image_array`, :meth:`CutoutStore.install_array`), and its transform is recorded
in the ``transforms`` attribute (:meth:`CutoutStore.add_transform`).

Crash safety: zarr writes each chunk file atomically (temporary file, then rename), and a row only counts
as written once its ``state`` flag says so, which is written after the row's pixels, validity and extras.
A killed writer therefore leaves rows that are either complete or still pending, never half-written rows
marked done; ``galtk fetch --resume`` redoes the pending ones. Arrays grow by ``append`` in a fixed order
with ``state`` last, so a store killed mid-append is repaired on the next writable open by trimming every
array to ``state``'s length.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import zarr

from galtk import __version__
from galtk.errors import StoreError
from galtk.pipeline.replace import check_creatable
from galtk.pipeline.surveys import SurveySpec

if TYPE_CHECKING:
    import xarray

FORMAT_NAME = "galtk-cutouts"
FORMAT_VERSION = 1

STATE_PENDING: int = 0
STATE_DONE: int = 1
STATE_FAILED: int = 2

#: Default number of objects per images chunk (see docs/data-model.md for the measurements behind it).
DEFAULT_CHUNK_OBJECTS = 32
_CATALOG_CHUNK = 8192
_EXTRA_FILL: dict[str, Any] = {"float32": np.nan, "str": "", "int64": -1}
#: Prefix of arrays still being written (see :meth:`CutoutStore.create_image_array`).
TEMPORARY_PREFIX = "_galtk_tmp_"
_RETIRED_PREFIX = "_galtk_old_"


@dataclass(frozen=True)
class ExtraArray:
    """A per-object (optionally per-band) array a source stores next to the images.

    Parameters
    ----------
    name : str
        Array name in the store.
    per_band : bool
        Shape (object, band) when true, else (object,).
    dtype : {"float32", "str", "int64"}
        Element type; float arrays are filled with NaN, string arrays with "", integer arrays with -1.
    unit : str
        Physical unit ("" when dimensionless).
    description : str
        One sentence for the array's ``long_name`` attribute.
    """

    name: str
    per_band: bool
    dtype: str
    unit: str
    description: str

    def __post_init__(self) -> None:
        if self.dtype not in _EXTRA_FILL:
            raise ValueError(
                f"extra array {self.name!r}: dtype must be 'float32', 'str' or 'int64', not {self.dtype!r}"
            )


@dataclass(frozen=True)
class StoreSchema:
    """What a cutout store holds: survey, grid, unit, chunking and extra per-object arrays.

    Parameters
    ----------
    survey : str
        Survey key (``"sdss"``, ``"cfht"``, ...).
    release : str
        Data release.
    bands : tuple of str
        Band names in store order.
    cutout_size : int
        Side of the square cutouts in pixels.
    pixel_scale : float
        Arcsec per pixel.
    unit : str
        Pixel unit (FITS BUNIT spelling).
    chunk_objects : int
        Objects per images chunk.
    extras : tuple of ExtraArray
        Additional per-object arrays.
    """

    survey: str
    release: str
    bands: tuple[str, ...]
    cutout_size: int
    pixel_scale: float
    unit: str
    chunk_objects: int = DEFAULT_CHUNK_OBJECTS
    extras: tuple[ExtraArray, ...] = ()

    @classmethod
    def for_survey(
        cls,
        spec: SurveySpec,
        *,
        chunk_objects: int = DEFAULT_CHUNK_OBJECTS,
        extras: Sequence[ExtraArray] = (),
    ) -> StoreSchema:
        """Schema for cutouts of ``spec`` (bands, size, scale and unit taken from the survey)."""
        return cls(
            survey=spec.name,
            release=spec.release,
            bands=tuple(spec.bands),
            cutout_size=spec.cutout_size,
            pixel_scale=spec.pixel_scale,
            unit=spec.unit,
            chunk_objects=chunk_objects,
            extras=tuple(extras),
        )

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """Shape (band, y, x) of one object's cutout."""
        return (len(self.bands), self.cutout_size, self.cutout_size)


@dataclass
class CutoutBatch:
    """Consecutive rows of a cutout store.

    Attributes
    ----------
    images : ndarray, shape (n, band, y, x), float32
    valid : ndarray, shape (n, band), bool
    state : ndarray, shape (n,), uint8
        ``STATE_DONE`` or ``STATE_FAILED`` for rows being written.
    extras : dict of str to ndarray
        One entry per extra array of the schema.
    """

    images: np.ndarray
    valid: np.ndarray
    state: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.state)


class CutoutStore:
    """A zarr cutout store on disk; create with :meth:`create`, open with :meth:`open`.

    Parameters
    ----------
    group : zarr.Group
        The opened root group (use :meth:`create` or :meth:`open` rather than this constructor).
    path : Path
        Directory of the store.
    """

    def __init__(self, group: zarr.Group, path: Path) -> None:
        self._group = group
        self.path = path
        attrs = dict(group.attrs)
        self.schema = StoreSchema(
            survey=attrs["survey"],
            release=attrs["release"],
            bands=tuple(attrs["bands"]),
            cutout_size=int(attrs["cutout_size"]),
            pixel_scale=float(attrs["pixel_scale"]),
            unit=attrs["units"],
            chunk_objects=int(group["images"].chunks[0]),
            extras=tuple(ExtraArray(**spec) for spec in attrs.get("extras", [])),
        )

    # ------------------------------------------------------------------ creation and opening
    @classmethod
    def create(
        cls,
        path: str | Path,
        schema: StoreSchema,
        *,
        ra: np.ndarray | None = None,
        dec: np.ndarray | None = None,
        ids: Sequence[str] | np.ndarray | None = None,
        source: Mapping[str, Any] | None = None,
        overwrite: bool = False,
    ) -> CutoutStore:
        """Create a store, optionally pre-allocated for known objects (all rows pending).

        Parameters
        ----------
        path : str or Path
            Directory to create.
        schema : StoreSchema
            Survey, grid, chunking and extra arrays.
        ra, dec, ids : array_like, optional
            Objects to pre-allocate rows for; give all three or none.
        source : mapping, optional
            Description of where the pixels come from, saved under ``provenance["source"]``.
        overwrite : bool
            Replace an existing store at ``path``; otherwise an existing path is an error.

        Returns
        -------
        CutoutStore
            Opened for writing.

        Raises
        ------
        StoreError
            If ``path`` exists and ``overwrite`` is false, or its parent is not writable.
        """
        path = Path(path)
        if (ra is None) != (dec is None) or (ra is None) != (ids is None):
            raise ValueError("give ra, dec and ids together, or none of them")
        n_objects = 0 if ra is None else len(ra)
        if path.exists():
            if not overwrite:
                raise StoreError(f"{path} already exists; pass overwrite to replace it")
            _remove(path)
        check_creatable(path)

        group = zarr.open_group(str(path), mode="w", zarr_format=3)
        group.attrs.update(_group_attributes(schema, source))
        bands = len(schema.bands)
        size = schema.cutout_size
        group.create_array(
            "images",
            shape=(n_objects, bands, size, size),
            chunks=(schema.chunk_objects, bands, size, size),
            dtype="float32",
            fill_value=np.nan,
            compressors=None,  # float32 sky noise barely compresses; see docs/data-model.md
            dimension_names=("object", "band", "y", "x"),
            attributes={
                "units": schema.unit,
                "long_name": f"{schema.survey} cutouts",
                "coordinates": "ra dec id",
            },
        )
        _create_object_array(
            group, "valid", n_objects, bands, "bool", False, {"long_name": "band holds data"}
        )
        _create_object_array(
            group,
            "state",
            n_objects,
            None,
            "uint8",
            STATE_PENDING,
            {"long_name": "row state", "flag_values": [0, 1, 2], "flag_meanings": "pending done failed"},
        )
        for name, unit, long_name in (
            ("ra", "deg", "right ascension of the cutout centre (ICRS)"),
            ("dec", "deg", "declination of the cutout centre (ICRS)"),
        ):
            _create_object_array(
                group, name, n_objects, None, "float64", np.nan, {"units": unit, "long_name": long_name}
            )
        _create_object_array(group, "id", n_objects, None, str, "", {"long_name": "object identifier"})
        group.create_array("band", shape=(bands,), dtype=str, fill_value="", dimension_names=("band",))[:] = (
            np.array(schema.bands, dtype=object)
        )
        for extra in schema.extras:
            attributes = {"long_name": extra.description}
            if extra.unit:
                attributes["units"] = extra.unit
            fill = _EXTRA_FILL[extra.dtype]
            dtype = str if extra.dtype == "str" else extra.dtype
            _create_object_array(
                group, extra.name, n_objects, bands if extra.per_band else None, dtype, fill, attributes
            )
        if n_objects:
            group["ra"][:] = np.asarray(ra, dtype=np.float64)
            group["dec"][:] = np.asarray(dec, dtype=np.float64)
            group["id"][:] = np.asarray(ids, dtype=object)
        group.attrs["status"] = "ready"
        store = cls(group, path)
        store._consolidate()
        return store

    @classmethod
    def open(cls, path: str | Path, mode: str = "r") -> CutoutStore:
        """Open an existing store.

        Parameters
        ----------
        path : str or Path
            Store directory.
        mode : {"r", "r+"}
            Read-only, or read-write (repairs an interrupted append and sweeps stray temporary files).

        Returns
        -------
        CutoutStore

        Raises
        ------
        StoreError
            If ``path`` is not a complete galtk cutout store.
        """
        path = Path(path)
        if mode not in ("r", "r+"):
            raise ValueError(f"mode must be 'r' or 'r+', not {mode!r}")
        if not is_store(path):
            raise StoreError(f"{path} is not a galtk cutout store")
        if not is_ready(path):
            raise StoreError(f"{path} was not completely created (its writer was interrupted); recreate it")
        group = _open_group(path, mode)
        store = cls(group, path)
        if mode == "r+":
            store._repair()
        return store

    def _repair(self) -> None:
        """Trim arrays an interrupted append left longer than ``state``; drop stray temporary files."""
        n = self._group["state"].shape[0]
        trimmed = False
        for name in self._object_array_names():
            array = self._group[name]
            if array.shape[0] != n:
                array.resize((n, *array.shape[1:]))
                trimmed = True
        for partial in self.path.rglob("*.partial"):
            if partial.is_file():
                partial.unlink(missing_ok=True)
        leftovers = self._recover_retired_arrays()
        for name in list(self._group.array_keys()):
            if name.startswith(TEMPORARY_PREFIX):
                _remove(self.path / name)
                leftovers = True
        if leftovers:
            self._reopen()
        if trimmed or leftovers:
            self._consolidate()

    def _consolidate(self) -> None:
        """Refresh the consolidated metadata xarray reads (galtk itself always reads the real metadata)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part")
            zarr.consolidate_metadata(str(self.path), zarr_format=3)

    # ------------------------------------------------------------------ properties
    @property
    def attrs(self) -> dict[str, Any]:
        """Group attributes (a copy)."""
        return dict(self._group.attrs)

    @property
    def n_objects(self) -> int:
        """Number of rows."""
        return int(self._group["state"].shape[0])

    @property
    def images(self) -> zarr.Array:
        """The (object, band, y, x) image array; index it like a numpy array."""
        return self._group["images"]

    @property
    def ra(self) -> np.ndarray:
        """Cutout-centre right ascensions in degrees."""
        return self._group["ra"][:]

    @property
    def dec(self) -> np.ndarray:
        """Cutout-centre declinations in degrees."""
        return self._group["dec"][:]

    @property
    def ids(self) -> np.ndarray:
        """Object identifiers."""
        return np.asarray(self._group["id"][:], dtype=object)

    @property
    def state(self) -> np.ndarray:
        """Row states (``STATE_PENDING``, ``STATE_DONE``, ``STATE_FAILED``)."""
        return self._group["state"][:]

    @property
    def valid(self) -> zarr.Array:
        """The (object, band) validity array."""
        return self._group["valid"]

    def extra(self, name: str) -> np.ndarray:
        """Read a whole extra per-object array."""
        if name not in {extra.name for extra in self.schema.extras}:
            raise KeyError(f"store has no extra array {name!r}")
        return self._group[name][:]

    def pending(self) -> np.ndarray:
        """Indices of rows not yet written."""
        return np.flatnonzero(self.state == STATE_PENDING)

    def counts(self) -> dict[str, int]:
        """Number of rows per state."""
        state = self.state
        return {
            "objects": int(state.size),
            "done": int(np.count_nonzero(state == STATE_DONE)),
            "failed": int(np.count_nonzero(state == STATE_FAILED)),
            "pending": int(np.count_nonzero(state == STATE_PENDING)),
        }

    # ------------------------------------------------------------------ reading
    def read(self, rows: slice | np.ndarray) -> CutoutBatch:
        """Read rows (a slice or sorted integer indices) with their validity, state and extras."""
        if not isinstance(rows, slice):
            rows = np.asarray(rows)

        def take(name: str) -> np.ndarray:
            array = self._group[name]
            return array[rows] if isinstance(rows, slice) else array.oindex[rows]

        return CutoutBatch(
            images=take("images"),
            valid=take("valid"),
            state=take("state"),
            extras={extra.name: take(extra.name) for extra in self.schema.extras},
        )

    def to_xarray(self, **open_kwargs: Any) -> xarray.Dataset:
        """Open the store as a lazy, labelled :class:`xarray.Dataset` (keywords go to ``xr.open_zarr``)."""
        import xarray as xr

        return xr.open_zarr(self.path, **open_kwargs)

    # ------------------------------------------------------------------ writing
    def write_rows(self, start: int, batch: CutoutBatch) -> None:
        """Write consecutive rows ``start .. start + len(batch)`` of a pre-allocated store.

        Pixels, validity and extras go first and ``state`` last, so an interruption leaves the rows pending.
        Writes aligned to ``schema.chunk_objects`` rewrite no other rows' chunks.
        """
        stop = start + len(batch)
        if start < 0 or stop > self.n_objects:
            raise IndexError(f"rows {start}:{stop} outside the store's {self.n_objects} rows")
        self._check_batch(batch)
        rows = slice(start, stop)
        self._group["images"][rows] = batch.images
        self._group["valid"][rows] = batch.valid
        for extra in self.schema.extras:
            self._group[extra.name][rows] = _as_stored(batch.extras[extra.name], extra)
        self._group["state"][rows] = batch.state

    def append(
        self, batch: CutoutBatch, *, ra: np.ndarray, dec: np.ndarray, ids: Sequence[str] | np.ndarray
    ) -> None:
        """Append rows for new objects.

        Parameters
        ----------
        batch : CutoutBatch
            Pixels, validity, state and extras of the new rows.
        ra, dec : ndarray
            Positions of the new objects in degrees.
        ids : sequence of str
            Identifiers of the new objects.
        """
        self._check_batch(batch)
        derived = self.derived_arrays()
        if derived:
            raise StoreError(
                f"{self.path} holds derived arrays ({', '.join(derived)}) that new rows would leave stale; "
                "append to the raw store and preprocess again"
            )
        n = len(batch)
        if not len(ra) == len(dec) == len(ids) == n:
            raise ValueError("ra, dec and ids must have one entry per row of the batch")
        start = self.n_objects
        stop = start + n
        for name in self._object_array_names():  # state comes last: it defines the row count
            array = self._group[name]
            array.resize((stop, *array.shape[1:]))
        self._group["ra"][start:stop] = np.asarray(ra, dtype=np.float64)
        self._group["dec"][start:stop] = np.asarray(dec, dtype=np.float64)
        self._group["id"][start:stop] = np.asarray(ids, dtype=object)
        self.write_rows(start, batch)
        self._consolidate()

    def set_attrs(self, **attributes: Any) -> None:
        """Update group attributes (JSON-serialisable values)."""
        self._group.attrs.update(attributes)
        self._consolidate()

    # ------------------------------------------------------------------ derived image arrays
    def create_image_array(
        self,
        name: str,
        *,
        size: int | None = None,
        dims: tuple[str, str] = ("y", "x"),
        attributes: Mapping[str, Any] | None = None,
    ) -> str:
        """Create an empty (object, band, y, x) float32 array beside ``images`` under a temporary name.

        The array has the object chunking of ``images``, NaN fill and no compression. Write its rows (for
        example with :meth:`array`), then call :meth:`install_array` to give it its final ``name``; until
        then readers never see it, and a writable :meth:`open` deletes it if its writer died.

        Parameters
        ----------
        name : str
            Final array name (``rescaled``, ``regridded``, ...).
        size : int, optional
            Side of the images in pixels (default: the store's cutout size).
        dims : tuple of str
            Names of the two pixel dimensions. xarray needs names other than ``("y", "x")`` for a size
            other than the cutout size.
        attributes : mapping, optional
            Array attributes (``units``, ``long_name``, ...); ``coordinates`` is added.

        Returns
        -------
        str
            The temporary name to write to.
        """
        self._check_writable()
        if name in {*self._object_array_names(), "band"} or name.startswith("_"):
            raise ValueError(f"{name!r} cannot be the name of a derived image array")
        size = self.schema.cutout_size if size is None else int(size)
        if size != self.schema.cutout_size and tuple(dims) == ("y", "x"):
            raise ValueError(f"a {size}-pixel array needs its own dimension names, not ('y', 'x')")
        temporary = TEMPORARY_PREFIX + name
        if temporary in set(self._group.array_keys()):
            self.delete_array(temporary)
        bands = len(self.schema.bands)
        self._group.create_array(
            temporary,
            shape=(self.n_objects, bands, size, size),
            chunks=(self.schema.chunk_objects, bands, size, size),
            dtype="float32",
            fill_value=np.nan,
            compressors=None,
            dimension_names=("object", "band", *dims),
            attributes={**dict(attributes or {}), "coordinates": "ra dec id"},
        )
        return temporary

    def install_array(self, temporary: str, name: str) -> None:
        """Rename a completely written temporary array to ``name``, replacing an existing ``name``.

        The previous array is moved aside first and deleted last, so a crash leaves either the old or the
        new array under ``name`` (a writable :meth:`open` puts the old one back if the swap was cut short).
        Consolidated metadata is refreshed.
        """
        self._check_writable()
        if name in {*self._object_array_names(), "band"} or name.startswith("_"):
            raise ValueError(f"{name!r} cannot be the name of a derived image array")
        arrays = set(self._group.array_keys())
        if temporary not in arrays:
            raise StoreError(f"{self.path} has no array {temporary!r} to install")
        retired = self.path / (_RETIRED_PREFIX + name)
        if retired.exists():
            _remove(retired)
        if name in arrays:
            os.replace(self.path / name, retired)
        os.replace(self.path / temporary, self.path / name)
        if retired.exists():
            _remove(retired)
        self._reopen()
        self._consolidate()

    def delete_array(self, name: str) -> None:
        """Delete a derived or temporary array (the arrays of the raw layout cannot be deleted)."""
        self._check_writable()
        if name in self._object_array_names() or name == "band":
            raise ValueError(f"{name!r} is part of the cutout store layout and cannot be deleted")
        target = self.path / name
        if target.exists():
            _remove(target)
        self._reopen()
        self._consolidate()

    def has_array(self, name: str) -> bool:
        """True if the store holds an array called ``name``."""
        return name in set(self._group.array_keys())

    def array(self, name: str) -> zarr.Array:
        """The zarr array called ``name`` (derived, temporary or part of the layout)."""
        if not self.has_array(name):
            raise KeyError(f"store {self.path} has no array {name!r}")
        return self._group[name]

    def derived_arrays(self) -> list[str]:
        """Names of the installed derived image arrays (``rescaled``, ``regridded``, ...)."""
        layout = {*self._object_array_names(), "band"}
        return sorted(
            name for name in self._group.array_keys() if name not in layout and not name.startswith("_")
        )

    @property
    def transforms(self) -> list[dict[str, Any]]:
        """The transform records of the ``transforms`` attribute (oldest first)."""
        return [dict(record) for record in self._group.attrs.get("transforms", [])]

    def add_transform(self, record: Mapping[str, Any], *, replace: bool = False) -> None:
        """Append a transform record to the ``transforms`` attribute.

        Parameters
        ----------
        record : mapping
            JSON-serialisable description; its ``array`` key names the array the transform produced.
        replace : bool
            Drop earlier records for the same ``array`` first (the array was recomputed).
        """
        self._check_writable()
        records = self.transforms
        if replace:
            records = [item for item in records if item.get("array") != record.get("array")]
        records.append(dict(record))
        self._group.attrs["transforms"] = records
        self._consolidate()

    def consolidate(self) -> None:
        """Refresh the consolidated metadata that ``xarray.open_zarr`` reads."""
        self._consolidate()

    def _reopen(self) -> None:
        self._group = _open_group(self.path, "r+")

    def _recover_retired_arrays(self) -> bool:
        """Finish a swap of :meth:`install_array` that a crash interrupted; True if there was one."""
        found = False
        for retired in self.path.glob(_RETIRED_PREFIX + "*"):
            found = True
            name = retired.name[len(_RETIRED_PREFIX) :]
            if (self.path / name).exists():
                _remove(retired)
            else:
                os.replace(retired, self.path / name)
        return found

    def _check_writable(self) -> None:
        if self._group.read_only:
            raise StoreError(f"{self.path} was opened read-only; open it with mode='r+' to change it")

    def _object_array_names(self) -> list[str]:
        names = ["images", "valid", *(extra.name for extra in self.schema.extras), "ra", "dec", "id"]
        return [*names, "state"]

    def _check_batch(self, batch: CutoutBatch) -> None:
        n = len(batch)
        expected = (n, *self.schema.image_shape)
        if batch.images.shape != expected:
            raise ValueError(f"images have shape {batch.images.shape}, expected {expected}")
        if batch.valid.shape != (n, len(self.schema.bands)):
            raise ValueError(f"valid has shape {batch.valid.shape}, expected {(n, len(self.schema.bands))}")
        missing = {extra.name for extra in self.schema.extras} - set(batch.extras)
        if missing:
            raise ValueError(f"batch lacks extra arrays: {', '.join(sorted(missing))}")


def is_store(path: str | Path) -> bool:
    """True if ``path`` holds a galtk cutout store (complete or not)."""
    metadata = Path(path) / "zarr.json"
    if not metadata.is_file():
        return False
    try:
        group = _open_group(Path(path), "r")
    except Exception:
        return False
    return group.attrs.get("format") == FORMAT_NAME


def is_ready(path: str | Path) -> bool:
    """True if the store at ``path`` was completely created."""
    return _open_group(Path(path), "r").attrs.get("status") == "ready"


def remove_store(path: str | Path) -> None:
    """Delete a store directory (refuses paths that are not galtk stores)."""
    path = Path(path)
    if not is_store(path):
        raise StoreError(f"refusing to delete {path}: not a galtk cutout store")
    _remove(path)


def _open_group(path: Path, mode: str) -> zarr.Group:
    return zarr.open_group(str(path), mode=mode, zarr_format=3, use_consolidated=False)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _group_attributes(schema: StoreSchema, source: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "status": "creating",
        "survey": schema.survey,
        "release": schema.release,
        "bands": list(schema.bands),
        "cutout_size": schema.cutout_size,
        "pixel_scale": schema.pixel_scale,
        "pixel_scale_unit": "arcsec/pixel",
        "units": schema.unit,
        "transforms": [],
        "extras": [
            {
                "name": extra.name,
                "per_band": extra.per_band,
                "dtype": extra.dtype,
                "unit": extra.unit,
                "description": extra.description,
            }
            for extra in schema.extras
        ],
        "provenance": {
            "galtk_version": __version__,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "source": dict(source or {}),
        },
    }


def _create_object_array(
    group: zarr.Group,
    name: str,
    n_objects: int,
    bands: int | None,
    dtype: Any,
    fill_value: Any,
    attributes: dict[str, Any],
) -> None:
    shape = (n_objects,) if bands is None else (n_objects, bands)
    chunks = (_CATALOG_CHUNK,) if bands is None else (_CATALOG_CHUNK, bands)
    dims = ("object",) if bands is None else ("object", "band")
    group.create_array(
        name,
        shape=shape,
        chunks=chunks,
        dtype=dtype,
        fill_value=fill_value,
        dimension_names=dims,
        attributes=attributes,
    )


def _as_stored(values: np.ndarray, extra: ExtraArray) -> np.ndarray:
    if extra.dtype == "str":
        return np.asarray(values, dtype=object)
    if extra.dtype == "int64":
        return np.asarray(values, dtype=np.int64)
    return np.asarray(values, dtype=np.float32)
