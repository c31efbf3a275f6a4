"""The CycleGAN baseline (method g): ResNet generator and PatchGAN discriminator."""

import pytest
import torch
from torch import nn

from galtk.models.networks.cyclegan import CycleGanGenerator, PatchGanDiscriminator, UpsampleTransposedConv
from galtk.models.networks.layers import InstanceNorm

TINY = 1 / 16


def _parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_parameter_counts_equal_spec() -> None:
    with torch.device("meta"):
        assert _parameters(CycleGanGenerator()) == 7_850_245
        assert _parameters(PatchGanDiscriminator()) == 2_766_785


def test_generator_layout() -> None:
    net = CycleGanGenerator(width=TINY)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    assert len(convs) == 3 + 12 + 2 + 1
    assert sum(isinstance(m, InstanceNorm) for m in net.modules()) == 5
    reflect = [c for c in convs if isinstance(c, nn.Conv2d)]
    assert all(c.padding_mode == "reflect" for c in reflect)
    assert [c.stride[0] for c in reflect[:3]] == [1, 2, 2]


@pytest.mark.parametrize("size", [64, 136])
def test_generator_keeps_the_image_shape(size: int) -> None:
    net = CycleGanGenerator(width=TINY)
    x = torch.randn(2, 5, size, size)
    assert net(x).shape == x.shape


@pytest.mark.parametrize(("size", "patches"), [(64, 8), (136, 17)])
def test_patchgan_output_grid(size: int, patches: int) -> None:
    assert PatchGanDiscriminator(width=TINY)(torch.randn(2, 5, size, size)).shape == (2, 1, patches, patches)


def test_transposed_conv_doubles_with_tensorflow_same_alignment() -> None:
    up = UpsampleTransposedConv(1, 1)
    with torch.no_grad():
        up.conv.weight.copy_(torch.arange(1.0, 10.0).reshape(1, 1, 3, 3))
        up.conv.bias.zero_()
    x = torch.zeros(1, 1, 4, 4)
    x[0, 0, 1, 2] = 1.0
    y = up(x)
    assert y.shape == (1, 1, 8, 8)
    expected = torch.zeros(8, 8)
    expected[2:5, 4:7] = torch.arange(1.0, 10.0).reshape(3, 3)
    assert torch.equal(y[0, 0], expected)


def test_forward_backward_reaches_every_parameter() -> None:
    generator, critic = CycleGanGenerator(width=TINY), PatchGanDiscriminator(width=TINY)
    critic(generator(torch.randn(2, 5, 64, 64))).mean().backward()
    for net in (generator, critic):
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
