"""Instance normalisation without affine parameters, and its conditional version (AugCGAN)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

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
