"""Networks of the paper and of its baselines (SPEC section 4; Figure 2 of the paper).

Every network is a :class:`torch.nn.Module` taking the band count (``bands``, default 5) and a ``width``
factor (default 1.0) that scales every hidden channel count; at the defaults the parameter counts equal
SPEC section 4's. :mod:`galtk.models.registry` lists which networks each method of SPEC section 5 trains.

Modules
-------
layers, grouped, norms, filters
    Building blocks: convolutions, pooling, upsampling, per-band layers, instance norms, the high-pass and
    symmetric filters.
init
    Glorot-uniform weights and 0.1 biases (default) or PyTorch's initialisation.
autoencoder, generators, noise_emulator, discriminator
    The paper's networks, Fig. 2 (a)-(g).
cyclegan, augcgan
    The CycleGAN and Augmented CycleGAN baselines (methods g and h).
registry, summary
    The method table, and parameter counts and shapes for ``galtk models``.
"""

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
from galtk.models.registry import KINDS, METHODS, MethodSpec, NetworkSpec, build_networks, resolve_method

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
    "MethodSpec",
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
