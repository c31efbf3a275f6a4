"""Multi-input benchmark: the seed's experiment (DSS2, + 2MASS, + GALEX -> SDSS9) on the synthetic sky.

Through the library calls of the commands a user runs:

1. a synthetic-sky workspace of ``--objects`` galaxies observed by DSS2, 2MASS, GALEX and SDSS9 (``galtk init
   --sim --surveys``, ``galtk fetch``), and a second one with the same sky and ``[sim] noise_scale = 0``
   whose SDSS9 cutouts are the truth;
2. ``galtk crossmatch --surveys`` pairs them;
3. ``galtk train --method pix2pix --inputs ... --target sdss9`` three times: DSS2 alone, DSS2 + 2MASS,
   DSS2 + 2MASS + GALEX (``--iterations``, ``--width``);
4. ``galtk evaluate --method pix2pix-multi --truth`` measures each run's aperture photometry against the
   truth, per band, with the observed SDSS9 cutouts' own error beside them.

It prints the report's table (per band: bias / robust scatter of m - m_truth) and the time of each step.
SDSS9 cutouts are ``--size`` px (0.396"/px); the inputs are fetched just large enough to cover them.

    python benchmarks/multi_input.py [--objects 1500] [--size 64] [--iterations 2000] [--width 0.25]
        [--adversarial-weight 1] [--test-pairs N] [--input-sets dss2 dss2,2mass,galex] [--workspace DIR]

``--adversarial-weight`` is ``[train] adversarial_weight``: pix2pix's 1, or 0 for the generator trained on
L1 alone. ``--test-pairs`` holds out that many test pairs (``[crossmatch] n_test``) instead of the synthetic
workspace's half, so that larger skies add training pairs only; ``--input-sets`` trains only the sets named
(comma-separated surveys each).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from pathlib import Path

from galtk.models.multi_input.stage import evaluate_multi_input_workspace
from galtk.models.training.launch import prepare_workspace
from galtk.pipeline.crossmatch.surveys import pair_surveys_workspace
from galtk.pipeline.fetch.stage import fetch_workspace
from galtk.pipeline.surveys import get_survey
from galtk.pipeline.synthetic.catalog import SimSkyParams
from galtk.pipeline.workspace import CONFIG_NAME, default_config, load_workspace, render_config

SURVEYS = ("dss2", "2mass", "galex", "sdss9")
INPUT_SETS = (("dss2",), ("dss2", "2mass"), ("dss2", "2mass", "galex"))


def _workspace(root: Path, objects: int, size: int, noise_scale: float, test_pairs: int) -> Path:
    config = default_config(sim=True, surveys=list(SURVEYS))
    if test_pairs > 0:
        config.crossmatch = dataclasses.replace(config.crossmatch, n_test=test_pairs, test_fraction=0.0)
    config.sim_sky = dataclasses.replace(SimSkyParams(), n_objects=objects, width_deg=0.5)
    config.sim_imaging = dataclasses.replace(config.sim_imaging, noise_scale=noise_scale)
    field = size * get_survey("sdss9").pixel_scale
    for name in SURVEYS:
        scale = get_survey(name).pixel_scale
        cutout = size if name == "sdss9" else math.ceil(field / scale) + 2
        config.surveys[name] = dataclasses.replace(config.surveys[name], cutout_size=cutout)
    root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_NAME).write_text(render_config(config), encoding="utf-8")
    return root


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=1500)
    parser.add_argument("--size", type=int, default=64, help="SDSS9 cutout side, px")
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--batch-pairs", type=int, default=16)
    parser.add_argument("--adversarial-weight", type=float, default=1.0)
    parser.add_argument("--test-pairs", type=int, default=0, help="test pairs (0: half of the pairs)")
    parser.add_argument(
        "--input-sets",
        nargs="+",
        default=[",".join(inputs) for inputs in INPUT_SETS],
        help="sets of input surveys, each comma-separated",
    )
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/galtk-multi-input-benchmark"))
    args = parser.parse_args()
    started = time.perf_counter()
    root = _workspace(args.workspace / "sky", args.objects, args.size, 1.0, args.test_pairs)
    truth = _workspace(args.workspace / "truth", args.objects, args.size, 0.0, args.test_pairs)
    if not (root / "data/raw/sdss9.zarr").exists():
        fetch_workspace(load_workspace(root))
    if not (truth / "data/raw/sdss9.zarr").exists():
        fetch_workspace(load_workspace(truth), ["sdss9"])
    fetched = time.perf_counter()
    workspace = load_workspace(root)
    pair_surveys_workspace(workspace, overwrite=True)
    paired = time.perf_counter()
    names = []
    for inputs in (tuple(inputs.split(",")) for inputs in args.input_sets):
        name = f"{'-'.join(inputs)}-w{args.width:g}-i{args.iterations}-a{args.adversarial_weight:g}"
        names.append(name)
        overrides = {
            "method": "pix2pix",
            "inputs": list(inputs),
            "target": "sdss9",
            "iterations": args.iterations,
            "width": args.width,
            "batch_pairs": args.batch_pairs,
            "adversarial_weight": args.adversarial_weight,
            "checkpoint_every": args.iterations,
            "sample_every": 0,
            "log_every": 50,
        }
        launch = prepare_workspace(
            workspace, overrides=overrides, name=name, resume=(root / "runs" / name).exists()
        )
        launch.train()
    trained = time.perf_counter()
    _, report = evaluate_multi_input_workspace(
        workspace, runs=names, truth=truth / "data/raw/sdss9.zarr", overwrite=True
    )
    print(report.read_text(encoding="utf-8"))
    print(
        f"time: fetch {fetched - started:.0f} s, pair {paired - fetched:.0f} s,"
        f" train {trained - paired:.0f} s ({len(names)} runs), evaluate {time.perf_counter() - trained:.0f} s"
    )


if __name__ == "__main__":
    main()
