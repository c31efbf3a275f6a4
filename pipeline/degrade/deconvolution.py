"""Deconvolution baselines of the degrade-to-train recovery: Richardson-Lucy and Wiener (scikit-image).

A degraded cutout is its original convolved with the matching kernel ``K`` (``psf.matching_kernel``) plus
noise; deconvolving it by ``K`` estimates the original at its own PSF, which is what a recovery network is
asked for. The regularisation (Richardson-Lucy's iterations, Wiener's balance) is chosen on the training
pairs (:func:`choose_regularisation`), never on the test pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

DECONVOLUTIONS: tuple[str, ...] = ("richardson-lucy", "wiener")
RICHARDSON_LUCY_ITERATIONS: tuple[int, ...] = (1, 2, 3, 5, 10, 20, 50, 100)
"""Candidate iterations of Richardson-Lucy (more iterations sharpen more and amplify the noise more)."""
WIENER_BALANCES: tuple[float, ...] = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
"""Candidate balances of the Wiener filter (the noise-to-signal regularisation; larger is smoother)."""


def richardson_lucy(image: np.ndarray, kernel: np.ndarray, iterations: int) -> np.ndarray:
    """Richardson-Lucy deconvolution of one band by ``kernel`` (``skimage.restoration.richardson_lucy``).

    The algorithm needs non-negative data: a constant pedestal lifts the image above zero first (sky
    subtracted cutouts have negative noise pixels) and is removed after; the kernel has unit sum, so the
    pedestal passes through unchanged.

    Parameters
    ----------
    image : ndarray, 2-D
        A degraded band (finite values).
    kernel : ndarray, 2-D
        The kernel it was convolved with (unit sum, odd side).
    iterations : int
        Richardson-Lucy iterations.

    Returns
    -------
    ndarray, float64
    """
    from skimage.restoration import richardson_lucy as skimage_richardson_lucy

    data = np.asarray(image, dtype=np.float64)
    scale = float(np.max(np.abs(data))) or 1.0
    pedestal = max(0.0, -float(data.min())) + 0.01 * scale
    lifted = skimage_richardson_lucy(data + pedestal, kernel, num_iter=iterations, clip=False)
    return lifted - pedestal


def wiener(image: np.ndarray, kernel: np.ndarray, balance: float) -> np.ndarray:
    """Wiener deconvolution of one band by ``kernel`` (``skimage.restoration.wiener``, Laplacian regulariser).

    Parameters
    ----------
    image : ndarray, 2-D
        A degraded band.
    kernel : ndarray, 2-D
        The kernel it was convolved with.
    balance : float
        Weight of the regulariser against the data (larger: smoother).

    Returns
    -------
    ndarray, float64
    """
    from skimage.restoration import wiener as skimage_wiener

    return skimage_wiener(np.asarray(image, dtype=np.float64), kernel, balance, clip=False)


def deconvolve(method: str, image: np.ndarray, kernel: np.ndarray, parameter: float) -> np.ndarray:
    """Deconvolve one band with ``method`` (``richardson-lucy``: iterations, ``wiener``: balance)."""
    if method == "richardson-lucy":
        return richardson_lucy(image, kernel, int(parameter))
    if method == "wiener":
        return wiener(image, kernel, float(parameter))
    raise ValueError(f"unknown deconvolution {method!r}; known: {', '.join(DECONVOLUTIONS)}")


@dataclass(frozen=True)
class Choice:
    """The regularisation chosen for a deconvolution, and the training error of every candidate.

    Attributes
    ----------
    method : str
    parameter : float
        The chosen iterations (Richardson-Lucy) or balance (Wiener).
    errors : dict of float to float
        Per candidate, the median over the training cutouts of its score against the original (by default
        the mean squared error in units of the original's noise variance).
    """

    method: str
    parameter: float
    errors: dict[float, float]


def choose_regularisation(
    method: str,
    originals: Sequence[np.ndarray],
    degraded: Sequence[np.ndarray],
    kernels: Sequence[np.ndarray],
    noise_sigmas: Sequence[float],
    candidates: Sequence[float] | None = None,
    on_candidate: Callable[[float], None] | None = None,
    score: Callable[[np.ndarray, np.ndarray, float], float] | None = None,
) -> Choice:
    """The candidate regularisation whose deconvolutions of training bands come closest to the originals.

    Parameters
    ----------
    method : {"richardson-lucy", "wiener"}
    originals, degraded, kernels : sequences of 2-D ndarrays
        Training bands: the original, its degraded copy and the kernel that degraded it.
    noise_sigmas : sequence of float
        Background sigma of each original (the unit of the errors).
    candidates : sequence of float, optional
        Default: :data:`RICHARDSON_LUCY_ITERATIONS` or :data:`WIENER_BALANCES`.
    on_candidate : callable, optional
        Called with each candidate after it is scored.
    score : callable, optional
        ``score(deconvolved, original, sigma)``, lower is closer (NaN: not scored); the default is
        :func:`mse_score`. The median over the training bands ranks the candidates.

    Returns
    -------
    Choice
    """
    if candidates is None:
        candidates = RICHARDSON_LUCY_ITERATIONS if method == "richardson-lucy" else WIENER_BALANCES
    if not len(originals) or not (len(originals) == len(degraded) == len(kernels) == len(noise_sigmas)):
        raise ValueError("give one original, degraded image, kernel and noise sigma per training band")
    score = score or mse_score
    errors: dict[float, float] = {}
    for candidate in candidates:
        scores = [
            score(deconvolve(method, image, kernel, candidate), original, sigma)
            for original, image, kernel, sigma in zip(originals, degraded, kernels, noise_sigmas, strict=True)
        ]
        errors[float(candidate)] = float(np.nanmedian(scores)) if np.isfinite(scores).any() else float("inf")
        if on_candidate:
            on_candidate(float(candidate))
    best = min(errors, key=errors.__getitem__)
    return Choice(method, best, errors)


def mse_score(deconvolved: np.ndarray, original: np.ndarray, sigma: float) -> float:
    """Mean squared error of a deconvolved band against its original, in units of the noise variance."""
    return float(np.mean((deconvolved - original) ** 2) / sigma**2)
