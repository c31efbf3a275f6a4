"""One writer at a time: an advisory lock on each store, run or report that a command writes.

A command that writes an output holds an exclusive ``flock`` on a hidden lock file beside it (``.NAME.lock``,
next to the output, so that replacing the output by a rename keeps the lock) for as long as it writes, and
removes the file when it is done. A second writer is refused at once with one line naming the holder's
process ID. The operating system releases the lock when the holder's process ends in any way, SIGKILL
included, so a crash never leaves an output locked (only, at most, a stale lock file, which the next writer
takes over). Readers take no lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from galtk.errors import BusyError
from galtk.pipeline.replace import check_creatable


def lock_path(path: Path) -> Path:
    """The lock file of the output at ``path``: ``.NAME.lock`` beside it (hidden from ``ls``)."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


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
    StoreError
        If the output cannot be created there (a file where a folder should be, no permission).
    """
    target = lock_path(Path(path))
    check_creatable(Path(path))  # a file where a folder should be: the stage's own message, not the lock's
    target.parent.mkdir(parents=True, exist_ok=True)
    handle = _acquire(target, Path(path))
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        target.unlink(missing_ok=True)  # while still locked: a process that opened it now sees it is stale
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _acquire(target: Path, path: Path) -> TextIO:
    """Open and lock ``target``, making sure the file locked is still the one at that path."""
    while True:
        handle = open(target, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise BusyError(
                f"{path} is being written by another galtk process (PID {holder}); "
                "wait for it to finish, or stop it"
            ) from None
        try:
            current = os.stat(target).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(handle.fileno()).st_ino:
            return handle
        handle.close()  # the holder removed this file as we opened it: lock the new one
