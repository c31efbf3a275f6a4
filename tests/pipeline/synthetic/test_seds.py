"""The synthetic galaxies' SEDs beyond u g r i z, and the synthetic sky observing any survey."""

from __future__ import annotations

import numpy as np
import pytest

from galtk.errors import GaltkError
from galtk.pipeline.surveys import get_survey, with_bands
from galtk.pipeline.synthetic.catalog import SimSkyParams
from galtk.pipeline.synthetic.seds import CATALOG_WAVELENGTH_NM, magnitudes_at
from galtk.pipeline.synthetic.source import SimImagingParams, SimSource

BLUE = np.array([[19.1, 18.0, 17.55, 17.3, 17.15]])  # u - g = 1.1
RED = np.array([[20.6, 18.8, 18.0, 17.6, 17.25]])  # u - g = 1.8


def test_the_catalog_bands_are_reproduced_at_their_wavelengths() -> None:
    mags = np.vstack([BLUE, RED])
    np.testing.assert_allclose(magnitudes_at(mags, CATALOG_WAVELENGTH_NM), mags)
    halfway = np.sqrt(CATALOG_WAVELENGTH_NM[1] * CATALOG_WAVELENGTH_NM[2])  # midway in log wavelength
    np.testing.assert_allclose(magnitudes_at(mags, [halfway])[:, 0], (mags[:, 1] + mags[:, 2]) / 2)


def test_ultraviolet_and_infrared_depend_on_the_optical_colours() -> None:
    fuv_minus_u = [magnitudes_at(mags, [154.0])[0, 0] - mags[0, 0] for mags in (BLUE, RED)]
    assert fuv_minus_u == pytest.approx([0.6, 3.5])
    k_minus_z = [magnitudes_at(mags, [2200.0])[0, 0] - mags[0, 4] for mags in (BLUE, RED)]
    assert k_minus_z == pytest.approx([-0.30, -0.55])
    with pytest.raises(ValueError, match="wavelengths must be positive"):
        magnitudes_at(BLUE, [0.0])


def test_the_synthetic_sky_observes_any_survey_at_its_wavelengths() -> None:
    source = SimSource(SimSkyParams(n_objects=30, seed=5), SimImagingParams(noise_scale=0.0))
    galex = get_survey("galex")
    rows = source.members(galex)
    assert len(rows) == 30  # surveys other than the paper's pair observe every galaxy
    expected = 10 ** (-0.4 * (magnitudes_at(source.catalog.mag[rows], [154.0, 231.0]) - 22.5))
    np.testing.assert_allclose(source.flux(galex, rows), expected)
    sdss = get_survey("sdss")
    np.testing.assert_allclose(source.flux(sdss, rows[:3]), source.catalog.flux_nmgy[rows[:3]])
    batch = source.cutouts(with_bands(galex, ("NUV",)), source.objects(galex), np.arange(2))
    assert batch.images.shape == (2, 1, galex.cutout_size, galex.cutout_size)
    assert np.isfinite(batch.images).all()


def test_a_band_without_a_wavelength_or_seeing_is_refused() -> None:
    import dataclasses

    source = SimSource(SimSkyParams(n_objects=5, seed=5))
    bare = dataclasses.replace(get_survey("galex"), wavelength_nm={})
    with pytest.raises(GaltkError, match="effective wavelength of galex's FUV band"):
        source.flux(bare, np.arange(2))
    blind = dataclasses.replace(get_survey("galex"), seeing_fwhm={})
    with pytest.raises(GaltkError, match="typical seeing and noise of galex's FUV, NUV band"):
        source.cutouts(blind, source.objects(blind), np.arange(1))
