"""Built-in survey descriptions: the paper's SDSS and CFHTLS, and common surveys published as HiPS.

A ``[surveys.NAME]`` table names one of these with ``preset = "..."`` (or by being called by its name) and
overrides any field. Sources of the figures:

- SDSS and CFHTLS Wide: SPEC section 2 (pixel scales, units, zero points), typical image quality per band.
- HiPS identifiers: the CDS HiPS list (``CDS/P/...``), read through hips2fits.
- HiPS pixel units: as the HiPS hold them, per native pixel: SDSS9 and Legacy Surveys DR10 in nanomaggies
  (Dey et al. 2019), unWISE in Vega nanomaggies (Lang 2014; AB - Vega = 2.699 in W1 and 3.339 in W2, Jarrett
  et al. 2011), GALEX GR6/7 intensity maps in counts/s (AB zero points 18.82 FUV and 20.08 NUV, Morrissey et
  al. 2007). DSS2 holds photographic densities, 2MASS Atlas DN and Pan-STARRS1 DR1 stack counts, whose zero
  points vary from plate or image to image and are not in hips2fits cutouts: those presets are not
  calibrated (pixels are kept in their own unit; no magnitude is derived from them).
- Seeing: typical PSF FWHM of each survey (DSS2 plates about 2-2.5"; 2MASS 2.5-3"; GALEX 4.2" FUV and 5.3"
  NUV; Pan-STARRS1 median 1.0-1.3"; DECaLS 1.3-1.5"; WISE 6.1" W1 and 6.4" W2).
- Cutouts: about 50" for the fine-pixelled surveys (SDSS9, Pan-STARRS1, Legacy Surveys), 54-55" for the
  coarse ones (DSS2, 2MASS, GALEX, unWISE), so that an input survey's cutout covers a target's grid whole
  for multi-input translation.
- Noise: an approximate per-pixel sigma in nanomaggies from each survey's 5-sigma point-source depth and
  seeing, used by the synthetic sky only.
"""

from __future__ import annotations

from galtk.pipeline.surveys.spec import (
    ZP30_ADU_IN_NANOMAGGIES,
    HipsBands,
    SurveySpec,
    nanomaggies_per_count,
)

BANDS: tuple[str, ...] = ("u", "g", "r", "i", "z")
"""The bands of the paper's two surveys."""

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
    wavelength_nm={"u": 355.0, "g": 469.0, "r": 617.0, "i": 748.0, "z": 893.0},
    archive="sdss",
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
    wavelength_nm={"u": 374.0, "g": 487.0, "r": 625.0, "i": 770.0, "z": 890.0},
    archive="cfhtls",
)

#: The paper's two surveys: the pair its methods translate between.
SURVEYS: dict[str, SurveySpec] = {spec.name: spec for spec in (SDSS, CFHT)}


def _hips_survey(
    name: str,
    title: str,
    bands: dict[str, tuple[str, float, float, float]],
    *,
    pixel_scale: float,
    cutout_size: int,
    hips_unit: str,
    nanomaggies: tuple[float, ...] = (),
    release: str = "",
    flux_pixels: bool = True,
) -> SurveySpec:
    """A HiPS survey; ``bands`` maps each band to (HiPS id, wavelength nm, seeing FWHM ", noise sigma nmgy).

    ``flux_pixels`` is false where the HiPS values are not fluxes per native pixel (photographic densities).
    """
    calibrated = bool(nanomaggies)
    return SurveySpec(
        name=name,
        title=title,
        release=release,
        bands=tuple(bands),
        pixel_scale=pixel_scale,
        cutout_size=cutout_size,
        unit="nanomaggy" if calibrated else hips_unit,
        nanomaggies_per_unit=1.0,
        seeing_fwhm={band: values[2] for band, values in bands.items()},
        noise_sigma_nmgy={band: values[3] for band, values in bands.items()},
        wavelength_nm={band: values[1] for band, values in bands.items()},
        calibrated=calibrated,
        hips=HipsBands(
            ids=tuple(values[0] for values in bands.values()),
            unit=hips_unit,
            native_pixel_scale=pixel_scale if flux_pixels else 0.0,
            nanomaggies=nanomaggies,
        ),
        archive="hips",
    )


HIPS_SURVEYS: tuple[SurveySpec, ...] = (
    _hips_survey(
        "dss2",
        "DSS2 (photographic plates)",
        {
            "blue": ("CDS/P/DSS2/blue", 468.0, 2.5, 0.05),
            "red": ("CDS/P/DSS2/red", 650.0, 2.2, 0.27),
            "ir": ("CDS/P/DSS2/NIR", 850.0, 2.2, 0.9),
        },
        pixel_scale=1.008,
        cutout_size=54,
        hips_unit="photographic density",
        flux_pixels=False,
    ),
    _hips_survey(
        "2mass",
        "2MASS",
        {
            "J": ("CDS/P/2MASS/J", 1235.0, 2.9, 8.2),
            "H": ("CDS/P/2MASS/H", 1662.0, 2.8, 9.8),
            "K": ("CDS/P/2MASS/K", 2159.0, 2.8, 13.0),
        },
        pixel_scale=1.0,
        cutout_size=54,
        hips_unit="DN",
    ),
    _hips_survey(
        "galex",
        "GALEX GR6/7",
        {
            "FUV": ("CDS/P/GALEXGR6_7/FUV", 154.0, 4.2, 0.44),
            "NUV": ("CDS/P/GALEXGR6_7/NUV", 231.0, 5.3, 0.15),
        },
        pixel_scale=1.5,
        cutout_size=36,
        hips_unit="counts/s",
        nanomaggies=(nanomaggies_per_count(18.82), nanomaggies_per_count(20.08)),
        release="GR6/7",
    ),
    _hips_survey(
        "sdss9",
        "SDSS DR9 (HiPS)",
        {
            band: (f"CDS/P/SDSS9/{band}", SDSS.wavelength_nm[band], SDSS.seeing_fwhm[band], sigma)
            for band, sigma in SDSS.noise_sigma_nmgy.items()
        },
        pixel_scale=0.396,
        cutout_size=128,
        hips_unit="nanomaggy",
        nanomaggies=(1.0,) * 5,
        release="DR9",
    ),
    _hips_survey(
        "ps1",
        "Pan-STARRS1 DR1",
        {
            "g": ("CDS/P/PanSTARRS/DR1/g", 481.0, 1.31, 0.023),
            "r": ("CDS/P/PanSTARRS/DR1/r", 617.0, 1.19, 0.025),
            "i": ("CDS/P/PanSTARRS/DR1/i", 752.0, 1.11, 0.027),
            "z": ("CDS/P/PanSTARRS/DR1/z", 866.0, 1.07, 0.057),
            "y": ("CDS/P/PanSTARRS/DR1/y", 962.0, 1.02, 0.13),
        },
        pixel_scale=0.25,
        cutout_size=200,
        hips_unit="counts",
        release="DR1",
    ),
    _hips_survey(
        "legacy",
        "DESI Legacy Imaging Surveys DR10",
        {
            "g": ("CDS/P/DESI-Legacy-Surveys/DR10/g", 482.0, 1.5, 0.011),
            "r": ("CDS/P/DESI-Legacy-Surveys/DR10/r", 642.0, 1.35, 0.020),
            "z": ("CDS/P/DESI-Legacy-Surveys/DR10/z", 916.0, 1.3, 0.045),
        },
        pixel_scale=0.262,
        cutout_size=192,
        hips_unit="nanomaggy",
        nanomaggies=(1.0, 1.0, 1.0),
        release="DR10",
    ),
    _hips_survey(
        "unwise",
        "unWISE (neo coadds)",
        {
            "W1": ("CDS/P/unWISE/W1", 3368.0, 6.1, 0.43),
            "W2": ("CDS/P/unWISE/W2", 4618.0, 6.4, 0.62),
        },
        pixel_scale=2.75,
        cutout_size=20,
        hips_unit="Vega nanomaggy",
        nanomaggies=(nanomaggies_per_count(22.5 + 2.699), nanomaggies_per_count(22.5 + 3.339)),
    ),
)

#: Every built-in survey description, by name.
PRESETS: dict[str, SurveySpec] = {spec.name: spec for spec in (SDSS, CFHT, *HIPS_SURVEYS)}


def get_survey(name: str) -> SurveySpec:
    """Return the built-in survey description called ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`PRESETS` (case-insensitive): ``"sdss"``, ``"cfht"``, ``"2mass"`` ...

    Returns
    -------
    SurveySpec

    Raises
    ------
    KeyError
        If no preset has that name; the message lists the known ones.
    """
    try:
        return PRESETS[name.lower()]
    except KeyError:
        raise KeyError(f"unknown survey {name!r}; known surveys: {', '.join(PRESETS)}") from None
