"""One writer at a time: an advisory lock on each store, run or report that a command writes.

A command that writes an output holds an exclusive ``flock`` on a lock file beside it (``NAME.lock``, next to
the directory, so that replacing the directory by a rename keeps the lock) for as long as it writes. A second
writer is refused at once with one line naming the holder's process ID. The operating system releases the
lock when the holder's process ends in any way, SIGKILL included, so a crash never leaves an output locked;
the lock file itself stays (it holds only the last holder's PID). Readers take no lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from galtk.errors import BusyError


def lock_path(path: Path) -> Path:
    """The lock file of the output at ``path``: ``path`` with ``.lock`` appended, beside it."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


@contextmanager
def exclusive_lock(path: str | Path) -> Iterator[None]:
    """Hold the exclusive lock of the output at ``path`` while the block runs.

    Parameters
    ----------
    path : str or Path
        The store, run directory or report directory about to be written (need not exist yet).

    Raises
    ------
    BusyError
        If another process holds the lock; the message names its PID.
    """
    target = lock_path(Path(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise BusyError(
                f"{path} is being written by another galtk process (PID {holder}); "
                "wait for it to finish, or stop it"
            ) from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
