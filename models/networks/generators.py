"""The two cross-survey Generators of the paper (Fig. 2 (b), (c)) and their pixel-shuffle variants."""

from __future__ import annotations

import torch
from torch import nn

from galtk.models.networks.init import InitScheme, initialize
from galtk.models.networks.layers import ConvLeaky, HalvingAvgPool, SymmetricPad, scaled_width, upsampler


class NoiseUnits(nn.Module):
    """Per-band scales around a generator's layers: ``layers(x / input_sigma) * output_sigma``.

    Both scales are buffers of ones (the paper's generator, unchanged) until :meth:`set_noise_units` sets
    them to the noise sigma of the input and output surveys (``[train] generator_units = "noise"``): the
    layers then read and write images in units of each band's noise, so that the background is O(1) and a
    galaxy is as many units as its signal-to-noise ratio, whatever the survey and band. The scales are
    stored in the state dict; the parameters are the paper's.

    Parameters
    ----------
    bands : int
        Number of bands C of input and output.
    """

    input_sigma: torch.Tensor
    output_sigma: torch.Tensor

    def __init__(self, bands: int) -> None:
        super().__init__()
        self.register_buffer("input_sigma", torch.ones(bands))
        self.register_buffer("output_sigma", torch.ones(bands))

    def set_noise_units(self, input_sigma: torch.Tensor, output_sigma: torch.Tensor) -> None:
        """Scale the input by 1 / ``input_sigma`` and the output by ``output_sigma``, band by band.

        Parameters
        ----------
        input_sigma, output_sigma : torch.Tensor
            Positive noise sigma of each band (C,) of the input and of the output survey.
        """
        for name, values in (("input_sigma", input_sigma), ("output_sigma", output_sigma)):
            values = torch.as_tensor(values, dtype=torch.float32).flatten()
            if values.shape != getattr(self, name).shape or not bool(torch.all(values > 0)):
                raise ValueError(f"{name} must hold one positive sigma per band, got {values.tolist()}")
            getattr(self, name).copy_(values.to(getattr(self, name).device))

    def scaled(self, layers: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """``layers(x / input_sigma) * output_sigma`` with the scales broadcast over (B, C, H, W)."""
        inside = layers(x / self.input_sigma.to(x.dtype)[None, :, None, None])
        return inside * self.output_sigma.to(inside.dtype)[None, :, None, None]


class SdssToCfhtGenerator(NoiseUnits):
    """Generator G_XY, SDSS -> CFHT (64 -> 136): Fig. 2 (b), "Generator 1".

    conv3-64 (64), pool, conv3-128 (32), pool, conv3-128 (16), pool, conv3-256 (8), up, conv3-128 (16), up,
    conv3-128 (32), up, conv3-128 (64), symmetric padding by 2 px (68), up (136), conv5-64, conv5-64,
    conv5-C; LeakyReLU(0.2) after every convolution, the last one included. 1,425,093 parameters for C=5 at
    ``width=1``; 829,125 with ``pixel_shuffle=True`` (method e), where each x2 upsampling is a pixel
    shuffle that divides the channels by 4.

    Parameters
    ----------
    bands : int, optional
        Number of bands C of input and output.
    width : float, optional
        Scale of every hidden channel count (``round(n * width)``, at least 1; with ``pixel_shuffle``
        the channels that enter a shuffle are rounded to a multiple of 4).
    pixel_shuffle : bool, optional
        Upsample with ``torch.nn.PixelShuffle(2)`` instead of nearest-neighbour interpolation (method e).
    init : {"glorot", "pytorch"}, optional
        Weight initialisation (see :func:`galtk.models.networks.init.initialize`).

    Notes
    -----
    Input (B, C, H, W) with H and W multiples of 8; output (B, C, 2 (H + 4), 2 (W + 4)):
    SDSS (B, 5, 64, 64) -> CFHT (B, 5, 136, 136).
    """

    def __init__(
        self, bands: int = 5, width: float = 1.0, *, pixel_shuffle: bool = False, init: InitScheme = "glorot"
    ) -> None:
        super().__init__(bands)
        multiple = 4 if pixel_shuffle else 1
        shrink = 4 if pixel_shuffle else 1
        c64, c128 = scaled_width(64, width), scaled_width(128, width)
        u128, u256 = scaled_width(128, width, multiple), scaled_width(256, width, multiple)
        self.layers = nn.Sequential(
            ConvLeaky(bands, c64, 3),
            HalvingAvgPool(),
            ConvLeaky(c64, c128, 3),
            HalvingAvgPool(),
            ConvLeaky(c128, c128, 3),
            HalvingAvgPool(),
            ConvLeaky(c128, u256, 3),
            upsampler(pixel_shuffle),
            ConvLeaky(u256 // shrink, u128, 3),
            upsampler(pixel_shuffle),
            ConvLeaky(u128 // shrink, u128, 3),
            upsampler(pixel_shuffle),
            ConvLeaky(u128 // shrink, u128, 3),
            SymmetricPad(2),
            upsampler(pixel_shuffle),
            ConvLeaky(u128 // shrink, c64, 5),
            ConvLeaky(c64, c64, 5),
            ConvLeaky(c64, bands, 5),
        )
        initialize(self, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Translate SDSS images ``x`` into non-noise CFHT images."""
        return self.scaled(self.layers, x)


class CfhtToSdssGenerator(NoiseUnits):
    """Generator G_YX, CFHT -> SDSS (136 -> 64): Fig. 2 (c), "Generator 2".

    conv3-64 (136), pool, conv3-64 (68), pool, conv3-128 (34), pool, conv3-256 (17), up, conv3-128 (34),
    up (68), conv5-64 without padding (64; the "Cropping" of Fig. 2 (c): a "same" convolution cropped by
    2 px gives the same values), conv5-64, conv5-C; LeakyReLU(0.2) after every convolution, the last one
    included. 1,019,269 parameters for C=5 at ``width=1``; 644,485 with ``pixel_shuffle=True`` (method e).

    Parameters
    ----------
    bands : int, optional
        Number of bands C of input and output.
    width : float, optional
        Scale of every hidden channel count (``round(n * width)``, at least 1; with ``pixel_shuffle``
        the channels that enter a shuffle are rounded to a multiple of 4).
    pixel_shuffle : bool, optional
        Upsample with ``torch.nn.PixelShuffle(2)`` instead of nearest-neighbour interpolation (method e).
    init : {"glorot", "pytorch"}, optional
        Weight initialisation (see :func:`galtk.models.networks.init.initialize`).

    Notes
    -----
    Input (B, C, H, W) with H and W multiples of 8; output (B, C, H / 2 - 4, W / 2 - 4):
    CFHT (B, 5, 136, 136) -> SDSS (B, 5, 64, 64).
    """

    def __init__(
        self, bands: int = 5, width: float = 1.0, *, pixel_shuffle: bool = False, init: InitScheme = "glorot"
    ) -> None:
        super().__init__(bands)
        multiple = 4 if pixel_shuffle else 1
        shrink = 4 if pixel_shuffle else 1
        c64, c128 = scaled_width(64, width), scaled_width(128, width)
        u128, u256 = scaled_width(128, width, multiple), scaled_width(256, width, multiple)
        self.layers = nn.Sequential(
            ConvLeaky(bands, c64, 3),
            HalvingAvgPool(),
            ConvLeaky(c64, c64, 3),
            HalvingAvgPool(),
            ConvLeaky(c64, c128, 3),
            HalvingAvgPool(),
            ConvLeaky(c128, u256, 3),
            upsampler(pixel_shuffle),
            ConvLeaky(u256 // shrink, u128, 3),
            upsampler(pixel_shuffle),
            ConvLeaky(u128 // shrink, c64, 5, padding="valid"),
            ConvLeaky(c64, c64, 5),
            ConvLeaky(c64, bands, 5),
        )
        initialize(self, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Translate CFHT images ``x`` into non-noise SDSS images."""
        return self.scaled(self.layers, x)
