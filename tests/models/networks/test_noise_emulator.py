"""The Noise Emulator of Fig. 2 (e): seeded, content-blind, amplitude-linear, band-independent noise."""

import pytest
import torch
from torch import nn

from galtk.models.networks.noise_emulator import NoiseEmulator


def _with_fixed_amplitude(net: NoiseEmulator, amplitudes: list[float]) -> NoiseEmulator:
    """Make the amplitude networks constant: zero weights, last bias = softplus^-1(amplitude)."""
    with torch.no_grad():
        for layer in net.amplitude_net:
            if hasattr(layer, "weight"):
                layer.weight.zero_()
        target = torch.tensor(amplitudes)
        net.amplitude_net[-1].bias.copy_(torch.log(torch.expm1(target))[:, None])
    return net


def test_parameter_counts_stored_and_free() -> None:
    with torch.device("meta"):
        net = NoiseEmulator()
    assert sum(p.numel() for p in net.parameters()) == 22_010
    assert net.stored_parameter_count == 22_010
    assert net.free_parameter_count == 21_815
    assert net.filter.kernel.numel() == 245


@pytest.mark.parametrize("size", [64, 136])
def test_noise_has_the_image_shape_and_seeds_are_six_pixels_larger(size: int) -> None:
    net = NoiseEmulator(width=0.25)
    z1, z2 = net.draw_seeds(3, (size, size))
    assert z1.shape == (3, 5) and z2.shape == (3, 5, size + 6, size + 6)
    assert net(z1, z2).shape == (3, 5, size, size)
    assert net.sample_like(torch.zeros(3, 5, size, size)).shape == (3, 5, size, size)


def test_noise_depends_on_the_generator_seed_only_not_on_content() -> None:
    net = NoiseEmulator(width=0.25)
    galaxy = torch.zeros(2, 5, 64, 64)
    galaxy[:, :, 28:36, 28:36] = 50.0
    blank = net.sample_like(torch.zeros(2, 5, 64, 64), torch.Generator().manual_seed(3))
    bright = net.sample_like(galaxy, torch.Generator().manual_seed(3))
    other_seed = net.sample_like(galaxy, torch.Generator().manual_seed(4))
    assert torch.equal(blank, bright)
    assert not torch.allclose(bright, other_seed)
    assert other_seed.std().item() == pytest.approx(bright.std().item(), rel=0.2)


def test_noise_follows_the_dtype_of_the_images() -> None:
    net = NoiseEmulator(width=0.25).double()
    noise = net.sample_like(torch.zeros(1, 5, 16, 16, dtype=torch.float64), torch.Generator().manual_seed(0))
    assert noise.dtype == torch.float64


def test_noise_std_is_amplitude_times_filter_norm() -> None:
    amplitudes = [0.01, 0.1, 0.5, 1.0, 3.0]
    net = _with_fixed_amplitude(NoiseEmulator(width=0.25), amplitudes)
    with torch.no_grad():
        assert torch.allclose(net.amplitudes(torch.randn(4, 5)), torch.tensor(amplitudes).expand(4, 5))
        noise = net.sample(4, (136, 136), generator=torch.Generator().manual_seed(1))
        filter_norm = net.filter.symmetric_kernel().flatten(1).norm(dim=1)
    measured = noise.std(dim=(0, 2, 3))
    expected = torch.tensor(amplitudes) * filter_norm
    assert torch.allclose(measured, expected, rtol=0.05)


def test_noise_scales_linearly_with_amplitude() -> None:
    net = _with_fixed_amplitude(NoiseEmulator(width=0.25), [0.2] * 5)
    doubled = _with_fixed_amplitude(NoiseEmulator(width=0.25), [0.4] * 5)
    with torch.no_grad():
        doubled.filter.kernel.copy_(net.filter.kernel)
        base = net.sample(2, (64, 64), generator=torch.Generator().manual_seed(9))
        twice = doubled.sample(2, (64, 64), generator=torch.Generator().manual_seed(9))
    assert torch.allclose(twice, 2.0 * base, rtol=1e-5, atol=1e-7)


def test_bands_are_independent() -> None:
    net = NoiseEmulator(width=0.25)
    z1, z2 = net.draw_seeds(2, (32, 32), generator=torch.Generator().manual_seed(0))
    z1b, z2b = z1.clone(), z2.clone()
    z1b[:, 1] += 5.0
    z2b[:, 1] = torch.randn_like(z2b[:, 1])
    with torch.no_grad():
        a, b = net(z1, z2), net(z1b, z2b)
    assert torch.equal(a[:, [0, 2, 3, 4]], b[:, [0, 2, 3, 4]])
    assert not torch.allclose(a[:, 1], b[:, 1])


def test_forward_backward_reaches_every_parameter() -> None:
    net = NoiseEmulator(width=0.25)
    net.sample(2, (64, 64)).square().mean().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)
    assert isinstance(net.amplitude_net[1], nn.LeakyReLU)
