"""A trained ``galaxygan`` generator, loaded from its run, that recovers images in their survey's unit.

The generator works in galtk's rescaled units (SPEC section 3); :meth:`Recoverer.recover` takes images in a
survey unit (nanomaggies, ZP30 ADU), rescales them, runs the U-Net in eval mode (dropout off: the same input
always gives the same output) and returns the result in the same unit. The run's ``run.json`` says what it
was trained on (survey, pixel scale, bands, the degrade store and its held-out rows), so that evaluation
and translation use the model only where it applies.
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
from galtk.models.methods import build_networks, resolve_method
from galtk.models.training.checkpoint import checkpoint_holding, load_checkpoint
from galtk.models.training.run import SNAPSHOT_NAME, latest_run
from galtk.models.training.settings import TrainSettings, settings_from_dict
from galtk.models.translation.translator import file_sha256, run_directory
from galtk.pipeline.preprocess.transforms import inverse_rescale, rescale

METHOD = "galaxygan"
GENERATOR = "G_REC"


@dataclass
class Recoverer:
    """A ``galaxygan`` generator ready to recover images.

    Attributes
    ----------
    checkpoint : Path
        The checkpoint file.
    checkpoint_sha256 : str
        Its SHA-256 (provenance).
    run : Path
        The run directory holding it.
    settings : TrainSettings
        The run's settings (``folds``, ``fold``, ``seed``, ``width``).
    data : dict
        ``data`` of ``run.json``: survey, unit, bands, pixel scale, the degrade store.
    generator : torch.nn.Module
        ``G_REC`` in eval mode.
    device : torch.device
    iteration : int
        Iterations behind the checkpoint.
    """

    checkpoint: Path
    checkpoint_sha256: str
    run: Path
    settings: TrainSettings
    data: dict[str, Any]
    generator: nn.Module = field(repr=False)
    device: torch.device
    iteration: int

    @property
    def bands(self) -> tuple[str, ...]:
        """Bands it was trained on, in channel order."""
        return tuple(self.data["bands"])

    @property
    def pixel_scale(self) -> float:
        """Pixel scale of its training cutouts, arcsec."""
        return float(self.data["pixel_scale"])

    @torch.no_grad()
    def recover(self, images: np.ndarray, unit: str, batch_size: int = 64) -> np.ndarray:
        """Recovered images of ``images`` (N, band, y, x) in pixel unit ``unit``, returned in that unit.

        Parameters
        ----------
        images : ndarray
            Degraded images, bands in :attr:`bands` order.
        unit : str
            Their pixel unit (``"nanomaggy"``, ``"adu_zp30"``, or a survey name).
        batch_size : int
            Images per forward pass.

        Returns
        -------
        ndarray, float32, the shape of ``images``
        """
        images = np.asarray(images, dtype=np.float32)
        if images.ndim != 4 or images.shape[1] != len(self.bands):
            raise GaltkError(
                f"galaxygan recovers images of {len(self.bands)} bands ({' '.join(self.bands)}), got shape"
                f" {images.shape}"
            )
        out = np.empty_like(images)
        for start in range(0, len(images), batch_size):
            block = torch.from_numpy(rescale(images[start : start + batch_size], unit)).to(self.device)
            recovered = self.generator(block).float().cpu().numpy()
            out[start : start + batch_size] = inverse_rescale(recovered, unit)
        return out


def find_recovery_checkpoint(runs: Path, *, run: str | Path | None = None) -> Path:
    """The newest checkpoint of a ``galaxygan`` run: the one named, or the latest run under ``runs``.

    Raises
    ------
    TranslationError
        If there is no such run or it has no checkpoint yet.
    """
    if run is not None:
        root = run_directory(runs, run)
    else:
        try:
            root = latest_run(runs, METHOD)
        except GaltkError:
            raise TranslationError(
                f"no run of {METHOD} under {runs}: train one with `galtk train --method {METHOD}`"
                " (on the pairs of `galtk degrade`), or name a run (--run)"
            ) from None
    found = checkpoint_holding(root, (GENERATOR,), last_stage=True)
    if found is None:
        raise TranslationError(f"run {root} has no checkpoint yet")
    return found


def load_recoverer(path: str | Path, *, device: str | torch.device = "cpu") -> Recoverer:
    """Load the generator of a ``galaxygan`` checkpoint written by ``galtk train``, with its run's record.

    Parameters
    ----------
    path : str or Path
        A checkpoint inside its run directory (``RUN/checkpoints/train/iter_*.pt``).
    device : str or torch.device
        Where to run the generator.

    Returns
    -------
    Recoverer

    Raises
    ------
    TranslationError
        If the file is not a ``galaxygan`` checkpoint or its run's ``run.json`` is missing.
    """
    path = Path(path)
    try:
        state = load_checkpoint(path)
    except CheckpointError as error:
        raise TranslationError(str(error)) from None
    if state.get("method") != METHOD or GENERATOR not in state.get("networks", {}):
        raise TranslationError(f"{path} is not a checkpoint of {METHOD} (it holds {state.get('method')!r})")
    run = path.resolve().parents[2]
    try:
        snapshot = json.loads((run / SNAPSHOT_NAME).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise TranslationError(
            f"{path} is not inside its run directory ({run / SNAPSHOT_NAME} is missing or unreadable);"
            " galaxygan needs the run's record of the survey it was trained on"
        ) from None
    settings = settings_from_dict(state["settings"], source=str(path))
    bands = list(state["bands"])
    generator = build_networks(
        resolve_method(METHOD),
        bands=len(bands),
        width=float(state["width"]),
        device=device,
        roles=(GENERATOR,),
    )[GENERATOR]
    generator.load_state_dict(state["networks"][GENERATOR])
    return Recoverer(
        checkpoint=path,
        checkpoint_sha256=file_sha256(path),
        run=run,
        settings=settings,
        data={**snapshot.get("data", {}), "bands": bands},
        generator=generator.eval().requires_grad_(False),
        device=torch.device(device),
        iteration=int(state.get("iteration", 0)),
    )
