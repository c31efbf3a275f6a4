"""One pass over a set of images, a chunk at a time: the per-image numbers and stacked maps of the metrics.

A test set of 2,500 CFHT images is about 1 GB in float32, so :func:`measure_images` never converts more than
``chunk_size`` images to float64 at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import fft

from galtk.errors import EvaluationError
from galtk.models.evaluation import metrics

#: Images converted to float64 and filtered together.
DEFAULT_CHUNK_SIZE = 64

#: Called with the number of images just measured, after every chunk.
ProgressCallback = Callable[[int], None]


@dataclass(frozen=True, eq=False)
class ImageStatistics:
    """Per-image numbers and stacked Fourier maps of a set of N images of C bands, in nanomaggies.

    Attributes
    ----------
    noise_sigma : ndarray, shape (N, C)
        :func:`~galtk.models.evaluation.metrics.noise_sigma` per image and band (nanomaggies per pixel).
    summed_absolute : ndarray, shape (N, C)
        Sum of |pixel| per image and band.
    total_flux, aperture_flux : ndarray, shape (N, C)
        Sum of the pixels, and of the pixels times the aperture weights.
    fourier_amplitude : ndarray, shape (C, H', W')
        Mean over images of |FFT2| of the high-passed images (H' = H - 4), NumPy's order.
    power : ndarray, shape (C, H', W')
        Mean over images of :func:`~galtk.models.evaluation.metrics.power_map` of the high-passed images.
    """

    noise_sigma: np.ndarray
    summed_absolute: np.ndarray
    total_flux: np.ndarray
    aperture_flux: np.ndarray
    fourier_amplitude: np.ndarray
    power: np.ndarray


def measure_images(
    images: np.ndarray,
    *,
    to_nanomaggies: float,
    aperture: np.ndarray,
    label: str = "images",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_progress: ProgressCallback | None = None,
) -> ImageStatistics:
    """Measure every image of a set in one pass.

    Parameters
    ----------
    images : ndarray, shape (N, C, H, W)
        Images in a survey pixel unit (any float dtype; a memory-mapped or zarr-backed array works too).
    to_nanomaggies : float
        Factor from that unit to nanomaggies.
    aperture : ndarray, shape (H, W)
        Aperture weights (:func:`~galtk.models.evaluation.metrics.aperture_weights`).
    label : str, optional
        Name of the set in error messages.
    chunk_size : int, optional
        Images per chunk.
    on_progress : callable, optional
        Called with the number of images of each chunk once it is measured.

    Returns
    -------
    ImageStatistics

    Raises
    ------
    EvaluationError
        If an image holds NaN or infinite values.
    """
    count, bands, height, width = images.shape
    sigma, summed, total, in_aperture = (np.empty((count, bands)) for _ in range(4))
    filtered_shape = (height - 2 * metrics.HIGH_PASS_MARGIN, width - 2 * metrics.HIGH_PASS_MARGIN)
    half_shape = (bands, filtered_shape[0], filtered_shape[1] // 2 + 1)
    amplitude_sum, power_sum = np.zeros(half_shape), np.zeros(half_shape)
    window = metrics.power_window(filtered_shape)
    for start in range(0, count, chunk_size):
        stop = min(start + chunk_size, count)
        chunk = _nanomaggies(images[start:stop], to_nanomaggies, label, start)
        summed[start:stop] = metrics.summed_absolute(chunk)
        total[start:stop] = metrics.total_flux(chunk)
        in_aperture[start:stop] = metrics.aperture_flux(chunk, aperture)
        filtered = metrics.high_pass(chunk)
        sigma[start:stop] = metrics.noise_sigma(chunk)
        amplitude_sum += np.abs(fft.rfft2(filtered)).sum(axis=0)
        power_sum += np.square(np.abs(fft.rfft2(filtered * window))).sum(axis=0)
        if on_progress is not None:
            on_progress(stop - start)
    return ImageStatistics(
        noise_sigma=sigma,
        summed_absolute=summed,
        total_flux=total,
        aperture_flux=in_aperture,
        fourier_amplitude=full_plane(amplitude_sum / count, filtered_shape[1]),
        power=full_plane(power_sum / (count * np.sum(window**2)), filtered_shape[1]),
    )


def measure_difference(
    images: np.ndarray,
    reference: np.ndarray | None,
    *,
    to_nanomaggies: float,
    label: str = "images",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> np.ndarray:
    """Sum over pixels of ``|image - reference|`` per image and band, in nanomaggies (the paper's Fig. 5).

    Parameters
    ----------
    images : ndarray, shape (N, C, H, W)
        Generated images in a survey pixel unit.
    reference : ndarray, shape (N, C, H, W), or None
        The original images in the same unit; None sums ``|image|`` itself (e.g. of Noise Emulator samples,
        the noise amplitude of the figure's reference lines).
    to_nanomaggies : float
        Factor from that unit to nanomaggies.
    label : str, optional
        Name of the set in error messages.
    chunk_size : int, optional
        Images per chunk.

    Returns
    -------
    ndarray, shape (N, C)
    """
    difference = np.empty(images.shape[:2])
    for start in range(0, images.shape[0], chunk_size):
        stop = min(start + chunk_size, images.shape[0])
        chunk = _nanomaggies(images[start:stop], to_nanomaggies, label, start)
        if reference is not None:
            original = _nanomaggies(reference[start:stop], to_nanomaggies, f"originals of {label}", start)
            chunk = chunk - original
        difference[start:stop] = metrics.summed_absolute(chunk)
    return difference


def full_plane(half: np.ndarray, width: int) -> np.ndarray:
    """Expand maps of a Hermitian-symmetric quantity from ``rfft2``'s half plane to the full FFT grid.

    Parameters
    ----------
    half : ndarray, shape (..., H, width // 2 + 1)
        Values at the non-negative x frequencies (e.g. ``|rfft2(image)|``).
    width : int
        W of the full grid.

    Returns
    -------
    ndarray, shape (..., H, W)
        ``full[ky, kx] = half[-ky mod H, W - kx]`` for the negative x frequencies, as ``|fft2(image)|``.
    """
    height = half.shape[-2]
    missing = np.arange(width // 2 + 1, width)
    mirrored_rows = (-np.arange(height)) % height
    mirrored = half[..., mirrored_rows, :][..., width - missing]
    return np.concatenate([half, mirrored], axis=-1)


def _nanomaggies(chunk: np.ndarray, factor: float, label: str, start: int) -> np.ndarray:
    array = np.asarray(chunk, dtype=np.float64)
    finite = np.isfinite(array).all(axis=(1, 2, 3))
    if not finite.all():
        raise EvaluationError(
            f"{label}: image {start + int(np.argmin(finite))} holds NaN or infinite values; "
            "leave invalid objects out of the evaluation"
        )
    return array * factor if factor != 1.0 else array
