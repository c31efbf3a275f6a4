"""The zarr cutout store: round trip, append, slicing, xarray view, attributes, repair."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

from galtk.errors import StoreError
from galtk.pipeline.stores.cutout_store import (
    STATE_DONE,
    STATE_FAILED,
    STATE_PENDING,
    CutoutBatch,
    CutoutStore,
    ExtraArray,
    StoreSchema,
    is_store,
)
from galtk.pipeline.surveys import SURVEYS

NOISE = ExtraArray("noise_sigma", True, "float32", "nanomaggy", "true noise")
ORIGIN = ExtraArray("origin", False, "str", "", "where the row came from")


def _schema(chunk_objects: int = 8) -> StoreSchema:
    return StoreSchema.for_survey(SURVEYS["sdss"], chunk_objects=chunk_objects, extras=(NOISE, ORIGIN))


def _batch(n: int, seed: int = 0, state: int = STATE_DONE) -> CutoutBatch:
    rng = np.random.default_rng(seed)
    return CutoutBatch(
        images=rng.normal(size=(n, 5, 64, 64)).astype(np.float32),
        valid=rng.random((n, 5)) > 0.2,
        state=np.full(n, state, dtype=np.uint8),
        extras={"noise_sigma": rng.random((n, 5)), "origin": np.array([f"file{seed}-{i}" for i in range(n)])},
    )


def _objects(n: int) -> dict:
    return {"ra": np.linspace(150, 151, n), "dec": np.linspace(2, 3, n), "ids": [f"obj{i}" for i in range(n)]}


def test_preallocated_rows_start_pending_and_round_trip(tmp_path: Path) -> None:
    store = CutoutStore.create(tmp_path / "s.zarr", _schema(), **_objects(20), source={"kind": "test"})
    assert store.n_objects == 20
    assert store.counts() == {"objects": 20, "done": 0, "failed": 0, "pending": 20}
    assert np.isnan(store.images[0]).all()  # unwritten pixels are NaN, never silent zeros
    batch = _batch(8, seed=1)
    store.write_rows(8, batch)
    reopened = CutoutStore.open(tmp_path / "s.zarr")
    np.testing.assert_array_equal(reopened.images[8:16], batch.images)
    read = reopened.read(slice(8, 16))
    np.testing.assert_array_equal(read.valid, batch.valid)
    np.testing.assert_array_equal(read.extras["noise_sigma"], batch.extras["noise_sigma"].astype(np.float32))
    assert list(read.extras["origin"]) == list(batch.extras["origin"])
    np.testing.assert_array_equal(reopened.pending(), np.r_[0:8, 16:20])
    assert list(reopened.ids[:2]) == ["obj0", "obj1"]
    np.testing.assert_allclose(reopened.ra, np.linspace(150, 151, 20))


def test_fancy_index_reads(tmp_path: Path) -> None:
    store = CutoutStore.create(tmp_path / "s.zarr", _schema(), **_objects(16))
    batch = _batch(16, seed=2)
    store.write_rows(0, batch)
    rows = np.array([1, 5, 6, 15])
    np.testing.assert_array_equal(store.read(rows).images, batch.images[rows])
    np.testing.assert_array_equal(store.images[3, 2, 10:20, 5], batch.images[3, 2, 10:20, 5])


def test_append_grows_every_array(tmp_path: Path) -> None:
    store = CutoutStore.create(tmp_path / "s.zarr", _schema())
    assert store.n_objects == 0
    first, second = _batch(5, seed=3), _batch(7, seed=4, state=STATE_FAILED)
    store.append(first, **_objects(5))
    store.append(second, ra=np.zeros(7), dec=np.ones(7), ids=[f"b{i}" for i in range(7)])
    reopened = CutoutStore.open(tmp_path / "s.zarr")
    assert reopened.n_objects == 12
    np.testing.assert_array_equal(reopened.images[:5], first.images)
    np.testing.assert_array_equal(reopened.images[5:], second.images)
    assert reopened.counts() == {"objects": 12, "done": 5, "failed": 7, "pending": 0}
    assert list(reopened.ids[5:7]) == ["b0", "b1"]


def test_xarray_view_is_labelled(tmp_path: Path) -> None:
    store = CutoutStore.create(tmp_path / "s.zarr", _schema(), **_objects(10))
    store.write_rows(0, _batch(10, seed=5))
    store.append(_batch(2, seed=6), ra=[1.0, 2.0], dec=[3.0, 4.0], ids=["x", "y"])
    dataset = xr.open_zarr(tmp_path / "s.zarr")
    assert dataset.images.dims == ("object", "band", "y", "x")
    assert dataset.sizes["object"] == 12  # consolidated metadata was refreshed by append
    assert {"ra", "dec", "id", "band"} <= set(dataset.coords)
    assert list(dataset.band.values) == ["u", "g", "r", "i", "z"]
    assert dataset.images.chunks[0][0] == 8
    assert dataset.noise_sigma.dims == ("object", "band")
    assert dataset.attrs["survey"] == "sdss" and dataset.attrs["units"] == "nanomaggy"
    assert dataset.attrs["pixel_scale"] == pytest.approx(0.396)
    assert dataset.attrs["transforms"] == []
    provenance = dataset.attrs["provenance"]
    assert {"galtk_version", "created", "source"} <= set(provenance)
    np.testing.assert_array_equal(dataset.images.isel(object=11).values, store.images[11])
    assert float(dataset.ra.isel(object=10)) == 1.0


def test_create_refuses_an_existing_path_and_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "s.zarr"
    store = CutoutStore.create(path, _schema(), **_objects(8))
    store.write_rows(0, _batch(8, seed=7))
    with pytest.raises(StoreError, match="already exists"):
        CutoutStore.create(path, _schema(), **_objects(3))
    assert CutoutStore.open(path).counts()["done"] == 8


def test_create_in_a_path_under_a_file_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="not a directory"):
        CutoutStore.create(tmp_path / "file" / "s.zarr", _schema())


def test_open_rejects_what_is_not_a_store(tmp_path: Path) -> None:
    plain = zarr.open_group(str(tmp_path / "plain.zarr"), mode="w")
    plain.attrs["x"] = 1
    for path in (tmp_path / "missing.zarr", tmp_path / "plain.zarr"):
        assert not is_store(path)
        with pytest.raises(StoreError, match="not a galtk cutout store"):
            CutoutStore.open(path)


def test_batches_of_the_wrong_shape_are_refused(tmp_path: Path) -> None:
    store = CutoutStore.create(tmp_path / "s.zarr", _schema(), **_objects(8))
    bad = _batch(4)
    bad.images = bad.images[:, :, :32]
    with pytest.raises(ValueError, match="shape"):
        store.write_rows(0, bad)
    with pytest.raises(IndexError):
        store.write_rows(6, _batch(4))
    assert store.counts()["pending"] == 8


def test_interrupted_append_is_repaired_on_writable_open(tmp_path: Path) -> None:
    path = tmp_path / "s.zarr"
    store = CutoutStore.create(path, _schema(), **_objects(8))
    store.write_rows(0, _batch(8))
    # A writer killed mid-append has grown some arrays (state, which comes last, not yet).
    group = zarr.open_group(str(path), mode="r+", use_consolidated=False)
    group["images"].resize((13, 5, 64, 64))
    group["ra"].resize((13,))
    (path / "images" / "c" / "0" / "0" / "0" / "0.123.partial").write_bytes(b"junk")
    repaired = CutoutStore.open(path, mode="r+")
    assert repaired.images.shape[0] == 8 and repaired.ra.shape == (8,)
    assert not list(path.rglob("*.partial"))
    assert repaired.counts() == {"objects": 8, "done": 8, "failed": 0, "pending": 0}


def test_row_states_are_the_commit_flags(tmp_path: Path) -> None:
    store = CutoutStore.create(tmp_path / "s.zarr", _schema(), **_objects(4))
    assert set(store.state) == {STATE_PENDING}
    attrs = xr.open_zarr(tmp_path / "s.zarr").state.attrs
    assert attrs["flag_meanings"] == "pending done failed"
