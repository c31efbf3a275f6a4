"""The noise of each survey's training images, measured to condition the Noise Emulators.

The Noise Emulators of ours and ours-auto start, in galtk's default ``[train] noise_emulator = "measured"``,
at the per-band noise measured here (:meth:`galtk.models.networks.noise_emulator.NoiseEmulator.condition`),
and the noise-weighted content losses divide by the same sigmas. Two numbers per band, on the rescaled images
the networks see, medians over images: the per-pixel sigma as ``galtk evaluate`` measures it
(:func:`galtk.models.evaluation.metrics.noise_sigma`: the MAD of the pixels off sources), and the share of
it that the discriminators' high-pass filter sees (:func:`galtk.models.evaluation.metrics.high_passed_sigma`
over it: 1 for white noise, less for the correlated noise of resampled cutouts).
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np
import torch

from galtk.models.evaluation.metrics import high_passed_sigma, noise_sigma
from galtk.models.training.batches.loader import TrainingBatch
from galtk.models.training.updates import SurveyImages, survey_images

#: Images of each survey measured (fewer if the batches of ``MAX_BATCHES`` iterations hold fewer).
MEASURED_IMAGES = 256
#: Most batches read for the measurement.
MAX_BATCHES = 256


class Batches(Protocol):
    """Anything that gives the deterministic batch of an iteration (the trainer's ``BatchSource``)."""

    def batch(self, iteration: int) -> TrainingBatch:
        """The batch of ``iteration``."""
        ...


class NoiseLevels(NamedTuple):
    """Measured noise of each survey's training images (:func:`measure_noise_levels`).

    Attributes
    ----------
    sigma : SurveyImages
        Per-pixel noise sigma per band, ``x`` (SDSS) and ``y`` (CFHT): float32 tensors (C,).
    high_pass_ratio : SurveyImages
        High-passed sigma over per-pixel sigma per band, the same way.
    """

    sigma: SurveyImages
    high_pass_ratio: SurveyImages


def measure_noise_levels(source: Batches, *, images: int = MEASURED_IMAGES) -> NoiseLevels:
    """Median per-band noise of each survey's training images, in the rescaled units of training.

    Reads the deterministic batches 0, 1, ... of ``source`` (unpaired images and both halves of the pairs)
    until ``images`` images of each survey are in hand or ``MAX_BATCHES`` batches are read.

    Parameters
    ----------
    source : Batches
        The stage's batches.
    images : int, optional
        Images of each survey to measure.

    Returns
    -------
    NoiseLevels
        Tensors on the CPU.

    Raises
    ------
    ValueError
        If a band's measured sigma is not finite and positive (blank or constant images).
    """
    sdss: list[np.ndarray] = []
    cfht: list[np.ndarray] = []
    count, iteration = 0, 0
    while count < images and iteration < MAX_BATCHES:
        batch = survey_images(source.batch(iteration))
        sdss.append(batch.x.detach().float().cpu().numpy())
        cfht.append(batch.y.detach().float().cpu().numpy())
        count += min(len(batch.x), len(batch.y))
        iteration += 1
    levels, ratios = [], []
    for name, chunks in (("SDSS", sdss), ("CFHT", cfht)):
        measured = np.concatenate(chunks)[:images]
        sigma = np.median(noise_sigma(measured), axis=0)
        if not np.all(np.isfinite(sigma) & (sigma > 0)):
            raise ValueError(f"the {name} training images have no measurable noise in some band: {sigma}")
        levels.append(torch.as_tensor(sigma, dtype=torch.float32))
        ratios.append(
            torch.as_tensor(np.median(high_passed_sigma(measured), axis=0) / sigma, dtype=torch.float32)
        )
    return NoiseLevels(SurveyImages(*levels), SurveyImages(*ratios))
