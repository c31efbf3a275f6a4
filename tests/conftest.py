"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from galtk.catalogs.synthetic import SimSkyParams
from galtk.pipeline.sources.sim import SimImagingParams
from galtk.pipeline.workspace import CONFIG_NAME, default_config, render_config


def write_sim_workspace(
    root: Path,
    *,
    sky: dict | None = None,
    imaging: dict | None = None,
    fetch: dict | None = None,
) -> Path:
    """Write a synthetic-sky galtk.toml in ``root`` with some settings replaced; return ``root``."""
    config = default_config(sim=True)
    config.sim_sky = dataclasses.replace(SimSkyParams(), **(sky or {}))
    config.sim_imaging = dataclasses.replace(SimImagingParams(), **(imaging or {}))
    config.fetch = dataclasses.replace(config.fetch, **(fetch or {}))
    root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_NAME).write_text(render_config(config), encoding="utf-8")
    return root


@pytest.fixture
def sim_workspace(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``sim_workspace(name, sky={...}, imaging={...}, fetch={...})`` writes a small workspace."""

    def make(name: str = "ws", **settings: dict) -> Path:
        settings.setdefault("sky", {})
        settings["sky"] = {"n_objects": 120, **settings["sky"]}
        return write_sim_workspace(tmp_path / name, **settings)

    return make
