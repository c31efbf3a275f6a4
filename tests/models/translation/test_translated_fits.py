"""Writing translated cutouts: WCS, units, provenance, validity, atomic and non-clobbering writes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from astropy.wcs.utils import proj_plane_pixel_scales

from galtk import __version__
from galtk.errors import GaltkError, OutputExists
from galtk.models.translation import translated_fits
from galtk.models.translation.cutout_fits import read_cutout
from galtk.models.translation.translated_fits import write_translated
from galtk.pipeline.preprocess.transforms import inverse_rescale, rescale
from galtk.pipeline.surveys import BANDS, CFHT, SDSS, SurveySpec

SHA = "0123456789abcdef" * 4
PROVENANCE = {"method": "ours", "checkpoint_sha256": SHA, "seed": 7, "input": "in.fits"}


def _input_file(path: Path, survey: SurveySpec, value: float = 1.0) -> Path:
    """A constant input cube whose WCS reference point is a corner pixel (not the cutout centre)."""
    size = survey.cutout_size
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [214.03, 52.71]
    wcs.wcs.crpix = [1.0, 1.0]
    wcs.wcs.cdelt = [-survey.pixel_scale / 3600.0, survey.pixel_scale / 3600.0]
    header = wcs.to_header()
    header["BUNIT"] = "nanomaggy" if survey is SDSS else "adu"
    if survey is CFHT:
        header["PHOTZP"] = 30.0
    fits.PrimaryHDU(np.full((5, size, size), value, dtype=np.float32), header).writeto(path)
    return path


def _translate_constant(tmp_path: Path, survey: SurveySpec, value: float) -> tuple[Path, Path, np.ndarray]:
    """Read a constant input, apply the forward and inverse transforms of SPEC section 3, write the result."""
    source = _input_file(tmp_path / "in.fits", survey, value)
    cutout = read_cutout(source)
    target = cutout.target_survey
    network_value = float(rescale(cutout.data, cutout.units).mean())
    cube = np.full((5, target.cutout_size, target.cutout_size), network_value, dtype=np.float32)
    physical = inverse_rescale(cube, target)
    out = write_translated(
        tmp_path / "out.fits",
        physical,
        survey=target,
        centre=cutout.centre,
        bands=cutout.bands,
        provenance={**PROVENANCE, "input": source.name},
        noiseless=physical * 0.5,
    )
    return source, out, physical


@pytest.mark.parametrize("survey", [SDSS, CFHT], ids=["sdss2cfht", "cfht2sdss"])
def test_output_wcs_units_and_provenance(tmp_path: Path, survey: SurveySpec) -> None:
    source, out, physical = _translate_constant(tmp_path, survey, 3.0)
    target = CFHT if survey is SDSS else SDSS
    size = target.cutout_size

    with fits.open(out) as hdus:
        hdus.verify("exception")
        header = hdus[0].header
        assert hdus[0].data.dtype == np.dtype(">f4") and hdus[0].data.shape == (5, size, size)
        np.testing.assert_array_equal(hdus[0].data, physical)
        np.testing.assert_array_equal(hdus["NOISELESS"].data, physical * 0.5)
        noiseless_wcs = WCS(hdus["NOISELESS"].header).celestial
        output_wcs = WCS(header).celestial
        assert np.allclose(noiseless_wcs.wcs.crval, output_wcs.wcs.crval)

    # Centre: the input's geometric centre, through astropy alone, against the output's centre pixel.
    with fits.open(source) as hdus:
        n = hdus[0].header["NAXIS1"]
        input_centre = WCS(hdus[0].header).celestial.pixel_to_world((n - 1) / 2, (n - 1) / 2)
    output_centre = output_wcs.pixel_to_world((size - 1) / 2, (size - 1) / 2)
    assert input_centre.separation(output_centre).arcsec < 0.05
    np.testing.assert_allclose(proj_plane_pixel_scales(output_wcs) * 3600.0, target.pixel_scale, rtol=1e-12)
    assert output_wcs.wcs.ctype[0] == "RA---TAN" and output_wcs.wcs.cdelt[0] < 0 < output_wcs.wcs.cdelt[1]

    assert header["BUNIT"] == ("nanomaggy" if target is SDSS else "adu")
    assert header["PHOTZP"] == (22.5 if target is SDSS else 30.0)
    assert header["SURVEY"] == target.name
    assert header["BANDS"] == "u,g,r,i,z"
    assert [header[f"FILTER0{n}"] for n in range(1, 6)] == list(BANDS)
    assert header["GALTKVER"] == __version__
    assert (header["METHOD"], header["CKPTSHA"], header["SEED"], header["INPUT"]) == (
        "ours",
        SHA,
        7,
        "in.fits",
    )
    assert header["DIRECTN"] == survey.name + "2" + target.name
    assert len(header["DATE"]) == 19


def test_constant_input_round_trips_through_the_transforms_exactly(tmp_path: Path) -> None:
    # 2.5 nanomaggies in SDSS is 2500 ADU at zero point 30 in CFHT: the same flux after both transforms, to
    # the one float32 ulp of the rescaled value in between.
    source, out, physical = _translate_constant(tmp_path, SDSS, 2.5)
    np.testing.assert_array_max_ulp(physical, np.full_like(physical, 2500.0), maxulp=1)
    cutout = read_cutout(source)
    np.testing.assert_array_max_ulp(
        inverse_rescale(rescale(cutout.data, cutout.units), cutout.units), cutout.data, maxulp=1
    )
    back = read_cutout(out)  # galtk reads its own output back: CFHT, ZP30 ADU, same pixels
    assert (back.survey, back.units, back.grid) == (CFHT, "adu_zp30", "as is")
    np.testing.assert_array_equal(back.data, physical)
    assert back.centre.separation(cutout.centre).arcsec < 1e-6


@pytest.mark.skipif(shutil.which("fitsverify") is None, reason="fitsverify is not installed")
@pytest.mark.parametrize("survey", [SDSS, CFHT], ids=["sdss2cfht", "cfht2sdss"])
def test_output_passes_fitsverify(tmp_path: Path, survey: SurveySpec) -> None:
    _, out, _ = _translate_constant(tmp_path, survey, 1.0)
    long_name = tmp_path / "long.fits"
    cube = fits.getdata(out)
    write_translated(
        long_name,
        cube,
        survey=CFHT if survey is SDSS else SDSS,
        centre=read_cutout(out).centre,
        bands=BANDS,
        provenance={**PROVENANCE, "input": "x" * 150 + ".fits", "checkpoint": "ckpt.pt", "object": "J1"},
    )
    for path in (out, long_name):
        result = subprocess.run(["fitsverify", "-q", str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0 and "verification OK" in result.stdout, result.stdout + result.stderr


def test_existing_output_is_kept_without_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out.fits"
    out.write_bytes(b"previous")
    cube = np.zeros((5, 64, 64), np.float32)
    arguments = {"survey": SDSS, "centre": read_cutout(_input_file(tmp_path / "i.fits", SDSS)).centre}
    with pytest.raises(OutputExists, match=r"out\.fits already exists; pass --overwrite"):
        write_translated(out, cube, bands=BANDS, provenance=PROVENANCE, **arguments)
    assert out.read_bytes() == b"previous"
    write_translated(out, cube, bands=BANDS, provenance=PROVENANCE, overwrite=True, **arguments)
    assert fits.getdata(out).shape == (5, 64, 64)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["i.fits", "out.fits"]
    with pytest.raises(GaltkError, match="is a directory"):
        write_translated(tmp_path, cube, bands=BANDS, provenance=PROVENANCE, overwrite=True, **arguments)


def test_interrupted_write_leaves_the_previous_file_and_no_leftovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.fits"
    out.write_bytes(b"previous")

    def fail(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(translated_fits.os, "replace", fail)
    centre = read_cutout(_input_file(tmp_path / "i.fits", SDSS)).centre
    with pytest.raises(OSError, match="disk full"):
        write_translated(
            out,
            np.zeros((5, 64, 64)),
            survey=SDSS,
            centre=centre,
            bands=BANDS,
            provenance=PROVENANCE,
            overwrite=True,
        )
    assert out.read_bytes() == b"previous"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["i.fits", "out.fits"]


def test_gzip_output_and_new_directories(tmp_path: Path) -> None:
    centre = read_cutout(_input_file(tmp_path / "i.fits", CFHT)).centre
    cube = np.ones((5, 64, 64), np.float32)
    out = write_translated(
        tmp_path / "a" / "b" / "o.fits.gz",
        cube,
        survey="sdss",
        centre=centre,
        bands=BANDS,
        provenance=PROVENANCE,
    )
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(fits.getdata(out), cube)


@pytest.mark.parametrize(
    ("change", "error", "phrase"),
    [
        ({"checkpoint_sha256": "abc"}, ValueError, "64 hexadecimal digits"),
        ({"seed": "7"}, ValueError, "seed must be an integer"),
        ({"colour": "blue"}, ValueError, "unknown provenance keys"),
        ({"method": None}, ValueError, "provenance lacks method"),
    ],
)
def test_malformed_provenance_is_refused(tmp_path: Path, change: dict, error: type, phrase: str) -> None:
    provenance = {key: value for key, value in {**PROVENANCE, **change}.items() if value is not None}
    centre = read_cutout(_input_file(tmp_path / "i.fits", SDSS)).centre
    with pytest.raises(error, match=phrase):
        write_translated(
            tmp_path / "o.fits",
            np.zeros((5, 136, 136)),
            survey=CFHT,
            centre=centre,
            bands=BANDS,
            provenance=provenance,
        )
    assert not (tmp_path / "o.fits").exists()


def test_non_finite_or_misshapen_cubes_are_not_written(tmp_path: Path) -> None:
    centre = read_cutout(_input_file(tmp_path / "i.fits", SDSS)).centre
    cube = np.zeros((5, 136, 136), np.float32)
    cube[2, 3, 4] = np.inf
    arguments = {"survey": CFHT, "centre": centre, "provenance": PROVENANCE}
    with pytest.raises(GaltkError, match="1 NaN or infinite pixel"):
        write_translated(tmp_path / "o.fits", cube, bands=BANDS, **arguments)
    with pytest.raises(ValueError, match="4 bands are named"):
        write_translated(tmp_path / "o.fits", np.zeros((5, 136, 136)), bands=BANDS[:4], **arguments)
    with pytest.raises(ValueError, match="noiseless has shape"):
        write_translated(
            tmp_path / "o.fits",
            np.zeros((5, 136, 136)),
            bands=BANDS,
            noiseless=np.zeros((5, 64, 64)),
            **arguments,
        )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["i.fits"]
