"""Opening FITS files, compressed ones verified first.

astropy reads ``.gz`` and ``.bz2`` files as streams and never reaches the checksum at their end, so a flipped
bit in a compressed file can come out as wrong pixels without a word. :func:`open_fits` decompresses such
files completely with Python's ``gzip`` and ``bz2`` modules, which check the stream's CRC, before astropy
parses them; plain files are memory-mapped as usual.
"""

from __future__ import annotations

import bz2
import gzip
import io
import zlib
from pathlib import Path
from typing import Any

from astropy.io import fits

#: File suffixes decompressed (and so verified) before parsing.
COMPRESSED_SUFFIXES = {".gz": gzip.decompress, ".bz2": bz2.decompress}


class CorruptFile(ValueError):
    """A compressed file whose data does not decompress or fails its checksum (the message says how)."""


def is_compressed(path: str | Path) -> bool:
    """Whether ``path`` is read through :data:`COMPRESSED_SUFFIXES` (by its suffix)."""
    return Path(path).suffix.lower() in COMPRESSED_SUFFIXES


def open_fits(path: str | Path, **options: Any) -> fits.HDUList:
    """``astropy.io.fits.open`` of ``path``, with compressed files decompressed and checked first.

    Parameters
    ----------
    path : str or Path
        A FITS file, plain or ``.gz``/``.bz2``.
    **options
        Passed to ``fits.open`` (``memmap`` is ignored for compressed files, which are read into memory).

    Returns
    -------
    astropy.io.fits.HDUList

    Raises
    ------
    CorruptFile
        If a compressed file is truncated, fails its CRC or does not decompress.
    OSError
        If the file cannot be read.
    """
    path = Path(path)
    decompress = COMPRESSED_SUFFIXES.get(path.suffix.lower())
    if decompress is None:
        return fits.open(path, **options)
    try:
        data = decompress(path.read_bytes())
    except (EOFError, OSError, ValueError, zlib.error) as error:
        if isinstance(error, FileNotFoundError | PermissionError | IsADirectoryError):
            raise
        raise CorruptFile(f"corrupt compressed data ({error})") from None
    options.pop("memmap", None)
    return fits.open(io.BytesIO(data), memmap=False, **options)
