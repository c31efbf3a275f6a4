"""What a recovered galaxy image is measured by: photometry, size, shape, noise and residual power.

Every measurement of one object and band compares an image (recovered, deconvolved, degraded) with a
reference of the same galaxy (the original cutout, or the noiseless truth of the synthetic sky) inside one
footprint: the segment of the central galaxy detected on the reference (photutils' ``detect_sources``), used
for every image of that object and band, so that differences come from the images and not from where they
are measured. Inside it photutils' ``SourceCatalog`` gives the flux (``segment_flux``), the size
(``semimajor_axis``, the second-moment semi-major axis), the ``ellipticity`` and the Gini coefficient
(``gini``). Noise is the clipped background sigma of the whole image
(:func:`galtk.pipeline.degrade.noise.background_sigma`); the residual (image minus reference) is summarised
by its rms and its azimuthally averaged power spectrum, both in units of the original's noise.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from galtk.pipeline.degrade.noise import background_sigma

MEASURES: tuple[str, ...] = (
    "flux_error",
    "size_error",
    "ellipticity_error",
    "gini_error",
    "residual_rms",
    "noise",
)
"""Per object and band: (F - F_ref) / F_ref, a / a_ref - 1, e - e_ref, G - G_ref, rms(image - reference)
over the cutout / sigma, background sigma / sigma (sigma: the original's background noise)."""
MORPHOLOGY: tuple[str, ...] = ("size_error", "ellipticity_error", "gini_error")
"""The measures of size and shape, those of the seed's claim."""
POWER_BANDS: tuple[tuple[float, float], ...] = ((0.0, 0.25), (0.25, 0.5), (0.5, 1.0))
"""Spatial-frequency ranges of the residual power, as fractions of the Nyquist frequency."""
DETECTION_SMOOTHING_PX = 1.0
"""Sigma of the Gaussian the reference is smoothed with before its footprint is thresholded."""
DETECTION_NSIGMA = 1.0
"""Footprint threshold on the smoothed reference, in units of the original's background sigma."""
MIN_PIXELS = 5


@dataclass(frozen=True)
class Shape:
    """What ``SourceCatalog`` measures of one image in a footprint."""

    flux: float
    size: float
    ellipticity: float
    gini: float


def footprint(reference: np.ndarray, sigma: float) -> np.ndarray | None:
    """The segment (a label image of one source, label 1) of the galaxy nearest the cutout's centre.

    Parameters
    ----------
    reference : ndarray, 2-D
        The reference image of one band.
    sigma : float
        The original's background sigma in that band (the threshold unit).

    Returns
    -------
    ndarray of int32 or None
        None when nothing is detected.
    """
    from photutils.segmentation import detect_sources
    from photutils.utils.exceptions import NoDetectionsWarning

    smoothed = ndimage.gaussian_filter(np.asarray(reference, dtype=np.float64), DETECTION_SMOOTHING_PX)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDetectionsWarning)
        segments = detect_sources(smoothed, DETECTION_NSIGMA * sigma, n_pixels=MIN_PIXELS)
    if segments is None:
        return None
    labels = segments.data
    centre = (np.asarray(labels.shape) - 1) / 2
    ys, xs = np.nonzero(labels)
    nearest = int(np.argmin((ys - centre[0]) ** 2 + (xs - centre[1]) ** 2))
    chosen = labels[ys[nearest], xs[nearest]]
    return (labels == chosen).astype(np.int32)


def shape(image: np.ndarray, segment: np.ndarray) -> Shape:
    """Flux, second-moment semi-major axis (px), ellipticity and Gini of ``image`` inside ``segment``."""
    from photutils.segmentation import SegmentationImage, SourceCatalog

    catalog = SourceCatalog(np.asarray(image, dtype=np.float64), SegmentationImage(segment))
    return Shape(
        flux=float(catalog.segment_flux[0]),
        size=float(np.asarray(catalog.semimajor_axis.value)[0]),
        ellipticity=float(np.asarray(catalog.ellipticity.value)[0]),
        gini=float(catalog.gini[0]),
    )


def compare(
    image: np.ndarray, reference: Shape, reference_image: np.ndarray, segment: np.ndarray, sigma: float
) -> dict[str, float]:
    """The :data:`MEASURES` of ``image`` against its reference (shape and pixels), one object and band."""
    measured = shape(image, segment)
    residual = np.asarray(image, dtype=np.float64) - reference_image
    return {
        "flux_error": (measured.flux - reference.flux) / abs(reference.flux),
        "size_error": measured.size / reference.size - 1.0,
        "ellipticity_error": measured.ellipticity - reference.ellipticity,
        "gini_error": measured.gini - reference.gini,
        "residual_rms": float(np.sqrt(np.mean(residual**2))) / sigma,
        "noise": background_sigma(np.asarray(image, dtype=np.float64)) / sigma,
    }


def radial_power(residual: np.ndarray, sigma: float, bins: int = 16) -> np.ndarray:
    """Azimuthally averaged power spectrum of a residual, in units of white noise of ``sigma``.

    White noise of standard deviation ``sigma`` has power 1 at every frequency in these units.

    Parameters
    ----------
    residual : ndarray, 2-D
        Image minus reference.
    sigma : float
        The unit noise.
    bins : int
        Rings between 0 and the Nyquist frequency.

    Returns
    -------
    ndarray of shape (bins,)
        Mean power in each ring (NaN for an empty ring).
    """
    data = np.asarray(residual, dtype=np.float64)
    power = np.abs(np.fft.fft2(data)) ** 2 / (data.size * sigma**2)
    ky = np.fft.fftfreq(data.shape[0])[:, None]
    kx = np.fft.fftfreq(data.shape[1])[None, :]
    radius = np.hypot(ky, kx) / 0.5
    ring = np.minimum((radius * bins).astype(int), bins)
    sums = np.bincount(ring.ravel(), weights=power.ravel(), minlength=bins + 1)[:bins]
    counts = np.bincount(ring.ravel(), minlength=bins + 1)[:bins]
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def power_in_bands(spectrum: np.ndarray) -> dict[str, float]:
    """Mean of a :func:`radial_power` spectrum in each of :data:`POWER_BANDS`, keyed ``power_LO-HI``."""
    edges = (np.arange(len(spectrum)) + 0.5) / len(spectrum)
    powers = {}
    for low, high in POWER_BANDS:
        ring = spectrum[(edges >= low) & (edges < high)]
        ring = ring[np.isfinite(ring)]
        powers[f"power_{low:g}-{high:g}"] = float(np.mean(ring)) if len(ring) else float("nan")
    return powers


def morphology_score(image: np.ndarray, original: np.ndarray, sigma: float) -> float:
    """How far ``image``'s shape is from ``original``'s: |size error| + |ellipticity error| + |Gini error|.

    Measured in the original's footprint (:func:`footprint`); NaN when nothing is detected there. The score
    the deconvolutions are tuned with by default, the measures of the seed's claim.
    """
    segment = footprint(original, sigma)
    if segment is None:
        return float("nan")
    reference = shape(original, segment)
    if not (reference.flux > 0 and reference.size > 0):
        return float("nan")
    measured = shape(image, segment)
    return (
        abs(measured.size / reference.size - 1.0)
        + abs(measured.ellipticity - reference.ellipticity)
        + abs(measured.gini - reference.gini)
    )
