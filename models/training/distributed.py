"""Data-parallel training over several processes (``torchrun``): process group, gradient averaging.

Every process holds a full copy of the networks and draws its own batches; after each update's backward pass
the gradients of the parameters that update owns are averaged over the processes with one flat all-reduce,
then clipped and applied identically everywhere, so all copies stay equal. This replaces
``DistributedDataParallel``: the methods run several updates per iteration (D, then G, ...) over networks
shared between losses, with ``backward(inputs=owned parameters)``, which DDP's per-module gradient hooks
handle poorly (unused parameters, several backward passes per forward, hooks firing for networks that are
not being updated).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist

from galtk.models.training.settings import resolve_device


@dataclass(frozen=True)
class Distributed:
    """Where this process stands in a (possibly one-process) run.

    Attributes
    ----------
    rank : int
        Index of this process (0 writes logs and checkpoints).
    world_size : int
        Number of processes.
    device : torch.device
        Device of this process.
    """

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def enabled(self) -> bool:
        """True with more than one process."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True in the process that writes the run directory."""
        return self.rank == 0

    def broadcast_object(self, value: Any) -> Any:
        """``value`` of rank 0, on every rank (picklable values)."""
        if not self.enabled:
            return value
        holder = [value if self.is_main else None]
        dist.broadcast_object_list(holder, src=0, device=self._object_device())
        return holder[0]

    def gather_objects(self, value: Any) -> list[Any]:
        """``value`` of every rank, in rank order, on every rank."""
        if not self.enabled:
            return [value]
        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, value)
        return gathered

    def mean(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` averaged over the ranks (itself with one process)."""
        if not self.enabled:
            return tensor
        total = tensor.clone()
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total / self.world_size

    def barrier(self) -> None:
        """Wait for every rank."""
        if self.enabled:
            dist.barrier()

    def _object_device(self) -> torch.device | None:
        return self.device if self.device.type == "cuda" else None


def from_environment(device: str) -> Distributed:
    """Join the process group ``torchrun`` describes (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``), if any.

    Parameters
    ----------
    device : str
        The ``device`` setting (``auto``, ``cpu``, ``cuda``, ``cuda:N``); with several processes on CUDA,
        each takes GPU ``LOCAL_RANK``.

    Returns
    -------
    Distributed
        World size 1 when not started by ``torchrun``.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    resolved = resolve_device(device, local_rank=local_rank if world_size > 1 else 0)
    if world_size <= 1:
        return Distributed(0, 1, resolved)
    if resolved.type == "cuda":
        torch.cuda.set_device(resolved)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if resolved.type == "cuda" else "gloo")
    return Distributed(dist.get_rank(), dist.get_world_size(), resolved)


def average_gradients(parameters: Sequence[torch.Tensor], world_size: int) -> None:
    """Replace the gradients of ``parameters`` by their mean over all processes (one flat all-reduce).

    A parameter without a gradient counts as a zero gradient and gets one.
    """
    if world_size <= 1 or not parameters:
        return
    for parameter in parameters:
        if parameter.grad is None:
            parameter.grad = torch.zeros_like(parameter)
    flat = torch.cat([parameter.grad.reshape(-1) for parameter in parameters])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= world_size
    offset = 0
    for parameter in parameters:
        count = parameter.numel()
        parameter.grad.copy_(flat[offset : offset + count].view_as(parameter.grad))
        offset += count


def broadcast_parameters(modules: Sequence[torch.nn.Module]) -> None:
    """Copy rank 0's parameters and buffers into every rank's modules."""
    if not dist.is_available() or not dist.is_initialized() or dist.get_world_size() <= 1:
        return
    for module in modules:
        for tensor in (*module.parameters(), *module.buffers()):
            dist.broadcast(tensor.data, src=0)
