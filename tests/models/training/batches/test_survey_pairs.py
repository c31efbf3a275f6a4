"""Multi-input translation's training data and a pix2pix run on several synthetic surveys."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sim_workspaces import surveys_sim_workspace

from galtk.errors import GaltkError, TrainingDataError
from galtk.models.training.batches.survey_pairs import (
    SurveyPairSources,
    input_noise_scales,
    on_target_grid,
    survey_arrays,
    survey_pixels,
)
from galtk.models.training.launch import prepare_workspace
from galtk.pipeline.stores.paired import PairedStore
from galtk.pipeline.surveys import get_survey
from galtk.pipeline.workspace import load_workspace

#: Target SDSS9 cutouts of 32 px (12.7"); the inputs cover them (DSS2 14 px = 14.1", GALEX 10 px = 15").
SIZES = {"dss2": 14, "galex": 10, "sdss9": 32}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return surveys_sim_workspace(tmp_path_factory.mktemp("multi") / "ws", SIZES)


def _blob(size: int, scale: float, fwhm: float, centre: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """A Gaussian of total flux 1 on a cutout, at ``centre`` (x, y pixels from the centre pixel)."""
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2.0
    sigma = fwhm / 2.3548 / scale
    image = np.exp(-((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / (2 * sigma**2))
    return image / image.sum()


def test_calibrated_inputs_keep_their_flux_on_the_target_grid() -> None:
    galex = dataclasses.replace(get_survey("galex"), cutout_size=36)
    sdss9 = get_survey("sdss9")
    # An object 0.3 px right of and 0.2 px below the GALEX cutout's centre pixel, as native cutouts hold it.
    image = _blob(36, 1.5, 5.0, centre=(0.3, -0.2))[None, None] * np.ones((1, 2, 1, 1))
    regridded = on_target_grid(image, galex, sdss9, offsets=np.array([[0.3, -0.2]]))
    assert regridded.shape == (1, 2, 128, 128)
    np.testing.assert_allclose(regridded.sum(axis=(2, 3)), 1.0, rtol=0.01)
    yy, xx = np.mgrid[:128, :128]
    weights = regridded[0, 0] / regridded[0, 0].sum()
    # The object lands on the target's centre (63.5, 63.5) within a fifth of a target pixel.
    assert (weights * xx).sum() == pytest.approx(63.5, abs=0.2)
    assert (weights * yy).sum() == pytest.approx(63.5, abs=0.2)


def _plates(noise: np.ndarray, fluxes: np.ndarray) -> np.ndarray:
    """Plate densities of 60 px cutouts: a sky level, one galaxy per cutout and band, and white noise."""
    rng = np.random.default_rng(1)
    galaxy = fluxes[:, None, None, None] * _blob(60, 1.0, 3.0)
    return 5000.0 + galaxy + noise[:, None, None, None] * rng.standard_normal((len(noise), 2, 60, 60))


def _aperture_sums(images: np.ndarray, radius: float = 6.0) -> np.ndarray:
    yy, xx = np.mgrid[:60, :60] - 29.5
    return images[..., xx**2 + yy**2 <= radius**2].sum(axis=-1)


def test_uncalibrated_inputs_keep_their_galaxies_relative_fluxes_in_units_of_the_survey_noise() -> None:
    dss2 = dataclasses.replace(get_survey("dss2"), bands=("blue", "red"))
    noise = np.array([30.0, 40.0, 50.0])  # the plates' noise differs by cutout
    fluxes = np.array([20000.0, 40000.0, 80000.0])
    plates = _plates(noise, fluxes)
    noise_units = survey_pixels(plates, dss2, [40.0, 40.0])
    # The background is gone and the galaxies' fluxes keep their ratios (1 : 2 : 4), in units of 40.
    np.testing.assert_allclose(np.median(noise_units[..., :2, :], axis=(2, 3)), 0.0, atol=0.3)
    np.testing.assert_allclose(_aperture_sums(noise_units), np.outer(fluxes / 40.0, [1, 1]), rtol=0.05)
    # Dividing each cutout by its own noise (runs that recorded no scales) changes their ratios.
    own = _aperture_sums(survey_pixels(plates, dss2))[:, 0]
    assert own[2] / own[0] == pytest.approx(4.0 * 30.0 / 50.0, rel=0.1)
    with pytest.raises(GaltkError, match="2 positive values, one per band"):
        survey_pixels(plates, dss2, [40.0])
    assert survey_pixels(np.ones((1, 1, 2, 2)), get_survey("cfht"))[0, 0, 0, 0] == pytest.approx(1e-3)


def test_the_noise_scale_of_an_uncalibrated_survey_is_its_typical_noise(workspace: Path) -> None:
    ws = load_workspace(workspace)
    store = PairedStore.open(workspace / "data/paired.zarr")
    dss2 = dataclasses.replace(ws.survey("dss2"), calibrated=False)
    scales = input_noise_scales(store, (dss2, ws.survey("galex")), np.arange(20))
    assert list(scales) == ["dss2"]  # GALEX is calibrated
    # The synthetic DSS2 noise in nanomaggies per 1" pixel (its preset's), within the sky's scatter.
    typical = np.array([ws.survey("dss2").noise_sigma_nmgy[band] for band in dss2.bands])
    np.testing.assert_allclose(scales["dss2"], typical, rtol=0.3)


def test_survey_arrays_are_the_inputs_on_the_target_grid(workspace: Path) -> None:
    ws = load_workspace(workspace)
    store = PairedStore.open(workspace / "data/paired.zarr")
    specs = (ws.survey("dss2"), ws.survey("galex"))
    inputs, target = survey_arrays(store, specs, ws.survey("sdss9"), np.arange(4))
    assert inputs.shape == (4, 3 + 2, 32, 32) and target.shape == (4, 5, 32, 32)
    assert np.isfinite(inputs).all() and np.isfinite(target).all()
    too_small = dataclasses.replace(ws.survey("galex"), cutout_size=8)
    with pytest.raises(TrainingDataError, match=r"galex's cutouts .* do not cover sdss9's"):
        survey_arrays(store, (too_small,), ws.survey("sdss9"), np.arange(2))


def test_pix2pix_learns_the_target_from_several_surveys(workspace: Path) -> None:
    torch.manual_seed(0)
    overrides = {
        "method": "pix2pix",
        "inputs": ["dss2", "galex"],
        "target": "sdss9",
        "iterations": 60,
        "width": 1 / 16,
        "batch_pairs": 8,
        "checkpoint_every": 60,
        "log_every": 10,
        "sample_every": 60,
        "device": "cpu",
    }
    launch = prepare_workspace(load_workspace(workspace), overrides=overrides, name="multi")
    assert isinstance(launch.sources, SurveyPairSources)
    assert launch.input_bands == ("dss2:blue", "dss2:red", "dss2:ir", "galex:FUV", "galex:NUV")
    report = launch.train()
    assert report.stages[0].iterations == 60
    with open(workspace / "runs/multi/losses.csv", encoding="utf-8") as handle:
        l1 = [float(row["G/l1"]) for row in csv.DictReader(handle)]
    assert l1[-1] < 0.7 * l1[0]
    snapshot = json.loads((workspace / "runs/multi/run.json").read_text())
    assert snapshot["input_bands"] == list(launch.input_bands)
    assert snapshot["data"]["inputs"] == ["dss2", "galex"]
    assert any((workspace / "runs/multi/samples").rglob("*inputs-to-target.png"))


def test_pix2pix_needs_its_inputs_and_target(workspace: Path) -> None:
    with pytest.raises(GaltkError, match="--inputs B,C,D --target A"):
        prepare_workspace(load_workspace(workspace), overrides={"method": "pix2pix-multi"}, name="none")
    with pytest.raises(GaltkError, match="inputs must name different surveys, none of them the target"):
        prepare_workspace(
            load_workspace(workspace),
            overrides={"method": "pix2pix", "inputs": ["sdss9"], "target": "sdss9"},
            name="none",
        )
