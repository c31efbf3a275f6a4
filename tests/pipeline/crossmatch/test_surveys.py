"""Pairs across N surveys: the synthetic sky fetched as three HiPS surveys through the hips2fits test double,
with objects missing from one survey and a band refused in another."""

from __future__ import annotations

import dataclasses
import json

import fake_hips
import numpy as np
import pytest
import xarray as xr
from astropy.table import Table

from galtk.errors import CrossmatchError, StoreError
from galtk.pipeline.crossmatch.surveys import pair_surveys_workspace
from galtk.pipeline.fetch.stage import fetch_workspace
from galtk.pipeline.stores.cutout_store import CutoutStore
from galtk.pipeline.stores.paired import PairedStore
from galtk.pipeline.synthetic.catalog import SimSkyParams
from galtk.pipeline.synthetic.source import SimImagingParams, SimSource
from galtk.pipeline.workspace import CONFIG_NAME, default_config, load_workspace, render_config

SURVEYS = ["sdss9", "galex", "dss2"]
SHIFTED = "legacy"  # its catalog lies 0.02 degree away from the others' positions


@pytest.fixture(scope="module")
def fetched(tmp_path_factory, fake_archive_module):
    sky = fake_hips.SyntheticHipsSky(SimSkyParams(seed=11, n_objects=24, width_deg=0.1), SimImagingParams())
    service = fake_hips.FakeHips2fits(fake_archive_module, sky=sky)
    refusal = {"title": "Bad request", "description": "tile unavailable"}
    service.faults = [
        {"status": 400, "body": json.dumps(refusal).encode(), "headers": {"Content-Type": "application/json"}}
    ]
    root = tmp_path_factory.mktemp("surveys")
    config = default_config(sim=False, surveys=[*SURVEYS, SHIFTED])
    config.crossmatch = dataclasses.replace(config.crossmatch, test_fraction=0.25, surveys=SURVEYS)
    for name in [*SURVEYS, SHIFTED]:
        config.surveys[name] = dataclasses.replace(
            config.surveys[name],
            hips_server=service.url,
            cutout_size=16 if name != "sdss9" else 32,
            catalog=f"catalogs/{name}.csv" if name in ("dss2", SHIFTED) else "catalogs/objects.csv",
        )
    (root / CONFIG_NAME).write_text(render_config(config))
    (root / "catalogs").mkdir()
    catalog = Table({"id": sky.catalog.ids, "ra": sky.catalog.ra, "dec": sky.catalog.dec})
    catalog[::-1].write(root / "catalogs" / "objects.csv")  # the refused request is the last object's
    catalog[2:].write(root / "catalogs" / "dss2.csv")  # DSS2 lacks the first two objects
    shifted = catalog.copy()
    shifted["dec"] += 0.02
    shifted.write(root / "catalogs" / f"{SHIFTED}.csv")
    workspace = load_workspace(root)
    fetch_workspace(workspace, workers=1)  # the first request (sdss9, first object, u) is refused
    return workspace


def test_pairs_hold_the_objects_valid_in_every_survey(fetched) -> None:
    summary, paired_path, summary_path = pair_surveys_workspace(fetched)
    sdss9 = CutoutStore.open(fetched.store_path("sdss9"))
    refused = sdss9.ids[0]
    assert not sdss9.valid[0, 0]
    paired = PairedStore.open(paired_path)
    assert paired.attrs["surveys"] == SURVEYS and paired.attrs["reference"] == "sdss9"
    ids = {name: paired.member(name).ids for name in SURVEYS}
    assert len(ids["sdss9"]) == 24 - 2 - 1 == summary["pairs"]["total"]
    for name in SURVEYS:
        np.testing.assert_array_equal(ids[name], ids["sdss9"])  # rows aligned
    assert not {refused, "SIM0000000", "SIM0000001"} & set(ids["sdss9"])
    table = xr.open_zarr(paired_path)
    assert (table["split"].values == "test").sum() == summary["pairs"]["test"] == round(0.25 * 21)
    assert float(table["galex_separation"].max()) < 1e-6  # one catalog: the same positions
    assert summary["inputs"]["dss2"]["usable"] == 22 and summary["inputs"]["sdss9"]["usable"] == 23
    assert json.loads(summary_path.read_text())["pairs"] == summary["pairs"]
    member = paired.member("galex")
    rows = table["galex_row"].values
    raw = CutoutStore.open(fetched.store_path("galex"))
    np.testing.assert_array_equal(member.images[:], raw.images.oindex[rows])


def test_outputs_are_kept_unless_overwritten(fetched) -> None:
    pair_surveys_workspace(fetched, overwrite=True)
    with pytest.raises(StoreError, match="already exists; use --overwrite"):
        pair_surveys_workspace(fetched)


def test_surveys_without_common_objects_or_a_single_survey_are_refused(fetched) -> None:
    settings = dataclasses.replace(fetched.config.crossmatch, paired="data/other.zarr", summary="data/o.json")
    with pytest.raises(ValueError, match="at least two different surveys"):
        dataclasses.replace(settings, surveys=["galex"])
    with pytest.raises(CrossmatchError, match="no object is in every survey"):
        pair_surveys_workspace(fetched, dataclasses.replace(settings, surveys=["galex", "legacy"]))
    assert not (fetched.root / "data" / "other.zarr").exists()


def test_tables_naming_the_paper_presets_pair_under_their_own_names(tmp_path) -> None:
    """``[surveys.dr12] preset = "sdss"`` and ``[surveys.wide] preset = "cfht"``: each observes its preset's
    sample of the synthetic sky, and the pairs are the galaxies of both."""
    (tmp_path / CONFIG_NAME).write_text(
        "[sim]\nn_objects = 60\nwidth_deg = 0.1\n\n"
        '[surveys.dr12]\npreset = "sdss"\nsource = "sim"\ncutout_size = 16\n\n'
        '[surveys.wide]\npreset = "cfht"\nsource = "sim"\ncutout_size = 34\n\n'
        '[crossmatch]\ntest_fraction = 0.25\nsurveys = ["dr12", "wide"]\n'
    )
    workspace = load_workspace(tmp_path)
    fetch_workspace(workspace, workers=1)
    summary, paired_path, _ = pair_surveys_workspace(workspace)
    catalog = SimSource(workspace.config.sim_sky).catalog
    paired = PairedStore.open(paired_path)
    assert paired.attrs["surveys"] == ["dr12", "wide"]
    assert set(paired.member("dr12").ids) == set(catalog.ids[catalog.in_sdss & catalog.in_cfht])
    assert summary["pairs"]["total"] == np.count_nonzero(catalog.in_sdss & catalog.in_cfht)
