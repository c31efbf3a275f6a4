"""GalaxyGAN's pix2pix networks: the U-Net generator and the conditional PatchGAN."""

import pytest
import torch

from galtk.models.networks.pix2pix import ConditionalPatchGan, UNetGenerator

TINY = 1 / 16


def _conv(c_in: int, c_out: int, k: int = 4) -> int:
    return c_in * c_out * k * k + c_out


def test_parameter_counts_follow_the_pix2pix_formula() -> None:
    # U-Net of depth 6 (ngf 64, capped at 512): encoder 5-64-128-256-512-512-512, decoder back with skips
    encoder = _conv(5, 64) + _conv(64, 128) + _conv(128, 256) + _conv(256, 512) + 2 * _conv(512, 512)
    decoder = _conv(512, 512) + _conv(1024, 512) + _conv(1024, 256) + _conv(512, 128) + _conv(256, 64)
    decoder += _conv(128, 5)
    assert sum(p.numel() for p in UNetGenerator().parameters()) == encoder + decoder == 29_247_877
    # the 70x70 PatchGAN of SPEC section 4 on 10 channels (the condition and the image)
    patchgan = _conv(10, 64) + _conv(64, 128) + _conv(128, 256) + _conv(256, 512) + _conv(512, 1)
    assert sum(p.numel() for p in ConditionalPatchGan().parameters()) == patchgan == 2_771_905


def test_several_surveys_in_change_only_the_first_layers() -> None:
    # 13 input bands (e.g. DSS2 3 + 2MASS 3 + GALEX 2 + 5 more) to 5: only the layers reading the input grow
    unet = UNetGenerator(bands=5, in_bands=13)
    assert sum(p.numel() for p in unet.parameters()) == 29_247_877 + (13 - 5) * 64 * 16
    patchgan = ConditionalPatchGan(bands=5, in_bands=13)
    assert sum(p.numel() for p in patchgan.parameters()) == 2_771_905 + (13 - 5) * 64 * 16
    torch.manual_seed(0)
    small = UNetGenerator(bands=5, width=TINY, in_bands=8)
    assert small(torch.randn(2, 8, 64, 64)).shape == (2, 5, 64, 64)
    judge = ConditionalPatchGan(bands=5, width=TINY, in_bands=8)
    assert judge(torch.randn(2, 8, 64, 64), torch.randn(2, 5, 64, 64)).shape == (2, 1, 8, 8)


@pytest.mark.parametrize("size", [64, 136, 50])
def test_unet_keeps_any_size_and_its_dropout_is_off_in_eval_mode(size: int) -> None:
    torch.manual_seed(0)
    net = UNetGenerator(bands=3, width=TINY)
    x = torch.randn(2, 3, size, size)
    net.train()
    assert net(x).shape == x.shape
    net.eval()
    with torch.no_grad():
        assert torch.equal(net(x), net(x))


def test_unet_output_reacts_to_a_single_input_pixel_at_that_pixel() -> None:
    torch.manual_seed(1)
    net = UNetGenerator(bands=1, width=TINY).eval()
    x = torch.randn(1, 1, 64, 64)
    poked = x.clone()
    poked[0, 0, 20, 41] += 10.0
    with torch.no_grad():
        change = (net(poked) - net(x)).abs()[0, 0]
    # the outermost skip connection carries full-resolution detail: the change peaks within 3 px of the pixel
    y, x_ = divmod(int(change.argmax()), 64)
    assert abs(y - 20) <= 3 and abs(x_ - 41) <= 3
    assert change[17:24, 38:45].max() > 10 * change.median()


def test_conditional_patchgan_judges_the_pair() -> None:
    torch.manual_seed(2)
    net = ConditionalPatchGan(bands=2, width=TINY)
    condition, image = torch.randn(3, 2, 64, 64), torch.randn(3, 2, 64, 64)
    logits = net(condition, image)
    assert logits.shape == (3, 1, 8, 8)
    assert not torch.allclose(net(torch.randn_like(condition), image), logits)
