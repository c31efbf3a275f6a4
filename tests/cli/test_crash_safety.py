"""A fetch killed with SIGKILL at any point never leaves corrupted rows, and --resume completes it.

The writer runs as a real ``galtk fetch`` subprocess and is killed at increasing progress points (during
start-up and store creation, in the middle of each survey's writes). After every kill, each row marked done
must hold exactly the pixels of an uninterrupted run; after the final resume the stores must be identical.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

from galtk.pipeline.stores.cutout_store import STATE_DONE, CutoutStore, is_ready, is_store

SETTINGS = {
    "sky": {"n_objects": 300, "seed": 7},
    "fetch": {"batch_size": 32, "chunk_objects": 16, "workers": 1},
}
ARRAYS = ("images", "valid", "state", "ra", "dec", "id", "noise_sigma", "psf_fwhm")


def _galtk(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "galtk", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "100"},
    )


def _done_rows(path: Path) -> int:
    try:
        if not (is_store(path) and is_ready(path)):
            return 0
        state = zarr.open_group(str(path), mode="r", use_consolidated=False)["state"][:]
    except Exception:  # a store being created may be unreadable for a moment
        return 0
    return int(np.count_nonzero(state == STATE_DONE))


def _kill_when(process: subprocess.Popen, store: Path, rows: int, timeout: float = 60.0) -> bool:
    """SIGKILL ``process`` once ``store`` has at least ``rows`` done rows; False if it finished first."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if _done_rows(store) >= rows:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.01)
    process.wait()
    return False


def _arrays(path: Path) -> dict[str, np.ndarray]:
    group = zarr.open_group(str(path), mode="r", use_consolidated=False)
    return {name: group[name][:] for name in ARRAYS}


def _assert_done_rows_are_correct(path: Path, reference: dict[str, np.ndarray]) -> None:
    if not path.exists():
        return
    store = CutoutStore.open(path)  # a killed writer never leaves an unopenable store
    done = store.state == STATE_DONE
    arrays = _arrays(path)
    for name in ("images", "valid", "noise_sigma", "psf_fwhm"):
        np.testing.assert_array_equal(arrays[name][done], reference[name][done], err_msg=name)
    np.testing.assert_array_equal(arrays["id"], reference["id"])


@pytest.mark.slow
def test_fetch_killed_repeatedly_resumes_to_the_uninterrupted_result(sim_workspace) -> None:
    reference_root = sim_workspace("reference", **SETTINGS)
    clean = _galtk("fetch", cwd=reference_root)
    assert clean.wait(timeout=120) == 0, clean.stderr.read().decode()
    stores = {survey: Path("data/raw") / f"{survey}.zarr" for survey in ("sdss", "cfht")}
    reference = {survey: _arrays(reference_root / path) for survey, path in stores.items()}

    root = sim_workspace("victim", **SETTINGS)
    kill_points = [("sdss", 0), ("sdss", 1), ("sdss", 100), ("cfht", 1), ("cfht", 60), ("cfht", 150)]
    kills = 0
    for survey, rows in kill_points:
        process = _galtk("fetch", "--resume", cwd=root)
        if rows == 0:
            time.sleep(0.8)  # during start-up or store creation
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
        else:
            kills += _kill_when(process, root / stores[survey], rows)
        for name, path in stores.items():
            _assert_done_rows_are_correct(root / path, reference[name])
    assert kills >= 4, "the writer finished before it could be killed; make the workload larger"

    final = _galtk("fetch", "--resume", cwd=root)
    assert final.wait(timeout=120) == 0, final.stderr.read().decode()
    for survey, path in stores.items():
        resumed = _arrays(root / path)
        for name in ARRAYS:
            np.testing.assert_array_equal(resumed[name], reference[survey][name], err_msg=f"{survey} {name}")
        assert CutoutStore.open(root / path).counts()["pending"] == 0


@pytest.mark.slow
def test_killed_overwrite_keeps_the_previous_store(sim_workspace) -> None:
    root = sim_workspace("ws", **SETTINGS)
    assert _galtk("fetch", "--survey", "cfht", cwd=root).wait(timeout=120) == 0
    path = root / "data/raw/cfht.zarr"
    before = _arrays(path)
    process = _galtk("fetch", "--survey", "cfht", "--overwrite", cwd=root)
    assert _kill_when(process, path.with_name("cfht.zarr.galtk-new"), 32)
    after = _arrays(path)
    for name in ARRAYS:
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)
    resumed = _galtk("fetch", "--survey", "cfht", "--resume", cwd=root)
    assert resumed.wait(timeout=120) == 0
    assert not path.with_name("cfht.zarr.galtk-new").exists()
