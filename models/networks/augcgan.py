"""Augmented CycleGAN baseline (method h; Almahairi et al. 2018), two-sided as in the paper's reference code.

Each direction has a generator conditioned on a 32-d latent code, a latent encoder that infers the code
from an (image, counterpart) pair, and a latent discriminator that tells encoded codes from N(0, 1) draws.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from galtk.models.networks.cyclegan import ResnetGenerator
from galtk.models.networks.init import InitScheme, initialize
from galtk.models.networks.layers import LEAKY_SLOPE, InstanceNorm, scaled_width

LATENT_DIM = 32
"""Size of the latent codes of method h (``num_latent`` of the reference code)."""


class AugCGanGenerator(ResnetGenerator):
    """Augmented CycleGAN generator G_XY / G_YX of method h, SPEC section 4.

    The CycleGAN generator (:class:`~galtk.models.networks.cyclegan.ResnetGenerator`) with a conditional
    instance
    norm after all 17 normalised convolutions (the first three, the 12 of the residual blocks and the two
    transposed ones): ``mean(z) + normalized(x) * softplus(std(z))`` with ``mean`` and ``std`` fully
    connected layers on the latent code. Not drawn in Fig. 2. 8,095,237 parameters for C=5 at ``width=1``
    (7,850,245 + 2 x 33 x 3,712).

    Parameters
    ----------
    bands : int, optional
        Number of bands C of input and output.
    width : float, optional
        Scale of every hidden channel count (``round(n * width)``, at least 1).
    latent_dim : int, optional
        Size of the latent code (32).
    init : {"glorot", "pytorch"}, optional
        Weight initialisation (see :func:`galtk.models.networks.init.initialize`).

    Notes
    -----
    Inputs x (B, C, H, W) with H and W multiples of 4 and z (B, latent_dim); output (B, C, H, W). Method h
    translates SDSS (B, 5, 64, 64) and regridded CFHT (B, 5, 64, 64) images.
    """

    def __init__(
        self, bands: int = 5, width: float = 1.0, *, latent_dim: int = LATENT_DIM, init: InitScheme = "glorot"
    ) -> None:
        super().__init__(bands, width, latent_dim=latent_dim)
        initialize(self, init)

    def forward(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """Translate ``x`` under latent code ``z`` (B, latent_dim), which is required."""
        if z is None:
            raise ValueError("AugCGanGenerator needs a latent code z of shape (batch, latent_dim)")
        return super().forward(x, z)


class LatentEncoder(nn.Module):
    """Latent encoder E_X / E_Y of method h, SPEC section 4.

    The two images are concatenated (2C channels); five conv3 with stride 2 (64, 128, 256, 512, 512
    channels), each followed by LeakyReLU(0.2) and an instance norm without affine parameters; conv1 to
    ``latent_dim`` channels (no activation); mean over pixels. The stride-2 convolutions pad 1 px of zeros
    after the last row and column only, as TensorFlow's "SAME" does for even sizes. Not drawn in Fig. 2.
    3,931,232 parameters for C=5 at ``width=1``.

    As specified (and as in the reference code) the encoder is degenerate: the last instance norm gives
    every channel a zero mean over pixels, and a 1x1 convolution followed by a mean over pixels maps
    zero-mean channels to its bias, so the code equals that bias whatever the images. ``final_norm=False``
    drops the last instance norm (same parameters), which makes the code depend on the images.

    Parameters
    ----------
    bands : int, optional
        Number of bands C of each image.
    width : float, optional
        Scale of every hidden channel count (``round(n * width)``, at least 1).
    latent_dim : int, optional
        Size of the latent code (32).
    final_norm : bool, optional
        Instance-normalise the output of the fifth convolution (True: as specified).
    init : {"glorot", "pytorch"}, optional
        Weight initialisation (see :func:`galtk.models.networks.init.initialize`).

    Notes
    -----
    Inputs (B, C, H, W) twice (an image and its counterpart in the other survey, same size); output
    (B, latent_dim). Method h: (B, 5, 64, 64) and (B, 5, 64, 64) -> (B, 32) (64 -> 32 -> 16 -> 8 -> 4 -> 2).
    The reference code's encoder of the CFHT-side code takes (CFHT image, SDSS image) and vice versa.
    """

    def __init__(
        self,
        bands: int = 5,
        width: float = 1.0,
        *,
        latent_dim: int = LATENT_DIM,
        final_norm: bool = True,
        init: InitScheme = "glorot",
    ) -> None:
        super().__init__()
        channels = [2 * bands, *(scaled_width(n, width) for n in (64, 128, 256, 512, 512))]
        layers: list[nn.Module] = []
        for in_channels, out_channels in itertools.pairwise(channels):
            layers += [
                nn.ZeroPad2d((0, 1, 0, 1)),
                nn.Conv2d(in_channels, out_channels, 3, stride=2),
                nn.LeakyReLU(LEAKY_SLOPE),
                InstanceNorm(),
            ]
        if not final_norm:
            layers.pop()
        layers.append(nn.Conv2d(channels[-1], latent_dim, 1))
        self.layers = nn.Sequential(*layers)
        initialize(self, init)

    def forward(self, image: torch.Tensor, counterpart: torch.Tensor) -> torch.Tensor:
        """Latent code (B, latent_dim) of the pair (``image``, ``counterpart``)."""
        return self.layers(torch.cat([image, counterpart], dim=1)).mean(dim=(-2, -1))


class LatentDiscriminator(nn.Module):
    """Latent discriminator of method h, SPEC section 4: FC64, FC64, FC64, FC1.

    Every layer is followed by LeakyReLU(0.2), the last one included, as in the reference code (its logit
    is therefore leaky-rectified). Not drawn in Fig. 2. 10,497 parameters at ``width=1``.

    Parameters
    ----------
    latent_dim : int, optional
        Size of the latent code (32).
    width : float, optional
        Scale of the hidden sizes (``round(64 * width)``, at least 1).
    init : {"glorot", "pytorch"}, optional
        Weight initialisation (see :func:`galtk.models.networks.init.initialize`).

    Notes
    -----
    Input (B, latent_dim); output logits (B, 1).
    """

    def __init__(
        self, latent_dim: int = LATENT_DIM, width: float = 1.0, *, init: InitScheme = "glorot"
    ) -> None:
        super().__init__()
        hidden = scaled_width(64, width)
        sizes = [latent_dim, hidden, hidden, hidden, 1]
        layers: list[nn.Module] = []
        for in_features, out_features in itertools.pairwise(sizes):
            layers += [nn.Linear(in_features, out_features), nn.LeakyReLU(LEAKY_SLOPE)]
        self.layers = nn.Sequential(*layers)
        initialize(self, init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Logit (B, 1) of each code of ``z`` (B, latent_dim) being a prior draw."""
        return self.layers(z)
