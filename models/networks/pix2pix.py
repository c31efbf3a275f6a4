"""The pix2pix networks of GalaxyGAN (method ``galaxygan``): a U-Net generator and a conditional PatchGAN.

GalaxyGAN (Schawinski et al. 2017) recovers galaxy images from degraded copies with the pix2pix objective
(Isola et al. 2017). Its networks are pix2pix's: a U-Net encoder-decoder whose decoder concatenates the
encoder's feature map of the same size, and a PatchGAN discriminator that judges (input, output) pairs.
Two changes fit galtk's float data: the U-Net's last layer is linear (pix2pix ends with ``tanh``, which
bounds the output to [-1, 1]; galtk's rescaled galaxies are unbounded) and both networks normalise with
instance norm, which is what pix2pix's batch norm computes at GalaxyGAN's batch size of one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from galtk.models.networks.cyclegan import PatchGanDiscriminator
from galtk.models.networks.init import InitScheme, initialize
from galtk.models.networks.layers import LEAKY_SLOPE, InstanceNorm, scaled_width

UNET_DEPTH = 6
"""Stride-2 levels of the U-Net: a 64 px image reaches 1 x 1 at the bottleneck."""
DROPOUT = 0.5
"""Dropout of pix2pix's innermost decoder levels (training only)."""


def _level_channels(level: int, width: float) -> int:
    """Channels of encoder level ``level`` (0 = outermost): 64, 128, 256, then 512 (pix2pix's ngf = 64)."""
    return scaled_width(min(64 * 2**level, 512), width)


class _Down(nn.Sequential):
    """LeakyReLU(0.2) (not on the input), conv4 stride 2, instance norm (not at the ends)."""

    def __init__(self, in_channels: int, out_channels: int, *, activate: bool, normalise: bool) -> None:
        layers: list[nn.Module] = [nn.LeakyReLU(LEAKY_SLOPE)] if activate else []
        layers.append(nn.Conv2d(in_channels, out_channels, 4, stride=2, padding=1))
        if normalise:
            layers.append(InstanceNorm())
        super().__init__(*layers)


class _Up(nn.Sequential):
    """ReLU, transposed conv4 stride 2, then instance norm and dropout (the innermost levels) or nothing."""

    def __init__(self, in_channels: int, out_channels: int, *, normalise: bool, dropout: bool) -> None:
        layers: list[nn.Module] = [
            nn.ReLU(),
            nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1),
        ]
        if normalise:
            layers.append(InstanceNorm())
        if dropout:
            layers.append(nn.Dropout(DROPOUT))
        super().__init__(*layers)


class UNetGenerator(nn.Module):
    """pix2pix's U-Net generator: C_in bands in (C by default), C bands out, the same size.

    Encoder (``depth`` levels): conv4 stride 2 to 64, 128, 256, then 512 channels, each after a
    LeakyReLU(0.2) but the first and followed by instance norm but the first and the innermost. Decoder:
    ReLU, transposed conv4 stride 2, instance norm, concatenated with the encoder's map of the same size;
    dropout 0.5 on the ``depth - 5`` levels below the innermost (levels 4 to ``depth - 2``, as pix2pix's
    ``UnetGenerator``); the outermost
    transposed convolution gives the C bands, linearly. Images whose side is not a multiple of
    2^``depth`` are padded by reflection (by repetition where reflection cannot reach) and cropped back.

    Parameters
    ----------
    bands : int, optional
        Number of bands C of the output (and of the input unless ``in_bands`` is given).
    width : float, optional
        Scale of every hidden channel count (``round(n * width)``, at least 1).
    init : {"glorot", "pytorch"}, optional
        Weight initialisation (see :func:`galtk.models.networks.init.initialize`).
    depth : int, optional
        Stride-2 levels (6: 64 px reaches 1 px).
    in_bands : int, optional
        Number of input bands C_in (several surveys' bands concatenated, for multi-input translation).

    Notes
    -----
    Input (B, C, H, W); output (B, C, H, W). 29,247,877 parameters for C = 5 at ``width = 1``, depth 6.
    """

    def __init__(
        self,
        bands: int = 5,
        width: float = 1.0,
        *,
        init: InitScheme = "glorot",
        depth: int = UNET_DEPTH,
        in_bands: int | None = None,
    ) -> None:
        super().__init__()
        if depth < 2:
            raise ValueError(f"depth must be at least 2, got {depth}")
        self.depth = depth
        channels = [_level_channels(level, width) for level in range(depth)]
        self.down = nn.ModuleList(
            _Down(
                (in_bands or bands) if level == 0 else channels[level - 1],
                channels[level],
                activate=level > 0,
                normalise=0 < level < depth - 1,
            )
            for level in range(depth)
        )
        up = []
        for level in reversed(range(depth)):
            innermost = level == depth - 1
            out_channels = bands if level == 0 else channels[level - 1]
            up.append(
                _Up(
                    channels[level] * (1 if innermost else 2),
                    out_channels,
                    normalise=level > 0,
                    dropout=4 <= level <= depth - 2,
                )
            )
        self.up = nn.ModuleList(up)
        initialize(self, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Recover ``x``: (B, C, H, W) -> (B, C, H, W)."""
        height, width = x.shape[-2:]
        step = 2**self.depth
        pad_y, pad_x = -height % step, -width % step
        padding = (pad_x // 2, pad_x - pad_x // 2, pad_y // 2, pad_y - pad_y // 2)
        if pad_y or pad_x:
            mode = "reflect" if max(padding) < min(height, width) else "replicate"
            x = F.pad(x, padding, mode=mode)
        skips = []
        for down in self.down:
            x = down(x)
            skips.append(x)
        skips.pop()
        for up in self.up:
            x = up(x)
            if skips:
                x = torch.cat([x, skips.pop()], dim=1)
        if pad_y or pad_x:
            x = x[..., padding[2] : padding[2] + height, padding[0] : padding[0] + width]
        return x


class ConditionalPatchGan(nn.Module):
    """pix2pix's conditional discriminator: the PatchGAN of SPEC section 4 on (condition, image), 2C bands.

    Parameters
    ----------
    bands : int, optional
        Bands C of the image (and of the condition unless ``in_bands`` is given).
    width : float, optional
        Scale of every hidden channel count.
    init : {"glorot", "pytorch"}, optional
        Weight initialisation.
    in_bands : int, optional
        Bands C_in of the condition (the generator's input), when it differs from the image's.

    Notes
    -----
    Inputs condition and image (B, C, H, W), H and W multiples of 8; output logits (B, 1, H / 8, W / 8).
    2,771,905 parameters for C = 5 at ``width = 1``.
    """

    def __init__(
        self, bands: int = 5, width: float = 1.0, *, init: InitScheme = "glorot", in_bands: int | None = None
    ) -> None:
        super().__init__()
        self.patchgan = PatchGanDiscriminator((in_bands or bands) + bands, width, init=init)

    def forward(self, condition: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        """Patch logits of ``image`` being the real counterpart of ``condition``."""
        return self.patchgan(torch.cat([condition, image.to(condition.dtype)], dim=1))
