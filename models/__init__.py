"""The models: the paper's networks and its baselines, how each method trains, translates and is evaluated.

Every network is a :class:`torch.nn.Module` taking the band count (``bands``, default 5) and a ``width``
factor (default 1.0) that scales every hidden channel count; at the defaults the parameter counts equal
SPEC section 4's.

Sub-packages and modules
------------------------
networks
    The networks of SPEC section 4 (Fig. 2 of the paper) and of the CycleGAN and AugCGAN baselines, with
    their building blocks and initialisation.
network_kinds
    Each network kind with SPEC's parameter count, and the shapes a method's networks take and give.
methods
    The method table: every method's networks, training stages and translation behaviour in one record.
summary
    Parameter counts and shapes for ``galtk models``.
training
    ``galtk train``: batches, losses (``updates``), the trainer, checkpoints and run directories.
translation
    ``galtk translate``: FITS input, the trained translator, the batch loop, FITS output.
evaluation
    ``galtk evaluate``: metrics against the originals and the truth, criteria, the report.

The names below are imported on first use, so that importing a sub-module (``galtk.models.training.settings``
for ``galtk init``, say) does not load torch and every network.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "METHODS": "galtk.models.methods",
    "Method": "galtk.models.methods",
    "build_networks": "galtk.models.methods",
    "resolve_method": "galtk.models.methods",
    "KINDS": "galtk.models.network_kinds",
    "NetworkSpec": "galtk.models.network_kinds",
    "AugCGanGenerator": "galtk.models.networks.augcgan",
    "LATENT_DIM": "galtk.models.networks.augcgan",
    "LatentDiscriminator": "galtk.models.networks.augcgan",
    "LatentEncoder": "galtk.models.networks.augcgan",
    "Autoencoder": "galtk.models.networks.autoencoder",
    "CycleGanGenerator": "galtk.models.networks.cyclegan",
    "PatchGanDiscriminator": "galtk.models.networks.cyclegan",
    "ResnetGenerator": "galtk.models.networks.cyclegan",
    "BandDiscriminator": "galtk.models.networks.discriminator",
    "HIGH_PASS_KERNEL": "galtk.models.networks.filters",
    "HighPassFilter": "galtk.models.networks.filters",
    "SymmetricFilter": "galtk.models.networks.filters",
    "expand_free_weights": "galtk.models.networks.filters",
    "CfhtToSdssGenerator": "galtk.models.networks.generators",
    "SdssToCfhtGenerator": "galtk.models.networks.generators",
    "INIT_SCHEMES": "galtk.models.networks.init",
    "InitScheme": "galtk.models.networks.init",
    "initialize": "galtk.models.networks.init",
    "NoiseEmulator": "galtk.models.networks.noise_emulator",
}
"""Public name -> module that defines it."""

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
