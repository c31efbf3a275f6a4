"""The synthetic sky as a cutout source (SPEC section 9).

The same galaxies are observed as SDSS-like frames (0.396"/px, nanomaggies, each band with its own rotated
and shifted WCS) and CFHT-like north-up tiles (0.186"/px, AB zero point 30 ADU), rendered on those images'
own pixels with every neighbour, the image's PSF and its noise
(:mod:`galtk.pipeline.synthetic.frames`), and then cut out by the same code as real images
(:func:`galtk.pipeline.resample.cut_image`): SDSS cutouts are resampled with the survey's ``resampling``
kernel, CFHT cutouts are the tiles' own pixels. Any other survey (a HiPS preset, a survey described in
galtk.toml) is observed on north-up tiles at its own pixel scale, like CFHT, with its own seeing and noise,
and sees each galaxy at its bands' wavelengths (:mod:`galtk.pipeline.synthetic.seds`).

Ground truth is stored per image and band: ``noise_sigma`` is the per-pixel noise sigma of the cutout (the
image's ``frame_noise_sigma`` times the ``noise_gain`` of the cut), ``psf_fwhm`` the PSF's FWHM. Positions
carry a small per-survey astrometric error, so the two surveys' catalogs differ slightly, like real ones.
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

from galtk.errors import GaltkError
from galtk.pipeline.geometry import chord_length, unit_vectors
from galtk.pipeline.resample import check_kernel, cut_image
from galtk.pipeline.sources.base import CUT_EXTRAS, CutoutSource, ObjectList
from galtk.pipeline.stores.cutout_store import STATE_DONE, CutoutBatch, ExtraArray
from galtk.pipeline.surveys import BANDS, NANOMAGGY_ZEROPOINT, SurveySpec
from galtk.pipeline.synthetic.catalog import GalaxyCatalog, SimSkyParams, make_galaxy_catalog
from galtk.pipeline.synthetic.frames import (
    BAND_ANGLE_SCATTER,
    FRAME_ANGLE_RANGE,
    Galaxies,
    cfht_tile_patch,
    render_patch,
    sdss_frame_patch,
    tile_centre,
)
from galtk.pipeline.synthetic.seds import magnitudes_at

#: A neighbour is drawn when it lies within the cutout's half-diagonal plus its reach: this many half-light
#: radii plus this many PSF widths (at most _NEIGHBOUR_MARGIN_ARCSEC). Beyond 4 half-light radii an
#: exponential disc holds 0.2 % of its light, a de Vaucouleurs profile 9 %, spread thinly far below the noise.
_REACH_HALF_LIGHT_RADII = 4.0
_REACH_PSF_FWHM = 2.0
_NEIGHBOUR_MARGIN_ARCSEC = 12.0


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
        Gaussian correlation length of the images' background noise in their pixels (0 = white noise).
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
    ExtraArray("noise_sigma", True, "float32", "", "true per-pixel background noise sigma of the cutout"),
    ExtraArray(
        "frame_noise_sigma", True, "float32", "", "true per-pixel noise sigma of the image it was cut from"
    ),
    ExtraArray("psf_fwhm", True, "float32", "arcsec", "true PSF full width at half maximum"),
    *CUT_EXTRAS,
)


class SimSource(CutoutSource):
    """Cutouts of survey images rendered from a synthetic galaxy catalog.

    Parameters
    ----------
    sky : SimSkyParams
        The galaxy catalog (region, number, overlap, seed).
    imaging : SimImagingParams
        Seeing, noise and astrometric errors.
    kernel : {"lanczos3", "bilinear", "nearest"}
        Resampling kernel of the cutouts that are not on their image's own pixels (``resampling`` of
        ``[surveys.NAME]``; :mod:`galtk.pipeline.resample`).
    """

    name = "sim"
    parallelism = "processes"  # the Fourier rendering and the resampling hold the GIL

    def __init__(
        self, sky: SimSkyParams, imaging: SimImagingParams | None = None, *, kernel: str = "lanczos3"
    ) -> None:
        self.sky = sky
        self.imaging = imaging or SimImagingParams()
        self.kernel = check_kernel(kernel, GaltkError)

    @cached_property
    def catalog(self) -> GalaxyCatalog:
        """The true galaxy catalog."""
        return make_galaxy_catalog(self.sky)

    @cached_property
    def _tree(self) -> cKDTree:
        return cKDTree(unit_vectors(self.catalog.ra, self.catalog.dec))

    def describe(self) -> Mapping[str, Any]:
        return {
            "kind": self.name,
            "sky": asdict(self.sky),
            "imaging": asdict(self.imaging),
            "resampling": self.kernel,
        }

    def extras(self, survey: SurveySpec) -> tuple[ExtraArray, ...]:
        return SIM_EXTRAS

    def members(self, survey: SurveySpec) -> np.ndarray:
        """Catalog row of each object of ``survey``'s sample, in store order.

        The paper's two surveys (whatever their tables' names: the surveys of the ``sdss`` and ``cfht``
        presets, read from the ``sdss`` and ``cfhtls`` archives) observe overlapping samples (``overlap``
        and ``sdss_only`` of ``[sim]``); any other survey observes every galaxy of the region.
        """
        return self._members.get(survey.archive, self._members["all"])

    @cached_property
    def _members(self) -> dict[str, np.ndarray]:
        """Sample rows per survey archive, found once rather than for every batch of cutouts."""
        return {
            "sdss": np.flatnonzero(self.catalog.in_sdss),
            "cfhtls": np.flatnonzero(self.catalog.in_cfht),
            "all": np.arange(len(self.catalog)),
        }

    def flux(self, survey: SurveySpec, rows: np.ndarray) -> np.ndarray:
        """True total flux of catalog ``rows`` in each band of ``survey``, in the survey's unit.

        Bands named u g r i z take the catalog's magnitudes; any other band the galaxy's SED at the band's
        effective wavelength (:func:`~galtk.pipeline.synthetic.seds.magnitudes_at`).

        Raises
        ------
        GaltkError
            If a band is not one of u g r i z and the survey gives no wavelength for it.
        """
        mag = self.catalog.mag[rows]
        out = np.empty((len(rows), len(survey.bands)))
        for column, band in enumerate(survey.bands):
            if band in BANDS:
                out[:, column] = mag[:, BANDS.index(band)]
            elif band in survey.wavelength_nm:
                out[:, column] = magnitudes_at(mag, [survey.wavelength_nm[band]])[:, 0]
            else:
                raise GaltkError(
                    f"the synthetic sky needs the effective wavelength of {survey.name}'s {band} band "
                    "(wavelength_nm of its [surveys.NAME] table)"
                )
        return 10.0 ** (-0.4 * (out - NANOMAGGY_ZEROPOINT)) / survey.nanomaggies_per_unit

    def objects(self, survey: SurveySpec) -> ObjectList:
        members = self.members(survey)
        rng = np.random.default_rng(np.random.SeedSequence([self.sky.seed, _survey_code(survey), 1]))
        error = self.imaging.astrometric_error_arcsec / 3600.0
        dec = self.catalog.dec[members] + rng.normal(0.0, error, len(members))
        ra = self.catalog.ra[members] + rng.normal(0.0, error, len(members)) / np.cos(np.deg2rad(dec))
        return ObjectList(ids=self.catalog.ids[members], ra=ra % 360.0, dec=dec)

    def cutouts(self, survey: SurveySpec, objects: ObjectList, rows: np.ndarray) -> CutoutBatch:
        members = self.members(survey)
        n, size, n_bands = len(rows), survey.cutout_size, len(survey.bands)
        images = np.empty((n, n_bands, size, size), dtype=np.float32)
        extras = {array.name: np.empty((n, n_bands), dtype=np.float32) for array in SIM_EXTRAS}
        for out, row in enumerate(rows):
            cut = self._observe(survey, int(members[row]), float(objects.ra[row]), float(objects.dec[row]))
            images[out] = cut.pop("images")
            for name, values in cut.items():
                extras[name][out] = values
        return CutoutBatch(
            images=images,
            valid=np.ones((n, n_bands), dtype=bool),
            state=np.full(n, STATE_DONE, dtype=np.uint8),
            extras=extras,
        )

    def _observe(self, survey: SurveySpec, catalog_row: int, ra: float, dec: float) -> dict[str, np.ndarray]:
        """One object's images in every band, cut out at the survey catalog's (ra, dec), with their truth."""
        rng = np.random.default_rng(
            np.random.SeedSequence([self.sky.seed, _survey_code(survey), 2, catalog_row])
        )
        n_bands = len(survey.bands)
        described = set(survey.seeing_fwhm) & set(survey.noise_sigma_nmgy)
        missing = [band for band in survey.bands if band not in described]
        if missing:
            raise GaltkError(
                f"the synthetic sky needs the typical seeing and noise of {survey.name}'s "
                f"{', '.join(missing)} band (seeing_fwhm and noise_sigma_nmgy of its [surveys.NAME] table)"
            )
        seeing = np.array([survey.seeing_fwhm[band] for band in survey.bands])
        seeing = seeing * np.exp(rng.normal(0.0, self.imaging.seeing_scatter, n_bands))
        sigma_nmgy = np.array([survey.noise_sigma_nmgy[band] for band in survey.bands])
        sigma_nmgy = sigma_nmgy * self.imaging.noise_scale
        sigma_nmgy = sigma_nmgy * np.exp(rng.normal(0.0, self.imaging.noise_scatter, n_bands))
        sigma = sigma_nmgy / survey.nanomaggies_per_unit
        centre_ra, centre_dec = float(self.catalog.ra[catalog_row]), float(self.catalog.dec[catalog_row])
        rotated = survey.archive == "sdss"  # SDSS frames lie along the scan, not north-up
        galaxies = self._galaxies_near(survey, ra, dec, float(seeing.max()))
        if rotated:
            angle = rng.uniform(-FRAME_ANGLE_RANGE, FRAME_ANGLE_RANGE)
            angles = angle + rng.normal(0.0, BAND_ANGLE_SCATTER, n_bands)
            phases = rng.random((n_bands, 2))
            patches = [
                sdss_frame_patch(centre_ra, centre_dec, survey, a, p)
                for a, p in zip(angles, phases, strict=True)
            ]
        else:
            tile = tile_centre(centre_ra, centre_dec, self.sky.ra, self.sky.dec)
            patches = [cfht_tile_patch(centre_ra, centre_dec, survey, tile)] * n_bands
        out = {name: np.empty(n_bands, np.float32) for name in ("noise_gain", "offset_x", "offset_y")}
        out["images"] = np.empty((n_bands, survey.cutout_size, survey.cutout_size), np.float32)
        for band, (wcs, pixels) in enumerate(
            zip(patches, render_patch(galaxies, patches, seeing), strict=True)
        ):
            pixels += self._noise(rng, sigma[band], pixels.shape)
            cut = cut_image(
                pixels,
                wcs,
                np.array([ra]),
                np.array([dec]),
                survey.pixel_scale,
                survey.cutout_size,
                kernel=self.kernel,
            )
            out["images"][band] = cut.cutouts[0]
            out["noise_gain"][band] = cut.noise_gain[0]
            out["offset_x"][band], out["offset_y"][band] = cut.offset[0]
        out["frame_noise_sigma"] = sigma.astype(np.float32)
        out["noise_sigma"] = (sigma * out["noise_gain"]).astype(np.float32)
        out["psf_fwhm"] = seeing.astype(np.float32)
        return out

    def _galaxies_near(self, survey: SurveySpec, ra0: float, dec0: float, psf_fwhm: float) -> Galaxies:
        """Every catalog galaxy whose light can reach the cutout centred on (ra0, dec0)."""
        half_diagonal = survey.cutout_arcsec / np.sqrt(2.0)
        radius = half_diagonal + _NEIGHBOUR_MARGIN_ARCSEC
        near = self._tree.query_ball_point(unit_vectors(ra0, dec0), chord_length(radius / 3600.0))
        near = np.array(sorted(near), dtype=int)
        catalog = self.catalog
        reach = np.minimum(
            _REACH_HALF_LIGHT_RADII * catalog.r_eff[near] + _REACH_PSF_FWHM * psf_fwhm,
            _NEIGHBOUR_MARGIN_ARCSEC,
        )
        chords = np.linalg.norm(
            unit_vectors(catalog.ra[near], catalog.dec[near]) - unit_vectors(ra0, dec0), axis=-1
        )
        near = near[chords <= chord_length((half_diagonal + reach) / 3600.0)]
        return Galaxies(
            ra=catalog.ra[near],
            dec=catalog.dec[near],
            sersic_n=catalog.sersic_n[near],
            r_eff=catalog.r_eff[near],
            axis_ratio=catalog.axis_ratio[near],
            position_angle=catalog.position_angle[near],
            flux=self.flux(survey, near),
        )

    def _noise(self, rng: np.random.Generator, sigma: float, shape: tuple[int, int]) -> np.ndarray:
        white = rng.standard_normal(shape)
        length = self.imaging.noise_correlation_px
        if length > 0:
            white = ndimage.gaussian_filter(white, sigma=length, mode="wrap")
            white /= _smoothing_gain(length)
        return (white * sigma).astype(np.float32)


@lru_cache(maxsize=16)
def _smoothing_gain(length: float) -> float:
    """Standard deviation of unit white noise after Gaussian smoothing of width ``length`` px."""
    impulse = np.zeros((129, 129))
    impulse[64, 64] = 1.0
    kernel = ndimage.gaussian_filter(impulse, sigma=length, mode="wrap")
    return float(np.sqrt(np.sum(kernel**2)))


def _survey_code(survey: SurveySpec) -> int:
    return zlib.crc32(survey.name.encode())
