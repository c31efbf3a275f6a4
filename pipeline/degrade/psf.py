"""PSF images and the kernels that match one PSF to a worse one.

A cutout observed with PSF ``P`` becomes one observed with PSF ``T`` when convolved with the kernel ``K`` that
solves ``P * K = T`` (for two Gaussians, the Gaussian of ``sigma_K^2 = sigma_T^2 - sigma_P^2``). The kernel
is found for both profiles by photutils' Fourier-ratio matching (``photutils.psf_matching.make_kernel``) of
the two pixel-integrated PSF images, without a window: the PSFs are analytic, not noisy measurements, and a
window only blurs the match (a split cosine bell left 21 % of the peak as error for a Moffat target 1.5
times wider, none 0.6 %).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.special import erf

PsfProfile = Literal["gaussian", "moffat"]
PSF_PROFILES: tuple[str, ...] = ("gaussian", "moffat")
FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))

#: Moffat index of a Moffat target: a wing heavier than a Gaussian's, as ground-based seeing has.
MOFFAT_BETA = 2.5
#: Samples per pixel side when a Moffat profile is integrated over pixels.
OVERSAMPLING = 5


def psf_image(profile: str, fwhm_px: float, size: int, beta: float = MOFFAT_BETA) -> np.ndarray:
    """A centred PSF of unit sum on a ``size`` x ``size`` grid (odd), integrated over each pixel.

    A Gaussian is integrated exactly (a product of error-function differences); a Moffat profile is averaged
    over 5 x 5 samples of each pixel.

    Parameters
    ----------
    profile : {"gaussian", "moffat"}
        The PSF's radial profile.
    fwhm_px : float
        Its full width at half maximum, in pixels.
    size : int
        Side of the image (odd, so that the centre is a pixel's centre).
    beta : float
        Moffat index (``moffat`` only).

    Returns
    -------
    ndarray of shape (size, size), float64
    """
    if size % 2 != 1:
        raise ValueError(f"a PSF image needs an odd size, got {size}")
    if not fwhm_px > 0:
        raise ValueError(f"a PSF needs a positive FWHM, got {fwhm_px}")
    edges = np.arange(size + 1) - size / 2  # pixel edges, the centre pixel on 0
    if profile == "gaussian":
        sigma = fwhm_px / FWHM_PER_SIGMA
        line = np.diff(erf(edges / (sigma * np.sqrt(2.0))))
        image = np.outer(line, line)
    elif profile == "moffat":
        gamma = fwhm_px / (2.0 * np.sqrt(2.0 ** (1.0 / beta) - 1.0))
        samples = (np.arange(size * OVERSAMPLING) + 0.5) / OVERSAMPLING - size / 2
        fine = (1.0 + (samples[:, None] ** 2 + samples[None, :] ** 2) / gamma**2) ** -beta
        image = fine.reshape(size, OVERSAMPLING, size, OVERSAMPLING).mean(axis=(1, 3))
    else:
        raise ValueError(f"unknown PSF profile {profile!r}; known: {', '.join(PSF_PROFILES)}")
    return image / image.sum()


def kernel_size(fwhm_px: float, profile: str) -> int:
    """An odd kernel side holding the target PSF's wings: 4 FWHM (Gaussian) or 8 FWHM (Moffat), at least 7."""
    side = int(np.ceil((4.0 if profile == "gaussian" else 8.0) * fwhm_px))
    return max(7, side + 1 - side % 2)


def matching_kernel(current_fwhm_px: float, target_fwhm_px: float, profile: str) -> np.ndarray:
    """The unit-sum kernel taking a Gaussian PSF of ``current_fwhm_px`` to ``profile`` of ``target_fwhm_px``.

    Parameters
    ----------
    current_fwhm_px : float
        FWHM of the cutout's PSF (modelled as a Gaussian), pixels.
    target_fwhm_px : float
        FWHM of the target PSF, pixels; must be larger.
    profile : {"gaussian", "moffat"}
        The target's profile.

    Returns
    -------
    ndarray, float64, odd square

    Raises
    ------
    ValueError
        If the target is not wider than the current PSF (a kernel cannot sharpen an image).
    """
    if not target_fwhm_px > current_fwhm_px:
        raise ValueError(
            f"the target PSF (FWHM {target_fwhm_px:.3g} px) must be wider than the cutout's "
            f"({current_fwhm_px:.3g} px)"
        )
    size = kernel_size(target_fwhm_px, profile)
    from photutils.psf_matching import make_kernel

    current, target = psf_image("gaussian", current_fwhm_px, size), psf_image(profile, target_fwhm_px, size)
    kernel = make_kernel(current, target)
    return kernel / kernel.sum()
