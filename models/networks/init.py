"""Weight initialisation: Glorot-uniform weights and 0.1 biases (the paper's), or PyTorch's defaults.

Glorot-uniform draws each weight from U(-a, a) with ``a = sqrt(6 / (fan_in + fan_out))``. The fans are
those of one independent layer: a grouped convolution or a
:class:`~galtk.models.networks.grouped.GroupedLinear`
counts the channels of one group, so a per-band sub-network is initialised exactly as a separate network
would be (``torch.nn.init.xavier_uniform_`` would count every group in ``fan_out``).
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import torch
from torch import nn

from galtk.models.networks.filters import SymmetricFilter
from galtk.models.networks.grouped import GroupedLinear

InitScheme = Literal["glorot", "pytorch"]
"""``"glorot"``: Glorot-uniform weights, biases 0.1 (SPEC section 4). ``"pytorch"``: PyTorch's defaults."""

INIT_SCHEMES: tuple[str, ...] = get_args(InitScheme)
GLOROT_BIAS = 0.1


def glorot_fans(module: nn.Module) -> tuple[int, int] | None:
    """Fan-in and fan-out of one independent layer of ``module``, or None if it has no Glorot weight.

    Parameters
    ----------
    module : torch.nn.Module
        A convolution, transposed convolution, linear layer, grouped linear layer or symmetric filter.

    Returns
    -------
    tuple of int, or None
    """
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
        receptive = math.prod(module.kernel_size)
        per_group_in = module.in_channels // module.groups * receptive
        per_group_out = module.out_channels // module.groups * receptive
        return per_group_in, per_group_out
    if isinstance(module, nn.Linear | GroupedLinear):
        return module.in_features, module.out_features
    if isinstance(module, SymmetricFilter):
        return module.size * module.size, module.size * module.size
    return None


def glorot_bound(fan_in: int, fan_out: int) -> float:
    """Half-width ``sqrt(6 / (fan_in + fan_out))`` of the Glorot-uniform distribution."""
    return math.sqrt(6.0 / (fan_in + fan_out))


@torch.no_grad()
def initialize(module: nn.Module, scheme: InitScheme = "glorot") -> nn.Module:
    """Initialise every layer of ``module`` in place.

    Parameters
    ----------
    module : torch.nn.Module
        A network of :mod:`galtk.models`.
    scheme : {"glorot", "pytorch"}
        ``"glorot"`` (default): Glorot-uniform weights and biases of 0.1 (SPEC section 4, the reference
        code's ``xavier_initializer`` and ``constant_initializer(0.1)``). ``"pytorch"``: keep the default
        initialisation every layer received when it was built.

    Returns
    -------
    torch.nn.Module
        ``module`` itself.

    Raises
    ------
    ValueError
        If ``scheme`` is unknown.
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; known: {', '.join(INIT_SCHEMES)}")
    if scheme == "pytorch":
        return module
    for layer in module.modules():
        fans = glorot_fans(layer)
        if fans is None:
            continue
        weight = layer.kernel if isinstance(layer, SymmetricFilter) else layer.weight
        bound = glorot_bound(*fans)
        nn.init.uniform_(weight, -bound, bound)
        bias = getattr(layer, "bias", None)
        if isinstance(bias, torch.Tensor):
            nn.init.constant_(bias, GLOROT_BIAS)
    return module
