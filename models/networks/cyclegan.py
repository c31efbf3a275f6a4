"""CycleGAN baseline (method g; Zhu et al. 2017): ResNet generator and PatchGAN discriminator.

The layer order follows the reference code of the paper (SPEC section 4): every convolution is followed by
LeakyReLU(0.2) and then by the normalisation, the generator's convolutions pad by reflection, the transposed
convolutions align as TensorFlow's ``conv2d_transpose(padding="SAME")``, and the PatchGAN pads as
TensorFlow's ``"SAME"`` (for the even sizes it meets).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from galtk.models.networks.init import InitScheme, initialize
from galtk.models.networks.layers import LEAKY_SLOPE, ConditionalInstanceNorm, InstanceNorm, scaled_width

NormFactory = Callable[[int], nn.Module]
"""Makes the normalisation that follows a convolution with the given number of output channels."""


def _normalize(norm: nn.Module, x: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
    if isinstance(norm, ConditionalInstanceNorm):
        return norm(x, z)
    return norm(x)


class UpsampleTransposedConv(nn.Module):
    """Transposed 3x3 convolution with stride 2 that doubles the size, aligned as TensorFlow's "SAME".

    Output pixel ``2 i + k`` receives input pixel ``i`` through kernel tap ``k``; the (2H + 1)-th row and
    column of the unpadded transposed convolution are dropped.

    Parameters
    ----------
    in_channels, out_channels : int
        Channel counts.

    Notes
    -----
    Input (B, in_channels, H, W); output (B, out_channels, 2H, 2W).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Upsample ``x``."""
        return self.conv(x)[..., :-1, :-1]


class ConvThenNorm(nn.Module):
    """A convolution, optionally LeakyReLU(0.2), then a normalisation (possibly conditioned on a latent code).

    Parameters
    ----------
    conv : torch.nn.Module
        The convolution.
    norm : torch.nn.Module
        :class:`~galtk.models.networks.layers.InstanceNorm`,
        :class:`~galtk.models.networks.layers.ConditionalInstanceNorm` or :class:`torch.nn.Identity`.
    activate : bool, optional
        Apply LeakyReLU(0.2) between the convolution and the normalisation.
    """

    def __init__(self, conv: nn.Module, norm: nn.Module, activate: bool = True) -> None:
        super().__init__()
        self.conv = conv
        self.norm = norm
        self.activate = activate

    def forward(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """Apply the unit to ``x``; ``z`` (B, latent) feeds a conditional normalisation."""
        x = self.conv(x)
        if self.activate:
            x = F.leaky_relu(x, LEAKY_SLOPE)
        return _normalize(self.norm, x, z)


class ResidualBlock(nn.Module):
    """Residual block: ``leaky_relu(x + norm(conv3(norm(leaky_relu(conv3(x))))))`` with reflection padding.

    Parameters
    ----------
    channels : int
        Channels in and out.
    make_norm : callable
        Makes the normalisation after each convolution (:class:`torch.nn.Identity` in CycleGAN).
    """

    def __init__(self, channels: int, make_norm: NormFactory) -> None:
        super().__init__()
        self.first = ConvThenNorm(_reflect_conv(channels, channels, 3), make_norm(channels))
        self.second = ConvThenNorm(_reflect_conv(channels, channels, 3), make_norm(channels), activate=False)

    def forward(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """Apply the block to ``x``."""
        return F.leaky_relu(x + self.second(self.first(x, z), z), LEAKY_SLOPE)


def _reflect_conv(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1) -> nn.Conv2d:
    padding = kernel_size // 2
    return nn.Conv2d(
        in_channels, out_channels, kernel_size, stride=stride, padding=padding, padding_mode="reflect"
    )


class ResnetGenerator(nn.Module):
    """The 6-residual-block ResNet generator of CycleGAN, with plain or conditional instance norm.

    Reflection-padded conv7-64, conv3-128 stride 2, conv3-256 stride 2, ``residual_blocks`` residual blocks
    of two conv3-256, transposed conv3-128 x2, transposed conv3-64 x2, reflection-padded conv7-C; LeakyReLU
    (0.2) after every convolution except the second one of each residual block, the last one included.
    With ``latent_dim=None`` (CycleGAN) an instance norm without affine parameters follows the first three
    convolutions and the two transposed ones; otherwise (Augmented CycleGAN) a conditional instance norm
    follows each of the 17 convolutions before the last one (3 + 12 in the residual blocks + 2 transposed).

    Parameters
    ----------
    bands : int, optional
        Number of bands C of input and output.
    width : float, optional
        Scale of every hidden channel count (``round(n * width)``, at least 1).
    latent_dim : int or None, optional
        Size of the latent code of the conditional instance norms, or None for plain instance norms.
    residual_blocks : int, optional
        Number of residual blocks (6).

    Notes
    -----
    Input (B, C, H, W) with H and W multiples of 4 (and latent code (B, latent_dim)); output (B, C, H, W).
    """

    def __init__(
        self,
        bands: int = 5,
        width: float = 1.0,
        *,
        latent_dim: int | None = None,
        residual_blocks: int = 6,
    ) -> None:
        super().__init__()
        c64, c128, c256 = (scaled_width(n, width) for n in (64, 128, 256))

        def outer_norm(channels: int) -> nn.Module:
            return InstanceNorm() if latent_dim is None else ConditionalInstanceNorm(channels, latent_dim)

        def block_norm(channels: int) -> nn.Module:
            return nn.Identity() if latent_dim is None else ConditionalInstanceNorm(channels, latent_dim)

        self.latent_dim = latent_dim
        self.units = nn.ModuleList(
            [
                ConvThenNorm(_reflect_conv(bands, c64, 7), outer_norm(c64)),
                ConvThenNorm(_reflect_conv(c64, c128, 3, stride=2), outer_norm(c128)),
                ConvThenNorm(_reflect_conv(c128, c256, 3, stride=2), outer_norm(c256)),
                *(ResidualBlock(c256, block_norm) for _ in range(residual_blocks)),
                ConvThenNorm(UpsampleTransposedConv(c256, c128), outer_norm(c128)),
                ConvThenNorm(UpsampleTransposedConv(c128, c64), outer_norm(c64)),
                ConvThenNorm(_reflect_conv(c64, bands, 7), nn.Identity()),
            ]
        )

    def forward(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """Translate ``x``; ``z`` (B, latent_dim) is the latent code of the conditional norms."""
        for unit in self.units:
            x = unit(x, z)
        return x


class CycleGanGenerator(ResnetGenerator):
    """CycleGAN generator G_XY / G_YX of method g (Zhu et al. 2017), SPEC section 4.

    Reflection-padded conv7-64, conv3-128 stride 2, conv3-256 stride 2, 6 residual blocks of two conv3-256,
    transposed conv3-128 x2, transposed conv3-64 x2, conv7-C; instance norm without affine parameters after
    the first three convolutions and the two transposed ones (see :class:`ResnetGenerator`). Not drawn in
    Fig. 2. 7,850,245 parameters for C=5 at ``width=1``.

    Parameters
    ----------
    bands : int, optional
        Number of bands C of input and output.
    width : float, optional
        Scale of every hidden channel count (``round(n * width)``, at least 1).
    init : {"glorot", "pytorch"}, optional
        Weight initialisation (see :func:`galtk.models.networks.init.initialize`).

    Notes
    -----
    Input (B, C, H, W) with H and W multiples of 4; output (B, C, H, W). Method g translates SDSS
    (B, 5, 64, 64) and regridded CFHT (B, 5, 64, 64) images.
    """

    def __init__(self, bands: int = 5, width: float = 1.0, *, init: InitScheme = "glorot") -> None:
        super().__init__(bands, width)
        initialize(self, init)


class PatchGanDiscriminator(nn.Module):
    """PatchGAN discriminator D_X / D_Y of methods g and h (Zhu et al. 2017), SPEC section 4.

    conv4-64 stride 2; conv4-128 stride 2, IN; conv4-256 stride 2, IN; conv4-512, IN; conv4-1. Every
    convolution but the last is followed by LeakyReLU(0.2), then the instance norm (no affine). Zero
    padding as TensorFlow's "SAME": 1 px on each side for the stride-2 convolutions, 1 px before and 2 px
    after for the stride-1 ones. Not drawn in Fig. 2. 2,766,785 parameters for C=5 at ``width=1``.

    Parameters
    ----------
    bands : int, optional
        Number of bands C of the input.
    width : float, optional
        Scale of every hidden channel count (``round(n * width)``, at least 1).
    init : {"glorot", "pytorch"}, optional
        Weight initialisation (see :func:`galtk.models.networks.init.initialize`).

    Notes
    -----
    Input (B, C, H, W) with H and W multiples of 8 (TensorFlow alignment needs even sizes at each stride-2
    convolution); output logits (B, 1, H / 8, W / 8): (B, 5, 64, 64) -> (B, 1, 8, 8).
    """

    def __init__(self, bands: int = 5, width: float = 1.0, *, init: InitScheme = "glorot") -> None:
        super().__init__()
        c64, c128, c256, c512 = (scaled_width(n, width) for n in (64, 128, 256, 512))
        same_stride1 = (1, 2, 1, 2)
        self.layers = nn.Sequential(
            nn.Conv2d(bands, c64, 4, stride=2, padding=1),
            nn.LeakyReLU(LEAKY_SLOPE),
            nn.Conv2d(c64, c128, 4, stride=2, padding=1),
            nn.LeakyReLU(LEAKY_SLOPE),
            InstanceNorm(),
            nn.Conv2d(c128, c256, 4, stride=2, padding=1),
            nn.LeakyReLU(LEAKY_SLOPE),
            InstanceNorm(),
            nn.ZeroPad2d(same_stride1),
            nn.Conv2d(c256, c512, 4),
            nn.LeakyReLU(LEAKY_SLOPE),
            InstanceNorm(),
            nn.ZeroPad2d(same_stride1),
            nn.Conv2d(c512, 1, 4),
        )
        initialize(self, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Patch logits (B, 1, H / 8, W / 8) of ``x`` being real."""
        return self.layers(x)
