"""A fake CADC for the tests: its registry, TAP service (argus), DataLink and SODA cutouts (caom2ops).

It serves CFHTLS Wide T0007 stacks of collection CFHTTERAPIX as CADC does, on small synthetic tiles
(``TILE_SIZE`` pixels a side at 0.186"/px instead of 19354):

- pointing ``W1A`` at the W1 field centre: u, g, r, i (i.MP9701), y (i.MP9702), z, and a gri colour plane;
- pointing ``W1B``, 260 px east of W1A (they overlap by 220 px): u, g, r, y (i.MP9702 only), z;
- pointing ``W3`` in W3: g, r, y, z (no u, no i.MP9701).

Every band of every pointing has its own north-up-ish TAN WCS: rotated by a band-dependent angle and
shifted by a few pixels, with MegaPipe/Terapix-like header keywords (``FILTER = 'i.MP9701'``,
``PHOTZP = 30``, ``BUNIT = 'ADU'``). Gaussian stars of ``STAR_FLUX`` ADU (zero point 30) sit at the
positions of :data:`STARS` on Gaussian noise.

Endpoints (paths of a :class:`FakeArchive`):

- ``/reg/resource-caps``: the registry (``ivo://... = capabilities URL`` lines) astroquery reads;
- ``/caom2ops/capabilities``: VOSI capabilities naming the DataLink and SODA endpoints;
- ``/argus/sync``: TAP sync queries (POST), answering the tile query with a VOTable and anything else
  with a VOTable error, as CADC does;
- ``/caom2ops/datalink?ID=...``: DataLink links (``#this``, ``#auxiliary`` weight map, and one ``#cutout``
  SODA service descriptor per artifact);
- ``/caom2ops/sync?ID=<artifact uri>&POS=CIRCLE ra dec r``: the pixel bounding box of the circle, cut
  from the tile, its WCS shifted accordingly (``CIRCLE=ra dec r`` works too);
- ``/data/pub/CFHTTERAPIX/<file>``: whole tiles (counted in ``tile_downloads``; galtk must never ask).

Faults: ``tap_faults``, ``datalink_faults`` and ``cutout_faults[file name]`` list answers to give (in
turn) instead of the real ones, e.g. ``{"status": 503, "headers": {"Retry-After": "0"}}``,
``{"delay": 2.0}`` (a timeout), ``{"truncate": 100}`` or ``{"body": b"junk"}``; a fault answer without a
body gets the real body (so ``{"truncate": n}`` cuts the real cutout short).
"""

from __future__ import annotations

import io
import re
import threading
import zlib
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

COLLECTION = "CFHTTERAPIX"
RELEASE = "T0007"
TILE_SIZE = 480
SCALE = 0.186
STAR_FLUX = 20000.0  # ADU at zero point 30
STAR_SIGMA_PX = 1.6
NOISE_ADU = 0.3
REGISTRY_PATH = "/reg/resource-caps"

#: Pointing centres (ra, dec) in degrees; W1B sits 260 px east of W1A.
POINTINGS = {
    "W1A": (34.5, -7.0),
    "W1B": (34.5 + 260 * SCALE / 3600 / np.cos(np.deg2rad(7.0)), -7.0),
    "W3": (214.475, 54.5),
}
#: Planes of each pointing: (file band token, FILTER / energy_bandpassName).
PLANES = {
    "W1A": (
        ("u", "u.MP9301"),
        ("g", "g.MP9401"),
        ("r", "r.MP9601"),
        ("i", "i.MP9701"),
        ("y", "i.MP9702"),
        ("z", "z.MP9801"),
        ("gri", "gri"),
    ),
    "W1B": (("u", "u.MP9301"), ("g", "g.MP9401"), ("r", "r.MP9601"), ("y", "i.MP9702"), ("z", "z.MP9801")),
    "W3": (("g", "g.MP9401"), ("r", "r.MP9601"), ("y", "i.MP9702"), ("z", "z.MP9801")),
}
_ROTATION_DEG = {"u": 0.0, "g": 1.5, "r": -2.0, "i": 3.0, "y": -3.0, "z": -1.0, "gri": 0.0}
_SHIFT_PX = {"u": 0.0, "g": 1.3, "r": -2.1, "i": 2.7, "y": -1.4, "z": 0.6, "gri": 0.0}

#: Stars, as (pointing, x offset, y offset) in pixels of the pointing's unrotated grid (east is -x).
_STARS_PX = {
    "w1": ("W1A", -50.0, 30.0),  # inside W1A in every band
    "overlap": ("W1A", -200.0, -20.0),  # cut off by W1A's east edge; inside W1B
    "edge": ("W1A", 200.0, 0.0),  # inside W1A, but its cutout crosses W1A's west edge; no other tile
    "w3": ("W3", 20.0, -40.0),  # W3: no u tile, i only through i.MP9702
}
#: A position outside the four Wide fields (COSMOS).
OUTSIDE = (150.1, 2.2)

_CUTOUT_PARAM = re.compile(r"^\s*(?:CIRCLE\s+)?([-+\d.eE]+)\s+([-+\d.eE]+)\s+([-+\d.eE]+)\s*$", re.IGNORECASE)


def _pointing_wcs(pointing: str) -> WCS:
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = list(POINTINGS[pointing])
    wcs.wcs.crpix = [(TILE_SIZE + 1) / 2, (TILE_SIZE + 1) / 2]
    wcs.wcs.cdelt = [-SCALE / 3600, SCALE / 3600]
    return wcs


def star_positions() -> dict[str, tuple[float, float]]:
    """(ra, dec) of each star, by name."""
    positions = {}
    for name, (pointing, dx, dy) in _STARS_PX.items():
        centre = (TILE_SIZE - 1) / 2
        ra, dec = _pointing_wcs(pointing).pixel_to_world_values(centre + dx, centre + dy)
        positions[name] = (float(ra), float(dec))
    return positions


def pointing_name(pointing: str) -> str:
    """``hhmmss+ddmmss`` of a pointing centre, as in CFHTLS file names."""
    ra, dec = POINTINGS[pointing]
    hours = ra / 15
    h, m = int(hours), int((hours * 60) % 60)
    s = round((hours * 3600) % 60) % 60
    sign = "-" if dec < 0 else "+"
    d, dm = int(abs(dec)), int((abs(dec) * 60) % 60)
    ds = round((abs(dec) * 3600) % 60) % 60
    return f"{h:02d}{m:02d}{s:02d}{sign}{d:02d}{dm:02d}{ds:02d}"


@dataclass(frozen=True)
class Tile:
    """One band plane of one pointing, and its science file."""

    pointing: str
    token: str
    filter_name: str

    @property
    def name(self) -> str:
        return pointing_name(self.pointing)

    @property
    def observation_id(self) -> str:
        return f"CFHTLS_W_{self.name}_{RELEASE}"

    @property
    def product_id(self) -> str:
        return f"CFHTLS_W_{self.token}_{self.name}_{RELEASE}"

    @property
    def publisher_id(self) -> str:
        return f"ivo://cadc.nrc.ca/{COLLECTION}?{self.observation_id}/{self.product_id}"

    @property
    def file_name(self) -> str:
        return f"{self.product_id}_MEDIAN.fits"

    @property
    def weight_name(self) -> str:
        return f"{self.product_id}_MEDIAN_weight.fits"

    @property
    def uri(self) -> str:
        return f"cadc:{COLLECTION}/{self.file_name}"

    def wcs(self) -> WCS:
        """The band's own WCS: the pointing's grid rotated and shifted."""
        wcs = _pointing_wcs(self.pointing)
        wcs.wcs.crpix = [wcs.wcs.crpix[0] + _SHIFT_PX[self.token], wcs.wcs.crpix[1] - _SHIFT_PX[self.token]]
        angle = np.deg2rad(_ROTATION_DEG[self.token])
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        wcs.wcs.cd = np.diag([-SCALE / 3600, SCALE / 3600]) @ rotation
        return wcs

    def polygon(self) -> list[float]:
        """position_bounds: the outer corners of the tile, counter-clockwise on the sky."""
        edge = [0.5, TILE_SIZE + 0.5]
        corners = [(edge[0], edge[0]), (edge[0], edge[1]), (edge[1], edge[1]), (edge[1], edge[0])]
        ra, dec = self.wcs().wcs_pix2world(np.array(corners, dtype=float), 1).T
        return [value for pair in zip(ra, dec, strict=True) for value in pair]

    def header(self) -> fits.Header:
        """Header of the stack, with the MegaPipe/Terapix keywords galtk reads."""
        header = self.wcs().to_header()
        header["RADESYS"] = "ICRS"
        header["EQUINOX"] = 2000.0
        header["OBJECT"] = f"CFHTLS_W_{self.name}"
        header["TELESCOP"] = "CFHT 3.6m"
        header["INSTRUME"] = "MegaPrime"
        header["FILTER"] = self.filter_name
        header["PHOTZP"] = (30.0, "AB magnitude of 1 ADU")
        header["EXPTIME"] = (1.0, "effective exposure time (s)")
        header["BUNIT"] = "ADU"
        header["COMBINET"] = "MEDIAN"
        header["RELEASE"] = RELEASE
        return header

    def pixels(self) -> np.ndarray:
        """Noise plus every star, rendered in this band's WCS."""
        rng = np.random.default_rng(zlib.crc32(self.file_name.encode()))
        image = rng.normal(0.0, NOISE_ADU, (TILE_SIZE, TILE_SIZE))
        wcs = self.wcs()
        rows, columns = np.mgrid[:TILE_SIZE, :TILE_SIZE]
        norm = STAR_FLUX / (2 * np.pi * STAR_SIGMA_PX**2)
        for ra, dec in star_positions().values():
            x, y = wcs.world_to_pixel_values(ra, dec)
            if -20 <= x <= TILE_SIZE + 20 and -20 <= y <= TILE_SIZE + 20:
                image += norm * np.exp(-((columns - x) ** 2 + (rows - y) ** 2) / (2 * STAR_SIGMA_PX**2))
        return image.astype(np.float32)


TILES = tuple(Tile(pointing, token, name) for pointing, planes in PLANES.items() for token, name in planes)


def _votable(fields: str, rows: list[list[str]], resources: str = "") -> bytes:
    body = "".join("<TR>" + "".join(f"<TD>{cell}</TD>" for cell in row) + "</TR>\n" for row in rows)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<VOTABLE xmlns="http://www.ivoa.net/xml/VOTable/v1.3" version="1.3">\n'
        '<RESOURCE type="results">\n<INFO name="QUERY_STATUS" value="OK"/>\n<TABLE>\n'
        f"{fields}<DATA><TABLEDATA>\n{body}</TABLEDATA></DATA>\n</TABLE>\n</RESOURCE>\n{resources}</VOTABLE>\n"
    ).encode()


def votable_error(message: str) -> dict:
    """An error answer of CADC's TAP service (HTTP 400, QUERY_STATUS ERROR)."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<VOTABLE xmlns="http://www.ivoa.net/xml/VOTable/v1.3" version="1.3">\n'
        f'<RESOURCE type="results"><INFO name="QUERY_STATUS" value="ERROR">{message}</INFO></RESOURCE>\n'
        "</VOTABLE>\n"
    )
    return {"status": 400, "body": body.encode(), "headers": {"Content-Type": "application/x-votable+xml"}}


_TAP_FIELDS = (
    '<FIELD name="observationID" datatype="char" arraysize="*"/>\n'
    '<FIELD name="productID" datatype="char" arraysize="*"/>\n'
    '<FIELD name="publisherID" datatype="char" arraysize="*" xtype="uri"/>\n'
    '<FIELD name="energy_bandpassName" datatype="char" arraysize="*"/>\n'
    '<FIELD name="position_bounds" datatype="double" arraysize="*" xtype="polygon" unit="deg"/>\n'
    '<FIELD name="uri" datatype="char" arraysize="*" xtype="uri"/>\n'
)
_DATALINK_FIELDS = (
    '<FIELD name="ID" datatype="char" arraysize="*" ucd="meta.id;meta.main"/>\n'
    '<FIELD name="access_url" datatype="char" arraysize="*" ucd="meta.ref.url"/>\n'
    '<FIELD name="service_def" datatype="char" arraysize="*" ucd="meta.ref"/>\n'
    '<FIELD name="error_message" datatype="char" arraysize="*" ucd="meta.code.error"/>\n'
    '<FIELD name="semantics" datatype="char" arraysize="*" ucd="meta.code"/>\n'
    '<FIELD name="description" datatype="char" arraysize="*" ucd="meta.note"/>\n'
    '<FIELD name="content_type" datatype="char" arraysize="*" ucd="meta.code.mime"/>\n'
)
#: Clauses the tile query must hold.
TAP_CLAUSES = (
    "caom2.Observation",
    "caom2.Plane",
    "caom2.Artifact",
    f"collection = '{COLLECTION}'",
    "observationID LIKE 'CFHTLS_W_%'",
    f"provenance_version = '{RELEASE}'",
    "productType = 'science'",
)


class FakeCadc:
    """Routes of a FakeArchive that behave like CADC's registry, argus TAP, DataLink and SODA services."""

    def __init__(self, archive: object) -> None:
        self.archive = archive
        self.url = archive.url
        self.tap_faults: list[dict] = []
        self.datalink_faults: list[dict] = []
        self.cutout_faults: dict[str, list[dict]] = {}
        self.tap_queries: list[str] = []
        self.cutout_requests: list[tuple[str, str]] = []
        self.cutout_bytes: list[int] = []
        self.tile_downloads = 0
        self._pixels: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        archive.routes[REGISTRY_PATH] = [{"body": self._registry().encode()}]
        archive.routes["/caom2ops/capabilities"] = [{"body": self._capabilities().encode()}]
        archive.prefixes["/argus"] = self._tap_answer
        archive.routes["/caom2ops/datalink"] = [self._datalink_answer]
        archive.routes["/caom2ops/sync"] = [self._cutout_answer]
        archive.prefixes[f"/data/pub/{COLLECTION}/"] = self._file_answer

    # ------------------------------------------------------------------ service discovery
    def _registry(self) -> str:
        return (
            "# fake CADC registry\n"
            f"ivo://cadc.nrc.ca/argus = {self.url}/argus/capabilities\n"
            f"ivo://cadc.nrc.ca/caom2ops = {self.url}/caom2ops/capabilities\n"
        )

    def _capabilities(self) -> str:
        def capability(standard: str, path: str) -> str:
            return (
                f'  <capability standardID="{standard}">\n'
                '    <interface xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="vs:ParamHTTP"'
                ' role="std">\n'
                f'      <accessURL use="full">{self.url}{path}</accessURL>\n'
                "    </interface>\n  </capability>\n"
            )

        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<vosi:capabilities xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0"'
            ' xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1">\n'
            + capability("ivo://ivoa.net/std/VOSI#capabilities", "/caom2ops/capabilities")
            + capability("ivo://ivoa.net/std/DataLink#links-1.0", "/caom2ops/datalink")
            + capability("ivo://ivoa.net/std/SODA#sync-1.0", "/caom2ops/sync")
            + "</vosi:capabilities>\n"
        )

    # ------------------------------------------------------------------ TAP
    def _tap_answer(self, path: str, parameters: dict[str, str]) -> dict | None:
        if re.sub("/+", "/", path) != "/argus/sync":
            return None
        if self.tap_faults:
            return self.tap_faults.pop(0)
        query = " ".join(parameters.get("QUERY", "").split())
        self.tap_queries.append(query)
        if parameters.get("REQUEST") != "doQuery" or parameters.get("LANG") != "ADQL":
            return votable_error("IllegalArgumentException: REQUEST=doQuery and LANG=ADQL expected")
        missing = [clause for clause in TAP_CLAUSES if clause not in query]
        if missing:
            return votable_error(f"IllegalArgumentException: unsupported query (no {missing[0]})")
        rows = [
            [
                tile.observation_id,
                tile.product_id,
                tile.publisher_id,
                tile.filter_name,
                " ".join(f"{value:.9f}" for value in tile.polygon()),
                tile.uri,
            ]
            for tile in TILES
        ]
        return {"body": _votable(_TAP_FIELDS, rows), "headers": {"Content-Type": "application/x-votable+xml"}}

    # ------------------------------------------------------------------ DataLink
    def _datalink_answer(self, parameters: object) -> dict:
        if self.datalink_faults:
            return self.datalink_faults.pop(0)
        by_id = {tile.publisher_id: tile for tile in TILES}
        rows: list[list[str]] = []
        services = []
        for publisher_id in parameters.getall("ID"):
            tile = by_id.get(publisher_id)
            if tile is None:
                rows.append([publisher_id, "", "", "NotFoundException: no such plane", "#this", "", ""])
                continue
            fits_type = "application/fits"
            rows.append([publisher_id, self._file_url(tile.file_name), "", "", "#this", "stack", fits_type])
            rows.append(
                [publisher_id, self._file_url(tile.weight_name), "", "", "#auxiliary", "weight", fits_type]
            )
            for artifact in (tile.file_name, tile.weight_name):
                service = f"soda-{len(services)}"
                services.append(self._soda_descriptor(service, f"cadc:{COLLECTION}/{artifact}"))
                rows.append([publisher_id, "", service, "", "#cutout", "SODA cutout", "application/fits"])
        return {
            "body": _votable(_DATALINK_FIELDS, rows, "".join(services)),
            "headers": {"Content-Type": "application/x-votable+xml;content=datalink"},
        }

    def _soda_descriptor(self, service: str, uri: str) -> str:
        return (
            f'<RESOURCE type="meta" utype="adhoc:service" ID="{service}">\n'
            '<PARAM name="standardID" datatype="char" arraysize="*" value="ivo://ivoa.net/std/SODA#sync-1.0"/>\n'
            f'<PARAM name="accessURL" datatype="char" arraysize="*" value="{self.url}/caom2ops/sync"/>\n'
            '<GROUP name="inputParams">\n'
            f'<PARAM name="ID" datatype="char" arraysize="*" value="{uri}"/>\n'
            '<PARAM name="RUNID" datatype="char" arraysize="*" value="fake0run1id2"/>\n'
            '<PARAM name="POS" datatype="char" arraysize="*" value=""/>\n'
            '<PARAM name="CIRCLE" datatype="double" arraysize="3" xtype="circle" unit="deg" value=""/>\n'
            "</GROUP>\n</RESOURCE>\n"
        )

    def _file_url(self, name: str) -> str:
        return f"{self.url}/data/pub/{COLLECTION}/{quote(name)}"

    # ------------------------------------------------------------------ data
    def tile_by_file(self, name: str) -> Tile | None:
        """The tile whose science file is ``name``."""
        return next((tile for tile in TILES if tile.file_name == name), None)

    def _tile_pixels(self, tile: Tile) -> np.ndarray:
        with self._lock:
            if tile.file_name not in self._pixels:
                self._pixels[tile.file_name] = tile.pixels()
            return self._pixels[tile.file_name]

    def _file_answer(self, path: str, parameters: dict[str, str]) -> dict | None:
        tile = self.tile_by_file(path.rsplit("/", 1)[-1])
        if tile is None:
            return None
        self.tile_downloads += 1
        return {"body": _fits_bytes(self._tile_pixels(tile), tile.header())}

    def _cutout_answer(self, parameters: dict[str, str]) -> dict:
        uri = parameters.get("ID", "")
        prefix = f"cadc:{COLLECTION}/"
        tile = self.tile_by_file(uri[len(prefix) :]) if uri.startswith(prefix) else None
        if tile is None:
            return {"status": 404, "body": f"NotFoundException: {uri}".encode()}
        region = parameters.get("POS") or parameters.get("CIRCLE") or ""
        match = _CUTOUT_PARAM.match(region)
        if not match:
            return {"status": 400, "body": f"IllegalArgumentException: invalid POS {region!r}".encode()}
        self.cutout_requests.append((tile.file_name, region))
        ra, dec, radius = map(float, match.groups())
        x, y = tile.wcs().world_to_pixel_values(ra, dec)
        reach = radius * 3600 / SCALE
        x0, x1 = max(int(np.floor(x - reach)), 0), min(int(np.ceil(x + reach)), TILE_SIZE - 1)
        y0, y1 = max(int(np.floor(y - reach)), 0), min(int(np.ceil(y + reach)), TILE_SIZE - 1)
        if x0 > x1 or y0 > y1:
            return {"status": 400, "body": b"NoContent: the region does not overlap the image"}
        header = tile.header()
        header["CRPIX1"] -= x0
        header["CRPIX2"] -= y0
        body = _fits_bytes(self._tile_pixels(tile)[y0 : y1 + 1, x0 : x1 + 1], header)
        self.cutout_bytes.append(len(body))
        answer = {
            "body": body,
            "headers": {
                "Content-Type": "application/fits",
                "Content-Disposition": f'inline; filename="{tile.product_id}__{x0}_{y0}.fits"',
            },
        }
        faults = self.cutout_faults.get(tile.file_name)
        if faults:
            answer = {**answer, **faults.pop(0)}
        return answer


def _fits_bytes(data: np.ndarray, header: fits.Header) -> bytes:
    buffer = io.BytesIO()
    fits.PrimaryHDU(np.ascontiguousarray(data), header).writeto(buffer)
    return buffer.getvalue()


def corrupt_fits(tile: Tile) -> bytes:
    """A FITS file whose header is fine but whose data unit stops early (sent with a matching length)."""
    data = np.zeros((200, 200), dtype=np.float32)
    return _fits_bytes(data, tile.header())[: 2880 * 3]
