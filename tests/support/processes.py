"""Start a script that records its worker processes' PIDs, kill it with SIGKILL, and check the workers end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def kill_and_check_workers_end(
    script: str, arguments: list[str], pids: Path, workers: int, within: float = 10.0
) -> None:
    """Run ``script``, SIGKILL it once ``workers`` PID files are in ``pids``, and assert the workers end.

    Parameters
    ----------
    script : str
        Python source of a program whose worker processes each create a file named by their PID in ``pids``.
    arguments : list of str
        Its command-line arguments.
    pids : Path
        Empty directory the workers write their PID files into.
    workers : int
        Number of PID files to wait for before the kill.
    within : float
        Seconds the workers may outlive the killed program; any still alive then are killed and the check
        fails.
    """
    program = pids.parent / "program.py"
    program.write_text(script)
    process = subprocess.Popen([sys.executable, str(program), *arguments])
    try:
        deadline = time.monotonic() + 60
        while len(list(pids.iterdir())) < workers:
            assert time.monotonic() < deadline, "the workers never started"
            assert process.poll() is None, f"the program ended first (exit code {process.returncode})"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    started = [int(path.name) for path in pids.iterdir()]
    deadline = time.monotonic() + within
    while any(_alive(pid) for pid in started):
        if time.monotonic() > deadline:
            for pid in started:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"workers {started} outlived the killed program by {within} s")
        time.sleep(0.2)
