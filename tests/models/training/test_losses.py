"""The loss terms: mean squared error, sigmoid cross-entropy on logits, the pseudo-identity resize."""

import math

import torch

from galtk.models.training.losses import adversarial_loss, content_loss, resize_to_sdss_grid


def test_content_loss_is_the_mean_squared_error_over_every_element() -> None:
    prediction = torch.tensor([[1.0, 2.0], [3.0, -1.0]])
    target = torch.tensor([[0.0, 2.0], [1.0, 1.0]])
    assert content_loss(prediction, target).item() == (1 + 0 + 4 + 4) / 4


def test_adversarial_loss_is_the_mean_sigmoid_cross_entropy_against_the_label() -> None:
    logits = torch.tensor([[0.0, 2.0], [-1.0, 3.0]])
    values = logits.flatten().tolist()
    expected_real = sum(math.log(1 + math.exp(-v)) for v in values) / 4
    expected_generated = sum(math.log(1 + math.exp(v)) for v in values) / 4
    assert math.isclose(adversarial_loss(logits, real=True).item(), expected_real, rel_tol=1e-6)
    assert math.isclose(adversarial_loss(logits, real=False).item(), expected_generated, rel_tol=1e-6)


def test_losses_are_float32_for_half_precision_inputs() -> None:
    values = torch.randn(3, 5, dtype=torch.bfloat16)
    assert content_loss(values, torch.zeros(3, 5)).dtype == torch.float32
    assert adversarial_loss(values, real=True).dtype == torch.float32
    assert (
        resize_to_sdss_grid(torch.randn(1, 1, 136, 136, dtype=torch.bfloat16), (64, 64)).dtype
        == torch.float32
    )


def test_resize_to_sdss_grid_scales_a_flat_image_by_the_pixel_scale_ratio() -> None:
    resized = resize_to_sdss_grid(torch.full((2, 5, 136, 136), 0.5), (64, 64))
    assert resized.shape == (2, 5, 64, 64)
    torch.testing.assert_close(resized, torch.full((2, 5, 64, 64), 0.5 * 0.396 / 0.187))


def test_resize_to_sdss_grid_aligns_the_pixel_centres_of_the_two_grids() -> None:
    """A linear ramp is sampled at CFHT position (j + 0.5) * 136 / 64 - 0.5 for SDSS pixel j."""
    ramp = torch.arange(136, dtype=torch.float32).expand(1, 1, 136, 136)
    resized = resize_to_sdss_grid(ramp, (64, 64))[0, 0, 10]
    columns = torch.arange(1, 63, dtype=torch.float32)
    expected = 0.396 / 0.187 * ((columns + 0.5) * 136 / 64 - 0.5)
    torch.testing.assert_close(resized[1:63], expected)


def test_losses_carry_gradients_to_their_inputs() -> None:
    prediction = torch.randn(2, 5, 8, 8, requires_grad=True)
    logits = torch.randn(2, 5, requires_grad=True)
    (content_loss(prediction, torch.zeros(2, 5, 8, 8)) + adversarial_loss(logits, real=False)).backward()
    torch.testing.assert_close(prediction.grad, 2 * prediction.detach() / prediction.numel())
    torch.testing.assert_close(logits.grad, torch.sigmoid(logits.detach()) / logits.numel())
