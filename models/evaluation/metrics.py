"""The numbers of ``galtk evaluate``, as functions of image arrays (definitions in docs/metrics.md).

Every function takes images as NumPy arrays whose last two axes are (y, x) -- typically (N, C, H, W) -- and
reduces or transforms those two axes, so it works on one image, a band, a batch or a whole test set. Fluxes
are in nanomaggies (AB magnitude zero point 22.5) unless a function says otherwise. Computations are done in
float64.

Paper metrics (SPEC section 7):

- global shape: :func:`summed_absolute` of ``generated - original`` against that of ``original``, with the
  reference noise level of :func:`expected_summed_noise_amplitude`;
- local fluctuations: :func:`high_pass`, then :func:`fourier_amplitude`, stacked (averaged) over images.

Astronomers' checks: :func:`noise_sigma` (the per-pixel background sigma: MAD of the pixels off sources),
:func:`high_passed_sigma` (the noise the discriminators see), :func:`radial_power_spectrum`,
:func:`total_flux`, :func:`aperture_flux` and :func:`magnitude`.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import ndimage

from galtk.models.networks.filters import HIGH_PASS_KERNEL

#: 1 / Phi^-1(3/4): turns a median absolute deviation into the standard deviation of a Gaussian.
MAD_TO_SIGMA: float = 1.482602218505602
#: Standard deviation of the high-passed image of unit white noise: sqrt(sum of squared filter weights).
HIGH_PASS_NOISE_GAIN: float = math.sqrt(sum(weight * weight for row in HIGH_PASS_KERNEL for weight in row))
#: Margin the valid 5x5 high-pass filter removes on each side of an image.
HIGH_PASS_MARGIN: int = len(HIGH_PASS_KERNEL) // 2
#: The high-pass kernel as two separable terms (b, a): ``HIGH_PASS_KERNEL = outer(b, b) - outer(a, a)``.
HIGH_PASS_SEPARABLE: tuple[tuple[float, ...], tuple[float, ...]] = (
    (0.0, 1.0, -2.0, 1.0, 0.0),
    (1.0, -3.0, 4.0, -3.0, 1.0),
)
#: Source mask of :func:`noise_sigma`: smoothing (px), threshold (sigma of the smoothed image), growth (px).
SOURCE_SMOOTHING_PX: float = 1.5
SOURCE_THRESHOLD: float = 3.0
SOURCE_GROW_PX: int = 2
#: Mean absolute value of a zero-mean Gaussian variable of unit standard deviation: sqrt(2 / pi).
MEAN_ABS_PER_SIGMA: float = math.sqrt(2.0 / math.pi)
#: Fourier-plane comparisons use the frequencies where the high-pass filter passes at least this fraction of
#: its maximum response (:func:`high_pass_response_mask`).
RESPONSE_FLOOR: float = 0.2
#: Smallest numerator of :func:`log_ratio_rms`, relative to the largest denominator.
LOG_RATIO_FLOOR: float = 1e-12
#: AB magnitude of 1 nanomaggy.
NANOMAGGY_ZERO_POINT: float = 22.5
#: d(magnitude) / d(ln flux): 2.5 / ln(10).
MAGNITUDE_PER_LN_FLUX: float = 2.5 / math.log(10.0)


def high_pass(images: np.ndarray) -> np.ndarray:
    """Apply the paper's 5x5 high-pass filter (Fig. 2 (g)) to every image, without padding.

    The result equals :class:`galtk.models.networks.filters.HighPassFilter`, the filter at the input of the
    discriminators. It is computed exactly (the weights are integers) as the difference of the two separable
    terms of :data:`HIGH_PASS_SEPARABLE`, about four times faster than a float64 2-D convolution.

    Parameters
    ----------
    images : ndarray, shape (..., H, W)
        Images, at least 5 x 5 pixels.

    Returns
    -------
    ndarray, shape (..., H - 4, W - 4)
        Filtered images, float64.
    """
    array = np.asarray(images, dtype=np.float64)
    height, width = array.shape[-2:]
    if height < 2 * HIGH_PASS_MARGIN + 1 or width < 2 * HIGH_PASS_MARGIN + 1:
        raise ValueError(
            f"images must be at least 5 x 5 pixels for the high-pass filter, got {height} x {width}"
        )
    plus, minus = (_separable_filter(array, weights) for weights in HIGH_PASS_SEPARABLE)
    plus -= minus
    margin = HIGH_PASS_MARGIN
    return plus[..., margin : height - margin, margin : width - margin]


def _separable_filter(images: np.ndarray, weights: tuple[float, ...]) -> np.ndarray:
    """Correlate along x, then along y, with the same 1-D weights (zero padding; the border is cropped)."""
    kernel = np.array(weights)
    along_x = ndimage.correlate1d(images, kernel, axis=-1, mode="constant")
    return ndimage.correlate1d(along_x, kernel, axis=-2, mode="constant")


def robust_sigma(values: np.ndarray) -> np.ndarray:
    """Standard deviation estimated from the median absolute deviation over the last two axes.

    ``MAD_TO_SIGMA * median(|v - median(v)|)``: exact in expectation for Gaussian values, and insensitive to a
    minority of outliers (the pixels of a galaxy).

    Parameters
    ----------
    values : ndarray, shape (..., H, W)

    Returns
    -------
    ndarray, shape (...)
    """
    flat = np.asarray(values, dtype=np.float64).reshape(*np.shape(values)[:-2], -1)
    centre = np.median(flat, axis=-1, keepdims=True)
    return MAD_TO_SIGMA * np.median(np.abs(flat - centre), axis=-1)


def noise_sigma(images: np.ndarray) -> np.ndarray:
    """Per-pixel noise standard deviation of each image's background, as an astronomer measures it.

    Sources are masked first: pixels where the image smoothed by a Gaussian of ``SOURCE_SMOOTHING_PX``
    exceeds its background by ``SOURCE_THRESHOLD`` of its own (clipped) sigma, grown by ``SOURCE_GROW_PX``.
    The result is the robust (MAD) sigma of the remaining pixels around their median. It is the per-pixel
    sigma whatever the noise's correlation between pixels (resampled survey images, and the emulated noise
    that imitates them), unlike :func:`high_passed_sigma`: within 1 % for white noise and for the synthetic
    sky's cutouts, 1 % low for noise smoothed by a Gaussian of 1 px (docs/metrics.md).

    Parameters
    ----------
    images : ndarray, shape (..., H, W)

    Returns
    -------
    ndarray, shape (...)
        In the unit of the images.
    """
    images = np.asarray(images, dtype=np.float64)
    spatial = [0.0] * (images.ndim - 2)
    smoothed = ndimage.gaussian_filter(images, sigma=[*spatial, SOURCE_SMOOTHING_PX, SOURCE_SMOOTHING_PX])
    level, spread = clipped_level_and_sigma(smoothed)
    sources = smoothed > (level + SOURCE_THRESHOLD * spread)[..., None, None]
    grow = 2 * SOURCE_GROW_PX + 1
    sources = ndimage.maximum_filter(sources, size=[1] * (images.ndim - 2) + [grow, grow])
    background = np.where(sources, np.nan, images).reshape(*images.shape[:-2], -1)
    centre = np.nanmedian(background, axis=-1, keepdims=True)
    return MAD_TO_SIGMA * np.nanmedian(np.abs(background - centre), axis=-1)


def clipped_level_and_sigma(
    images: np.ndarray, *, clip: float = 3.0, iterations: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Median and robust (MAD) sigma of each image's pixels, iteratively clipped at ``clip`` sigma.

    Parameters
    ----------
    images : ndarray, shape (..., H, W)
    clip : float
        Clipping threshold in sigma.
    iterations : int
        Passes (the first one unclipped).

    Returns
    -------
    level, sigma : ndarray, shape (...)
    """
    flat = np.asarray(images, dtype=np.float64).reshape(*np.shape(images)[:-2], -1)
    centre = np.median(flat, axis=-1, keepdims=True)
    sigma = MAD_TO_SIGMA * np.median(np.abs(flat - centre), axis=-1)
    for _ in range(iterations - 1):
        values = np.where(np.abs(flat - centre) <= clip * sigma[..., None], flat, np.nan)
        centre = np.nanmedian(values, axis=-1, keepdims=True)
        sigma = MAD_TO_SIGMA * np.nanmedian(np.abs(values - centre), axis=-1)
    return centre[..., 0], sigma


def high_passed_sigma(images: np.ndarray) -> np.ndarray:
    """Noise sigma of each image from its high-passed version: what the discriminators see of the noise.

    ``robust_sigma(high_pass(image)) / HIGH_PASS_NOISE_GAIN``. The filter removes the smooth galaxy light;
    for white Gaussian noise of standard deviation s, every high-passed pixel is Gaussian with standard
    deviation ``s * HIGH_PASS_NOISE_GAIN`` (sqrt(940) = 30.66), so the estimate is s. Correlated noise reads
    lower: it is the standard deviation of white noise with the same high-frequency power (0.41 of the
    per-pixel sigma for SDSS cutouts resampled with Lanczos-3, docs/metrics.md).

    Parameters
    ----------
    images : ndarray, shape (..., H, W)

    Returns
    -------
    ndarray, shape (...)
        In the unit of the images.
    """
    return robust_sigma(high_pass(images)) / HIGH_PASS_NOISE_GAIN


def summed_absolute(images: np.ndarray) -> np.ndarray:
    """Sum over pixels of the absolute value of each image: the paper's summed absolute flux.

    Applied to ``generated - original`` it is the global-shape flux difference, to ``original`` the flux
    scale, and to noise-only images the summed noise amplitude.

    Parameters
    ----------
    images : ndarray, shape (..., H, W)

    Returns
    -------
    ndarray, shape (...)
    """
    return np.abs(np.asarray(images, dtype=np.float64)).sum(axis=(-2, -1))


def expected_summed_noise_amplitude(sigma: np.ndarray | float, n_pixels: int) -> np.ndarray:
    """Expected :func:`summed_absolute` of white Gaussian noise: ``n_pixels * sigma * sqrt(2 / pi)``.

    Parameters
    ----------
    sigma : ndarray or float
        Per-pixel noise standard deviation.
    n_pixels : int
        Pixels per image.

    Returns
    -------
    ndarray
    """
    return n_pixels * MEAN_ABS_PER_SIGMA * np.asarray(sigma, dtype=np.float64)


def fourier_amplitude(images: np.ndarray, *, filtered: bool = True) -> np.ndarray:
    """Amplitude of the 2-D discrete Fourier transform of each (high-passed) image.

    Parameters
    ----------
    images : ndarray, shape (..., H, W)
    filtered : bool, optional
        Apply :func:`high_pass` first (the paper's Fig. 6); False transforms the images as they are.

    Returns
    -------
    ndarray, shape (..., H', W')
        ``|FFT2|`` in NumPy's order: zero frequency at index [0, 0], the highest frequency (Nyquist) at the
        centre, as displayed in the paper's Fig. 6. H' = H - 4 if ``filtered`` else H.
    """
    array = high_pass(images) if filtered else np.asarray(images, dtype=np.float64)
    return np.abs(np.fft.fft2(array))


def stacked_fourier_amplitude(images: np.ndarray, *, filtered: bool = True) -> np.ndarray:
    """Mean of :func:`fourier_amplitude` over the first axis (the images of a test set).

    For white noise of standard deviation s on M x M pixels, the unfiltered map is flat at
    ``s * M * sqrt(pi) / 2`` away from the zero and Nyquist frequencies, and the filtered map is that times
    :func:`high_pass_transfer`.

    Parameters
    ----------
    images : ndarray, shape (N, ..., H, W)
    filtered : bool, optional
        See :func:`fourier_amplitude`.

    Returns
    -------
    ndarray, shape (..., H', W')
    """
    return fourier_amplitude(images, filtered=filtered).mean(axis=0)


def high_pass_transfer(shape: tuple[int, int]) -> np.ndarray:
    """Amplitude response ``|K(f)|`` of the high-pass filter on the frequency grid of an image of ``shape``.

    Parameters
    ----------
    shape : tuple of int
        (H', W') of the filtered image.

    Returns
    -------
    ndarray, shape (H', W')
        In NumPy's FFT order. Zero at zero frequency and along both frequency axes (every row and column of
        the kernel sums to zero); 128 (the sum of |weights|, whose signs alternate) at the Nyquist corner.
    """
    return np.abs(np.fft.fft2(np.array(HIGH_PASS_KERNEL), s=shape))


def high_pass_response_mask(shape: tuple[int, int], floor: float = RESPONSE_FLOOR) -> np.ndarray:
    """Frequencies where the high-pass filter passes at least ``floor`` times its maximum response.

    The response is zero along both frequency axes and small near them, where filtered maps are dominated
    by leakage from the image edges (the filter is applied without wrapping) rather than by the noise;
    comparisons of Fourier maps use only the frequencies of this mask.

    Parameters
    ----------
    shape : tuple of int
        (H', W') of the filtered image.
    floor : float, optional
        Fraction of the maximum response.

    Returns
    -------
    ndarray of bool, shape (H', W')
    """
    response = high_pass_transfer(shape)
    return response >= floor * response.max()


def radial_frequency_bins(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Radial frequency bins of an image of ``shape``, in cycles per pixel.

    Bin ``j`` (1 <= j <= min(H, W) // 2) holds the frequencies ``|f|`` within half a step of
    ``j / min(H, W)``; zero frequency is left out.

    Returns
    -------
    centres : ndarray, shape (K,)
        ``j / min(H, W)``.
    index : ndarray, shape (H, W)
        Bin of each frequency of the FFT grid (NumPy's order), -1 outside every bin.
    """
    height, width = shape
    step = 1.0 / min(height, width)
    radius = np.hypot(np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :])
    count = min(height, width) // 2
    index = np.rint(radius / step).astype(np.int64) - 1
    index[(index < 0) | (index >= count)] = -1
    return step * np.arange(1, count + 1), index


def radial_average(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average Fourier-plane maps in the rings of :func:`radial_frequency_bins`.

    Parameters
    ----------
    maps : ndarray, shape (..., H, W)
        Values on the FFT grid in NumPy's order.

    Returns
    -------
    frequency : ndarray, shape (K,)
        Ring centres in cycles per pixel.
    profile : ndarray, shape (..., K)
    """
    array = np.asarray(maps, dtype=np.float64)
    centres, index = radial_frequency_bins(array.shape[-2:])
    flat = array.reshape(-1, index.size)
    keep = index.ravel() >= 0
    bins = index.ravel()[keep]
    counts = np.bincount(bins, minlength=centres.size)
    profile = (
        np.stack([np.bincount(bins, weights=row[keep], minlength=centres.size) for row in flat]) / counts
    )
    return centres, profile.reshape(*array.shape[:-2], centres.size)


def power_window(shape: tuple[int, int]) -> np.ndarray:
    """The 2-D Hann window (outer product of ``numpy.hanning``) applied before power spectra.

    The high-passed images are not periodic; without a window their sharp edges leak the strong
    high-frequency power into every other frequency.
    """
    return np.outer(np.hanning(shape[0]), np.hanning(shape[1]))


def power_map(images: np.ndarray) -> np.ndarray:
    """Windowed power of each image: ``|FFT2(w * image)|**2 / sum(w**2)`` with w = :func:`power_window`.

    White noise of standard deviation s has expected power ``s**2`` at every frequency, whatever the window.

    Parameters
    ----------
    images : ndarray, shape (..., H, W)

    Returns
    -------
    ndarray, shape (..., H, W)
        In (image unit)**2, NumPy's FFT order.
    """
    array = np.asarray(images, dtype=np.float64)
    window = power_window(array.shape[-2:])
    return np.abs(np.fft.fft2(array * window)) ** 2 / np.sum(window**2)


def radial_power_spectrum(images: np.ndarray, *, filtered: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged power spectrum, averaged over the first axis (the images).

    :func:`power_map` averaged over images and over the rings of :func:`radial_frequency_bins`: white noise
    of standard deviation s gives ``s**2`` at every frequency, and about ``s**2 |K(f)|**2`` after the
    high-pass filter (exactly so where the filter's response is high; see :func:`high_pass_response_mask`).

    Parameters
    ----------
    images : ndarray, shape (N, ..., H, W)
    filtered : bool, optional
        Apply :func:`high_pass` first.

    Returns
    -------
    frequency : ndarray, shape (K,)
        Cycles per pixel.
    power : ndarray, shape (..., K)
        In (image unit)**2.
    """
    array = high_pass(images) if filtered else np.asarray(images, dtype=np.float64)
    return radial_average(power_map(array).mean(axis=0))


def total_flux(images: np.ndarray) -> np.ndarray:
    """Sum of all pixels of each image (the flux in the whole cutout).

    Parameters
    ----------
    images : ndarray, shape (..., H, W)

    Returns
    -------
    ndarray, shape (...)
    """
    return np.asarray(images, dtype=np.float64).sum(axis=(-2, -1))


def aperture_weights(
    shape: tuple[int, int], radius_px: float, *, centre: tuple[float, float] | None = None, subpixels: int = 8
) -> np.ndarray:
    """Fraction of each pixel inside a circle (the circular aperture), by subpixel sampling.

    Each pixel is split into ``subpixels`` x ``subpixels`` points, as photutils' ``method="subpixel"``.

    Parameters
    ----------
    shape : tuple of int
        (H, W) of the images.
    radius_px : float
        Aperture radius in pixels.
    centre : tuple of float, optional
        (y, x) of the aperture centre in 0-based pixel coordinates (pixel centres at integers); the image
        centre ``((H - 1) / 2, (W - 1) / 2)``, where galtk cutouts put their galaxy, by default.
    subpixels : int, optional
        Sampling points per pixel along each axis.

    Returns
    -------
    ndarray, shape (H, W)
        Weights in [0, 1] (read-only).
    """
    height, width = shape
    if centre is None:
        centre = ((height - 1) / 2.0, (width - 1) / 2.0)
    return _aperture_weights(height, width, float(radius_px), float(centre[0]), float(centre[1]), subpixels)


@lru_cache(maxsize=16)
def _aperture_weights(
    height: int, width: int, radius: float, centre_y: float, centre_x: float, subpixels: int
) -> np.ndarray:
    offsets = (np.arange(subpixels) + 0.5) / subpixels - 0.5
    y = (np.arange(height)[:, None] + offsets[None, :]).ravel() - centre_y
    x = (np.arange(width)[:, None] + offsets[None, :]).ravel() - centre_x
    inside = (y[:, None] ** 2 + x[None, :] ** 2) <= radius**2
    weights = inside.reshape(height, subpixels, width, subpixels).mean(axis=(1, 3))
    weights.flags.writeable = False
    return weights


def aperture_flux(images: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Flux of each image inside an aperture: the sum of pixels times :func:`aperture_weights`.

    Parameters
    ----------
    images : ndarray, shape (..., H, W)
    weights : ndarray, shape (H, W)

    Returns
    -------
    ndarray, shape (...)
    """
    return np.tensordot(np.asarray(images, dtype=np.float64), weights, axes=2)


def log10_positive(values: np.ndarray) -> np.ndarray:
    """``log10(values)`` where positive, NaN elsewhere (without a warning)."""
    array = np.asarray(values, dtype=np.float64)
    return np.log10(array, out=np.full(array.shape, np.nan), where=array > 0)


def magnitude(flux_nmgy: np.ndarray) -> np.ndarray:
    """AB magnitude ``22.5 - 2.5 log10(flux)`` of fluxes in nanomaggies; NaN where the flux is not positive.

    Parameters
    ----------
    flux_nmgy : ndarray

    Returns
    -------
    ndarray
    """
    return NANOMAGGY_ZERO_POINT - 2.5 * log10_positive(flux_nmgy)


def magnitude_difference(generated_flux: np.ndarray, original_flux: np.ndarray) -> np.ndarray:
    """Photometry error ``m(generated) - m(original) = -2.5 log10(F_gen / F_orig)``; NaN unless both F > 0."""
    return magnitude(generated_flux) - magnitude(original_flux)


def flux_pull(
    generated_flux: np.ndarray,
    original_flux: np.ndarray,
    noise_generated: np.ndarray,
    noise_original: np.ndarray,
    noise_area: float,
) -> np.ndarray:
    """Flux difference in units of the difference that the noise of both images alone explains.

    ``(F_gen - F_orig) / sqrt(A (s_gen**2 + s_orig**2))`` with A the aperture's noise area (the sum of
    squared weights; H W for the total flux) and s the per-pixel noise sigmas. Its spread is 1 when the
    galaxy is reproduced exactly and only independent white noise separates the two images.

    Parameters
    ----------
    generated_flux, original_flux : ndarray
        Fluxes of each image.
    noise_generated, noise_original : ndarray
        Per-pixel noise standard deviations of each image, same unit.
    noise_area : float
        Sum of squared aperture weights in pixels.

    Returns
    -------
    ndarray
        NaN where both sigmas are 0.
    """
    scale = np.sqrt(noise_area * (np.square(noise_generated) + np.square(noise_original)))
    difference = np.asarray(generated_flux, dtype=np.float64) - original_flux
    return np.divide(difference, scale, out=np.full(np.shape(difference), np.nan), where=scale > 0)


def robust_spread(values: np.ndarray) -> float:
    """``MAD_TO_SIGMA * median(|v - median(v)|)`` over the finite values of a 1-D array (NaN if none)."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return math.nan
    return float(MAD_TO_SIGMA * np.median(np.abs(finite - np.median(finite))))


def finite_median(values: np.ndarray) -> float:
    """Median of the finite values of an array; NaN if there are none."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    return float(np.median(finite)) if finite.size else math.nan


def binned_statistics(x: np.ndarray, y: np.ndarray, edges: np.ndarray) -> dict[str, np.ndarray]:
    """Median and 16th / 84th percentiles of ``y`` in bins of ``x``, over pairs where both are finite.

    Parameters
    ----------
    x, y : ndarray, shape (n,)
    edges : ndarray, shape (K + 1,)
        Increasing bin edges; the last bin includes its upper edge.

    Returns
    -------
    dict of str to ndarray
        ``centre``, ``count``, ``median``, ``p16``, ``p84``, each (K,); NaN statistics in empty bins.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    bins = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    inside = (x >= edges[0]) & (x <= edges[-1])
    result = {name: np.full(len(edges) - 1, np.nan) for name in ("median", "p16", "p84")}
    count = np.zeros(len(edges) - 1, dtype=np.int64)
    for index in range(len(edges) - 1):
        members = y[inside & (bins == index)]
        count[index] = members.size
        if members.size:
            result["p16"][index], result["median"][index], result["p84"][index] = np.percentile(
                members, (16.0, 50.0, 84.0)
            )
    return {"centre": 0.5 * (np.asarray(edges[:-1]) + edges[1:]), "count": count, **result}


def log_ratio_rms(numerator: np.ndarray, denominator: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Root mean square of ``log10(numerator / denominator)`` where the denominator is positive.

    Numerators below :data:`LOG_RATIO_FLOOR` times the largest denominator count as that floor, so an
    all-zero map (a method without noise) scores about 12 rather than nothing.

    Parameters
    ----------
    numerator, denominator : ndarray
        Same shape.
    mask : ndarray of bool, optional
        Entries to use (all by default).

    Returns
    -------
    float
        0 for identical arrays; 0.1 means a typical factor of 10**0.1 = 1.26. NaN if no entry is usable.
    """
    top, bottom = np.asarray(numerator, dtype=np.float64), np.asarray(denominator, dtype=np.float64)
    keep = bottom > 0
    if mask is not None:
        keep &= mask
    if not keep.any():
        return math.nan
    floor = LOG_RATIO_FLOOR * float(bottom[keep].max())
    ratio = np.log10(np.maximum(top[keep], floor) / bottom[keep])
    return float(np.sqrt(np.mean(ratio**2)))
