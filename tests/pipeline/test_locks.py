"""One writer at a time: the advisory locks of stores, runs and reports."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from galtk.errors import BusyError
from galtk.pipeline.locks import exclusive_lock, lock_path


def test_a_second_writer_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    store = tmp_path / "data" / "sdss.zarr"
    with exclusive_lock(store):
        assert lock_path(store).read_text().strip() == str(os.getpid())
        with pytest.raises(
            BusyError, match=f"{store} is being written by another galtk process \\(PID {os.getpid()}\\)"
        ):
            with exclusive_lock(store):
                pass
    with exclusive_lock(store):  # released at the end of the block
        pass
    assert not lock_path(store).exists()  # and its file removed: a command leaves nothing behind


def test_a_killed_holder_leaves_no_lock_behind(tmp_path: Path) -> None:
    store = tmp_path / "sdss.zarr"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from galtk.pipeline.locks import exclusive_lock\n"
            f"with exclusive_lock({str(store)!r}):\n    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(BusyError, match=f"PID {holder.pid}"):
            with exclusive_lock(store):
                pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        deadline = time.monotonic() + 5
        while True:  # the kernel drops the lock with the process
            try:
                with exclusive_lock(store):
                    break
            except BusyError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        holder.kill()
        holder.wait()
