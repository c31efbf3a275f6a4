"""Blocks that act on independent groups of channels, one group per band.

The per-band networks of the paper (the sub-discriminators of Fig. 2 (d) and the amplitude networks of the
Noise Emulator, Fig. 2 (e)) are evaluated for all bands at once: channels ``[g * n, (g + 1) * n)`` belong to
band ``g``, convolutions use ``groups=bands`` and fully connected layers use :class:`GroupedLinear`. No weight
ever mixes two groups, so the bands stay as independent as separate networks would be.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class GroupedLinear(nn.Module):
    """``groups`` independent fully connected layers applied side by side.

    Parameters
    ----------
    groups : int
        Number of independent layers (bands).
    in_features, out_features : int
        Sizes of one layer.

    Notes
    -----
    Input (B, groups, in_features); output (B, groups, out_features). Parameters: ``weight`` (groups,
    out_features, in_features) and ``bias`` (groups, out_features), the same count as ``groups`` separate
    :class:`torch.nn.Linear` layers.
    """

    def __init__(self, groups: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.groups = groups
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.empty(groups, out_features, in_features))
        self.bias = nn.Parameter(torch.empty(groups, out_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default initialisation of :class:`torch.nn.Linear`, per group."""
        bound = 1.0 / math.sqrt(self.in_features)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply each group's layer to its slice of ``x``."""
        return torch.einsum("bgi,goi->bgo", x, self.weight) + self.bias

    def extra_repr(self) -> str:
        """Show the sizes in ``print(module)``."""
        return f"groups={self.groups}, in_features={self.in_features}, out_features={self.out_features}"


class ChannelAttention(nn.Module):
    """Channel attention of the reference code ("ACM" in Fig. 2 (d)), per group of channels.

    ``x * sigmoid(FC(mean over pixels of x))``: one fully connected layer (``channels_per_group`` in and
    out, with bias) per group turns the channel means into one gate per channel.

    Parameters
    ----------
    groups : int
        Independent groups (bands).
    channels_per_group : int
        Channels of each group.

    Notes
    -----
    Input and output (B, groups * channels_per_group, H, W). Parameters per group:
    ``channels_per_group * (channels_per_group + 1)``.
    """

    def __init__(self, groups: int, channels_per_group: int) -> None:
        super().__init__()
        self.groups = groups
        self.fc = GroupedLinear(groups, channels_per_group, channels_per_group)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Gate the channels of ``x``."""
        means = x.mean(dim=(-2, -1)).unflatten(1, (self.groups, -1))
        gates = torch.sigmoid(self.fc(means)).flatten(1)
        return x * gates[:, :, None, None]


def global_avg_max_min(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Global average, maximum and minimum over pixels, concatenated per group.

    Parameters
    ----------
    x : torch.Tensor
        (B, groups * n, H, W).
    groups : int
        Number of groups (bands).

    Returns
    -------
    torch.Tensor
        (B, groups, 3 n): for each group, the n averages, then the n maxima, then the n minima.
    """
    pixels = (-2, -1)
    pooled = (x.mean(dim=pixels), x.amax(dim=pixels), x.amin(dim=pixels))
    return torch.cat([p.unflatten(1, (groups, -1)) for p in pooled], dim=-1)
