"""``galtk translate --method galaxygan``: recover FITS cutouts (or store rows) with a trained generator.

Each input is read as ``galtk translate`` reads it (:func:`~galtk.models.translation.cutout_inputs.
iter_inputs`: a cube, one HDU per band or one file per band, or rows of a cutout store), on the cutout grid of
the survey the run was trained on, recovered by the generator (:class:`~galtk.models.recovery.recoverer.
Recoverer`), and written as ``STEM_SURVEY_recovered.fits`` on the same grid (north up, centred on the input's
centre, the survey's pixel scale and unit) with galtk's provenance keywords (``METHOD = 'galaxygan'``,
``CKPTSHA``, ``INPUT``, ``DIRECTN = 'SURVEY-recovery'``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from galtk.errors import GaltkError, OutputExists
from galtk.models.recovery.recoverer import METHOD, Recoverer
from galtk.models.translation.batch import TranslateOutcome
from galtk.models.translation.cutout_fits import InputCutout
from galtk.models.translation.cutout_inputs import InputBatch, output_stem
from galtk.models.translation.translated_fits import write_translated
from galtk.pipeline.preprocess.transforms import nanomaggies_per_unit

SUFFIX = "recovered"


def recovered_name(cutout: InputCutout) -> str:
    """``STEM_SURVEY_recovered.fits`` for the recovery of ``cutout``."""
    return f"{output_stem(cutout)}_{cutout.survey.name}_{SUFFIX}.fits"


def recover_inputs(
    recoverer: Recoverer,
    batch: InputBatch,
    *,
    directory: Path = Path("."),
    output: Path | None = None,
    single: bool = False,
    overwrite: bool = False,
    advance: Callable[[int], None] | None = None,
) -> TranslateOutcome:
    """Recover every good cutout of ``batch`` and write one FITS file each.

    Parameters
    ----------
    recoverer : Recoverer
        The trained generator.
    batch : InputBatch
        The inputs, read on the cutout grid of the run's survey.
    directory : Path
        Directory of the outputs (ignored when ``output`` is given).
    output : Path, optional
        The output file of a single cutout.
    single : bool
        The batch is one input file: a problem with it raises instead of being skipped.
    overwrite : bool
        Replace existing files.
    advance : callable, optional
        Called with the number of inputs done.

    Returns
    -------
    TranslateOutcome

    Raises
    ------
    GaltkError
        For a single input: why it could not be recovered or written.
    """
    outcome = TranslateOutcome()
    taken: set[Path] = set()
    for cutout in batch:
        target = output or directory / recovered_name(cutout)
        problem = None
        if target in taken:
            problem = f"its output name {target} is taken by another input"
        elif cutout.survey.name != recoverer.data.get("survey"):
            problem = (
                f"it is a {cutout.survey.name} cutout; the run was trained on {recoverer.data.get('survey')}"
            )
        else:
            problem = _write(recoverer, cutout, target, overwrite, single)
        if problem is None:
            taken.add(target)
            outcome.written.append(target)
        else:
            outcome.skipped.append(f"{cutout.label}: {problem}")
        if advance:
            advance(1)
    outcome.skipped = [str(entry) for entry in batch.rejected] + outcome.skipped
    if single and outcome.skipped:
        raise GaltkError(outcome.skipped[0])
    return outcome


def _write(
    recoverer: Recoverer, cutout: InputCutout, target: Path, overwrite: bool, single: bool
) -> str | None:
    if tuple(cutout.bands) != recoverer.bands:
        return f"its bands {' '.join(cutout.bands)} are not the run's {' '.join(recoverer.bands)}"
    nanomaggies = cutout.data[None].astype(np.float64) * nanomaggies_per_unit(cutout.units)
    recovered = recoverer.recover(nanomaggies.astype(np.float32), "nanomaggy")[0]
    cube = recovered / nanomaggies_per_unit(cutout.survey.unit)
    provenance = {
        "method": METHOD,
        "checkpoint_sha256": recoverer.checkpoint_sha256,
        "checkpoint": recoverer.checkpoint.name,
        "input": ",".join(cutout.sources),
    }
    if cutout.object_id:
        provenance["object"] = cutout.object_id
    try:
        write_translated(
            target,
            cube,
            survey=cutout.survey,
            centre=cutout.centre,
            bands=cutout.bands,
            provenance=provenance,
            overwrite=overwrite,
            direction=f"{cutout.survey.name}-recovery",
        )
    except OutputExists as error:
        if single:
            raise
        return str(error)
    return None
