"""The fixed high-pass filter (Fig. 2 (g)) and the 8-fold symmetric filter (Fig. 2 (f))."""

import pytest
import torch

from galtk.models.networks.filters import (
    HIGH_PASS_KERNEL,
    HighPassFilter,
    SymmetricFilter,
    expand_free_weights,
    orbit_count,
    orbit_indices,
)

FIGURE_2F = [
    [9, 8, 7, 6, 7, 8, 9],
    [8, 5, 4, 3, 4, 5, 8],
    [7, 4, 2, 1, 2, 4, 7],
    [6, 3, 1, 0, 1, 3, 6],
    [7, 4, 2, 1, 2, 4, 7],
    [8, 5, 4, 3, 4, 5, 8],
    [9, 8, 7, 6, 7, 8, 9],
]


def _grid(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    axis = torch.arange(size, dtype=torch.float64)
    return torch.meshgrid(axis, axis, indexing="ij")


def test_high_pass_kernel_is_figure_2g() -> None:
    assert HIGH_PASS_KERNEL[0] == (-1.0, 3.0, -4.0, 3.0, -1.0)
    assert HIGH_PASS_KERNEL[2] == (-4.0, 10.0, -12.0, 10.0, -4.0)
    kernel = torch.tensor(HIGH_PASS_KERNEL)
    assert torch.equal(kernel, kernel.T) and torch.equal(kernel, kernel.flip(0))


@pytest.mark.parametrize(("size", "filtered"), [(136, 132), (64, 60)])
def test_high_pass_is_valid_per_band(size: int, filtered: int) -> None:
    assert HighPassFilter()(torch.randn(2, 5, size, size)).shape == (2, 5, filtered, filtered)


def test_high_pass_kills_constants_and_linear_ramps() -> None:
    y, x = _grid(20)
    images = torch.stack([torch.full_like(x, 7.5), 0.3 * x - 2.0, -1.7 * y, 2.0 * x + 5.0 * y + 1.0, x * y])
    filtered = HighPassFilter()(images[None])
    assert filtered.abs().max() < 1e-9


def test_high_pass_keeps_noise_and_treats_bands_separately() -> None:
    noise = torch.randn(1, 2, 20, 20, dtype=torch.float64)
    images = noise.clone()
    images[0, 1] = 0.0
    filtered = HighPassFilter()(images)
    assert filtered[0, 0].std() > 10 * noise[0, 0].std()
    assert torch.count_nonzero(filtered[0, 1]) == 0


def test_orbits_are_the_ten_labels_of_figure_2f() -> None:
    assert orbit_indices(7).tolist() == FIGURE_2F
    assert orbit_count(7) == 10
    assert orbit_count(3) == 3


def test_symmetric_filter_is_invariant_under_rotations_and_mirrors() -> None:
    kernel = SymmetricFilter(bands=5).symmetric_kernel().detach()
    assert kernel.shape == (5, 7, 7)
    for transformed in (
        torch.rot90(kernel, 1, (1, 2)),
        torch.rot90(kernel, 2, (1, 2)),
        torch.rot90(kernel, 3, (1, 2)),
        kernel.flip(1),
        kernel.flip(2),
        kernel.transpose(1, 2),
    ):
        assert torch.equal(transformed, kernel)
    assert len(torch.unique(kernel[0])) == 10


def test_symmetric_filter_averages_raw_values_over_each_orbit() -> None:
    filt = SymmetricFilter(bands=2)
    raw = filt.kernel.detach()
    transforms = [torch.rot90(raw, k, (1, 2)) for k in range(4)]
    transforms += [t.transpose(1, 2) for t in transforms]
    group_average = torch.stack(transforms).mean(dim=0)
    assert torch.allclose(filt.symmetric_kernel(), group_average, atol=1e-7)


def test_free_weights_round_trip_and_count() -> None:
    filt = SymmetricFilter(bands=5)
    free = filt.free_weights()
    assert free.shape == (5, 10)
    assert filt.free_parameter_count == 50
    assert torch.equal(expand_free_weights(free), filt.symmetric_kernel())
    assert filt.kernel.numel() == 245


def test_symmetric_filter_applies_one_valid_filter_per_band() -> None:
    filt = SymmetricFilter(bands=2)
    x = torch.zeros(1, 2, 13, 13)
    x[0, 1, 6, 6] = 1.0
    out = filt(x)
    assert out.shape == (1, 2, 7, 7)
    assert torch.count_nonzero(out[0, 0]) == 0
    assert torch.allclose(out[0, 1], filt.symmetric_kernel()[1].flip(0, 1))


def test_symmetric_filter_gradient_reaches_every_raw_value() -> None:
    filt = SymmetricFilter(bands=1)
    filt(torch.randn(1, 1, 10, 10)).square().sum().backward()
    assert filt.kernel.grad is not None
    assert torch.count_nonzero(filt.kernel.grad) == 49
