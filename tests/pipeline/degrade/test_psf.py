"""PSF images and matching kernels, against the analytic convolution of two Gaussians."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import fftconvolve

from galtk.pipeline.degrade.psf import FWHM_PER_SIGMA, kernel_size, matching_kernel, psf_image


def _moment_fwhm(image: np.ndarray) -> float:
    """FWHM of a Gaussian from the second moments of its image."""
    y, x = np.indices(image.shape, dtype=np.float64)
    total = image.sum()
    cy, cx = (image * y).sum() / total, (image * x).sum() / total
    variance = (image * ((y - cy) ** 2 + (x - cx) ** 2)).sum() / total / 2
    return float(np.sqrt(variance) * FWHM_PER_SIGMA)


@pytest.mark.parametrize("profile", ["gaussian", "moffat"])
def test_psf_images_have_unit_sum_and_their_fwhm(profile: str) -> None:
    image = psf_image(profile, 4.0, 61)
    assert image.sum() == pytest.approx(1.0)
    assert np.unravel_index(image.argmax(), image.shape) == (30, 30)
    half = image.max() / 2  # the profile along a row crosses half maximum 2 px from the centre
    row = image[30]
    crossing = 30 + np.interp(half, row[30:40][::-1], np.arange(10)[::-1].astype(float))
    assert crossing - 30 == pytest.approx(2.0, abs=0.1)


def test_gaussian_to_gaussian_is_the_analytic_convolution() -> None:
    kernel = matching_kernel(3.0, 5.0, "gaussian")
    assert kernel.sum() == pytest.approx(1.0)
    # the convolution of Gaussians of FWHM 3 and 4 px is the Gaussian of FWHM 5 px
    assert _moment_fwhm(np.pad(kernel, 20)) == pytest.approx(4.0, rel=0.01)
    matched = fftconvolve(psf_image("gaussian", 3.0, 81), kernel, mode="same")
    target = psf_image("gaussian", 5.0, 81)
    assert np.abs(matched - target).max() < 1e-3 * target.max()


@pytest.mark.parametrize(("current", "target"), [(3.0, 3.3), (3.0, 4.5), (2.5, 7.0)])
def test_a_gaussian_psf_becomes_the_moffat_target(current: float, target: float) -> None:
    kernel = matching_kernel(current, target, "moffat")
    matched = fftconvolve(psf_image("gaussian", current, 81), kernel, mode="same")
    wanted = psf_image("moffat", target, 81)
    assert np.abs(matched - wanted).max() < 0.01 * wanted.max()


def test_a_kernel_never_sharpens_and_sizes_are_odd() -> None:
    with pytest.raises(ValueError, match="must be wider"):
        matching_kernel(3.0, 3.0, "gaussian")
    with pytest.raises(ValueError, match="odd size"):
        psf_image("gaussian", 3.0, 10)
    sizes = [kernel_size(fwhm, profile) for fwhm in (0.5, 3.3, 7.9) for profile in ("gaussian", "moffat")]
    assert all(size % 2 == 1 for size in sizes)
