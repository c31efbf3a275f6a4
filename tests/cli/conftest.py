"""A synthetic-sky workspace fetched once for the crossmatch and preprocess command tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sim_workspaces import write_sim_config

from galtk.pipeline.fetch.stage import fetch_workspace
from galtk.pipeline.workspace import load_workspace


@pytest.fixture(scope="session")
def _fetched_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_sim_config(tmp_path_factory.mktemp("fetched") / "ws", n_objects=100, seed=5)
    fetch_workspace(load_workspace(root))
    return root


@pytest.fixture
def fetched_workspace(_fetched_template: Path, tmp_path: Path) -> Callable[[str], Path]:
    """Factory: a private copy of a synthetic workspace whose raw SDSS and CFHT stores are fetched."""

    def make(name: str = "ws") -> Path:
        return Path(shutil.copytree(_fetched_template, tmp_path / name))

    return make
