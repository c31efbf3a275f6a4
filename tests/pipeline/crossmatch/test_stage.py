"""Known-answer cross-match of two small hand-built raw stores: pairs, decoys, duplicates, failures."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import galtk.pipeline.crossmatch.stage as crossmatch_module
from galtk.errors import CrossmatchError, StoreError
from galtk.pipeline.crossmatch.stage import CrossmatchOutputs, CrossmatchSettings, crossmatch
from galtk.pipeline.geometry import sky_to_cutout_pixels
from galtk.pipeline.stores.cutout_store import (
    STATE_DONE,
    STATE_FAILED,
    STATE_PENDING,
    CutoutBatch,
    CutoutStore,
    StoreSchema,
)
from galtk.pipeline.stores.paired import PairedStore
from galtk.pipeline.surveys import CFHT, SDSS

RA0, DEC0 = 150.0, 2.0
ARCSEC = 1 / 3600


def _row(
    ident: str, ra: float, dec: float, galaxy: tuple[float, float] | None = None, state: int = STATE_DONE
):
    return {"id": ident, "ra": ra, "dec": dec, "galaxy": galaxy or (ra, dec), "state": state}


def _catalogs() -> tuple[list[dict], list[dict]]:
    """SDSS and CFHT rows with a known answer (see the expected counts in the tests)."""
    rng = np.random.default_rng(7)
    sdss, cfht = [], []
    for k in range(12):  # true pairs: both catalogs 0.1-0.2" off the galaxy
        g = (RA0 + k * 60 * ARCSEC, DEC0)
        sdss.append(_row(f"P{k:02d}", g[0] + 0.1 * ARCSEC, g[1], g))
        cfht.append(_row(f"P{k:02d}", g[0], g[1] - 0.15 * ARCSEC, g))
    for k in range(3):  # wrong-peak decoys: positions match, the CFHT cutout shows a galaxy 2.5" away
        p = (RA0 + k * 60 * ARCSEC, DEC0 + 60 * ARCSEC)
        sdss.append(_row(f"W{k}", *p))
        cfht.append(_row(f"W{k}", p[0], p[1] + 0.3 * ARCSEC, (p[0], p[1] + 2.8 * ARCSEC)))
    d = (RA0, DEC0 + 120 * ARCSEC)  # one galaxy listed twice in SDSS
    sdss += [_row("D1a", *d), _row("D1b", *d)]
    cfht.append(_row("D1", d[0], d[1] + 0.2 * ARCSEC, d))
    f = (RA0 + 60 * ARCSEC, DEC0 + 120 * ARCSEC)  # SDSS fetch failed: the CFHT object stays unpaired
    sdss.append(_row("F1", *f, state=STATE_FAILED))
    cfht.append(_row("F1", *f))
    for k in range(4):
        sdss.append(_row(f"S{k}", RA0 + rng.uniform(0, 0.2), DEC0 - 0.1 - rng.uniform(0, 0.1)))
    for k in range(3):
        cfht.append(_row(f"C{k}", RA0 + rng.uniform(0, 0.2), DEC0 + 0.1 + rng.uniform(0, 0.1)))
    cfht.append(_row("P00", RA0 + 10 * ARCSEC, DEC0 + 10 * ARCSEC))  # a second row with a paired id
    return sdss, cfht


def _raw_store(path: Path, survey, rows: list[dict], seed: int, *, flux_unit: float) -> CutoutStore:
    schema = StoreSchema.for_survey(survey, chunk_objects=4)
    ids = [row["id"] for row in rows]
    store = CutoutStore.create(
        path, schema, ra=np.array([r["ra"] for r in rows]), dec=np.array([r["dec"] for r in rows]), ids=ids
    )
    size, scale = survey.cutout_size, survey.pixel_scale
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    sigma = 0.7 / scale
    images = rng.normal(0.0, 0.02 * flux_unit, (len(rows), 5, size, size)).astype(np.float32)
    for k, row in enumerate(rows):
        x, y = sky_to_cutout_pixels(
            np.array([row["galaxy"][0]]), np.array([row["galaxy"][1]]), row["ra"], row["dec"], scale, size
        )
        blob = np.exp(-((xx - x[0]) ** 2 + (yy - y[0]) ** 2) / (2 * sigma**2))
        images[k] += (flux_unit * blob * np.array([1, 2, 3, 3, 2])[:, None, None]).astype(np.float32)
    state = np.array([row["state"] for row in rows], dtype=np.uint8)
    images[state == STATE_FAILED] = np.nan
    valid = np.repeat((state == STATE_DONE)[:, None], 5, axis=1)
    store.write_rows(0, CutoutBatch(images=images, valid=valid, state=state))
    return store


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("raw")
    sdss_rows, cfht_rows = _catalogs()
    _raw_store(root / "sdss.zarr", SDSS, sdss_rows, 1, flux_unit=1.0)
    _raw_store(root / "cfht.zarr", CFHT, cfht_rows, 2, flux_unit=1000.0)
    return root / "sdss.zarr", root / "cfht.zarr"


def _outputs(root: Path) -> CrossmatchOutputs:
    return CrossmatchOutputs(
        paired=root / "paired.zarr",
        unpaired={"sdss": root / "unpaired_sdss.zarr", "cfht": root / "unpaired_cfht.zarr"},
        summary=root / "summary.json",
    )


SETTINGS = CrossmatchSettings(n_test=5, seed=1)


def test_known_answer(raw: tuple[Path, Path], tmp_path: Path) -> None:
    outputs = _outputs(tmp_path)
    summary = crossmatch(*raw, outputs, settings=SETTINGS)
    assert summary["inputs"]["sdss"] == {"store": str(raw[0]), "objects": 22, "usable": 21}
    assert summary["positional"]["mutual_nearest"] == 16
    assert summary["positional"]["ties"] == {"sdss": 0, "cfht": 1}
    assert summary["positional"]["many_to_one"] == {"sdss": 0, "cfht": 1}
    assert summary["positional"]["ambiguous"] == {"sdss": 1, "cfht": 0}
    assert summary["peak_test"]["tested"] == 16 and summary["peak_test"]["rejected"] == 3
    assert summary["pairs"] == {"total": 13, "train": 8, "test": 5}
    assert summary["unpaired"] == {"sdss": 4, "cfht": 4}
    assert summary["excluded"] == {
        "sdss": {"not_fetched": 1, "ambiguous": 1, "peak_rejected": 3, "same_id_as_paired": 0},
        "cfht": {"not_fetched": 0, "ambiguous": 0, "peak_rejected": 3, "same_id_as_paired": 1},
    }
    for name, total in (("sdss", 22), ("cfht", 21)):  # every object is accounted for exactly once
        assert total == summary["pairs"]["total"] + summary["unpaired"][name] + sum(
            summary["excluded"][name].values()
        )
    assert json.loads(outputs.summary.read_text()) == summary

    paired = PairedStore.open(outputs.paired)
    sdss_ids = paired.member("sdss").ids.tolist()
    cfht_ids = paired.member("cfht").ids.tolist()
    assert sorted(zip(sdss_ids, cfht_ids, strict=True)) == sorted(
        [(f"P{k:02d}", f"P{k:02d}") for k in range(12)] + [("D1a", "D1")]
    )
    split = paired.split
    assert split.tolist() == ["train"] * 8 + ["test"] * 5  # train rows first
    assert paired.attrs["n_train"] == 8 and paired.attrs["n_test"] == 5
    assert not set(np.array(sdss_ids)[split == "test"]) & set(np.array(sdss_ids)[split == "train"])
    assert np.all(paired.column("peak_offset") <= 1.0)
    np.testing.assert_allclose(paired.column("separation"), 0.18, atol=0.05)
    for name, raw_path in zip(("sdss", "cfht"), raw, strict=True):
        member = paired.member(name)
        source = CutoutStore.open(raw_path)
        rows = member.extra("source_row")
        np.testing.assert_array_equal(rows, paired.column(f"{name}_row"))
        np.testing.assert_array_equal(
            member.images[:], source.images.oindex[np.sort(rows)][np.argsort(np.argsort(rows))]
        )
        np.testing.assert_array_equal(member.extra("split"), split)
        assert member.ids.tolist() == paired.column(f"{name}_id").tolist()
    unpaired = {name: CutoutStore.open(path) for name, path in outputs.unpaired.items()}
    assert sorted(unpaired["sdss"].ids) == ["S0", "S1", "S2", "S3"]
    assert sorted(unpaired["cfht"].ids) == ["C0", "C1", "C2", "F1"]
    np.testing.assert_array_equal(
        unpaired["cfht"].images[:],
        CutoutStore.open(raw[1]).images.oindex[unpaired["cfht"].extra("source_row")],
    )
    tree = xr.open_datatree(outputs.paired, engine="zarr")
    assert tree["cfht"].images.shape == (13, 5, 136, 136) and tree["sdss"].images.shape == (13, 5, 64, 64)
    assert list(xr.open_zarr(outputs.paired).split.values) == split.tolist()
    assert xr.open_zarr(outputs.unpaired["sdss"]).images.shape == (4, 5, 64, 64)


def test_split_depends_on_the_seed_only(raw: tuple[Path, Path], tmp_path: Path) -> None:
    first = crossmatch(*raw, _outputs(tmp_path / "a"), settings=SETTINGS)
    again = crossmatch(*raw, _outputs(tmp_path / "b"), settings=SETTINGS)
    other = crossmatch(*raw, _outputs(tmp_path / "c"), settings=CrossmatchSettings(n_test=5, seed=2))
    assert first["pairs"] == again["pairs"] == other["pairs"]

    def test_ids(root: Path) -> list[str]:
        store = PairedStore.open(root / "paired.zarr")
        return sorted(store.column("sdss_id")[store.split == "test"].tolist())

    assert test_ids(tmp_path / "a") == test_ids(tmp_path / "b") != test_ids(tmp_path / "c")


def test_outputs_are_kept_unless_overwrite_and_failures_leave_them_intact(
    raw: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = _outputs(tmp_path)
    crossmatch(*raw, outputs, settings=SETTINGS)
    snapshot = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    with pytest.raises(StoreError, match="already exists; use --overwrite"):
        crossmatch(*raw, outputs, settings=SETTINGS)

    calls = []

    def failing_copy(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return original(*args, **kwargs)

    original = crossmatch_module.copy_rows
    monkeypatch.setattr(crossmatch_module, "copy_rows", failing_copy)
    with pytest.raises(OSError, match="disk full"):
        crossmatch(*raw, outputs, settings=CrossmatchSettings(n_test=3), overwrite=True)
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == snapshot
    monkeypatch.setattr(crossmatch_module, "copy_rows", original)

    summary = crossmatch(*raw, outputs, settings=CrossmatchSettings(n_test=3), overwrite=True)
    assert summary["pairs"]["test"] == 3 and PairedStore.open(outputs.paired).attrs["n_test"] == 3
    assert not list(tmp_path.glob("*.galtk-*"))


def test_outputs_half_replaced_by_a_killed_run_are_refused_then_completed(
    raw: tuple[Path, Path], tmp_path: Path
) -> None:
    from galtk.pipeline.crossmatch.stage import check_outputs_whole, swap_journal
    from galtk.pipeline.replace import staging_path, swap_in, write_text_atomic

    outputs = _outputs(tmp_path)
    crossmatch(*raw, outputs, settings=SETTINGS)
    check_outputs_whole(outputs)
    newer = tmp_path / "newer"
    crossmatch(*raw, _outputs(newer), settings=CrossmatchSettings(n_test=3))
    for final, made in zip(outputs.all(), _outputs(newer).all(), strict=True):
        made.rename(staging_path(final))  # a run that wrote its new outputs, then was killed
    write_text_atomic(swap_journal(outputs), json.dumps([str(path) for path in outputs.all()]))
    swap_in(staging_path(outputs.paired), outputs.paired)  # ... after swapping in the first of them
    with pytest.raises(StoreError, match="half replaced; run `galtk crossmatch` again"):
        check_outputs_whole(outputs)
    with pytest.raises(StoreError, match="already exists; use --overwrite"):
        crossmatch(*raw, outputs, settings=SETTINGS)  # completes the replacement first
    check_outputs_whole(outputs)
    assert PairedStore.open(outputs.paired).attrs["n_test"] == 3
    assert json.loads(outputs.summary.read_text())["pairs"]["test"] == 3
    assert not list(tmp_path.glob("*.galtk-*")) and not list(tmp_path.glob(".*.swap.json"))


def test_bad_inputs_and_impossible_splits_are_refused(raw: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(CrossmatchError, match="cannot hold out 13 test pairs of 13"):
        crossmatch(*raw, _outputs(tmp_path), settings=CrossmatchSettings(n_test=13))
    with pytest.raises(CrossmatchError, match="both stores hold sdss"):
        crossmatch(raw[0], raw[0], _outputs(tmp_path), settings=SETTINGS)
    outputs = _outputs(tmp_path)
    with pytest.raises(CrossmatchError, match="is an input store"):
        crossmatch(*raw, CrossmatchOutputs(raw[1], outputs.unpaired, outputs.summary), settings=SETTINGS)
    pending = tmp_path / "pending.zarr"
    shutil.copytree(raw[1], pending)
    store = CutoutStore.open(pending, mode="r+")
    store.write_rows(0, CutoutBatch(*(np.asarray(v) for v in _pending_row(store))))
    with pytest.raises(StoreError, match="1 rows still pending"):
        crossmatch(raw[0], pending, outputs, settings=SETTINGS)
    assert not any(path.exists() for path in outputs.all())
    (tmp_path / "blocker.zarr").write_text("a file where the paired store should be")
    blocked = CrossmatchOutputs(tmp_path / "blocker.zarr", outputs.unpaired, outputs.summary)
    with pytest.raises(StoreError, match=r"blocker\.zarr exists and is not a galtk store"):
        crossmatch(*raw, blocked, settings=SETTINGS, overwrite=True)  # once: "not a summary file"
    with pytest.raises(ValueError, match="seed must not be negative, got -1"):
        CrossmatchSettings(seed=-1)  # once reported as "choose fewer test pairs"


def _pending_row(store: CutoutStore) -> tuple:
    batch = store.read(slice(0, 1))
    return batch.images, batch.valid, np.array([STATE_PENDING], np.uint8)
