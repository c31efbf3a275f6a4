"""Which networks each method of SPEC section 5 uses, with their input and output shapes.

X is SDSS (64 x 64 px), Y is CFHT (136 x 136 px, or 64 x 64 px regridded for methods g and h). The table
drives ``galtk models`` and :func:`build_networks`; shapes use ``B`` for the batch size and are given for
C bands.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from galtk.errors import GaltkError
from galtk.models.networks.augcgan import LATENT_DIM, AugCGanGenerator, LatentDiscriminator, LatentEncoder
from galtk.models.networks.autoencoder import Autoencoder
from galtk.models.networks.cyclegan import CycleGanGenerator, PatchGanDiscriminator
from galtk.models.networks.discriminator import BandDiscriminator
from galtk.models.networks.generators import CfhtToSdssGenerator, SdssToCfhtGenerator
from galtk.models.networks.init import InitScheme
from galtk.models.networks.noise_emulator import NoiseEmulator

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
        SPEC section 4's parameter count for 5 bands at width 1.
    """

    name: str
    title: str
    panel: str
    factory: Callable[..., nn.Module]
    spec_parameters: int

    def build(self, bands: int = 5, width: float = 1.0, init: InitScheme = "glorot") -> nn.Module:
        """Build the network (on the default device, or inside a ``torch.device`` context)."""
        return self.factory(bands=bands, width=width, init=init)


def _latent_discriminator(*, bands: int, width: float, init: InitScheme) -> nn.Module:
    return LatentDiscriminator(LATENT_DIM, width, init=init)


_NOT_IN_FIGURE = "SPEC 4 (not in Fig. 2)"

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


@dataclass(frozen=True)
class MethodSpec:
    """A method of SPEC section 5.

    Attributes
    ----------
    name : str
        Canonical name (``galtk train --method NAME``).
    paper : str
        Label in the paper.
    aliases : tuple of str
        Other accepted names: the reference code's numbers and the paper's case letters.
    networks : tuple of NetworkSpec
        The networks it trains.
    """

    name: str
    paper: str
    aliases: tuple[str, ...]
    networks: tuple[NetworkSpec, ...]


def _image(size: int, channels: str = "C") -> Shape:
    return ("B", channels, size, size)


_CODE: Shape = ("B", LATENT_DIM)
_BAND_LOGITS: Shape = ("B", "C")


def _noise_emulator(role: str, size: int, step: str = "") -> NetworkSpec:
    return NetworkSpec(
        role, KINDS["noise-emulator"], (("B", "C"), _image(size + NOISE_MARGIN)), _image(size), step
    )


def _our_generators(pixel_shuffle: bool = False, step: str = "") -> tuple[NetworkSpec, ...]:
    suffix = "-ps" if pixel_shuffle else ""
    return (
        NetworkSpec(
            "G_XY", KINDS[f"generator-sdss-to-cfht{suffix}"], (_image(SDSS_SIZE),), _image(CFHT_SIZE), step
        ),
        NetworkSpec(
            "G_YX", KINDS[f"generator-cfht-to-sdss{suffix}"], (_image(CFHT_SIZE),), _image(SDSS_SIZE), step
        ),
    )


def _our_discriminators(step: str = "") -> tuple[NetworkSpec, ...]:
    kind = KINDS["discriminator"]
    return (
        NetworkSpec("D_X", kind, (_image(SDSS_SIZE),), _BAND_LOGITS, step),
        NetworkSpec("D_Y", kind, (_image(CFHT_SIZE),), _BAND_LOGITS, step),
    )


def _patchgan_discriminators() -> tuple[NetworkSpec, ...]:
    kind = KINDS["patchgan-discriminator"]
    patches: Shape = ("B", 1, SDSS_SIZE // 8, SDSS_SIZE // 8)
    return (
        NetworkSpec("D_X", kind, (_image(SDSS_SIZE),), patches),
        NetworkSpec("D_Y", kind, (_image(REGRIDDED_CFHT_SIZE),), patches),
    )


_OURS = (
    NetworkSpec("A_X", KINDS["autoencoder"], (_image(SDSS_SIZE),), _image(SDSS_SIZE), "step 1"),
    NetworkSpec("A_Y", KINDS["autoencoder"], (_image(CFHT_SIZE),), _image(CFHT_SIZE), "step 1"),
    _noise_emulator("NE_X", SDSS_SIZE, "step 1"),
    _noise_emulator("NE_Y", CFHT_SIZE, "step 1"),
    *_our_discriminators("step 1"),
    *_our_generators(step="step 2"),
)
_ADAPTED = (*_our_generators(), *_our_discriminators())
_CYCLEGAN = (
    NetworkSpec("G_XY", KINDS["cyclegan-generator"], (_image(SDSS_SIZE),), _image(REGRIDDED_CFHT_SIZE)),
    NetworkSpec("G_YX", KINDS["cyclegan-generator"], (_image(REGRIDDED_CFHT_SIZE),), _image(SDSS_SIZE)),
    *_patchgan_discriminators(),
)
_AUGCGAN = (
    NetworkSpec("G_XY", KINDS["augcgan-generator"], (_image(SDSS_SIZE), _CODE), _image(REGRIDDED_CFHT_SIZE)),
    NetworkSpec("G_YX", KINDS["augcgan-generator"], (_image(REGRIDDED_CFHT_SIZE), _CODE), _image(SDSS_SIZE)),
    NetworkSpec("E_Y", KINDS["latent-encoder"], (_image(REGRIDDED_CFHT_SIZE), _image(SDSS_SIZE)), _CODE),
    NetworkSpec("E_X", KINDS["latent-encoder"], (_image(SDSS_SIZE), _image(REGRIDDED_CFHT_SIZE)), _CODE),
    *_patchgan_discriminators(),
    NetworkSpec("DZ_X", KINDS["latent-discriminator"], (_CODE,), ("B", 1)),
    NetworkSpec("DZ_Y", KINDS["latent-discriminator"], (_CODE,), ("B", 1)),
)

METHODS: dict[str, MethodSpec] = {
    method.name: method
    for method in (
        MethodSpec("ours", "Ours (two steps)", ("1", "2"), _OURS),
        MethodSpec("pix2pix", "(a) Ad.pix2pix", ("3", "a"), _ADAPTED),
        MethodSpec("cyclegan-adapted", "(b) Ad.CycleGAN", ("4", "b"), _ADAPTED),
        MethodSpec("cyclegan-pid", "(c) Ad.CycleGAN+PID", ("5", "c"), _ADAPTED),
        MethodSpec("cyclegan-id", "(d) Ad.CycleGAN+ID", ("6", "d"), _ADAPTED),
        MethodSpec(
            "cyclegan-id-ps",
            "(e) Ad.CycleGAN+ID+PS",
            ("7", "e"),
            (*_our_generators(pixel_shuffle=True), *_our_discriminators()),
        ),
        MethodSpec(
            "ours-auto",
            "(f) Ours-Auto",
            ("8", "f"),
            (
                *_our_generators(),
                _noise_emulator("NE_X", SDSS_SIZE),
                _noise_emulator("NE_Y", CFHT_SIZE),
                *_our_discriminators(),
            ),
        ),
        MethodSpec("cyclegan", "(g) CycleGAN", ("9", "g"), _CYCLEGAN),
        MethodSpec("augcgan", "(h) AugCGAN", ("10", "h"), _AUGCGAN),
    )
}


def known_method_names() -> str:
    """The accepted method names with their aliases, for messages: ``"ours (1, 2), pix2pix (3, a), ..."``."""
    return ", ".join(f"{m.name} ({', '.join(m.aliases)})" for m in METHODS.values())


def resolve_method(name: str) -> MethodSpec:
    """The method called ``name`` (canonical name, reference-code number or paper letter; any case).

    Parameters
    ----------
    name : str
        For example ``"ours"``, ``"9"``, ``"g"`` or ``"CycleGAN"``.

    Returns
    -------
    MethodSpec

    Raises
    ------
    galtk.errors.GaltkError
        If no method has that name, with the list of known names.
    """
    key = name.strip().lower()
    for method in METHODS.values():
        if key == method.name or key in method.aliases:
            return method
    raise GaltkError(f"unknown method {name!r}; known methods: {known_method_names()}")


def build_networks(
    method: str,
    *,
    bands: int = 5,
    width: float = 1.0,
    init: InitScheme = "glorot",
    device: torch.device | str | None = None,
) -> dict[str, nn.Module]:
    """Build every network of a method, keyed by role (``"G_XY"``, ``"NE_Y"``, ...).

    Parameters
    ----------
    method : str
        Method name or alias (see :func:`resolve_method`).
    bands : int, optional
        Number of bands C.
    width : float, optional
        Scale of every hidden channel count.
    init : {"glorot", "pytorch"}, optional
        Weight initialisation.
    device : torch.device or str, optional
        Device to build on (``"meta"`` builds without memory); the default device if None.

    Returns
    -------
    dict of str to torch.nn.Module
    """
    spec = resolve_method(method)
    with torch.device(device) if device is not None else contextlib.nullcontext():
        return {net.role: net.kind.build(bands, width, init) for net in spec.networks}


def format_shape(shape: Shape, bands: int = 5) -> str:
    """Write a shape with the band count filled in: ``("B", "C", 64, 64)`` -> ``"(B, 5, 64, 64)"``."""
    return "(" + ", ".join(str(bands) if dim == "C" else str(dim) for dim in shape) + ")"
