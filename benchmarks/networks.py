"""Forward+backward speed of every network of SPEC section 4, against a plain conv2d measured in the same run.

For each distinct network and input size of the method table (galtk.models.methods), a training-style step
(forward, sum of the output, backward) is timed at the paper's batch size (24) at width 1 and at a tiny width:
the median of the timed steps (at least ``--repeats``, more while they add up to under a second) after untimed
warm-up steps. FLOPs are counted with ``torch.utils.flop_counter.FlopCounterMode`` (convolutions and matrix
products, forward and backward) during one more step, so the achieved GFLOP/s can be compared with that of one
plain 3x3 conv2d (128 -> 128 channels, 64 x 64 px, same batch) measured on the same machine in the same run:
the ratio column says how well each network uses the hardware. On CUDA the default is bf16 autocast; add
``--compile`` to time ``torch.compile``d networks.

    python benchmarks/networks.py [--device cpu|cuda] [--compile] [--repeats N] [--batch 24] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, conv_flop_count

from galtk.models.methods import METHODS
from galtk.models.network_kinds import NetworkSpec


@dataclass(frozen=True)
class Settings:
    """How to run every measurement."""

    device: torch.device
    batch: int
    repeats: int
    warmup: int
    min_seconds: float
    precision: str
    compile: bool
    channels_last: bool


@dataclass(frozen=True)
class Measurement:
    """One timed forward+backward step."""

    name: str
    size: str
    width: float
    parameters: int
    gflop: float
    seconds: float

    @property
    def gflops_per_second(self) -> float:
        """Achieved GFLOP/s."""
        return self.gflop / self.seconds


def conv_backward_flops(
    grad_out_shape: list[int],
    x_shape: list[int],
    w_shape: list[int],
    _bias: object,
    _stride: object,
    _padding: object,
    _dilation: object,
    transposed: bool,
    _output_padding: object,
    _groups: int,
    output_mask: list[bool],
    **_kwargs: object,
) -> int:
    """FLOPs of a convolution's backward: one forward's worth per gradient computed (input, weight).

    Replaces torch's own formula, which counts the weight gradient of a grouped convolution as if it were
    dense, ``groups`` times too many (the per-band discriminator uses ``groups=5``).
    """
    forward = conv_flop_count(x_shape, w_shape, grad_out_shape, transposed)
    return forward * (int(output_mask[0]) + int(output_mask[1]))


FLOP_FORMULAS = {torch.ops.aten.convolution_backward: conv_backward_flops}


def distinct_networks() -> list[NetworkSpec]:
    """Every network of the method table once per input shape."""
    seen: set[tuple[str, tuple]] = set()
    specs = []
    for method in METHODS.values():
        for net in method.networks:
            if (net.kind.name, net.inputs) not in seen:
                seen.add((net.kind.name, net.inputs))
                specs.append(net)
    return specs


def make_inputs(net: NetworkSpec, settings: Settings) -> list[torch.Tensor]:
    """Random inputs of the declared shapes (batch B, 5 bands)."""
    values = {"B": settings.batch, "C": 5}
    tensors = []
    for shape in net.inputs:
        x = torch.randn(*(values.get(d, d) for d in shape), device=settings.device)  # type: ignore[misc]
        if x.dim() == 4 and settings.channels_last:
            x = x.to(memory_format=torch.channels_last)
        tensors.append(x)
    return tensors


def autocast(settings: Settings) -> contextlib.AbstractContextManager:
    """bf16 autocast when asked for, else nothing."""
    if settings.precision == "bf16":
        return torch.autocast(settings.device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so wall-clock times are complete."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_step(
    step: Callable[[], None], settings: Settings, count_flops: Callable[[], None]
) -> tuple[float, float]:
    """FLOPs of one eager step, then the median time of timed steps after ``settings.warmup`` untimed ones.

    At least ``settings.repeats`` steps are timed, more (up to 50) while their total stays under
    ``settings.min_seconds``, so fast networks are not judged on one short step.
    """
    counter = FlopCounterMode(display=False, custom_mapping=FLOP_FORMULAS)
    with counter:
        count_flops()
    for _ in range(settings.warmup):
        step()
    synchronize(settings.device)
    times: list[float] = []
    while len(times) < settings.repeats or (sum(times) < settings.min_seconds and len(times) < 50):
        started = time.perf_counter()
        step()
        synchronize(settings.device)
        times.append(time.perf_counter() - started)
    return counter.get_total_flops() / 1e9, statistics.median(times)


def training_step(model: nn.Module, inputs: list[torch.Tensor], settings: Settings) -> Callable[[], None]:
    """A closure running forward, sum and backward once."""

    def step() -> None:
        with autocast(settings):
            output = model(*inputs)
        output.float().sum().backward()
        model.zero_grad(set_to_none=True)

    return step


def measure_network(net: NetworkSpec, width: float, settings: Settings) -> Measurement:
    """Time one network at one width."""
    model = net.kind.build(width=width).to(settings.device)
    if settings.channels_last:
        model = model.to(memory_format=torch.channels_last)
    inputs = make_inputs(net, settings)
    eager = training_step(model, inputs, settings)
    timed = training_step(torch.compile(model) if settings.compile else model, inputs, settings)
    gflop, seconds = time_step(timed, settings, count_flops=eager)
    images = [shape for shape in net.inputs if len(shape) == 4]
    size = "x".join(str(d) for d in images[0][2:]) if images else "latent code"
    parameters = sum(p.numel() for p in model.parameters())
    return Measurement(net.kind.name, size, width, parameters, gflop, seconds)


def measure_reference_conv(settings: Settings) -> Measurement:
    """Time a plain 3x3 conv2d, 128 -> 128 channels at 64 x 64 px: the machine's achievable conv rate."""
    conv = nn.Conv2d(128, 128, 3, padding=1).to(settings.device)
    x = torch.randn(settings.batch, 128, 64, 64, device=settings.device, requires_grad=True)
    if settings.channels_last:
        conv = conv.to(memory_format=torch.channels_last)
        x = x.detach().to(memory_format=torch.channels_last).requires_grad_()
    eager = training_step(conv, [x], settings)
    timed = training_step(torch.compile(conv) if settings.compile else conv, [x], settings)
    gflop, seconds = time_step(timed, settings, count_flops=eager)
    return Measurement(
        "plain conv2d 3x3 128->128", "64x64", 1.0, sum(p.numel() for p in conv.parameters()), gflop, seconds
    )


def table(rows: list[Measurement], reference: Measurement) -> Iterator[str]:
    """Markdown table lines."""
    yield "| network | input | width | parameters | GFLOP fwd+bwd | ms per step | GFLOP/s | vs conv2d |"
    yield "|---|---|---:|---:|---:|---:|---:|---:|"
    for row in [reference, *rows]:
        ratio = row.gflops_per_second / reference.gflops_per_second
        yield (
            f"| {row.name} | {row.size} | {row.width:g} | {row.parameters:,} | {row.gflop:,.2f} |"
            f" {1000 * row.seconds:,.1f} | {row.gflops_per_second:,.1f} | {ratio:.2f} |"
        )


def parse_settings(argv: list[str] | None = None) -> tuple[Settings, list[float]]:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=24, help="images per step (paper: 24)")
    parser.add_argument(
        "--repeats",
        type=int,
        help="least timed steps per network, more until 1 s (default: 1 on CPU, 10 on CUDA)",
    )
    parser.add_argument("--compile", action="store_true", help="time torch.compile'd networks")
    parser.add_argument(
        "--precision", choices=["fp32", "bf16"], help="default: fp32 on CPU, bf16 autocast on CUDA"
    )
    parser.add_argument("--channels-last", action="store_true", help="channels_last memory format")
    parser.add_argument(
        "--tiny-width", type=float, default=0.125, help="the small width measured besides 1.0"
    )
    parser.add_argument(
        "--quick", action="store_true", help="batch 4, one timed step per network: a smoke run"
    )
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    on_gpu = device.type == "cuda"
    settings = Settings(
        device=device,
        batch=4 if args.quick else args.batch,
        repeats=1 if args.quick else (args.repeats or (10 if on_gpu else 1)),
        warmup=3 if args.compile or on_gpu else 1,
        min_seconds=0.0 if args.quick else 1.0,
        precision=args.precision or ("bf16" if on_gpu else "fp32"),
        compile=args.compile,
        channels_last=args.channels_last,
    )
    return settings, [1.0, args.tiny_width]


def main(argv: list[str] | None = None) -> None:
    """Run every measurement and print the table."""
    settings, widths = parse_settings(argv)
    torch.manual_seed(0)
    print(
        f"device={settings.device} ({torch.get_num_threads()} CPU threads) batch={settings.batch}"
        f" precision={settings.precision} compile={settings.compile} channels_last={settings.channels_last}"
        f" repeats={settings.repeats} torch={torch.__version__}",
        flush=True,
    )
    started = time.perf_counter()
    before = measure_reference_conv(settings)
    rows = []
    for width in widths:
        for net in distinct_networks():
            rows.append(measure_network(net, width, settings))
            print(f"  measured {net.kind.name} at width {width:g}", file=sys.stderr, flush=True)
    after = measure_reference_conv(settings)
    reference = max(before, after, key=lambda m: m.gflops_per_second)
    print(
        f"plain conv2d: {before.gflops_per_second:,.1f} GFLOP/s before the networks,"
        f" {after.gflops_per_second:,.1f} after; the faster is the reference of the ratio column"
    )
    for line in table(rows, reference):
        print(line)
    print(f"total wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
