"""What an evaluation starts from: the original test images of one direction, and checks on the inputs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from galtk.errors import EvaluationError
from galtk.pipeline.surveys import SurveySpec, get_survey

#: Method and direction names appear in file names: a letter or digit, then letters, digits, '.', '_', '-'.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def check_name(kind: str, name: str) -> str:
    """Return ``name`` if it can be a method or direction name (see :data:`NAME_PATTERN`), else raise.

    Raises
    ------
    EvaluationError
    """
    if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
        raise EvaluationError(
            f"{kind} name {name!r} must start with a letter or digit and hold only letters, digits, "
            "'.', '_' and '-'"
        )
    return name


@dataclass(frozen=True, eq=False)
class EvaluationSet:
    """The original test images of one translation direction and what is known about their noise.

    Every method translated the same test objects; its generated images are compared with ``original``
    (see :func:`galtk.models.evaluation.evaluate_method`).

    Parameters
    ----------
    direction : str
        Name of the direction, e.g. ``"sdss_to_cfht"`` (used in file names, see :data:`NAME_PATTERN`).
    survey : str or SurveySpec
        Survey of the original images (the target survey of the translation): it fixes the pixel unit and,
        unless ``pixel_scale`` is given, the pixel scale.
    original : ndarray, shape (N, C, H, W)
        Original (real) images in the survey's pixel unit (nanomaggies for SDSS, AB zero point 30 ADU for
        CFHT), as stored and as ``galtk translate`` writes them. Must be finite.
    bands : sequence of str, optional
        Name of each of the C bands; the survey's bands if omitted.
    true_sigma : ndarray, shape (N, C), optional
        True per-pixel noise standard deviation of each original image and band, in the pixel unit (the
        ``noise_sigma`` of synthetic stores).
    emulator_noise : ndarray, shape (M, C, H, W), optional
        Noise-only images drawn from the survey's Noise Emulator and returned to the pixel unit
        (``inverse_rescale(noise_emulator.sample(M, (H, W)), survey)``): the paper's reference noise level.
    pixel_scale : float, optional
        Arcsec per pixel of the images (e.g. 0.396 for regridded CFHT); the survey's if omitted.

    Raises
    ------
    EvaluationError
        If the shapes disagree, there are no images, the survey is unknown or the name is unusable.
    """

    direction: str
    survey: SurveySpec | str
    original: np.ndarray = field(repr=False)
    bands: Sequence[str] | None = None
    true_sigma: np.ndarray | None = field(default=None, repr=False)
    emulator_noise: np.ndarray | None = field(default=None, repr=False)
    pixel_scale: float | None = None

    def __post_init__(self) -> None:
        check_name("direction", self.direction)
        spec = self.survey if isinstance(self.survey, SurveySpec) else _survey(self.survey)
        object.__setattr__(self, "survey", spec)
        if (
            np.ndim(self.original) != 4
            or np.shape(self.original)[0] == 0
            or min(np.shape(self.original)[2:]) < 5
        ):
            raise EvaluationError(
                f"{self.direction}: original images must be a non-empty (N, C, H, W) array of at least "
                f"5 x 5 pixels, got shape {np.shape(self.original)}"
            )
        bands = tuple(spec.bands if self.bands is None else self.bands)
        if len(bands) != self.original.shape[1]:
            raise EvaluationError(
                f"{self.direction}: {len(bands)} band names for {self.original.shape[1]} bands of images"
            )
        object.__setattr__(self, "bands", bands)
        if self.true_sigma is not None and np.shape(self.true_sigma) != self.original.shape[:2]:
            raise EvaluationError(
                f"{self.direction}: true_sigma must have shape {self.original.shape[:2]} (image, band), "
                f"got {np.shape(self.true_sigma)}"
            )
        if self.emulator_noise is not None and (
            np.ndim(self.emulator_noise) != 4
            or np.shape(self.emulator_noise)[0] == 0
            or np.shape(self.emulator_noise)[1:] != self.original.shape[1:]
        ):
            raise EvaluationError(
                f"{self.direction}: emulator_noise must have shape (M, C, H, W) with M > 0 and (C, H, W) = "
                f"{self.original.shape[1:]}, got {np.shape(self.emulator_noise)}"
            )
        if self.pixel_scale is not None and not self.pixel_scale > 0:
            raise EvaluationError(f"{self.direction}: pixel_scale must be positive, got {self.pixel_scale}")

    @property
    def spec(self) -> SurveySpec:
        """The survey as a :class:`~galtk.pipeline.surveys.SurveySpec`."""
        return self.survey if isinstance(self.survey, SurveySpec) else _survey(self.survey)

    @property
    def band_names(self) -> tuple[str, ...]:
        """The band names as a tuple."""
        return self.spec.bands if self.bands is None else tuple(self.bands)

    @property
    def arcsec_per_pixel(self) -> float:
        """Pixel scale of the images in arcsec."""
        return self.spec.pixel_scale if self.pixel_scale is None else float(self.pixel_scale)

    @property
    def nanomaggies_per_unit(self) -> float:
        """Factor from the pixel unit to nanomaggies."""
        return self.spec.nanomaggies_per_unit


def _survey(name: str) -> SurveySpec:
    try:
        return get_survey(name)
    except KeyError as error:
        raise EvaluationError(str(error.args[0])) from None


def check_generated(evaluation_set: EvaluationSet, generated: np.ndarray, method: str) -> None:
    """Raise :class:`EvaluationError` unless ``generated`` has the shape of the set's originals."""
    if np.shape(generated) != evaluation_set.original.shape:
        raise EvaluationError(
            f"{method}, {evaluation_set.direction}: generated images have shape {np.shape(generated)}, "
            f"the originals {evaluation_set.original.shape}"
        )
