"""Object catalogs from CSV, ECSV and FITS files: columns, units, bad rows, errors."""

from pathlib import Path

import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table

from galtk.catalogs.files import read_object_catalog
from galtk.errors import CatalogError


@pytest.mark.parametrize("suffix", [".csv", ".ecsv", ".fits"])
def test_reads_every_format_with_common_column_names(tmp_path: Path, suffix: str) -> None:
    table = Table({"RAJ2000": [10.0, 10.1], "DEJ2000": [-5.0, -5.1], "objID": [1237653651835781245, 7]})
    table.write(tmp_path / f"cat{suffix}")
    catalog = read_object_catalog(tmp_path / f"cat{suffix}")
    np.testing.assert_allclose(catalog.ra, [10.0, 10.1])
    assert list(catalog.ids) == ["1237653651835781245", "7"]  # 64-bit ids survive exactly
    assert catalog.dropped == {}


def test_angles_in_other_units_are_converted(tmp_path: Path) -> None:
    table = Table({"ra": [1.0] * u.hourangle, "dec": [3600.0] * u.arcsec})
    table.write(tmp_path / "cat.ecsv")
    catalog = read_object_catalog(tmp_path / "cat.ecsv")
    assert catalog.ra[0] == pytest.approx(15.0) and catalog.dec[0] == pytest.approx(1.0)
    assert list(catalog.ids) == ["0"]


def test_bad_rows_are_dropped_and_counted(tmp_path: Path) -> None:
    (tmp_path / "cat.csv").write_text(
        "id,ra,dec\n"
        "a,10.0,1.0\n"
        "b,,1.0\n"  # missing ra
        "c,10.0,95.0\n"  # impossible dec
        "a,11.0,1.0\n"  # duplicate id
        "d,10.00001,1.00001\n"  # same position as a (0.05 arcsec away)
        "e,370.0,2.0\n"  # ra outside [0, 360): counted, not wrapped silently
        "f,-5.0,2.0\n"
        "g,359.5,2.0\n"
    )
    catalog = read_object_catalog(tmp_path / "cat.csv")
    assert list(catalog.ids) == ["a", "g"]
    assert catalog.dropped == {
        "bad coordinates": 2,
        "ra outside [0, 360)": 2,
        "duplicate id": 1,
        "duplicate position": 1,
    }


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("x,y\n1,2\n", "cat.csv", "right ascension column"),
        ("id,x,y\n1,2,3\n", "cat.csv", "first line does not name a right ascension column"),
        ("id,ra,dec\n", "cat.txt", "unknown catalog format"),
        (None, "missing.csv", "does not exist"),
        ("directory", "folder.csv", "is a directory, not a catalog file"),
        ("not fits at all", "cat.fits", "is not a FITS file"),
    ],
)
def test_unusable_catalogs_give_one_clear_error(tmp_path: Path, content, name: str, message: str) -> None:
    if content == "directory":
        (tmp_path / name).mkdir()
    elif content is not None:
        (tmp_path / name).write_text(content)
    with pytest.raises(CatalogError, match=message):
        read_object_catalog(tmp_path / name)


def test_text_coordinates_are_read_as_decimal_or_sexagesimal_and_other_text_is_a_bad_row(
    tmp_path: Path,
) -> None:
    """Text in the ra column once ended a fetch with a traceback (issue 17)."""
    from astropy.coordinates import Angle

    (tmp_path / "cat.csv").write_text(
        "id,ra,dec\n"
        "a,10.0,1.0\n"
        "b,ten,1.0\n"
        "c,20.5,north\n"
        "d,10:00:28.6,+02:12:21\n"  # right ascension in hours, declination in degrees
        "e,11h00m00s,-1d30m00s\n"
    )
    catalog = read_object_catalog(tmp_path / "cat.csv")
    assert list(catalog.ids) == ["a", "d", "e"]
    assert catalog.dropped == {"bad coordinates": 2}
    np.testing.assert_allclose(catalog.ra[1:], [Angle("10h00m28.6s").deg, 165.0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(catalog.dec[1:], [Angle("2d12m21s").deg, -1.5], rtol=0, atol=1e-9)


def test_rows_swallowed_by_an_unbalanced_quote_are_counted(tmp_path: Path) -> None:
    """astropy reads the line with the open quote and every line after it as one field, without an error."""
    (tmp_path / "cat.csv").write_text('id,ra,dec\na,10.0,1.0\nb,"11.0,1.0\nc,12.0,1.0\nd,13.0,1.0\n')
    catalog = read_object_catalog(tmp_path / "cat.csv")
    assert list(catalog.ids) == ["a"]
    assert catalog.dropped == {"unreadable (malformed CSV line, e.g. an unbalanced quote)": 3}


def test_a_large_junk_file_is_refused_before_parsing(tmp_path: Path) -> None:
    """A 270 MB junk file once took 3.3 GB of memory before its error: the first bytes tell already."""
    junk = tmp_path / "cat.csv"
    with open(junk, "wb") as stream:
        block = bytes(range(256)) * 4096
        for _ in range(64):  # 64 MB
            stream.write(block)
    with pytest.raises(CatalogError, match="is not a text catalog"):
        read_object_catalog(junk)


def test_non_angle_units_are_refused(tmp_path: Path) -> None:
    Table({"ra": [1.0] * u.mag, "dec": [1.0] * u.deg}).write(tmp_path / "cat.ecsv")
    with pytest.raises(CatalogError, match="not an angle"):
        read_object_catalog(tmp_path / "cat.ecsv")
