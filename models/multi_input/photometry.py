"""Aperture photometry of multi-input translations and its errors against a reference, per band and colour.

A circle of :data:`APERTURE_ARCSEC` radius on each object (photutils); per band the median magnitude offset
(bias) and robust scatter (1.4826 MAD) of m_measured - m_reference, the same for the colours of consecutive
bands, and the objects whose flux is not positive; each object's signal-to-noise ratio in the target survey
(:func:`aperture_snr`) selects the bright ones (S/N >= :data:`BRIGHT_SNR`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from galtk.models.evaluation.metrics import robust_sigma

#: Radius of the photometric aperture, arcsec.
APERTURE_ARCSEC = 3.0
#: Signal-to-noise ratio, in the target survey's aperture, of the objects reported apart as bright.
BRIGHT_SNR = 20.0


@dataclass(frozen=True)
class BandErrors:
    """Photometric error of one set of images in one band (or colour) against the reference."""

    bias: float
    scatter: float
    objects: int
    not_positive: int

    def as_dict(self) -> dict[str, float | int]:
        """JSON-ready."""
        return {
            "bias_mag": self.bias,
            "scatter_mag": self.scatter,
            "objects": self.objects,
            "not_positive": self.not_positive,
        }


def aperture_fluxes(images: np.ndarray, pixel_scale: float, offsets: np.ndarray | None = None) -> np.ndarray:
    """Flux in a circle of :data:`APERTURE_ARCSEC` on each object (photutils), per image and band.

    Parameters
    ----------
    images : ndarray, shape (N, C, H, W)
        Fluxes per pixel.
    pixel_scale : float
        Arcsec per pixel.
    offsets : ndarray, shape (N, 2), optional
        Where each object lies from the centre pixel, (x, y) pixels.

    Returns
    -------
    ndarray, shape (N, C)
    """
    from photutils.aperture import CircularAperture, aperture_photometry

    n, bands, height, width = images.shape
    centre = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    out = np.empty((n, bands))
    for index in range(n):
        position = centre + (offsets[index] if offsets is not None else 0.0)
        aperture = CircularAperture(position, r=APERTURE_ARCSEC / pixel_scale)
        for band in range(bands):
            table = aperture_photometry(images[index, band].astype(np.float64), aperture)
            out[index, band] = float(table["aperture_sum"][0])
    return out


def band_errors(
    measured: np.ndarray, reference: np.ndarray, selected: np.ndarray | None = None
) -> list[BandErrors]:
    """Bias and robust scatter of m_measured - m_reference per column (objects with both fluxes > 0).

    ``selected`` (N, C) of bool, optional, limits each column to the objects it marks.
    """
    errors = []
    for column in range(measured.shape[1]):
        chosen = np.ones(len(measured), bool) if selected is None else selected[:, column]
        positive = (measured[:, column] > 0) & (reference[:, column] > 0)
        ok = chosen & positive
        delta = -2.5 * np.log10(measured[ok, column] / reference[ok, column])
        errors.append(_summarise(delta, int(np.count_nonzero(chosen & ~positive))))
    return errors


def aperture_snr(observed: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Each object's signal-to-noise ratio per band: truth flux over the band's aperture noise.

    The noise is the robust scatter (1.4826 MAD) of observed - truth aperture fluxes over all objects.

    Parameters
    ----------
    observed, truth : ndarray, shape (N, C)
        Aperture fluxes of the observed cutouts and of their noiseless images.

    Returns
    -------
    ndarray, shape (N, C)
    """
    noise = robust_sigma((observed - truth).T[:, :, None])
    return truth / np.where(noise > 0, noise, np.inf)


def colour_errors(measured: np.ndarray, reference: np.ndarray) -> list[BandErrors]:
    """The same for the colours of consecutive bands (m_b - m_b+1)."""
    errors = []
    for column in range(measured.shape[1] - 1):
        pair = slice(column, column + 2)
        ok = (measured[:, pair] > 0).all(axis=1) & (reference[:, pair] > 0).all(axis=1)
        colour = -2.5 * np.log10(measured[ok, column] / measured[ok, column + 1])
        truth = -2.5 * np.log10(reference[ok, column] / reference[ok, column + 1])
        errors.append(_summarise(colour - truth, int(np.count_nonzero(~ok))))
    return errors


def _summarise(delta: np.ndarray, not_positive: int) -> BandErrors:
    if len(delta) < 2:  # one object has no scatter to measure
        median = float(delta[0]) if len(delta) else float("nan")
        return BandErrors(median, float("nan"), len(delta), not_positive)
    median = float(np.median(delta))
    return BandErrors(median, float(robust_sigma(delta[None])), len(delta), not_positive)


#: What a ``*`` after a report cell means (:func:`error_text`).
MOSTLY_NOT_POSITIVE = "most objects had no positive flux in that band; the cell describes the others"


def error_text(errors: dict[str, float | int], *, bias: bool = True) -> str:
    """A report cell: ``bias / scatter`` (or the scatter alone), ``n/a`` without a scatter, and ``*`` when
    most objects had no positive flux (the cell then describes the few that had one)."""
    scatter = float(errors["scatter_mag"])
    if not errors["objects"] or math.isnan(scatter):
        return "n/a"
    text = f"{float(errors['bias_mag']):+.3f} / {scatter:.3f}" if bias else f"{scatter:.3f}"
    return text + ("*" if int(errors["not_positive"]) > int(errors["objects"]) else "")
