"""Writing a translated cutout as a FITS file (``galtk translate``'s output).

The primary HDU holds the cube (band, y, x) in float32 with:

- a celestial WCS: the north-up TAN grid of :func:`galtk.pipeline.geometry.cutout_wcs` at the target
  survey's pixel scale, centred on the input's centre (reference pixel ``(size + 1) / 2``, so the centre of
  the cube is exactly the input's position); two WCS axes only, the band axis is named by keywords;
- ``BUNIT`` and ``PHOTZP``, the AB magnitude of one ``BUNIT``: SDSS ``'nanomaggy'`` (22.5); CFHT's AB zero
  point 30 ADU is written as ``'adu'`` with ``PHOTZP = 30.0`` (``adu`` is a FITS-standard unit string;
  galtk reads the pair back as its ``adu_zp30`` unit);
- ``SURVEY`` (grid, unit and noise of this survey), ``BANDS = 'u,g,r,i,z'`` and ``FILTER01``..``FILTER05``;
- provenance: ``ORIGIN = 'galtk'``, ``GALTKVER``, ``DIRECTN``, ``METHOD``, ``CKPTSHA`` (SHA-256 of the
  model checkpoint: 64 hex digits fill one card, so it carries no comment), ``SEED`` (translations with
  emulated noise), ``INPUT`` (long values use the OGIP ``CONTINUE`` convention, declared by ``LONGSTRN``),
  ``DATE`` (UTC), and optionally ``CKPTNAME`` and ``OBJECT``; ``CHECKSUM``/``DATASUM`` on every HDU.

An optional ``NOISELESS`` image extension holds the translation without emulated noise, with the same WCS
and unit keywords. The file is written beside its path and renamed into place, so a reader never sees half
a file and an interrupted run leaves any previous file intact; an existing file is only replaced with
``overwrite=True``.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import io
import os
import re
from collections.abc import Mapping, Sequence
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits

from galtk import __version__
from galtk.errors import GaltkError, OutputExists
from galtk.models.translation.cutout_survey import DIRECTIONS
from galtk.pipeline.fits_headers import cutout_header
from galtk.pipeline.replace import check_creatable, remove_leftover, staging_path
from galtk.pipeline.surveys import SurveySpec, get_survey

NOISELESS_EXTNAME = "NOISELESS"
#: Provenance keys -> (FITS keyword, comment, required).
PROVENANCE_KEYWORDS: dict[str, tuple[str, str | None, bool]] = {
    "method": ("METHOD", "translation method", True),
    "checkpoint_sha256": ("CKPTSHA", None, True),
    "seed": ("SEED", "random seed of the emulated noise", False),
    "input": ("INPUT", "input file(s)", True),
    "checkpoint": ("CKPTNAME", "model checkpoint file", False),
    "object": ("OBJECT", "object identifier", False),
}


#: Longest string value still given a comment (a longer one continues over CONTINUE cards without it).
_COMMENTED_LENGTH = 45


def write_translated(
    path: str | os.PathLike[str],
    cube: np.ndarray,
    *,
    survey: SurveySpec | str,
    centre: SkyCoord,
    bands: Sequence[str],
    provenance: Mapping[str, Any],
    noiseless: np.ndarray | None = None,
    overwrite: bool = False,
    pixel_scale: float | None = None,
    direction: str | None = None,
) -> Path:
    """Write a translated cutout (see the module docstring for the layout).

    Parameters
    ----------
    path : path
        Output file (``.fits``; ``.fits.gz`` is gzip-compressed).
    cube : ndarray, shape (band, size, size)
        Translated pixels in the target survey's unit.
    survey : SurveySpec or str
        Target survey: pixel scale, unit and ``SURVEY`` keyword.
    centre : astropy.coordinates.SkyCoord
        The input's centre, the sky position of the cube's centre.
    bands : sequence of str
        Band of each plane.
    provenance : mapping
        ``method``, ``checkpoint_sha256`` (64 hex digits) and ``input`` (file name(s)) are required;
        ``seed`` (int; the noise seed of a stochastic translation), ``checkpoint`` (file name) and
        ``object`` (identifier) are optional.
    noiseless : ndarray, optional
        The translation without noise, same shape, written as the ``NOISELESS`` extension.
    overwrite : bool
        Replace an existing file.
    pixel_scale : float, optional
        Pixel scale of the cube in arcsec (default: the target survey's).
    direction : str, optional
        ``DIRECTN`` (default: the translation into ``survey``, e.g. ``cfht2sdss``; ``sdss-recovery`` for a
        recovered image of the same survey).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OutputExists
        If ``path`` exists and ``overwrite`` is false.
    GaltkError
        If the cube holds NaN or infinite pixels, or the file cannot be created.
    ValueError
        If shapes, bands or provenance are malformed.
    """
    path = Path(path)
    if path.is_dir():
        raise GaltkError(f"{path} is a directory; give the output file's name")
    if path.exists() and not overwrite:
        raise OutputExists(f"{path} already exists; pass --overwrite to replace it")
    hdus = translated_hdulist(
        cube,
        survey=survey,
        centre=centre,
        bands=bands,
        provenance=provenance,
        noiseless=noiseless,
        pixel_scale=pixel_scale,
        direction=direction,
    )
    buffer = io.BytesIO()
    hdus.writeto(buffer, checksum=True)
    content = buffer.getvalue()
    if path.name.lower().endswith(".gz"):
        content = gzip.compress(content, mtime=0)
    _write_atomic(path, content, overwrite=overwrite)
    return path


def translated_hdulist(
    cube: np.ndarray,
    *,
    survey: SurveySpec | str,
    centre: SkyCoord,
    bands: Sequence[str],
    provenance: Mapping[str, Any],
    noiseless: np.ndarray | None = None,
    pixel_scale: float | None = None,
    direction: str | None = None,
) -> fits.HDUList:
    """The HDUs :func:`write_translated` writes, in memory (same parameters, without the file ones).

    Returns
    -------
    astropy.io.fits.HDUList
        The primary HDU with the cube, WCS, unit, band and provenance keywords, and the ``NOISELESS``
        extension when ``noiseless`` is given.

    Raises
    ------
    GaltkError
        If the cube holds NaN or infinite pixels.
    ValueError
        If shapes, bands or provenance are malformed.
    """
    spec = survey if isinstance(survey, SurveySpec) else get_survey(survey)
    data = _checked_cube(cube, bands, "cube")
    extra = None if noiseless is None else _checked_cube(noiseless, bands, "noiseless")
    if extra is not None and extra.shape != data.shape:
        raise ValueError(f"noiseless has shape {extra.shape}, the cube {data.shape}")
    header = cutout_header(
        survey=spec, centre=centre, bands=bands, size=data.shape[-1], pixel_scale=pixel_scale
    )
    primary = fits.PrimaryHDU(data, header=header.copy())
    _add_provenance(primary.header, provenance, spec, direction)
    hdus = fits.HDUList([primary])
    if extra is not None:
        hdus.append(fits.ImageHDU(extra, header=header.copy(), name=NOISELESS_EXTNAME))
        hdus[-1].header.add_comment("The translation without emulated noise.")
    return hdus


def _checked_cube(cube: np.ndarray, bands: Sequence[str], name: str) -> np.ndarray:
    data = np.asarray(cube, dtype=np.float32)
    if data.ndim != 3 or data.shape[1] != data.shape[2]:
        raise ValueError(f"{name} must have shape (band, size, size), not {data.shape}")
    if data.shape[0] != len(bands):
        raise ValueError(f"{name} has {data.shape[0]} planes but {len(bands)} bands are named")
    bad = int(np.count_nonzero(~np.isfinite(data)))
    if bad:
        raise GaltkError(
            f"the translated {name} image has {bad} NaN or infinite pixel(s); nothing was written"
        )
    return data


def _add_provenance(
    header: fits.Header, provenance: Mapping[str, Any], survey: SurveySpec, direction: str | None
) -> None:
    unknown = set(provenance) - set(PROVENANCE_KEYWORDS)
    if unknown:
        raise ValueError(
            f"unknown provenance keys {sorted(unknown)}; known: {', '.join(PROVENANCE_KEYWORDS)}"
        )
    missing = [
        key for key, (_, _, required) in PROVENANCE_KEYWORDS.items() if required and key not in provenance
    ]
    if missing:
        raise ValueError(f"provenance lacks {', '.join(missing)}")
    digest = str(provenance["checkpoint_sha256"]).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError(f"checkpoint_sha256 must be 64 hexadecimal digits, not {digest!r}")
    seed = provenance.get("seed", 0)
    if not isinstance(seed, Integral) or isinstance(seed, bool):
        raise ValueError(f"seed must be an integer, not {seed!r}")
    if direction is None:
        direction = next(name for name, (_, target) in DIRECTIONS.items() if target == survey.name)
    header["ORIGIN"] = ("galtk", "software that wrote this file")
    header["GALTKVER"] = (__version__, "galtk version")
    header["DIRECTN"] = (direction, "translation direction")
    values = {**provenance, "checkpoint_sha256": digest}
    if "seed" in provenance:
        values["seed"] = int(seed)
    for key, (keyword, comment, _) in PROVENANCE_KEYWORDS.items():
        if key in values:
            value = values[key] if isinstance(values[key], int) else str(values[key])
            fits_comment = comment if isinstance(value, int) or len(value) <= _COMMENTED_LENGTH else None
            header[keyword] = value if fits_comment is None else (value, fits_comment)
    header["LONGSTRN"] = ("OGIP 1.0", "long strings use the CONTINUE convention")
    header["DATE"] = (
        _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "file creation date (UTC)",
    )


def _write_atomic(path: Path, content: bytes, *, overwrite: bool) -> None:
    """Write ``content`` beside ``path``, then rename it into place."""
    check_creatable(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = staging_path(path)
    remove_leftover(staged)
    try:
        staged.write_bytes(content)
        if path.exists() and not overwrite:
            raise OutputExists(f"{path} already exists; pass --overwrite to replace it")
        os.replace(staged, path)
    except BaseException:
        remove_leftover(staged)
        raise
