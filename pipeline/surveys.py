"""Facts about the two surveys (SPEC section 2) in one place.

Every other module asks :func:`get_survey` for pixel scales, cutout sizes, units and typical seeing and noise
instead of repeating the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

BANDS: tuple[str, ...] = ("u", "g", "r", "i", "z")

#: 1 ADU at AB zero point 30 expressed in nanomaggies: 10**(-0.4 * (30 - 22.5)).
ZP30_ADU_IN_NANOMAGGIES: float = 10.0 ** (-0.4 * (30.0 - 22.5))


@dataclass(frozen=True)
class SurveySpec:
    """Everything galtk needs to know about one imaging survey.

    Parameters
    ----------
    name : str
        Short key used in configuration and store attributes (``"sdss"``, ``"cfht"``).
    title : str
        Human-readable survey and release name.
    release : str
        Data release of the images.
    bands : tuple of str
        Band names in store order.
    pixel_scale : float
        Pixel scale of the cutouts in arcsec per pixel.
    cutout_size : int
        Side of the square cutouts in pixels.
    unit : str
        Flux unit of the stored pixels (FITS BUNIT spelling).
    nanomaggies_per_unit : float
        Multiply stored pixel values by this to get nanomaggies.
    seeing_fwhm : dict of str to float
        Typical PSF FWHM per band in arcsec.
    noise_sigma_nmgy : dict of str to float
        Typical per-pixel background noise standard deviation per band, in nanomaggies.
    """

    name: str
    title: str
    release: str
    bands: tuple[str, ...]
    pixel_scale: float
    cutout_size: int
    unit: str
    nanomaggies_per_unit: float
    seeing_fwhm: dict[str, float]
    noise_sigma_nmgy: dict[str, float]

    @property
    def cutout_arcsec(self) -> float:
        """Side of a cutout in arcsec."""
        return self.pixel_scale * self.cutout_size


SDSS = SurveySpec(
    name="sdss",
    title="SDSS",
    release="DR12",
    bands=BANDS,
    pixel_scale=0.396,
    cutout_size=64,
    unit="nanomaggy",
    nanomaggies_per_unit=1.0,
    # Median PSF FWHM of the SDSS imaging survey (arcsec).
    seeing_fwhm={"u": 1.53, "g": 1.44, "r": 1.32, "i": 1.26, "z": 1.29},
    noise_sigma_nmgy={"u": 0.060, "g": 0.025, "r": 0.030, "i": 0.045, "z": 0.120},
)

CFHT = SurveySpec(
    name="cfht",
    title="CFHTLS Wide",
    release="T0007",
    bands=BANDS,
    pixel_scale=0.186,
    cutout_size=136,
    unit="adu_zp30",
    nanomaggies_per_unit=ZP30_ADU_IN_NANOMAGGIES,
    # Typical CFHTLS Wide image quality per band (arcsec).
    seeing_fwhm={"u": 0.85, "g": 0.78, "r": 0.71, "i": 0.64, "z": 0.68},
    # About ten times lower than SDSS per pixel, in nanomaggies.
    noise_sigma_nmgy={"u": 0.0060, "g": 0.0030, "r": 0.0035, "i": 0.0045, "z": 0.0110},
)

SURVEYS: dict[str, SurveySpec] = {spec.name: spec for spec in (SDSS, CFHT)}


def get_survey(name: str) -> SurveySpec:
    """Return the :class:`SurveySpec` called ``name``.

    Parameters
    ----------
    name : str
        ``"sdss"`` or ``"cfht"`` (case-insensitive).

    Returns
    -------
    SurveySpec

    Raises
    ------
    KeyError
        If no survey has that name; the message lists the known ones.
    """
    try:
        return SURVEYS[name.lower()]
    except KeyError:
        raise KeyError(f"unknown survey {name!r}; known surveys: {', '.join(SURVEYS)}") from None
