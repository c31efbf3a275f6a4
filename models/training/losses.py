"""The loss terms of SPEC section 5: mean squared content losses, sigmoid cross-entropy adversarial losses.

Every function returns a float32 scalar whatever the dtype of its inputs, so a loss computed under
``torch.autocast`` is summed and back-propagated in float32.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SDSS_PIXEL_SCALE = 0.396
"""SDSS pixel scale in arcsec (SPEC section 2)."""

CFHT_PIXEL_SCALE_REFERENCE = 0.187
"""CFHT pixel scale in arcsec as the reference code's pseudo-identity loss uses it (SPEC section 5; the
survey's value is 0.186)."""

PSEUDO_IDENTITY_FLUX_FACTOR = SDSS_PIXEL_SCALE / CFHT_PIXEL_SCALE_REFERENCE
"""Factor on CFHT-grid images resized onto the SDSS grid in the pseudo-identity loss: 0.396 / 0.187."""


def content_loss(
    prediction: torch.Tensor, target: torch.Tensor, sigma: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean squared error over every element, in float32; in units of the noise variance if ``sigma``.

    Parameters
    ----------
    prediction, target : torch.Tensor
        Tensors of the same shape (B, C, H, W).
    sigma : torch.Tensor, optional
        Noise sigma of each band (C,) of the target's survey: the squared error of band b is divided by
        ``sigma[b] ** 2`` (a chi-square per pixel; 1 = an error as large as the noise). None: plain MSE.

    Returns
    -------
    torch.Tensor
        Scalar ``mean((prediction - target) ** 2 / sigma ** 2)``.
    """
    if sigma is None:
        return F.mse_loss(prediction.float(), target.float())
    weight = sigma.float().reshape(1, -1, 1, 1).pow(-2)
    return ((prediction.float() - target.float()).square() * weight).mean()


def adversarial_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """Sigmoid cross-entropy of logits against the label "real" (1) or "generated" (0), averaged.

    The mean runs over every logit: batch and bands for the per-band discriminator (B, C), batch and patches
    for PatchGAN (B, 1, h, w), batch for the latent discriminators (B, 1). This is TensorFlow's
    ``reduce_mean(sigmoid_cross_entropy_with_logits(...))`` of the reference code.

    Parameters
    ----------
    logits : torch.Tensor
        Discriminator outputs.
    real : bool
        Target label: True for 1 ("real"), False for 0 ("generated").

    Returns
    -------
    torch.Tensor
        Scalar loss in float32.
    """
    logits = logits.float()
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def resize_to_sdss_grid(cfht_images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """CFHT-grid images resized bilinearly onto the SDSS grid and scaled by 0.396 / 0.187.

    Used by the pseudo-identity loss (method c) to compare a CFHT-size image with an SDSS-size one. Both
    grids span the same 25.3" field, so the resampling aligns the grids' outer edges (pixel centres at
    half-pixel offsets, ``align_corners=False``; no antialiasing, as in a plain bilinear resize). The
    reference code's TensorFlow 1 ``resize_images`` samples input position ``i * 136 / 64`` instead, which
    shifts the resized image by about a quarter of an SDSS pixel; galtk keeps the grids aligned. The factor
    is the reference code's "conservation of integrated rescaled fluxes": a SDSS pixel is 0.396 / 0.187
    CFHT pixels wide, and the signed square root of SPEC section 3 turns the area ratio into roughly that
    linear ratio for bright pixels.

    Parameters
    ----------
    cfht_images : torch.Tensor
        (B, C, H, W) images on the CFHT grid (136 x 136 px at full size).
    size : tuple of int
        (height, width) of the SDSS grid (64 x 64 px at full size).

    Returns
    -------
    torch.Tensor
        (B, C, size[0], size[1]) float32 images.
    """
    resized = F.interpolate(cfht_images.float(), size=size, mode="bilinear", align_corners=False)
    return PSEUDO_IDENTITY_FLUX_FACTOR * resized
