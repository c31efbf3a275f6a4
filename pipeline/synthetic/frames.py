"""Survey images of the synthetic sky: patches of SDSS-like frames and CFHT-like tiles, rendered with GalSim.

The synthetic sky is observed as the real surveys are, on their own pixels, and then cut out by the same code
as real images (:func:`galtk.pipeline.resample.cut_image`):

SDSS-like frames
    TAN at 0.396"/px, not north-up: like the drift-scan frames of ../shared/data/sdss-dr17 (whose CD matrices
    are ``s [[sin p, cos p], [cos p, -sin p]]`` with p = -16 to 34 degrees), each object's frame has its
    own angle ``p`` (uniform in +-40 degrees), and each band is rotated a little more (0.02 degrees rms)
    and has its own sub-pixel phase, because each band of a real frame has its own astrometric solution.
    The cutouts are therefore resampled (``resampling`` of ``[surveys.sdss]``), with the noise gain and
    correlations that resampling gives real SDSS cutouts.
CFHT-like tiles
    North-up TAN at 0.186"/px on tiles of 1 x 1 degree (19354 px, tangent points on a 1-degree grid around
    the region's centre), the same grid in every band, as CFHTLS stacks are: the cutouts are the tiles' own
    pixels (noise gain 1), with each object's sub-pixel offset recorded.

Only a patch of each image around each object is rendered: every catalog galaxy whose light can reach the
cutout (neighbours included), as an elliptical Sersic profile convolved with a Moffat PSF (beta 3.5) at the
image's seeing and integrated over the image's pixels (:mod:`galtk.pipeline.synthetic.render`, checked
against GalSim in the tests), plus Gaussian noise drawn on the image's pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from astropy.wcs import WCS

from galtk.pipeline.surveys import SurveySpec
from galtk.pipeline.synthetic.render import GalaxyShapes, render_galaxies

#: Side of a CFHT-like tile in pixels and degrees (a CFHTLS Wide stack: 19354 x 19354 px of 0.186").
TILE_PIXELS = 19354
TILE_DEGREES = 1.0
#: Spread of the angles of the SDSS-like frames, and of each band's rotation around its frame's (degrees).
FRAME_ANGLE_RANGE = 40.0
BAND_ANGLE_SCATTER = 0.02
#: Pixels rendered beyond the cutout's footprint on each side (Lanczos-3 reads 3 pixels out).
_PATCH_MARGIN = 5


@dataclass(frozen=True)
class Galaxies:
    """The galaxies that put light on one image patch.

    Attributes
    ----------
    ra, dec : ndarray, shape (g,)
        True positions in degrees.
    sersic_n, r_eff, axis_ratio, position_angle : ndarray, shape (g,)
        Sersic index, half-light radius along the major axis (arcsec), minor to major axis ratio, and the
        major axis's position angle (degrees east of north).
    flux : ndarray, shape (g, c)
        Total flux per band in the image's unit.
    """

    ra: np.ndarray
    dec: np.ndarray
    sersic_n: np.ndarray
    r_eff: np.ndarray
    axis_ratio: np.ndarray
    position_angle: np.ndarray
    flux: np.ndarray

    def in_band(self, band: int) -> Galaxies:
        """The same galaxies with the flux of one band only (shape (g, 1))."""
        return Galaxies(
            self.ra,
            self.dec,
            self.sersic_n,
            self.r_eff,
            self.axis_ratio,
            self.position_angle,
            self.flux[:, band : band + 1],
        )


def patch_side(survey: SurveySpec, rotated: bool) -> int:
    """Side in pixels of the image patch rendered around an object: the cutout footprint plus a margin."""
    footprint = survey.cutout_size * (np.sqrt(2.0) if rotated else 1.0)
    return int(np.ceil(footprint)) + 2 * _PATCH_MARGIN


def sdss_frame_patch(ra: float, dec: float, survey: SurveySpec, angle: float, phase: np.ndarray) -> WCS:
    """WCS of the patch of an SDSS-like frame centred near (ra, dec).

    Parameters
    ----------
    ra, dec : float
        Where the patch is centred (degrees); the frame's tangent point.
    survey : SurveySpec
        Pixel scale of the frame.
    angle : float
        Angle ``p`` of the frame (degrees): its CD matrix is ``s [[sin p, cos p], [cos p, -sin p]]``.
    phase : ndarray, shape (2,)
        Sub-pixel position of the tangent point on the patch, in [0, 1) per axis.

    Returns
    -------
    astropy.wcs.WCS
        With ``pixel_shape`` set to the patch's.
    """
    side = patch_side(survey, rotated=True)
    theta = np.deg2rad(angle)
    scale = survey.pixel_scale / 3600.0
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [side // 2 + phase[0], side // 2 + phase[1]]
    wcs.wcs.cd = scale * np.array([[np.sin(theta), np.cos(theta)], [np.cos(theta), -np.sin(theta)]])
    wcs.pixel_shape = (side, side)
    return wcs


def tile_centre(ra: float, dec: float, region_ra: float, region_dec: float) -> tuple[float, float]:
    """Tangent point of the CFHT-like tile holding (ra, dec): a 1-degree grid of tiles about the region."""
    cos_dec = np.cos(np.deg2rad(region_dec))
    step_ra = TILE_DEGREES / cos_dec
    delta_ra = (ra - region_ra + 180.0) % 360.0 - 180.0
    centre_ra = region_ra + np.round(delta_ra / step_ra) * step_ra
    centre_dec = region_dec + np.round((dec - region_dec) / TILE_DEGREES) * TILE_DEGREES
    return float(centre_ra % 360.0), float(centre_dec)


def cfht_tile_patch(ra: float, dec: float, survey: SurveySpec, tile: tuple[float, float]) -> WCS:
    """WCS of the patch of a north-up CFHT-like tile around (ra, dec), on the tile's own pixel grid.

    Parameters
    ----------
    ra, dec : float
        Where the patch is centred (degrees).
    survey : SurveySpec
        Pixel scale of the tile.
    tile : tuple of float
        The tile's tangent point (:func:`tile_centre`).

    Returns
    -------
    astropy.wcs.WCS
        The tile's WCS with its reference pixel moved to the patch's first pixel.
    """
    side = patch_side(survey, rotated=False)
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = list(tile)
    wcs.wcs.crpix = [(TILE_PIXELS + 1) / 2.0, (TILE_PIXELS + 1) / 2.0]
    wcs.wcs.cdelt = [-survey.pixel_scale / 3600.0, survey.pixel_scale / 3600.0]
    x, y = wcs.world_to_pixel_values(ra, dec)
    first_x = int(np.floor(x - (side - 1) / 2.0 + 0.5))
    first_y = int(np.floor(y - (side - 1) / 2.0 + 0.5))
    wcs.wcs.crpix = [wcs.wcs.crpix[0] - first_x, wcs.wcs.crpix[1] - first_y]
    wcs.pixel_shape = (side, side)
    return wcs


def render_patch(galaxies: Galaxies, wcs: Sequence[WCS], psf_fwhm: np.ndarray) -> list[np.ndarray]:
    """Noise-free images of galaxies on an image patch, per band.

    Parameters
    ----------
    galaxies : Galaxies
        Galaxies with fluxes for ``c`` bands.
    wcs : sequence of astropy.wcs.WCS
        The patch's WCS in each band (``pixel_shape`` set, square, pixels square); bands whose WCS is the
        same object are rendered together.
    psf_fwhm : ndarray, shape (c,)
        Moffat FWHM per band in arcsec.

    Returns
    -------
    list of ndarray, shape (side, side), float32
        Flux per pixel in the unit of ``galaxies.flux``, per band: each galaxy's profile convolved with the
        PSF and integrated over the pixels (:func:`galtk.pipeline.synthetic.render.render_galaxies`).
    """
    images: list[np.ndarray | None] = [None] * len(wcs)
    for band, band_wcs in enumerate(wcs):
        if images[band] is not None:
            continue
        bands = [other for other, other_wcs in enumerate(wcs) if other_wcs is band_wcs]
        shapes, scale = _on_pixels(galaxies, band_wcs, bands)
        side = band_wcs.pixel_shape[0]
        rendered = render_galaxies(shapes, np.asarray(psf_fwhm)[bands] / scale, side)
        for index, other in enumerate(bands):
            images[other] = rendered[index]
    return [np.asarray(image, dtype=np.float32) for image in images]


def _on_pixels(galaxies: Galaxies, wcs: WCS, bands: list[int]) -> tuple[GalaxyShapes, float]:
    """The galaxies in a patch's pixel coordinates, and the patch's pixel scale (arcsec)."""
    jacobian = wcs.pixel_scale_matrix * 3600.0  # d(xi, eta) / d(x, y), arcsec per pixel
    scale = float(np.sqrt(abs(np.linalg.det(jacobian))))
    x, y = wcs.world_to_pixel_values(galaxies.ra, galaxies.dec)
    theta = np.deg2rad(galaxies.position_angle)
    # The major axis points (sin pa, cos pa) in (xi, eta); on the pixels it points along J^-1 of that, which
    # render_galaxies takes as the position angle of a north-up, east-left grid: (-sin a, cos a).
    direction = np.linalg.solve(jacobian, np.stack([np.sin(theta), np.cos(theta)]))
    pixel_angle = np.rad2deg(np.arctan2(-direction[0], direction[1]))
    shapes = GalaxyShapes(
        x=np.asarray(x, dtype=float),
        y=np.asarray(y, dtype=float),
        sersic_n=galaxies.sersic_n,
        r_eff_px=galaxies.r_eff / scale,
        axis_ratio=galaxies.axis_ratio,
        position_angle=pixel_angle,
        flux=galaxies.flux[:, bands],
    )
    return shapes, scale
