"""A small training method and synthetic batches for the trainer tests; also the worker of the torchrun test.

The method trains the SDSS autoencoder ``A_X`` of ``ours`` (update ``A``) and, with noise, the Noise Emulator
``NE_X`` (update ``NE``), on 16 x 16 px "SDSS" and 40 x 40 px "CFHT" images: a few milliseconds per iteration.
Both losses draw from torch's global generator when ``noise`` is on, as the real methods do.

Run as a script under ``torchrun`` (``python -m torch.distributed.run --nproc_per_node 2 training_fakes.py
OUT``) it checks the gradient averaging and trains two short runs, saving every rank's final weights in OUT.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from galtk.models.methods import OURS_NETWORKS, Method
from galtk.models.training.batches.loader import TrainingBatch
from galtk.models.training.distributed import Distributed
from galtk.models.training.settings import TrainSettings
from galtk.models.training.updates import Networks, Stage, Update

SDSS_SIZE = 16
CFHT_SIZE = 40
BANDS = ("u", "g", "r", "i", "z")


@dataclass(frozen=True)
class ReconstructionLoss:
    """MSE of A_X on the unpaired SDSS images (inputs jittered with global-RNG noise when ``noise``)."""

    noise: bool = True
    scale: float = 1.0

    def __call__(self, networks: Networks, batch: TrainingBatch) -> dict[str, torch.Tensor]:
        images = batch.sdss
        inputs = images + 0.1 * torch.randn_like(images) if self.noise else images
        error = F.mse_loss(networks["A_X"](inputs).float(), images)
        return {"loss": self.scale * error, "mse": error.detach()}


@dataclass(frozen=True)
class NoiseLevelLoss:
    """Pulls the standard deviation of NE_X noise (seeds from the global RNG) towards 0.05."""

    def __call__(self, networks: Networks, batch: TrainingBatch) -> dict[str, torch.Tensor]:
        noise = networks["NE_X"].sample_like(batch.sdss)
        deviation = (noise.float().std() - 0.05) ** 2
        return {"loss": deviation, "std": noise.detach().float().std()}


def fake_method(*, noise: bool = True, scale: float = 1.0) -> Method:
    """The test method: update A (and NE when ``noise``), networks of the ``ours`` registry entry."""
    updates = [Update("A", ("A_X",), ReconstructionLoss(noise, scale))]
    roles = ["A_X"]
    if noise:
        updates.append(Update("NE", ("NE_X",), NoiseLevelLoss()))
        roles.append("NE_X")
    stage = Stage("train", tuple(roles), (), "rescaled", tuple(updates))
    return Method("fake", "a test method", (), OURS_NETWORKS, (stage,))


class FakeBatches:
    """Deterministic random batches: batch(i) depends on (seed, rank, i), or on (seed, i) when shared."""

    bands = BANDS

    def __init__(
        self,
        *,
        rank: int = 0,
        shared: bool = False,
        batch: int = 2,
        pairs: int = 2,
        sdss_size: int = SDSS_SIZE,
        cfht_size: int = CFHT_SIZE,
        seed: int = 0,
    ) -> None:
        self.rank = 0 if shared else rank
        self.sizes = (batch, pairs, sdss_size, cfht_size)
        self.seed = seed

    def batch(self, iteration: int) -> TrainingBatch:
        """The batch of ``iteration``."""
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.rank * 10_007 + iteration)
        batch, pairs, sdss, cfht = self.sizes

        def images(count: int, size: int) -> torch.Tensor:
            return 0.5 * torch.randn(count, len(BANDS), size, size, generator=generator)

        return TrainingBatch(
            images(batch, sdss), images(batch, cfht), images(pairs, sdss), images(pairs, cfht)
        )

    def batches(self, start: int, stop: int) -> Iterator[tuple[int, TrainingBatch]]:
        """(iteration, batch) for ``start <= iteration < stop``."""
        for iteration in range(start, stop):
            yield iteration, self.batch(iteration)


@dataclass
class FakeBatchSources:
    """A run's batch sources for :func:`galtk.models.training.launch.prepare`: FakeBatches per rank."""

    shared: bool = False
    batch: int = 2

    def __call__(self, stage: Stage, context: Distributed, settings: TrainSettings) -> FakeBatches:
        return FakeBatches(rank=context.rank, shared=self.shared, batch=self.batch)

    def open_all(self, method: Method, context: Distributed, settings: TrainSettings) -> list[FakeBatches]:
        return [self(stage, context, settings) for stage in method.stages]

    def describe(self) -> dict[str, str]:
        return {"fake": "synthetic batches"}


def tiny_settings(**changes: object) -> TrainSettings:
    """Settings of a tiny run on the CPU: width 1/16, no sample grids, a row per iteration."""
    values: dict[str, object] = {
        "method": "fake",
        "iterations": 4,
        "width": 0.0625,
        "device": "cpu",
        "checkpoint_every": 2,
        "log_every": 1,
        "sample_every": 0,
        "lr_decay_every": 2,
    }
    values.update(changes)
    return TrainSettings(**values)  # type: ignore[arg-type]


def _distributed_worker(out: Path) -> None:
    """Body of the torchrun test: gradient averaging, then two runs whose final weights each rank saves."""
    from galtk.models.training.distributed import average_gradients, from_environment
    from galtk.models.training.launch import LaunchRequest, prepare

    context = from_environment("cpu")
    parameter = torch.nn.Parameter(torch.zeros(3))
    parameter.grad = torch.full((3,), float(context.rank + 1))
    average_gradients([parameter], context.world_size)
    torch.save(parameter.grad, out / f"averaged_rank{context.rank}.pt")
    for shared in (True, False):
        name = "shared" if shared else "per-rank"
        request = LaunchRequest(
            method=fake_method(noise=False),
            settings=tiny_settings(),
            overrides={},
            runs=out / "runs",
            name=name,
        )
        launch = prepare(request, FakeBatchSources(shared=shared), context)
        report = launch.train()
        weights = {role: net.state_dict() for role, net in report.stages[0].networks.items()}
        torch.save(weights, out / f"{name}_rank{context.rank}.pt")


if __name__ == "__main__":
    _distributed_worker(Path(sys.argv[1]))
