"""``degrade_store`` on the synthetic sky: target PSF and noise against the truth, determinism, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from galtk.errors import StoreError, UsageError
from galtk.pipeline.degrade.psf import psf_image
from galtk.pipeline.degrade.stage import DegradeSettings, _degrade_block, degrade_store
from galtk.pipeline.fetch.stage import fetch_workspace
from galtk.pipeline.replace import remove_leftover
from galtk.pipeline.stores.cutout_store import CutoutStore
from galtk.pipeline.stores.paired import PairedStore
from galtk.pipeline.workspace import load_workspace


@pytest.fixture(scope="module")
def sdss_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sim_workspaces import write_sim_config

    root = write_sim_config(tmp_path_factory.mktemp("degrade") / "ws", n_objects=60)
    fetch_workspace(load_workspace(root), ["sdss"])
    return root / "data/raw/sdss.zarr"


@pytest.mark.parametrize("profile", ["gaussian", "moffat"])
def test_a_star_takes_the_target_psf_keeps_its_flux_and_gets_the_target_noise(profile: str) -> None:
    star = 1000.0 * np.pad(psf_image("gaussian", 3.0, 63), ((32, 33), (32, 33)))
    noise = np.random.default_rng(0).normal(0.0, 0.01, star.shape)
    settings = DegradeSettings(fwhm=(1.0,), profile=profile, noise_factor=2.0)
    batch = _degrade_block(
        (star + noise)[None, None].astype(np.float32),
        np.array([7]),
        np.array([[3.0]]),
        np.array([[5.0]]),
        settings,
    )
    degraded = batch.images[0, 0].astype(np.float64)
    assert degraded[40:88, 40:88].sum() == pytest.approx(star.sum(), rel=0.01)
    expected = psf_image(profile, 5.0, 127)
    centre = degraded[40:87, 40:87] / 1000.0
    assert np.abs(centre - expected[40:87, 40:87]).max() < 0.03 * expected.max()
    assert batch.extras["noise_sigma_before"][0, 0] == pytest.approx(0.01, rel=0.05)
    assert batch.extras["noise_sigma"][0, 0] == pytest.approx(0.02, rel=0.08)


def test_pairs_of_the_synthetic_sky_have_the_target_psf_and_noise(sdss_store: Path, tmp_path: Path) -> None:
    settings = DegradeSettings(fwhm=(2.5,), noise_factor=1.5, seed=3, test_fraction=0.25)
    report = degrade_store(sdss_store, tmp_path / "pairs.zarr", settings, workers=2)
    paired = PairedStore.open(report.path)
    original, degraded = paired.member("original"), paired.member("degraded")
    assert paired.surveys == ("original", "degraded")
    assert report.n_train + report.n_test == paired.n_pairs == original.n_objects == degraded.n_objects
    assert report.n_test == round(0.25 * paired.n_pairs)
    assert list(paired.split) == ["train"] * report.n_train + ["test"] * report.n_test
    rows = paired.column("source_row")
    source_truth = original.extra("psf_fwhm")  # the sky's true PSF of each original cutout
    np.testing.assert_array_equal(degraded.extra("psf_fwhm_before"), source_truth)
    assert np.all(degraded.extra("psf_fwhm") == np.float32(2.5))
    np.testing.assert_array_equal(original.read(slice(0, 4)).images, _source_images(sdss_store, rows[:4]))
    true_sigma = original.extra("noise_sigma")  # the sky's true per-pixel noise sigma
    ratio = degraded.extra("noise_sigma") / true_sigma
    assert np.all(np.abs(np.median(ratio, axis=0) / 1.5 - 1) < 0.1), np.median(ratio, axis=0)
    assert np.all(degraded.extra("noise_sigma_convolved") < degraded.extra("noise_sigma_before"))


def _source_images(path: Path, rows: np.ndarray) -> np.ndarray:
    from galtk.pipeline.stores.cutout_store import CutoutStore

    return CutoutStore.open(path).read(rows).images


def test_results_depend_on_the_seed_only_and_outputs_are_replaced_only_on_request(
    sdss_store: Path, tmp_path: Path
) -> None:
    settings = DegradeSettings(fwhm_factor=1.6, profile="moffat", seed=1)
    one = degrade_store(sdss_store, tmp_path / "one.zarr", settings, workers=1)
    three = degrade_store(sdss_store, tmp_path / "three.zarr", settings, workers=3)
    images = [PairedStore.open(r.path).member("degraded").images[:] for r in (one, three)]
    np.testing.assert_array_equal(*images)
    with pytest.raises(StoreError, match="already exists; pass --overwrite"):
        degrade_store(sdss_store, one.path, settings)
    other = degrade_store(sdss_store, one.path, DegradeSettings(fwhm_factor=1.6, seed=2), overwrite=True)
    assert not np.array_equal(PairedStore.open(other.path).member("degraded").images[:], images[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.zarr", "three.zarr"]


def test_impossible_requests_are_refused_before_writing(sdss_store: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot sharpen"):
        degrade_store(sdss_store, tmp_path / "p.zarr", DegradeSettings(fwhm=(0.5,)))
    partly = degrade_store(sdss_store, tmp_path / "partly.zarr", DegradeSettings(fwhm=(1.8,)))
    narrow = (CutoutStore.open(sdss_store).extra("psf_fwhm") >= 1.8).any(axis=1)
    assert 0 < narrow.sum() < len(narrow)
    assert partly.skipped == {"PSF already as wide as the target": int(narrow.sum())}
    remove_leftover(partly.path)
    with pytest.raises(UsageError, match="one value or one per band"):
        degrade_store(sdss_store, tmp_path / "p.zarr", DegradeSettings(fwhm=(2.0, 3.0)))
    with pytest.raises(StoreError, match="is the source store"):
        degrade_store(sdss_store, sdss_store, DegradeSettings(fwhm=(3.0,)), overwrite=True)
    for bad in (
        {"fwhm": (2.0,), "fwhm_factor": 2.0},
        {},
        {"fwhm_factor": 0.9},
        {"fwhm": (2.0,), "noise_factor": 0.5},
    ):
        with pytest.raises(ValueError):
            DegradeSettings(**bad)
    assert not any(tmp_path.iterdir())
