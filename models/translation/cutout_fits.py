"""Reading a 5-band galaxy cutout to translate from FITS files (``galtk translate``'s input).

Layouts: a cube (band, y, x) in one HDU; one file with one 2-D image HDU per band; or one file per band.
docs/translate.md explains the rules for users; in the order they are applied:

- **Bands.** A cube's planes are named by a ``BANDS`` keyword (``"u,g,r,i,z"``) or ``FILTER01``..``FILTERnn``;
  a cube of exactly 5 unnamed planes is taken to be u g r i z. A 2-D image's band comes from its ``FILTER``,
  ``FILTNAM``, ``FILTER1`` or ``BAND`` keyword, else its ``EXTNAME``, else (for a file's only image) the last
  band token of the file name (``obj7_g.fits``), with the rules of the ``fits`` fetch source (CFHT's
  i.MP9702, ``i2`` or ``y`` count as ``i``; the original i filter is preferred when both are given). Five
  unnamed 2-D HDUs in one file are taken to be u g r i z in HDU order. Images of other bands are ignored;
  bands come out in the order u g r i z. A file holding a cube uses its first cube only (galtk's own outputs
  keep the noiseless image in a second one).
- **WCS.** Every band needs a celestial, equatorial (RA/Dec) WCS, read as ICRS. The cutout is centred on the
  world position of the geometric centre of the r-band image (0-based pixel ``((nx - 1) / 2, (ny - 1) / 2)``).
- **Survey and units**: :mod:`galtk.models.translation.cutout_survey`.
- **Grid.** Each band is mapped onto the survey's cutout grid around that centre
  (:mod:`galtk.models.translation.cutout_grid`: pixels taken as they are where the grids coincide, otherwise
  bilinear, flux-conserving resampling; images too small or too rotated to cover the grid are refused).
- **Finite pixels.** A NaN or infinite pixel on the cutout grid is an error.

Every problem raises a :class:`~galtk.errors.InputCutoutError` subclass whose
message starts with the file(s) concerned.
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

from galtk.errors import (
    DuplicateBands,
    MissingBands,
    MissingWcs,
    NonCelestialWcs,
    NonFinitePixels,
    OffGridInput,
    UnreadableInput,
    WrongShape,
)
from galtk.models.translation.cutout_grid import GridMapping, OffGrid, map_to_cutout_grid
from galtk.models.translation.cutout_survey import (
    DIRECTIONS,
    REFERENCE_BAND,
    BandImage,
    check_size,
    direction_from,
    infer_survey,
    normalise_units,
    pixel_units,
    resolve_survey,
)
from galtk.pipeline.fits_files import CorruptFile, open_fits
from galtk.pipeline.fits_headers import BAND_KEYWORDS, band_of
from galtk.pipeline.surveys import BANDS, SurveySpec, get_survey


@dataclass(frozen=True)
class InputCutout:
    """A 5-band cutout ready for the forward transforms
    (:func:`galtk.pipeline.preprocess.transforms.rescale`).

    Attributes
    ----------
    data : ndarray, shape (band, size, size), float32
        Pixels on ``survey``'s cutout grid, in ``units``.
    bands : tuple of str
        Band names in the order of ``data`` (u g r i z).
    survey : SurveySpec
        Survey the cutout is translated from.
    units : str
        Pixel unit, one of :data:`galtk.models.translation.cutout_survey.UNITS`; ``rescale(data, units)``
        gives the network input.
    centre : astropy.coordinates.SkyCoord
        Cutout centre (ICRS); the translated image is centred on it.
    sources : tuple of str
        Files (or store rows) the pixels came from.
    label : str
        How messages name this input.
    header : astropy.io.fits.Header
        Header of the reference band's image (a copy).
    calibration : str
        How the unit was determined.
    grid : str
        How the pixels were put on the cutout grid (``"as is"`` when untouched).
    object_id : str or None
        Object identifier, when the input carries one (store rows, ``OBJECT`` keyword).
    """

    data: np.ndarray
    bands: tuple[str, ...]
    survey: SurveySpec
    units: str
    centre: SkyCoord
    sources: tuple[str, ...]
    label: str
    header: fits.Header
    calibration: str
    grid: str
    object_id: str | None = None

    @property
    def target_survey(self) -> SurveySpec:
        """The survey the cutout is translated to."""
        return get_survey(DIRECTIONS[self.direction][1])

    @property
    def direction(self) -> str:
        """``"sdss2cfht"`` or ``"cfht2sdss"``."""
        return direction_from(self.survey)


def read_cutout(
    paths_or_path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    survey: SurveySpec | str | None = None,
    units: str | None = None,
) -> InputCutout:
    """Read one cutout to translate (see the module docstring for every rule).

    Parameters
    ----------
    paths_or_path : path or sequence of paths
        A file holding all bands (a cube or one HDU per band), or the files of the bands.
    survey : SurveySpec or str, optional
        Input survey (``"sdss"``, ``"cfht"``); inferred when not given.
    units : str, optional
        Pixel unit of every band (``"nanomaggy"``, ``"adu_zp30"``), overriding the headers.

    Returns
    -------
    InputCutout

    Raises
    ------
    InputCutoutError
        A subclass naming the file and the problem.
    GaltkError
        If ``survey`` or ``units`` is unknown.
    """
    if isinstance(paths_or_path, str | os.PathLike):
        paths = [Path(paths_or_path)]
    else:
        paths = [Path(path) for path in paths_or_path]
    if not paths:
        raise ValueError("read_cutout needs at least one file")
    override = resolve_survey(survey)
    unit_override = normalise_units(units)
    label = describe_paths(paths)
    with contextlib.ExitStack() as files:
        images: list[BandImage] = []
        for path in paths:
            images += _band_images(path, files)
        selected = _select_bands(images, label)
        spec = override or infer_survey(selected, label)
        unit, factors, calibration = pixel_units(selected, spec, unit_override)
        reference = selected[REFERENCE_BAND]
        ny, nx = reference.data.shape
        ra, dec = (float(v) for v in reference.wcs.pixel_to_world_values((nx - 1) / 2.0, (ny - 1) / 2.0))
        planes, grids = [], []
        mappings: dict[tuple[int, tuple[int, ...]], GridMapping] = {}  # the planes of a cube share one
        for band, image in selected.items():
            key = (id(image.wcs), image.data.shape)
            if key not in mappings:
                check_size(image, spec)
                try:
                    mappings[key] = map_to_cutout_grid(image.wcs, image.data.shape, ra, dec, spec)
                except OffGrid as error:
                    raise OffGridInput(image.origin, str(error)) from None
            plane = mappings[key].apply(image.data)
            bad = int(np.count_nonzero(~np.isfinite(plane)))
            if bad:
                raise NonFinitePixels(
                    image.origin, f"band {band} has {bad} NaN or infinite pixel(s) on the cutout grid"
                )
            planes.append(plane * factors[band])
            grids.append(mappings[key].how)
        object_id = reference.header.get("OBJECT") or reference.context.get("OBJECT")
        return InputCutout(
            data=np.stack(planes).astype(np.float32),
            bands=tuple(selected),
            survey=spec,
            units=unit,
            centre=SkyCoord(ra % 360.0, dec, unit="deg", frame="icrs"),
            sources=tuple(str(path) for path in paths),
            label=label,
            header=reference.header.copy(),
            calibration=calibration,
            grid=_summary(dict(zip(selected, grids, strict=True))),
            object_id=str(object_id).strip() if object_id else None,
        )


def describe_paths(paths: Sequence[Path]) -> str:
    """How messages name a set of input files: the first path, then the other file names."""
    if len(paths) == 1:
        return str(paths[0])
    return f"{paths[0]} (with {', '.join(path.name for path in paths[1:])})"


# ---------------------------------------------------------------------------------------------- band images
def _band_images(path: Path, files: contextlib.ExitStack) -> list[BandImage]:
    """The band images of one file: its first cube's planes, or its 2-D image HDUs."""
    hdus = _open(path, files)
    primary = hdus[0].header
    cubes, planes = [], []
    try:
        for index, hdu in enumerate(hdus):
            if not isinstance(hdu, fits.PrimaryHDU | fits.ImageHDU | fits.CompImageHDU) or not hdu.header.get(
                "NAXIS"
            ):
                continue
            shape = tuple(int(hdu.header[f"NAXIS{axis}"]) for axis in range(hdu.header["NAXIS"], 0, -1))
            if len(shape) == 3 and shape[0] == 1:
                shape = shape[1:]
            if len(shape) == 3:
                cubes.append((index, hdu))
            elif len(shape) == 2:
                planes.append((index, hdu))
            else:
                raise WrongShape(
                    str(path) if index == 0 else f"{path}[{index}]",
                    f"has {len(shape)} axes {shape}: expected (band, y, x) or (y, x)",
                )
    except (OSError, ValueError, KeyError) as error:
        raise UnreadableInput(str(path), f"cannot read it as FITS ({error})") from None
    if cubes:
        index, hdu = cubes[0]
        return _cube_planes(path, index, hdu, primary)
    if not planes:
        raise WrongShape(str(path), "holds no image (no HDU with 2-D or 3-D data)")
    return _hdu_images(path, planes, primary)


def _open(path: Path, files: contextlib.ExitStack) -> fits.HDUList:
    if not path.exists():
        raise UnreadableInput(str(path), "no such file")
    if path.is_dir():
        raise UnreadableInput(str(path), "is a directory, not a FITS file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return files.enter_context(open_fits(path, lazy_load_hdus=False))
    except CorruptFile as error:
        raise UnreadableInput(str(path), f"is damaged: {error}") from None
    except (OSError, ValueError, TypeError, EOFError) as error:
        raise UnreadableInput(str(path), f"cannot read it as FITS ({error})") from None


def _cube_planes(path: Path, index: int, hdu: fits.ImageHDU, primary: fits.Header) -> list[BandImage]:
    origin = str(path) if index == 0 else f"{path}[{index}]"
    data = _data(hdu, origin)
    data = data.reshape(data.shape[-3:])
    header = hdu.header
    names = _cube_band_names(header)
    if names is None:
        if data.shape[0] != len(BANDS):
            raise WrongShape(
                origin,
                f"the cube has {data.shape[0]} planes and no BANDS or FILTERnn keyword naming them: expected "
                f"{len(BANDS)} planes ({' '.join(BANDS)})",
            )
        names = list(BANDS)
    elif len(names) != data.shape[0]:
        raise WrongShape(
            origin, f"the header names {len(names)} bands but the cube has {data.shape[0]} planes"
        )
    wcs = _celestial_wcs(header, origin, cube=True)
    return [
        BandImage(band_of(name, BANDS), name, data[plane], header, primary, wcs, origin)
        for plane, name in enumerate(names)
    ]


def _cube_band_names(header: fits.Header) -> list[str] | None:
    if str(header.get("BANDS", "")).strip():
        return [name for name in re.split(r"[,\s]+", str(header["BANDS"]).strip()) if name]
    numbered = sorted(
        (int(key[6:]), str(value).strip())
        for key, value in header.items()
        if re.fullmatch(r"FILTER\d\d", key)
    )
    return [name for _, name in numbered] or None


def _hdu_images(path: Path, planes: list[tuple[int, fits.ImageHDU]], primary: fits.Header) -> list[BandImage]:
    """The 2-D images of one file; the file name can name the band of a file's only image."""
    images = []
    for index, hdu in planes:
        origin = f"{path}[{index}]" if len(planes) > 1 else str(path)
        header = hdu.header
        candidates = [str(header[key]).strip() for key in BAND_KEYWORDS if header.get(key)]
        candidates += [str(header.get("EXTNAME", "")).strip()]
        if len(planes) == 1:
            candidates += reversed([token for token in re.split(r"[-_.]", path.name) if token])
        filter_name = next((name for name in candidates if band_of(name, BANDS)), "")
        data = _data(hdu, origin)
        images.append(
            BandImage(
                band_of(filter_name, BANDS) if filter_name else None,
                filter_name,
                data.reshape(data.shape[-2:]),
                header,
                primary,
                _celestial_wcs(header, origin, cube=False),
                origin,
            )
        )
    if len(images) == len(BANDS) and all(image.band is None for image in images):
        images = [
            BandImage(band, band, image.data, image.header, image.context, image.wcs, image.origin)
            for band, image in zip(BANDS, images, strict=True)
        ]
    if len(images) == 1 and images[0].band is None:
        raise MissingBands(
            str(path),
            f"cannot tell its band (no {'/'.join(BAND_KEYWORDS)} keyword, EXTNAME or band token in the "
            "file name)",
        )
    return images


def _data(hdu: fits.ImageHDU, origin: str) -> np.ndarray:
    try:
        data = hdu.data
    except (OSError, ValueError, TypeError) as error:
        raise UnreadableInput(origin, f"cannot read its pixels ({error})") from None
    if data is None:
        raise WrongShape(origin, "has no pixel data")
    if not np.issubdtype(data.dtype, np.number):
        raise WrongShape(origin, f"pixels of type {data.dtype} are not numbers")
    return data


def _celestial_wcs(header: fits.Header, origin: str, *, cube: bool) -> WCS:
    if not any(str(header.get(f"CTYPE{axis}", "")).strip() for axis in (1, 2, 3)):
        raise MissingWcs(
            origin, "has no WCS (no CTYPE1/CTYPE2 keywords): galtk needs the cutout's sky position"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(header)
    except Exception as error:  # astropy raises many types for malformed WCS keywords
        raise MissingWcs(origin, f"has an invalid WCS ({error})") from None
    ctypes = ", ".join(str(ctype) for ctype in wcs.wcs.ctype if str(ctype).strip())
    if not wcs.has_celestial:
        raise NonCelestialWcs(origin, f"its WCS has no celestial axes (CTYPE: {ctypes})")
    if not str(wcs.wcs.lngtyp).startswith("RA"):
        raise NonCelestialWcs(origin, f"its WCS is not equatorial (CTYPE: {ctypes}): galtk reads RA/Dec only")
    if sorted((wcs.wcs.lng, wcs.wcs.lat)) != [0, 1]:
        layout = "(band, y, x)" if cube else "(y, x)"
        raise NonCelestialWcs(origin, f"its celestial axes are not the image axes {layout} (CTYPE: {ctypes})")
    return wcs.celestial


def _select_bands(images: Iterable[BandImage], label: str) -> dict[str, BandImage]:
    """One image per band, in band order (the second CFHT i filter only when the first is absent)."""
    chosen: dict[str, BandImage] = {}
    for image in images:
        if image.band is None:
            continue
        other = chosen.get(image.band)
        if other is None or image.preference < other.preference:
            chosen[image.band] = image
        elif image.preference == other.preference:
            raise DuplicateBands(label, f"two images of band {image.band}: {other.origin} and {image.origin}")
    missing = [band for band in BANDS if band not in chosen]
    if missing:
        found = [
            band if chosen[band].origin == label else f"{band} ({chosen[band].origin})" for band in chosen
        ]
        raise MissingBands(
            label, f"no image of band(s) {' '.join(missing)}; bands found: {', '.join(found) or 'none'}"
        )
    return {band: chosen[band] for band in BANDS}


def _summary(per_band: dict[str, str]) -> str:
    """One description when every band was treated alike, otherwise one per band."""
    distinct = set(per_band.values())
    if len(distinct) == 1:
        return distinct.pop()
    return "; ".join(f"{band}: {how}" for band, how in per_band.items())
