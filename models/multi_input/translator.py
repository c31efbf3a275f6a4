"""A trained multi-input pix2pix generator (``pix2pix-multi``), loaded from its run.

The generator reads the input surveys on the target grid in galtk's rescaled units and writes the target
survey's bands in rescaled units (:mod:`galtk.models.training.batches.survey_pairs`). Its checkpoint records
the input channels (``input_bands``, ``survey:band``) and target bands; ``run.json`` the input and target
surveys, so evaluation and translation feed it exactly what it learnt from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from galtk.errors import CheckpointError, GaltkError, TranslationError
from galtk.models.methods import MULTI_INPUT_METHOD, build_networks, resolve_method
from galtk.models.training.checkpoint import checkpoint_holding, load_checkpoint
from galtk.models.training.run import SNAPSHOT_NAME
from galtk.models.translation.translator import file_sha256, run_directory

GENERATOR = "G_MULTI"


@dataclass
class MultiInputTranslator:
    """A ``pix2pix-multi`` generator ready to translate.

    Attributes
    ----------
    checkpoint : Path
    checkpoint_sha256 : str
    run : Path
        The run directory.
    inputs : tuple of str
        Input surveys, in channel order.
    target : str
        Target survey.
    input_bands : tuple of str
        Input channel names.
    bands : tuple of str
        Target bands.
    noise_scales : dict of str to tuple of float, or None
        The noise per band of each uncalibrated input survey the run was trained with (``run.json``); None
        for runs that recorded none (each cutout in units of its own noise).
    generator : torch.nn.Module
        ``G_MULTI`` in eval mode.
    device : torch.device
    iteration : int
    """

    checkpoint: Path
    checkpoint_sha256: str
    run: Path
    inputs: tuple[str, ...]
    target: str
    input_bands: tuple[str, ...]
    bands: tuple[str, ...]
    noise_scales: dict[str, tuple[float, ...]] | None
    generator: nn.Module = field(repr=False)
    device: torch.device
    iteration: int

    @property
    def label(self) -> str:
        """``dss2+2mass -> sdss9``."""
        return f"{'+'.join(self.inputs)} -> {self.target}"

    def describe(self) -> dict[str, Any]:
        """Provenance for reports."""
        return {
            "run": str(self.run),
            "checkpoint": str(self.checkpoint),
            "checkpoint_sha256": self.checkpoint_sha256,
            "iteration": self.iteration,
            "inputs": list(self.inputs),
            "target": self.target,
            "input_bands": list(self.input_bands),
            "noise_scales": self.noise_scales,
        }

    @torch.no_grad()
    def translate(self, inputs: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """The target bands (rescaled units) made from ``inputs`` (N, C_in, H, W) in rescaled units."""
        inputs = np.asarray(inputs, dtype=np.float32)
        if inputs.ndim != 4 or inputs.shape[1] != len(self.input_bands):
            raise GaltkError(
                f"{self.label} reads {len(self.input_bands)} input bands ({', '.join(self.input_bands)}), "
                f"got shape {inputs.shape}"
            )
        out = np.empty((len(inputs), len(self.bands), *inputs.shape[2:]), dtype=np.float32)
        for start in range(0, len(inputs), batch_size):
            block = torch.from_numpy(inputs[start : start + batch_size]).to(self.device)
            out[start : start + batch_size] = self.generator(block).float().cpu().numpy()
        return out


def find_multi_input_runs(runs: Path, names: list[str] | tuple[str, ...] = ()) -> list[Path]:
    """Checkpoints of the named ``pix2pix-multi`` runs, or of every such run under ``runs`` (oldest first).

    Raises
    ------
    TranslationError
        If there is none, or a named run has no checkpoint.
    """
    roots = [run_directory(runs, name) for name in names] if names else _runs_of_method(runs)
    if not roots:
        raise TranslationError(
            f"no run of {MULTI_INPUT_METHOD} under {runs}: train one with `galtk train --method pix2pix "
            "--inputs B,C,D --target A`, or name runs (--run)"
        )
    found = []
    for root in roots:
        checkpoint = checkpoint_holding(root, (GENERATOR,), last_stage=True)
        if checkpoint is None:
            raise TranslationError(f"run {root} has no checkpoint of {MULTI_INPUT_METHOD} yet")
        found.append(checkpoint)
    return found


def _runs_of_method(runs: Path) -> list[Path]:
    roots = []
    for snapshot in sorted(Path(runs).glob(f"*/{SNAPSHOT_NAME}")):
        try:
            method = json.loads(snapshot.read_text(encoding="utf-8")).get("method")
        except (OSError, json.JSONDecodeError):
            continue
        if method == MULTI_INPUT_METHOD:
            roots.append(snapshot.parent)
    return sorted(roots, key=lambda root: root.stat().st_mtime)


def load_multi_input(path: str | Path, *, device: str | torch.device = "cpu") -> MultiInputTranslator:
    """Load the generator of a ``pix2pix-multi`` checkpoint, with its run's record of the surveys.

    Raises
    ------
    TranslationError
        If the file is not such a checkpoint or its run's ``run.json`` is missing.
    """
    path = Path(path)
    try:
        state = load_checkpoint(path)
    except CheckpointError as error:
        raise TranslationError(str(error)) from None
    if state.get("method") != MULTI_INPUT_METHOD or GENERATOR not in state.get("networks", {}):
        raise TranslationError(
            f"{path} is not a checkpoint of {MULTI_INPUT_METHOD} (it holds {state.get('method')!r})"
        )
    run = path.resolve().parents[2]
    try:
        snapshot = json.loads((run / SNAPSHOT_NAME).read_text(encoding="utf-8"))
        data = snapshot["data"]
        inputs, target = tuple(data["inputs"]), str(data["target"])
        recorded = data.get("noise_scales")
        noise_scales = None if recorded is None else {k: tuple(map(float, v)) for k, v in recorded.items()}
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        raise TranslationError(
            f"{path} is not inside its run directory ({run / SNAPSHOT_NAME} is missing or unreadable); "
            f"{MULTI_INPUT_METHOD} needs the run's record of its input and target surveys"
        ) from None
    bands = tuple(state["bands"])
    input_bands = tuple(state.get("input_bands", bands))
    generator = build_networks(
        resolve_method(MULTI_INPUT_METHOD),
        bands=len(bands),
        in_bands=len(input_bands),
        width=float(state["width"]),
        device=device,
        roles=(GENERATOR,),
    )[GENERATOR]
    generator.load_state_dict(state["networks"][GENERATOR])
    return MultiInputTranslator(
        checkpoint=path,
        checkpoint_sha256=file_sha256(path),
        run=run,
        inputs=inputs,
        target=target,
        input_bands=input_bands,
        bands=bands,
        noise_scales=noise_scales,
        generator=generator.eval().requires_grad_(False),
        device=torch.device(device),
        iteration=int(state.get("iteration", 0)),
    )
