"""galtk's hips2fits stand-in: astroquery's client against it, and a workspace fetched through it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from astropy.wcs import WCS

from galtk.pipeline.fetch.stage import fetch_workspace
from galtk.pipeline.geometry import cutout_wcs
from galtk.pipeline.stores.cutout_store import CutoutStore
from galtk.pipeline.surveys import get_survey
from galtk.pipeline.synthetic.catalog import SimSkyParams
from galtk.pipeline.synthetic.hips_service import HipsStandIn, SyntheticHips
from galtk.pipeline.synthetic.source import SimImagingParams
from galtk.pipeline.workspace import CONFIG_NAME, default_config, load_workspace, render_config

SKY = SimSkyParams(seed=3, n_objects=8, width_deg=0.5, pair_fraction=0.0, mag_r_min=15.5, mag_r_max=17.5)
NOISELESS = SimImagingParams(noise_scale=0.0, seeing_scatter=0.0, astrometric_error_arcsec=0.0)


@pytest.fixture(scope="module")
def standin() -> HipsStandIn:
    with HipsStandIn(SyntheticHips(SKY, NOISELESS)) as service:
        yield service


def _client(standin: HipsStandIn):
    from astroquery.hips2fits import hips2fitsClass

    client = hips2fitsClass()
    client.server = standin.url
    return client


def test_astroquery_gets_the_grid_it_asks_for_with_the_sky_s_flux(standin: HipsStandIn) -> None:
    catalog = standin.hips.catalog
    sdss9 = get_survey("sdss9")
    wcs = cutout_wcs(float(catalog.ra[0]), float(catalog.dec[0]), sdss9.pixel_scale, 120)
    hdus = _client(standin).query_with_wcs(hips="CDS/P/SDSS9/r", wcs=wcs, format="fits")
    image = np.asarray(hdus[0].data, dtype=np.float64)
    assert image.shape == (120, 120)
    served = WCS(hdus[0].header)
    assert np.allclose(served.wcs.crval, wcs.wcs.crval) and np.allclose(served.wcs.cdelt, wcs.wcs.cdelt)
    r_band = dataclasses.replace(sdss9, bands=("r",))
    truth = standin.hips.source.flux(r_band, np.array([0]))[0, 0]
    # SDSS9's HiPS holds nanomaggies per native 0.396" pixel: on that grid, the sum is the galaxy's flux
    # (a sparse sky: no neighbour within the 48" cutout).
    assert image.sum() == pytest.approx(truth, rel=0.03)


def test_astroquery_reports_the_stand_in_s_refusals(standin: HipsStandIn) -> None:
    wcs = cutout_wcs(float(standin.hips.catalog.ra[0]), float(standin.hips.catalog.dec[0]), 1.0, 10)
    with pytest.raises(AttributeError, match="unknown HiPS"):
        _client(standin).query_with_wcs(hips="CDS/P/NOSUCH", wcs=wcs, format="fits")


def test_unknown_hips_are_refused_as_hips2fits_refuses_them(standin: HipsStandIn) -> None:
    status, content_type, body = standin.hips.answer({"hips": "CDS/P/NOSUCH", "wcs": "{}", "format": "fits"})
    assert status == 400 and content_type == "application/json" and b"unknown HiPS" in body
    status, _, body = standin.hips.answer({"hips": "CDS/P/SDSS9/r", "wcs": "{}", "format": "fits"})
    assert status == 400 and b"wcs" in body


def test_a_workspace_fetched_through_the_stand_in_holds_the_sky_s_fluxes(tmp_path: Path) -> None:
    config = default_config(sim=True, surveys=["galex", "sdss9", "dss2"], hips_standin=True)
    config.sim_sky, config.sim_imaging = SKY, NOISELESS
    (tmp_path / CONFIG_NAME).write_text(render_config(config), encoding="utf-8")
    workspace = load_workspace(tmp_path)
    fetch_workspace(workspace, workers=1)
    hips = SyntheticHips(SKY, NOISELESS)
    for name in ("galex", "sdss9"):
        store = CutoutStore.open(workspace.store_path(name))
        assert store.valid[:].all() and list(store.ids) == list(hips.catalog.ids)
        truth = hips.source.flux(workspace.survey(name), np.arange(len(store.ids)))
        measured = store.images[:].astype(np.float64).sum(axis=(2, 3))
        np.testing.assert_allclose(measured, truth, rtol=0.05, err_msg=name)
    dss2 = CutoutStore.open(workspace.store_path("dss2"))
    assert dss2.valid[:].all() and dss2.attrs["units"] == workspace.survey("dss2").unit
