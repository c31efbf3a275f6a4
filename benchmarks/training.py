"""Training speed: iterations/s and images/s of every method's trainer step, against ours-step1 and loader.

Synthetic preprocessed stores are written in a temporary directory by ``benchmarks/loader.py``'s store builder
(a paired store, an unpaired SDSS and an unpaired CFHT store, ``rescaled`` and ``regridded`` arrays) and
opened with :class:`galtk.models.training.batches.loader.StoreBatchSource`, streamed from zarr as the unpaired
sets of a paper-size run are. Then, for every method of :data:`galtk.models.methods.METHODS` (``ours`` is its
two steps, measured as ``ours-step1`` and ``ours-step2``):

- the trainer's own step: the stage's networks, Adam optimizers and schedules are built by the trainer
  (``galtk.models.training.trainer._StageRunner``, at ``--width``, fp32 or bf16 autocast, optionally
  ``torch.compile``), and one iteration runs every update of the stage in order through the trainer's
  per-update step (zero_grad, the loss of :mod:`galtk.models.training.updates`, backward into the owned
  parameters, gradient clipping, Adam and schedule steps), on one batch of ``--batch-size`` unpaired SDSS,
  as many unpaired CFHT images and as many pairs (96 images at the paper's 24) already on the device. Frozen
  networks (ours-step2's Noise Emulators) keep their initial weights, which does not change the speed. After
  ``--warmup`` untimed iterations (compilation included), ``--iterations`` iterations are timed;
- the loader: ``StoreBatchSource.batches()`` as the trainer calls it (4 batches prefetched by 4 threads),
  every set streamed from zarr (rotations and mirrors included, pinned copies to the GPU on CUDA), in
  batches/s for each CFHT array.

On the CPU the step runs in fp32 without compilation; with ``--device cuda`` every method is measured in fp32
and under bf16 autocast, each eager and ``torch.compile``d (``--precisions``, ``--compile``). Ratios, all
measured in the same run: ``x ours-step1`` is a method's rate over ours-step1's in the same variant,
``x fp32`` the rate over the same method's fp32 eager rate, ``loader/step`` the loader's batches/s over the
method's iterations/s (above 1: the loader keeps up). Anchors printed next to the figures: the paper's ~0.9 s
per iteration on a Titan V and galtk's target of at most 0.03 s per ours-step1 iteration on one H100.

    python benchmarks/training.py [--device cpu|cuda] [--methods M ...] [--iterations 5] [--warmup 2]
        [--width 1] [--batch-size 24] [--precisions fp32 bf16] [--compile off|on|both]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loader import _write_stores

from galtk.models.methods import METHODS, Method
from galtk.models.training.batches.loader import StoreBatchSource, TrainingBatch
from galtk.models.training.distributed import Distributed
from galtk.models.training.run import RunDirectory
from galtk.models.training.settings import TrainSettings
from galtk.models.training.trainer import _configure_backends, _StageRunner
from galtk.pipeline.surveys import BANDS

PAPER_SECONDS_PER_ITERATION = 0.9
"""The paper's speed: about 30 h for 2 x 60,000 iterations on one Titan V (SPEC section 6)."""
TARGET_SECONDS_PER_ITERATION = 0.03
"""galtk's target for one ours-step1 iteration at paper size on one H100."""
BASELINE = "ours-step1"
METHOD_NAMES = tuple(name for name in METHODS if name != "ours")
"""Every method measured by default: ``ours`` runs ours-step1 then ours-step2, measured separately."""


@dataclass(frozen=True)
class Variant:
    """How the networks run: precision of the losses' forward passes, and compilation."""

    precision: str
    compile: bool

    @property
    def label(self) -> str:
        """``fp32``, ``bf16``, ``fp32+compile`` or ``bf16+compile``."""
        return self.precision + ("+compile" if self.compile else "")


@dataclass(frozen=True)
class StepTiming:
    """Timed iterations of one method in one variant."""

    method: str
    variant: Variant
    cfht_array: str
    seconds: float
    iterations: int

    @property
    def seconds_per_iteration(self) -> float:
        """Mean wall time of one timed iteration."""
        return self.seconds / self.iterations

    @property
    def rate(self) -> float:
        """Iterations per second."""
        return self.iterations / self.seconds


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so wall-clock times are complete."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def stage_settings(method: str, variant: Variant, args: argparse.Namespace) -> TrainSettings:
    """The ``[train]`` settings of a measured run: the paper's optimisation, the benchmark's sizes."""
    return TrainSettings(
        method=method,
        iterations=args.warmup + args.iterations,
        batch_size=args.batch_size,
        batch_pairs=args.batch_size,
        width=args.width,
        device=args.device,
        precision=variant.precision,
        compile=variant.compile,
        sample_every=0,
    )


def time_method(
    method: Method,
    variant: Variant,
    batch: TrainingBatch,
    device: torch.device,
    scratch: Path,
    args: argparse.Namespace,
) -> StepTiming:
    """Build the trainer's state for ``method``'s (single) stage and time its iterations.

    Parameters
    ----------
    method : Method
        A one-stage method (every name of :data:`METHOD_NAMES`).
    variant : Variant
        Precision and compilation.
    batch : TrainingBatch
        The batch every iteration trains on, already on ``device`` (its CFHT array is the stage's).
    device : torch.device
        Training device.
    scratch : Path
        Temporary directory (the trainer's run directory object points there; nothing is written).
    args : argparse.Namespace
        ``warmup``, ``iterations``, ``width`` and ``batch_size``.

    Returns
    -------
    StepTiming
    """
    (stage,) = method.stages
    runner = _StageRunner(
        method=method,
        stage=stage,
        index=0,
        settings=stage_settings(method.name, variant, args),
        run=RunDirectory(scratch / "run"),
        bands=BANDS,
        context=Distributed(device=device),
        stage_names=[stage.name],
    )
    runner._build()
    for network in runner.networks.values():
        network.train()
    torch.manual_seed(0)
    for _ in range(args.warmup):
        run_iteration(runner, batch)
    synchronize(device)
    started = time.perf_counter()
    for _ in range(args.iterations):
        run_iteration(runner, batch)
    synchronize(device)
    seconds = time.perf_counter() - started
    del runner
    release(device, variant)
    return StepTiming(method.name, variant, stage.cfht_array, seconds, args.iterations)


def run_iteration(runner: _StageRunner, batch: TrainingBatch) -> None:
    """One training iteration as the trainer's loop runs it: every update of the stage, in order."""
    for update in runner.stage.updates:
        runner._step(update, batch)


def release(device: torch.device, variant: Variant) -> None:
    """Free the memory and compiled graphs of the last measurement before the next one."""
    gc.collect()
    if variant.compile:
        torch._dynamo.reset()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def loader_rate(data: StoreBatchSource, count: int) -> float:
    """Batches per second of ``data.batches()`` called as the trainer calls it (default prefetching)."""
    started = time.perf_counter()
    with closing(data.batches(0, count)) as batches:
        for _, batch in batches:
            if data.device.type == "cuda":
                batch.sdss.sum().item()  # the batch has reached the device
    return count / (time.perf_counter() - started)


def open_data(
    paths: dict[str, Path], cfht_array: str, device: torch.device, batch_size: int
) -> StoreBatchSource:
    """The stores opened like a paper-size run's unpaired sets: every set streamed from zarr."""
    return StoreBatchSource.open(
        paths["paired"],
        paths["sdss"],
        paths["cfht"],
        cfht_array=cfht_array,
        batch_unpaired=batch_size,
        batch_pairs=batch_size,
        in_memory=False,
        device=device,
    )


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(METHOD_NAMES),
        choices=METHOD_NAMES,
        metavar="METHOD",
        help=f"methods to time (default: all of {', '.join(METHOD_NAMES)}); {BASELINE} is always timed",
    )
    parser.add_argument("--iterations", type=int, default=5, help="timed iterations per method")
    parser.add_argument("--warmup", type=int, default=2, help="untimed iterations first (compilation)")
    parser.add_argument("--width", type=float, default=1.0, help="network width (1: the paper's)")
    parser.add_argument(
        "--batch-size", type=int, default=24, help="unpaired images per survey and pairs (paper: 24)"
    )
    parser.add_argument(
        "--precisions",
        nargs="+",
        choices=["fp32", "bf16"],
        help="precisions to time (default: fp32 on the CPU, fp32 and bf16 autocast on CUDA)",
    )
    parser.add_argument(
        "--compile",
        choices=["off", "on", "both"],
        help="time eager networks, torch.compile'd ones, or both (default: off on the CPU, both on CUDA)",
    )
    parser.add_argument("--sdss", type=int, default=1024, help="unpaired SDSS cutouts in the stores")
    parser.add_argument("--cfht", type=int, default=512, help="unpaired CFHT cutouts in the stores")
    parser.add_argument("--pairs", type=int, default=256, help="pairs in the stores (half of them train)")
    parser.add_argument("--loader-batches", type=int, default=50, help="batches per loader measurement")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args(argv)
    on_gpu = torch.device(args.device).type == "cuda"
    args.precisions = args.precisions or (["fp32", "bf16"] if on_gpu else ["fp32"])
    args.compile = args.compile or ("both" if on_gpu else "off")
    if args.iterations < 1 or args.warmup < 0:
        parser.error("--iterations must be at least 1 and --warmup not negative")
    if args.pairs // 2 < args.batch_size:
        parser.error(f"--pairs {args.pairs} leaves fewer train pairs than --batch-size {args.batch_size}")
    if BASELINE not in args.methods:
        args.methods.insert(0, BASELINE)
    return args


def variants(args: argparse.Namespace) -> list[Variant]:
    """The variants asked for, eager before compiled."""
    compiled = {"off": [False], "on": [True], "both": [False, True]}[args.compile]
    return [Variant(precision, flag) for flag in compiled for precision in args.precisions]


def table(timings: list[StepTiming], loader: dict[str, float], images_per_iteration: int) -> list[str]:
    """Markdown table lines: every timing with its ratios, then the reference rows."""
    baseline = {t.variant: t.rate for t in timings if t.method == BASELINE}
    eager_fp32 = {t.method: t.rate for t in timings if t.variant == Variant("fp32", False)}
    lines = [
        "| method | variant | s/iteration | iterations/s | images/s | x ours-step1 | x fp32 | loader/step |"
        " x paper (0.9 s) | x target (0.03 s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in timings:
        seconds = t.seconds_per_iteration
        versus_fp32 = f"{t.rate / eager_fp32[t.method]:.2f}" if t.method in eager_fp32 else ""
        lines.append(
            f"| {t.method} | {t.variant.label} | {t.seconds_per_iteration:.3f} | {t.rate:.3f} |"
            f" {t.rate * images_per_iteration:,.1f} | {t.rate / baseline[t.variant]:.2f} | {versus_fp32} |"
            f" {loader[t.cfht_array] / t.rate:.1f} | {PAPER_SECONDS_PER_ITERATION / seconds:.3f} |"
            f" {TARGET_SECONDS_PER_ITERATION / seconds:.4f} |"
        )
    for name, seconds in (
        ("paper: ours, one Titan V", PAPER_SECONDS_PER_ITERATION),
        ("target: ours-step1, one H100", TARGET_SECONDS_PER_ITERATION),
    ):
        lines.append(
            f"| {name} | | {seconds:.3f} | {1 / seconds:.3f} | {images_per_iteration / seconds:,.1f} |"
            " | | | | |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    """Write the stores, measure the loader and every method's step, print the table."""
    args = parse_arguments(argv)
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    _configure_backends(device)
    chosen = [METHODS[name] for name in dict.fromkeys(args.methods)]
    arrays = sorted({method.stages[0].cfht_array for method in chosen}, reverse=True)
    images_per_iteration = 4 * args.batch_size
    print(
        f"device={device} ({torch.get_num_threads()} CPU threads, {os.cpu_count()} cores)"
        f" width={args.width:g} batch={args.batch_size}+{args.batch_size}+{args.batch_size} pairs"
        f" ({images_per_iteration} images)"
        f" warmup={args.warmup} timed iterations={args.iterations} torch={torch.__version__}",
        flush=True,
    )
    scratch = Path(tempfile.mkdtemp())
    timings: list[StepTiming] = []
    loader: dict[str, float] = {}
    try:
        started = time.perf_counter()
        paths = _write_stores(scratch, args.sdss, args.cfht, args.pairs)
        print(f"stores written and preprocessed in {time.perf_counter() - started:.0f} s", flush=True)
        batches = {}
        for cfht_array in arrays:
            data = open_data(paths, cfht_array, device, args.batch_size)
            loader[cfht_array] = loader_rate(data, args.loader_batches)
            batches[cfht_array] = data.batch(0)
            print(f"  loader, {cfht_array} CFHT: {loader[cfht_array]:.1f} batches/s", file=sys.stderr)
        for variant in variants(args):
            for method in chosen:
                batch = batches[method.stages[0].cfht_array]
                timings.append(time_method(method, variant, batch, device, scratch, args))
                print(
                    f"  {method.name} {variant.label}: {timings[-1].seconds_per_iteration:.3f} s/iteration",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"loader (StoreBatchSource.batches(), every set streamed from zarr, {args.sdss:,} unpaired SDSS,"
        f" {args.cfht:,} unpaired CFHT, {args.pairs // 2:,} train pairs): "
        + ", ".join(f"{array} CFHT {rate:.1f} batches/s" for array, rate in loader.items())
    )
    print(
        "x ours-step1: rate over ours-step1's in the same variant; x fp32: over the method's fp32 eager rate;"
        " loader/step: loader batches/s over iterations/s; x paper, x target: 0.9 s and 0.03 s over the"
        " measured s/iteration (1 = as fast as the paper's Titan V, or as the H100 target)\n"
    )
    for line in table(timings, loader, images_per_iteration):
        print(line)
    print(f"total wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
