"""``galtk translate``: translate FITS cutouts (or store rows) to the other survey with a trained model."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from galtk.cli._common import WorkspaceOption, console, cutout_progress, exit_with_error, reports_errors
from galtk.errors import ConfigError, GaltkError

if TYPE_CHECKING:
    from galtk.models.translation.cutout_fits import InputCutout
    from galtk.models.translation.cutout_inputs import InputBatch
    from galtk.models.translation.translator import TranslatedCutout, Translator


@reports_errors
def translate_command(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="FITS cutouts (a cube, one HDU per band, or one file per band), directories, glob patterns"
            " or cutout stores (.zarr).",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Output file, for a single input cutout.",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            help="Directory of the output files, named INPUT_SURVEY.fits (default: the current directory).",
            show_default=False,
            file_okay=False,
        ),
    ] = None,
    direction: Annotated[
        str | None,
        typer.Option(
            "--direction",
            help="sdss2cfht or cfht2sdss (default: inferred from each input's pixel scale, shape, header).",
            show_default=False,
        ),
    ] = None,
    units: Annotated[
        str | None,
        typer.Option(
            "--units",
            help="Pixel unit of every input band, nanomaggy or adu_zp30 (default: from BUNIT/zero point).",
            show_default=False,
        ),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            "--method",
            "-m",
            help="Use the latest run of this method (default: \\[train] method).",
            show_default=False,
        ),
    ] = None,
    run: Annotated[
        str | None,
        typer.Option(
            "--run", help="Use this run (a directory, or its name under \\[train] runs).", show_default=False
        ),
    ] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="Use this checkpoint file.", show_default=False, dir_okay=False),
    ] = None,
    seed: Annotated[
        int,
        typer.Option(
            "--seed",
            min=0,
            help="Seed of the first output's noise; the next outputs take the next seeds (each file records"
            " its own).",
        ),
    ] = 0,
    noise: Annotated[
        bool,
        typer.Option(
            "--noise/--no-noise",
            help="Add the target survey's emulated noise (--no-noise: noiseless component).",
        ),
    ] = True,
    samples: Annotated[
        int,
        typer.Option("--samples", min=1, help="Noise realisations per input (files NAME_SURVEY_sNN.fits)."),
    ] = 1,
    noiseless: Annotated[
        bool,
        typer.Option(
            "--noiseless", help="Add the noiseless translation as a NOISELESS extension of each file."
        ),
    ] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing output files.")] = False,
    device: Annotated[
        str, typer.Option("--device", help="auto (CUDA if present), cpu, cuda or cuda:N.")
    ] = "auto",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Cutouts per forward pass.")] = 64,
    workspace: WorkspaceOption = None,
) -> None:
    """Translate 5-band galaxy cutouts to the other survey and write FITS files with WCS.

    SDSS cutouts (64x64, nanomaggies) become CFHTLS ones (136x136, ZP30 ADU) and back, with the generator of
    a trained run plus the target survey's emulated noise, returned to physical units; the output cube is
    centred on the input's centre, north up, at the target survey's pixel scale. A single input file that
    cannot be translated is an error; in batch mode (several inputs, a directory, a glob or a store) bad
    inputs are skipped and listed. See docs/translate.md.
    """
    from galtk.models.training.config import resolve_device
    from galtk.models.translation.cutout_inputs import iter_inputs
    from galtk.models.translation.translated_fits import OutputExists, write_translated
    from galtk.models.translation.translator import find_checkpoint, load_translator, sample_seeds
    from galtk.pipeline.surveys import BANDS

    if output is not None and output_dir is not None:
        raise GaltkError("give either --output (one input) or --output-dir, not both")
    if output is not None and samples > 1:
        raise GaltkError("--output names one file; with --samples use --output-dir")
    survey = None if direction is None else _input_survey(direction)
    batch = iter_inputs(inputs, survey=survey, units=units)
    single = len(inputs) == 1 and len(batch) == 1 and Path(inputs[0]).is_file()
    if output is not None and len(batch) != 1:
        raise GaltkError(f"--output names one file but {len(batch)} cutouts were given; use --output-dir")
    if output is not None and output.exists() and not overwrite:
        raise OutputExists(f"{output} already exists; pass --overwrite to replace it")
    path = find_checkpoint(_runs(workspace, checkpoint), method=method, run=run, checkpoint=checkpoint)
    translator = load_translator(path, method=method, bands=BANDS, device=resolve_device(device))
    if noiseless and not translator.is_stochastic:
        console.print(f"{translator.method} has no emulated noise: the NOISELESS extension equals the image")
    directory = output_dir if output_dir is not None else Path(".")
    console.print(
        f"galtk translate: {len(batch)} cutout(s), {translator.method} ({path.name}) on {translator.device}"
    )
    written: list[Path] = []
    taken: set[Path] = set()
    skipped: list[str] = []
    next_seed = seed
    with cutout_progress() as progress:
        task = progress.add_task("translate", total=len(batch))
        for chunk in _chunks(batch, batch_size, progress, task):
            seeds = sample_seeds(next_seed, len(chunk), samples)
            next_seed += len(chunk) * samples
            for outputs in _translate(translator, chunk, seeds, noise, batch_size):
                for result in outputs:
                    target = output or directory / _output_name(result, samples)
                    if target in taken:
                        skipped.append(
                            f"{result.cutout.label}: its output name {target} is taken by another input"
                        )
                        continue
                    try:
                        write_translated(
                            target,
                            result.image,
                            survey=result.survey,
                            centre=result.cutout.centre,
                            bands=result.cutout.bands,
                            provenance=result.provenance(translator),
                            noiseless=result.noiseless if noiseless else None,
                            overwrite=overwrite,
                            pixel_scale=result.pixel_scale,
                        )
                    except OutputExists as error:
                        if single:
                            raise
                        skipped.append(f"{result.cutout.label}: {error}")
                        continue
                    taken.add(target)
                    written.append(target)
                progress.advance(task, 1)
        progress.advance(task, len(batch) - progress.tasks[task].completed)
    skipped = [str(entry) for entry in batch.rejected] + skipped
    if single and skipped:
        exit_with_error(skipped[0])
    console.print(f"wrote {len(written)} file(s)" + (f" in {directory}" if output is None else f": {output}"))
    if skipped:
        console.print(f"skipped {len(skipped)} input(s):")
        for line in skipped:
            console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    if not written:
        exit_with_error("nothing was translated")


def _input_survey(direction: str) -> str:
    from galtk.models.translation.cutout_survey import survey_of_direction

    return survey_of_direction(direction).name


def _runs(workspace: Path | None, checkpoint: Path | None) -> Path:
    """The workspace's runs directory; without a workspace only --checkpoint can name the model."""
    from galtk.pipeline.workspace import load_workspace

    try:
        ws = load_workspace(workspace)
    except ConfigError as error:
        if checkpoint is not None:
            return Path("runs")
        raise GaltkError(f"{error}; outside a workspace, name the model with --checkpoint FILE") from None
    return ws.resolve(ws.config.train.runs)


def _chunks(batch: InputBatch, size: int, progress, task) -> Iterator[list[InputCutout]]:
    """Good cutouts of ``batch`` in lists of ``size``; skipped inputs advance the bar as they are found."""
    chunk: list[InputCutout] = []
    rejected = len(batch.rejected)
    for cutout in batch:
        progress.advance(task, len(batch.rejected) - rejected)
        rejected = len(batch.rejected)
        chunk.append(cutout)
        if len(chunk) == size:
            yield chunk
            chunk = []
    progress.advance(task, len(batch.rejected) - rejected)
    if chunk:
        yield chunk


def _translate(
    translator: Translator, chunk: Sequence[InputCutout], seeds: list[list[int]], noise: bool, batch_size: int
) -> list[list[TranslatedCutout]]:
    from galtk.models.translation.translator import translate_cutouts

    return translate_cutouts(translator, chunk, seeds, noise=noise, batch_size=batch_size)


def _output_name(result: TranslatedCutout, samples: int) -> str:
    """``STEM_SURVEY.fits`` (``STEM_SURVEY_sNN.fits`` with several samples) for an input cutout."""
    from galtk.models.translation.cutout_inputs import output_stem

    suffix = f"_s{result.sample:02d}" if samples > 1 else ""
    return f"{output_stem(result.cutout)}_{result.survey.name}{suffix}.fits"
