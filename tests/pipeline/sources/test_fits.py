"""Cutouts from local FITS images: band alignment, flux, edges, calibration, bad files, CLI."""

import bz2
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS
from typer.testing import CliRunner

from galtk.catalogs.files import read_object_catalog
from galtk.cli.app import app
from galtk.pipeline.fetch.stage import fetch_survey
from galtk.pipeline.sources.fits import FitsSource, expand_image_patterns, index_frames
from galtk.pipeline.stores.cutout_store import CutoutStore
from galtk.pipeline.surveys import SURVEYS
from galtk.pipeline.workspace import CONFIG_NAME, default_config, render_config

SDSS = SURVEYS["sdss"]
SHAPE = (500, 400)  # rows, columns
STAR_FLUX = 250.0  # nanomaggies
# Stars: well inside frame A, near frame A's edge (also inside frame B), near an edge of no other frame.
STARS = {"inner": (180.0, 200.0), "shared": (375.0, 250.0), "edge": (200.0, 490.0)}


def _frame_wcs(angle_deg: float, crval: tuple[float, float], shift: tuple[float, float]) -> WCS:
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = list(crval)
    wcs.wcs.crpix = [SHAPE[1] / 2 + shift[0], SHAPE[0] / 2 + shift[1]]
    theta = np.deg2rad(angle_deg)
    s = 0.396 / 3600.0
    wcs.wcs.cd = [[-s * np.cos(theta), s * np.sin(theta)], [s * np.sin(theta), s * np.cos(theta)]]
    return wcs


def _star_image(
    wcs: WCS, positions: list[tuple[float, float]], flux: float, sigma_px: float = 1.4
) -> np.ndarray:
    yy, xx = np.mgrid[: SHAPE[0], : SHAPE[1]]
    image = np.random.default_rng(0).normal(0, 0.01, SHAPE)
    for ra, dec in positions:
        x, y = wcs.world_to_pixel_values(ra, dec)
        image += (
            flux / (2 * np.pi * sigma_px**2) * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma_px**2))
        )
    return image.astype(np.float32)


@pytest.fixture
def frames(tmp_path: Path) -> tuple[Path, dict[str, tuple[float, float]]]:
    """Frame A in five bands (each band rotated and shifted differently) plus frame B in r overlapping A."""
    reference = _frame_wcs(12.0, (150.0, 2.0), (0.0, 0.0))
    stars = {name: tuple(map(float, reference.pixel_to_world_values(*xy))) for name, xy in STARS.items()}
    folder = tmp_path / "frames"
    folder.mkdir()
    for number, band in enumerate("ugriz"):
        wcs = _frame_wcs(12.0 + 0.3 * number, (150.0, 2.0), (3.7 * number, -2.2 * number))
        header = wcs.to_header()
        header["FILTER"] = band
        header["BUNIT"] = "nanomaggy"
        data = _star_image(wcs, list(stars.values()), STAR_FLUX)
        hdul = fits.HDUList([fits.PrimaryHDU(data, header)])
        if band == "g":  # SDSS frames come bzip2-compressed
            (folder / f"frame-{band}-A.fits.bz2").write_bytes(bz2.compress(_to_bytes(hdul)))
        else:
            hdul.writeto(folder / f"frame-{band}-A.fits")
    # Frame B: r band only, ADU with a zero point keyword, overlapping A where the "shared" star is.
    ra_b, dec_b = stars["shared"]
    wcs_b = _frame_wcs(-40.0, (ra_b, dec_b), (0.0, 0.0))
    header = wcs_b.to_header()
    header["MAGZPT"] = 27.5  # one count = 10**(-0.4 * 5) nanomaggies = 0.01
    data = _star_image(wcs_b, [stars["shared"]], STAR_FLUX * 100.0)
    fits.PrimaryHDU(data, header).writeto(folder / "frame-r-B.fits")
    (folder / "notes-r.fits").write_text("not a FITS file")
    return folder, stars


def _to_bytes(hdul: fits.HDUList) -> bytes:
    import io

    buffer = io.BytesIO()
    hdul.writeto(buffer)
    return buffer.getvalue()


def _catalog(tmp_path: Path, stars: dict[str, tuple[float, float]]) -> Path:
    rows = [(name, ra, dec) for name, (ra, dec) in stars.items()] + [("far", 160.0, 10.0)]
    table = Table(rows=rows, names=("id", "ra", "dec"))
    table.write(tmp_path / "objects.csv")
    return tmp_path / "objects.csv"


def _fetch(tmp_path: Path, frames) -> tuple[CutoutStore, object]:
    folder, stars = frames
    source = FitsSource(read_object_catalog(_catalog(tmp_path, stars)), expand_image_patterns([folder / "*"]))
    report = fetch_survey(source, SDSS, tmp_path / "sdss.zarr", batch_size=8, chunk_objects=8)
    return CutoutStore.open(tmp_path / "sdss.zarr"), report


def test_index_reads_bands_units_and_rejects_unusable_files(frames) -> None:
    folder, _ = frames
    index = index_frames(expand_image_patterns([folder / "*"]), SDSS)
    bands = sorted((frame.path.name, frame.band, frame.calibration) for frame in index.frames)
    assert ("frame-g-A.fits.bz2", "g", "BUNIT nanomaggy") in bands
    assert ("frame-r-B.fits", "r", "zero point 27.5 (MAGZPT)") in bands
    assert len(index.frames) == 6
    assert [Path(path).name for path, _ in index.rejected_files] == ["notes-r.fits"]


def test_all_bands_align_at_the_cutout_centre_with_their_flux(tmp_path: Path, frames) -> None:
    store, _ = _fetch(tmp_path, frames)
    ids = list(store.ids)
    row = ids.index("inner")
    cutout = store.images[row]
    assert store.valid[row].all()
    yy, xx = np.mgrid[:64, :64]
    for band in range(5):
        total = cutout[band].sum(dtype=np.float64)
        assert total == pytest.approx(STAR_FLUX, rel=0.01)
        assert (cutout[band] * xx).sum() / total == pytest.approx(31.5, abs=0.1)
        assert (cutout[band] * yy).sum() / total == pytest.approx(31.5, abs=0.1)
    provenance = store.extra("provenance")[row]
    assert "g=frame-g-A.fits.bz2[0]" in provenance and "r=frame-r-A.fits[0]" in provenance


def test_edges_use_a_neighbouring_frame_or_mark_the_band_invalid(tmp_path: Path, frames) -> None:
    store, report = _fetch(tmp_path, frames)
    ids = list(store.ids)
    shared = ids.index("shared")
    # "shared" sits at frame A's edge: r comes from frame B (calibrated by its zero point), the other bands
    # are invalid.
    assert store.valid[shared].tolist() == [False, False, True, False, False]
    assert "frame-r-B.fits" in store.extra("provenance")[shared]
    assert store.images[shared, 2].sum(dtype=np.float64) == pytest.approx(STAR_FLUX, rel=0.01)
    assert np.isnan(store.images[shared, 0]).all()  # invalid bands are NaN, never zeros
    # "edge" is covered by no complete image in any band: rejected (no row), with its reason.
    assert "edge" not in ids
    assert (report.done, report.failed, report.rejected) == (2, 0, 2)


def test_failures_are_listed_in_a_csv(tmp_path: Path, frames) -> None:
    _, report = _fetch(tmp_path, frames)
    table = Table.read(report.failures_csv, format="ascii.csv")
    reasons = dict(zip(table["id"], table["reason"], strict=True))
    assert reasons["far"] == "outside every image"
    assert reasons["edge"].startswith("at an image edge")
    assert report.failures_csv == tmp_path / "sdss.failures.csv"


def _fits_workspace(root: Path, images: str) -> None:
    """A galtk.toml fetching SDSS cutouts from ``images`` for the objects of ``objects.csv``."""
    config = default_config(sim=False)
    config.surveys = {"sdss": config.surveys["sdss"]}
    config.surveys["sdss"].source = "fits"
    config.surveys["sdss"].catalog = "objects.csv"
    config.surveys["sdss"].images = [images]
    (root / CONFIG_NAME).write_text(render_config(config))


def test_fits_source_from_the_command_line(tmp_path: Path, frames) -> None:
    _, stars = frames
    _catalog(tmp_path, stars)
    _fits_workspace(tmp_path, "frames/frame-*.fits*")
    result = CliRunner().invoke(app, ["fetch", "-w", str(tmp_path)], env={"COLUMNS": "150"})
    assert result.exit_code == 0, result.output
    assert "failed and rejected objects are listed in" in result.stdout
    dataset = xr.open_zarr(tmp_path / "data/raw/sdss.zarr")
    assert dataset.sizes["object"] == 2 and "provenance" in dataset


def test_missing_fits_settings_give_one_error_line(tmp_path: Path) -> None:
    config = default_config(sim=False)
    config.surveys["sdss"].source = "fits"
    config.surveys["sdss"].images = ["frames/*.fits"]
    (tmp_path / CONFIG_NAME).write_text(render_config(config))
    result = CliRunner().invoke(app, ["fetch", "-w", str(tmp_path), "-s", "sdss"])
    assert result.exit_code == 1
    assert "catalog" in result.stderr and "does not exist" in result.stderr


def test_dropped_catalog_rows_and_unusable_files_are_reported(tmp_path: Path, frames) -> None:
    _, stars = frames
    (tmp_path / "objects.csv").write_text(
        "id,ra,dec\n" + "".join(f"{name},{ra},{dec}\n" for name, (ra, dec) in stars.items()) + "bad,,1\n"
    )
    _fits_workspace(tmp_path, "frames/*")
    result = CliRunner().invoke(app, ["fetch", "-w", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "1 bad coordinates" in result.stderr
    assert "notes-r.fits" in result.stderr  # the file that is not FITS is skipped, and said so


def test_north_up_images_at_the_survey_scale_give_their_own_pixels_and_offsets(tmp_path: Path) -> None:
    reference = _frame_wcs(0.0, (150.0, 2.0), (0.0, 0.0))
    ra, dec = map(float, reference.pixel_to_world_values(180.3, 200.8))
    folder = tmp_path / "stacks"
    folder.mkdir()
    for number, band in enumerate("ugriz"):
        wcs = _frame_wcs(0.0, (150.0, 2.0), (0.37 * number, -0.22 * number))  # a sub-pixel phase per band
        header = wcs.to_header()
        header["FILTER"] = band
        header["BUNIT"] = "nanomaggy"
        fits.PrimaryHDU(_star_image(wcs, [(ra, dec)], STAR_FLUX), header).writeto(folder / f"{band}.fits")
    catalog = _catalog(tmp_path, {"star": (ra, dec)})
    source = FitsSource(read_object_catalog(catalog), expand_image_patterns([folder / "*"]))
    fetch_survey(source, SDSS, tmp_path / "sdss.zarr", batch_size=8, chunk_objects=8)
    store = CutoutStore.open(tmp_path / "sdss.zarr")
    row = list(store.ids).index("star")
    assert store.extra("provenance")[row].count("native pixels") == 5
    np.testing.assert_array_equal(store.extra("noise_gain")[row], 1.0)
    offset_x, offset_y = store.extra("offset_x")[row], store.extra("offset_y")[row]
    assert np.all(np.abs(offset_x) <= 0.5) and np.all(np.abs(offset_y) <= 0.5)
    assert np.ptp(offset_x) > 0.1  # each band's own phase
    yy, xx = np.mgrid[:64, :64]
    window = np.hypot(xx - 31.5, yy - 31.5) < 7.0  # the star's light, little of the background noise
    for band in range(5):
        image = np.where(window, store.images[row, band].astype(np.float64), 0.0)
        total = image.sum()
        # The star sits where the recorded offset says, not at the centre.
        assert (image * xx).sum() / total == pytest.approx(31.5 + offset_x[band], abs=0.02)
        assert (image * yy).sum() / total == pytest.approx(31.5 + offset_y[band], abs=0.02)


def test_a_damaged_compressed_frame_is_reported_not_cut(tmp_path: Path, frames) -> None:
    import gzip

    folder, _ = frames
    plain = folder / "frame-r-A.fits"
    damaged = bytearray(gzip.compress(plain.read_bytes()))
    damaged[3 * len(damaged) // 4] ^= 0x10  # one flipped bit in the compressed pixels; the header reads fine
    (folder / "frame-r-A.fits.gz").write_bytes(bytes(damaged))
    plain.unlink()
    store, _ = _fetch(tmp_path, frames)
    row = list(store.ids).index("inner")
    assert not store.valid[row, 2] and store.valid[row, [0, 1, 3, 4]].all()
    assert "r: frame-r-A.fits.gz is damaged: corrupt compressed data" in store.extra("error")[row]
