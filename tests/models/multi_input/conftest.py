"""Shared by the multi-input tests: a synthetic workspace of three surveys with two short trained runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sim_workspaces import surveys_sim_workspace

from galtk.models.training.launch import prepare_workspace
from galtk.pipeline.fetch.stage import fetch_workspace
from galtk.pipeline.workspace import CONFIG_NAME, load_workspace, render_config

#: Target SDSS9 cutouts of 24 px (9.5"); the inputs cover them (DSS2 12 px = 12.1", GALEX 9 px = 13.5").
SIZES = {"dss2": 12, "galex": 9, "sdss9": 24}
#: Galaxies of the synthetic sky: 450 training and 150 test pairs.
OBJECTS = 600
#: The input surveys, fetched through astroquery's hips2fits client from galtk's stand-in serving the sky
#: (DSS2 in its own uncalibrated unit, as the CDS serves it); the SDSS9 target and its truth are rendered.
THROUGH_HIPS = ("dss2", "galex")
#: Iterations of each run: long enough for GALEX's information on u to show (about 40 s per run on 2 cores).
ITERATIONS = 800


@pytest.fixture(scope="package")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """A workspace with two pix2pix-multi runs (DSS2; DSS2 + GALEX), and a noiseless SDSS9 store.

    The inputs come through hips2fits (:data:`THROUGH_HIPS`), as a user's would.

    The runs are short (1/8 width) but learn enough for the evaluation's comparison to mean something: they
    are trained on L1 alone (``adversarial_weight = 0``), which docs/surveys.md measures as the better
    choice for photometry.
    """
    base = tmp_path_factory.mktemp("multi-eval")
    root = surveys_sim_workspace(base / "ws", SIZES, n_objects=OBJECTS, through_hips=THROUGH_HIPS)
    workspace = load_workspace(root)
    for name, inputs in (("one", ["dss2"]), ("two", ["dss2", "galex"])):
        overrides = {
            "method": "pix2pix",
            "inputs": inputs,
            "target": "sdss9",
            "iterations": ITERATIONS,
            "width": 1 / 8,
            "batch_pairs": 16,
            "adversarial_weight": 0.0,
            "checkpoint_every": ITERATIONS,
            "sample_every": 0,
            "device": "cpu",
        }
        prepare_workspace(workspace, overrides=overrides, name=name).train()
    truth = base / "truth"
    truth.mkdir()
    config = dataclasses.replace(
        workspace.config, sim_imaging=dataclasses.replace(workspace.config.sim_imaging, noise_scale=0.0)
    )
    (truth / CONFIG_NAME).write_text(render_config(config), encoding="utf-8")
    fetch_workspace(load_workspace(truth), ["sdss9"])
    return root, truth / "data/raw/sdss9.zarr"
