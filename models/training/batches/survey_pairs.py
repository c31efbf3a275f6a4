"""The training data of multi-input translation: several surveys of the same galaxies into a target survey.

``galtk crossmatch --surveys`` writes a paired store with one member per survey, rows aligned
(:mod:`galtk.pipeline.crossmatch.surveys`). For ``galtk train --method pix2pix --inputs B,C,D --target A``
each pair becomes (input, target) images on the target's cutout grid (:func:`survey_arrays`):

- every survey's pixels go to nanomaggies per pixel (its zero point). A survey that is not flux-calibrated
  (photographic densities, counts of unknown zero point) is put in units of its own noise instead, per
  cutout and band: its median subtracted, divided by its robust (MAD) sigma;
- each input is regridded bilinearly onto the target grid (:func:`~galtk.pipeline.preprocess.regrid.\
regrid_cutouts`, with each cutout's sub-pixel offset), and a calibrated one multiplied by the ratio of
  pixel areas, so that it stays a flux per (target) pixel;
- then galtk's signed square root (SPEC section 3), and the inputs are concatenated band-wise, in the order
  given: C_in = the sum of the inputs' bands.

:class:`SurveyPairSources` serves the training rows of these arrays, held in memory, as a
:class:`~galtk.models.training.batches.loader.StoreBatchSource` whose SDSS side is the inputs and whose CFHT
side is the target: the layout pix2pix's losses read (:class:`~galtk.models.training.updates.\
ConditionalGeneratorLoss`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from galtk.errors import StoreError, TrainingDataError
from galtk.models.evaluation.metrics import robust_sigma
from galtk.models.training.batches.array_pairs import ArrayPairSources, PairArrays
from galtk.models.training.settings import TrainSettings
from galtk.pipeline.preprocess.regrid import regrid_cutouts
from galtk.pipeline.preprocess.transforms import signed_sqrt
from galtk.pipeline.stores.cutout_store import CutoutStore
from galtk.pipeline.stores.paired import PairedStore
from galtk.pipeline.surveys import SurveySpec


def input_band_names(inputs: Sequence[SurveySpec]) -> tuple[str, ...]:
    """Channel names of concatenated inputs: ``survey:band``."""
    return tuple(f"{spec.name}:{band}" for spec in inputs for band in spec.bands)


def survey_pixels(images: np.ndarray, spec: SurveySpec) -> np.ndarray:
    """Cutouts in nanomaggies per pixel, or in units of their own noise when ``spec`` is not calibrated.

    Parameters
    ----------
    images : ndarray, shape (N, C, H, W)
        Stored pixels of ``spec``'s cutouts.
    spec : SurveySpec
        Their survey.

    Returns
    -------
    ndarray of float64
    """
    images = np.asarray(images, dtype=np.float64)
    if spec.calibrated:
        return images * spec.nanomaggies_per_unit
    median = np.median(images, axis=(-2, -1), keepdims=True)
    sigma = robust_sigma(images)[..., None, None]
    return (images - median) / np.where(sigma > 0, sigma, 1.0)


def on_target_grid(
    images: np.ndarray,
    spec: SurveySpec,
    target: SurveySpec,
    offsets: np.ndarray | None = None,
    target_offsets: np.ndarray | None = None,
) -> np.ndarray:
    """Cutouts of ``spec`` (in :func:`survey_pixels` units) regridded onto ``target``'s cutout grid.

    Parameters
    ----------
    images : ndarray, shape (N, C, h, w)
    spec, target : SurveySpec
        Their survey and the target survey.
    offsets, target_offsets : ndarray, shape (N, 2), optional
        Where each object lies on its cutout and on its target cutout, (x, y) pixels from the centre pixel
        (``offset_x``, ``offset_y`` of native-pixel cutouts; 0 for resampled ones).

    Returns
    -------
    ndarray of float32, shape (N, C, H, W)
        A flux per target pixel when ``spec`` is calibrated (values times the ratio of pixel areas).
    """
    shifts = np.zeros((len(images), 2))
    if offsets is not None:
        shifts += offsets
    if target_offsets is not None:
        shifts -= np.asarray(target_offsets) * target.pixel_scale / spec.pixel_scale
    regridded = regrid_cutouts(
        images,
        from_scale=spec.pixel_scale,
        to_scale=target.pixel_scale,
        to_size=target.cutout_size,
        shifts=shifts,
    )
    if spec.calibrated:
        regridded *= np.float32((target.pixel_scale / spec.pixel_scale) ** 2)
    return regridded


def survey_arrays(
    store: PairedStore,
    inputs: Sequence[SurveySpec],
    target: SurveySpec,
    rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The (inputs, target) images of ``rows`` of a paired store, as multi-input translation reads them.

    Parameters
    ----------
    store : PairedStore
        Written by ``galtk crossmatch --surveys``, with a member per survey of ``inputs`` and ``target``.
    inputs : sequence of SurveySpec
        The input surveys, in channel order.
    target : SurveySpec
        The target survey.
    rows : ndarray of int
        Pair rows.

    Returns
    -------
    inputs, target : ndarray of float32
        (N, C_in, H, W) and (N, C, H, W) on the target grid, in rescaled units (signed square root).
    """
    if not target.calibrated:
        raise TrainingDataError(
            f"the target survey must be flux-calibrated: {target.name}'s {target.unit} has no zero point "
            "(give unit_zeropoint in its [surveys.NAME] table, or choose another target)"
        )
    for spec in inputs:
        if spec.cutout_arcsec < target.cutout_arcsec:
            raise TrainingDataError(
                f"{spec.name}'s cutouts ({spec.cutout_arcsec:.1f}\") do not cover {target.name}'s "
                f'({target.cutout_arcsec:.1f}"): fetch {spec.name} with a cutout_size of at least '
                f"{int(np.ceil(target.cutout_arcsec / spec.pixel_scale))}"
            )
    target_store = store.member(target.name)
    target_offsets = object_offsets(target_store, rows)
    target_images = target_store.read(rows).images
    stacked = []
    for spec in inputs:
        member = store.member(spec.name)
        pixels = survey_pixels(member.read(rows).images, spec)
        stacked.append(on_target_grid(pixels, spec, target, object_offsets(member, rows), target_offsets))
    return (
        signed_sqrt(np.concatenate(stacked, axis=1)).astype(np.float32),
        signed_sqrt(survey_pixels(target_images, target)).astype(np.float32),
    )


def object_offsets(store: CutoutStore, rows: np.ndarray) -> np.ndarray | None:
    """Where each row's object lies from its cutout's centre pixel, (x, y) pixels (the first band's: one grid
    for all bands), when the store records it (native-pixel cutouts); None otherwise."""
    names = {extra.name for extra in store.schema.extras}
    if not {"offset_x", "offset_y"} <= names:
        return None
    x = np.asarray(store.extra("offset_x")[rows])[:, 0]
    y = np.asarray(store.extra("offset_y")[rows])[:, 0]
    offsets = np.stack([x, y], axis=1).astype(np.float64)
    return np.where(np.isfinite(offsets), offsets, 0.0)


def open_survey_pairs(path: str | Path, surveys: Sequence[str]) -> PairedStore:
    """Open a paired store of ``galtk crossmatch --surveys`` holding every survey of ``surveys``."""
    store = PairedStore.open(path)
    missing = [name for name in surveys if name not in store.surveys]
    if missing:
        raise StoreError(
            f"{path} holds {', '.join(store.surveys)}, not {', '.join(missing)}; pair them with "
            f"`galtk crossmatch --surveys {','.join(surveys)}`"
        )
    return store


@dataclass(kw_only=True)
class SurveyPairSources(ArrayPairSources):
    """The batches of a multi-input run: the training pairs of a paired store of several surveys.

    Attributes
    ----------
    path : Path
        The paired store.
    inputs : tuple of SurveySpec
        The input surveys, in channel order.
    target : SurveySpec
        The target survey.
    rows : ndarray of int64
        Rows of the store that train (once opened).
    """

    inputs: tuple[SurveySpec, ...]
    target: SurveySpec

    @property
    def input_bands(self) -> tuple[str, ...]:
        """Names of the input channels."""
        return input_band_names(self.inputs)

    def read_pairs(self, settings: TrainSettings) -> PairArrays:
        """The training pairs: the inputs on the target's grid, and the target, rescaled."""
        names = [spec.name for spec in (*self.inputs, self.target)]
        store = open_survey_pairs(self.path, names)
        rows = self.rows = np.flatnonzero(store.split == "train")
        if not len(rows):
            raise TrainingDataError(f"{self.path} holds no training pair")
        inputs, target = survey_arrays(store, self.inputs, self.target, rows)
        details = {
            "kind": "survey pairs",
            "inputs": [spec.name for spec in self.inputs],
            "target": self.target.name,
            "input_bands": list(self.input_bands),
            "bands": list(self.target.bands),
            "image_size": self.target.cutout_size,
            "pixel_scale": self.target.pixel_scale,
            "calibrated": {spec.name: spec.calibrated for spec in (*self.inputs, self.target)},
            "train_rows": len(rows),
        }
        return PairArrays(inputs, target, tuple(self.target.bands), self.input_bands, details)
