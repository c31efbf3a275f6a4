"""Synthetic-sky workspaces taken through ``galtk fetch``, ``crossmatch`` and ``preprocess``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from typer.testing import CliRunner

from galtk.cli.app import app
from galtk.pipeline.synthetic.catalog import SimSkyParams
from galtk.pipeline.workspace import CONFIG_NAME, default_config, render_config


def preprocessed_sim_workspace(root: Path, *, n_objects: int = 100, seed: int = 5) -> Path:
    """Write a synthetic-sky workspace in ``root`` (created), fetch, cross-match and preprocess it.

    Parameters
    ----------
    root : Path
        Workspace directory; must not exist yet or be empty.
    n_objects, seed : int
        Size and seed of the synthetic sky.

    Returns
    -------
    Path
        ``root``.
    """
    config = default_config(sim=True)
    config.sim_sky = dataclasses.replace(SimSkyParams(), n_objects=n_objects, seed=seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_NAME).write_text(render_config(config), encoding="utf-8")
    for command in ("fetch", "crossmatch", "preprocess"):
        result = CliRunner().invoke(app, [command, "-w", str(root)])
        assert result.exit_code == 0, result.output
    return root
