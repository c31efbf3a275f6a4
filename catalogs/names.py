"""Object catalogs given by name (``NGC 4565``, ``M 101``...), resolved to positions by CDS Sesame.

A catalog file with a ``name`` column and no ra/dec columns is a list of names, as the seed project's
NGC list was. Each name is resolved through astropy's Sesame client
(:func:`astropy.coordinates.name_resolve.get_icrs_coordinates`: SIMBAD, then NED, then VizieR), whose
servers are astropy's ``sesame_url`` science state (tests point it at a stand-in on 127.0.0.1). Resolved
positions are kept in a cache file beside the list (``LIST.resolved.ecsv``: name, ra, dec), so that a
second read queries only the names not yet resolved, and a machine without network can use a list
resolved elsewhere. Names Sesame does not know are dropped and counted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from astropy.table import Table

from galtk.errors import CatalogError

UNRESOLVED = "name not resolved by Sesame"


def resolved_cache(path: str | Path) -> Path:
    """The cache of resolved positions of the name list at ``path``."""
    path = Path(path)
    return path.with_name(path.name + ".resolved.ecsv")


def resolve_names(
    names: Sequence[str],
    *,
    cache: Path | None = None,
    resolve: Callable[[str], tuple[float, float]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Positions of ``names`` (ICRS degrees), from the cache or Sesame.

    Parameters
    ----------
    names : sequence of str
        Object names.
    cache : Path, optional
        Cache file of earlier resolutions (read, then rewritten with the new ones).
    resolve : callable, optional
        ``name -> (ra, dec)``; default: Sesame through astropy.

    Returns
    -------
    names, ra, dec : ndarray
        The resolved names and their positions, in input order.
    unresolved : list of str
        Names Sesame did not know.

    Raises
    ------
    CatalogError
        If Sesame cannot be reached for names the cache does not hold.
    """
    known = _read_cache(cache) if cache is not None else {}
    resolve = resolve or _sesame
    unresolved: list[str] = []
    added = False
    for name in names:
        if name in known:
            continue
        try:
            known[name] = resolve(name)
            added = True
        except LookupError:
            unresolved.append(name)
    if added and cache is not None:
        _write_cache(cache, known)
    kept = [name for name in names if name in known]
    ra = np.array([known[name][0] for name in kept], dtype=np.float64)
    dec = np.array([known[name][1] for name in kept], dtype=np.float64)
    return np.array(kept, dtype=object), ra, dec, unresolved


def _sesame(name: str) -> tuple[float, float]:
    from astropy.coordinates.name_resolve import NameResolveError, get_icrs_coordinates

    try:
        position = get_icrs_coordinates(name)
    except NameResolveError as error:
        if "Unable to find coordinates" in str(error):
            raise LookupError(name) from None
        reason = str(error).splitlines()[0]
        raise CatalogError(f"cannot resolve {name!r}: Sesame is unreachable ({reason})") from None
    return float(position.ra.deg), float(position.dec.deg)


def _read_cache(path: Path) -> dict[str, tuple[float, float]]:
    if not path.is_file():
        return {}
    try:
        table = Table.read(path, format="ascii.ecsv")
        rows = zip(table["name"], table["ra"], table["dec"], strict=True)
        return {str(name): (float(ra), float(dec)) for name, ra, dec in rows}
    except Exception as error:  # astropy raises many types for malformed files
        raise CatalogError(
            f"cannot read the resolved names of {path}: {error}; delete it to resolve again"
        ) from None


def _write_cache(path: Path, known: dict[str, tuple[float, float]]) -> None:
    import io

    table = Table(
        {
            "name": list(known),
            "ra": [value[0] for value in known.values()],
            "dec": [value[1] for value in known.values()],
        }
    )
    table["ra"].unit = table["dec"].unit = "deg"
    buffer = io.StringIO()
    table.write(buffer, format="ascii.ecsv")
    temporary = path.with_name(path.name + ".galtk-new")
    temporary.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(temporary, path)
