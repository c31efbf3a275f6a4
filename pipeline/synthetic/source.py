"""The synthetic sky as a cutout source (SPEC section 9).

The same galaxies are rendered as SDSS-like cutouts (64 px at 0.396"/px, nanomaggies) and CFHT-like cutouts
(136 px at 0.186"/px, AB zero point 30 ADU): Sersic profiles convolved with each survey's Moffat PSF at the
image's own seeing, every catalog galaxy near the cutout included (neighbours), plus Gaussian background noise
whose sigma varies per image and band. The true noise sigma and PSF FWHM of each image and band are stored
(``noise_sigma``, ``psf_fwhm``) as ground truth. Positions carry a small per-survey astrometric error, so the
two surveys' catalogs differ slightly, like real ones.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from galtk.pipeline.geometry import chord_length, sky_to_cutout_pixels, unit_vectors
from galtk.pipeline.sources.base import CutoutSource, ObjectList
from galtk.pipeline.stores.cutout_store import STATE_DONE, CutoutBatch, ExtraArray
from galtk.pipeline.surveys import BANDS, SurveySpec
from galtk.pipeline.synthetic.catalog import GalaxyCatalog, SimSkyParams, make_galaxy_catalog
from galtk.pipeline.synthetic.render import GalaxyShapes, render_galaxies

#: Catalog galaxies centred up to this far beyond a cutout's edges are drawn on it (arcsec). The rendering
#: grid is twice the cutout, so with this margin every drawn galaxy's light stays unwrapped for at least
#: 15 arcsec around its centre (see galtk.pipeline.synthetic.render).
_NEIGHBOUR_MARGIN_ARCSEC = 10.0


@dataclass(frozen=True)
class SimImagingParams:
    """Observing conditions of the synthetic images.

    Parameters
    ----------
    seeing_scatter : float
        Log-normal scatter of each image's PSF FWHM around the survey's typical seeing (0.1 = 10 %).
    noise_scale : float
        Multiplies every survey's typical background noise.
    noise_scatter : float
        Log-normal scatter of each image's noise sigma around the typical value.
    noise_correlation_px : float
        Gaussian correlation length of the background noise in pixels (0 = white noise).
    astrometric_error_arcsec : float
        Per-axis standard deviation of each survey's catalog positions around the true positions.
    """

    seeing_scatter: float = 0.1
    noise_scale: float = 1.0
    noise_scatter: float = 0.2
    noise_correlation_px: float = 0.0
    astrometric_error_arcsec: float = 0.05

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")


SIM_EXTRAS = (
    ExtraArray("noise_sigma", True, "float32", "", "true per-pixel background noise sigma (pixel unit)"),
    ExtraArray("psf_fwhm", True, "float32", "arcsec", "true PSF full width at half maximum"),
)


class SimSource(CutoutSource):
    """Cutouts rendered from a synthetic galaxy catalog.

    Parameters
    ----------
    sky : SimSkyParams
        The galaxy catalog (region, number, overlap, seed).
    imaging : SimImagingParams
        Seeing, noise and astrometric errors.
    """

    name = "sim"
    parallelism = "processes"  # the per-galaxy Fourier transforms hold the GIL for most of their time

    def __init__(self, sky: SimSkyParams, imaging: SimImagingParams | None = None) -> None:
        self.sky = sky
        self.imaging = imaging or SimImagingParams()

    @cached_property
    def catalog(self) -> GalaxyCatalog:
        """The true galaxy catalog."""
        return make_galaxy_catalog(self.sky)

    @cached_property
    def _tree(self) -> cKDTree:
        return cKDTree(unit_vectors(self.catalog.ra, self.catalog.dec))

    def describe(self) -> Mapping[str, Any]:
        return {"kind": self.name, "sky": asdict(self.sky), "imaging": asdict(self.imaging)}

    def extras(self, survey: SurveySpec) -> tuple[ExtraArray, ...]:
        return SIM_EXTRAS

    def members(self, survey: SurveySpec) -> np.ndarray:
        """Catalog row of each object of ``survey``'s sample, in store order."""
        if survey.name not in ("sdss", "cfht"):
            raise ValueError(f"the synthetic sky renders sdss and cfht only, not {survey.name!r}")
        return self._members[survey.name]

    @cached_property
    def _members(self) -> dict[str, np.ndarray]:
        """Sample rows per survey, found once rather than for every batch of cutouts."""
        return {"sdss": np.flatnonzero(self.catalog.in_sdss), "cfht": np.flatnonzero(self.catalog.in_cfht)}

    def objects(self, survey: SurveySpec) -> ObjectList:
        members = self.members(survey)
        rng = np.random.default_rng(np.random.SeedSequence([self.sky.seed, _survey_code(survey), 1]))
        error = self.imaging.astrometric_error_arcsec / 3600.0
        dec = self.catalog.dec[members] + rng.normal(0.0, error, len(members))
        ra = self.catalog.ra[members] + rng.normal(0.0, error, len(members)) / np.cos(np.deg2rad(dec))
        return ObjectList(ids=self.catalog.ids[members], ra=ra % 360.0, dec=dec)

    def cutouts(self, survey: SurveySpec, objects: ObjectList, rows: np.ndarray) -> CutoutBatch:
        members = self.members(survey)
        band_index = [BANDS.index(band) for band in survey.bands]
        n, size, n_bands = len(rows), survey.cutout_size, len(survey.bands)
        images = np.empty((n, n_bands, size, size), dtype=np.float32)
        noise_sigma = np.empty((n, n_bands), dtype=np.float32)
        psf_fwhm = np.empty((n, n_bands), dtype=np.float32)
        for out, row in enumerate(rows):
            catalog_row = int(members[row])
            rng = np.random.default_rng(
                np.random.SeedSequence([self.sky.seed, _survey_code(survey), 2, catalog_row])
            )
            seeing = np.array([survey.seeing_fwhm[band] for band in survey.bands])
            seeing = seeing * np.exp(rng.normal(0.0, self.imaging.seeing_scatter, n_bands))
            sigma_nmgy = np.array([survey.noise_sigma_nmgy[band] for band in survey.bands])
            sigma_nmgy = sigma_nmgy * self.imaging.noise_scale
            sigma_nmgy = sigma_nmgy * np.exp(rng.normal(0.0, self.imaging.noise_scatter, n_bands))
            sigma = sigma_nmgy / survey.nanomaggies_per_unit
            galaxies = self._galaxies_on_cutout(survey, objects.ra[row], objects.dec[row], band_index)
            pixels = render_galaxies(galaxies, seeing / survey.pixel_scale, size)
            pixels += self._noise(rng, sigma, (n_bands, size, size))
            images[out] = pixels
            noise_sigma[out] = sigma
            psf_fwhm[out] = seeing
        return CutoutBatch(
            images=images,
            valid=np.ones((n, n_bands), dtype=bool),
            state=np.full(n, STATE_DONE, dtype=np.uint8),
            extras={"noise_sigma": noise_sigma, "psf_fwhm": psf_fwhm},
        )

    def _galaxies_on_cutout(
        self, survey: SurveySpec, ra0: float, dec0: float, band_index: list[int]
    ) -> GalaxyShapes:
        """Every catalog galaxy close enough to the cutout centred on (ra0, dec0) to put light on it."""
        half_width = survey.cutout_arcsec / 2.0 + _NEIGHBOUR_MARGIN_ARCSEC
        chord = chord_length(half_width * np.sqrt(2.0) / 3600.0)
        near = np.array(sorted(self._tree.query_ball_point(unit_vectors(ra0, dec0), chord)), dtype=int)
        catalog = self.catalog
        x, y = sky_to_cutout_pixels(
            catalog.ra[near], catalog.dec[near], ra0, dec0, survey.pixel_scale, survey.cutout_size
        )
        centre = (survey.cutout_size - 1) / 2.0
        limit = half_width / survey.pixel_scale
        inside = (np.abs(x - centre) <= limit) & (np.abs(y - centre) <= limit)
        near, x, y = near[inside], x[inside], y[inside]
        flux = catalog.flux_nmgy[np.ix_(near, band_index)] / survey.nanomaggies_per_unit
        return GalaxyShapes(
            x=x,
            y=y,
            sersic_n=catalog.sersic_n[near],
            r_eff_px=catalog.r_eff[near] / survey.pixel_scale,
            axis_ratio=catalog.axis_ratio[near],
            position_angle=catalog.position_angle[near],
            flux=flux,
        )

    def _noise(self, rng: np.random.Generator, sigma: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
        white = rng.standard_normal(shape)
        length = self.imaging.noise_correlation_px
        if length > 0:
            white = ndimage.gaussian_filter(white, sigma=(0, length, length), mode="wrap")
            white /= _smoothing_gain(length)
        return white * sigma[:, None, None]


@lru_cache(maxsize=16)
def _smoothing_gain(length: float) -> float:
    """Standard deviation of unit white noise after Gaussian smoothing of width ``length`` px."""
    impulse = np.zeros((129, 129))
    impulse[64, 64] = 1.0
    kernel = ndimage.gaussian_filter(impulse, sigma=length, mode="wrap")
    return float(np.sqrt(np.sum(kernel**2)))


def _survey_code(survey: SurveySpec) -> int:
    return zlib.crc32(survey.name.encode())
