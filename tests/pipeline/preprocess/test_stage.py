"""Preprocessing stores with dask: values, flags, idempotence, crash safety, schedulers (LocalCluster)."""

import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import galtk.pipeline.preprocess.stage as preprocess_module
from galtk.errors import SchedulerError, StoreError
from galtk.pipeline.preprocess.regrid import RegridMap
from galtk.pipeline.preprocess.stage import (
    RegridTarget,
    check_scheduler,
    plan_blocks,
    preprocess,
    preprocess_many,
)
from galtk.pipeline.preprocess.transforms import inverse_rescale, rescale
from galtk.pipeline.stores.cutout_store import STATE_DONE, STATE_FAILED, CutoutBatch, CutoutStore, StoreSchema
from galtk.pipeline.stores.paired import PairedStore
from galtk.pipeline.surveys import CFHT, SDSS

TO_SDSS = {"cfht": RegridTarget("sdss", SDSS.pixel_scale, SDSS.cutout_size)}
N = 40


def _cfht_store(path: Path, *, n: int = N, chunk: int = 8) -> CutoutStore:
    """CFHT-like rows in ADU with an invalid band holding zeros, NaN pixels and a failed row."""
    rng = np.random.default_rng(4)
    store = CutoutStore.create(
        path,
        StoreSchema.for_survey(CFHT, chunk_objects=chunk),
        ra=rng.uniform(150, 151, n),
        dec=rng.uniform(2, 3, n),
        ids=[f"c{i}" for i in range(n)],
    )
    images = rng.normal(0, 20, (n, 5, 136, 136)).astype(np.float32)
    images[:, :, 60:76, 60:76] += 5000
    valid = np.ones((n, 5), bool)
    valid[3, 4] = False
    images[3, 4] = 0.0  # a source that wrote zeros into a band it flagged invalid
    images[5, 1, 11, 20] = np.nan  # a hole in a valid band (a pixel the regridding reads)
    state = np.full(n, STATE_DONE, np.uint8)
    state[7], valid[7], images[7] = STATE_FAILED, False, np.nan
    store.write_rows(0, CutoutBatch(images=images, valid=valid, state=state))
    return store


@pytest.fixture
def cfht(tmp_path: Path) -> Path:
    return _cfht_store(tmp_path / "cfht.zarr").path


def test_rescaled_and_regridded_values_flags_and_attributes(cfht: Path) -> None:
    reports = preprocess(cfht, regrid=TO_SDSS, scheduler="threads", workers=2, task_objects=16)
    assert len(reports) == 1 and reports[0].arrays == ("rescaled", "regridded")
    assert reports[0].nonfinite_valid_pixels == 1
    store = CutoutStore.open(cfht)
    raw = store.images[:]
    valid = store.valid[:]
    rescaled = store.array("rescaled")[:]
    expected = rescale(raw, "cfht")
    expected[~valid] = np.nan
    np.testing.assert_array_equal(rescaled, expected)
    assert np.isnan(rescaled[3, 4]).all() and np.isfinite(rescaled[3, :4]).all()  # zeros of an invalid band
    assert np.isnan(rescaled[7]).all()
    assert np.isnan(rescaled[5, 1, 11, 20]) and np.count_nonzero(np.isnan(rescaled[5, 1])) == 1
    np.testing.assert_allclose(inverse_rescale(rescaled[0], "cfht"), raw[0], rtol=2.5e-7)
    regridded = store.array("regridded")[:]
    np.testing.assert_array_equal(
        regridded,
        RegridMap.between_cutouts(from_scale=0.186, from_size=136, to_scale=0.396, to_size=64).apply(
            rescaled
        ),
    )
    assert np.isnan(regridded[3, 4]).all() and np.isfinite(regridded[3, :4]).all()
    assert 0 < np.count_nonzero(np.isnan(regridded[5, 1])) <= 4

    dataset = xr.open_zarr(cfht)
    assert dataset.rescaled.dims == ("object", "band", "y", "x")
    assert dataset.regridded.dims == ("object", "band", "y_regrid", "x_regrid")
    assert dataset.rescaled.attrs["units"] == "signed_sqrt(nanomaggy)"
    assert [step["name"] for step in dataset.regridded.attrs["transforms"]] == [
        "scale",
        "signed_sqrt",
        "bilinear_regrid",
    ]
    records = store.transforms
    assert [record["array"] for record in records] == ["rescaled", "regridded"]
    assert records[0]["steps"][0] == {
        "name": "scale",
        "factor": 0.001,
        "from_units": "adu_zp30",
        "to_units": "nanomaggy",
        "note": "AB zero point 30 ADU to nanomaggies (the paper's x 1/1000)",
    }
    assert store.attrs["units"] == "adu_zp30"  # the raw images are untouched


def test_a_second_run_is_refused_and_overwrite_recomputes_from_raw(cfht: Path) -> None:
    preprocess(cfht, regrid=TO_SDSS)
    before = {p: p.read_bytes() for p in cfht.rglob("*") if p.is_file() and "zarr.json" not in p.name}
    with pytest.raises(StoreError, match=r"already rescaled .*--overwrite"):
        preprocess(cfht, regrid=TO_SDSS)
    after = {p: p.read_bytes() for p in cfht.rglob("*") if p.is_file() and "zarr.json" not in p.name}
    assert after == before
    preprocess(cfht, regrid=TO_SDSS, overwrite=True)
    assert {p: p.read_bytes() for p in cfht.rglob("*") if p.is_file() and "zarr.json" not in p.name} == before
    assert [record["array"] for record in CutoutStore.open(cfht).transforms] == ["rescaled", "regridded"]


def test_all_stores_are_checked_before_any_work(cfht: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.zarr"
    shutil.copytree(cfht, other)
    preprocess(other)
    with pytest.raises(StoreError, match=r"other\.zarr is already rescaled"):
        preprocess_many([other])
    schema = StoreSchema.for_survey(SDSS)
    odd = CutoutStore.create(tmp_path / "odd.zarr", schema.__class__(**{**schema.__dict__, "unit": "jy"}))
    with pytest.raises(StoreError, match="does not hold raw survey pixels"):
        preprocess_many([cfht, odd.path])
    assert not CutoutStore.open(cfht).has_array("rescaled")


def test_stores_already_complete_are_left_out_while_others_are_not(cfht: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.zarr"
    shutil.copytree(cfht, other)
    preprocess(other)
    record = CutoutStore.open(other).transforms
    reports = preprocess_many([cfht, other])
    assert [report.path for report in reports] == [cfht]
    assert CutoutStore.open(cfht).has_array("rescaled")
    assert CutoutStore.open(other).transforms == record


def test_stores_without_raw_pixels_are_refused(tmp_path: Path) -> None:
    schema = StoreSchema.for_survey(SDSS)
    store = CutoutStore.create(tmp_path / "odd.zarr", schema.__class__(**{**schema.__dict__, "unit": "jy"}))
    with pytest.raises(StoreError, match="does not hold raw survey pixels"):
        preprocess(store.path)
    with pytest.raises(StoreError, match="not a galtk cutout store or paired store"):
        preprocess(tmp_path)
    with pytest.raises(StoreError, match="does not exist; run `galtk crossmatch`"):
        preprocess(tmp_path / "missing.zarr")


def test_a_failing_task_leaves_the_store_as_it_was(cfht: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = preprocess_module._transform_block

    def failing(path, start, stop, *args):
        if start >= 16:
            raise OSError("disk full")
        return original(path, start, stop, *args)

    monkeypatch.setattr(preprocess_module, "_transform_block", failing)
    with pytest.raises(OSError, match="disk full"):
        preprocess(cfht, regrid=TO_SDSS, task_objects=8, workers=1)
    store = CutoutStore.open(cfht)
    assert store.derived_arrays() == [] and store.transforms == []
    assert set(xr.open_zarr(cfht).data_vars) == {"images", "valid", "state"}
    monkeypatch.setattr(preprocess_module, "_transform_block", original)
    preprocess(cfht, regrid=TO_SDSS)  # the leftovers of the failed run are cleaned up, not in the way
    assert CutoutStore.open(cfht).derived_arrays() == ["regridded", "rescaled"]
    assert not [p for p in cfht.iterdir() if p.name.startswith("_")]


def test_distributed_local_cluster_equals_threads_bit_for_bit(cfht: Path, tmp_path: Path) -> None:
    from distributed import LocalCluster

    copy = tmp_path / "copy.zarr"
    shutil.copytree(cfht, copy)
    preprocess(cfht, regrid=TO_SDSS, scheduler="threads", task_objects=8)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        progress = []
        preprocess(
            copy,
            regrid=TO_SDSS,
            scheduler=cluster.scheduler_address,
            task_objects=8,
            on_progress=progress.append,
        )
    assert sum(progress) == N and len(progress) == 5
    for name in ("rescaled", "regridded"):
        threaded = CutoutStore.open(cfht).array(name)[:]
        distributed = CutoutStore.open(copy).array(name)[:]
        np.testing.assert_array_equal(threaded.view(np.uint32), distributed.view(np.uint32))
    assert CutoutStore.open(copy).transforms[0]["scheduler"] == "dask.distributed"


def test_paired_stores_are_processed_member_by_member(tmp_path: Path) -> None:
    paired = PairedStore.create(
        tmp_path / "paired.zarr",
        table={"split": (np.array(["train"] * 6 + ["test"] * 4), {})},
        attributes={"surveys": ["sdss", "cfht"]},
    )
    _cfht_store(paired.path / "cfht", n=10, chunk=4)
    sdss = CutoutStore.create(
        paired.path / "sdss",
        StoreSchema.for_survey(SDSS, chunk_objects=4),
        ra=np.zeros(10),
        dec=np.zeros(10),
        ids=[str(i) for i in range(10)],
    )
    values = np.linspace(-5, 50, 10 * 5 * 64 * 64, dtype=np.float32).reshape(10, 5, 64, 64)
    sdss.write_rows(0, CutoutBatch(images=values, valid=np.ones((10, 5), bool), state=np.ones(10, np.uint8)))
    paired.mark_ready()
    reports = preprocess(paired.path, regrid=TO_SDSS, scheduler="synchronous")
    assert [(report.survey, report.arrays) for report in reports] == [
        ("sdss", ("rescaled",)),
        ("cfht", ("rescaled", "regridded")),
    ]
    tree = xr.open_datatree(paired.path, engine="zarr")  # the root's consolidated view sees the new arrays
    assert "regridded" in tree["cfht"].data_vars and "regridded" not in tree["sdss"].data_vars
    np.testing.assert_array_equal(
        xr.open_zarr(paired.path, group="sdss").rescaled.values, rescale(values, "sdss")
    )
    with pytest.raises(StoreError, match="sdss is already rescaled"):
        preprocess(paired.path)


def test_blocks_cover_whole_chunks_and_bound_memory() -> None:
    row_bytes = 4 * 5 * 136 * 136
    blocks = plan_blocks(130_093, 32, row_bytes)
    assert blocks[0] == (0, 160) and blocks[-1][1] == 130_093  # 5 chunks, 59 MB of raw images per task
    assert all(start % 32 == 0 for start, _ in blocks)
    assert all(b[0] == a[1] for a, b in itertools.pairwise(blocks))
    assert plan_blocks(100, 8, row_bytes, task_objects=20) == [
        (0, 24),
        (24, 48),
        (48, 72),
        (72, 96),
        (96, 100),
    ]


_SLOW_TASKS = """
import os, sys, time
from pathlib import Path
from galtk.pipeline.preprocess.stage import dask_scheduler

def slow(directory):
    Path(directory, str(os.getpid())).touch()
    time.sleep(60)
    return ("store", 1)

if __name__ == "__main__":
    with dask_scheduler("processes", workers=2) as run:
        run([(slow, sys.argv[1])], None)
"""


def test_worker_processes_end_with_a_killed_preprocess(tmp_path: Path) -> None:
    """A processes-scheduler worker (266 MB) stayed until its task ended after kill -9 of preprocess."""
    from processes import kill_and_check_workers_end

    pids = tmp_path / "pids"
    pids.mkdir()
    kill_and_check_workers_end(_SLOW_TASKS, [str(pids)], pids, workers=1)


def test_scheduler_names_are_checked() -> None:
    assert check_scheduler(" threads ") == "threads"
    assert check_scheduler("tcp://10.0.0.1:8786") == "tcp://10.0.0.1:8786"
    with pytest.raises(SchedulerError, match="unknown scheduler 'thread'"):
        check_scheduler("thread")
