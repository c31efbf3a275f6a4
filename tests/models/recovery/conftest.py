"""A small synthetic sky degraded, its noiseless truth, and a tiny galaxygan run trained on it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from sim_workspaces import degraded_sim_workspace

from galtk.models.training.launch import prepare_workspace
from galtk.pipeline.workspace import load_workspace

RUN = "tiny"


@pytest.fixture(scope="package")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """(workspace, noiseless truth store of the same cutouts, name of the run under ``runs``)."""
    base = tmp_path_factory.mktemp("recovery")
    root = degraded_sim_workspace(base / "sky", n_objects=80)
    truth = degraded_sim_workspace(base / "truth", n_objects=80, noise_scale=0.0, degrade=False)
    torch.manual_seed(0)
    overrides = {
        "method": "galaxygan",
        "iterations": 30,
        "width": 1 / 16,
        "batch_pairs": 8,
        "checkpoint_every": 30,
        "sample_every": 0,
        "device": "cpu",
    }
    prepare_workspace(load_workspace(root), overrides=overrides, name=RUN).train()
    return root, truth / "data/raw/sdss.zarr", RUN
