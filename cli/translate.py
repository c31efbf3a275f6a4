"""``galtk translate``: translate FITS cutouts (or store rows) to the other survey with a trained model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from galtk.cli import WorkspaceOption, console, cutout_progress, exit_with_error, reports_errors
from galtk.errors import ConfigError, GaltkError

if TYPE_CHECKING:
    pass


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
        str | None,
        typer.Option(
            "--device",
            help="auto (CUDA if present), cpu, cuda or cuda:N. Default: \\[train] device (auto outside a"
            " workspace).",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Cutouts per forward pass.")] = 64,
    workspace: WorkspaceOption = None,
) -> None:
    """Translate 5-band galaxy cutouts to the other survey and write FITS files with WCS.

    SDSS cutouts (64x64, nanomaggies) become CFHTLS ones (136x136, ZP30 ADU) and back, with the generator of
    a trained run plus the target survey's emulated noise, returned to physical units; the output cube is
    centred on the input's centre, north up, at the target survey's pixel scale. A single input file that
    cannot be translated is an error; in batch mode (several inputs, a directory, a glob or a store) bad
    inputs are skipped and listed. See docs/translate.md. With --method galaxygan, cutouts are recovered
    by a GalaxyGAN run instead, on their own survey's grid (docs/recovery.md).
    """
    from galtk.models.training.settings import resolve_device
    from galtk.models.translation.batch import TranslateSettings, translate_inputs
    from galtk.models.translation.cutout_inputs import iter_inputs
    from galtk.models.translation.translator import find_checkpoint, load_translator
    from galtk.pipeline.surveys import BANDS

    other = (inputs, output, output_dir, units, run, checkpoint, overwrite, device, workspace)
    if method is not None and _translated_elsewhere(method, *other):
        return
    survey = None if direction is None else _input_survey(direction)
    batch = iter_inputs(inputs, survey=survey, units=units)
    _check_output(output, output_dir, samples, len(batch), overwrite)
    runs, default_device = _model_defaults(workspace, checkpoint)
    path = find_checkpoint(runs, method=method, run=run, checkpoint=checkpoint)
    chosen_device = resolve_device(device or default_device)
    translator = load_translator(path, method=method, bands=BANDS, device=chosen_device)
    if noiseless and not translator.is_stochastic:
        console.print(f"{translator.method} has no emulated noise: the NOISELESS extension equals the image")
    directory = output_dir if output_dir is not None else Path(".")
    console.print(
        f"galtk translate: {len(batch)} cutout(s), {translator.method} ({path.name}) on {translator.device}"
    )
    settings = TranslateSettings(seed, noise, samples, noiseless, overwrite, batch_size)
    single = len(inputs) == 1 and len(batch) == 1 and Path(inputs[0]).is_file()
    if single:  # one cutout: no progress bar, so that an error is the last line printed
        outcome = translate_inputs(
            translator, batch, settings=settings, directory=directory, output=output, single=True
        )
    else:
        with cutout_progress() as progress:
            task = progress.add_task("translate", total=len(batch))
            advance = lambda done: progress.advance(task, done)  # noqa: E731
            options = {"directory": directory, "output": output, "advance": advance}
            outcome = translate_inputs(translator, batch, settings=settings, single=False, **options)
            progress.update(task, completed=len(batch))
    _print_outcome(outcome.written, outcome.skipped, output, directory)


def _translated_elsewhere(
    method: str,
    inputs: list[str],
    output: Path | None,
    output_dir: Path | None,
    units: str | None,
    run: str | None,
    checkpoint: Path | None,
    overwrite: bool,
    device: str | None,
    workspace: Path | None,
) -> bool:
    """Run ``--method galaxygan`` (recovery) or ``pix2pix-multi`` (several surveys in) and return True;
    False for the paper's methods, which the command translates itself."""
    from galtk.models.methods import resolve_method

    pairs = resolve_method(method).pairs
    if pairs == "surveys":
        _translate_multi_input(inputs, output, run, checkpoint, overwrite, device, workspace)
    elif pairs == "degraded":
        _recover(inputs, output, output_dir, units, run, checkpoint, overwrite, device, workspace)
    return pairs != "crossmatch"


def _recover(
    inputs: list[str],
    output: Path | None,
    output_dir: Path | None,
    units: str | None,
    run: str | None,
    checkpoint: Path | None,
    overwrite: bool,
    device: str | None,
    workspace: Path | None,
) -> None:
    """``galtk translate --method galaxygan``: recover the inputs with a GalaxyGAN run, one file each."""
    from galtk.models.recovery.recoverer import find_recovery_checkpoint, load_recoverer
    from galtk.models.recovery.translate import recover_inputs
    from galtk.models.training.settings import resolve_device
    from galtk.models.translation.cutout_inputs import iter_inputs

    runs, default_device = _model_defaults(workspace, checkpoint)
    path = checkpoint if checkpoint is not None else find_recovery_checkpoint(runs, run=run)
    recoverer = load_recoverer(path, device=resolve_device(device or default_device))
    batch = iter_inputs(inputs, units=units)  # each input's own survey: another survey's is refused
    _check_output(output, output_dir, 1, len(batch), overwrite)
    directory = output_dir if output_dir is not None else Path(".")
    console.print(f"galtk translate: recover {len(batch)} cutout(s) with galaxygan ({path.name})")
    options = {"directory": directory, "output": output, "overwrite": overwrite}
    if len(inputs) == 1 and len(batch) == 1 and Path(inputs[0]).is_file():  # one cutout: no progress bar
        outcome = recover_inputs(recoverer, batch, single=True, **options)
    else:
        with cutout_progress() as progress:
            task = progress.add_task("recover", total=len(batch))
            advance = lambda done: progress.advance(task, done)  # noqa: E731
            outcome = recover_inputs(recoverer, batch, advance=advance, **options)
    _print_outcome(outcome.written, outcome.skipped, output, directory)


def _translate_multi_input(
    inputs: list[str],
    output: Path | None,
    run: str | None,
    checkpoint: Path | None,
    overwrite: bool,
    device: str | None,
    workspace: Path | None,
) -> None:
    """``galtk translate --method pix2pix-multi``: one object's input surveys into the run's target survey."""
    from galtk.errors import UsageError
    from galtk.models.multi_input.translate import translate_files
    from galtk.models.multi_input.translator import find_multi_input_runs, load_multi_input
    from galtk.models.training.settings import resolve_device, train_settings
    from galtk.pipeline.workspace import load_workspace

    ws = load_workspace(workspace)
    settings = train_settings(ws)
    if checkpoint is None:
        runs = find_multi_input_runs(ws.output(settings.runs, "[train] runs"), [run] if run else [])
        checkpoint = runs[-1]
    translator = load_multi_input(checkpoint, device=resolve_device(device or settings.device))
    specs = {name: ws.survey(name) for name in (*translator.inputs, translator.target)}
    if output is None:
        raise UsageError(f"name the {translator.target} cutout to write with --output FILE.fits")
    written = translate_files(translator, specs, inputs, output, overwrite=overwrite)
    console.print(f"galtk translate: {translator.label} ({checkpoint.name}) wrote {written}", highlight=False)


def _check_output(
    output: Path | None, output_dir: Path | None, samples: int, cutouts: int, overwrite: bool
) -> None:
    """Refuse --output with --output-dir, several samples or several cutouts, or over an existing file."""
    from galtk.errors import OutputExists, UsageError

    if output is None:
        return
    if output_dir is not None:
        raise UsageError("give either --output (one input) or --output-dir, not both")
    if samples > 1:
        raise UsageError("--output names one file; with --samples use --output-dir")
    if cutouts != 1:
        raise UsageError(f"--output names one file but {cutouts} cutouts were given; use --output-dir")
    if output.exists() and not overwrite:
        raise OutputExists(f"{output} already exists; pass --overwrite to replace it")


def _input_survey(direction: str) -> str:
    from galtk.models.translation.cutout_survey import survey_of_direction

    return survey_of_direction(direction).name


def _model_defaults(workspace: Path | None, checkpoint: Path | None) -> tuple[Path, str]:
    """The runs directory and device of [train]; outside a workspace only --checkpoint names the model."""
    from galtk.models.training.settings import train_settings
    from galtk.pipeline.workspace import load_workspace

    try:
        ws = load_workspace(workspace)
    except ConfigError as error:
        if checkpoint is not None:
            return Path("runs"), "auto"
        raise GaltkError(f"{error}; outside a workspace, name the model with --checkpoint FILE") from None
    train = train_settings(ws)
    return ws.resolve(train.runs), train.device


def _print_outcome(written: list[Path], skipped: list[str], output: Path | None, directory: Path) -> None:
    """The files written and the inputs skipped; an error when nothing was written."""
    console.print(f"wrote {len(written)} file(s)" + (f" in {directory}" if output is None else f": {output}"))
    if skipped:
        console.print(f"skipped {len(skipped)} input(s):")
        for line in skipped:
            console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    if not written:
        exit_with_error("nothing was translated")
