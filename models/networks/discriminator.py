"""The per-band Fourier/pixel Discriminator of the paper (Fig. 2 (d))."""

from __future__ import annotations

import torch
from torch import nn

from galtk.models.networks.filters import HighPassFilter
from galtk.models.networks.grouped import ChannelAttention, GroupedLinear, global_avg_max_min
from galtk.models.networks.init import InitScheme, initialize
from galtk.models.networks.layers import LEAKY_SLOPE, ConvLeaky, HalvingAvgPool, scaled_width

_HALF_PRECISION = (torch.float16, torch.bfloat16)


class BandDiscriminator(nn.Module):
    """Discriminator D_X / D_Y, one per survey: C independent sub-discriminators, Fig. 2 (d).

    For each band p, sub-discriminator D_p sees band p only: the fixed 5x5 high-pass filter (Fig. 2 (g),
    no padding), then two branches.

    - Fourier branch: 2-D FFT of the filtered band, real and imaginary parts as 2 channels; conv7-64, pool,
      conv7-64, ACM, pool, conv7-64, ACM, pool, conv3-128, ACM, pool, conv3-128, ACM; global average,
      maximum and minimum (3 x 128 = 384 values).
    - Pixel branch: conv3-64, pool, conv3-64, ACM, pool, conv3-64, ACM; global average, maximum and minimum
      (3 x 64 = 192 values).

    The 576 values go through FC32 (LeakyReLU(0.2)) and FC1: the logit of band p. Convolutions are "same"
    padded and followed by LeakyReLU(0.2); ACM is the reference code's channel attention,
    ``x * sigmoid(FC(mean over pixels of x))``. 3,859,845 parameters for C=5 at ``width=1`` (771,969 per
    band). All bands run at once through grouped convolutions and grouped linear layers; no weight mixes
    two bands, so the logit of band p does not depend on the pixels of any other band.

    Parameters
    ----------
    bands : int, optional
        Number of bands C (and sub-discriminators).
    width : float, optional
        Scale of every hidden channel count (``round(n * width)``, at least 1).
    init : {"glorot", "pytorch"}, optional
        Weight initialisation (see :func:`galtk.models.networks.init.initialize`).

    Notes
    -----
    Input (B, C, H, W), output logits (B, C): SDSS (B, 5, 64, 64) (filtered to 60 x 60) and CFHT
    (B, 5, 136, 136) (filtered to 132 x 132; 132 -> 66 -> 33 -> 17 -> 9 in the Fourier branch). The
    high-pass filter and the FFT run in float32 even under autocast.
    """

    def __init__(self, bands: int = 5, width: float = 1.0, *, init: InitScheme = "glorot") -> None:
        super().__init__()
        self.bands = bands
        c64, c128, hidden = (scaled_width(n, width) for n in (64, 128, 32))
        g = bands
        self.high_pass = HighPassFilter()
        self.fourier_branch = nn.Sequential(
            ConvLeaky(2 * g, c64 * g, 7, groups=g),
            HalvingAvgPool(),
            ConvLeaky(c64 * g, c64 * g, 7, groups=g),
            ChannelAttention(g, c64),
            HalvingAvgPool(),
            ConvLeaky(c64 * g, c64 * g, 7, groups=g),
            ChannelAttention(g, c64),
            HalvingAvgPool(),
            ConvLeaky(c64 * g, c128 * g, 3, groups=g),
            ChannelAttention(g, c128),
            HalvingAvgPool(),
            ConvLeaky(c128 * g, c128 * g, 3, groups=g),
            ChannelAttention(g, c128),
        )
        self.pixel_branch = nn.Sequential(
            ConvLeaky(g, c64 * g, 3, groups=g),
            HalvingAvgPool(),
            ConvLeaky(c64 * g, c64 * g, 3, groups=g),
            ChannelAttention(g, c64),
            HalvingAvgPool(),
            ConvLeaky(c64 * g, c64 * g, 3, groups=g),
            ChannelAttention(g, c64),
        )
        self.head = nn.Sequential(
            GroupedLinear(g, 3 * (c128 + c64), hidden),
            nn.LeakyReLU(LEAKY_SLOPE),
            GroupedLinear(g, hidden, 1),
        )
        initialize(self, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logit (B, C) of each band of ``x`` (B, C, H, W) being real."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            filtered = self.high_pass(x.float() if x.dtype in _HALF_PRECISION else x)
            spectrum = torch.fft.fft2(filtered)
            fourier = torch.stack([spectrum.real, spectrum.imag], dim=2).flatten(1, 2)
        features = torch.cat(
            [
                global_avg_max_min(self.fourier_branch(fourier), self.bands),
                global_avg_max_min(self.pixel_branch(filtered), self.bands),
            ],
            dim=-1,
        )
        return self.head(features).squeeze(-1)
