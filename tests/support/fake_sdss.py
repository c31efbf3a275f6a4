"""A fake SDSS for the tests: a drift-scan stripe of overlapping fields, SkyServer SQL and SAS frames.

Geometry: run 3000, rerun 301, camcol 2, fields 50-52. A field is a 300-row x 260-column frame per band;
fields advance along the scan (rows) by 240 rows, so neighbours overlap by 60 rows. Every band of every field
has its own TAN WCS: rotated by the scan angle plus a band-dependent twist and shifted by a few pixels, as
drift-scan frames are. Stars (Gaussian, in nanomaggies) sit at known positions.
"""

from __future__ import annotations

import bz2
import io
import re

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

RUN, RERUN, CAMCOL = 3000, 301, 2
FIELDS = (50, 51, 52)
ROWS, COLUMNS, STEP = 300, 260, 240
SCALE = 0.396
SCAN_ANGLE = 25.0  # degrees between the scan direction (+rows) and north
STAR_FLUX = 300.0
STAR_SIGMA_PX = 1.3
SQL_PATH = "/dr12/en/tools/search/x_results.aspx"
FRAME_PREFIX = "/sas/dr12/boss/photoObj/frames/"
_FRAME_NAME = re.compile(r"frame-([ugriz])-(\d{6})-(\d)-(\d{4})\.fits\.bz2$")


def _stripe_wcs() -> WCS:
    """Pixel grid of the whole stripe: rows along the scan, field 50 starts at row 0."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [200.0, 10.0]
    wcs.wcs.crpix = [COLUMNS / 2, ROWS / 2]
    theta = np.deg2rad(SCAN_ANGLE)
    s = SCALE / 3600
    wcs.wcs.cd = [[-s * np.cos(theta), s * np.sin(theta)], [s * np.sin(theta), s * np.cos(theta)]]
    return wcs


STRIPE = _stripe_wcs()
# Stars, as (column, row) on the stripe grid.
STARS_PX = {
    "centre50": (130.0, 150.0),  # middle of field 50
    "overlap": (140.0, 292.0),  # belongs to field 50, 8 rows from its end: only field 51 holds the cutout
    "camcol_edge": (12.0, 400.0),  # 12 columns from the camcol's edge: no frame holds the whole cutout
    "centre52": (120.0, 630.0),  # middle of field 52
}


def star_positions() -> dict[str, tuple[float, float]]:
    """(ra, dec) of each star."""
    return {name: tuple(map(float, STRIPE.pixel_to_world_values(*xy))) for name, xy in STARS_PX.items()}


def frame_wcs(field: int, band: str) -> WCS:
    """WCS of one band of one field: the stripe grid offset to the field, shifted and twisted per band."""
    number = "ugriz".index(band)
    wcs = STRIPE.deepcopy()
    wcs.wcs.crpix = [COLUMNS / 2 + 2.3 * number, ROWS / 2 - STEP * (field - FIELDS[0]) - 1.7 * number]
    twist = np.deg2rad(0.2 * number)
    rotation = np.array([[np.cos(twist), -np.sin(twist)], [np.sin(twist), np.cos(twist)]])
    wcs.wcs.cd = np.asarray(wcs.wcs.cd) @ rotation
    return wcs


def frame_bytes(field: int, band: str) -> bytes:
    """A bzip2-compressed FITS frame with SDSS-like header keywords."""
    wcs = frame_wcs(field, band)
    rows, columns = np.mgrid[:ROWS, :COLUMNS]
    rng = np.random.default_rng(field * 10 + "ugriz".index(band))
    image = rng.normal(0.0, 0.01, (ROWS, COLUMNS))
    norm = STAR_FLUX / (2 * np.pi * STAR_SIGMA_PX**2)
    for ra, dec in star_positions().values():
        x, y = wcs.world_to_pixel_values(ra, dec)
        image += norm * np.exp(-((columns - x) ** 2 + (rows - y) ** 2) / (2 * STAR_SIGMA_PX**2))
    header = wcs.to_header()
    header["FILTER"] = band
    header["BUNIT"] = "nanomaggy"
    header["RUN"], header["CAMCOL"], header["FIELD"] = RUN, CAMCOL, field
    buffer = io.BytesIO()
    fits.PrimaryHDU(image.astype(np.float32), header).writeto(buffer)
    return bz2.compress(buffer.getvalue())


def home_field(ra: float, dec: float) -> int | None:
    """Field of the photometric object within 6 arcsec of (ra, dec): the first field whose rows hold it."""
    column, row = STRIPE.world_to_pixel_values(ra, dec)
    for star_column, star_row in STARS_PX.values():
        if np.hypot(column - star_column, row - star_row) * SCALE < 6.0:
            for field in FIELDS:
                if 0 <= star_row - STEP * (field - FIELDS[0]) <= ROWS - 1:
                    return field
    return None


def _csv(header: str, rows: list[str]) -> dict:
    return {"body": ("#Table1\n" + header + "\n" + "".join(row + "\n" for row in rows)).encode()}


def skyserver_answer(parameters: dict[str, str]) -> dict:
    """Answer SkyServer's SQL search like the real one: CSV after a '#Table1' line, or an error page."""
    sql = parameters.get("cmd", "")
    if parameters.get("format") != "csv" or parameters.get("searchtool") != "SQL":
        return {"status": 400, "body": b"bad request"}
    if "VALUES" in sql:
        rows = []
        for up_id, ra, dec in re.findall(r"\((\d+), ([-\d.]+), ([-\d.]+)\)", sql):
            field = home_field(float(ra), float(dec))
            if field is not None:
                rows.append(f"{up_id},{RUN},{RERUN},{CAMCOL},{field}")
        return _csv("up_id,run,rerun,camcol,field", rows)
    if "FROM SpecObj" in sql:
        rows = []
        for number, (ra, dec) in enumerate(star_positions().values()):
            field = home_field(ra, dec)
            rows.append(f"{1237650000000000000 + number},{ra:.8f},{dec:.8f},{RUN},{RERUN},{CAMCOL},{field}")
        return _csv("objid,ra,dec,run,rerun,camcol,field", rows)
    return {"body": b"<html>error_message: Incorrect syntax near 'FORM'</html>"}


class FakeSdss:
    """Routes of a FakeArchive that behave like SkyServer and the SAS; ``faults[(band, field)]`` lists
    answers to give (in turn) instead of that frame, e.g. ``[{"status": 503}]`` or ``[{"body": b"junk"}]``."""

    def __init__(self, archive: object) -> None:
        self.archive = archive
        self.faults: dict[tuple[str, int], list[dict]] = {}
        self.frame_requests: list[tuple[str, int]] = []
        self._cache: dict[tuple[str, int], bytes] = {}
        archive.routes[SQL_PATH] = [skyserver_answer]
        archive.prefixes[FRAME_PREFIX] = self._frame_answer

    def _frame_answer(self, path: str, parameters: dict[str, str]) -> dict | None:
        match = _FRAME_NAME.search(path)
        expected = f"{FRAME_PREFIX}{RERUN}/{RUN}/{CAMCOL}/"
        if not match or not path.startswith(expected):
            return None
        band, run, camcol, field = (
            match.group(1),
            int(match.group(2)),
            int(match.group(3)),
            int(match.group(4)),
        )
        if (run, camcol) != (RUN, CAMCOL) or field not in FIELDS:
            return None
        self.frame_requests.append((band, field))
        faults = self.faults.get((band, field))
        if faults:
            return faults.pop(0)
        if (band, field) not in self._cache:
            self._cache[(band, field)] = frame_bytes(field, band)
        return {"body": self._cache[(band, field)]}
