"""The Autoencoder of Fig. 2 (a)."""

import pytest
import torch
from torch import nn

from galtk.models.networks.autoencoder import Autoencoder
from galtk.models.networks.layers import LEAKY_SLOPE


def _parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_parameter_count_equals_spec() -> None:
    with torch.device("meta"):
        assert _parameters(Autoencoder()) == 2_162_501


def test_parameter_count_follows_the_band_count() -> None:
    with torch.device("meta"):
        difference = _parameters(Autoencoder(bands=6)) - _parameters(Autoencoder(bands=5))
    assert difference == 64 * 9 + 64 * 25 + 1


def test_layer_sizes_follow_figure_2a() -> None:
    convs = [m for m in Autoencoder(width=1 / 16).modules() if isinstance(m, nn.Conv2d)]
    assert [(c.kernel_size[0], c.out_channels) for c in convs] == [
        (3, 4), (3, 8), (3, 16), (3, 16), (3, 16), (3, 8), (5, 4), (5, 4), (5, 5)
    ]  # fmt: skip


@pytest.mark.parametrize("size", [64, 136])
def test_output_has_the_input_shape(size: int) -> None:
    net = Autoencoder(width=1 / 16)
    x = torch.randn(2, 5, size, size, requires_grad=True)
    y = net(x)
    assert y.shape == x.shape
    y.square().mean().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_last_convolution_is_leaky_rectified() -> None:
    net = Autoencoder(width=1 / 16)
    last_conv = net.layers[-1][0]
    with torch.no_grad():
        last_conv.bias.fill_(-100.0)
    x = torch.randn(1, 5, 64, 64)
    pre = last_conv(net.layers[:-1](x))
    assert (pre < 0).all()
    assert torch.allclose(net(x), LEAKY_SLOPE * pre)
