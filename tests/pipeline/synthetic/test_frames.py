"""Survey images of the synthetic sky: WCSs against the real SDSS frames, pixels against GalSim."""

from pathlib import Path

import galsim
import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from galtk.pipeline.surveys import SURVEYS
from galtk.pipeline.synthetic.frames import (
    TILE_PIXELS,
    Galaxies,
    cfht_tile_patch,
    render_patch,
    sdss_frame_patch,
    tile_centre,
)

REAL_CROPS = Path(__file__).resolve().parents[2] / "data" / "sdss-dr17"
RA, DEC = 150.1, 2.2


def _galsim_image(galaxies: Galaxies, wcs: WCS, fwhm: float) -> np.ndarray:
    """The same scene drawn by GalSim: sheared Sersic profiles, a Moffat PSF, the pixel response."""
    cd = wcs.pixel_scale_matrix * 3600.0
    image = galsim.ImageF(*wcs.pixel_shape, wcs=galsim.JacobianWCS(-cd[0, 0], -cd[0, 1], cd[1, 0], cd[1, 1]))
    psf = galsim.Moffat(beta=3.5, fwhm=fwhm)
    x, y = wcs.world_to_pixel_values(galaxies.ra, galaxies.dec)
    for i in range(len(galaxies.ra)):
        q = galaxies.axis_ratio[i]
        profile = galsim.Sersic(n=galaxies.sersic_n[i], half_light_radius=galaxies.r_eff[i] * np.sqrt(q))
        # GalSim's world axes here are (west, north): the major axis lies 90 + PA degrees from west.
        profile = profile.shear(q=q, beta=(90.0 + galaxies.position_angle[i]) * galsim.degrees)
        centre = galsim.PositionD(x[i] + 1.0, y[i] + 1.0)
        galsim.Convolve(profile.withFlux(galaxies.flux[i, 0]), psf).drawImage(
            image, center=centre, add_to_image=True
        )
    return image.array


def _patch(survey: str) -> WCS:
    spec = SURVEYS[survey]
    if survey == "sdss":
        return sdss_frame_patch(RA, DEC, spec, 25.0, np.array([0.3, 0.7]))
    return cfht_tile_patch(RA, DEC, spec, tile_centre(RA, DEC, 150.0, 2.0))


@pytest.mark.parametrize("survey", ["sdss", "cfht"])
@pytest.mark.parametrize("sersic_n", [0.5, 1.0, 2.5, 4.0])
def test_rendered_patches_match_galsim(survey: str, sersic_n: float) -> None:
    galaxies = Galaxies(
        ra=np.array([RA, RA + 3.0 / 3600.0]),
        dec=np.array([DEC, DEC - 4.0 / 3600.0]),
        sersic_n=np.array([sersic_n, 1.0]),
        r_eff=np.array([1.5, 0.8]),
        axis_ratio=np.array([0.5, 0.8]),
        position_angle=np.array([30.0, 120.0]),
        flux=np.array([[100.0], [20.0]]),
    )
    fwhm = SURVEYS[survey].seeing_fwhm["r"]
    wcs = _patch(survey)
    ours = render_patch(galaxies, [wcs], np.array([fwhm]))[0]
    reference = _galsim_image(galaxies, wcs, fwhm)
    # Pixel by pixel within 1 % of the peak (the Sersic profiles are Gaussian mixtures; n = 4 differs most,
    # in its cusp and in its far wings), and the same flux on the patch within 1.5 %.
    assert np.abs(ours - reference).max() < 0.01 * reference.max()
    assert ours.sum() == pytest.approx(reference.sum(), rel=0.015)


@pytest.mark.filterwarnings("ignore::astropy.wcs.FITSFixedWarning")
def test_sdss_like_frames_have_the_real_frames_geometry() -> None:
    real = []
    for path in sorted(REAL_CROPS.glob("*.fits*")):
        header = fits.getheader(path)
        if "CD1_1" in header:
            real.append(WCS(header).pixel_scale_matrix * 3600.0)
    assert real, "the committed real SDSS crops are missing"
    spec = SURVEYS["sdss"]
    for angle in (-16.0, 9.0, 34.0):
        cd = sdss_frame_patch(RA, DEC, spec, angle, np.zeros(2)).pixel_scale_matrix * 3600.0
        assert np.sqrt(abs(np.linalg.det(cd))) == pytest.approx(spec.pixel_scale)
        # Same parity as the real frames (and as north-up, east-left images), and the same symmetric form.
        assert np.sign(np.linalg.det(cd)) == np.sign(np.linalg.det(real[0]))
        assert cd[0, 1] == pytest.approx(cd[1, 0]) and cd[0, 0] == pytest.approx(-cd[1, 1])
    for cd in real:
        assert cd[0, 1] == pytest.approx(cd[1, 0], abs=1e-3) and cd[0, 0] == pytest.approx(
            -cd[1, 1], abs=1e-3
        )


def test_cfht_like_patches_are_pieces_of_one_north_up_tile() -> None:
    spec = SURVEYS["cfht"]
    tile = tile_centre(RA + 0.3, DEC - 0.2, RA, DEC)
    assert tile == (pytest.approx(RA), pytest.approx(DEC))
    assert tile_centre(RA + 0.6 / np.cos(np.deg2rad(DEC)), DEC, RA, DEC)[0] == pytest.approx(
        RA + 1.0 / np.cos(np.deg2rad(DEC))
    )
    whole = cfht_tile_patch(tile[0], tile[1], spec, tile)
    whole.wcs.crpix = [(TILE_PIXELS + 1) / 2.0, (TILE_PIXELS + 1) / 2.0]
    for ra, dec in ((RA + 0.3, DEC - 0.2), (RA - 0.1, DEC + 0.45)):
        patch = cfht_tile_patch(ra, dec, spec, tile)
        x, y = patch.world_to_pixel_values(ra, dec)
        assert (
            abs(x - (patch.pixel_shape[0] - 1) / 2) <= 1.0 and abs(y - (patch.pixel_shape[1] - 1) / 2) <= 1.0
        )
        tile_x, tile_y = whole.world_to_pixel_values(ra, dec)
        # The patch's pixels are the tile's: whole-pixel shifts of its grid, north up, east left.
        assert (tile_x - x) == pytest.approx(round(float(tile_x - x)), abs=1e-6)
        assert (tile_y - y) == pytest.approx(round(float(tile_y - y)), abs=1e-6)
        np.testing.assert_allclose(patch.pixel_scale_matrix * 3600, np.diag([-0.186, 0.186]), atol=1e-12)
