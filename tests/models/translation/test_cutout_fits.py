"""Reading cutouts to translate: layouts, band names, survey and units, grids, bad inputs, batch mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS

from galtk.errors import (
    DuplicateBands,
    GaltkError,
    InputCutoutError,
    MissingBands,
    MissingWcs,
    NonCelestialWcs,
    NonFinitePixels,
    OffGridInput,
    SurveyMismatch,
    UnitError,
    UnreadableInput,
    WrongShape,
)
from galtk.models.translation.cutout_fits import read_cutout
from galtk.models.translation.cutout_inputs import iter_inputs
from galtk.models.translation.cutout_survey import normalise_units, survey_of_direction
from galtk.pipeline.geometry import cutout_wcs
from galtk.pipeline.stores.cutout_store import STATE_DONE, STATE_FAILED, CutoutBatch, CutoutStore, StoreSchema
from galtk.pipeline.surveys import BANDS, CFHT, SDSS, SurveySpec

RA, DEC = 150.1, 2.2
CFHT_FILTERS = {"u": "u.MP9301", "g": "g.MP9401", "r": "r.MP9601", "i": "i.MP9701", "z": "z.MP9801"}


def _planes(survey: SurveySpec, size: int | None = None, seed: int = 0) -> np.ndarray:
    """Five distinct noisy planes (plane k has mean 10 k), float32."""
    size = size or survey.cutout_size
    noise = np.random.default_rng(seed).normal(0.0, 1.0, (len(BANDS), size, size))
    return (noise + 10.0 * np.arange(len(BANDS))[:, None, None]).astype(np.float32)


def _unit_keywords(survey: SurveySpec) -> dict[str, object]:
    return {"BUNIT": "nanomaggy"} if survey is SDSS else {"BUNIT": "adu", "PHOTZP": 30.0}


def _wcs_header(
    survey: SurveySpec, size: int | None = None, *, scale: float | None = None, **keywords: object
) -> fits.Header:
    header = cutout_wcs(RA, DEC, scale or survey.pixel_scale, size or survey.cutout_size).to_header()
    header.update(keywords)
    return header


def _write_cube(path: Path, survey: SurveySpec, data: np.ndarray | None = None, **keywords: object) -> Path:
    data = _planes(survey) if data is None else data
    header = _wcs_header(survey, data.shape[-1], **{**_unit_keywords(survey), **keywords})
    fits.PrimaryHDU(data, header).writeto(path)
    return path


def _rotated_header(
    survey: SurveySpec, size: int, angle_deg: float, *, east_right: bool = False
) -> fits.Header:
    """A TAN grid centred on (RA, DEC) turned by ``angle_deg``, optionally with east to the right."""
    s, theta = survey.pixel_scale / 3600.0, np.deg2rad(angle_deg)
    cd = np.array([[-s * np.cos(theta), s * np.sin(theta)], [s * np.sin(theta), s * np.cos(theta)]])
    if east_right:
        cd[:, 0] *= -1.0
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [RA, DEC]
    wcs.wcs.crpix = [(size + 1) / 2.0, (size + 1) / 2.0]
    wcs.wcs.cd = cd
    return wcs.to_header()


# ------------------------------------------------------------------------------------------------ layouts
@pytest.mark.parametrize("survey", [SDSS, CFHT], ids=["sdss", "cfht"])
@pytest.mark.parametrize("layout", ["cube", "hdus", "files"])
def test_three_layouts_give_the_same_cutout(tmp_path: Path, survey: SurveySpec, layout: str) -> None:
    data = _planes(survey)
    if layout == "cube":
        source: Path | list[Path] = _write_cube(tmp_path / "cube.fits", survey, data)
    elif layout == "hdus":
        order = ["z", "u", "i", "g", "r"]  # shuffled; the FILTER keyword names each band
        hdus = [fits.PrimaryHDU()]
        for band in order:
            name = CFHT_FILTERS[band] if survey is CFHT else band
            header = _wcs_header(survey, FILTER=name, **_unit_keywords(survey))
            hdus.append(fits.ImageHDU(data[BANDS.index(band)], header))
        source = tmp_path / "bands.fits"
        fits.HDUList(hdus).writeto(source)
    else:  # one file per band, the band only in the file name; CFHT's i as "i2"; no unit keywords
        source = []
        for band in reversed(BANDS):
            token = "i2" if (survey is CFHT and band == "i") else band
            path = tmp_path / f"galaxy-7_{token}.fits"
            fits.PrimaryHDU(data[BANDS.index(band)], _wcs_header(survey)).writeto(path)
            source.append(path)

    cutout = read_cutout(source)

    assert cutout.survey is survey
    assert cutout.bands == BANDS
    np.testing.assert_array_equal(cutout.data, data)
    assert cutout.data.dtype == np.float32
    assert cutout.units == survey.unit
    assert cutout.grid == "as is"
    assert cutout.centre.separation(SkyCoord(RA, DEC, unit="deg")).arcsec < 1e-6
    assert cutout.direction == ("sdss2cfht" if survey is SDSS else "cfht2sdss")
    assert cutout.target_survey is (CFHT if survey is SDSS else SDSS)
    if layout == "files":
        assert "assumed" in cutout.calibration


@pytest.mark.parametrize(
    "keywords", [{"BANDS": "z,i,r,g,u"}, {f"FILTER0{n + 1}": b for n, b in enumerate("zirgu")}]
)
def test_cube_band_keywords_reorder_planes(tmp_path: Path, keywords: dict[str, str]) -> None:
    data = _planes(SDSS)
    path = _write_cube(tmp_path / "c.fits", SDSS, data[::-1].copy(), **keywords)
    np.testing.assert_array_equal(read_cutout(path).data, data)


@pytest.mark.parametrize("with_first_i", [True, False])
def test_second_cfht_i_filter_is_used_only_without_the_first(tmp_path: Path, with_first_i: bool) -> None:
    data = _planes(CFHT)
    second_i = data[3] + 1000.0
    paths = []
    for band in BANDS:
        if band != "i" or with_first_i:
            path = tmp_path / f"obj_{band}.fits"
            fits.PrimaryHDU(data[BANDS.index(band)], _wcs_header(CFHT, FILTER=CFHT_FILTERS[band])).writeto(
                path
            )
            paths.append(path)
    path = tmp_path / "obj_y.fits"
    fits.PrimaryHDU(second_i, _wcs_header(CFHT, FILTER="i.MP9702")).writeto(path)
    paths.append(path)
    cutout = read_cutout(paths)
    np.testing.assert_array_equal(cutout.data[3], data[3] if with_first_i else second_i)


def test_hdus_named_by_extname_or_taken_in_order(tmp_path: Path) -> None:
    data = _planes(SDSS)
    named = [fits.PrimaryHDU()] + [
        fits.ImageHDU(data[BANDS.index(band)], _wcs_header(SDSS), name=band.upper()) for band in "rziug"
    ]
    fits.HDUList(named).writeto(tmp_path / "named.fits")
    np.testing.assert_array_equal(read_cutout(tmp_path / "named.fits").data, data)
    # Unnamed HDUs in u g r i z order; the zero point (27.5: 0.01 nanomaggies) in the primary header.
    primary = fits.PrimaryHDU(header=fits.Header({"MAGZPT": 27.5}))
    unnamed = [primary] + [fits.ImageHDU(plane, _wcs_header(SDSS)) for plane in data]
    fits.HDUList(unnamed).writeto(tmp_path / "unnamed.fits")
    cutout = read_cutout(tmp_path / "unnamed.fits")
    np.testing.assert_allclose(cutout.data, data * 0.01, rtol=1e-6)
    assert cutout.units == "nanomaggy" and cutout.calibration.startswith("zero point 27.5 (MAGZPT)")


def test_bands_with_their_own_wcs_are_aligned_on_one_grid(tmp_path: Path) -> None:
    """Drift-scan-like bands: each file has its own sub-pixel shift and turn; all go on the r band's grid."""
    size = 90
    yy, xx = np.mgrid[:size, :size].astype(float)
    paths, headers = [], []
    for number, band in enumerate(BANDS):
        header = _rotated_header(SDSS, size, 0.4 * number)
        header["CRPIX1"] += 0.3 * number
        header["CRPIX2"] -= 0.2 * number
        headers.append(header)
        paths.append(tmp_path / f"frame-{band}-7.fits")
        plane = 1.0 + 0.1 * number + 0.02 * xx + 0.03 * yy  # linear: bilinear interpolation is exact
        fits.PrimaryHDU(plane.astype(np.float32), header).writeto(paths[-1])
    cutout = read_cutout(paths)
    r_wcs = WCS(headers[2])
    centre = r_wcs.pixel_to_world((size - 1) / 2, (size - 1) / 2)
    assert cutout.centre.separation(centre).arcsec < 1e-6
    grid = cutout_wcs(centre.ra.deg, centre.dec.deg, SDSS.pixel_scale, SDSS.cutout_size)
    gy, gx = np.mgrid[:64, :64].astype(float)
    for number, header in enumerate(headers):
        x, y = WCS(header).world_to_pixel(grid.pixel_to_world(gx, gy))
        np.testing.assert_allclose(cutout.data[number], 1.0 + 0.1 * number + 0.02 * x + 0.03 * y, atol=1e-4)


# -------------------------------------------------------------------------------------------- survey, units
def test_reference_code_cfht_scale_is_cfht_and_resampled_conserving_flux(tmp_path: Path) -> None:
    flat = np.full((5, 136, 136), 40.0, dtype=np.float32)
    header = _wcs_header(CFHT, scale=0.187, BUNIT="adu", PHOTZP=30.0)
    fits.PrimaryHDU(flat, header).writeto(tmp_path / "c.fits")
    cutout = read_cutout(tmp_path / "c.fits")
    assert cutout.survey is CFHT and cutout.data.shape == (5, 136, 136)
    assert "resampled" in cutout.grid and "0.1870" in cutout.grid
    np.testing.assert_allclose(cutout.data, 40.0 * (0.186 / 0.187) ** 2, rtol=1e-6)


def test_survey_override_resamples_onto_that_survey_grid(tmp_path: Path) -> None:
    flat = np.full((5, 64, 64), 2.0, dtype=np.float32)
    path = _write_cube(tmp_path / "s.fits", SDSS, flat)
    cutout = read_cutout(path, survey=survey_of_direction("cfht2sdss"))
    assert cutout.survey is CFHT and cutout.data.shape == (5, 136, 136)
    assert cutout.units == "nanomaggy"  # the unit stays the file's
    np.testing.assert_allclose(cutout.data, 2.0 * (0.186 / 0.396) ** 2, rtol=1e-6)


def test_units_override_and_zero_point_conversion(tmp_path: Path) -> None:
    data = _planes(SDSS)
    given = read_cutout(_write_cube(tmp_path / "a.fits", SDSS, data), units="ADU_ZP30")
    assert given.units == "adu_zp30"
    np.testing.assert_array_equal(given.data, data)
    other = _write_cube(tmp_path / "b.fits", SDSS, data, BUNIT="adu", PHOTZP=27.5)
    converted = read_cutout(other)  # one count at zero point 27.5 is 0.01 nanomaggies
    assert converted.units == "nanomaggy" and "27.5" in converted.calibration
    np.testing.assert_allclose(converted.data, data * 0.01, rtol=1e-6)


def test_bands_in_different_units_are_converted_to_the_survey_unit(tmp_path: Path) -> None:
    data = _planes(CFHT)
    paths = []
    for number, band in enumerate(BANDS):
        keywords = {"BUNIT": "nanomaggy"} if band == "g" else {"BUNIT": "adu", "MAGZPT": 30.0}
        paths.append(tmp_path / f"o_{band}.fits")
        fits.PrimaryHDU(data[number], _wcs_header(CFHT, **keywords)).writeto(paths[-1])
    cutout = read_cutout(paths)
    assert cutout.units == "adu_zp30"
    np.testing.assert_allclose(cutout.data[1], data[1] * 1000.0, rtol=1e-6)
    np.testing.assert_array_equal(cutout.data[[0, 2, 3, 4]], data[[0, 2, 3, 4]])


def test_unknown_units_and_directions_are_refused() -> None:
    with pytest.raises(GaltkError, match="unknown pixel unit 'jansky'"):
        normalise_units("jansky")
    with pytest.raises(GaltkError, match="unknown direction"):
        survey_of_direction("sdss2hsc")


# ------------------------------------------------------------------------------------------------ grids
@pytest.mark.parametrize(("angle", "east_right"), [(0.0, True), (90.0, False), (180.0, False), (90.0, True)])
def test_flipped_and_quarter_turned_inputs_are_reindexed_exactly(
    tmp_path: Path, angle: float, east_right: bool
) -> None:
    data = _planes(SDSS)
    header = _rotated_header(SDSS, 64, angle, east_right=east_right)
    fits.PrimaryHDU(data, header).writeto(tmp_path / "turned.fits")
    cutout = read_cutout(tmp_path / "turned.fits")
    # Expected: the input pixel under every grid pixel, found through astropy's own WCS.
    gy, gx = np.mgrid[:64, :64].astype(float)
    x, y = WCS(header).world_to_pixel(cutout_wcs(RA, DEC, SDSS.pixel_scale, 64).pixel_to_world(gx, gy))
    np.testing.assert_array_equal(cutout.data, data[:, np.rint(y).astype(int), np.rint(x).astype(int)])
    assert "without interpolation" in cutout.grid


def test_larger_inputs_are_cropped_exactly(tmp_path: Path) -> None:
    large = _planes(SDSS, size=80, seed=1)
    cropped = read_cutout(_write_cube(tmp_path / "large.fits", SDSS, large))
    np.testing.assert_array_equal(cropped.data, large[:, 8:72, 8:72])
    assert cropped.centre.separation(SkyCoord(RA, DEC, unit="deg")).arcsec < 1e-6


def test_slightly_rotated_larger_input_is_resampled_bilinearly(tmp_path: Path) -> None:
    size = 80
    header = _rotated_header(SDSS, size, 5.0)
    yy, xx = np.mgrid[:size, :size].astype(float)
    plane = 3.0 + 0.25 * xx - 0.5 * yy  # bilinear interpolation reproduces linear images exactly
    data = np.repeat(plane[None], 5, axis=0).astype(np.float32)
    fits.PrimaryHDU(data, header).writeto(tmp_path / "rot.fits")
    cutout = read_cutout(tmp_path / "rot.fits", units="nanomaggy")
    # Expected: the linear image at the input position of every grid pixel, through astropy's own WCS.
    grid = cutout_wcs(RA, DEC, SDSS.pixel_scale, 64)
    gy, gx = np.mgrid[:64, :64].astype(float)
    x, y = WCS(header).world_to_pixel(grid.pixel_to_world(gx, gy))
    np.testing.assert_allclose(cutout.data[2], 3.0 + 0.25 * x - 0.5 * y, atol=2e-4)
    assert "5.0 deg east of north" in cutout.grid


# ------------------------------------------------------------------------------------------------ bad inputs
def _cube_with(
    tmp_path: Path, survey: SurveySpec = SDSS, data: np.ndarray | None = None, **keywords: object
) -> Path:
    return _write_cube(tmp_path / "bad.fits", survey, data, **keywords)


def _no_wcs(tmp_path: Path) -> Path:
    fits.PrimaryHDU(_planes(SDSS)).writeto(tmp_path / "bad.fits")
    return tmp_path / "bad.fits"


def _linear_wcs(tmp_path: Path) -> Path:
    header = fits.Header({"CTYPE1": "LINEAR", "CTYPE2": "LINEAR", "CDELT1": 1.0, "CDELT2": 1.0})
    fits.PrimaryHDU(_planes(SDSS), header).writeto(tmp_path / "bad.fits")
    return tmp_path / "bad.fits"


def _galactic_wcs(tmp_path: Path) -> Path:
    header = _wcs_header(SDSS, CTYPE1="GLON-TAN", CTYPE2="GLAT-TAN", RADESYS="")
    fits.PrimaryHDU(_planes(SDSS), header).writeto(tmp_path / "bad.fits")
    return tmp_path / "bad.fits"


def _single_band(tmp_path: Path) -> Path:
    fits.PrimaryHDU(_planes(SDSS)[2], _wcs_header(SDSS, FILTER="r")).writeto(tmp_path / "bad.fits")
    return tmp_path / "bad.fits"


def _four_dimensional(tmp_path: Path) -> Path:
    fits.PrimaryHDU(np.zeros((2, 5, 64, 64), np.float32), _wcs_header(SDSS)).writeto(tmp_path / "bad.fits")
    return tmp_path / "bad.fits"


def _duplicate_band(tmp_path: Path) -> Path:
    hdus = [fits.PrimaryHDU()]
    for band in [*BANDS, "r"]:
        hdus.append(fits.ImageHDU(_planes(SDSS)[0], _wcs_header(SDSS, FILTER=band)))
    fits.HDUList(hdus).writeto(tmp_path / "bad.fits")
    return tmp_path / "bad.fits"


def _rotated(tmp_path: Path) -> Path:
    fits.PrimaryHDU(_planes(SDSS), _rotated_header(SDSS, 64, 20.0)).writeto(tmp_path / "bad.fits")
    return tmp_path / "bad.fits"


def _with_nan(tmp_path: Path) -> Path:
    data = _planes(SDSS)
    data[1, 5, 5:8] = np.nan
    return _cube_with(tmp_path, data=data)


def _bands_of_two_surveys(tmp_path: Path) -> list[Path]:
    paths = []
    for band in BANDS:
        survey = CFHT if band == "z" else SDSS
        paths.append(tmp_path / f"bad_{band}.fits")
        fits.PrimaryHDU(_planes(survey)[0], _wcs_header(survey)).writeto(paths[-1])
    return paths


def _not_fits(tmp_path: Path) -> Path:
    (tmp_path / "bad.fits").write_text("SIMPLE = maybe\n")
    return tmp_path / "bad.fits"


def _flipped_bit_gz(tmp_path: Path) -> Path:
    """A gzipped cube with one bit flipped in its compressed pixels: astropy alone reads it without a word."""
    import gzip

    plain = _cube_with(tmp_path)
    compressed = bytearray(gzip.compress(plain.read_bytes()))
    compressed[len(compressed) // 2] ^= 0x10
    path = tmp_path / "bad.fits.gz"
    path.write_bytes(bytes(compressed))
    return path


BAD_INPUTS = {
    "four planes": (lambda p: _cube_with(p, data=_planes(SDSS)[:4]), WrongShape, "4 planes"),
    "too small": (
        lambda p: _cube_with(p, data=_planes(SDSS, size=50)),
        WrongShape,
        "smaller than a SDSS cutout",
    ),
    "four axes": (_four_dimensional, WrongShape, "4 axes"),
    "one band": (_single_band, MissingBands, "no image of band(s) u g i z"),
    "band not named": (
        lambda p: _cube_with(p, data=_planes(SDSS)[:4], BANDS="u,g,r,i"),
        MissingBands,
        "band(s) z",
    ),
    "duplicate band": (_duplicate_band, DuplicateBands, "two images of band r"),
    "nan": (_with_nan, NonFinitePixels, "band g has 3 NaN"),
    "no wcs": (_no_wcs, MissingWcs, "has no WCS"),
    "linear wcs": (_linear_wcs, NonCelestialWcs, "no celestial axes"),
    "galactic wcs": (_galactic_wcs, NonCelestialWcs, "not equatorial"),
    "not fits": (_not_fits, UnreadableInput, "cannot read it as FITS"),
    "flipped bit in a .gz": (_flipped_bit_gz, UnreadableInput, "is damaged: corrupt compressed data"),
    "missing": (lambda p: p / "bad.fits", UnreadableInput, "no such file"),
    "unit": (lambda p: _cube_with(p, BUNIT="Jy"), UnitError, "BUNIT 'Jy'"),
    "scale of neither": (
        lambda p: _cube_with(p, data=_planes(SDSS, 100), CDELT2=0.262 / 3600, CDELT1=-0.262 / 3600),
        SurveyMismatch,
        "cannot tell the survey",
    ),
    "shape against scale": (
        lambda p: _cube_with(p, CFHT, _planes(SDSS)),
        SurveyMismatch,
        "64x64 pixels is the SDSS cutout size",
    ),
    "header against scale": (
        lambda p: _cube_with(p, TELESCOP="CFHT 3.6m"),
        SurveyMismatch,
        "TELESCOP = 'CFHT 3.6m' names CFHTLS",
    ),
    "two surveys": (_bands_of_two_surveys, SurveyMismatch, "z 0.1860) point to different surveys"),
    "rotated": (_rotated, OffGridInput, "its y axis points 20.0 deg east of north"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_inputs_give_one_clear_error_naming_the_file(tmp_path: Path, case: str) -> None:
    make, error_type, phrase = BAD_INPUTS[case]
    path = make(tmp_path)
    with pytest.raises(error_type) as caught:
        read_cutout(path)
    assert isinstance(caught.value, GaltkError)
    message = str(caught.value)
    assert message.startswith(str(path if isinstance(path, Path) else path[0])), message
    assert phrase in message, message
    assert "\n" not in message


def test_missing_band_file_is_named_in_the_message(tmp_path: Path) -> None:
    paths = []
    for number, band in enumerate(BANDS[:4]):
        paths.append(tmp_path / f"g_{band}.fits")
        fits.PrimaryHDU(_planes(SDSS)[number], _wcs_header(SDSS)).writeto(paths[-1])
    with pytest.raises(MissingBands, match=r"g_u\.fits .*no image of band\(s\) z; bands found: u \("):
        read_cutout(paths)


# ------------------------------------------------------------------------------------------------ batches
def _good_group(folder: Path, stem: str, bands: tuple[str, ...] = BANDS) -> None:
    for number, band in enumerate(bands):
        fits.PrimaryHDU(_planes(SDSS)[number], _wcs_header(SDSS, BUNIT="nanomaggy")).writeto(
            folder / f"{stem}_{band}.fits"
        )


def test_batch_directory_yields_good_inputs_and_lists_bad_ones(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _write_cube(folder / "a_sdss.fits", SDSS)
    _write_cube(folder / "b_cfht.fits", CFHT)
    _good_group(folder, "obj7")
    _good_group(folder, "obj8", BANDS[:4])  # z missing
    nan = _planes(SDSS)
    nan[0, 0, 0] = np.nan
    _write_cube(folder / "c_nan.fits", SDSS, nan)
    (folder / "d_junk.fits").write_text("not FITS")
    (folder / "notes.txt").write_text("ignored: not a FITS name")

    batch = iter_inputs(folder)
    assert len(batch) == 6
    good = list(batch)
    assert sorted(cutout.direction for cutout in good) == ["cfht2sdss", "sdss2cfht", "sdss2cfht"]
    grouped = next(cutout for cutout in good if len(cutout.sources) == 5)
    assert {Path(source).name for source in grouped.sources} == {f"obj7_{band}.fits" for band in BANDS}
    reasons = {Path(item.source.split(" ")[0]).name: item.reason for item in batch.rejected}
    assert set(reasons) == {"obj8_g.fits", "c_nan.fits", "d_junk.fits"}
    assert "band(s) z" in reasons["obj8_g.fits"]
    assert "NaN" in reasons["c_nan.fits"]
    assert "cannot read it as FITS" in reasons["d_junk.fits"]
    assert len(good) + len(batch.rejected) == len(batch)


def test_batch_globs_and_lists_report_what_matched_nothing(tmp_path: Path) -> None:
    _write_cube(tmp_path / "x1.fits", SDSS)
    _write_cube(tmp_path / "x2.fits", CFHT)
    batch = iter_inputs([tmp_path / "x*.fits", tmp_path / "absent.fits", str(tmp_path / "y*.fits")])
    assert [cutout.survey for cutout in batch] == [SDSS, CFHT]
    assert [str(item) for item in batch.rejected] == [
        f"{tmp_path / 'absent.fits'}: no such file or directory",
        f"{tmp_path / 'y*.fits'}: matches no file or cutout store",
    ]
    with pytest.raises(GaltkError, match="no input to translate"):
        iter_inputs(tmp_path / "nothing-here")


def _store(path: Path, survey: SurveySpec) -> tuple[CutoutStore, np.ndarray]:
    ra, dec = np.array([10.0, 11.0, 12.0, 13.0]), np.array([-1.0, 0.0, 1.0, 2.0])
    store = CutoutStore.create(
        path, StoreSchema.for_survey(survey, chunk_objects=2), ra=ra, dec=dec, ids=["a", "b", "c", "d"]
    )
    images = np.stack([_planes(survey, seed=row) for row in range(4)])
    images[2, 4, 0, 0] = np.nan
    valid = np.ones((4, 5), dtype=bool)
    valid[3, 1] = False
    state = np.array([STATE_DONE, STATE_FAILED, STATE_DONE, STATE_DONE], dtype=np.uint8)
    store.write_rows(0, CutoutBatch(images=images, valid=valid, state=state))
    return store, images


def test_store_rows_become_inputs_and_bad_rows_are_listed(tmp_path: Path) -> None:
    _, images = _store(tmp_path / "cfht.zarr", CFHT)
    batch = iter_inputs(tmp_path / "cfht.zarr")
    assert len(batch) == 4
    good = list(batch)
    assert len(good) == 1
    (cutout,) = good
    np.testing.assert_array_equal(cutout.data, images[0])
    assert cutout.survey is CFHT and cutout.units == "adu_zp30" and cutout.object_id == "a"
    assert cutout.centre.separation(SkyCoord(10.0, -1.0, unit="deg")).arcsec < 1e-9
    reasons = [(item.source.split("] ")[-1], item.reason) for item in batch.rejected]
    assert reasons == [
        ("(id b)", "no cutout: its fetch failed"),
        ("(id c)", "1 NaN or infinite pixel(s)"),
        ("(id d)", "no data in band(s) g"),
    ]


def test_store_of_the_wrong_survey_is_listed_as_a_whole(tmp_path: Path) -> None:
    _store(tmp_path / "sdss.zarr", SDSS)
    _write_cube(tmp_path / "ok.fits", CFHT)
    batch = iter_inputs([tmp_path / "sdss.zarr", tmp_path / "ok.fits"], survey="cfht")
    assert len(list(batch)) == 1
    assert [str(item) for item in batch.rejected] == [
        f"{tmp_path / 'sdss.zarr'}: holds SDSS cutouts, not CFHTLS Wide ones"
    ]
    with pytest.raises(GaltkError, match="its pixels are in nanomaggy, not adu_zp30 as given"):
        iter_inputs(tmp_path / "sdss.zarr", units="adu_zp30")


def test_group_of_stores_points_to_its_members(tmp_path: Path) -> None:
    _store(tmp_path / "paired.zarr" / "sdss", SDSS)
    with pytest.raises(
        GaltkError, match=r"paired\.zarr: is not a cutout store; name one of the cutout stores in it \(sdss\)"
    ):
        iter_inputs(tmp_path / "paired.zarr")
    assert len(iter_inputs(tmp_path / "paired.zarr" / "sdss")) == 4


def test_errors_are_galtk_errors_with_source_and_problem() -> None:
    error = MissingWcs("x.fits", "has no WCS")
    assert isinstance(error, InputCutoutError) and isinstance(error, GaltkError)
    assert (error.source, error.problem, str(error)) == ("x.fits", "has no WCS", "x.fits: has no WCS")
