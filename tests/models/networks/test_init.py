"""Glorot-uniform weights and 0.1 biases by default; PyTorch's initialisation on request."""

import math

import pytest
import torch
from torch import nn

from galtk.models.networks.discriminator import BandDiscriminator
from galtk.models.networks.filters import SymmetricFilter
from galtk.models.networks.grouped import GroupedLinear
from galtk.models.networks.init import GLOROT_BIAS, glorot_bound, glorot_fans, initialize
from galtk.models.networks.noise_emulator import NoiseEmulator


def _check_glorot(weight: torch.Tensor, bound: float) -> None:
    assert weight.abs().max() <= bound
    assert weight.abs().max() > 0.9 * bound
    assert weight.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.1)


@pytest.mark.parametrize(
    ("layer", "fans"),
    [
        (nn.Conv2d(16, 32, 3), (16 * 9, 32 * 9)),
        (nn.Conv2d(10, 320, 7, groups=5), (2 * 49, 64 * 49)),
        (nn.ConvTranspose2d(64, 32, 3), (64 * 9, 32 * 9)),
        (nn.Linear(100, 30), (100, 30)),
        (GroupedLinear(5, 64, 64), (64, 64)),
    ],
)
def test_glorot_uses_the_fans_of_one_group(layer: nn.Module, fans: tuple[int, int]) -> None:
    assert glorot_fans(layer) == fans
    initialize(layer)
    _check_glorot(layer.weight.detach(), glorot_bound(*fans))
    assert torch.all(layer.bias == GLOROT_BIAS)


def test_symmetric_filter_raw_values_are_glorot_over_one_7x7_filter() -> None:
    filt = initialize(SymmetricFilter(bands=40))
    _check_glorot(filt.kernel.detach(), math.sqrt(6 / 98))


def test_networks_are_glorot_initialised_by_default() -> None:
    net = BandDiscriminator(width=0.25)
    first_conv = net.fourier_branch[0][0]
    bound = glorot_bound(2 * 49, 16 * 49)
    assert first_conv.weight.abs().max() <= bound
    assert first_conv.weight.abs().max() > 0.9 * bound
    biases = [m.bias for m in net.modules() if isinstance(m, nn.Conv2d | GroupedLinear)]
    assert all(torch.all(b == GLOROT_BIAS) for b in biases)


def test_pytorch_flag_keeps_default_initialisation() -> None:
    net = NoiseEmulator(init="pytorch")
    first = net.amplitude_net[0]
    assert not torch.all(first.bias == GLOROT_BIAS)
    assert first.weight.abs().max() <= 1.0
    assert first.weight.abs().max() > 0.9


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="glorot"):
        initialize(nn.Linear(2, 2), "he")  # type: ignore[arg-type]
