"""The network kinds of SPEC section 4 and the shapes a method's networks take and give.

X is SDSS (64 x 64 px), Y is CFHT (136 x 136 px, or 64 x 64 px regridded for methods g and h). Each method of
:mod:`galtk.models.methods` lists its networks as :class:`NetworkSpec` records built from these kinds;
shapes use ``B`` for the batch size and are given for C bands.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from galtk.models.networks.augcgan import LATENT_DIM, AugCGanGenerator, LatentDiscriminator, LatentEncoder
from galtk.models.networks.autoencoder import Autoencoder
from galtk.models.networks.cyclegan import CycleGanGenerator, PatchGanDiscriminator
from galtk.models.networks.discriminator import BandDiscriminator
from galtk.models.networks.generators import CfhtToSdssGenerator, SdssToCfhtGenerator
from galtk.models.networks.init import InitScheme
from galtk.models.networks.noise_emulator import NoiseEmulator
from galtk.models.networks.pix2pix import ConditionalPatchGan, UNetGenerator

SDSS_SIZE = 64
CFHT_SIZE = 136
REGRIDDED_CFHT_SIZE = 64
NOISE_MARGIN = 6
"""Extra pixels of the Noise Emulator's seed maps (7x7 valid filter)."""

Shape = tuple[int | str, ...]
"""A tensor shape: ``"B"`` stands for the batch size, ``"C"`` for the number of bands."""


@dataclass(frozen=True)
class NetworkKind:
    """One network class of SPEC section 4 as built by the methods.

    Attributes
    ----------
    name : str
        Short name, e.g. ``"generator-sdss-to-cfht"``.
    title : str
        Human-readable name.
    panel : str
        Figure 2 panel, or where it is specified when Fig. 2 does not draw it.
    factory : callable
        ``factory(bands=..., width=..., init=...)`` builds the network.
    spec_parameters : int
        SPEC section 4's parameter count for 5 bands at width 1 (for GalaxyGAN's pix2pix networks, which
        SPEC does not list, the count of the published architecture as built here, checked against its
        formula in the tests).
    """

    name: str
    title: str
    panel: str
    factory: Callable[..., nn.Module]
    spec_parameters: int

    @property
    def takes_input_bands(self) -> bool:
        """Whether its input may have other bands than its output (pix2pix's networks)."""
        return self.factory in (UNetGenerator, ConditionalPatchGan)

    def build(
        self, bands: int = 5, width: float = 1.0, init: InitScheme = "glorot", in_bands: int | None = None
    ) -> nn.Module:
        """Build the network (on the default device, or inside a ``torch.device`` context).

        ``in_bands`` (input bands, when they differ from ``bands``) is given to the networks that take it
        (:attr:`takes_input_bands`); for the others it must be None or ``bands``.
        """
        if in_bands is not None and in_bands != bands:
            if not self.takes_input_bands:
                raise ValueError(f"{self.name} maps {bands} bands to {bands}; it cannot take {in_bands}")
            return self.factory(bands=bands, width=width, init=init, in_bands=in_bands)
        return self.factory(bands=bands, width=width, init=init)


def _latent_discriminator(*, bands: int, width: float, init: InitScheme) -> nn.Module:
    return LatentDiscriminator(LATENT_DIM, width, init=init)


_NOT_IN_FIGURE = "SPEC 4 (not in Fig. 2)"
_GALAXYGAN = "GalaxyGAN (pix2pix; not in SPEC)"

KINDS: dict[str, NetworkKind] = {
    kind.name: kind
    for kind in (
        NetworkKind("autoencoder", "Autoencoder", "Fig. 2 (a)", Autoencoder, 2_162_501),
        NetworkKind(
            "generator-sdss-to-cfht", "Generator SDSS->CFHT", "Fig. 2 (b)", SdssToCfhtGenerator, 1_425_093
        ),
        NetworkKind(
            "generator-cfht-to-sdss", "Generator CFHT->SDSS", "Fig. 2 (c)", CfhtToSdssGenerator, 1_019_269
        ),
        NetworkKind(
            "generator-sdss-to-cfht-ps",
            "Generator SDSS->CFHT, pixel shuffle",
            "Fig. 2 (b), pixel shuffles",
            functools.partial(SdssToCfhtGenerator, pixel_shuffle=True),
            829_125,
        ),
        NetworkKind(
            "generator-cfht-to-sdss-ps",
            "Generator CFHT->SDSS, pixel shuffle",
            "Fig. 2 (c), pixel shuffles",
            functools.partial(CfhtToSdssGenerator, pixel_shuffle=True),
            644_485,
        ),
        NetworkKind("noise-emulator", "Noise Emulator", "Fig. 2 (e), (f)", NoiseEmulator, 22_010),
        NetworkKind(
            "discriminator", "Discriminator (per band)", "Fig. 2 (d), (g)", BandDiscriminator, 3_859_845
        ),
        NetworkKind(
            "cyclegan-generator", "CycleGAN ResNet generator", _NOT_IN_FIGURE, CycleGanGenerator, 7_850_245
        ),
        NetworkKind(
            "patchgan-discriminator",
            "PatchGAN discriminator",
            _NOT_IN_FIGURE,
            PatchGanDiscriminator,
            2_766_785,
        ),
        NetworkKind(
            "augcgan-generator", "AugCGAN generator (CIN)", _NOT_IN_FIGURE, AugCGanGenerator, 8_095_237
        ),
        NetworkKind("latent-encoder", "AugCGAN latent encoder", _NOT_IN_FIGURE, LatentEncoder, 3_931_232),
        NetworkKind(
            "latent-discriminator",
            "AugCGAN latent discriminator",
            _NOT_IN_FIGURE,
            _latent_discriminator,
            10_497,
        ),
        NetworkKind("unet-generator", "U-Net generator (pix2pix)", _GALAXYGAN, UNetGenerator, 29_247_877),
        NetworkKind(
            "conditional-patchgan",
            "Conditional PatchGAN (pix2pix)",
            _GALAXYGAN,
            ConditionalPatchGan,
            2_771_905,
        ),
    )
}


@dataclass(frozen=True)
class NetworkSpec:
    """One network of a method: its role, class, shapes and training step.

    Attributes
    ----------
    role : str
        Name in the paper's notation (``A_X``, ``G_XY``, ``NE_Y``, ``D_X``, ...; X = SDSS, Y = CFHT).
    kind : NetworkKind
        Which network.
    inputs : tuple of Shape
        Shapes of the arguments of ``forward``.
    output : Shape
        Shape of its result.
    step : str
        Training step that trains it (``"step 1"``/``"step 2"`` for ours; empty for one-step methods).
    """

    role: str
    kind: NetworkKind
    inputs: tuple[Shape, ...]
    output: Shape
    step: str = ""


def image_shape(size: int, channels: str = "C") -> Shape:
    """The shape of a batch of C-band square images of side ``size``."""
    return ("B", channels, size, size)


LATENT_CODE: Shape = ("B", LATENT_DIM)
BAND_LOGITS: Shape = ("B", "C")


def noise_emulator_spec(role: str, size: int, step: str = "") -> NetworkSpec:
    """A Noise Emulator making ``size``-pixel noise maps from seeds ``NOISE_MARGIN`` pixels larger."""
    return NetworkSpec(
        role, KINDS["noise-emulator"], (("B", "C"), image_shape(size + NOISE_MARGIN)), image_shape(size), step
    )


def our_generators(pixel_shuffle: bool = False, step: str = "") -> tuple[NetworkSpec, ...]:
    """The paper's generators G_XY and G_YX (with pixel shuffles for method e)."""
    suffix = "-ps" if pixel_shuffle else ""
    return (
        NetworkSpec(
            "G_XY",
            KINDS[f"generator-sdss-to-cfht{suffix}"],
            (image_shape(SDSS_SIZE),),
            image_shape(CFHT_SIZE),
            step,
        ),
        NetworkSpec(
            "G_YX",
            KINDS[f"generator-cfht-to-sdss{suffix}"],
            (image_shape(CFHT_SIZE),),
            image_shape(SDSS_SIZE),
            step,
        ),
    )


def our_discriminators(step: str = "") -> tuple[NetworkSpec, ...]:
    """The paper's per-band discriminators D_X and D_Y."""
    kind = KINDS["discriminator"]
    return (
        NetworkSpec("D_X", kind, (image_shape(SDSS_SIZE),), BAND_LOGITS, step),
        NetworkSpec("D_Y", kind, (image_shape(CFHT_SIZE),), BAND_LOGITS, step),
    )


def patchgan_discriminators() -> tuple[NetworkSpec, ...]:
    """The PatchGAN discriminators D_X and D_Y of CycleGAN and AugCGAN (on the 64 px grid)."""
    kind = KINDS["patchgan-discriminator"]
    patches: Shape = ("B", 1, SDSS_SIZE // 8, SDSS_SIZE // 8)
    return (
        NetworkSpec("D_X", kind, (image_shape(SDSS_SIZE),), patches),
        NetworkSpec("D_Y", kind, (image_shape(REGRIDDED_CFHT_SIZE),), patches),
    )


def format_shape(shape: Shape, bands: int = 5) -> str:
    """Write a shape with the band count filled in: ``("B", "C", 64, 64)`` -> ``"(B, 5, 64, 64)"``."""
    return "(" + ", ".join(str(bands) if dim == "C" else str(dim) for dim in shape) + ")"
