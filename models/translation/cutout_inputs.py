"""Many cutouts to translate (batch mode): directories, glob patterns, lists of files and cutout stores.

:func:`iter_inputs` expands what the user named into inputs, known before reading any pixels (so a progress
bar knows the total):

- a FITS file (``.fits``, ``.fit``, ``.fts``, optionally ``.gz``/``.bz2``/``.fz``) or a glob pattern (``**``
  recurses); a directory stands for the FITS files directly inside it;
- files holding a single 2-D image are grouped into one cutout when their names differ only by a band token
  (``obj7_u.fits`` ... ``obj7_z.fits``, also ``i2``/``y`` for CFHT's second i filter); other files are one
  cutout each;
- a galtk cutout store (a zarr directory written by ``galtk fetch``): one cutout per row, its ``images`` in
  the store's unit, centred on the row's ra/dec.

Iterating yields each good :class:`~galtk.models.translation.cutout_fits.InputCutout`; a bad input (any
:class:`~galtk.errors.InputCutoutError`) is skipped and recorded in
:attr:`InputBatch.rejected` with the file and the reason, and iteration goes on.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits

from galtk.errors import (
    GaltkError,
    InputCutoutError,
    MissingBands,
    NonFinitePixels,
    StoreError,
    SurveyMismatch,
    UnitError,
    UnreadableInput,
)
from galtk.models.translation.cutout_fits import InputCutout, read_cutout
from galtk.models.translation.cutout_survey import UNITS, normalise_units, resolve_survey
from galtk.pipeline.fits_headers import band_of
from galtk.pipeline.stores.cutout_store import STATE_DONE, STATE_PENDING, CutoutStore, is_store
from galtk.pipeline.surveys import BANDS, SURVEYS, SurveySpec

FITS_SUFFIXES = (".fits", ".fit", ".fts")
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".fz")
_GLOB_CHARACTERS = re.compile(r"[*?\[]")
_IMAGE_HDUS = (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)


@dataclass(frozen=True)
class RejectedInput:
    """An input that was skipped: ``source`` names the file(s) or store row, ``reason`` says why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass(frozen=True)
class _Files:
    """The files of one cutout."""

    paths: tuple[Path, ...]

    def __len__(self) -> int:
        return 1


@dataclass(frozen=True)
class _StoreRows:
    """Every row of a cutout store (checked usable as a whole)."""

    path: Path
    rows: int
    survey: SurveySpec

    def __len__(self) -> int:
        return self.rows


class InputBatch:
    """The cutouts of a batch; iterate for the good ones, then read :attr:`rejected`.

    Use :func:`iter_inputs` to build one. ``len()`` is the number of inputs (cutouts, good or bad) known up
    front; every one of them ends up either yielded or in :attr:`rejected`.

    Attributes
    ----------
    rejected : list of RejectedInput
        Inputs skipped so far, in order, with their reason.
    """

    def __init__(
        self,
        items: Sequence[_Files | _StoreRows],
        rejected: Sequence[RejectedInput],
        *,
        survey: SurveySpec | None,
        units: str | None,
    ) -> None:
        self._items = tuple(items)
        self._survey = survey
        self._units = units
        self._early = tuple(rejected)
        self.rejected: list[RejectedInput] = list(rejected)

    def __len__(self) -> int:
        return sum(len(item) for item in self._items) + len(self._early)

    def __iter__(self) -> Iterator[InputCutout]:
        self.rejected = list(self._early)
        for item in self._items:
            if isinstance(item, _Files):
                try:
                    yield read_cutout(item.paths, survey=self._survey, units=self._units)
                except InputCutoutError as error:
                    self.rejected.append(RejectedInput(error.source, error.problem))
            else:
                yield from self._store_rows(item)

    def _store_rows(self, item: _StoreRows) -> Iterator[InputCutout]:
        store = CutoutStore.open(item.path)
        ra, dec, ids, state = store.ra, store.dec, store.ids, store.state
        bands = tuple(store.schema.bands)
        step = store.schema.chunk_objects
        for start in range(0, store.n_objects, step):
            stop = min(start + step, store.n_objects)
            batch = store.read(slice(start, stop))
            for offset in range(stop - start):
                row = start + offset
                label = f"{item.path}[{row}] (id {ids[row]})"
                try:
                    _check_row(label, int(state[row]), batch.valid[offset], batch.images[offset], bands)
                except InputCutoutError as error:
                    self.rejected.append(RejectedInput(error.source, error.problem))
                    continue
                yield InputCutout(
                    data=np.array(batch.images[offset], dtype=np.float32),
                    bands=bands,
                    survey=item.survey,
                    units=store.schema.unit,
                    centre=SkyCoord(float(ra[row]), float(dec[row]), unit="deg", frame="icrs"),
                    sources=(f"{item.path}[{row}]",),
                    label=label,
                    header=fits.Header({"OBJECT": str(ids[row])}),
                    calibration=f"store unit {store.schema.unit}",
                    grid="as is",
                    object_id=str(ids[row]),
                )


def iter_inputs(
    spec: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    survey: SurveySpec | str | None = None,
    units: str | None = None,
) -> InputBatch:
    """The cutouts named by ``spec`` (see the module docstring).

    Parameters
    ----------
    spec : path, glob pattern, or a sequence of them
        FITS files, directories of FITS files, glob patterns and cutout stores.
    survey : SurveySpec or str, optional
        Input survey of every cutout (inferred per cutout when not given).
    units : str, optional
        Pixel unit of every FITS input (stores carry their own unit and must agree).

    Returns
    -------
    InputBatch

    Raises
    ------
    GaltkError
        If ``spec`` names no input at all, or ``survey``/``units`` is unknown.
    """
    entries = [spec] if isinstance(spec, str | os.PathLike) else list(spec)
    chosen_survey = resolve_survey(survey)
    chosen_units = normalise_units(units)
    files: dict[str, Path] = {}
    stores: list[_StoreRows] = []
    rejected: list[RejectedInput] = []
    for entry in entries:
        for path, problem in _expand(str(entry)):
            if problem is not None:
                rejected.append(RejectedInput(str(path), problem))
            elif is_store(path):
                try:
                    stores.append(_open_store(path, chosen_survey, chosen_units))
                except InputCutoutError as error:
                    rejected.append(RejectedInput(error.source, error.problem))
            else:
                files.setdefault(str(path.resolve()), path)
    items: list[_Files | _StoreRows] = [*_group_band_files(list(files.values())), *stores]
    if not items:
        reasons = "; ".join(str(entry) for entry in rejected) or "nothing matched"
        raise GaltkError(f"no input to translate in {', '.join(map(str, entries))} ({reasons})")
    return InputBatch(items, rejected, survey=chosen_survey, units=chosen_units)


def is_fits_name(path: Path) -> bool:
    """True for FITS file names (``.fits``, ``.fit``, ``.fts``, optionally compressed)."""
    name = path.name.lower()
    for suffix in COMPRESSION_SUFFIXES:
        name = name.removesuffix(suffix)
    return name.endswith(FITS_SUFFIXES)


def _expand(entry: str) -> list[tuple[Path, str | None]]:
    """The files and stores one entry names, or the entry with the reason it names nothing."""
    if _GLOB_CHARACTERS.search(entry):
        matches = sorted(Path(match) for match in glob.glob(entry, recursive=True))
        found = [(path, None) for path in matches if path.is_file() or is_store(path)]
        return found or [(Path(entry), "matches no file or cutout store")]
    path = Path(entry)
    if not path.exists():
        return [(path, "no such file or directory")]
    if path.is_dir() and not is_store(path):
        children = sorted(path.iterdir())
        found = [(child, None) for child in children if child.is_file() and is_fits_name(child)]
        members = [child.name for child in children if is_store(child)]
        if not found and members:  # e.g. the paired store of galtk crossmatch
            return [
                (path, f"is not a cutout store; name one of the cutout stores in it ({', '.join(members)})")
            ]
        return found or [(path, "holds no FITS file (.fits, .fit, .fts, optionally compressed)")]
    return [(path, None)]


def _group_band_files(paths: list[Path]) -> list[_Files]:
    """One item per cutout: single-image files whose names differ only by a band token go together."""
    groups: dict[str, list[Path]] = {}
    for path in sorted(paths):
        key = _band_group_key(path) if _holds_single_image(path) else None
        groups.setdefault(key or str(path), []).append(path)
    return [_Files(tuple(members)) for members in groups.values()]


def _band_group_key(path: Path) -> str | None:
    """The file's path with its last band token replaced by ``{band}``, or None if its name has none."""
    parts = re.split(r"([-_.])", path.name)
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] not in ("", "-", "_", ".") and band_of(parts[index], BANDS):
            return str(path.parent / "".join([*parts[:index], "{band}", *parts[index + 1 :]]))
    return None


def _holds_single_image(path: Path) -> bool:
    """True if the file's only data is one 2-D image (a single-band file); False if unreadable."""
    try:
        with fits.open(path, lazy_load_hdus=True) as hdus:
            shapes = [hdu.shape for hdu in hdus if isinstance(hdu, _IMAGE_HDUS) and hdu.header.get("NAXIS")]
    except (OSError, ValueError, TypeError, KeyError, EOFError):
        return False
    squeezed = [tuple(n for n in shape if n != 1) for shape in shapes]
    return len(squeezed) == 1 and len(squeezed[0]) == 2


def _open_store(path: Path, survey: SurveySpec | None, units: str | None) -> _StoreRows:
    """A store's rows, once its survey, grid and unit are checked against the user's choices."""
    label = str(path)
    try:
        store = CutoutStore.open(path)
    except StoreError as error:
        raise UnreadableInput(label, str(error).removeprefix(f"{path} ")) from None
    schema = store.schema
    spec = SURVEYS.get(schema.survey)
    if spec is None:
        raise SurveyMismatch(
            label, f"holds {schema.survey!r} cutouts; galtk translates {' or '.join(SURVEYS)}"
        )
    if survey is not None and survey.name != spec.name:
        raise SurveyMismatch(label, f"holds {spec.title} cutouts, not {survey.title} ones")
    if (schema.cutout_size, schema.pixel_scale) != (spec.cutout_size, spec.pixel_scale):
        raise SurveyMismatch(
            label,
            f'its cutouts ({schema.cutout_size} px at {schema.pixel_scale}"/px) are not on the {spec.title} '
            f'grid ({spec.cutout_size} px at {spec.pixel_scale}"/px)',
        )
    if schema.unit not in UNITS:
        raise UnitError(label, f"its unit {schema.unit!r} is not one galtk converts ({' or '.join(UNITS)})")
    if units is not None and units != schema.unit:
        raise UnitError(label, f"its pixels are in {schema.unit}, not {units} as given")
    return _StoreRows(path, store.n_objects, spec)


def _check_row(label: str, state: int, valid: np.ndarray, images: np.ndarray, bands: tuple[str, ...]) -> None:
    if state != STATE_DONE:
        reason = "not fetched yet" if state == STATE_PENDING else "its fetch failed"
        raise UnreadableInput(label, f"no cutout: {reason}")
    missing = [band for band, ok in zip(bands, valid, strict=True) if not ok]
    if missing:
        raise MissingBands(label, f"no data in band(s) {' '.join(missing)}")
    bad = int(np.count_nonzero(~np.isfinite(images)))
    if bad:
        raise NonFinitePixels(label, f"{bad} NaN or infinite pixel(s)")


def output_stem(cutout: InputCutout) -> str:
    """A file-name stem for the outputs of a cutout: its file's name without FITS suffixes or band token.

    ``galaxy.fits`` -> ``galaxy``; the band files ``obj7_u.fits`` ... ``obj7_z.fits`` -> ``obj7``; row 12 of
    ``sdss.zarr`` with id 1234 -> ``sdss_1234``. Characters other than letters, digits and ``._+-`` become
    ``_``.

    Parameters
    ----------
    cutout : InputCutout
        An input of :func:`iter_inputs` or :func:`galtk.models.translation.cutout_fits.read_cutout`.

    Returns
    -------
    str
    """
    source = cutout.sources[0]
    row = re.fullmatch(r"(.*)\[(\d+)\]", source)
    if row is not None and is_store(Path(row.group(1))):
        stem = f"{Path(row.group(1)).stem}_{cutout.object_id or row.group(2)}"
    else:
        path = Path(source)
        if len(cutout.sources) > 1:
            path = Path((_band_group_key(path) or str(path)).replace("{band}", ""))
        stem = path.name
        lowered = stem.lower()
        for suffix in (*COMPRESSION_SUFFIXES, *FITS_SUFFIXES):
            if lowered.endswith(suffix):
                stem, lowered = stem[: -len(suffix)], lowered[: -len(suffix)]
        stem = stem.strip("-_.") or "cutout"
    return re.sub(r"[^A-Za-z0-9._+-]", "_", stem)
