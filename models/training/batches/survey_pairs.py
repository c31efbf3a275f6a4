"""The training data of multi-input translation: several surveys of the same galaxies into a target survey.

``galtk crossmatch --surveys`` writes a paired store with one member per survey, rows aligned
(:mod:`galtk.pipeline.crossmatch.surveys`). For ``galtk train --method pix2pix --inputs B,C,D --target A``
each pair becomes (input, target) images on the target's cutout grid (:func:`survey_arrays`):

- every survey's pixels go to nanomaggies per pixel (its zero point). A survey that is not flux-calibrated
  (photographic densities, counts of unknown zero point) is put in units of its typical noise instead: each
  cutout's background (the median of its outer ring, :data:`BACKGROUND_RING_PX` wide) subtracted, divided
  by one robust (MAD) sigma per band for the whole survey, measured on the training pairs
  (:func:`input_noise_scales`) and recorded in the run, so that galaxies keep their relative fluxes (runs
  that recorded none divided each cutout by its own sigma, which loses them);
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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from galtk.errors import GaltkError, StoreError, TrainingDataError
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


#: Width in pixels of the outer ring of a cutout whose median is the background of an uncalibrated survey.
BACKGROUND_RING_PX = 2


def survey_pixels(
    images: np.ndarray, spec: SurveySpec, noise_sigma: Sequence[float] | None = None
) -> np.ndarray:
    """Cutouts in nanomaggies per pixel, or in units of the survey's noise when ``spec`` is not calibrated.

    Parameters
    ----------
    images : ndarray, shape (N, C, H, W)
        Stored pixels of ``spec``'s cutouts.
    spec : SurveySpec
        Their survey.
    noise_sigma : sequence of float, optional
        For an uncalibrated survey, its typical noise per band in its unit (:func:`input_noise_scales`):
        each cutout's background is subtracted and the result divided by it. None: each cutout's median
        subtracted and divided by its own sigma (how runs that recorded no noise scales were trained).

    Returns
    -------
    ndarray of float64
    """
    images = np.asarray(images, dtype=np.float64)
    if spec.calibrated:
        return images * spec.nanomaggies_per_unit
    if noise_sigma is None:
        median = np.median(images, axis=(-2, -1), keepdims=True)
        sigma = robust_sigma(images)[..., None, None]
        return (images - median) / np.where(sigma > 0, sigma, 1.0)
    sigma = np.asarray(noise_sigma, dtype=np.float64)
    if sigma.shape != (images.shape[1],) or not np.all(sigma > 0):
        raise GaltkError(
            f"{spec.name}: the noise scales must be {images.shape[1]} positive values, one per band, got "
            f"{list(sigma.ravel())}"
        )
    return (images - cutout_background(images)) / sigma[:, None, None]


def cutout_background(images: np.ndarray) -> np.ndarray:
    """The median of each cutout's outer ring (:data:`BACKGROUND_RING_PX` wide), shape (N, C, 1, 1)."""
    images = np.asarray(images, dtype=np.float64)
    ring = np.ones(images.shape[-2:], dtype=bool)
    inner = BACKGROUND_RING_PX
    if min(images.shape[-2:]) > 2 * inner:
        ring[inner:-inner, inner:-inner] = False
    return np.median(images[..., ring], axis=-1)[..., None, None]


def input_noise_scales(
    store: PairedStore, inputs: Sequence[SurveySpec], rows: np.ndarray
) -> dict[str, tuple[float, ...]]:
    """The typical noise per band of each uncalibrated input survey, in its own unit, on ``rows``.

    The median over the cutouts of their robust (MAD) sigma once the background is subtracted: one scale per
    survey and band, so that :func:`survey_pixels` keeps the galaxies' relative fluxes.

    Raises
    ------
    TrainingDataError
        If a survey's cutouts hold no noise (a sigma of 0) in some band.
    """
    scales = {}
    for spec in inputs:
        if spec.calibrated:
            continue
        images = np.asarray(store.member(spec.name).read(rows).images, dtype=np.float64)
        sigma = np.median(robust_sigma(images - cutout_background(images)), axis=0)
        if not np.all(np.isfinite(sigma) & (sigma > 0)):
            raise TrainingDataError(
                f"{spec.name}'s cutouts have no measurable noise in some band (sigma {list(sigma)}); "
                "an uncalibrated survey is read in units of its noise"
            )
        scales[spec.name] = tuple(float(value) for value in sigma)
    return scales


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
    noise_scales: Mapping[str, Sequence[float]] | None = None,
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
    noise_scales : mapping of str to sequence of float, optional
        The noise per band of each uncalibrated input (:func:`input_noise_scales`, a run's record); None:
        each of their cutouts in units of its own noise (runs that recorded none).

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
        sigma = None
        if noise_scales is not None and not spec.calibrated:
            if spec.name not in noise_scales:
                raise TrainingDataError(f"no noise scale of the uncalibrated {spec.name} was recorded")
            sigma = noise_scales[spec.name]
        pixels = survey_pixels(member.read(rows).images, spec, sigma)
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
        scales = input_noise_scales(store, self.inputs, rows)
        inputs, target = survey_arrays(store, self.inputs, self.target, rows, scales)
        details = {
            "kind": "survey pairs",
            "inputs": [spec.name for spec in self.inputs],
            "target": self.target.name,
            "input_bands": list(self.input_bands),
            "bands": list(self.target.bands),
            "image_size": self.target.cutout_size,
            "pixel_scale": self.target.pixel_scale,
            "calibrated": {spec.name: spec.calibrated for spec in (*self.inputs, self.target)},
            "noise_scales": {name: list(values) for name, values in scales.items()},
            "train_rows": len(rows),
        }
        return PairArrays(inputs, target, tuple(self.target.bands), self.input_bands, details)
