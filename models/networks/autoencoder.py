"""The Autoencoder of the paper's first training step (Fig. 2 (a))."""

from __future__ import annotations

import torch
from torch import nn

from galtk.models.networks.init import InitScheme, initialize
from galtk.models.networks.layers import ConvLeaky, HalvingAvgPool, NearestUpsample, scaled_width


class Autoencoder(nn.Module):
    """Autoencoder A_X / A_Y, one per survey: Fig. 2 (a).

    conv3-64, pool, conv3-128, pool, conv3-256, pool, conv3-256, up, conv3-256, up, conv3-128, up,
    conv5-64, conv5-64, conv5-C; every convolution "same"-padded and followed by LeakyReLU(0.2), the last
    one included. 2,162,501 parameters for C=5 at ``width=1``.

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
    Input (B, C, H, W), output (B, C, H, W), with H and W multiples of 8: SDSS (B, 5, 64, 64) and
    CFHT (B, 5, 136, 136) (136 -> 68 -> 34 -> 17 -> 34 -> 68 -> 136).
    """

    def __init__(self, bands: int = 5, width: float = 1.0, *, init: InitScheme = "glorot") -> None:
        super().__init__()
        c64, c128, c256 = (scaled_width(n, width) for n in (64, 128, 256))
        self.layers = nn.Sequential(
            ConvLeaky(bands, c64, 3),
            HalvingAvgPool(),
            ConvLeaky(c64, c128, 3),
            HalvingAvgPool(),
            ConvLeaky(c128, c256, 3),
            HalvingAvgPool(),
            ConvLeaky(c256, c256, 3),
            NearestUpsample(),
            ConvLeaky(c256, c256, 3),
            NearestUpsample(),
            ConvLeaky(c256, c128, 3),
            NearestUpsample(),
            ConvLeaky(c128, c64, 5),
            ConvLeaky(c64, c64, 5),
            ConvLeaky(c64, bands, 5),
        )
        initialize(self, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct the non-noise part of ``x``."""
        return self.layers(x)
