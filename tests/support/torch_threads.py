"""Torch on one CPU thread for the duration of a block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_on_one_thread() -> Iterator[None]:
    """Run the block with one torch CPU thread, then restore the previous count.

    Tiny networks run fastest on one thread, and do not fight other processes for the cores.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
