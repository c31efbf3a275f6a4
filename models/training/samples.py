"""Sample image grids of a training run: input, output and target of a few fixed images, per band.

Which images are shown follows the networks of the stage: translations ``G_XY`` (SDSS -> CFHT, on training
pairs, target the CFHT half) and ``G_YX`` (CFHT -> SDSS), or reconstructions ``A_X``/``A_Y`` (target: the
input itself). Each PNG has one row per image and role (input, output, target) and one column per band;
every panel is shown with an asinh stretch (softening = robust noise level) between the 1st and 99.5th
percentiles of the reference image (the target, or the input for the input row), so output and target share
one scale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from galtk.models.networks.augcgan import LATENT_DIM, AugCGanGenerator
from galtk.models.training.batches.loader import TrainingBatch


@dataclass(frozen=True)
class SampleSet:
    """One direction shown in a grid: images fed to a network and the images it should produce."""

    name: str
    role: str
    inputs: torch.Tensor
    targets: torch.Tensor
    input_label: str
    target_label: str


_DIRECTIONS = (
    ("sdss-to-cfht", "G_XY", "pair_sdss", "pair_cfht", "SDSS", "CFHT"),
    ("cfht-to-sdss", "G_YX", "pair_cfht", "pair_sdss", "CFHT", "SDSS"),
    ("sdss-autoencoder", "A_X", "sdss", "sdss", "SDSS", "SDSS"),
    ("cfht-autoencoder", "A_Y", "cfht", "cfht", "CFHT", "CFHT"),
    ("degraded-to-original", "G_REC", "pair_sdss", "pair_cfht", "degraded", "original"),
    ("inputs-to-target", "G_MULTI", "pair_sdss", "pair_cfht", "inputs", "target"),
)


def sample_sets(roles: Sequence[str], batch: TrainingBatch, count: int = 3) -> list[SampleSet]:
    """The directions a stage with networks ``roles`` can show, on the first ``count`` images of ``batch``."""
    sets = []
    for name, role, source, target, input_label, target_label in _DIRECTIONS:
        if role in roles:
            inputs = getattr(batch, source)[:count].detach().clone()
            targets = getattr(batch, target)[:count].detach().clone()
            sets.append(SampleSet(name, role, inputs, targets, input_label, target_label))
    return sets


@torch.no_grad()
def run_network(network: nn.Module, inputs: torch.Tensor, autocast: torch.dtype | None) -> torch.Tensor:
    """Output of ``network`` for ``inputs`` in eval mode, as float32 on the CPU; random state untouched.

    AugCGAN generators get the latent code 0 (the prior's mean).
    """
    was_training = network.training
    network.eval()
    try:
        arguments: tuple[torch.Tensor, ...] = (inputs,)
        module = getattr(network, "_orig_mod", network)
        if isinstance(module, AugCGanGenerator):  # the method table builds them with LATENT_DIM
            arguments = (inputs, torch.zeros(inputs.shape[0], LATENT_DIM, device=inputs.device))
        device_type = inputs.device.type
        enabled = autocast is not None
        with torch.autocast(device_type=device_type, dtype=autocast or torch.float32, enabled=enabled):
            output = network(*arguments)
    finally:
        network.train(was_training)
    return output.float().cpu()


def write_sample_grid(
    path: Path,
    sample: SampleSet,
    outputs: torch.Tensor,
    bands: Sequence[str],
    title: str,
) -> None:
    """Draw input, output and target of every image of ``sample``, one column per band, into a PNG.

    Parameters
    ----------
    path : Path
        PNG file to write (its directory is created).
    sample : SampleSet
        Inputs and targets.
    outputs : torch.Tensor
        Network outputs (N, C, H, W).
    bands : sequence of str
        Band names (column titles).
    title : str
        Figure title.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    inputs = sample.inputs.float().cpu().numpy()
    targets = sample.targets.float().cpu().numpy()
    produced = outputs.float().cpu().numpy()
    rows = []
    for index in range(inputs.shape[0]):
        rows.append((f"{index}: {sample.input_label} in", inputs[index], inputs[index]))
        rows.append((f"{index}: {sample.role} out", produced[index], targets[index]))
        rows.append((f"{index}: {sample.target_label} target", targets[index], targets[index]))
    tile = max(max(image.shape[-1] for _, image, _ in rows), max(image.shape[-2] for _, image, _ in rows))
    gap = max(2, tile // 32)
    n_bands = max(image.shape[0] for _, image, _ in rows)  # inputs may have more bands than the target
    mosaic = np.ones((len(rows) * (tile + gap) - gap, n_bands * (tile + gap) - gap), dtype=np.float32)
    for row, (_, image, reference) in enumerate(rows):
        for band in range(image.shape[0]):
            panel = _fill_tile(_stretch(image[band], reference[band]), tile)
            top, left = row * (tile + gap), band * (tile + gap)
            mosaic[top : top + panel.shape[0], left : left + panel.shape[1]] = panel
    scale = 1.2 / tile  # inches per pixel: about 1.2 inch per panel
    width, height = mosaic.shape[1] * scale + 1.4, mosaic.shape[0] * scale + 0.6
    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    ax = figure.add_axes((1.3 / width, 0.05 / height, 1 - 1.35 / width, 1 - 0.55 / height))
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1, interpolation="nearest", aspect="equal")
    ax.set_xticks([band * (tile + gap) + tile / 2 for band in range(n_bands)])
    ax.set_xticklabels([bands[band] if band < len(bands) else str(band) for band in range(n_bands)])
    ax.xaxis.tick_top()
    ax.set_yticks([row * (tile + gap) + tile / 2 for row in range(len(rows))])
    ax.set_yticklabels([label for label, _, _ in rows], fontsize=7)
    ax.tick_params(length=0, labelsize=7)
    for spine in ax.spines.values():
        spine.set_visible(False)
    figure.suptitle(title, fontsize=8, y=0.995)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)


def _fill_tile(panel: np.ndarray, tile: int) -> np.ndarray:
    """``panel`` resampled (nearest pixel) to ``tile`` x ``tile``: both surveys' cutouts show the same sky."""
    rows = np.arange(tile) * panel.shape[0] // tile
    columns = np.arange(tile) * panel.shape[1] // tile
    return panel[np.ix_(rows, columns)]


def _stretch(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """asinh(image / s) mapped to [0, 1] between percentiles 1 and 99.5 of asinh(reference / s)."""
    finite = reference[np.isfinite(reference)]
    if finite.size == 0:
        return np.zeros_like(image)
    softening = 1.4826 * float(np.median(np.abs(finite - np.median(finite))))
    softening = softening if softening > 0 else max(float(np.abs(finite).max()), 1e-6) * 1e-2
    low, high = np.percentile(np.arcsinh(finite / softening), [1.0, 99.5])
    scaled = (np.arcsinh(np.nan_to_num(image) / softening) - low) / max(high - low, 1e-6)
    return np.clip(scaled, 0.0, 1.0)


def write_samples(
    directory: Path,
    iteration: int,
    stage: str,
    networks: Mapping[str, nn.Module],
    sets: Sequence[SampleSet],
    bands: Sequence[str],
    autocast: torch.dtype | None,
    input_bands: Sequence[str] | None = None,
) -> list[Path]:
    """Write the grid of every sample set after ``iteration`` iterations of ``stage``; return the PNGs.

    Columns are named by ``bands``; ``input_bands`` (when the inputs' channels differ) are listed in the
    title."""
    written = []
    for sample in sets:
        outputs = run_network(networks[sample.role], sample.inputs, autocast)
        path = directory / f"iter_{iteration:07d}_{sample.name}.png"
        title = f"{stage}, iteration {iteration:,}: {sample.name}"
        if input_bands and sample.inputs.shape[1] == len(input_bands) != len(bands):
            title += f"\ninput columns: {', '.join(input_bands)}"
        write_sample_grid(path, sample, outputs, bands, title)
        written.append(path)
    return written
