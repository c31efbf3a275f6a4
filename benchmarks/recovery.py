"""Recovery benchmark: GalaxyGAN against Richardson-Lucy and Wiener on the synthetic sky, against its truth.

The seed's experiment (Schawinski et al. 2017) on galtk's synthetic sky, through the library calls of the
commands a user runs:

1. a synthetic-sky workspace (``--objects`` galaxies) fetches its SDSS cutouts (``galtk fetch``), and a
   second one with the same sky and ``[sim] noise_scale = 0`` fetches the same cutouts without noise: the
   truth;
2. ``galtk degrade --fwhm FWHM --noise-factor 1.2`` writes the (original, degraded) pairs;
3. ``galtk train --method galaxygan`` trains on the train split (``--iterations``, ``--width``);
4. ``galtk evaluate --method galaxygan --truth`` recovers the test pairs with the generator and both
   deconvolutions and measures them against the truth and the originals, once with the deconvolutions'
   regularisation tuned on the training pairs' morphology, once on their squared error (``--tune``).

It prints, per band, every output's median absolute errors of flux, size, ellipticity and Gini against the
truth, its noise and residual rms in units of the original's noise, and whether the seed's claim (the GAN
recovers morphology better than deconvolution) holds, then the report's path.

    python benchmarks/recovery.py [--objects 2000] [--fwhm 2.0] [--iterations 3000] [--width 0.25]
        [--workspace DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from galtk.models.recovery.evaluate import TUNE_CRITERIA
from galtk.models.recovery.stage import RecoveryOutcome, evaluate_recovery
from galtk.models.training.launch import prepare_workspace
from galtk.pipeline.degrade.stage import DegradeSettings, degrade_store
from galtk.pipeline.fetch.stage import fetch_workspace
from galtk.pipeline.synthetic.catalog import SimSkyParams
from galtk.pipeline.workspace import CONFIG_NAME, default_config, load_workspace, render_config


def _workspace(root: Path, objects: int, noise_scale: float) -> Path:
    config = default_config(sim=True)
    config.sim_sky = dataclasses.replace(SimSkyParams(), n_objects=objects)
    config.sim_imaging = dataclasses.replace(config.sim_imaging, noise_scale=noise_scale)
    root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_NAME).write_text(render_config(config), encoding="utf-8")
    return root


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--fwhm", type=float, default=2.0, help="target PSF FWHM of the degraded copies")
    parser.add_argument("--noise-factor", type=float, default=1.2)
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--batch-pairs", type=int, default=16)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/galtk-recovery-benchmark"))
    args = parser.parse_args()
    started = time.perf_counter()
    root = _workspace(args.workspace / "sky", args.objects, 1.0)
    truth = _workspace(args.workspace / "truth", args.objects, 0.0)
    for path in (root, truth):
        if not (path / "data/raw/sdss.zarr").exists():
            fetch_workspace(load_workspace(path), ["sdss"])
    fetched = time.perf_counter()
    settings = DegradeSettings(fwhm=(args.fwhm,), noise_factor=args.noise_factor)
    degrade_store(root / "data/raw/sdss.zarr", root / "data/degraded/sdss.zarr", settings, overwrite=True)
    degraded = time.perf_counter()
    overrides = {
        "method": "galaxygan",
        "iterations": args.iterations,
        "width": args.width,
        "batch_pairs": args.batch_pairs,
        "checkpoint_every": args.iterations,
        "sample_every": 0,
        "log_every": 50,
    }
    name = f"galaxygan-w{args.width:g}-i{args.iterations}"
    workspace = load_workspace(root)
    launch = prepare_workspace(
        workspace, overrides=overrides, name=name, resume=(root / "runs" / name).exists()
    )
    launch.train()
    trained = time.perf_counter()
    for tune in TUNE_CRITERIA:
        started_evaluation = time.perf_counter()
        outcome = evaluate_recovery(
            workspace,
            run=name,
            truth=truth / "data/raw/sdss.zarr",
            output=f"reports/{name}-{tune}",
            overwrite=True,
            tune=tune,
        )
        seconds = time.perf_counter() - started_evaluation
        _print_outcome(outcome, args, tune, seconds)
    print(
        f"time: fetch {fetched - started:.0f} s, degrade {degraded - fetched:.0f} s,"
        f" train {trained - degraded:.0f} s"
    )


def _print_outcome(outcome: RecoveryOutcome, args: argparse.Namespace, tune: str, seconds: float) -> None:
    reference = outcome.claim["reference"]
    summary = outcome.summaries[reference]
    print(
        f'{len(outcome.pairs.rows)} test pairs, degraded to FWHM {args.fwhm}" and noise x{args.noise_factor};'
        f" galaxygan width {args.width}, {args.iterations} iterations; deconvolutions tuned by {tune};"
        f" against the {reference}; evaluated in {seconds:.0f} s"
    )
    columns = ("flux", "size", "ellipticity", "gini")
    print(
        f"{'band':4} {'output':16} "
        + " ".join(f"{c:>11}" for c in columns)
        + f" {'rms/sigma':>9} {'noise':>6}"
    )
    for band in outcome.pairs.bands:
        for output, bands in summary.items():
            row = bands[band]
            errors = " ".join(f"{row[f'median_abs_{c}_error']:11.4f}" for c in columns)
            print(
                f"{band:4} {output:16} {errors} {row['median_residual_rms']:9.3f} {row['median_noise']:6.3f}"
            )
        print(f"{band:4} claim holds: {outcome.claim['bands'][band]['holds']}")
    print(f"report: {outcome.report}")


if __name__ == "__main__":
    main()
