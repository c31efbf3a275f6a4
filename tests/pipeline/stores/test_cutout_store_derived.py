"""Derived image arrays of a cutout store: temporary names, installation, transforms, crash repair."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from galtk.errors import StoreError
from galtk.pipeline.stores.cutout_store import (
    STATE_DONE,
    TEMPORARY_PREFIX,
    CutoutBatch,
    CutoutStore,
    ExtraArray,
    StoreSchema,
)
from galtk.pipeline.surveys import SURVEYS

ROW = ExtraArray("source_row", False, "int64", "", "row in the raw store")


def _store(path: Path, n: int = 12) -> CutoutStore:
    schema = StoreSchema.for_survey(SURVEYS["cfht"], chunk_objects=4, extras=(ROW,))
    store = CutoutStore.create(
        path, schema, ra=np.linspace(1, 2, n), dec=np.zeros(n), ids=[f"o{i}" for i in range(n)]
    )
    rng = np.random.default_rng(0)
    store.write_rows(
        0,
        CutoutBatch(
            images=rng.normal(size=(n, 5, 136, 136)).astype(np.float32),
            valid=np.ones((n, 5), bool),
            state=np.full(n, STATE_DONE, np.uint8),
            extras={"source_row": np.arange(n) * 10},
        ),
    )
    return store


def test_int64_extras_round_trip_with_minus_one_fill(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.zarr")
    np.testing.assert_array_equal(store.extra("source_row"), np.arange(12) * 10)
    assert store.extra("source_row").dtype == np.int64
    empty = CutoutStore.create(
        tmp_path / "e.zarr",
        StoreSchema.for_survey(SURVEYS["sdss"], extras=(ROW,)),
        ra=np.zeros(3),
        dec=np.zeros(3),
        ids=["a", "b", "c"],
    )
    np.testing.assert_array_equal(empty.extra("source_row"), [-1, -1, -1])
    with pytest.raises(ValueError, match="'float32', 'str' or 'int64'"):
        ExtraArray("bad", False, "int8", "", "")


def test_a_derived_array_is_invisible_until_installed(tmp_path: Path) -> None:
    store = CutoutStore.open(_store(tmp_path / "s.zarr").path, mode="r+")
    temporary = store.create_image_array(
        "regridded", size=64, dims=("y_regrid", "x_regrid"), attributes={"units": "u"}
    )
    assert temporary == TEMPORARY_PREFIX + "regridded"
    store.array(temporary)[:] = np.ones((12, 5, 64, 64), np.float32)
    assert store.derived_arrays() == []
    assert "regridded" not in xr.open_zarr(store.path).data_vars
    store.install_array(temporary, "regridded")
    assert store.derived_arrays() == ["regridded"]
    dataset = xr.open_zarr(store.path)
    assert dataset.regridded.dims == ("object", "band", "y_regrid", "x_regrid")
    assert dataset.regridded.attrs["units"] == "u"
    assert dataset.regridded.chunks[0][0] == 4  # same object chunking as images
    assert float(dataset.regridded.sum()) == 12 * 5 * 64 * 64


def test_installing_again_replaces_and_records_transforms(tmp_path: Path) -> None:
    store = CutoutStore.open(_store(tmp_path / "s.zarr").path, mode="r+")
    for value in (1.0, 2.0):
        temporary = store.create_image_array("rescaled")
        store.array(temporary)[:] = np.full((12, 5, 136, 136), value, np.float32)
        store.install_array(temporary, "rescaled")
        store.add_transform({"array": "rescaled", "value": value}, replace=True)
    assert store.array("rescaled")[0, 0, 0, 0] == 2.0
    assert store.transforms == [{"array": "rescaled", "value": 2.0}]
    assert CutoutStore.open(store.path).attrs["transforms"] == [{"array": "rescaled", "value": 2.0}]
    assert sorted(p.name for p in store.path.iterdir() if p.name.startswith("_")) == []


def test_writable_open_removes_what_an_interrupted_writer_left(tmp_path: Path) -> None:
    store = CutoutStore.open(_store(tmp_path / "s.zarr").path, mode="r+")
    temporary = store.create_image_array("rescaled")
    store.install_array(temporary, "rescaled")
    store.create_image_array("regridded", size=64, dims=("a", "b"))  # a writer killed mid-way
    (store.path / "rescaled").rename(store.path / "_galtk_old_rescaled")  # killed inside a swap
    reopened = CutoutStore.open(store.path, mode="r+")
    assert reopened.derived_arrays() == ["rescaled"]
    assert not [p for p in store.path.iterdir() if p.name.startswith("_")]
    assert "rescaled" in xr.open_zarr(store.path).data_vars


def test_layout_arrays_are_protected_and_read_only_stores_refuse_changes(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.zarr")
    for name in ("images", "source_row", "band", "_hidden"):
        with pytest.raises(ValueError, match="cannot be the name"):
            store.create_image_array(name)
    with pytest.raises(ValueError, match="own dimension names"):
        store.create_image_array("small", size=64)
    with pytest.raises(ValueError, match="cannot be deleted"):
        store.delete_array("valid")
    read_only = CutoutStore.open(store.path)
    with pytest.raises(StoreError, match="read-only"):
        read_only.create_image_array("rescaled")


def test_append_refuses_a_store_with_derived_arrays(tmp_path: Path) -> None:
    store = CutoutStore.open(_store(tmp_path / "s.zarr").path, mode="r+")
    store.install_array(store.create_image_array("rescaled"), "rescaled")
    batch = CutoutBatch(
        images=np.zeros((1, 5, 136, 136), np.float32),
        valid=np.ones((1, 5), bool),
        state=np.ones(1, np.uint8),
        extras={"source_row": np.zeros(1)},
    )
    with pytest.raises(StoreError, match="derived arrays"):
        store.append(batch, ra=[0.0], dec=[0.0], ids=["x"])
    assert CutoutStore.open(store.path).n_objects == 12
