"""Synthetic-sky workspaces taken through the fetch, crossmatch and preprocess stages (the library calls of
``galtk fetch``, ``crossmatch`` and ``preprocess``), or through fetch and degrade."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from galtk.pipeline.crossmatch.stage import crossmatch_workspace
from galtk.pipeline.degrade.stage import DegradeSettings, degrade_store
from galtk.pipeline.fetch.stage import fetch_workspace
from galtk.pipeline.preprocess.stage import preprocess_workspace
from galtk.pipeline.sources.settings import STANDIN_SERVER
from galtk.pipeline.synthetic.catalog import SimSkyParams
from galtk.pipeline.workspace import CONFIG_NAME, default_config, load_workspace, render_config


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
    write_sim_config(root, n_objects=n_objects, seed=seed)
    workspace = load_workspace(root)
    fetch_workspace(workspace)
    crossmatch_workspace(workspace)
    preprocess_workspace(workspace)
    return root


def write_sim_config(root: Path, *, n_objects: int = 100, seed: int = 5) -> Path:
    """Write the galtk.toml of a synthetic sky of ``n_objects`` galaxies in ``root`` (created); return it."""
    config = default_config(sim=True)
    config.sim_sky = dataclasses.replace(SimSkyParams(), n_objects=n_objects, seed=seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_NAME).write_text(render_config(config), encoding="utf-8")
    return root


def degraded_sim_workspace(
    root: Path,
    *,
    n_objects: int = 60,
    seed: int = 5,
    fwhm: float = 2.0,
    noise_scale: float = 1.0,
    degrade: bool = True,
) -> Path:
    """A synthetic-sky workspace whose SDSS cutouts are fetched and degraded to ``data/degraded/sdss.zarr``.

    Parameters
    ----------
    root : Path
        Workspace directory (created).
    n_objects, seed : int
        Size and seed of the synthetic sky.
    fwhm : float
        Target PSF FWHM of the degraded copies, arcsec.
    noise_scale : float
        ``[sim] noise_scale`` (0: noiseless images of the same galaxies and PSFs).
    degrade : bool
        Degrade the fetched cutouts (False: fetch only, e.g. for the noiseless truth).

    Returns
    -------
    Path
        ``root``.
    """
    config = default_config(sim=True)
    config.sim_sky = dataclasses.replace(SimSkyParams(), n_objects=n_objects, seed=seed)
    config.sim_imaging = dataclasses.replace(config.sim_imaging, noise_scale=noise_scale)
    root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_NAME).write_text(render_config(config), encoding="utf-8")
    fetch_workspace(load_workspace(root), ["sdss"])
    degrade_store(
        root / "data/raw/sdss.zarr", root / "data/degraded/sdss.zarr", DegradeSettings(fwhm=(fwhm,))
    )
    return root


def surveys_sim_workspace(
    root: Path,
    surveys: dict[str, int],
    *,
    n_objects: int = 40,
    seed: int = 7,
    test_fraction: float = 0.25,
    through_hips: tuple[str, ...] = (),
) -> Path:
    """A synthetic-sky workspace of several surveys, fetched and paired by ``galtk crossmatch --surveys``.

    Parameters
    ----------
    root : Path
        Workspace directory (created).
    surveys : dict of str to int
        Built-in surveys and the cutout size of each (small sizes keep tests fast).
    n_objects, seed : int
        Size and seed of the synthetic sky.
    test_fraction : float
        Share of the pairs held out for testing.
    through_hips : tuple of str
        Surveys read through astroquery's hips2fits client from galtk's stand-in serving the same sky
        (``hips_server = "sim"``), in their HiPS units (DSS2 and 2MASS uncalibrated), instead of rendered
        directly in nanomaggies.

    Returns
    -------
    Path
        ``root``; the paired store is ``data/paired.zarr``.
    """
    from galtk.pipeline.crossmatch.surveys import pair_surveys_workspace

    config = default_config(sim=True, surveys=list(surveys))
    config.sim_sky = dataclasses.replace(SimSkyParams(), n_objects=n_objects, seed=seed, width_deg=0.2)
    config.crossmatch = dataclasses.replace(config.crossmatch, test_fraction=test_fraction)
    for name, size in surveys.items():
        config.surveys[name] = dataclasses.replace(config.surveys[name], cutout_size=size)
    for name in through_hips:
        config.surveys[name] = dataclasses.replace(
            config.surveys[name], source="hips", hips_server=STANDIN_SERVER, unit="", unit_zeropoint=0.0
        )
    root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_NAME).write_text(render_config(config), encoding="utf-8")
    workspace = load_workspace(root)
    fetch_workspace(workspace)
    pair_surveys_workspace(workspace)
    return root
