"""Object catalogs from files: the sample of objects an archive source cuts out.

A catalog file holds one row per object with a right ascension, a declination (degrees, ICRS) and optionally
an identifier, or only a name (``NGC 4565``), resolved to a position by Sesame (:mod:`galtk.catalogs.names`).
CSV, ECSV and FITS tables are read with astropy; column names are matched case-insensitively
among common spellings (``ra``/``raj2000``/``alpha``, ``dec``/``dej2000``/``delta``, ``id``/``objid``/
``name``...). Rows with missing or out-of-range coordinates and duplicates (same identifier, or positions
closer than 0.1 arcsec) are dropped, and counted, so one bad row never stops a week-long fetch.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import Column, Table

from galtk.errors import CatalogError

RA_NAMES = ("ra", "raj2000", "ra_icrs", "alpha", "alpha_j2000", "ra_deg")
DEC_NAMES = ("dec", "dej2000", "decj2000", "dec_icrs", "delta", "delta_j2000", "dec_deg")
ID_NAMES = ("id", "objid", "object_id", "objectid", "specobjid", "name", "source_id")
#: Columns of a list of object names (a catalog without positions, resolved by Sesame).
NAME_LIST_NAMES = ("name", "object", "objname", "main_id")
_FORMATS = {".csv": "ascii.csv", ".ecsv": "ascii.ecsv", ".fits": "fits", ".fit": "fits", ".fts": "fits"}
_DUPLICATE_ARCSEC = 0.1


@dataclass(frozen=True)
class ObjectCatalog:
    """Objects read from a catalog file, and what was dropped on the way.

    Attributes
    ----------
    ids : ndarray of str
        Identifiers (the row number in the file, from 0, when the file has no identifier column).
    ra, dec : ndarray of float64
        Positions in degrees.
    dropped : dict of str to int
        Rows dropped per reason: ``"bad coordinates"``, ``"duplicate id"``, ``"duplicate position"``.
    """

    ids: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    dropped: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


def read_object_catalog(path: str | Path) -> ObjectCatalog:
    """Read an object catalog (CSV, ECSV or FITS table).

    Parameters
    ----------
    path : str or Path
        Catalog file; the format follows the extension (.csv, .ecsv, .fits/.fit/.fts, optionally .gz).

    Returns
    -------
    ObjectCatalog

    Raises
    ------
    CatalogError
        If the file is missing or unreadable, or has no recognisable ra/dec columns.
    """
    path = Path(path)
    suffixes = [suffix.lower() for suffix in path.suffixes if suffix.lower() != ".gz"]
    fmt = _FORMATS.get(suffixes[-1] if suffixes else "")
    if fmt is None:
        raise CatalogError(f"{path}: unknown catalog format; use .csv, .ecsv or .fits")
    if path.is_dir():
        raise CatalogError(f"catalog {path} is a directory, not a catalog file")
    if not path.is_file():
        raise CatalogError(f"catalog {path} does not exist")
    _sniff(path, fmt)
    try:
        table = Table.read(path, format=fmt)
    except Exception as error:  # astropy raises many types for malformed files
        raise CatalogError(f"cannot read catalog {path}: {error}") from None
    if _find_column(table, RA_NAMES, str(path), "right ascension", required=False) is None:
        named = _find_column(table, NAME_LIST_NAMES, str(path), "name", required=False)
        if named is not None:
            return _resolved_catalog(table, named, path)
    catalog = catalog_from_table(table, origin=str(path))
    if fmt == "ascii.csv":
        # An unbalanced quote makes the reader take every following line as part of one field: those rows
        # vanish without an error. Count them against the lines of the file.
        unread = _data_lines(path) - len(table)
        if unread > 0:
            catalog.dropped["unreadable (malformed CSV line, e.g. an unbalanced quote)"] = unread
    return catalog


def _resolved_catalog(table: Table, column: str, path: Path) -> ObjectCatalog:
    """A list of object names, resolved by Sesame (:mod:`galtk.catalogs.names`)."""
    from galtk.catalogs.names import UNRESOLVED, resolve_names, resolved_cache

    names = list(dict.fromkeys(str(value).strip() for value in table[column] if str(value).strip()))
    kept, ra, dec, unresolved = resolve_names(names, cache=resolved_cache(path))
    catalog = catalog_from_table(Table({"id": kept.astype(str), "ra": ra, "dec": dec}), origin=str(path))
    if unresolved:
        catalog.dropped[UNRESOLVED] = len(unresolved)
    return catalog


def _data_lines(path: Path) -> int:
    """Lines of a CSV file that hold data: not empty, not comments, after the header line."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as stream:
        lines = sum(1 for line in stream if line.strip() and not line.lstrip().startswith("#"))
    return max(lines - 1, 0)


def catalog_from_table(table: Table, *, origin: str = "catalog") -> ObjectCatalog:
    """Validate an astropy Table of objects (see :func:`read_object_catalog`)."""
    ra_column = _find_column(table, RA_NAMES, origin, "right ascension")
    dec_column = _find_column(table, DEC_NAMES, origin, "declination")
    id_column = _find_column(table, ID_NAMES, origin, "identifier", required=False)
    ra = _as_degrees(table[ra_column], origin, sexagesimal=u.hourangle)
    dec = _as_degrees(table[dec_column], origin)
    if id_column is None:
        ids = np.array([str(i) for i in range(len(table))], dtype=object)
    else:
        ids = np.array([str(value).strip() for value in table[id_column]], dtype=object)

    dropped: dict[str, int] = {}
    good = np.isfinite(ra) & np.isfinite(dec) & (np.abs(dec) <= 90.0)
    if id_column is not None:
        good &= ids != ""
    _count(dropped, "bad coordinates", good)
    ra, dec, ids = ra[good], dec[good], ids[good]
    in_range = (ra >= 0.0) & (ra < 360.0)
    _count(dropped, "ra outside [0, 360)", in_range)
    ra, dec, ids = ra[in_range], dec[in_range], ids[in_range]

    _, first = np.unique(ids, return_index=True)
    unique = np.zeros(len(ids), dtype=bool)
    unique[first] = True
    _count(dropped, "duplicate id", unique)
    ra, dec, ids = ra[unique], dec[unique], ids[unique]

    distinct = _first_of_close_positions(ra, dec, _DUPLICATE_ARCSEC)
    _count(dropped, "duplicate position", distinct)
    return ObjectCatalog(ids=ids[distinct], ra=ra[distinct], dec=dec[distinct], dropped=dropped)


#: Bytes read to recognise a catalog file before parsing it.
_SNIFF_BYTES = 65536


def _sniff(path: Path, fmt: str) -> None:
    """Refuse a file that is not what its name says before parsing it (a large junk file used gigabytes).

    FITS tables must start with ``SIMPLE``; CSV and ECSV files must be text whose first line that is not a
    comment names a right ascension column.
    """
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rb") as stream:
            head = stream.read(_SNIFF_BYTES)
    except (OSError, EOFError) as error:
        raise CatalogError(f"cannot read catalog {path}: {error}") from None
    if fmt == "fits":
        if not head.startswith(b"SIMPLE"):
            raise CatalogError(f"{path} is not a FITS file (it does not start with SIMPLE)")
        return
    if b"\x00" in head:
        raise CatalogError(f"{path} is not a text catalog (it holds binary data)")
    lines = head.decode("utf-8", errors="replace").splitlines()
    header = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    names = {name.strip().strip('"').strip("'").lower() for name in header.replace(" ", ",").split(",")}
    if fmt == "ascii.csv" and not names & set(RA_NAMES) and not names & set(NAME_LIST_NAMES):
        raise CatalogError(
            f"{path}: its first line does not name a right ascension column (one of {', '.join(RA_NAMES)}): "
            f"{header[:80]!r}"
        )


def _find_column(
    table: Table, names: tuple[str, ...], origin: str, what: str, *, required: bool = True
) -> str | None:
    by_lower = {name.lower(): name for name in table.colnames}
    for name in names:
        if name in by_lower:
            return by_lower[name]
    if required:
        raise CatalogError(
            f"{origin}: no {what} column (looked for {', '.join(names)}; found {', '.join(table.colnames)})"
        )
    return None


def _as_degrees(column: Column, origin: str, sexagesimal: u.UnitBase = u.deg) -> np.ndarray:
    if column.dtype.kind in "US":
        values = _text_as_degrees(column, sexagesimal)
    else:
        values = np.ma.filled(np.ma.asarray(column, dtype=float), np.nan)
    unit = getattr(column, "unit", None)
    if unit is None or str(unit) in ("", "deg"):
        return np.asarray(values, dtype=np.float64)
    try:
        return np.asarray((values * unit).to_value(u.deg), dtype=np.float64)
    except u.UnitConversionError:
        raise CatalogError(f"{origin}: column {column.name!r} has unit {unit}, not an angle") from None


def _text_as_degrees(column: Column, sexagesimal: u.UnitBase) -> np.ndarray:
    """Angles written as text: decimal degrees, or sexagesimal (``10:00:28.6``, ``10h00m28.6s``,
    ``+02d12m21s``) in ``sexagesimal`` units (hours for right ascension); other text is NaN (a bad row)."""
    from astropy.coordinates import Angle

    values = np.full(len(column), np.nan)
    for row, text in enumerate(np.ma.filled(np.ma.asarray(column), "")):
        text = str(text).strip()
        try:
            values[row] = float(text)
        except ValueError:
            try:
                values[row] = Angle(text, unit=sexagesimal).to_value(u.deg)
            except (ValueError, u.UnitsError):
                continue
    return values


def _count(dropped: dict[str, int], reason: str, kept: np.ndarray) -> None:
    removed = int(np.count_nonzero(~kept))
    if removed:
        dropped[reason] = removed


def _first_of_close_positions(ra: np.ndarray, dec: np.ndarray, arcsec: float) -> np.ndarray:
    """Mask keeping the first of every group of positions closer than ``arcsec``."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord, search_around_sky

    keep = np.ones(len(ra), dtype=bool)
    if len(ra) < 2:
        return keep
    coords = SkyCoord(ra=ra * u.deg, dec=dec * u.deg)
    first, second, _, _ = search_around_sky(coords, coords, arcsec * u.arcsec)
    later = first < second
    for earlier, close in sorted(zip(first[later].tolist(), second[later].tolist(), strict=True)):
        if keep[earlier]:
            keep[close] = False
    return keep
