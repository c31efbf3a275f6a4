"""``galtk demo``: the whole chain on the synthetic sky, offline, by running each galtk command in turn.

Each step prints the command line it stands for and calls that command's Python function (one library call
and its console output), so what the demo shows is exactly what the command prints when run by hand.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from galtk.cli import console, reports_errors
from galtk.cli.crossmatch import crossmatch_command
from galtk.cli.evaluate import evaluate_command
from galtk.cli.fetch import fetch_command
from galtk.cli.init import init_command
from galtk.cli.preprocess import preprocess_command
from galtk.cli.train import train_command
from galtk.cli.translate import translate_command
from galtk.errors import GaltkError

#: Directory of the demo when none is given.
DEFAULT_DIRECTORY = Path("galtk-demo")
#: Where the demo writes the FITS cutouts it translates, and the translations (relative to the workspace).
CUTOUT_DIRECTORY = Path("cutouts")
TRANSLATED_DIRECTORY = Path("translated")


@dataclass(frozen=True)
class DemoSize:
    """How big a demo is: the synthetic sky, the training run, and what is translated and evaluated.

    Attributes
    ----------
    n_objects : int
        Galaxies of the synthetic sky (``[sim] n_objects``).
    train : dict
        ``[train]`` settings of the demo's run of ``ours`` (the rest keep galtk's defaults).
    cutouts : int
        Test pairs written as FITS files (each survey) and translated with ``galtk translate``.
    """

    n_objects: int
    train: dict[str, Any]
    cutouts: int


#: ``galtk demo``: 5-8 minutes on 2 CPU cores, most of it training step 2. Step 1 is short: the Noise
#: Emulators start at the noise measured on the training images and learn at 0.05 of the learning rate;
#: step 2 trains the generators 800 iterations at width 1/8 from 3e-3, divided by 2.5 every 160.
FULL = DemoSize(
    n_objects=2000,
    train={
        "method": "ours",
        "step1_iterations": 50,
        "iterations": 800,
        "width": 0.125,
        "batch_size": 4,
        "batch_pairs": 4,
        "learning_rate": 3e-3,
        "lr_decay_every": 160,
        "lr_decay_factor": 2.5,
        "noise_lr_factor": 0.05,
        "checkpoint_every": 400,
        "sample_every": 400,
    },
    cutouts=3,
)
#: ``galtk demo --quick``: about 20 seconds on 2 CPU cores (for CI).
QUICK = DemoSize(
    n_objects=150,
    train={
        **FULL.train,
        "step1_iterations": 2,
        "iterations": 2,
        "width": 0.0625,
        "batch_size": 2,
        "batch_pairs": 2,
    },
    cutouts=2,
)


@reports_errors(interrupted="interrupted; `galtk demo DIR --force` starts again")
def demo_command(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Directory of the demo workspace: new or empty (created if missing).", metavar="DIR"
        ),
    ] = DEFAULT_DIRECTORY,
    quick: Annotated[
        bool,
        typer.Option("--quick", help="A smaller sky, 2 iterations per step: about 20 s on 2 CPU cores."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Run in a non-empty directory, replacing the demo's earlier workspace, stores, cutouts and"
            " report (other files are left alone).",
        ),
    ] = False,
    device: Annotated[
        str | None,
        typer.Option(
            "--device",
            help="Device of training and evaluation: auto (default), cpu, cuda or cuda:N.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the whole chain offline on the synthetic sky, showing each step's galtk command.

    In DIR: galtk init --sim, fetch, crossmatch, preprocess, train (ours: 50 iterations of step 1 and
    800 of step 2 at 1/8 of the paper's width, settings written to galtk.toml), translate of a few test
    cutouts written as FITS files, and evaluate, which writes the HTML report with a pass/fail verdict
    against the synthetic sky's truth. About 5-8 minutes on 2 CPU cores (--quick: about 20 seconds). Each
    command printed after `$` can be run by hand in the workspace, e.g. with the paper's settings on a GPU
    (docs/reproducing.md).
    """
    size = QUICK if quick else FULL
    _check_directory(directory, force)
    _check_device(device)
    started = time.perf_counter()
    console.print(
        f"galtk demo{' --quick' if quick else ''}: the whole chain on a synthetic sky of {size.n_objects:,}"
        f" galaxies, in {directory}. Each step runs the galtk command shown after `$`.",
        highlight=False,
    )
    timings: list[tuple[str, float]] = []
    _run(["init", "--sim", str(directory), *(["--force"] if force else [])], timings)(
        lambda: init_command(directory, sim=True, force=force)
    )
    console.print(
        f"[bold cyan]$ cd {escape(shlex.quote(str(directory)))}[/bold cyan]", highlight=False, soft_wrap=True
    )
    previous = Path.cwd()
    os.chdir(directory)
    try:
        report = _run_steps(size, force, device, timings)
    finally:
        os.chdir(previous)
    console.print(_timings(timings, time.perf_counter() - started))
    console.print(
        f"Done. Report: [bold]{escape(str(report))}[/bold]. The model was trained"
        f" {size.train['step1_iterations']} + {size.train['iterations']} iterations at width"
        f" {size.train['width']:g} (the paper: 60,000 + 60,000 at width 1); the report's verdict compares its"
        " translations with the synthetic sky's truth. For the paper's settings see docs/reproducing.md.",
        highlight=False,
    )


def _run_steps(size: DemoSize, force: bool, device: str | None, timings: list[tuple[str, float]]) -> Path:
    """Every step after ``galtk init``, in the demo's workspace (the current directory); return the report."""
    _set_demo_settings(size)
    replace = ["--overwrite"] if force else []
    _run(["fetch", *replace], timings)(lambda: fetch_command(overwrite=force))
    _run(["crossmatch", *replace], timings)(lambda: crossmatch_command(overwrite=force))
    _run(["preprocess"], timings)(preprocess_command)
    chosen = ["--device", device] if device else []
    _run(["train", *chosen], timings)(lambda: train_command(device=device))
    written = _write_cutouts(size.cutouts, force)
    console.print(
        f"(wrote the SDSS and CFHT images of {len(written) // 2} test pairs as FITS files in"
        f" {CUTOUT_DIRECTORY / 'sdss'} and {CUTOUT_DIRECTORY / 'cfht'})",
        highlight=False,
    )
    inputs = [str(CUTOUT_DIRECTORY / "sdss"), str(CUTOUT_DIRECTORY / "cfht")]
    _run(["translate", *inputs, "--output-dir", str(TRANSLATED_DIRECTORY), *replace], timings)(
        lambda: translate_command(inputs, output_dir=TRANSLATED_DIRECTORY, overwrite=force)
    )
    _run(["evaluate", "--method", "ours", *replace, *chosen], timings)(
        lambda: evaluate_command(method=["ours"], overwrite=force, device=device)
    )
    return Path.cwd() / "reports" / "evaluation" / "index.html"


def _check_directory(directory: Path, force: bool) -> None:
    if directory.exists() and not directory.is_dir():
        raise GaltkError(f"{directory} is not a directory")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise GaltkError(
            f"{directory} is not empty; give a new or empty directory (galtk demo DIR), or --force to run"
            " there anyway"
        )


def _run(arguments: Sequence[str], timings: list[tuple[str, float]]) -> Callable[[Callable[[], Any]], None]:
    """Print ``$ galtk ARGUMENTS``; the returned function runs the command and records its time.

    A failing command has printed its ``Error:`` line and raised ``typer.Exit``, which stops the demo.
    """
    console.print(
        f"[bold cyan]$ galtk {escape(shlex.join(arguments))}[/bold cyan]", highlight=False, soft_wrap=True
    )

    def run(command: Callable[[], Any]) -> None:
        started = time.perf_counter()
        command()
        timings.append((f"galtk {arguments[0]}", time.perf_counter() - started))

    return run


def _set_demo_settings(size: DemoSize) -> None:
    """Write the demo's ``[sim] n_objects`` and ``[train]`` settings into the workspace's galtk.toml."""
    from galtk.pipeline.workspace import CONFIG_NAME, load_workspace, render_config

    workspace = load_workspace()
    config = dataclasses.replace(
        workspace.config,
        sim_sky=dataclasses.replace(workspace.config.sim_sky, n_objects=size.n_objects),
        train={**workspace.config.train, **size.train},
    )
    if config != workspace.config:
        (workspace.root / CONFIG_NAME).write_text(render_config(config), encoding="utf-8")
    shown = ", ".join(f"{key} = {value!r}" for key, value in size.train.items())
    console.print(
        f"(demo settings in {CONFIG_NAME}: \\[sim] n_objects = {size.n_objects}; \\[train] {shown})",
        highlight=False,
    )


def _write_cutouts(count: int, overwrite: bool) -> list[Path]:
    """Write both images of the first ``count`` test pairs as FITS cubes, ``cutouts/SURVEY/pairNNNNN.fits``.

    Returns
    -------
    list of Path
        The files written, SDSS first.
    """
    import numpy as np
    from astropy.coordinates import SkyCoord
    from astropy.io import fits

    from galtk.models.evaluation.pairs import read_test_pairs
    from galtk.pipeline.fits_headers import cutout_header
    from galtk.pipeline.workspace import load_workspace

    workspace = load_workspace()
    pairs = read_test_pairs(workspace.crossmatch_outputs().paired, limit=count)
    written = []
    for name, survey in pairs.surveys.items():
        images = pairs.sdss if name == "sdss" else pairs.cfht
        ids = pairs.sdss_ids if name == "sdss" else pairs.cfht_ids
        folder = CUTOUT_DIRECTORY / name
        folder.mkdir(parents=True, exist_ok=True)
        for index, row in enumerate(pairs.rows):
            ra, dec = pairs.centres[name][index]
            centre = SkyCoord(ra, dec, unit="deg")
            offset = pairs.offsets[name][index] if name in pairs.offsets else (0.0, 0.0)
            header = cutout_header(
                survey=survey, centre=centre, bands=pairs.bands, size=survey.cutout_size, offset=tuple(offset)
            )
            header["OBJECT"] = str(ids[index])
            path = folder / f"pair{int(row):05d}.fits"
            fits.PrimaryHDU(np.asarray(images[index], dtype=np.float32), header).writeto(
                path, overwrite=overwrite
            )
            written.append(path)
    return written


def _timings(timings: list[tuple[str, float]], total: float) -> Table:
    table = Table(title=f"galtk demo: {total:,.0f} s")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    for step, seconds in timings:
        table.add_row(step, f"{seconds:,.1f}")
    return table


def _check_device(device: str | None) -> None:
    """Refuse a --device that training would refuse, before the demo writes anything."""
    if device is None:
        return
    from galtk.models.training.settings import TrainSettings, resolve_device
    from galtk.pipeline.workspace import override_settings

    resolve_device(override_settings(TrainSettings(), device=device).device)
