"""What galtk knows about one imaging survey: :class:`SurveySpec`.

A survey is data: its bands, cutout grid, pixel unit and how that unit converts to nanomaggies, its typical
seeing and noise, and (for surveys read through HiPS) one HiPS identifier per band with the unit of the HiPS
pixels. The built-in descriptions are in :mod:`galtk.pipeline.surveys.presets`; a ``[surveys.NAME]`` table
of galtk.toml names one of them and overrides any field, or describes a survey from scratch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

#: AB magnitude of one nanomaggy is 22.5.
NANOMAGGY_ZEROPOINT: float = 22.5


def nanomaggies_per_count(zeropoint: float) -> float:
    """Nanomaggies in one pixel unit of AB zero point ``zeropoint`` (m = zeropoint - 2.5 log10 value)."""
    return 10.0 ** (-0.4 * (zeropoint - NANOMAGGY_ZEROPOINT))


#: 1 ADU at AB zero point 30 expressed in nanomaggies: 10**(-0.4 * (30 - 22.5)).
ZP30_ADU_IN_NANOMAGGIES: float = nanomaggies_per_count(30.0)


@dataclass(frozen=True)
class HipsBands:
    """How a survey's bands are read from HiPS.

    Parameters
    ----------
    ids : tuple of str
        One HiPS identifier per band of the survey, in band order (``CDS/P/2MASS/J`` ...).
    unit : str
        Unit of the HiPS pixel values as served (``counts/s``, ``nanomaggy`` ...).
    native_pixel_scale : float
        Pixel scale in arcsec of the images the HiPS was built from. HiPS pixel values are those of the
        native pixels, resampled: a flux per native pixel, not per pixel of the requested grid, so galtk
        multiplies them by the ratio of pixel areas. 0 where the values are not fluxes (photographic
        densities): they are kept as served.
    nanomaggies : tuple of float
        Nanomaggies in one HiPS unit per native pixel, per band; empty when the HiPS is not flux-calibrated
        (photographic densities, counts whose zero point varies from image to image).
    """

    ids: tuple[str, ...]
    unit: str
    native_pixel_scale: float
    nanomaggies: tuple[float, ...] = ()

    @property
    def calibrated(self) -> bool:
        """Whether the HiPS values convert to nanomaggies."""
        return bool(self.nanomaggies)


@dataclass(frozen=True)
class SurveySpec:
    """Everything galtk needs to know about one imaging survey.

    Parameters
    ----------
    name : str
        Short key used in configuration and store attributes (``"sdss"``, ``"cfht"``, ``"2mass"``).
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
        Multiply stored pixel values by this to get nanomaggies (1.0 where ``calibrated`` is false: the
        values are kept in their own unit and no magnitude can be derived from them).
    seeing_fwhm : dict of str to float
        Typical PSF FWHM per band in arcsec.
    noise_sigma_nmgy : dict of str to float
        Typical per-pixel background noise standard deviation per band, in nanomaggies.
    wavelength_nm : dict of str to float
        Effective wavelength per band in nanometres (empty where unknown).
    calibrated : bool
        Whether stored pixels convert to nanomaggies (false for photographic densities, and counts whose zero
        point is not known).
    hips : HipsBands, optional
        How the bands are read through hips2fits, when the survey is published as HiPS.
    archive : str
        The cutout source that reads the survey from its archive (``sdss``, ``cfhtls``, ``hips``; empty when
        galtk has none): what ``galtk init`` writes as the survey's ``source``.
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
    wavelength_nm: dict[str, float] = field(default_factory=dict)
    calibrated: bool = True
    hips: HipsBands | None = None
    archive: str = ""

    @property
    def cutout_arcsec(self) -> float:
        """Side of a cutout in arcsec."""
        return self.pixel_scale * self.cutout_size

    def hips_factors(self) -> tuple[float, ...]:
        """Per band, what turns a served HiPS value into a stored pixel value.

        The HiPS unit's nanomaggies over the stored unit's (when both are calibrated) times the ratio of the
        cutout's pixel area to the native pixel's (when the HiPS holds fluxes per native pixel).

        Raises
        ------
        ValueError
            If the survey is not read through HiPS.
        """
        if self.hips is None:
            raise ValueError(f"{self.name} has no HiPS (give one HiPS identifier per band)")
        native = self.hips.native_pixel_scale
        area = (self.pixel_scale / native) ** 2 if native > 0 else 1.0
        if self.hips.calibrated and self.calibrated:
            return tuple(area * value / self.nanomaggies_per_unit for value in self.hips.nanomaggies)
        return (area,) * len(self.bands)

    @property
    def zeropoint(self) -> float:
        """AB zero point of the stored unit (m = zeropoint - 2.5 log10 value); NaN when not calibrated."""
        if not self.calibrated:
            return math.nan
        return NANOMAGGY_ZEROPOINT - 2.5 * math.log10(self.nanomaggies_per_unit)


def with_bands(spec: SurveySpec, bands: tuple[str, ...]) -> SurveySpec:
    """``spec`` restricted to ``bands`` (a subset of its bands, in any order), its HiPS bands with them.

    Raises
    ------
    ValueError
        If a band is not one of ``spec``'s, or ``bands`` is empty or repeats a band.
    """
    unknown = [band for band in bands if band not in spec.bands]
    if unknown or not bands or len(set(bands)) != len(bands):
        raise ValueError(f"bands must be distinct names among {', '.join(spec.bands)}, got {list(bands)}")
    hips = spec.hips
    if hips is not None:
        index = [spec.bands.index(band) for band in bands]
        hips = HipsBands(
            ids=tuple(hips.ids[i] for i in index),
            unit=hips.unit,
            native_pixel_scale=hips.native_pixel_scale,
            nanomaggies=tuple(hips.nanomaggies[i] for i in index) if hips.calibrated else (),
        )

    def keep(values: dict[str, float]) -> dict[str, float]:
        return {band: values[band] for band in bands if band in values}

    return replace(
        spec,
        bands=tuple(bands),
        seeing_fwhm=keep(spec.seeing_fwhm),
        noise_sigma_nmgy=keep(spec.noise_sigma_nmgy),
        wavelength_nm=keep(spec.wavelength_nm),
        hips=hips,
    )
