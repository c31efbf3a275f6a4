"""The noise level of each survey's training images, measured to condition the Noise Emulators.

The Noise Emulators of ours and ours-auto start, in galtk's default ``[train] noise_emulator = "measured"``,
at white noise of the per-band sigma measured here (:meth:`galtk.models.networks.noise_emulator.NoiseEmulator.
condition`), and the noise-weighted content losses divide by the same sigmas. The measurement is the one
``galtk evaluate`` uses for image noise (:func:`galtk.models.evaluation.metrics.noise_sigma`: the MAD of the
high-passed image over the filter's noise gain, insensitive to the galaxy), taken on the rescaled images the
networks see, median over images.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from galtk.models.evaluation.metrics import noise_sigma
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


def measure_noise_levels(source: Batches, *, images: int = MEASURED_IMAGES) -> SurveyImages:
    """Median per-band noise sigma of each survey's training images, in the rescaled units of training.

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
    SurveyImages
        ``x`` (SDSS) and ``y`` (CFHT): float32 tensors (C,) on the CPU.

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
    levels = []
    for name, chunks in (("SDSS", sdss), ("CFHT", cfht)):
        sigma = np.median(noise_sigma(np.concatenate(chunks)[:images]), axis=0)
        if not np.all(np.isfinite(sigma) & (sigma > 0)):
            raise ValueError(f"the {name} training images have no measurable noise in some band: {sigma}")
        levels.append(torch.as_tensor(sigma, dtype=torch.float32))
    return SurveyImages(*levels)
