"""The Augmented CycleGAN baseline (method h): CIN generator, latent encoder, latent discriminator."""

import pytest
import torch
from torch import nn

from galtk.models.networks.augcgan import LATENT_DIM, AugCGanGenerator, LatentDiscriminator, LatentEncoder
from galtk.models.networks.layers import LEAKY_SLOPE, ConditionalInstanceNorm

TINY = 1 / 16


def _parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_parameter_counts_equal_spec() -> None:
    with torch.device("meta"):
        assert _parameters(AugCGanGenerator()) == 8_095_237
        assert _parameters(LatentEncoder()) == 3_931_232
        assert _parameters(LatentDiscriminator()) == 10_497


def test_generator_has_seventeen_conditional_norms() -> None:
    net = AugCGanGenerator(width=TINY)
    norms = [m for m in net.modules() if isinstance(m, ConditionalInstanceNorm)]
    assert len(norms) == 17
    assert all(n.mean.in_features == LATENT_DIM for n in norms)


@pytest.mark.parametrize("size", [64, 136])
def test_generator_shape_and_dependence_on_the_code(size: int) -> None:
    net = AugCGanGenerator(width=TINY)
    x = torch.randn(2, 5, size, size)
    z = torch.randn(2, LATENT_DIM)
    y = net(x, z)
    assert y.shape == x.shape
    assert not torch.allclose(net(x, torch.randn(2, LATENT_DIM)), y)


def test_generator_needs_a_code() -> None:
    with pytest.raises(ValueError, match="latent code"):
        AugCGanGenerator(width=TINY)(torch.randn(1, 5, 64, 64))


def test_latent_encoder_as_specified_returns_its_last_bias_whatever_the_images() -> None:
    net = LatentEncoder(width=TINY, init="pytorch")
    a, b = torch.randn(3, 5, 64, 64), torch.randn(3, 5, 64, 64)
    code = net(a, b)
    assert code.shape == (3, LATENT_DIM)
    assert torch.allclose(code, net.layers[-1].bias.expand(3, -1), atol=1e-5)
    assert torch.allclose(net(b, a), code, atol=1e-5)
    assert net.layers[0].padding == (0, 1, 0, 1)


def test_latent_encoder_without_final_norm_depends_on_the_pair() -> None:
    net = LatentEncoder(width=TINY, final_norm=False)
    with torch.device("meta"):
        assert _parameters(LatentEncoder(final_norm=False)) == 3_931_232
    a, b = torch.randn(3, 5, 64, 64), torch.randn(3, 5, 64, 64)
    code = net(a, b)
    assert code.shape == (3, LATENT_DIM)
    assert not torch.allclose(net(b, a), code)


def test_latent_discriminator_ends_with_leaky_relu() -> None:
    net = LatentDiscriminator(width=TINY)
    with torch.no_grad():
        net.layers[-2].bias.fill_(-100.0)
    z = torch.randn(4, LATENT_DIM)
    out = net(z)
    assert out.shape == (4, 1)
    assert torch.allclose(out, LEAKY_SLOPE * net.layers[:-1](z))


def test_forward_backward_reaches_every_parameter() -> None:
    generator, critic = AugCGanGenerator(width=TINY), LatentDiscriminator()
    encoder = LatentEncoder(width=TINY, final_norm=False)
    x, y = torch.randn(2, 5, 64, 64), torch.randn(2, 5, 64, 64)
    fake = generator(x, torch.randn(2, LATENT_DIM))
    critic(encoder(y, fake)).sum().backward()
    for net in (generator, encoder, critic):
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
