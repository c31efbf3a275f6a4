"""galtk translate --method pix2pix-multi: one FITS cutout per input survey in, the target survey out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from cli_results import one_error_line
from typer.testing import CliRunner

from galtk.cli.app import app
from galtk.pipeline.geometry import cutout_wcs
from galtk.pipeline.stores.paired import PairedStore
from galtk.pipeline.workspace import load_workspace

runner = CliRunner()


def _write_inputs(root: Path, directory: Path, row: int, galex_unit: str = "nanomaggy") -> dict[str, Path]:
    """The paired store's row ``row`` of DSS2 and GALEX as FITS cutouts with their WCS."""
    workspace = load_workspace(root)
    store = PairedStore.open(root / "data/paired.zarr")
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for name in ("dss2", "galex"):
        member = store.member(name)
        spec = workspace.survey(name)
        cube = member.read(np.array([row])).images[0].astype(np.float64)
        offset = (float(member.extra("offset_x")[row][0]), float(member.extra("offset_y")[row][0]))
        header = cutout_wcs(
            float(member.ra[row]), float(member.dec[row]), spec.pixel_scale, len(cube[0]), offset
        )
        header = header.to_header()
        header["BUNIT"] = spec.unit
        if name == "galex" and galex_unit != "nanomaggy":
            cube = cube / np.asarray(spec.hips_factors())[:, None, None]  # as hips2fits serves it
            header["BUNIT"] = galex_unit
        files[name] = directory / f"object_{name}.fits"
        fits.PrimaryHDU(cube.astype(np.float32), header).writeto(files[name], overwrite=True)
    return files


def _translate(root: Path, output: Path, *inputs: Path) -> object:
    command = [
        "translate",
        "-w",
        str(root),
        "--method",
        "pix2pix-multi",
        "--run",
        "two",
        "--output",
        str(output),
    ]
    return runner.invoke(app, [*command, *(str(path) for path in inputs)])


def test_the_target_is_written_with_wcs_and_provenance(trained, tmp_path: Path) -> None:
    root, _ = trained
    files = _write_inputs(root, tmp_path / "in", row=3)
    result = _translate(root, tmp_path / "out.fits", files["galex"], files["dss2"])
    assert result.exit_code == 0, result.output
    with fits.open(tmp_path / "out.fits") as hdus:
        header, data = hdus[0].header, hdus[0].data
    assert data.shape == (5, 24, 24) and np.isfinite(data).all()
    assert header["BUNIT"] == "nanomaggy" and header["METHOD"] == "pix2pix-multi"
    assert header["DIRECTN"] == "dss2+galex->sdss9" and "object_dss2.fits" in header["INPUT"]
    wcs = WCS(header, naxis=2)
    dss2 = WCS(fits.getheader(files["dss2"]), naxis=2)
    centre = wcs.pixel_to_world(11.5, 11.5)
    assert centre.separation(dss2.pixel_to_world(5.5, 5.5)).arcsec < 1e-6  # centred on the first input
    assert abs(wcs.proj_plane_pixel_scales()[0].to_value("arcsec") - 0.396) < 1e-9
    # The same object from a directory, with GALEX in its HiPS unit (counts/s): the same cube.
    _write_inputs(root, tmp_path / "hips", row=3, galex_unit="counts/s")
    again = _translate(root, tmp_path / "again.fits", tmp_path / "hips")
    assert again.exit_code == 0, again.output
    np.testing.assert_allclose(fits.getdata(tmp_path / "again.fits"), data, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("missing", "no input for galex"),
        ("unit", "BUNIT 'Jy' is not galex's unit"),
        ("small", "does not cover the sdss9 cutout"),
    ],
)
def test_bad_inputs_give_one_error_line(trained, tmp_path: Path, change: str, message: str) -> None:
    root, _ = trained
    files = _write_inputs(root, tmp_path / "in", row=1)
    if change == "unit":
        with fits.open(files["galex"], mode="update") as hdus:
            hdus[0].header["BUNIT"] = "Jy"
    if change == "small":
        with fits.open(files["galex"], mode="update") as hdus:
            hdus[0].data = hdus[0].data[:, 2:-2, 2:-2].copy()
    inputs = [files["dss2"]] if change == "missing" else [files["dss2"], files["galex"]]
    result = _translate(root, tmp_path / "out.fits", *inputs)
    assert result.exit_code == 1, result.output
    assert message in one_error_line(result)
    assert not (tmp_path / "out.fits").exists()


def test_a_fits_translation_reads_the_inputs_as_the_run_learnt_them(trained, tmp_path: Path) -> None:
    """DSS2 comes from its HiPS uncalibrated: the FITS path uses the run's noise scales, as evaluation."""
    from galtk.models.multi_input.translator import find_multi_input_runs, load_multi_input
    from galtk.models.training.batches.survey_pairs import survey_arrays
    from galtk.pipeline.preprocess.transforms import inverse_signed_sqrt

    root, _ = trained
    workspace = load_workspace(root)
    store = PairedStore.open(root / "data/paired.zarr")
    test_rows = np.flatnonzero(store.split == "test")
    r_flux = store.member("sdss9").read(test_rows).images[:, 2].sum(axis=(1, 2))
    row = int(test_rows[np.argmax(r_flux)])  # the brightest test galaxy
    result = _translate(root, tmp_path / "out.fits", *_write_inputs(root, tmp_path / "in", row).values())
    assert result.exit_code == 0, result.output
    translator = load_multi_input(find_multi_input_runs(root / "runs", ["two"])[0])
    assert set(translator.noise_scales) == {"dss2"}
    specs = [workspace.survey("dss2"), workspace.survey("galex")]
    inputs, _ = survey_arrays(
        store, specs, workspace.survey("sdss9"), np.array([row]), translator.noise_scales
    )
    expected = inverse_signed_sqrt(translator.translate(inputs))[0].sum(axis=(1, 2))
    np.testing.assert_allclose(fits.getdata(tmp_path / "out.fits").sum(axis=(1, 2)), expected, rtol=0.05)
