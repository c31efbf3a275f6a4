"""The batch loop of ``galtk translate``: input cutouts through a translator into FITS files.

:func:`translate_inputs` takes the cutouts of an :class:`~galtk.models.translation.cutout_inputs.InputBatch`
in chunks, gives every output its own noise seed (consecutive from the first, so each file's recorded seed
reproduces it alone), names the outputs ``STEM_SURVEY.fits`` (``STEM_SURVEY_sNN.fits`` with several noise
samples), and writes them with :func:`~galtk.models.translation.translated_fits.write_translated`. Inputs that
cannot be translated, outputs that exist already, and two inputs that would share an output name are skipped
and listed, except for a single input file, where they are errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from galtk.errors import GaltkError, OutputExists
from galtk.models.translation.cutout_fits import InputCutout
from galtk.models.translation.cutout_inputs import InputBatch, output_stem
from galtk.models.translation.translated_fits import write_translated
from galtk.models.translation.translator import (
    TranslatedCutout,
    Translator,
    sample_seeds,
    translate_cutouts,
)


@dataclass(frozen=True)
class TranslateSettings:
    """How ``galtk translate`` translates and writes (its command-line options).

    Attributes
    ----------
    seed : int
        Seed of the first output's noise; the next outputs take the next seeds.
    noise : bool
        Add the target survey's emulated noise (False: the noiseless component).
    samples : int
        Noise realisations per input.
    noiseless : bool
        Add the noiseless translation as a NOISELESS extension of each file.
    overwrite : bool
        Replace existing output files.
    batch_size : int
        Cutouts per forward pass.
    """

    seed: int = 0
    noise: bool = True
    samples: int = 1
    noiseless: bool = False
    overwrite: bool = False
    batch_size: int = 64


@dataclass
class TranslateOutcome:
    """What :func:`translate_inputs` did.

    Attributes
    ----------
    written : list of Path
        The files written, in input order.
    skipped : list of str
        One line per input left out: the unreadable inputs first, then outputs not written.
    """

    written: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def translate_inputs(
    translator: Translator,
    batch: InputBatch,
    *,
    settings: TranslateSettings,
    directory: Path = Path("."),
    output: Path | None = None,
    single: bool = False,
    advance: Callable[[int], None] | None = None,
) -> TranslateOutcome:
    """Translate every good cutout of ``batch`` and write one FITS file per output.

    Parameters
    ----------
    translator : Translator
        The trained model.
    batch : InputBatch
        The inputs (see :func:`~galtk.models.translation.cutout_inputs.iter_inputs`).
    settings : TranslateSettings
        Seeds, noise, samples, extensions, overwriting and chunk size.
    directory : Path, optional
        Directory of the outputs (ignored when ``output`` is given).
    output : Path, optional
        The output file of a batch of one cutout with one sample.
    single : bool, optional
        The batch is one input file: a problem with it raises instead of being skipped.
    advance : callable, optional
        Called with the number of inputs done (translated or skipped) as the work goes on.

    Returns
    -------
    TranslateOutcome

    Raises
    ------
    GaltkError
        For a single input: the reason it could not be translated or written.
    """
    advance = advance or (lambda _done: None)
    outcome = TranslateOutcome()
    taken: set[Path] = set()
    next_seed = settings.seed
    for chunk in _chunks(batch, settings.batch_size, advance):
        seeds = sample_seeds(next_seed, len(chunk), settings.samples)
        next_seed += len(chunk) * settings.samples
        translated = translate_cutouts(
            translator, chunk, seeds, noise=settings.noise, batch_size=settings.batch_size
        )
        for outputs in translated:
            for result in outputs:
                target = output or directory / output_name(result, settings.samples)
                problem = _write(translator, result, target, taken, settings, single)
                if problem is None:
                    taken.add(target)
                    outcome.written.append(target)
                else:
                    outcome.skipped.append(f"{result.cutout.label}: {problem}")
            advance(1)
    outcome.skipped = [str(entry) for entry in batch.rejected] + outcome.skipped
    if single and outcome.skipped:
        raise GaltkError(outcome.skipped[0])
    return outcome


def output_name(result: TranslatedCutout, samples: int) -> str:
    """``STEM_SURVEY.fits`` (``STEM_SURVEY_sNN.fits`` with several samples) for an output of a cutout."""
    suffix = f"_s{result.sample:02d}" if samples > 1 else ""
    return f"{output_stem(result.cutout)}_{result.survey.name}{suffix}.fits"


def _write(
    translator: Translator,
    result: TranslatedCutout,
    target: Path,
    taken: set[Path],
    settings: TranslateSettings,
    single: bool,
) -> str | None:
    """Write one output file; the reason it was not written, or None."""
    if target in taken:
        return f"its output name {target} is taken by another input"
    try:
        write_translated(
            target,
            result.image,
            survey=result.survey,
            centre=result.cutout.centre,
            bands=result.cutout.bands,
            provenance=result.provenance(translator),
            noiseless=result.noiseless if settings.noiseless else None,
            overwrite=settings.overwrite,
            pixel_scale=result.pixel_scale,
        )
    except OutputExists as error:
        if single:
            raise
        return str(error)
    return None


def _chunks(batch: InputBatch, size: int, advance: Callable[[int], None]) -> Iterator[list[InputCutout]]:
    """Good cutouts of ``batch`` in lists of ``size``; rejected inputs are counted done as they are found."""
    chunk: list[InputCutout] = []
    rejected = len(batch.rejected)
    for cutout in batch:
        if len(batch.rejected) > rejected:
            advance(len(batch.rejected) - rejected)
        rejected = len(batch.rejected)
        chunk.append(cutout)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if len(batch.rejected) > rejected:
        advance(len(batch.rejected) - rejected)
    if chunk:
        yield chunk
