"""The fetch engine: creation, resume, refusal, overwrite safety, batching."""

from pathlib import Path

import numpy as np
import pytest

from galtk.errors import StoreError
from galtk.pipeline.fetch.stage import _aligned_runs, fetch_survey
from galtk.pipeline.stores.cutout_store import STATE_PENDING, CutoutStore
from galtk.pipeline.surveys import SURVEYS
from galtk.pipeline.synthetic.catalog import SimSkyParams
from galtk.pipeline.synthetic.source import SimSource

SDSS = SURVEYS["sdss"]


def _source(seed: int = 1, n: int = 60) -> SimSource:
    return SimSource(SimSkyParams(seed=seed, n_objects=n))


class _FailingSource(SimSource):
    """Raises on the second batch, like a source losing its connection."""

    calls = 0

    def cutouts(self, survey, objects, rows):
        type(self).calls += 1
        if type(self).calls == 2:
            raise RuntimeError("connection lost")
        return super().cutouts(survey, objects, rows)


def test_aligned_runs_never_cross_a_chunk_boundary() -> None:
    indices = np.array([0, 1, 2, 3, 4, 5, 7, 8, 9, 17, 18])
    assert list(_aligned_runs(indices, 4)) == [(0, 4), (4, 6), (7, 8), (8, 10), (17, 19)]
    assert list(_aligned_runs(np.array([], dtype=int), 4)) == []


def test_fetch_fills_every_row(tmp_path: Path) -> None:
    source = _source()
    report = fetch_survey(source, SDSS, tmp_path / "s.zarr", batch_size=16, chunk_objects=8)
    store = CutoutStore.open(tmp_path / "s.zarr")
    n = len(source.objects(SDSS))
    assert (report.objects, report.done, report.written, report.pending) == (n, n, n, 0)
    assert np.isfinite(store.images[:]).all()
    expected = source.cutouts(SDSS, source.objects(SDSS), np.arange(n))
    np.testing.assert_array_equal(store.images[:], expected.images)
    assert store.attrs["provenance"]["source"]["kind"] == "sim"


def test_resume_redoes_only_pending_rows(tmp_path: Path) -> None:
    path = tmp_path / "s.zarr"
    source = _source()
    fetch_survey(source, SDSS, path, batch_size=16, chunk_objects=8)
    complete = CutoutStore.open(path).images[:]
    store = CutoutStore.open(path, mode="r+")
    lost = np.array([3, 4, 5, 20, 21])
    store._group["state"].oindex[lost] = STATE_PENDING
    store._group["images"].oindex[lost] = np.nan
    report = fetch_survey(source, SDSS, path, resume=True, batch_size=16)
    assert report.written == len(lost)
    np.testing.assert_array_equal(CutoutStore.open(path).images[:], complete)
    assert fetch_survey(source, SDSS, path, resume=True).written == 0


def test_a_fetch_killed_while_creating_its_store_leaves_nothing_in_its_way(tmp_path, monkeypatch) -> None:
    """Killed between the group's creation and its attributes (as SIGKILL once hit in CI): no half store at
    the path, which ``fetch --resume`` would refuse as not a galtk store."""
    from galtk.pipeline.stores import cutout_store

    path = tmp_path / "s.zarr"
    original = cutout_store._group_attributes

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cutout_store, "_group_attributes", killed)
    with pytest.raises(KeyboardInterrupt):
        fetch_survey(_source(), SDSS, path, resume=True)
    assert not path.exists()
    monkeypatch.setattr(cutout_store, "_group_attributes", original)
    report = fetch_survey(_source(), SDSS, path, resume=True)
    assert report.pending == 0 and not any(p.name != "s.zarr" for p in tmp_path.iterdir())


def test_existing_store_needs_resume_or_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "s.zarr"
    fetch_survey(_source(), SDSS, path)
    before = sorted(p.stat().st_mtime_ns for p in path.rglob("*") if p.is_file())
    with pytest.raises(StoreError, match=r"--resume .* --overwrite"):
        fetch_survey(_source(), SDSS, path)
    with pytest.raises(StoreError, match="different source or settings"):
        fetch_survey(_source(seed=2), SDSS, path, resume=True)
    after = sorted(p.stat().st_mtime_ns for p in path.rglob("*") if p.is_file())
    assert before == after


def test_a_path_that_is_not_a_store_is_never_touched(tmp_path: Path) -> None:
    path = tmp_path / "thesis"
    path.mkdir()
    (path / "chapter1.tex").write_text("precious")
    for flags in ({}, {"resume": True}, {"overwrite": True}):
        with pytest.raises(StoreError, match="not a galtk cutout store"):
            fetch_survey(_source(), SDSS, path, **flags)
    assert (path / "chapter1.tex").read_text() == "precious"


def test_failed_overwrite_leaves_the_previous_store(tmp_path: Path) -> None:
    path = tmp_path / "s.zarr"
    fetch_survey(_source(seed=1), SDSS, path, batch_size=8, chunk_objects=8)
    previous = CutoutStore.open(path).images[:]
    failing = _FailingSource(SimSkyParams(seed=2, n_objects=60))
    with pytest.raises(RuntimeError, match="connection lost"):
        fetch_survey(failing, SDSS, path, overwrite=True, batch_size=8, chunk_objects=8, workers=1)
    np.testing.assert_array_equal(CutoutStore.open(path).images[:], previous)
    # The half-written new store is gone at once (on a full disk it would only take space until the next
    # fetch), and so is the lock file.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.zarr"]
    report = fetch_survey(_source(seed=2), SDSS, path, overwrite=True)
    assert report.done == report.objects
    assert not np.array_equal(CutoutStore.open(path).images[:5], previous[:5])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.zarr"]


_SLOW_FETCH = """
import os, sys, time
from pathlib import Path
from galtk.pipeline.fetch.stage import fetch_survey
from galtk.pipeline.surveys import SURVEYS
from galtk.pipeline.synthetic.catalog import SimSkyParams
from galtk.pipeline.synthetic.source import SimSource

class Slow(SimSource):
    def cutouts(self, survey, objects, rows):
        Path(sys.argv[2], str(os.getpid())).touch()
        time.sleep(0.5)
        return super().cutouts(survey, objects, rows)

if __name__ == "__main__":
    source = Slow(SimSkyParams(seed=1, n_objects=400))
    fetch_survey(source, SURVEYS["sdss"], Path(sys.argv[1]), batch_size=8, chunk_objects=8, workers=2)
"""


def test_worker_processes_end_with_a_killed_fetch(tmp_path: Path) -> None:
    """Workers start from a fork server, not as children of the fetch: they outlived kill -9 by a minute."""
    from processes import kill_and_check_workers_end

    pids = tmp_path / "pids"
    pids.mkdir()
    kill_and_check_workers_end(_SLOW_FETCH, [str(tmp_path / "s.zarr"), str(pids)], pids, workers=2)
