"""Per-band blocks: grouped linear layers, channel attention (ACM), global avg/max/min pooling."""

import torch
from torch import nn

from galtk.models.networks.grouped import ChannelAttention, GroupedLinear, global_avg_max_min


def test_grouped_linear_equals_separate_linear_layers() -> None:
    layer = GroupedLinear(3, 4, 2)
    x = torch.randn(5, 3, 4)
    out = layer(x)
    assert out.shape == (5, 3, 2)
    for g in range(3):
        separate = nn.Linear(4, 2)
        with torch.no_grad():
            separate.weight.copy_(layer.weight[g])
            separate.bias.copy_(layer.bias[g])
        assert torch.allclose(out[:, g], separate(x[:, g]), atol=1e-6)


def test_grouped_linear_has_as_many_parameters_as_separate_layers() -> None:
    assert sum(p.numel() for p in GroupedLinear(5, 576, 32).parameters()) == 5 * (576 * 32 + 32)


def test_channel_attention_gates_with_sigmoid_of_fc_of_channel_means() -> None:
    attention = ChannelAttention(2, 3)
    x = torch.randn(4, 6, 5, 5)
    means = x.mean(dim=(2, 3)).reshape(4, 2, 3)
    gates = torch.sigmoid(torch.einsum("bgi,goi->bgo", means, attention.fc.weight) + attention.fc.bias)
    assert torch.allclose(attention(x), x * gates.reshape(4, 6, 1, 1), atol=1e-6)


def test_channel_attention_keeps_groups_apart() -> None:
    attention = ChannelAttention(2, 3)
    x = torch.randn(1, 6, 4, 4, requires_grad=True)
    attention(x)[:, :3].sum().backward()
    assert x.grad is not None
    assert torch.count_nonzero(x.grad[:, 3:]) == 0
    assert torch.count_nonzero(x.grad[:, :3]) > 0


def test_global_pooling_orders_avg_max_min_per_group() -> None:
    x = torch.randn(2, 6, 3, 4)
    pooled = global_avg_max_min(x, groups=2)
    assert pooled.shape == (2, 2, 9)
    for g in range(2):
        block = x[:, 3 * g : 3 * g + 3]
        assert torch.allclose(pooled[:, g, 0:3], block.mean(dim=(2, 3)))
        assert torch.equal(pooled[:, g, 3:6], block.amax(dim=(2, 3)))
        assert torch.equal(pooled[:, g, 6:9], block.amin(dim=(2, 3)))
