"""A synthetic-sky workspace fetched once for the crossmatch and preprocess command tests."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from galtk.cli.app import app
from galtk.pipeline.synthetic.catalog import SimSkyParams
from galtk.pipeline.workspace import CONFIG_NAME, default_config, render_config


@pytest.fixture(scope="session")
def _fetched_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fetched") / "ws"
    root.mkdir()
    config = default_config(sim=True)
    config.sim_sky = dataclasses.replace(SimSkyParams(), n_objects=100, seed=5)
    (root / CONFIG_NAME).write_text(render_config(config), encoding="utf-8")
    result = CliRunner().invoke(app, ["fetch", "-w", str(root)])
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def fetched_workspace(_fetched_template: Path, tmp_path: Path) -> Callable[[str], Path]:
    """Factory: a private copy of a synthetic workspace whose raw SDSS and CFHT stores are fetched."""

    def make(name: str = "ws") -> Path:
        return Path(shutil.copytree(_fetched_template, tmp_path / name))

    return make
