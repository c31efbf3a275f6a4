"""Built-in HiPS surveys fetched through astroquery's hips2fits client from a stand-in serving the synthetic
sky: each survey's HiPS unit per native pixel must come out as nanomaggies per cutout pixel, against the
sky's true fluxes."""

from __future__ import annotations

import dataclasses

import fake_hips
import numpy as np
import pytest
from astropy.table import Table

from galtk.pipeline.fetch.stage import fetch_workspace
from galtk.pipeline.geometry import unit_vectors
from galtk.pipeline.stores.cutout_store import CutoutStore
from galtk.pipeline.surveys import nanomaggies_per_count
from galtk.pipeline.synthetic.catalog import SimSkyParams
from galtk.pipeline.synthetic.source import SimImagingParams
from galtk.pipeline.workspace import (
    CONFIG_NAME,
    default_config,
    load_workspace,
    render_config,
)

SKY = SimSkyParams(seed=3, n_objects=60, width_deg=0.2, pair_fraction=0.0, mag_r_min=15.5, mag_r_max=17.5)
NOISELESS = SimImagingParams(noise_scale=0.0, seeing_scatter=0.0, astrometric_error_arcsec=0.0)


@pytest.fixture(scope="module")
def sky() -> fake_hips.SyntheticHipsSky:
    return fake_hips.SyntheticHipsSky(SKY, NOISELESS)


def _isolated_compact(sky: fake_hips.SyntheticHipsSky, count: int) -> np.ndarray:
    """Catalog rows of compact discs with no other galaxy within 40"."""
    catalog = sky.catalog
    vectors = unit_vectors(catalog.ra, catalog.dec)
    separation = np.degrees(np.arccos(np.clip(vectors @ vectors.T, -1, 1))) * 3600.0
    np.fill_diagonal(separation, np.inf)
    ok = (separation.min(axis=1) > 40.0) & (catalog.sersic_n < 2.0) & (catalog.r_eff < 2.0)
    return np.flatnonzero(ok)[:count]


def _workspace(tmp_path, service, surveys, rows, sky, **overrides):
    config = default_config(sim=False, surveys=surveys)
    for name in surveys:
        config.surveys[name] = dataclasses.replace(
            config.surveys[name], hips_server=service.url, **overrides.get(name, {})
        )
    (tmp_path / CONFIG_NAME).write_text(render_config(config))
    (tmp_path / "catalogs").mkdir()
    catalog = sky.catalog
    Table({"id": catalog.ids[rows], "ra": catalog.ra[rows], "dec": catalog.dec[rows]}).write(
        tmp_path / "catalogs" / "objects.csv"
    )
    return load_workspace(tmp_path)


def test_calibrated_hips_become_nanomaggies_per_cutout_pixel(tmp_path, fake_archive, sky) -> None:
    service = fake_hips.FakeHips2fits(fake_archive, sky=sky)
    rows = _isolated_compact(sky, 4)
    assert len(rows) == 4
    # GALEX on its native 1.5" grid and on a grid twice as fine; SDSS9 on its own; unWISE in Vega nanomaggies.
    workspace = _workspace(
        tmp_path,
        service,
        ["galex", "sdss9", "unwise", "legacy"],
        rows,
        sky,
        legacy={"pixel_scale": 0.5, "cutout_size": 100},
    )
    fetch_workspace(workspace, workers=1)
    for name in ("galex", "sdss9", "unwise", "legacy"):
        spec = workspace.survey(name)
        store = CutoutStore.open(workspace.store_path(name))
        assert store.valid[:].all(), name
        order = [list(sky.catalog.ids).index(object_id) for object_id in store.ids]
        truth = sky.source.flux(spec, np.array(order))
        measured = store.images[:].astype(np.float64).sum(axis=(2, 3))
        # Flux outside the ~50" cutout is negligible for compact discs, even at unWISE's 6" PSF.
        np.testing.assert_allclose(measured, truth, rtol=0.03, err_msg=name)


def test_uncalibrated_hips_are_kept_in_their_own_unit(tmp_path, fake_archive, sky) -> None:
    service = fake_hips.FakeHips2fits(fake_archive, sky=sky)
    rows = _isolated_compact(sky, 2)
    finer = {
        "2mass": {"pixel_scale": 0.5, "cutout_size": 100},
        "dss2": {"pixel_scale": 0.504, "cutout_size": 100},
    }
    workspace = _workspace(tmp_path, service, ["2mass", "dss2"], rows, sky, **finer)
    fetch_workspace(workspace, workers=1)
    per_unit = nanomaggies_per_count(fake_hips.UNCALIBRATED_ZEROPOINT)
    # 2MASS DN per native pixel are fluxes: rescaled by the pixel areas, they sum to the galaxy's DN. DSS2
    # densities are kept as served: each native pixel's value appears in four cutout pixels.
    for name, repeats in (("2mass", 1.0), ("dss2", 4.0)):
        spec = workspace.survey(name)
        assert not spec.calibrated
        store = CutoutStore.open(workspace.store_path(name))
        order = [list(sky.catalog.ids).index(object_id) for object_id in store.ids]
        truth_nmgy = sky.source.flux(dataclasses.replace(spec, nanomaggies_per_unit=1.0), np.array(order))
        measured = store.images[:].astype(np.float64).sum(axis=(2, 3))
        np.testing.assert_allclose(measured, repeats * truth_nmgy / per_unit, rtol=0.03, err_msg=name)
