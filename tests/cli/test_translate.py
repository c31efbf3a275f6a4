"""``galtk translate`` on FITS files and stores, with the tiny trained runs of the ``trained_workspace``."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS
from astropy.wcs.utils import proj_plane_pixel_scales
from rich.console import Console
from typer.testing import CliRunner

from galtk.cli.app import app
from galtk.models.translation.translator import find_checkpoint, load_translator
from galtk.pipeline.geometry import cutout_wcs
from galtk.pipeline.stores.cutout_store import CutoutStore
from galtk.pipeline.surveys import CFHT, SDSS

runner = CliRunner()


def _error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("Error: "), result.output
    return lines[-1]


def _store_cutout(workspace: Path, survey: str, row: int = 0) -> tuple[np.ndarray, float, float]:
    store = CutoutStore.open(workspace / "data" / "raw" / f"{survey}.zarr")
    return np.asarray(store.read(slice(row, row + 1)).images[0]), float(store.ra[row]), float(store.dec[row])


def _cube_file(path: Path, workspace: Path, survey, row: int = 0) -> tuple[Path, SkyCoord]:
    """A survey cutout of the synthetic sky as a FITS cube with its north-up WCS and BUNIT."""
    data, ra, dec = _store_cutout(workspace, survey.name, row)
    header = cutout_wcs(ra, dec, survey.pixel_scale, survey.cutout_size).to_header()
    header["BUNIT"] = "nanomaggy" if survey is SDSS else "adu"
    if survey is CFHT:
        header["PHOTZP"] = 30.0
    fits.PrimaryHDU(data, header).writeto(path)
    centre = cutout_wcs(ra, dec, survey.pixel_scale, survey.cutout_size).pixel_to_world(
        (survey.cutout_size - 1) / 2, (survey.cutout_size - 1) / 2
    )
    return path, centre


def _band_files(directory: Path, workspace: Path, survey, stem: str) -> list[Path]:
    data, ra, dec = _store_cutout(workspace, survey.name, 1)
    header = cutout_wcs(ra, dec, survey.pixel_scale, survey.cutout_size).to_header()
    paths = []
    for band, plane in zip("ugriz", data, strict=True):
        path = directory / f"{stem}_{band}.fits"
        fits.PrimaryHDU(plane, header).writeto(path)
        paths.append(path)
    return paths


def _translate(workspace: Path, *arguments: str):
    return runner.invoke(app, ["translate", *arguments, "-w", str(workspace), "--device", "cpu"])


@pytest.mark.parametrize(("survey", "target"), [(SDSS, CFHT), (CFHT, SDSS)])
def test_a_cube_is_translated_onto_the_target_grid_with_wcs_units_and_provenance(
    trained_workspace: Path, tmp_path: Path, survey, target
) -> None:
    source, centre = _cube_file(tmp_path / "galaxy.fits", trained_workspace, survey)
    output = tmp_path / "out.fits"
    result = _translate(trained_workspace, str(source), "-o", str(output), "--seed", "7", "--noiseless")
    assert result.exit_code == 0, result.output
    with fits.open(output) as hdus:
        hdus.verify("exception")
        header, data = hdus[0].header, hdus[0].data
        assert data.shape == (5, target.cutout_size, target.cutout_size) and data.dtype == np.dtype(">f4")
        assert hdus["NOISELESS"].data.shape == data.shape
        wcs = WCS(header).celestial
        middle = (target.cutout_size - 1) / 2
        assert wcs.pixel_to_world(middle, middle).separation(centre).arcsec < 0.05
        np.testing.assert_allclose(proj_plane_pixel_scales(wcs) * 3600, target.pixel_scale, rtol=1e-9)
        assert header["BUNIT"] == ("nanomaggy" if target is SDSS else "adu")
        assert header["SURVEY"] == target.name and header["BANDS"] == "u,g,r,i,z"
        assert header["METHOD"] == "ours" and header["SEED"] == 7 and len(header["CKPTSHA"]) == 64
        assert header["INPUT"] == str(source) and header["DIRECTN"] == f"{survey.name}2{target.name}"
        assert header["CKPTNAME"].startswith("iter_")
    if shutil.which("fitsverify"):
        report = subprocess.run(["fitsverify", "-q", str(output)], capture_output=True, text=True)
        assert report.returncode == 0 and report.stdout.startswith("verification OK"), report.stdout


def test_seeds_samples_and_no_noise(trained_workspace: Path, tmp_path: Path) -> None:
    source, _ = _cube_file(tmp_path / "galaxy.fits", trained_workspace, SDSS)
    runs = [("a", "--seed", "3"), ("b", "--seed", "3"), ("c", "--seed", "4"), ("d", "--no-noise")]
    for name, *flags in runs:
        assert (
            _translate(trained_workspace, str(source), "-o", str(tmp_path / f"{name}.fits"), *flags).exit_code
            == 0
        )
    a, b, c, d = (fits.getdata(tmp_path / f"{name}.fits") for name in "abcd")
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    translator = load_translator(find_checkpoint(trained_workspace / "runs", method="ours"))
    expected = translator.translate(fits.getdata(source)[None], direction="sdss2cfht", seeds=[0], noise=False)
    np.testing.assert_allclose(d, expected.images[0], rtol=1e-6, atol=1e-6)

    result = _translate(
        trained_workspace, str(source), "--output-dir", str(tmp_path / "many"), "--samples", "2"
    )
    assert result.exit_code == 0, result.output
    seeds = [fits.getheader(tmp_path / "many" / f"galaxy_cfht_s0{k}.fits")["SEED"] for k in range(2)]
    assert seeds == [0, 1]
    again = _translate(trained_workspace, str(source), "-o", str(tmp_path / "e.fits"), "--seed", "1")
    assert again.exit_code == 0
    np.testing.assert_allclose(
        fits.getdata(tmp_path / "e.fits"),
        fits.getdata(tmp_path / "many" / "galaxy_cfht_s01.fits"),
        rtol=1e-5,
        atol=1e-3,
    )


def test_batch_mode_translates_files_band_sets_and_store_rows_and_lists_bad_inputs(
    trained_workspace: Path, tmp_path: Path
) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    _cube_file(inputs / "sdss_galaxy.fits", trained_workspace, SDSS)
    _band_files(inputs, trained_workspace, CFHT, "cfht7")
    fits.PrimaryHDU(np.zeros((4, 64, 64), np.float32)).writeto(inputs / "four_planes.fits")
    (inputs / "notes.fits").write_text("not FITS")
    out = tmp_path / "out"
    result = _translate(
        trained_workspace,
        str(inputs),
        str(trained_workspace / "data/raw/sdss.zarr"),
        "--output-dir",
        str(out),
    )
    assert result.exit_code == 0, result.output
    names = {path.name for path in out.iterdir()}
    assert {"sdss_galaxy_cfht.fits", "cfht7_sdss.fits"} <= names
    store = CutoutStore.open(trained_workspace / "data/raw/sdss.zarr")
    assert f"sdss_{store.ids[0]}_cfht.fits" in names
    assert fits.getheader(out / "cfht7_sdss.fits")["DIRECTN"] == "cfht2sdss"
    assert "skipped 2 input(s)" in result.stdout
    assert "four_planes.fits" in result.stdout and "notes.fits" in result.stdout
    assert len(names) == 2 + int(np.count_nonzero(store.state == 2)) or len(names) > 2


def test_bad_single_inputs_and_models_give_one_error_line(trained_workspace: Path, tmp_path: Path) -> None:
    header = cutout_wcs(150.0, 2.0, SDSS.pixel_scale, 64).to_header()
    cube = np.ones((5, 64, 64), np.float32)
    cases = {
        "nowcs.fits": fits.PrimaryHDU(cube),
        "nan.fits": fits.PrimaryHDU(np.where(np.arange(64) == 3, np.nan, cube).astype(np.float32), header),
        "shape.fits": fits.PrimaryHDU(np.ones((5, 50, 50), np.float32), header),
    }
    messages = {"nowcs.fits": "has no WCS", "nan.fits": "NaN", "shape.fits": "smaller than"}
    for name, hdu in cases.items():
        hdu.writeto(tmp_path / name)
        result = _translate(trained_workspace, str(tmp_path / name), "-o", str(tmp_path / "x.fits"))
        assert result.exit_code == 1
        line = _error_line(result)
        assert str(tmp_path / name) in line and messages[name] in line, line
        assert not (tmp_path / "x.fits").exists()
    good, _ = _cube_file(tmp_path / "good.fits", trained_workspace, SDSS)
    refused = _translate(trained_workspace, str(good), "--method", "pix2pix", "-o", str(tmp_path / "x.fits"))
    assert refused.exit_code == 1 and "no run of pix2pix" in _error_line(refused)
    step1 = sorted((trained_workspace / "runs/ours/checkpoints/step1").glob("*.pt"))[-1]
    refused = _translate(
        trained_workspace, str(good), "--checkpoint", str(step1), "-o", str(tmp_path / "x.fits")
    )
    assert refused.exit_code == 1 and "trains no generator" in _error_line(refused)


def test_a_single_input_shows_no_progress_bar_before_its_error(
    trained_workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = io.StringIO()
    shown = Console(file=terminal, force_terminal=True, no_color=True, width=100)
    monkeypatch.setattr("galtk.cli.console", shown)
    fits.PrimaryHDU(np.ones((5, 64, 64), np.float32)).writeto(tmp_path / "nowcs.fits")
    result = _translate(trained_workspace, str(tmp_path / "nowcs.fits"), "-o", str(tmp_path / "x.fits"))
    assert result.exit_code == 1 and "has no WCS" in _error_line(result)
    assert "cutouts" not in terminal.getvalue()
    good, _ = _cube_file(tmp_path / "good.fits", trained_workspace, SDSS)
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(tmp_path / "nowcs.fits", bad / "nowcs.fits")
    shutil.copy(good, bad / "good.fits")
    batch = _translate(trained_workspace, str(bad), "--output-dir", str(tmp_path / "out"))
    assert batch.exit_code == 0 and "2/2" in terminal.getvalue()


def test_existing_outputs_are_kept_without_overwrite(trained_workspace: Path, tmp_path: Path) -> None:
    source, _ = _cube_file(tmp_path / "galaxy.fits", trained_workspace, SDSS)
    output = tmp_path / "out.fits"
    output.write_bytes(b"previous")
    result = _translate(trained_workspace, str(source), "-o", str(output))
    assert result.exit_code == 1 and "--overwrite" in _error_line(result)
    assert output.read_bytes() == b"previous"
    assert _translate(trained_workspace, str(source), "-o", str(output), "--overwrite").exit_code == 0
    assert fits.getheader(output)["SURVEY"] == "cfht"


def test_outside_a_workspace_the_checkpoint_names_the_model(
    trained_workspace: Path, tmp_path, monkeypatch
) -> None:
    source, _ = _cube_file(tmp_path / "galaxy.fits", trained_workspace, CFHT)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["translate", str(source)])
    assert result.exit_code == 1 and "--checkpoint" in _error_line(result)
    checkpoint = find_checkpoint(trained_workspace / "runs", method="cyclegan")
    result = runner.invoke(app, ["translate", str(source), "--checkpoint", str(checkpoint)])
    assert result.exit_code == 0, result.output
    header = fits.getheader(tmp_path / "galaxy_sdss.fits")
    assert header["METHOD"] == "cyclegan" and header["NAXIS1"] == 64
