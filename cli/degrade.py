"""``galtk degrade``: pairs of (original, degraded) cutouts of one store, for GalaxyGAN-style recovery."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from galtk.cli import StagedProgress, WorkspaceOption, console, cutout_progress, reports_errors
from galtk.errors import UsageError

if TYPE_CHECKING:
    from galtk.pipeline.workspace import Workspace


@reports_errors(interrupted="interrupted; no output was changed")
def degrade_command(
    store: Annotated[
        Path | None,
        typer.Argument(
            help="Cutout store to degrade (default: the raw store of --survey).", show_default=False
        ),
    ] = None,
    survey: Annotated[
        str | None,
        typer.Option(
            "--survey", "-s", help="Survey whose raw store to degrade (default: the first of galtk.toml)."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Paired store to write (default: data/degraded/STORE_NAME.zarr)."
        ),
    ] = None,
    fwhm: Annotated[
        list[float] | None,
        typer.Option("--fwhm", min=0.0, help="Target PSF FWHM in arcsec: once, or once per band in order."),
    ] = None,
    fwhm_factor: Annotated[
        float | None,
        typer.Option("--fwhm-factor", help="Or the target FWHM as this factor times each cutout's."),
    ] = None,
    profile: Annotated[
        str, typer.Option("--profile", help="Target PSF profile: gaussian or moffat.")
    ] = "gaussian",
    noise_factor: Annotated[
        float,
        typer.Option("--noise-factor", help="Background sigma of the degraded cutouts over the original's."),
    ] = 1.2,
    seeing: Annotated[
        list[float] | None,
        typer.Option(
            "--seeing",
            min=0.0,
            help="PSF FWHM of the cutouts in arcsec where the store records none (default: the survey's).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the added noise and of the split.")] = 0,
    test_fraction: Annotated[
        float, typer.Option("--test-fraction", min=0.0, max=1.0, help="Fraction of test pairs, in (0, 1).")
    ] = 0.2,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Threads degrading cutouts.")] = 2,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing output (once the new one is complete).")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Degrade every cutout of a store to a wider PSF and more noise: a paired store (original, degraded).

    Each cutout is convolved with the kernel that takes its PSF to the target PSF, then given white noise up
    to the target background sigma; the PSF and sigmas are recorded per object and band. See docs/degrade.md.
    """
    from galtk.pipeline.degrade.stage import DegradeSettings, degrade_store
    from galtk.pipeline.workspace import load_workspace

    try:
        settings = DegradeSettings(
            fwhm=tuple(fwhm or ()),
            fwhm_factor=fwhm_factor,
            profile=profile,
            noise_factor=noise_factor,
            seeing=tuple(seeing or ()),
            seed=seed,
            test_fraction=test_fraction,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    ws = load_workspace(workspace)
    store = _source_store(ws, store, survey)
    target = ws.output(output or Path("data/degraded") / store.name, "--output")
    console.print(f"galtk degrade: {store} -> {target}", highlight=False)
    with cutout_progress() as progress:
        stages = StagedProgress(progress)
        report = degrade_store(
            store,
            target,
            settings,
            overwrite=overwrite,
            workers=workers,
            typical_seeing=_typical_seeing(ws, store),
            on_stage=stages.start,
            on_progress=stages.advance,
        )
    skipped = ", ".join(f"{count} {reason}" for reason, count in report.skipped.items()) or "none"
    console.print(
        f"wrote {report.n_train} train and {report.n_test} test pairs to {report.path} (left out: {skipped})",
        highlight=False,
    )


def _source_store(ws: Workspace, store: Path | None, survey: str | None) -> Path:
    """STORE, or the raw store of --survey (default: the first survey of galtk.toml)."""
    if store is not None:
        return ws.resolve(store)
    name = survey or next(iter(ws.config.surveys), None)
    if name is None:
        raise UsageError("galtk.toml declares no survey; name the store to degrade")
    return ws.store_path(name)


def _typical_seeing(ws: Workspace, store: Path) -> dict[str, float] | None:
    """The seeing of the store's survey as its ``[surveys.NAME]`` table gives it (None: no such table)."""
    from galtk.errors import GaltkError
    from galtk.pipeline.stores.cutout_store import CutoutStore

    try:
        name = CutoutStore.open(store).schema.survey
    except GaltkError:
        return None
    if name not in ws.config.surveys:
        return None
    return dict(ws.survey(name).seeing_fwhm)
