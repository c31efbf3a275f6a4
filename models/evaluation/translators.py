"""Evaluating trained translators on the test pairs: what ``galtk evaluate`` runs between reading and writing.

Each translator (:class:`galtk.models.translation.translator.Translator`) translates the SDSS image of every
test pair to CFHT and its CFHT image to SDSS, with one noise seed per output image (the same seeds for every
method); each translation is compared with the pair's other image (:func:`evaluate_translators`).

Directions of the report:

``sdss2cfht``
    SDSS -> CFHT on the CFHT grid (136 x 136 px at 0.186"/px), against the CFHT originals. Methods whose
    networks see CFHT images on their own grid (every method but ``cyclegan`` and ``augcgan``).
``sdss2cfht-regridded``
    SDSS -> CFHT on the SDSS grid (64 x 64 px at 0.396"/px), against the CFHT originals regridded as for
    training (:func:`~galtk.models.evaluation.pairs.regrid_to_sdss_grid`). Only when a method trained on
    regridded CFHT images is evaluated; the CFHT outputs of the other methods are then regridded the same
    way, so that every method appears in it. Pixels hold ZP30 ADU per SDSS pixel.
``cfht2sdss``
    CFHT -> SDSS (64 x 64 px at 0.396"/px, nanomaggies), against the SDSS originals. Every method.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from galtk.errors import EvaluationError
from galtk.models.evaluation.inputs import EvaluationSet, check_name
from galtk.models.evaluation.pairs import TestPairs, regrid_to_sdss_grid
from galtk.models.evaluation.results import (
    DEFAULT_EXAMPLES,
    EvaluationResult,
    evaluate_method,
    measure_originals,
)
from galtk.models.translation.cutout_survey import CFHT_TO_SDSS, SDSS_TO_CFHT
from galtk.pipeline.preprocess.transforms import inverse_rescale, rescale
from galtk.pipeline.surveys import get_survey

SDSS_TO_CFHT_REGRIDDED = f"{SDSS_TO_CFHT}-regridded"
#: Every direction a report can hold, in report order.
DIRECTIONS = (SDSS_TO_CFHT, SDSS_TO_CFHT_REGRIDDED, CFHT_TO_SDSS)
#: Choices of the reference noise level sigma of the global-shape figure (see :func:`evaluate_translators`).
REFERENCE_NOISE_CHOICES = ("auto", "true", "emulator")
#: Noise Emulator samples kept for the reference level of each direction.
EMULATOR_SAMPLES = 512


class TranslatorLike(Protocol):
    """What :func:`evaluate_translators` needs of a
    :class:`galtk.models.translation.translator.Translator`."""

    method: str
    cfht_array: str

    @property
    def has_noise_emulators(self) -> bool:
        """True when the translations carry Noise Emulator noise."""
        ...

    def identity(self) -> Mapping[str, Any]:
        """What names the model (run, checkpoint and digest, iterations, width), JSON-ready."""
        ...

    def translate(
        self,
        images: np.ndarray,
        *,
        direction: str,
        seeds: Sequence[int],
        units: str | None = None,
        noise: bool = True,
        batch_size: int = 64,
    ) -> Any:
        """Translate images; the result has ``images`` and ``noiseless`` arrays in the target unit."""
        ...


@dataclass(frozen=True)
class _Generated:
    """One method's translations per direction, and Noise Emulator samples per direction (if it has any)."""

    images: dict[str, np.ndarray]
    emulator_noise: dict[str, np.ndarray]


def report_directions(translators: Mapping[str, TranslatorLike]) -> tuple[str, ...]:
    """The directions a report of ``translators`` holds (see the module docstring), in report order."""
    arrays = {translator.cfht_array for translator in translators.values()}
    unknown = sorted(arrays - {"rescaled", "regridded"})
    if unknown:
        raise EvaluationError(f"unknown CFHT array {unknown[0]!r} of a translator")
    wanted = {CFHT_TO_SDSS}
    if "rescaled" in arrays:
        wanted.add(SDSS_TO_CFHT)
    if "regridded" in arrays:
        wanted.add(SDSS_TO_CFHT_REGRIDDED)
    return tuple(direction for direction in DIRECTIONS if direction in wanted)


def image_seeds(seed: int, count: int) -> dict[str, list[int]]:
    """Noise seed of each output image: ``seed + i`` SDSS -> CFHT and ``seed + count + i`` CFHT -> SDSS.

    The regridded direction uses the SDSS -> CFHT translations, so it shares their seeds.
    """
    if seed < 0 or seed + 2 * count > 2**63:
        raise EvaluationError(f"seed {seed} is outside 0 .. 2**63 - 1 for {2 * count} images")
    return {
        SDSS_TO_CFHT: [seed + i for i in range(count)],
        CFHT_TO_SDSS: [seed + count + i for i in range(count)],
    }


def evaluate_translators(
    translators: Mapping[str, TranslatorLike],
    pairs: TestPairs,
    *,
    seed: int = 0,
    reference_noise: str = "auto",
    batch_size: int = 64,
    examples: int = DEFAULT_EXAMPLES,
    on_start: Callable[[str, int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[EvaluationResult]:
    """Translate the test pairs with every translator and evaluate the translations.

    Only one method's translations are held in memory at a time.

    Parameters
    ----------
    translators : mapping of str to Translator
        Name in the report (see :data:`~galtk.models.evaluation.inputs.NAME_PATTERN`) -> translator, in
        report order.
    pairs : TestPairs
        The test pairs (:func:`~galtk.models.evaluation.pairs.read_test_pairs`), bands in the translators'
        order.
    seed : int, optional
        Noise seed of the first output image (see :func:`image_seeds`).
    reference_noise : {"auto", "true", "emulator"}, optional
        Where the reference noise level sigma of the global-shape figure (paper Fig. 5) comes from in the
        ``sdss2cfht`` and ``cfht2sdss`` directions. ``"true"``: the true noise sigma stored with synthetic
        images. ``"emulator"``: the Noise Emulator of the first translator that has them (the paper's
        definition; its emulated noise, measured on its translations of the test images). ``"auto"``: the
        true sigma when the store has it, else the Noise Emulator when a translator has one, else the noise
        sigma measured on the originals. The regridded direction always uses the measured one.
    batch_size : int, optional
        Images per forward pass.
    examples : int, optional
        Images of each direction shown in the image grids and colour composites.
    on_start, on_progress : callable, optional
        Progress callbacks: ``on_start(description, total)`` when a pass over the images starts (reading
        is not one), ``on_progress(count)`` as images are translated or measured.

    Returns
    -------
    list of EvaluationResult
        One per translator, in the order of ``translators``, each with the translator's identity as
        ``model``.

    Raises
    ------
    EvaluationError
        If there is no translator, a name is unusable, the reference noise cannot be had, or a translator's
        outputs do not have the originals' shape.
    """
    if not translators:
        raise EvaluationError("no method to evaluate")
    for name in translators:
        check_name("method", name)
    if reference_noise not in REFERENCE_NOISE_CHOICES:
        raise EvaluationError(
            f"unknown reference noise {reference_noise!r}; use {', '.join(REFERENCE_NOISE_CHOICES)}"
        )
    directions = report_directions(translators)
    has_true = pairs.sdss_sigma is not None and pairs.cfht_sigma is not None
    with_emulator = [name for name, t in translators.items() if t.has_noise_emulators]
    if reference_noise == "true" and not has_true:
        raise EvaluationError(
            f"{pairs.path} records no true noise sigma (synthetic stores do); use --reference-noise auto"
        )
    if reference_noise == "emulator" and not with_emulator:
        raise EvaluationError(
            "no evaluated method has Noise Emulators (ours, ours-step2 and ours-auto do); use"
            " --reference-noise auto"
        )
    use_emulator = reference_noise == "emulator" or (reference_noise == "auto" and not has_true)
    reference = with_emulator[0] if use_emulator and with_emulator else None
    seeds = image_seeds(seed, len(pairs))
    order = sorted(translators, key=lambda name: name != reference)
    hooks = {"on_start": on_start, "on_progress": on_progress}
    originals = None
    results: dict[str, EvaluationResult] = {}
    for name in order:
        translator = translators[name]
        generated = _translate(
            name,
            translator,
            pairs,
            directions,
            seeds,
            batch_size=batch_size,
            keep_noise=name == reference,
            **hooks,
        )
        if originals is None:
            sets = _evaluation_sets(pairs, directions, generated.emulator_noise, has_true)
            originals = [measure_originals(evaluation_set, **hooks) for evaluation_set in sets]
        results[name] = evaluate_method(
            name, generated.images, originals, examples=examples, model=translator.identity(), **hooks
        )
        del generated
    return [results[name] for name in translators]


def _translate(
    name: str,
    translator: TranslatorLike,
    pairs: TestPairs,
    directions: Sequence[str],
    seeds: dict[str, list[int]],
    *,
    batch_size: int,
    keep_noise: bool,
    on_start: Callable[[str, int], None] | None,
    on_progress: Callable[[int], None] | None,
) -> _Generated:
    sdss, cfht = get_survey("sdss"), get_survey("cfht")
    images: dict[str, np.ndarray] = {}
    noise: dict[str, np.ndarray] = {}
    for direction, inputs, target in ((SDSS_TO_CFHT, pairs.sdss, cfht), (CFHT_TO_SDSS, pairs.cfht, sdss)):
        if on_start is not None:
            on_start(f"translate {name} {direction}", len(pairs))
        outputs, samples = [], []
        kept = 0
        for start in range(0, len(pairs), batch_size):
            stop = min(start + batch_size, len(pairs))
            done = translator.translate(
                inputs[start:stop],
                direction=direction,
                seeds=seeds[direction][start:stop],
                batch_size=batch_size,
            )
            outputs.append(np.asarray(done.images, dtype=np.float32))
            if keep_noise and kept < EMULATOR_SAMPLES:
                take = min(EMULATOR_SAMPLES - kept, stop - start)
                samples.append(_emulated_noise(done.images[:take], done.noiseless[:take], target.unit))
                kept += take
            if on_progress is not None:
                on_progress(stop - start)
        result = np.concatenate(outputs)
        if samples:
            noise[direction] = np.concatenate(samples)
        if direction == CFHT_TO_SDSS:
            _check_shape(name, direction, result, pairs.sdss.shape)
            images[CFHT_TO_SDSS] = result
        elif translator.cfht_array == "regridded":
            _check_shape(name, SDSS_TO_CFHT_REGRIDDED, result, (*pairs.cfht.shape[:2], *pairs.sdss.shape[2:]))
            images[SDSS_TO_CFHT_REGRIDDED] = result
        else:
            _check_shape(name, direction, result, pairs.cfht.shape)
            images[SDSS_TO_CFHT] = result
            if SDSS_TO_CFHT_REGRIDDED in directions:
                images[SDSS_TO_CFHT_REGRIDDED] = regrid_to_sdss_grid(result)
    return _Generated(images={d: images[d] for d in directions if d in images}, emulator_noise=noise)


def _emulated_noise(images: np.ndarray, noiseless: np.ndarray, unit: str) -> np.ndarray:
    """The emulated noise of translations, returned to the pixel unit (as the evaluation library wants).

    Translations are ``inverse_rescale(G(x) + n)`` and their noiseless components ``inverse_rescale(G(x))``,
    so ``rescale(images) - rescale(noiseless)`` is the Noise Emulator sample n of each image.
    """
    drawn = rescale(np.asarray(images, dtype=np.float64), unit) - rescale(
        np.asarray(noiseless, dtype=np.float64), unit
    )
    return inverse_rescale(drawn, unit).astype(np.float32)


def _check_shape(name: str, direction: str, images: np.ndarray, expected: tuple[int, ...]) -> None:
    if images.shape != tuple(expected):
        raise EvaluationError(
            f"{name} translated {direction} to images of shape {images.shape}, the originals have"
            f" {tuple(expected)}"
        )


def _evaluation_sets(
    pairs: TestPairs,
    directions: Sequence[str],
    emulator_noise: Mapping[str, np.ndarray],
    has_true: bool,
) -> list[EvaluationSet]:
    surveys = pairs.surveys
    sets = []
    for direction in directions:
        if direction == SDSS_TO_CFHT_REGRIDDED:
            sets.append(
                EvaluationSet(
                    direction,
                    surveys["cfht"],
                    regrid_to_sdss_grid(pairs.cfht),
                    pixel_scale=surveys["sdss"].pixel_scale,
                )
            )
            continue
        survey, original, sigma = (
            ("cfht", pairs.cfht, pairs.cfht_sigma)
            if direction == SDSS_TO_CFHT
            else ("sdss", pairs.sdss, pairs.sdss_sigma)
        )
        sets.append(
            EvaluationSet(
                direction,
                surveys[survey],
                original,
                true_sigma=sigma if has_true else None,
                emulator_noise=emulator_noise.get(direction),
            )
        )
    return sets
