"""Which survey and pixel unit a cutout to translate is in, and the translation directions.

- **Survey.** The pixel scale (from the WCS) decides: within :data:`PIXEL_SCALE_TOLERANCE` (5%) of
  0.396"/px is SDSS, of 0.186"/px CFHT (the reference code's 0.187 included). The shape (64x64 is SDSS's
  cutout, 136x136 CFHT's) and a survey named by a ``SURVEY``, ``TELESCOP``, ``INSTRUME`` or ``ORIGIN``
  keyword must not name the other survey. ``--direction`` (``survey=``) overrides all of this.
- **Units.** Per band (its HDU's keywords, then its file's primary header's): a ``BUNIT`` of nanomaggies
  (or galtk's ``adu_zp30``); else, for a ``BUNIT`` of counts (``adu``, ``counts``, ``DN``) or none, a
  zero-point keyword (``MAGZPT``, ``PHOTZP``, ``MAGZERO``, ``ZEROPT``, ``MAGZP``: AB magnitude of one count;
  22.5 means nanomaggies, 30 CFHT's ADU); else the survey's own unit. Pixels keep their unit when every band
  is in the same known unit (``nanomaggy`` or ``adu_zp30``); otherwise they are converted to the survey's
  unit. ``--units`` (``units=``) overrides the headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
from astropy.wcs.utils import proj_plane_pixel_area

from galtk.errors import GaltkError, SurveyMismatch, UnitError, WrongShape
from galtk.pipeline.fits_headers import SECOND_I_FILTERS, UNIT_ZEROPOINTS, ZEROPOINT_KEYWORDS
from galtk.pipeline.preprocess.transforms import NANOMAGGIES_PER_UNIT
from galtk.pipeline.surveys import SURVEYS, SurveySpec, get_survey

#: The two translation directions.
SDSS_TO_CFHT = "sdss2cfht"
CFHT_TO_SDSS = "cfht2sdss"
#: Translation directions: name -> (input survey, output survey).
DIRECTIONS: dict[str, tuple[str, str]] = {SDSS_TO_CFHT: ("sdss", "cfht"), CFHT_TO_SDSS: ("cfht", "sdss")}
#: Pixel units galtk reads and writes (names as in
#: :data:`galtk.pipeline.preprocess.transforms.NANOMAGGIES_PER_UNIT`).
UNITS: tuple[str, ...] = tuple(NANOMAGGIES_PER_UNIT)
#: Relative difference between an input's pixel scale and a survey's that still identifies the survey.
PIXEL_SCALE_TOLERANCE = 0.05
#: Band whose image sets the cutout centre and is checked for shape.
REFERENCE_BAND = "r"

_UNIT_ALIASES = {"nanomaggy": "nanomaggy", "nanomaggies": "nanomaggy", "nmgy": "nanomaggy"}
_UNIT_ALIASES.update({"adu_zp30": "adu_zp30", "zp30": "adu_zp30"})
#: BUNIT values meaning raw counts, whose flux scale then comes from a zero point or the survey.
_COUNT_UNITS = {"", "adu", "adus", "count", "counts", "ct", "cts", "dn", "data number"}
_SURVEY_KEYWORDS = ("SURVEY", "TELESCOP", "INSTRUME", "ORIGIN")
_SURVEY_HINTS = {"sdss": ("sdss",), "cfht": ("cfht", "megaprime", "megacam")}


@dataclass(frozen=True)
class BandImage:
    """One band's image as found in a file (what the survey and unit rules look at).

    Attributes
    ----------
    band : str or None
        Band (u g r i z), None when nothing names it.
    filter_name : str
        Filter name as found (keyword value, EXTNAME or file-name token).
    data : ndarray, shape (ny, nx)
        Pixels (possibly memory-mapped).
    header : astropy.io.fits.Header
        Header of the image's HDU.
    context : astropy.io.fits.Header
        Primary header of its file (telescope and survey keywords often live there).
    wcs : astropy.wcs.WCS
        Celestial WCS.
    origin : str
        File (and HDU) for messages.
    """

    band: str | None
    filter_name: str
    data: np.ndarray
    header: fits.Header
    context: fits.Header
    wcs: WCS
    origin: str

    @property
    def preference(self) -> int:
        """Lower is preferred among images of one band (the second CFHT i filter comes last)."""
        return 1 if self.filter_name.lower() in SECOND_I_FILTERS else 0


def direction_from(survey: SurveySpec | str) -> str:
    """The translation direction starting from ``survey``."""
    name = survey.name if isinstance(survey, SurveySpec) else survey.lower()
    for direction, (source, _) in DIRECTIONS.items():
        if source == name:
            return direction
    raise GaltkError(f"galtk translates from {' or '.join(SURVEYS)} only, not {name!r}")


def survey_of_direction(direction: str) -> SurveySpec:
    """The input survey of a direction (``"sdss2cfht"`` -> SDSS)."""
    try:
        return get_survey(DIRECTIONS[direction.lower()][0])
    except KeyError:
        raise GaltkError(f"unknown direction {direction!r}; use {' or '.join(DIRECTIONS)}") from None


def resolve_survey(survey: SurveySpec | str | None) -> SurveySpec | None:
    """A :class:`SurveySpec` from a spec, a survey name or None (unknown names raise :class:`GaltkError`)."""
    if survey is None or isinstance(survey, SurveySpec):
        return survey
    try:
        return get_survey(survey)
    except KeyError as error:
        raise GaltkError(str(error.args[0])) from None


def normalise_units(units: str | None) -> str | None:
    """galtk's name of a pixel unit (``"nanomaggies"`` -> ``"nanomaggy"``), or None.

    Raises
    ------
    GaltkError
        If the unit is not one galtk can read.
    """
    if units is None:
        return None
    try:
        return _UNIT_ALIASES[units.strip().lower()]
    except KeyError:
        raise GaltkError(f"unknown pixel unit {units!r}; use {' or '.join(UNITS)}") from None


def pixel_scale_arcsec(wcs: WCS) -> float:
    """Pixel scale of a celestial WCS in arcsec (square root of the pixel area)."""
    return float(np.sqrt(proj_plane_pixel_area(wcs)) * 3600.0)


def infer_survey(images: Mapping[str, BandImage], label: str) -> SurveySpec:
    """The survey of a cutout's band images (the pixel scale decides; shape and headers must agree).

    Raises
    ------
    SurveyMismatch
        If the pixel scales match no survey or several, or the shape or a header names the other survey.
    """
    scales = {band: pixel_scale_arcsec(image.wcs) for band, image in images.items()}
    by_scale = {band: _survey_of_scale(scale) for band, scale in scales.items()}
    matched = {spec.name for spec in by_scale.values() if spec is not None}
    reference = images[REFERENCE_BAND]
    if len(matched) > 1:
        listed = ", ".join(f"{band} {scale:.4f}" for band, scale in scales.items())
        raise SurveyMismatch(
            label,
            f"cannot tell the survey: the bands' pixel scales (\"/px: {listed}) point to different surveys",
        )
    if None in by_scale.values() or not matched:
        distinct = sorted(set(scales.values()))
        if len(distinct) == 1:
            found = f'the pixel scale {distinct[0]:.4f}"/px matches'
        else:
            listed = ", ".join(f"{band} {scale:.4f}" for band, scale in scales.items())
            found = f'the pixel scales ("/px: {listed}) match'
        known = " nor ".join(f'{spec.title} ({spec.pixel_scale}"/px)' for spec in SURVEYS.values())
        raise SurveyMismatch(
            label,
            f"cannot tell the survey: {found} neither {known}; choose the input survey with --direction "
            "to resample it onto that survey's grid",
        )
    spec = get_survey(matched.pop())
    scale = scales[REFERENCE_BAND]
    ny, nx = reference.data.shape
    for other in SURVEYS.values():
        if other is spec:
            continue
        if (ny, nx) == (other.cutout_size, other.cutout_size):
            raise SurveyMismatch(
                label,
                f'{nx}x{ny} pixels is the {other.title} cutout size but the pixel scale {scale:.4f}"/px is '
                f"{spec.title}'s; choose the input survey with --direction",
            )
        for image in images.values():
            hint = _header_survey(image.header) or _header_survey(image.context)
            if hint is not None and hint[0] == other.name:
                raise SurveyMismatch(
                    label,
                    f"{hint[1]} names {other.title} but the pixel scale {scale:.4f}\"/px is {spec.title}'s; "
                    "choose the input survey with --direction",
                )
    return spec


def _survey_of_scale(scale: float) -> SurveySpec | None:
    for spec in SURVEYS.values():
        if abs(scale / spec.pixel_scale - 1.0) <= PIXEL_SCALE_TOLERANCE:
            return spec
    return None


def _header_survey(header: fits.Header) -> tuple[str, str] | None:
    """The survey a header names, with the keyword that names it."""
    for key in _SURVEY_KEYWORDS:
        value = str(header.get(key, "")).lower()
        for name, hints in _SURVEY_HINTS.items():
            if any(hint in value for hint in hints):
                return name, f"{key} = {header[key]!r}"
    return None


def check_size(image: BandImage, spec: SurveySpec) -> None:
    """Raise :class:`WrongShape` if the image's footprint cannot hold the survey's cutout grid."""
    ny, nx = image.data.shape
    scale = pixel_scale_arcsec(image.wcs)
    needed = (spec.cutout_size - 1) * spec.pixel_scale
    if min(nx, ny) * scale < needed * (1.0 - 1e-9):
        raise WrongShape(
            image.origin,
            f'{nx}x{ny} pixels at {scale:.3f}"/px ({nx * scale:.1f}" x {ny * scale:.1f}") are smaller than '
            f'a {spec.title} cutout ({spec.cutout_size}x{spec.cutout_size} pixels at {spec.pixel_scale}"/px, '
            f'{spec.cutout_arcsec:.1f}")',
        )


# ---------------------------------------------------------------------------------------------- units
def pixel_units(
    images: Mapping[str, BandImage], spec: SurveySpec, override: str | None
) -> tuple[str, dict[str, float], str]:
    """The cutout's unit, the factor turning each band's pixels into it, and how it was found.

    Parameters
    ----------
    images : mapping of str to BandImage
        The band images.
    spec : SurveySpec
        The cutout's survey (its unit is assumed where nothing says otherwise, and used when bands differ).
    override : str, optional
        Unit given by the user for every band.

    Raises
    ------
    UnitError
        If a BUNIT or zero point cannot be used.
    """
    if override is not None:
        return override, dict.fromkeys(images, 1.0), f"{override} (given)"
    found = {band: _band_unit(image, spec) for band, image in images.items()}
    units = {unit for unit, _, _ in found.values()}
    rules = {rule for _, _, rule in found.values()}
    if len(units) == 1 and None not in units:
        unit = units.pop()
        factors = dict.fromkeys(images, 1.0)
    else:
        unit = spec.unit
        factors = {band: per_pixel / spec.nanomaggies_per_unit for band, (_, per_pixel, _) in found.items()}
    if len(rules) == 1:
        calibration = rules.pop()
    else:
        calibration = "; ".join(f"{band}: {rule}" for band, (_, _, rule) in found.items())
    if factors and any(factor != 1.0 for factor in factors.values()):
        calibration += f"; converted to {unit}"
    return unit, factors, calibration


def _band_unit(image: BandImage, spec: SurveySpec) -> tuple[str | None, float, str]:
    """(known unit or None, nanomaggies per pixel value, rule) of one band image.

    Keywords are looked up in the image's HDU first, then in its file's primary header.
    """
    headers = (image.header, image.context)
    bunit = next((str(h["BUNIT"]).strip() for h in headers if str(h.get("BUNIT", "")).strip()), "")
    lowered = bunit.lower()
    if "nanomagg" in lowered or lowered == "nmgy":
        return "nanomaggy", 1.0, f"BUNIT {bunit!r}"
    if lowered in _UNIT_ALIASES:
        unit = _UNIT_ALIASES[lowered]
        return unit, NANOMAGGIES_PER_UNIT[unit], f"BUNIT {bunit!r}"
    if lowered not in _COUNT_UNITS:
        raise UnitError(
            image.origin,
            f"BUNIT {bunit!r} is not a unit galtk can convert (nanomaggies, or counts with a zero point); "
            f"give the unit with --units ({' or '.join(UNITS)})",
        )
    for header in headers:
        for key in ZEROPOINT_KEYWORDS:
            if key in header:
                try:
                    zeropoint = float(header[key])
                except (TypeError, ValueError):
                    raise UnitError(image.origin, f"{key} = {header[key]!r} is not a number") from None
                per_pixel = 10.0 ** (-0.4 * (zeropoint - 22.5))
                known = next((u for u, z in UNIT_ZEROPOINTS.items() if abs(z - zeropoint) < 1e-6), None)
                return known, per_pixel, f"zero point {zeropoint:g} ({key})"
    return spec.unit, spec.nanomaggies_per_unit, f"assumed {spec.unit} (no BUNIT or zero point keyword)"
