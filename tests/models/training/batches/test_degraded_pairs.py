"""galaxygan's training data: the (degraded, original) pairs of a ``galtk degrade`` store, and its folds."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from sim_workspaces import degraded_sim_workspace

from galtk.errors import StoreError
from galtk.models.training.batches.degraded_pairs import (
    DegradedPairSources,
    fold_of_pairs,
    held_out_rows,
    open_degrade_store,
)
from galtk.models.training.distributed import Distributed
from galtk.models.training.launch import prepare_workspace
from galtk.models.training.settings import TrainSettings
from galtk.pipeline.stores.cutout_store import CutoutStore
from galtk.pipeline.workspace import load_workspace


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return degraded_sim_workspace(tmp_path_factory.mktemp("galaxygan") / "ws", n_objects=60)


def test_folds_are_balanced_seeded_and_independent_of_the_row_order() -> None:
    ids = np.array([f"obj{k:03d}" for k in range(103)])
    folds = fold_of_pairs(ids, 10, seed=4)
    assert sorted(np.bincount(folds)) == [10] * 7 + [11] * 3
    order = np.random.default_rng(0).permutation(len(ids))
    assert np.array_equal(fold_of_pairs(ids[order], 10, seed=4), folds[order])
    assert not np.array_equal(fold_of_pairs(ids, 10, seed=5), folds)
    with pytest.raises(ValueError, match="at least 2"):
        fold_of_pairs(ids, 1, seed=0)


def test_training_pairs_are_the_train_rows_in_rescaled_units(workspace: Path) -> None:
    path = workspace / "data/degraded/sdss.zarr"
    store = open_degrade_store(path)
    settings = TrainSettings(batch_size=1, batch_pairs=4)
    sources = DegradedPairSources(path)
    source = sources(None, Distributed(), settings)  # type: ignore[arg-type]
    rows = sources.rows[source.rows("train_pairs")]
    assert np.array_equal(rows, np.arange(int((store.split == "train").sum())))
    assert not set(held_out_rows(store, settings)) & set(rows)
    # the SDSS side is the degraded image, the CFHT side the original, both rescaled (SPEC section 3)
    degraded = CutoutStore.open(path / "degraded").read(rows[:3]).images
    original = CutoutStore.open(path / "original").read(rows[:3]).images
    batch = source.batch(0)
    columns = [source._sources[2].columns[k].gather(np.arange(3)) for k in (0, 1)]
    for column, images in zip(columns, (degraded, original), strict=True):
        expected = np.where(images >= 0, np.sqrt(images + 1.0) - 1, 1 - np.sqrt(1.0 - images))
        assert np.allclose(column.numpy(), expected, rtol=1e-6, atol=1e-7)
    assert batch.pair_sdss.shape == batch.pair_cfht.shape == (4, 5, 64, 64)


def test_k_folds_train_on_every_pair_but_one_fold(workspace: Path) -> None:
    path = workspace / "data/degraded/sdss.zarr"
    store = open_degrade_store(path)
    seen = []
    for fold in range(3):
        settings = TrainSettings(batch_size=1, batch_pairs=4, folds=3, fold=fold)
        held = held_out_rows(store, settings)
        sources = DegradedPairSources(path)
        sources(None, Distributed(), settings)  # type: ignore[arg-type]
        rows = sources.rows
        assert sorted([*held, *rows]) == list(range(store.n_pairs))
        seen.extend(held)
    assert sorted(seen) == list(range(store.n_pairs))
    with pytest.raises(ValueError, match=r"fold must be in 0\.\.2"):
        TrainSettings(folds=3, fold=3)


def test_a_store_that_degrade_did_not_write_is_refused(workspace: Path) -> None:
    with pytest.raises(StoreError, match="not a galtk paired store"):
        open_degrade_store(workspace / "data/raw/sdss.zarr")


def test_galaxygan_trains_on_the_degrade_store_with_its_own_settings(workspace: Path) -> None:
    torch.manual_seed(0)
    overrides = {
        "method": "galaxygan",
        "iterations": 60,
        "width": 1 / 16,
        "batch_pairs": 8,
        "checkpoint_every": 60,
        "log_every": 10,
        "sample_every": 0,
        "device": "cpu",
    }
    launch = prepare_workspace(load_workspace(workspace), overrides=overrides, name="gg")
    assert (launch.plan.settings.learning_rate, launch.plan.settings.beta1) == (2e-4, 0.5)
    report = launch.train()
    assert report.stages[0].iterations == 60
    with open(workspace / "runs/gg/losses.csv", encoding="utf-8") as handle:
        l1 = [float(row["G/l1"]) for row in csv.DictReader(handle)]
    assert l1[-1] < 0.7 * l1[0]
