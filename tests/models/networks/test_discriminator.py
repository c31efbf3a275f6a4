"""The per-band Discriminator of Fig. 2 (d): independent sub-discriminators on high-passed bands."""

import pytest
import torch

from galtk.models.networks.discriminator import BandDiscriminator

TINY = 1 / 16


def test_parameter_count_equals_spec() -> None:
    with torch.device("meta"):
        assert sum(p.numel() for p in BandDiscriminator().parameters()) == 3_859_845
        assert sum(p.numel() for p in BandDiscriminator(bands=1).parameters()) == 771_969


@pytest.mark.parametrize("size", [64, 136])
def test_one_logit_per_band(size: int) -> None:
    logits = BandDiscriminator(width=TINY)(torch.randn(3, 5, size, size))
    assert logits.shape == (3, 5)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("size", [64, 136])
def test_sub_discriminators_are_independent(size: int) -> None:
    net = BandDiscriminator(width=TINY)
    x = torch.randn(2, 5, size, size, requires_grad=True)
    logits = net(x)
    for p in range(5):
        (grad,) = torch.autograd.grad(logits[:, p].sum(), x, retain_graph=True)
        for q in range(5):
            if q == p:
                assert grad[:, q].abs().sum() > 0
            else:
                assert torch.count_nonzero(grad[:, q]) == 0


def test_grouped_bands_equal_separate_single_band_discriminators() -> None:
    grouped = BandDiscriminator(bands=3, width=TINY, init="pytorch")
    x = torch.randn(2, 3, 64, 64)
    logits = grouped(x)
    for band in range(3):
        single = BandDiscriminator(bands=1, width=TINY)
        with torch.no_grad():
            for mine, theirs in zip(single.parameters(), grouped.parameters(), strict=True):
                mine.copy_(theirs.chunk(3, dim=0)[band])
        assert torch.allclose(single(x[:, band : band + 1])[:, 0], logits[:, band], rtol=1e-4, atol=1e-5)


def test_logits_ignore_constants_and_ramps_added_to_a_band() -> None:
    net = BandDiscriminator(width=TINY)
    x = torch.randn(2, 5, 64, 64, dtype=torch.float64)
    axis = torch.arange(64, dtype=torch.float64)
    offset = 3.0 + 0.05 * axis[None, :] - 0.02 * axis[:, None]
    net = net.double()
    assert torch.allclose(net(x + offset), net(x), atol=1e-8)


def test_fourier_part_runs_in_float32_under_bf16_autocast() -> None:
    net = BandDiscriminator(width=TINY)
    x = torch.randn(2, 5, 136, 136)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = net(x)
    reference = net(x)
    assert torch.isfinite(mixed).all()
    assert (mixed.float() - reference).norm() <= 0.1 * reference.norm()


def test_forward_backward_reaches_every_parameter() -> None:
    net = BandDiscriminator(width=TINY)
    net(torch.randn(2, 5, 136, 136)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
