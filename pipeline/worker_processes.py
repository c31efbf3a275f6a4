"""Worker processes that end with the galtk process they work for, even when it is killed with SIGKILL.

Process pools (fetch's fork server, preprocess's dask ``processes`` scheduler) start workers that are not
children of the command, or that the kernel does not end with it: after ``kill -9`` of a fetch, a 167 MB
worker was seen alive a minute later, and a preprocess worker stayed until its task ended. Each worker starts
with :func:`watch_parent`, a daemon thread that ends the worker once the command's process is gone.
"""

from __future__ import annotations

import os
import threading
import time

#: How often a worker process checks that the galtk process it works for is still there (seconds).
PARENT_CHECK_SECONDS = 0.5


def watch_parent(parent: int) -> None:
    """Start a daemon thread that ends this worker process as soon as the process ``parent`` is gone.

    Parameters
    ----------
    parent : int
        PID of the galtk process the worker works for (``os.getpid()`` there, passed with the pool's
        initializer arguments).
    """
    threading.Thread(target=_exit_with, args=(parent,), name="galtk-parent-watch", daemon=True).start()


def _exit_with(parent: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        try:
            os.kill(parent, 0)
        except (ProcessLookupError, PermissionError):  # gone, or its PID now another user's process
            os._exit(1)
