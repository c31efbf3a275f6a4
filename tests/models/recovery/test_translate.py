"""``galtk translate --method galaxygan``: a recovered FITS cutout on the input's grid, with provenance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS
from cli_results import one_error_line
from typer.testing import CliRunner

from galtk.cli.app import app
from galtk.models.recovery.recoverer import find_recovery_checkpoint, load_recoverer
from galtk.pipeline.fits_headers import cutout_header
from galtk.pipeline.stores.cutout_store import STATE_DONE, CutoutStore
from galtk.pipeline.surveys import CFHT

runner = CliRunner()


def test_a_store_row_and_its_fits_file_are_recovered_on_their_own_grid(
    trained: tuple[Path, Path, str], tmp_path: Path
) -> None:
    root, _, run = trained
    store = root / "data/raw/sdss.zarr"
    result = runner.invoke(
        app,
        [
            "translate",
            str(store),
            "-m",
            "galaxygan",
            "--run",
            run,
            "--output-dir",
            str(tmp_path),
            "-w",
            str(root),
        ],
    )
    assert result.exit_code == 0, result.output
    written = sorted(tmp_path.glob("*_sdss_recovered.fits"))
    cutouts = CutoutStore.open(store)
    usable = (cutouts.state == STATE_DONE) & np.asarray(cutouts.valid[:]).all(axis=1)
    assert len(written) == int(usable.sum()) > 0
    first = written[0]
    with fits.open(first, checksum=True) as hdus:
        header, cube = hdus[0].header, hdus[0].data
    assert (header["METHOD"], header["DIRECTN"], header["SURVEY"], header["BUNIT"]) == (
        "galaxygan",
        "sdss-recovery",
        "sdss",
        "nanomaggy",
    )
    row = int(header["INPUT"].rsplit("[", 1)[1].rstrip("]"))
    recoverer = load_recoverer(find_recovery_checkpoint(root / "runs", run=run))
    expected = recoverer.recover(cutouts.read(np.array([row])).images, "nanomaggy")[0]
    assert np.allclose(cube, expected, rtol=1e-5, atol=1e-6)
    assert header["CKPTSHA"] == recoverer.checkpoint_sha256
    # the centre of the cube is the object's position, at SDSS's pixel scale
    wcs = WCS(header).celestial
    centre = wcs.pixel_to_world((cube.shape[-1] - 1) / 2, (cube.shape[-2] - 1) / 2)
    assert centre.ra.deg == pytest.approx(float(cutouts.ra[row]), abs=1e-7)
    assert centre.dec.deg == pytest.approx(float(cutouts.dec[row]), abs=1e-7)
    assert np.sqrt(abs(np.linalg.det(wcs.pixel_scale_matrix))) * 3600 == pytest.approx(0.396, rel=1e-6)
    # the written file, read back as an input, is recovered again into one named file
    again = tmp_path / "again.fits"
    result = runner.invoke(
        app, ["translate", str(first), "-m", "galaxygan", "--run", run, "-o", str(again), "-w", str(root)]
    )
    assert result.exit_code == 0, result.output
    with fits.open(again) as hdus:
        assert np.allclose(hdus[0].data, recoverer.recover(cube[None], "nanomaggy")[0], rtol=1e-5, atol=1e-6)


def test_a_cutout_of_another_survey_or_without_a_run_is_an_error(
    trained: tuple[Path, Path, str], tmp_path: Path
) -> None:
    root, _, run = trained
    cfht = tmp_path / "cfht.fits"
    header = cutout_header(survey=CFHT, centre=SkyCoord(150.1, 2.2, unit="deg"), bands=CFHT.bands, size=136)
    fits.PrimaryHDU(np.zeros((5, 136, 136), np.float32), header=header).writeto(cfht)
    result = runner.invoke(app, ["translate", str(cfht), "-m", "galaxygan", "--run", run, "-w", str(root)])
    assert result.exit_code == 1
    assert "it is a cfht cutout; the run was trained on sdss" in one_error_line(result)
    empty = tmp_path / "ws"
    empty.mkdir()
    (empty / "galtk.toml").write_text((root / "galtk.toml").read_text(encoding="utf-8"), encoding="utf-8")
    result = runner.invoke(app, ["translate", str(cfht), "-m", "galaxygan", "-w", str(empty)])
    assert result.exit_code == 1 and "no run of galaxygan" in one_error_line(result)
    assert not list(tmp_path.glob("*_recovered.fits"))
