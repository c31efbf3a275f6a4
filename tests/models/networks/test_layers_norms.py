"""Instance normalisation without affine parameters, and the conditional one of AugCGAN."""

import torch
import torch.nn.functional as F

from galtk.models.networks.layers import ConditionalInstanceNorm, InstanceNorm, normalize_instances


def test_instance_norm_gives_zero_mean_unit_variance_per_image_and_channel() -> None:
    x = 3.0 + 2.0 * torch.randn(4, 3, 16, 16, dtype=torch.float64)
    y = InstanceNorm()(x)
    assert torch.allclose(y.mean(dim=(2, 3)), torch.zeros(4, 3, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(y.var(dim=(2, 3), correction=0), torch.ones(4, 3, dtype=torch.float64), atol=1e-5)
    assert not list(InstanceNorm().parameters())


def test_instance_norm_matches_torch_and_keeps_channels_last() -> None:
    x = torch.randn(2, 4, 8, 8).to(memory_format=torch.channels_last)
    y = normalize_instances(x)
    assert torch.allclose(y, F.instance_norm(x.contiguous(), eps=1e-5), atol=1e-5)
    assert y.is_contiguous(memory_format=torch.channels_last)


def test_conditional_instance_norm_rescales_with_latent_statistics() -> None:
    norm = ConditionalInstanceNorm(channels=3, latent_dim=2)
    x, z = torch.randn(5, 3, 6, 6), torch.randn(5, 2)
    y = norm(x, z)
    shift = norm.mean(z)
    scale = F.softplus(norm.std(z))
    assert torch.allclose(y.mean(dim=(2, 3)), shift, atol=1e-5)
    assert torch.allclose(y.std(dim=(2, 3), correction=0), scale, rtol=1e-3)
    assert sum(p.numel() for p in norm.parameters()) == 2 * 3 * (2 + 1)
