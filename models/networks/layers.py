"""Spatial building blocks shared by the networks of SPEC section 4, and their instance normalisations.

Every block keeps tensors in (batch, channel, y, x) order, works on any memory format (``channels_last``
included) and holds no Python logic that depends on the input's shape, so ``torch.compile`` traces each
network as one graph.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

LEAKY_SLOPE = 0.2
"""Negative slope of every LeakyReLU of the paper (Fig. 2 caption)."""

Padding = Literal["same", "valid"]


def scaled_width(channels: int, width: float, multiple: int = 1) -> int:
    """Hidden channel count of a network built at a fraction ``width`` of its paper size.

    Parameters
    ----------
    channels : int
        Channel count at ``width=1`` (the paper's figure).
    width : float
        Scale factor (> 0).
    multiple : int, optional
        The result is a multiple of this (pixel shuffles need channel counts divisible by 4).

    Returns
    -------
    int
        ``round(channels * width)`` rounded to a multiple of ``multiple``, at least ``multiple``.

    Raises
    ------
    ValueError
        If ``width`` is not positive.
    """
    if not width > 0:
        raise ValueError(f"width must be positive, got {width}")
    return max(multiple, multiple * round(channels * width / multiple))


class ConvLeaky(nn.Sequential):
    """Convolution followed by LeakyReLU(0.2), the unit of Fig. 2 (a)-(d).

    Parameters
    ----------
    in_channels, out_channels : int
        Channel counts (for ``groups > 1``, the totals over all groups).
    kernel_size : int
        Odd kernel size.
    padding : {"same", "valid"}
        ``"same"`` pads with zeros so the size is kept; ``"valid"`` does not pad
        (size shrinks by ``kernel_size - 1``).
    groups : int, optional
        Independent groups of channels (one per band in the discriminator).

    Notes
    -----
    Input (B, in_channels, H, W); output (B, out_channels, H, W) for ``"same"``, (B, out_channels,
    H - k + 1, W - k + 1) for ``"valid"``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        padding: Padding = "same",
        groups: int = 1,
    ) -> None:
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        pad = kernel_size // 2 if padding == "same" else 0
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, padding=pad, groups=groups),
            nn.LeakyReLU(LEAKY_SLOPE),
        )


class HalvingAvgPool(nn.Module):
    """Average pooling 2x2, stride 2, that rounds odd sizes up and averages real pixels only.

    Sizes go 136 -> 68 -> 34 -> 17 -> 9 and 132 -> 66 -> 33 -> 17 -> 9. At an odd edge the last
    window holds one row (or column, or the corner pixel) of real data and is the mean of those pixels
    alone, as TensorFlow's ``avg_pool(padding="SAME")`` of the reference code does.

    Notes
    -----
    Input (B, C, H, W); output (B, C, ceil(H / 2), ceil(W / 2)).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pool ``x``."""
        return F.avg_pool2d(x, kernel_size=2, stride=2, ceil_mode=True, count_include_pad=False)


class NearestUpsample(nn.Module):
    """Nearest-neighbour x2 upsampling ("Interpolate" in Fig. 2).

    Notes
    -----
    Input (B, C, H, W); output (B, C, 2H, 2W).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Upsample ``x``."""
        return F.interpolate(x, scale_factor=2.0, mode="nearest")


class SymmetricPad(nn.Module):
    """Mirror padding that repeats the edge pixel ("SymPadding" in Fig. 2 (b)).

    ``[a, b, c]`` padded by 2 becomes ``[b, a, a, b, c, c, b]`` (TensorFlow ``SYMMETRIC``, NumPy
    ``mode="symmetric"``), unlike ``torch.nn.functional.pad(mode="reflect")``, which skips the edge.

    Parameters
    ----------
    pad : int
        Pixels added on every side (at most the image size).

    Notes
    -----
    Input (B, C, H, W); output (B, C, H + 2 pad, W + 2 pad).
    """

    def __init__(self, pad: int) -> None:
        super().__init__()
        if pad < 1:
            raise ValueError(f"pad must be at least 1, got {pad}")
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pad ``x``."""
        p = self.pad
        x = torch.cat([x[..., :p].flip(-1), x, x[..., -p:].flip(-1)], dim=-1)
        return torch.cat([x[..., :p, :].flip(-2), x, x[..., -p:, :].flip(-2)], dim=-2)

    def extra_repr(self) -> str:
        """Show the padding in ``print(module)``."""
        return f"pad={self.pad}"


def upsampler(pixel_shuffle: bool) -> nn.Module:
    """The x2 upsampling of a generator: nearest neighbour, or a pixel shuffle (channels / 4).

    Parameters
    ----------
    pixel_shuffle : bool
        Use ``torch.nn.PixelShuffle(2)`` (method e) instead of nearest-neighbour interpolation.

    Returns
    -------
    torch.nn.Module
        Input (B, C, H, W); output (B, C, 2H, 2W), or (B, C / 4, 2H, 2W) for a pixel shuffle.
    """
    return nn.PixelShuffle(2) if pixel_shuffle else NearestUpsample()


NORM_EPS = 1e-5
"""Added to the per-instance variance (the reference code uses 1e-20; see docs/networks.md)."""


def normalize_instances(x: torch.Tensor, eps: float = NORM_EPS) -> torch.Tensor:
    """Subtract each (image, channel) mean over pixels and divide by its standard deviation.

    Parameters
    ----------
    x : torch.Tensor
        (B, C, H, W), any memory format.
    eps : float, optional
        Added to the (biased) variance.

    Returns
    -------
    torch.Tensor
        Same shape and memory format as ``x``.
    """
    var, mean = torch.var_mean(x, dim=(-2, -1), correction=0, keepdim=True)
    return (x - mean) * torch.rsqrt(var + eps)


class InstanceNorm(nn.Module):
    """Instance normalisation with no affine parameters and no running statistics.

    Notes
    -----
    Input and output (B, C, H, W); no parameters.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` per image and channel."""
        return normalize_instances(x)


class ConditionalInstanceNorm(nn.Module):
    """Conditional instance normalisation of the Augmented CycleGAN generator (method h).

    ``mean(z) + normalize_instances(x) * softplus(std(z))``, where ``mean`` and ``std`` are fully
    connected layers (with bias) from the latent code ``z`` to one value per channel.

    Parameters
    ----------
    channels : int
        Channels of the feature map.
    latent_dim : int
        Size of the latent code (32 in the paper).

    Notes
    -----
    Inputs x (B, channels, H, W) and z (B, latent_dim); output (B, channels, H, W). Parameters:
    ``2 * channels * (latent_dim + 1)``.
    """

    def __init__(self, channels: int, latent_dim: int) -> None:
        super().__init__()
        self.mean = nn.Linear(latent_dim, channels)
        self.std = nn.Linear(latent_dim, channels)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` and rescale it with statistics predicted from ``z``."""
        shift = self.mean(z)[:, :, None, None]
        scale = F.softplus(self.std(z))[:, :, None, None]
        return shift + normalize_instances(x) * scale
