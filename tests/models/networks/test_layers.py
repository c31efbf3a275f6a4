"""Shared spatial blocks: width scaling, conv + LeakyReLU, odd-size pooling, upsampling, symmetric padding."""

import numpy as np
import pytest
import torch

from galtk.models.networks.layers import (
    LEAKY_SLOPE,
    ConvLeaky,
    HalvingAvgPool,
    NearestUpsample,
    SymmetricPad,
    scaled_width,
    upsampler,
)


def _hand_pooled(image: np.ndarray) -> np.ndarray:
    """2x2/stride-2 means over the real pixels of each window, windows clipped at the far edges."""
    rows, cols = -(-image.shape[0] // 2), -(-image.shape[1] // 2)
    out = np.empty((rows, cols))
    for i in range(rows):
        for j in range(cols):
            out[i, j] = image[2 * i : 2 * i + 2, 2 * j : 2 * j + 2].mean()
    return out


@pytest.mark.parametrize(
    ("channels", "width", "multiple", "expected"),
    [
        (64, 1.0, 1, 64),
        (64, 0.1, 1, 6),
        (64, 0.001, 1, 1),
        (256, 0.1, 4, 24),
        (128, 0.01, 4, 4),
        (32, 0.5, 1, 16),
    ],
)
def test_scaled_width_rounds_and_keeps_a_minimum(
    channels: int, width: float, multiple: int, expected: int
) -> None:
    assert scaled_width(channels, width, multiple) == expected


def test_scaled_width_rejects_non_positive_width() -> None:
    with pytest.raises(ValueError, match="positive"):
        scaled_width(64, 0.0)


def test_pooling_averages_only_real_pixels_at_odd_edges() -> None:
    image = np.arange(17 * 17, dtype=np.float64).reshape(17, 17) ** 1.5
    pooled = HalvingAvgPool()(torch.from_numpy(image)[None, None])[0, 0].numpy()
    assert pooled.shape == (9, 9)
    np.testing.assert_allclose(pooled, _hand_pooled(image), rtol=1e-12)
    # The last row of windows holds one real row: its mean, not half of it (no zero padding counted).
    assert pooled[8, 0] == pytest.approx(image[16, 0:2].mean())
    assert pooled[8, 8] == pytest.approx(image[16, 16])


def test_pooling_of_ones_stays_one_everywhere() -> None:
    pooled = HalvingAvgPool()(torch.ones(1, 1, 33, 17))
    assert pooled.shape == (1, 1, 17, 9)
    assert torch.equal(pooled, torch.ones_like(pooled))


@pytest.mark.parametrize(
    ("size", "chain"), [(136, [68, 34, 17, 9]), (132, [66, 33, 17, 9]), (60, [30, 15, 8, 4])]
)
def test_pooling_chains_round_up(size: int, chain: list[int]) -> None:
    x = torch.randn(1, 2, size, size, dtype=torch.float64)
    pool = HalvingAvgPool()
    for expected in chain:
        reference = _hand_pooled(x[0, 1].numpy())
        x = pool(x)
        assert x.shape[-2:] == (expected, expected)
        np.testing.assert_allclose(x[0, 1].numpy(), reference, rtol=1e-12)


def test_nearest_upsampling_repeats_each_pixel_twice() -> None:
    x = torch.arange(6.0).reshape(1, 1, 2, 3)
    expected = x.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)
    assert torch.equal(NearestUpsample()(x), expected)


def test_symmetric_pad_matches_numpy_symmetric_mode() -> None:
    x = torch.randn(2, 3, 5, 4)
    expected = np.pad(x.numpy(), ((0, 0), (0, 0), (2, 2), (2, 2)), mode="symmetric")
    assert np.array_equal(SymmetricPad(2)(x).numpy(), expected)


def test_symmetric_pad_repeats_the_edge_pixel() -> None:
    row = torch.tensor([[[[1.0, 2.0, 3.0]]]])
    assert SymmetricPad(2)(row)[0, 0, 2].tolist() == [2.0, 1.0, 1.0, 2.0, 3.0, 3.0, 2.0]


def test_conv_leaky_same_and_valid_sizes_and_slope() -> None:
    same, valid = ConvLeaky(3, 4, 5), ConvLeaky(3, 4, 5, padding="valid")
    x = torch.randn(2, 3, 12, 10)
    assert same(x).shape == (2, 4, 12, 10)
    assert valid(x).shape == (2, 4, 8, 6)
    conv = same[0]
    pre = conv(x)
    assert torch.allclose(same(x), torch.where(pre > 0, pre, LEAKY_SLOPE * pre))


def test_conv_leaky_rejects_even_kernels() -> None:
    with pytest.raises(ValueError, match="odd"):
        ConvLeaky(1, 1, 4)


def test_upsampler_choice() -> None:
    x = torch.randn(1, 8, 3, 3)
    assert upsampler(False)(x).shape == (1, 8, 6, 6)
    assert upsampler(True)(x).shape == (1, 2, 6, 6)
