"""``galtk degrade`` on a small synthetic sky: the paired store it writes, its defaults and its refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cli_results import one_error_line
from typer.testing import CliRunner

from galtk.cli.app import app
from galtk.pipeline.stores.paired import PairedStore

runner = CliRunner()


@pytest.fixture(scope="module")
def fetched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sim_workspaces import write_sim_config

    root = write_sim_config(tmp_path_factory.mktemp("degrade") / "ws", n_objects=40)
    assert runner.invoke(app, ["fetch", "-w", str(root), "-s", "sdss"]).exit_code == 0
    return root


def _listing(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def test_degrade_writes_pairs_next_to_the_raw_stores_and_records_the_degradation(fetched: Path) -> None:
    result = runner.invoke(
        app, ["degrade", "-w", str(fetched), "--fwhm", "2.2", "--noise-factor", "1.5", "--seed", "4"]
    )
    assert result.exit_code == 0, result.output
    path = fetched / "data/degraded/sdss.zarr"
    assert "train and" in result.stdout and str(path) in result.stdout.replace("\n", "")
    paired = PairedStore.open(path)
    assert paired.attrs["degrade"]["fwhm"] == [2.2] and paired.attrs["degrade"]["seed"] == 4
    degraded = paired.member("degraded")
    assert np.all(degraded.extra("psf_fwhm") == np.float32(2.2))
    again = runner.invoke(app, ["degrade", "-w", str(fetched), "--fwhm", "2.2"])
    assert again.exit_code == 1 and "pass --overwrite" in one_error_line(again)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "give the target PSF as a FWHM (--fwhm) or as a factor (--fwhm-factor)"),
        (["--fwhm", "0.3"], "a convolution cannot sharpen"),
        (["--fwhm", "2", "--fwhm", "3"], "one value or one per band"),
        (["--fwhm-factor", "1.5", "--profile", "airy"], "unknown PSF profile 'airy'"),
        (["--fwhm", "2", "--noise-factor", "0.5"], "--noise-factor must be at least 1"),
        (["--fwhm", "2", "-o", "../elsewhere.zarr"], "leads out of the workspace"),
        (["--fwhm", "2", "--survey", "hst"], "no [surveys.hst] table"),
        (["nothing.zarr", "--fwhm", "2"], "nothing.zarr"),
    ],
)
def test_bad_requests_are_one_error_line_and_write_nothing(
    fetched: Path, arguments: list[str], message: str
) -> None:
    before = _listing(fetched)
    result = runner.invoke(app, ["degrade", "-w", str(fetched), "--overwrite", *arguments])
    assert result.exit_code == 1, result.output
    assert message in one_error_line(result)
    assert _listing(fetched) == before
