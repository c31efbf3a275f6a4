"""The Generators of Fig. 2 (b) and (c), and their pixel-shuffle variants (method e)."""

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from galtk.models.networks.generators import CfhtToSdssGenerator, SdssToCfhtGenerator

TINY = 1 / 16


def _parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def _sizes_after_each_layer(net: nn.Module, x: torch.Tensor) -> list[int]:
    sizes = []
    for layer in net.layers:
        x = layer(x)
        sizes.append(x.shape[-1])
    return sizes


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: SdssToCfhtGenerator(), 1_425_093),
        (lambda: CfhtToSdssGenerator(), 1_019_269),
        (lambda: SdssToCfhtGenerator(pixel_shuffle=True), 829_125),
        (lambda: CfhtToSdssGenerator(pixel_shuffle=True), 644_485),
    ],
)
def test_parameter_counts_equal_spec(make: Callable[[], nn.Module], expected: int) -> None:
    with torch.device("meta"):
        assert _parameters(make()) == expected


@pytest.mark.parametrize("pixel_shuffle", [False, True])
def test_sdss_to_cfht_sizes_follow_figure_2b(pixel_shuffle: bool) -> None:
    net = SdssToCfhtGenerator(width=TINY, pixel_shuffle=pixel_shuffle)
    sizes = _sizes_after_each_layer(net, torch.randn(2, 5, 64, 64))
    assert sizes == [64, 32, 32, 16, 16, 8, 8, 16, 16, 32, 32, 64, 64, 68, 136, 136, 136, 136]
    assert net(torch.randn(2, 5, 64, 64)).shape == (2, 5, 136, 136)


@pytest.mark.parametrize("pixel_shuffle", [False, True])
def test_cfht_to_sdss_sizes_follow_figure_2c(pixel_shuffle: bool) -> None:
    net = CfhtToSdssGenerator(width=TINY, pixel_shuffle=pixel_shuffle)
    sizes = _sizes_after_each_layer(net, torch.randn(2, 5, 136, 136))
    assert sizes == [136, 68, 68, 34, 34, 17, 17, 34, 34, 68, 64, 64, 64]
    assert net(torch.randn(2, 5, 136, 136)).shape == (2, 5, 64, 64)


def test_sdss_to_cfht_pads_symmetrically_before_the_last_upsampling() -> None:
    net = SdssToCfhtGenerator(width=TINY)
    features = net.layers[:13](torch.randn(1, 5, 64, 64))
    padded = net.layers[13](features)
    assert torch.equal(padded[..., 2:-2, 2:-2], features)
    assert torch.equal(padded[..., 2:-2, 1], features[..., :, 0])
    assert torch.equal(padded[..., 2:-2, 0], features[..., :, 1])


def test_cfht_to_sdss_unpadded_conv_is_a_same_conv_cropped() -> None:
    net = CfhtToSdssGenerator(width=TINY)
    features = net.layers[:10](torch.randn(1, 5, 136, 136))
    conv = net.layers[10][0]
    same = F.leaky_relu(F.conv2d(features, conv.weight, conv.bias, padding=2), 0.2)
    assert torch.allclose(net.layers[10](features), same[..., 2:-2, 2:-2], atol=1e-6)


def test_pixel_shuffle_variant_divides_channels_by_four() -> None:
    net = SdssToCfhtGenerator(width=0.1, pixel_shuffle=True)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    shuffled_inputs = [convs[i].in_channels for i in (4, 5, 6, 7)]
    before_shuffle = [convs[i].out_channels for i in (3, 4, 5, 6)]
    assert all(c % 4 == 0 for c in before_shuffle)
    assert shuffled_inputs == [c // 4 for c in before_shuffle]


@pytest.mark.parametrize("pixel_shuffle", [False, True])
def test_forward_backward_reaches_every_parameter(pixel_shuffle: bool) -> None:
    for net, size in (
        (SdssToCfhtGenerator(width=TINY, pixel_shuffle=pixel_shuffle), 64),
        (CfhtToSdssGenerator(width=TINY, pixel_shuffle=pixel_shuffle), 136),
    ):
        net(torch.randn(2, 5, size, size)).square().mean().backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
