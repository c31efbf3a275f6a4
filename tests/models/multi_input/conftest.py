"""Shared by the multi-input tests: a synthetic workspace of three surveys with two tiny trained runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sim_workspaces import surveys_sim_workspace

from galtk.models.training.launch import prepare_workspace
from galtk.pipeline.fetch.stage import fetch_workspace
from galtk.pipeline.workspace import CONFIG_NAME, load_workspace, render_config

#: Target SDSS9 cutouts of 32 px (12.7"); the inputs cover them (DSS2 14 px = 14.1", GALEX 10 px = 15").
SIZES = {"dss2": 14, "galex": 10, "sdss9": 32}


@pytest.fixture(scope="package")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """A workspace with two tiny pix2pix-multi runs (DSS2; DSS2 + GALEX), and a noiseless SDSS9 store."""
    base = tmp_path_factory.mktemp("multi-eval")
    root = surveys_sim_workspace(base / "ws", SIZES)
    workspace = load_workspace(root)
    for name, inputs in (("one", ["dss2"]), ("two", ["dss2", "galex"])):
        overrides = {
            "method": "pix2pix",
            "inputs": inputs,
            "target": "sdss9",
            "iterations": 20,
            "width": 1 / 16,
            "batch_pairs": 8,
            "checkpoint_every": 20,
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
