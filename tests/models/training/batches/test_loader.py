"""The training data loader: row selection, determinism, augmentation, streaming vs memory, prefetching."""

from __future__ import annotations

import json
import shutil
import threading
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
import zarr

from galtk.errors import StoreError, TrainingDataError
from galtk.models.training.batches.loader import StoreBatchSource
from galtk.models.training.batches.row_reader import ChunkRowReader, scan_rows
from galtk.models.training.batches.sampling import SYMMETRIES, EpochSampler, apply_symmetries, transform_image
from galtk.pipeline.preprocess.stage import RegridTarget, preprocess
from galtk.pipeline.stores.cutout_store import STATE_DONE, STATE_FAILED, CutoutBatch, CutoutStore, StoreSchema
from galtk.pipeline.stores.paired import PairedStore
from galtk.pipeline.surveys import CFHT, SDSS, SurveySpec

TO_SDSS = {"cfht": RegridTarget("sdss", SDSS.pixel_scale, SDSS.cutout_size)}
CHUNK = 8
N_SDSS, N_CFHT, N_TRAIN, N_TEST = 40, 24, 20, 10
SMALL = {"batch_unpaired": 4, "batch_pairs": 3}


def _picture(blob: tuple[float, float], size: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """One sky scene on a cutout grid: a galaxy at the centre and a brighter blob at ``blob`` (arcsec)."""
    coords = (np.arange(size) - (size - 1) / 2) * scale
    x, y = coords[None, :], coords[:, None]
    scene = np.exp(-(x**2 + y**2) / (2 * 2.0**2)) + 3 * np.exp(-((x - blob[0]) ** 2 + (y - blob[1]) ** 2) / 2)
    colours = np.array([0.5, 1.0, 1.5, 1.2, 0.8])[:, None, None]
    return (colours * scene + rng.normal(0, 1e-3, (5, size, size))).astype(np.float32)


def _blobs(n: int, rng: np.random.Generator) -> np.ndarray:
    """Blob offsets off every symmetry axis of the square, so the 8 symmetries move them apart."""
    near, far = rng.uniform(2.5, 4.5, n), rng.uniform(6.0, 8.0, n)
    swap = rng.random(n) < 0.5
    offsets = np.stack([np.where(swap, far, near), np.where(swap, near, far)], axis=1)
    return offsets * rng.choice([-1.0, 1.0], size=(n, 2))


def _scenes(spec: SurveySpec, blobs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    units = 1.0 / spec.nanomaggies_per_unit
    return np.stack([_picture(blob, spec.cutout_size, spec.pixel_scale, rng) * units for blob in blobs])


def _write(path: Path, spec: SurveySpec, images: np.ndarray, valid: np.ndarray, state: np.ndarray) -> None:
    n = len(images)
    store = CutoutStore.create(
        path,
        StoreSchema.for_survey(spec, chunk_objects=CHUNK),
        ra=np.linspace(150, 151, n),
        dec=np.linspace(2, 3, n),
        ids=[f"{spec.name}{i}" for i in range(n)],
    )
    store.write_rows(0, CutoutBatch(images=images, valid=valid, state=state))


def _write_stores(root: Path) -> dict[str, Path]:
    """Paired (train rows first), unpaired SDSS and unpaired CFHT stores with known faults, preprocessed."""
    rng = np.random.default_rng(11)
    n_pairs = N_TRAIN + N_TEST
    blobs = _blobs(n_pairs, rng)
    paths = {"paired": root / "paired.zarr", "sdss": root / "sdss.zarr", "cfht": root / "cfht.zarr"}
    split = np.array(["train"] * N_TRAIN + ["test"] * N_TEST, dtype=object)
    paired = PairedStore.create(
        paths["paired"],
        table={"split": (split, {"long_name": "train or test"})},
        attributes={"surveys": ["sdss", "cfht"], "n_train": N_TRAIN, "n_test": N_TEST},
    )
    for spec in (SDSS, CFHT):
        images = _scenes(spec, blobs, rng)
        valid = np.ones((n_pairs, 5), bool)
        state = np.full(n_pairs, STATE_DONE, np.uint8)
        if spec is CFHT:
            state[2], images[2], valid[2] = (
                STATE_FAILED,
                np.nan,
                False,
            )  # a train pair whose CFHT fetch failed
            valid[4, 1] = False  # a train pair with an invalid CFHT band
        else:
            images[6, 3, 10, 12] = np.nan  # a NaN pixel inside a valid band of a train pair
        _write(paths["paired"] / spec.name, spec, images, valid, state)
    paired.mark_ready()

    sdss = _scenes(SDSS, _blobs(N_SDSS, rng), rng)
    sdss_valid = np.ones((N_SDSS, 5), bool)
    sdss_valid[5, 0] = False
    sdss_state = np.full(N_SDSS, STATE_DONE, np.uint8)
    sdss_state[9], sdss[9], sdss_valid[9] = STATE_FAILED, np.nan, False
    _write(paths["sdss"], SDSS, sdss, sdss_valid, sdss_state)

    cfht = _scenes(CFHT, _blobs(N_CFHT, rng), rng)
    cfht[17, 4, 0, 0] = np.nan
    cfht[3, 2, 70, 70] = np.nan
    _write(paths["cfht"], CFHT, cfht, np.ones((N_CFHT, 5), bool), np.full(N_CFHT, STATE_DONE, np.uint8))
    for path in paths.values():
        preprocess(path, regrid=TO_SDSS, scheduler="synchronous")
    return paths


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _write_stores(tmp_path_factory.mktemp("training"))


@pytest.fixture
def private_stores(stores: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    """A copy of the stores that a test may change."""
    return {name: Path(shutil.copytree(path, tmp_path / path.name)) for name, path in stores.items()}


def _open(paths: dict[str, Path], **options) -> StoreBatchSource:
    return StoreBatchSource.open(paths["paired"], paths["sdss"], paths["cfht"], **{**SMALL, **options})


def _assert_same(first, second) -> None:
    for name in first.fields():
        np.testing.assert_array_equal(getattr(first, name).numpy(), getattr(second, name).numpy())


def test_rows_and_exclusions(stores: dict[str, Path]) -> None:
    data = _open(stores)
    assert data.bands == SDSS.bands and (data.sdss_size, data.cfht_size) == (64, 136)
    # pairs: 10 test rows never used; train row 2 failed, row 4 has an invalid band, row 6 a NaN pixel
    assert data.counts == (N_SDSS - 2, N_CFHT - 2, N_TRAIN - 3)
    description = json.loads(json.dumps(data.describe()))
    sets = description["sets"]
    assert description["counts"] == {"unpaired_sdss": 38, "unpaired_cfht": 22, "train_pairs": 17}
    assert sets["train_pairs"]["excluded"] == {
        "test split": N_TEST,
        "not done": 1,
        "invalid band": 1,
        "non-finite pixels": 1,
    }
    assert sets["unpaired_sdss"]["excluded"] == {"not done": 1, "invalid band": 1, "non-finite pixels": 0}
    assert sets["unpaired_cfht"]["excluded"] == {"not done": 0, "invalid band": 0, "non-finite pixels": 2}
    assert set(data.rows("train_pairs")) == set(range(N_TRAIN)) - {2, 4, 6}
    assert set(data.rows("unpaired_cfht")) == set(range(N_CFHT)) - {3, 17}

    # an epoch of pairs (17 rows, 3 per batch) visits every usable train row once and nothing else
    seen = np.concatenate([data.rows("train_pairs")[data.plan(i).pairs.positions] for i in range(6)])
    assert len(set(seen[:15])) == 15 and set(seen) == set(data.rows("train_pairs"))
    for i in range(4):
        batch = data.batch(i)
        assert all(np.isfinite(getattr(batch, name).numpy()).all() for name in batch.fields())


def test_batches_depend_on_seed_rank_and_iteration_only(stores: dict[str, Path]) -> None:
    first, second = _open(stores, seed=3), _open(stores, seed=3)
    for i in (0, 5, 1):
        _assert_same(first.batch(i), second.batch(i))
    with closing(second.batches(2, 8, prefetch=3, workers=2)) as prefetched:  # a run resumed at 2
        delivered = list(prefetched)
    assert [i for i, _ in delivered] == list(range(2, 8))
    for i, batch in delivered:
        _assert_same(batch, first.batch(i))
    reference = first.batch(2).pair_cfht.numpy()
    others = [
        first.batch(3),
        _open(stores, seed=4).batch(2),
        _open(stores, seed=3, rank=1, world_size=2).batch(2),
    ]
    assert all(not np.array_equal(other.pair_cfht.numpy(), reference) for other in others)


def test_ranks_share_epochs_without_overlap() -> None:
    samplers = [EpochSampler(30, 4, seed=1, set_index=2, world_size=3) for _ in range(3)]
    drawn = [np.concatenate([samplers[rank].positions(i, rank) for i in range(10)]) for rank in range(3)]
    everything = np.stack(drawn).reshape(3, 10, 4).transpose(1, 0, 2).ravel()  # global draw order
    for epoch in range(4):
        assert sorted(everything[epoch * 30 : (epoch + 1) * 30]) == list(range(30))
    assert not set(samplers[0].positions(0, 0)) & set(samplers[1].positions(0, 1))


def test_streaming_and_memory_give_identical_batches(stores: dict[str, Path]) -> None:
    streamed = _open(stores, in_memory=False, seed=7)
    held = _open(stores, in_memory=True, seed=7)
    assert {info["held"] for info in streamed.describe()["sets"].values()} == {
        "streamed from zarr (direct chunk reads)"
    }
    assert {info["held"] for info in held.describe()["sets"].values()} == {"in cpu memory"}
    for i in (0, 1, 9):
        _assert_same(streamed.batch(i), held.batch(i))

    sdss_only = _open(stores, seed=7, memory_budget=held.describe()["sets"]["unpaired_sdss"]["bytes"])
    description = sdss_only.describe()
    assert description["memory"]["mode"] == "automatic"
    assert description["sets"]["unpaired_sdss"]["held"] == "in cpu memory"  # the smallest set
    assert description["sets"]["train_pairs"]["held"].startswith("streamed")
    _assert_same(sdss_only.batch(4), held.batch(4))


def test_pairs_keep_their_geometry_under_rotation_and_mirror(stores: dict[str, Path]) -> None:
    data = _open(stores, batch_pairs=8)
    rescaled = {
        survey: CutoutStore.open(stores["paired"] / survey).array("rescaled")[:]
        for survey in ("sdss", "cfht")
    }
    codes_seen: set[int] = set()
    for i in range(4):
        plan, batch = data.plan(i), data.batch(i)
        rows = data.rows("train_pairs")[plan.pairs.positions]
        for k, (row, code) in enumerate(zip(rows, plan.pairs.codes, strict=True)):
            sdss, cfht = batch.pair_sdss[k].numpy(), batch.pair_cfht[k].numpy()
            np.testing.assert_array_equal(sdss, transform_image(rescaled["sdss"][row], int(code)))
            np.testing.assert_array_equal(cfht, transform_image(rescaled["cfht"][row], int(code)))
            peaks = [_peak_arcsec(image[2], spec) for image, spec in ((sdss, SDSS), (cfht, CFHT))]
            assert np.hypot(*(peaks[0] - peaks[1])) < 0.45, (row, code, peaks)
            codes_seen.add(int(code))
    assert codes_seen == set(range(SYMMETRIES))


def _peak_arcsec(image: np.ndarray, spec: SurveySpec) -> np.ndarray:
    y, x = np.unravel_index(np.argmax(image), image.shape)
    return (np.array([x, y]) - (spec.cutout_size - 1) / 2) * spec.pixel_scale


def test_symmetries_follow_the_numpy_definition() -> None:
    import torch

    from galtk.models.training.batches.sampling import _apply_with_torch

    images = np.random.default_rng(0).normal(size=(16, 2, 6, 6)).astype(np.float32)
    codes = np.repeat(np.arange(SYMMETRIES), 2)
    cpu = apply_symmetries(torch.from_numpy(images), codes).numpy()
    on_device = _apply_with_torch(
        torch.from_numpy(images), codes
    ).numpy()  # the GPU code path, run on the CPU
    for k, code in enumerate(codes):
        np.testing.assert_array_equal(cpu[k], transform_image(images[k], int(code)))
        np.testing.assert_array_equal(on_device[k], cpu[k])
    assert len({transform_image(images[0], code).tobytes() for code in range(SYMMETRIES)}) == SYMMETRIES


def test_regridded_cfht(stores: dict[str, Path]) -> None:
    data = _open(stores, cfht_array="regridded")
    assert data.cfht_size == 64 and data.describe()["cfht_array"] == "regridded"
    plan, batch = data.plan(0), data.batch(0)
    assert batch.cfht.shape == (4, 5, 64, 64) and batch.pair_cfht.shape == (3, 5, 64, 64)
    regridded = CutoutStore.open(stores["cfht"]).array("regridded")
    row, code = data.rows("unpaired_cfht")[plan.cfht.positions[0]], int(plan.cfht.codes[0])
    np.testing.assert_array_equal(batch.cfht[0].numpy(), transform_image(regridded[int(row)], code))


def test_missing_arrays_name_the_preprocess_command(private_stores: dict[str, Path]) -> None:
    CutoutStore.open(private_stores["cfht"], mode="r+").delete_array("regridded")
    with pytest.raises(TrainingDataError, match=r"galtk preprocess --overwrite .*cfht.zarr"):
        _open(private_stores, cfht_array="regridded")
    assert _open(private_stores).counts.unpaired_cfht == N_CFHT - 2

    member = CutoutStore.open(private_stores["paired"] / "sdss", mode="r+")
    member.delete_array("rescaled")
    with pytest.raises(TrainingDataError, match=r"no 'rescaled' array; run `galtk preprocess .*paired.zarr`"):
        _open(private_stores)
    with pytest.raises(StoreError, match="galtk crossmatch"):
        StoreBatchSource.open(
            private_stores["paired"].parent / "nothing.zarr", private_stores["sdss"], private_stores["cfht"]
        )


def test_bands_and_sizes_must_agree(stores: dict[str, Path], tmp_path: Path) -> None:
    import dataclasses

    small = dataclasses.replace(SDSS, cutout_size=48)
    rng = np.random.default_rng(2)
    images = rng.normal(size=(8, 5, 48, 48)).astype(np.float32)
    _write(tmp_path / "small.zarr", small, images, np.ones((8, 5), bool), np.ones(8, np.uint8))
    preprocess(tmp_path / "small.zarr", scheduler="synchronous")
    with pytest.raises(TrainingDataError, match="48 x 48 px"):
        StoreBatchSource.open(stores["paired"], tmp_path / "small.zarr", stores["cfht"])

    reordered = dataclasses.replace(SDSS, bands=("g", "r", "i", "z", "u"))
    _write(tmp_path / "bands.zarr", reordered, images[:, :, :1, :1].repeat(64, 2).repeat(64, 3), *_ok(8))
    with pytest.raises(TrainingDataError, match="disagree on their bands"):
        StoreBatchSource.open(stores["paired"], tmp_path / "bands.zarr", stores["cfht"])
    with pytest.raises(TrainingDataError, match="holds cfht cutouts, expected sdss"):
        StoreBatchSource.open(stores["paired"], stores["cfht"], stores["cfht"])


def _ok(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.ones((n, 5), bool), np.full(n, STATE_DONE, np.uint8)


def test_prefetching_stops_its_threads_and_reports_errors(private_stores: dict[str, Path]) -> None:
    data = _open(private_stores, in_memory=False)
    iterator = data.batches(0, 10_000, prefetch=4, workers=2)
    for i, _ in iterator:
        if i == 2:
            break
    iterator.close()
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("galtk-loader")]

    shutil.rmtree(private_stores["cfht"] / "rescaled" / "c")  # the store changes under a running loader
    with (
        pytest.raises(StoreError, match="changed after it was opened"),
        closing(data.batches(0, 50)) as batches,
    ):
        list(batches)
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("galtk-loader")]


def test_from_arrays_holds_finite_rows() -> None:
    rng = np.random.default_rng(5)
    sdss, pair_sdss = rng.normal(size=(10, 5, 8, 8)), rng.normal(size=(6, 5, 8, 8))
    cfht, pair_cfht = rng.normal(size=(7, 5, 12, 12)), rng.normal(size=(6, 5, 12, 12))
    pair_cfht[1, 0, 0, 0] = np.nan
    data = StoreBatchSource.from_arrays(
        sdss, cfht, pair_sdss, pair_cfht, batch_unpaired=3, batch_pairs=5, seed=2
    )
    assert (
        data.counts == (10, 7, 5) and data.bands == SDSS.bands and (data.sdss_size, data.cfht_size) == (8, 12)
    )
    assert data.describe()["sets"]["train_pairs"]["excluded"] == {"non-finite pixels": 1}
    batch = data.batch(0)
    assert batch.pair_sdss.shape == (5, 5, 8, 8) and batch.pair_cfht.shape == (5, 5, 12, 12)
    assert 1 not in data.rows("train_pairs")[data.plan(0).pairs.positions]
    with pytest.raises(ValueError, match="square"):
        StoreBatchSource.from_arrays(sdss[:, :, :, :6], cfht, pair_sdss, pair_cfht)


def test_row_reader_matches_zarr_for_direct_and_compressed_arrays(
    stores: dict[str, Path], tmp_path: Path
) -> None:
    array = CutoutStore.open(stores["cfht"]).array("rescaled")
    rows = np.array([23, 0, 7, 8, 23, 15])
    reader = ChunkRowReader(array)
    assert reader.direct
    out = np.empty((len(rows), 5, 136, 136), np.float32)
    reader.read_into(rows, out)
    np.testing.assert_array_equal(out, array[:][rows])

    compressed = zarr.create_array(
        str(tmp_path / "z.zarr"), shape=(20, 2, 4, 4), chunks=(8, 2, 4, 4), dtype="float32"
    )
    values = np.arange(20 * 32, dtype=np.float32).reshape(20, 2, 4, 4)
    compressed[:] = values
    fallback = ChunkRowReader(compressed)
    assert not fallback.direct
    out = np.empty((4, 2, 4, 4), np.float32)
    fallback.read_into(np.array([19, 3, 3, 8]), out)
    np.testing.assert_array_equal(out, values[[19, 3, 3, 8]])
    values[11, 1, 2, 3] = np.nan
    compressed[:] = values
    finite = scan_rows(compressed, np.array([0, 5, 11, 12, 19]), slab_bytes=1)
    assert finite.tolist() == [True, True, False, True, True]
