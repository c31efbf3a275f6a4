"""The FITS header rules of galtk: bands, pixel units and zero points, read and written.

Reading (``galtk fetch --source fits`` frames, ``galtk translate`` inputs): a band is named by a keyword of
:data:`BAND_KEYWORDS` or a file-name token (:func:`band_of`); pixel values are converted to a survey's unit
with :func:`calibration`. Writing (translated cubes, the demo's cutouts): :func:`cutout_header` gives the WCS
and the ``BUNIT``, ``PHOTZP``, ``SURVEY``, ``BANDS`` and ``FILTERnn`` keywords of a cube in a survey's unit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits

from galtk.pipeline.geometry import cutout_wcs
from galtk.pipeline.preprocess.transforms import NANOMAGGIES_PER_UNIT
from galtk.pipeline.surveys import SurveySpec

#: Keywords that name an image's filter, in order of preference.
BAND_KEYWORDS = ("FILTER", "FILTNAM", "FILTER1", "BAND")
#: Keywords holding the AB magnitude of one pixel unit, in order of preference.
ZEROPOINT_KEYWORDS = ("MAGZPT", "PHOTZP", "MAGZERO", "ZEROPT", "MAGZP")
#: Names of CFHT's second i filter (i2, i.MP9702), read as the i band after the first one.
SECOND_I_FILTERS = ("i2", "y", "i.mp9702")
#: AB magnitude of one pixel unit, per unit galtk knows (22.5 for nanomaggies, 30 for CFHT's ADU).
UNIT_ZEROPOINTS: dict[str, float] = {
    unit: float(22.5 - 2.5 * np.log10(factor)) for unit, factor in NANOMAGGIES_PER_UNIT.items()
}
#: BUNIT written for each galtk pixel unit.
BUNIT_OF_UNIT: dict[str, str] = {"nanomaggy": "nanomaggy", "adu_zp30": "adu"}


def band_of(name: str, bands: Sequence[str]) -> str | None:
    """The band a filter name or file-name token names (``r``, ``r.MP9601``, ``i2`` -> ``i``), or None."""
    lowered = name.lower()
    if lowered in bands:
        return lowered
    if lowered in SECOND_I_FILTERS and "i" in bands:
        return "i"
    if lowered[:1] in bands and len(lowered) > 1 and lowered[1] in ".'*_ ":
        return lowered[0]  # e.g. r.MP9601, g', u*
    return None


def calibration(header: fits.Header, survey: SurveySpec, zeropoint: float | None) -> tuple[float, str]:
    """Factor from an image's pixel values to ``survey``'s unit, and where it came from.

    BUNIT nanomaggy first, then ``zeropoint`` (given in galtk.toml), then a zero-point keyword of the header
    (:data:`ZEROPOINT_KEYWORDS`); without any, the pixels are taken to be in the survey's unit already.
    """
    per_nmgy = 1.0 / survey.nanomaggies_per_unit
    if "nanomagg" in str(header.get("BUNIT", "")).lower():
        return per_nmgy, "BUNIT nanomaggy"
    if zeropoint is not None:
        return 10.0 ** (-0.4 * (zeropoint - 22.5)) * per_nmgy, f"zero point {zeropoint} (galtk.toml)"
    for key in ZEROPOINT_KEYWORDS:
        if key in header:
            value = float(header[key])
            return 10.0 ** (-0.4 * (value - 22.5)) * per_nmgy, f"zero point {value} ({key})"
    return 1.0, f"assumed {survey.unit}"


def cutout_header(
    *,
    survey: SurveySpec,
    centre: SkyCoord,
    bands: Sequence[str],
    size: int,
    pixel_scale: float | None = None,
    offset: tuple[float, float] = (0.0, 0.0),
) -> fits.Header:
    """WCS, unit, zero point, survey and band keywords of a 5-band cutout cube written by galtk.

    Parameters
    ----------
    survey : SurveySpec
        Target survey.
    centre : astropy.coordinates.SkyCoord
        Centre of the cube.
    bands : sequence of str
        Band of each plane.
    size : int
        Side of the cube in pixels.
    pixel_scale : float, optional
        Arcsec per pixel (default: the survey's).
    offset : tuple of float
        Where ``centre`` lies on the cube, as (x, y) pixels from its centre pixel (the store's
        ``offset_x``/``offset_y`` for cutouts of an image's own pixels; 0 for resampled ones).

    Returns
    -------
    astropy.io.fits.Header
    """
    icrs = centre.icrs
    scale = survey.pixel_scale if pixel_scale is None else float(pixel_scale)
    header = cutout_wcs(float(icrs.ra.deg), float(icrs.dec.deg), scale, size, offset).to_header()
    header.remove("MJDREF", ignore_missing=True)
    header["BUNIT"] = (BUNIT_OF_UNIT[survey.unit], f"pixel unit ({survey.unit})")
    header["PHOTZP"] = (UNIT_ZEROPOINTS[survey.unit], "AB magnitude of one BUNIT")
    header["SURVEY"] = (survey.name, f"grid, unit and noise of {survey.title}")
    header["BANDS"] = (",".join(bands), "band of each plane, in order")
    for number, band in enumerate(bands, start=1):
        header[f"FILTER{number:02d}"] = (band, f"band of plane {number}")
    return header
