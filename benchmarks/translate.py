"""Translation throughput: images/s of the ``Translator.translate`` pipeline against its generator alone.

For each method and direction, the same random cutouts (in the input survey's unit) are translated at full
width (1, the paper's networks, untrained weights: speed does not depend on them) three ways, in one run:

- ``generator``: the generator's forward pass alone on inputs already rescaled (the baseline);
- ``no noise``: ``Translator.translate(..., noise=False)``: unit conversion, signed square root,
  regridding for the regridded methods, generator, inverse transforms, copies back to NumPy;
- ``noise``: the same plus one Noise Emulator draw per image from its own seeded generator (AugCGAN: a latent
  code per image), which is what ``galtk translate`` runs.

The ratio column is the pipeline's throughput over the generator's: what the transforms and per-image noise
seeds cost on top of the networks.

    python benchmarks/translate.py [--images 64] [--batch-size 32] [--device cpu|cuda] [--methods M ...]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from galtk.models.methods import build_networks, resolve_method
from galtk.models.translation.translator import GENERATOR_OF_DIRECTION, NOISE_EMULATOR_OF_SURVEY, Translator
from galtk.pipeline.preprocess.regrid import regrid_cutouts
from galtk.pipeline.preprocess.transforms import rescale
from galtk.pipeline.surveys import BANDS, SDSS, get_survey


def untrained_translator(method: str, device: torch.device) -> Translator:
    """A full-width translator of ``method`` with freshly initialised networks."""
    chosen = resolve_method(method)
    built = build_networks(chosen, bands=len(BANDS), width=1.0, device=device)
    roles = [*GENERATOR_OF_DIRECTION.values(), *NOISE_EMULATOR_OF_SURVEY.values()]
    networks = {role: built[role].eval() for role in roles if role in built}
    return Translator(
        method=chosen.name,
        checkpoint=Path("untrained.pt"),
        checkpoint_sha256="0" * 64,
        bands=BANDS,
        width=1.0,
        cfht_array=chosen.stages[-1].cfht_array,
        networks=networks,
        device=device,
        iteration=0,
        stage_iterations=0,
    )


def _seconds(run: Callable[[], object], device: torch.device, repeats: int) -> float:
    run()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def measure(method: str, direction: str, args: argparse.Namespace, device: torch.device) -> list[tuple]:
    """Rows (method, direction, way, images/s, ratio to the generator) of one method and direction."""
    translator = untrained_translator(method, device)
    source = get_survey(direction[:4])
    rng = np.random.default_rng(0)
    size = source.cutout_size
    images = rng.normal(0.0, 0.05 * source.nanomaggies_per_unit**-1, (args.images, 5, size, size))
    images = images.astype(np.float32)
    seeds = list(range(args.images))
    network_input = rescale(images, source.unit)
    if source.name == "cfht" and translator.cfht_array == "regridded":
        network_input = regrid_cutouts(
            network_input, from_scale=source.pixel_scale, to_scale=SDSS.pixel_scale, to_size=64
        )
    generator = translator._networks[GENERATOR_OF_DIRECTION[direction]]
    tensor = torch.from_numpy(network_input).to(device)
    codes = torch.zeros(args.batch_size, 32, device=device)

    def generator_alone() -> None:
        with torch.inference_mode():
            for start in range(0, args.images, args.batch_size):
                batch = tensor[start : start + args.batch_size]
                generator(batch, codes[: len(batch)]) if method == "augcgan" else generator(batch)

    def pipeline(noise: bool) -> Callable[[], object]:
        return lambda: translator.translate(
            images, direction=direction, seeds=seeds, noise=noise, batch_size=args.batch_size
        )

    base = args.images / _seconds(generator_alone, device, args.repeats)
    rows = [(method, direction, "generator", base, 1.0)]
    for way, noise in (("no noise", False), ("noise", True)):
        rate = args.images / _seconds(pipeline(noise), device, args.repeats)
        rows.append((method, direction, way, rate, rate / base))
    return rows


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64, help="cutouts per measurement")
    parser.add_argument("--batch-size", type=int, default=32, help="cutouts per forward pass")
    parser.add_argument("--repeats", type=int, default=2, help="timed repeats (best kept)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--methods", nargs="+", default=["ours", "cyclegan"])
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    print(
        f"translation throughput, full width, {args.images} images, batch {args.batch_size}, {device}, "
        f"{torch.get_num_threads()} threads"
    )
    print(f"{'method':<10} {'direction':<10} {'way':<10} {'images/s':>9} {'ratio':>7}")
    for method in args.methods:
        for direction in GENERATOR_OF_DIRECTION:
            for row in measure(method, direction, args, device):
                print(f"{row[0]:<10} {row[1]:<10} {row[2]:<10} {row[3]:>9.1f} {row[4]:>7.2f}")


if __name__ == "__main__":
    main()
