"""``galtk evaluate --method galaxygan`` on a small synthetic sky, checked against its noiseless truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from galtk.errors import EvaluationError, StoreError
from galtk.models.recovery.evaluate import OUTPUTS
from galtk.models.recovery.stage import RecoveryOutcome, evaluate_recovery
from galtk.pipeline.degrade.deconvolution import RICHARDSON_LUCY_ITERATIONS, WIENER_BALANCES
from galtk.pipeline.stores.paired import PairedStore
from galtk.pipeline.workspace import load_workspace


@pytest.fixture(scope="module")
def outcome(trained: tuple[Path, Path, str]) -> RecoveryOutcome:
    root, truth, run = trained
    return evaluate_recovery(load_workspace(root), run=run, truth=truth, tune_objects=8, tune="mse")


def test_held_out_pairs_are_the_test_split(trained: tuple[Path, Path, str], outcome: RecoveryOutcome) -> None:
    store = PairedStore.open(trained[0] / "data/degraded/sdss.zarr")
    assert list(outcome.pairs.rows) == list(np.flatnonzero(store.split == "test"))


def test_measurements_agree_with_the_truth_of_the_sky(outcome: RecoveryOutcome) -> None:
    truth, original = outcome.summaries["truth"], outcome.summaries["original"]
    for band in outcome.pairs.bands:
        # the original is the truth plus its noise: residual rms and noise of one sigma
        assert truth["original"][band]["median_residual_rms"] == pytest.approx(1.0, rel=0.15), band
        assert truth["original"][band]["median_noise"] == pytest.approx(1.0, rel=0.15), band
        # the degraded copy has 1.2 times the original's noise (GalaxyGAN's default factor)
        assert original["degraded"][band]["median_noise"] == pytest.approx(1.2, rel=0.1), band
        # deconvolving with the known kernel, tuned for the squared error, brings the degraded images closer
        for name in ("richardson-lucy", "wiener"):
            assert truth[name][band]["median_residual_rms"] < truth["degraded"][band]["median_residual_rms"]


def test_report_holds_every_output_and_the_claim_per_band(
    trained: tuple[Path, Path, str], outcome: RecoveryOutcome
) -> None:
    document = json.loads((outcome.report.parent / "metrics.json").read_text(encoding="utf-8"))
    assert list(document["summaries"]["original"]) == list(OUTPUTS)
    assert list(document["summaries"]["truth"]) == [*OUTPUTS, "original"]
    assert document["claim"]["reference"] == "truth"
    assert set(document["claim"]["bands"]) == set(outcome.pairs.bands)
    for band in outcome.pairs.bands:
        assert document["regularisation"]["richardson-lucy"][band]["parameter"] in RICHARDSON_LUCY_ITERATIONS
        assert document["regularisation"]["wiener"][band]["parameter"] in WIENER_BALANCES
        assert (outcome.report.parent / f"figures/examples_{band}.png").stat().st_size > 1000
    assert "## The claim, against the truth" in outcome.report.read_text(encoding="utf-8")
    with pytest.raises(EvaluationError, match="pass --overwrite"):
        evaluate_recovery(load_workspace(trained[0]), run=trained[2], limit=2, tune_objects=2)


def test_a_truth_store_of_other_objects_is_refused(trained: tuple[Path, Path, str], tmp_path: Path) -> None:
    from sim_workspaces import degraded_sim_workspace

    other = degraded_sim_workspace(tmp_path / "other", n_objects=20, seed=9, degrade=False)
    with pytest.raises(StoreError, match="lacks"):
        evaluate_recovery(
            load_workspace(trained[0]),
            run=trained[2],
            truth=other / "data/raw/sdss.zarr",
            output=tmp_path / "report",
            tune_objects=2,
        )


def test_the_command_prints_the_claim_per_band_and_refuses_mixed_methods(
    trained: tuple[Path, Path, str], tmp_path: Path
) -> None:
    from cli_results import one_error_line
    from typer.testing import CliRunner

    from galtk.cli.app import app

    root, truth, run = trained
    runner = CliRunner()
    arguments = ["evaluate", "-w", str(root), "-m", "galaxygan", "--run", run, "--limit", "4"]
    result = runner.invoke(app, [*arguments, "--truth", str(truth), "-o", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    printed = " ".join(result.stdout.split())
    assert "held-out pairs against the truth" in printed and "galaxygan" in printed
    assert (tmp_path / "r/summary.md").is_file()
    mixed = runner.invoke(app, ["evaluate", "-w", str(root), "-m", "galaxygan", "-m", "ours"])
    assert mixed.exit_code == 1 and "evaluate it separately" in one_error_line(mixed)


def test_a_store_degraded_again_with_other_settings_is_refused(trained: tuple[Path, Path, str]) -> None:
    import dataclasses

    from galtk.models.recovery.evaluate import held_out_pairs
    from galtk.models.recovery.recoverer import find_recovery_checkpoint, load_recoverer

    root, _, run = trained
    recoverer = load_recoverer(find_recovery_checkpoint(root / "runs", run=run))
    store = root / "data/degraded/sdss.zarr"
    assert len(held_out_pairs(store, recoverer, limit=2).rows) == 2
    other = dataclasses.replace(recoverer, data={**recoverer.data, "degrade": {"fwhm": [3.0]}})
    with pytest.raises(StoreError, match="degraded again since the run trained"):
        held_out_pairs(store, other)
