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
"""

from galtk.models.methods import METHODS, Method, build_networks, resolve_method
from galtk.models.network_kinds import KINDS, NetworkSpec
from galtk.models.networks.augcgan import LATENT_DIM, AugCGanGenerator, LatentDiscriminator, LatentEncoder
from galtk.models.networks.autoencoder import Autoencoder
from galtk.models.networks.cyclegan import CycleGanGenerator, PatchGanDiscriminator, ResnetGenerator
from galtk.models.networks.discriminator import BandDiscriminator
from galtk.models.networks.filters import (
    HIGH_PASS_KERNEL,
    HighPassFilter,
    SymmetricFilter,
    expand_free_weights,
)
from galtk.models.networks.generators import CfhtToSdssGenerator, SdssToCfhtGenerator
from galtk.models.networks.init import INIT_SCHEMES, InitScheme, initialize
from galtk.models.networks.noise_emulator import NoiseEmulator

__all__ = [
    "HIGH_PASS_KERNEL",
    "INIT_SCHEMES",
    "KINDS",
    "LATENT_DIM",
    "METHODS",
    "AugCGanGenerator",
    "Autoencoder",
    "BandDiscriminator",
    "CfhtToSdssGenerator",
    "CycleGanGenerator",
    "HighPassFilter",
    "InitScheme",
    "LatentDiscriminator",
    "LatentEncoder",
    "Method",
    "NetworkSpec",
    "NoiseEmulator",
    "PatchGanDiscriminator",
    "ResnetGenerator",
    "SdssToCfhtGenerator",
    "SymmetricFilter",
    "build_networks",
    "expand_free_weights",
    "initialize",
    "resolve_method",
]
