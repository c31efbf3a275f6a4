"""CFHTLS Wide (T0007) stacks at CADC: tiles listed through ``astroquery.cadc``, cut out by CADC's servers.

**Tiles.** One ADQL query through ``astroquery.cadc`` (CADC's TAP service, ``argus``) lists every Wide
stack of the release: collection ``CFHTTERAPIX``, ``observationID LIKE 'CFHTLS_W_%'``, planes of
``provenance_version`` T0007, science artifacts ``..._T0007_MEDIAN.fits`` (weight maps excluded), with
each plane's filter (``energy_bandpassName``) and footprint polygon (``position_bounds``). Only the W1-W4
fields exist in that list, so it is the footprint: before anything is downloaded, each catalog position
is tested against the tile polygons, per band (in the gnomonic projection about each tile's centre, where
the polygon's great-circle edges are straight lines). An object whose whole cutout (plus one pixel for
interpolation) lies in no tile in any band is rejected, with the reason "outside the CFHTLS Wide W1-W4
tiles" or, when its position is inside a tile, "at the edge of the CFHTLS Wide tiles"; the counts are
logged, and the fetch reports and lists them.

**Bands.** Filters map to bands: u.MP9301, g.MP9401, r.MP9601, i.MP9701, i.MP9702, z.MP9801. The i band
was observed through two filters: the original i.MP9701 (i) and, after it broke in 2007, i.MP9702 (i2,
named ``y`` in Terapix file names). Both count as ``i``. For each object, the i tile is chosen among those
holding its whole cutout: i.MP9701 first, i.MP9702 only where no i.MP9701 tile holds it. Among tiles of the
same filter (Wide pointings overlap), the one whose centre is nearest wins. The filter used is recorded per
object and band in the ``provenance`` array. Planes of other filters (the gri colour planes) are ignored,
with a count in the log. A band with no tile holding the cutout is marked invalid with its reason; the
object's other bands proceed.

**Cutouts.** The tiles are 1.5 GB each, so nothing downloads a tile: CADC cuts on its side. The SODA
cutout link of each tile comes from CADC's DataLink service (its URL from astroquery's registry lookup of
``ivo://cadc.nrc.ca/caom2ops``; 20 tiles per request, as astroquery does), and each object and band asks
for ``POS=CIRCLE ra dec r`` around the object, with ``r`` the half-diagonal of the cutout grid plus two
pixels (18.4" for 136 px at 0.186"/px): CADC answers with the pixel bounding box of that circle (about
200x200 px, 160 kB) and its shifted WCS. That cutout is then resampled exactly onto the cutout's north-up
TAN grid (:mod:`galtk.pipeline.resample`), in ADU at AB zero point 30 (``PHOTZP`` of the header; other
zero points are converted). Downloads go through galtk's :class:`~galtk.pipeline.sources.download.Downloader`:
bounded connections, retries with backoff honouring ``Retry-After``, truncated bodies and corrupt FITS
retried, a content-checked cache (the URL carries no ``RUNID``, so a later run finds its cutouts cached).
A band still unavailable after the retries fails its row, with the reason; ``galtk fetch --resume
--retry-failed`` tries it again.

astroquery's ``get_image_list`` is not used for the cutout links: it asks DataLink again for every object,
and its ``bysemantics`` fetches the IVOA DataLink vocabulary from www.ivoa.net.

**Configuration.** astroquery's CADC configuration chooses the servers: ``CADC_REGISTRY_URL`` (the
registry naming the TAP and DataLink services) in astroquery's configuration file, or
``astroquery.cadc.conf.set_temp``. The registry answer is cached for the process by astroquery.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import numpy as np
import requests
from astropy.wcs import WCS, FITSFixedWarning
from scipy.spatial import cKDTree

from galtk.catalogs.files import ObjectCatalog
from galtk.errors import CadcError, DownloadError, GaltkError
from galtk.pipeline.fits_files import open_fits
from galtk.pipeline.fits_headers import calibration
from galtk.pipeline.geometry import chord_length, sky_to_cutout_pixels, unit_vectors
from galtk.pipeline.resample import check_kernel, cutout_world_grid
from galtk.pipeline.sources.base import RECORD_EXTRAS, CutoutSource, ObjectList, assemble_batch
from galtk.pipeline.sources.download import USER_AGENT, Downloader, RetryPolicy, _retry_after
from galtk.pipeline.sources.fits import FrameInfo, UnusableImage, covers_cutouts, cut_from_frame
from galtk.pipeline.stores.cutout_store import CutoutBatch, ExtraArray
from galtk.pipeline.surveys import SurveySpec

log = logging.getLogger(__name__)

COLLECTION = "CFHTTERAPIX"
DEFAULT_RELEASE = "T0007"
DATALINK_BATCH = 20
SODA_SYNC = "ivo://ivoa.net/std/SODA#sync-1.0"
#: CFHTLS MegaCam filters (CAOM ``energy_bandpassName``, FITS ``FILTER``) and the band each gives.
FILTER_BANDS = {
    "u.MP9301": "u",
    "g.MP9401": "g",
    "r.MP9601": "r",
    "i.MP9701": "i",
    "i.MP9702": "i",
    "z.MP9801": "z",
}
#: Rank among the filters of one band (lower first): the original i filter before its 2007 replacement.
FILTER_RANK = {"i.MP9702": 1}
OUTSIDE = "outside the CFHTLS Wide W1-W4 tiles"
AT_EDGE = "at the edge of the CFHTLS Wide tiles: no tile holds its whole cutout in any band"

TILE_QUERY = (
    "SELECT o.observationID, p.productID, p.publisherID, p.energy_bandpassName, p.position_bounds, a.uri "
    "FROM caom2.Observation AS o "
    "JOIN caom2.Plane AS p ON o.obsID = p.obsID "
    "JOIN caom2.Artifact AS a ON a.planeID = p.planeID "
    f"WHERE o.collection = '{COLLECTION}' "
    "AND o.observationID LIKE 'CFHTLS_W_%' "
    "AND p.provenance_version = '{release}' "
    "AND a.productType = 'science' "
    "AND a.uri LIKE '%_{release}_MEDIAN.fits' "
    "AND (p.quality_flag IS NULL OR p.quality_flag != 'junk')"
)

_T = TypeVar("_T")


@dataclass(frozen=True, eq=False)
class WideTile:
    """One band plane of a CFHTLS Wide pointing: a MEDIAN stack at CADC.

    Attributes
    ----------
    uri : str
        Artifact URI of the science file (the SODA ``ID``), e.g.
        ``cadc:CFHTTERAPIX/CFHTLS_W_r_..._MEDIAN.fits``.
    publisher_id : str
        The plane's publisher ID (the DataLink ``ID``).
    band : str
    filter_name : str
    polygon : ndarray, shape (n, 2)
        Footprint vertices (ra, dec) in degrees.
    """

    uri: str
    publisher_id: str
    band: str
    filter_name: str
    polygon: np.ndarray

    @property
    def file_name(self) -> str:
        """Name of the science file."""
        return self.uri.rsplit("/", 1)[-1]

    @property
    def rank(self) -> int:
        """Preference among tiles of the same band (lower first)."""
        return FILTER_RANK.get(self.filter_name, 0)


@dataclass(frozen=True)
class _Plan:
    objects: ObjectList
    choices: np.ndarray  # (object, band) index into tiles, -1 where no tile holds the cutout


@dataclass
class _BandResult:
    image: np.ndarray | None = None
    valid: bool = False
    used: str = ""
    error: str = ""
    unavailable: bool = False
    noise_gain: float = float("nan")
    offset: tuple[float, float] = (0.0, 0.0)


class CfhtlsSource(CutoutSource):
    """CFHTLS Wide stacks at CADC, cut out by CADC's SODA service.

    Parameters
    ----------
    catalog : ObjectCatalog
        Objects to cut out.
    cache_dir : Path
        Where downloaded cutouts are kept.
    release : str
        CFHTLS release (``provenance_version``).
    max_connections : int
        Requests in flight at once.
    max_cache_bytes : int, optional
        Size bound of the cutout cache.
    policy : RetryPolicy, optional
        Retries and timeout of downloads and queries.
    kernel : {"lanczos3", "bilinear", "nearest"}, optional
        Resampling kernel (``resampling`` of ``[surveys.NAME]``; :mod:`galtk.pipeline.resample`).
    """

    name = "cfhtls"
    parallelism = "threads"  # waits on CADC; the downloader bounds the connections

    def __init__(
        self,
        catalog: ObjectCatalog,
        cache_dir: str | Path,
        *,
        release: str = DEFAULT_RELEASE,
        max_connections: int = 4,
        max_cache_bytes: int | None = None,
        policy: RetryPolicy | None = None,
        kernel: str = "lanczos3",
    ) -> None:
        self.kernel = check_kernel(kernel, GaltkError)
        if not release.isalnum():
            raise GaltkError(f"CFHTLS release must be letters and digits (e.g. T0007), got {release!r}")
        self.catalog = catalog
        self.release = release
        self.max_connections = max_connections
        self.policy = policy or RetryPolicy()
        self.downloader = Downloader(
            cache_dir, max_connections=max_connections, max_cache_bytes=max_cache_bytes, policy=self.policy
        )
        self._session = _TimeoutSession(self.policy.timeout)
        self._tiles: list[WideTile] | None = None
        self._plans: dict[tuple[Any, ...], _Plan] = {}
        self._links: dict[str, tuple[str, str] | str] = {}  # uri -> (SODA URL, ID) or why there is none
        self._client: Any = None
        self._lock = threading.Lock()
        self._links_lock = threading.Lock()

    def watch_bytes(self, callback: Callable[[int], None]) -> None:
        self.downloader.on_bytes = callback

    def describe(self) -> Mapping[str, Any]:
        return {
            "kind": self.name,
            "collection": COLLECTION,
            "release": self.release,
            "cutouts": "CADC SODA sync, POS=CIRCLE",
            "catalog_objects": len(self.catalog),
            "resampling": self.kernel,
        }

    def extras(self, survey: SurveySpec) -> tuple[ExtraArray, ...]:
        return RECORD_EXTRAS

    # ------------------------------------------------------------------ tiles and objects
    def tiles(self) -> list[WideTile]:
        """The Wide tiles of the release in single u g r i z filters (queried once, sorted by URI)."""
        with self._lock:
            if self._tiles is None:
                self._tiles = self._query_tiles()
            return self._tiles

    def objects(self, survey: SurveySpec) -> ObjectList:
        return self._plan(survey).objects

    def tile_choices(self, survey: SurveySpec) -> np.ndarray:
        """Index into :meth:`tiles` of the tile of each object (row order) and band; -1 where none."""
        return self._plan(survey).choices

    def _plan(self, survey: SurveySpec) -> _Plan:
        if survey.archive != self.name:
            raise GaltkError(
                f"the cfhtls source provides CFHTLS Wide cutouts, not {survey.name}'s (name preset = "
                '"cfht" in its [surveys.NAME] table)'
            )
        tiles = self.tiles()
        key = (survey.name, survey.bands, survey.cutout_size, survey.pixel_scale)
        with self._lock:
            if key not in self._plans:
                self._plans[key] = self._make_plan(survey, tiles)
            return self._plans[key]

    def _cadc(self) -> Any:
        """astroquery's CADC client, with this source's session (created on first use)."""
        if self._client is None:
            from astroquery.cadc import CadcClass

            self._client = CadcClass(auth_session=self._session)
        return self._client

    def _query_tiles(self) -> list[WideTile]:
        query = TILE_QUERY.format(release=self.release)
        table = self._call("the CADC TAP service", lambda: self._cadc().exec_sync(query))
        columns = {name.lower(): name for name in table.colnames}
        wanted = ("publisherid", "energy_bandpassname", "position_bounds", "uri")
        missing = [name for name in wanted if name not in columns]
        if missing:
            raise CadcError(f"the CADC TAP service answered without the columns {', '.join(missing)}")
        tiles: list[WideTile] = []
        ignored: Counter[str] = Counter()
        unusable = 0
        known = {name.lower(): name for name in FILTER_BANDS}
        for row in table:
            filter_name = known.get(str(row[columns["energy_bandpassname"]]).strip().lower())
            if filter_name is None:
                ignored[str(row[columns["energy_bandpassname"]]).strip() or "no filter"] += 1
                continue
            polygon = _polygon(row[columns["position_bounds"]])
            if polygon is None:
                unusable += 1
                continue
            tiles.append(
                WideTile(
                    uri=str(row[columns["uri"]]).strip(),
                    publisher_id=str(row[columns["publisherid"]]).strip(),
                    band=FILTER_BANDS[filter_name],
                    filter_name=filter_name,
                    polygon=polygon,
                )
            )
        if ignored:
            log.warning(
                "cfhtls: ignoring %d tile plane(s) whose filter is not a single u g r i z filter: %s",
                sum(ignored.values()),
                ", ".join(f"{name} ({count})" for name, count in sorted(ignored.items())),
            )
        if unusable:
            log.warning("cfhtls: ignoring %d tile plane(s) without a usable footprint polygon", unusable)
        if not tiles:
            raise CadcError(f"CADC lists no CFHTLS Wide {self.release} tiles in the u g r i z filters")
        log.info("CADC lists %d CFHTLS Wide %s tiles", len(tiles), self.release)
        return sorted(tiles, key=lambda tile: tile.uri)

    def _make_plan(self, survey: SurveySpec, tiles: Sequence[WideTile]) -> _Plan:
        catalog = self.catalog
        choices = assign_tiles(tiles, catalog.ra, catalog.dec, survey)
        covered = (choices >= 0).any(axis=1)
        outside = np.flatnonzero(~covered)
        centred = assign_tiles(tiles, catalog.ra[outside], catalog.dec[outside], survey, centre_only=True)
        # Rows follow the tile of their first covered band, so a batch asks few tiles for cutouts.
        first = np.where(choices >= 0, choices, np.iinfo(np.int64).max).min(axis=1)
        order = np.flatnonzero(covered)[np.lexsort((catalog.ra[covered], first[covered]))]
        rejected = []
        counts: Counter[str] = Counter()
        for i, centre_covered in zip(outside, (centred >= 0).any(axis=1), strict=True):
            reason = AT_EDGE if centre_covered else OUTSIDE
            counts[reason] += 1
            rejected.append((str(catalog.ids[i]), float(catalog.ra[i]), float(catalog.dec[i]), reason))
        if rejected:
            log.warning(
                "cfhtls: %d of %d positions rejected: %s",
                len(rejected),
                len(catalog),
                "; ".join(f"{count} {reason.split(':')[0]}" for reason, count in sorted(counts.items())),
            )
        kept = choices[order]
        for band_index, band in enumerate(survey.bands):
            lacking = int((kept[:, band_index] < 0).sum())
            if lacking:
                log.warning(
                    "cfhtls: no %s tile holds the whole cutout of %d of %d objects (band marked invalid)",
                    band,
                    lacking,
                    len(kept),
                )
        objects = ObjectList(
            ids=catalog.ids[order], ra=catalog.ra[order], dec=catalog.dec[order], rejected=tuple(rejected)
        )
        return _Plan(objects=objects, choices=kept)

    # ------------------------------------------------------------------ cutouts
    def cutouts(self, survey: SurveySpec, objects: ObjectList, rows: np.ndarray) -> CutoutBatch:
        tiles = self.tiles()
        choices = self.tile_choices(survey)[rows]
        n, size, n_bands = len(rows), survey.cutout_size, len(survey.bands)
        images = np.full((n, n_bands, size, size), np.nan, dtype=np.float32)
        valid = np.zeros((n, n_bands), dtype=bool)
        used = [[""] * n_bands for _ in range(n)]
        errors: list[list[str]] = [[] for _ in range(n)]
        unavailable = np.zeros(n, dtype=bool)
        noise_gain = np.full((n, n_bands), np.nan, dtype=np.float32)
        offset = np.zeros((n, n_bands, 2), dtype=np.float32)
        ra, dec = objects.ra[rows], objects.dec[rows]
        self._resolve_links([tiles[t] for t in np.unique(choices[choices >= 0])])
        tasks = [(i, b) for i in range(n) for b in range(n_bands) if choices[i, b] >= 0]
        for i, b in zip(*np.nonzero(choices < 0), strict=True):
            band = survey.bands[b]
            errors[i].append(f"{band}: no CFHTLS Wide {band} tile holds the whole cutout")

        def cut(task: tuple[int, int]) -> _BandResult:
            i, b = task
            return self.cut(tiles[choices[i, b]], float(ra[i]), float(dec[i]), survey.bands[b], survey)

        with ThreadPoolExecutor(max_workers=self.max_connections, thread_name_prefix="galtk-cfhtls") as pool:
            results = list(pool.map(cut, tasks))
        for (i, b), result in zip(tasks, results, strict=True):
            if result.image is not None:
                images[i, b] = result.image
            valid[i, b] = result.valid
            noise_gain[i, b] = result.noise_gain
            offset[i, b] = result.offset
            used[i][b] = result.used
            unavailable[i] |= result.unavailable
            if result.error:
                errors[i].append(result.error)
        return assemble_batch(images, valid, used, errors, unavailable, noise_gain, offset)

    def cutout_url(self, tile: WideTile, ra: float, dec: float, survey: SurveySpec) -> str:
        """SODA URL of the cutout of ``tile`` around (ra, dec), from the tile's DataLink cutout link.

        Raises
        ------
        CadcError
            If CADC offers no SODA cutout of the tile, or DataLink could not be reached.
        """
        self._resolve_links([tile])
        link = self._links[tile.uri]
        if isinstance(link, str):
            raise CadcError(link)
        access_url, identifier = link
        query = urlencode({"ID": identifier, "POS": f"CIRCLE {ra:.7f} {dec:.7f} {cutout_radius(survey):.6f}"})
        return f"{access_url}{'&' if '?' in access_url else '?'}{query}"

    def cut(self, tile: WideTile, ra: float, dec: float, band: str, survey: SurveySpec) -> _BandResult:
        """One band of one object: its cutout from CADC, resampled onto the cutout grid."""
        try:
            url = self.cutout_url(tile, ra, dec, survey)
            path = self.downloader.fetch(url, check=check_cutout)
        except (CadcError, DownloadError) as error:
            reason = _first_line(str(error))
            why = f"{band}: cutout of {tile.file_name} not available ({reason})"
            return _BandResult(error=why, unavailable=True)
        try:
            frame, data = read_cutout(path, tile, survey)
        except (OSError, ValueError, UnusableImage) as error:
            return _BandResult(error=f"{band}: cutout of {tile.file_name} unusable ({error})")
        if not covers_cutouts(frame, np.array([ra]), np.array([dec]), survey)[0]:
            why = f"{band}: the cutout CADC cut from {tile.file_name} is too small"
            used = f"{band}={tile.file_name} ({frame.filter_name}, {frame.calibration})"
            return _BandResult(used=used, error=why)
        cut = cut_from_frame(frame, data, np.array([ra]), np.array([dec]), survey, kernel=self.kernel)
        how = f"{frame.filter_name}, {frame.calibration}" + (", native pixels" if cut.native[0] else "")
        error = "" if cut.complete[0] else f"{band}: missing pixels in {tile.file_name}"
        return _BandResult(
            image=cut.cutouts[0],
            valid=bool(cut.complete[0]),
            used=f"{band}={tile.file_name} ({how})",
            error=error,
            noise_gain=float(cut.noise_gain[0]),
            offset=(float(cut.offset[0, 0]), float(cut.offset[0, 1])),
        )

    # ------------------------------------------------------------------ DataLink
    def _resolve_links(self, tiles: Sequence[WideTile]) -> None:
        """Find the SODA cutout links of tiles not yet resolved, :data:`DATALINK_BATCH` per request."""
        with self._links_lock:
            todo = [tile for tile in dict.fromkeys(tiles) if tile.uri not in self._links]
            for start in range(0, len(todo), DATALINK_BATCH):
                batch = todo[start : start + DATALINK_BATCH]
                try:
                    links = self._call("the CADC DataLink service", lambda batch=batch: self._datalink(batch))
                except CadcError as error:
                    for tile in batch:
                        self._links[tile.uri] = str(error)
                    continue
                for tile in batch:
                    missing = f"CADC offers no SODA cutout of {tile.file_name}"
                    self._links[tile.uri] = links.get(tile.uri, missing)

    def _datalink(self, tiles: Sequence[WideTile]) -> dict[str, tuple[str, str]]:
        """SODA sync (access URL, ID) of each tile's science file, from one DataLink request."""
        from bs4 import XMLParsedAsHTMLWarning
        from pyvo.dal.adhoc import DatalinkResults

        with warnings.catch_warnings():  # astroquery reads CADC's XML capabilities as HTML (astroquery #2523)
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            endpoint = self._cadc().data_link_url
        url = f"{endpoint}?{urlencode({'ID': [tile.publisher_id for tile in tiles]}, doseq=True)}"
        results = DatalinkResults.from_result_url(url, session=self._session)
        wanted = {tile.uri for tile in tiles}
        links: dict[str, tuple[str, str]] = {}
        for record in results:
            if record.semantics != "#cutout" or not record.service_def:
                continue
            service = {param.name: param.value for param in record.params}
            access_url = record.access_url
            if str(service.get("standardID", "")) != SODA_SYNC and "/sync" not in str(access_url):
                continue
            inputs = {param.name: param.value for param in record.input_params}
            identifier = str(inputs.get("ID", ""))
            if identifier in wanted:
                links[identifier] = (str(access_url), identifier)
        return links

    def _call(self, what: str, action: Callable[[], _T]) -> _T:
        """Run a TAP or DataLink request, retried on network errors and server failures."""
        from pyvo.dal import DALQueryError

        reason = ""
        for attempt in range(1, self.policy.attempts + 1):
            try:
                return action()
            except DALQueryError as error:
                raise CadcError(f"{what} refused the query: {_first_line(str(error))}") from None
            except Exception as error:  # network errors, error pages, unreadable answers
                reason = f"{type(error).__name__}: {_first_line(str(error))}"
                if attempt < self.policy.attempts:
                    wait = _server_wait(error)
                    wait = self.policy.backoff * 2 ** (attempt - 1) if wait is None else wait
                    log.info("%s: %s; try %d of %d", what, reason, attempt + 1, self.policy.attempts)
                    time.sleep(min(wait, self.policy.max_wait))
        raise CadcError(f"{what} could not be queried ({reason}; {self.policy.attempts} tries)")


def cutout_radius(survey: SurveySpec) -> float:
    """Radius in degrees of the circle asked of CADC: the half-diagonal of the grid plus two pixels."""
    radius = ((survey.cutout_size - 1) / 2.0 + 2.0) * math.sqrt(2.0) * survey.pixel_scale / 3600.0
    return math.ceil(radius * 1e6) / 1e6


def assign_tiles(
    tiles: Sequence[WideTile],
    ra: np.ndarray,
    dec: np.ndarray,
    survey: SurveySpec,
    *,
    centre_only: bool = False,
) -> np.ndarray:
    """For each position and band, the index of the tile chosen for its cutout, or -1.

    A tile qualifies when its polygon holds the whole cutout plus one pixel (with ``centre_only``, the
    position alone). Among qualifying tiles: lower :attr:`WideTile.rank` first (i.MP9701 before i.MP9702),
    then the nearest tile centre.
    """
    n_bands = len(survey.bands)
    choices = np.full((len(ra), n_bands), -1, dtype=np.int64)
    best = np.full((len(ra), n_bands, 2), np.inf)  # (rank, distance) of the current choice
    if len(ra) == 0:
        return choices
    size = survey.cutout_size
    corners = np.array([0.0]) if centre_only else np.array([-1.0, float(size)])
    grid_size = 1 if centre_only else size
    corner_ra, corner_dec = cutout_world_grid(ra, dec, survey.pixel_scale, grid_size, corners)
    reach = 0.0 if centre_only else survey.pixel_scale * (size + 1) / 2.0 * math.sqrt(2.0) / 3600.0
    tree = cKDTree(unit_vectors(ra, dec))
    for number, tile in enumerate(tiles):
        if tile.band not in survey.bands:
            continue
        band = survey.bands.index(tile.band)
        centre_ra, centre_dec, radius = _circle(tile.polygon)
        chord = chord_length(radius + reach)
        near = np.array(tree.query_ball_point(unit_vectors(centre_ra, centre_dec), chord), dtype=int)
        if len(near) == 0:
            continue
        inside = _inside(tile.polygon, centre_ra, centre_dec, corner_ra[near], corner_dec[near])
        distance = np.hypot(*sky_to_cutout_pixels(ra[near], dec[near], centre_ra, centre_dec, 1.0, 1))
        better = inside & (
            (tile.rank < best[near, band, 0])
            | ((tile.rank == best[near, band, 0]) & (distance < best[near, band, 1]))
        )
        choices[near[better], band] = number
        best[near[better], band] = np.stack([np.full(better.sum(), tile.rank), distance[better]], axis=1)
    return choices


def _circle(polygon: np.ndarray) -> tuple[float, float, float]:
    """Centre of a polygon's vertices and the radius of the circle about it holding them (degrees)."""
    vectors = unit_vectors(polygon[:, 0], polygon[:, 1])
    mean = vectors.mean(axis=0)
    mean /= np.linalg.norm(mean)
    centre_ra = float(np.rad2deg(np.arctan2(mean[1], mean[0])) % 360.0)
    centre_dec = float(np.rad2deg(np.arcsin(np.clip(mean[2], -1.0, 1.0))))
    radius = float(np.rad2deg(np.arccos(np.clip(vectors @ mean, -1.0, 1.0))).max())
    return centre_ra, centre_dec, radius


def _inside(
    polygon: np.ndarray, centre_ra: float, centre_dec: float, ra: np.ndarray, dec: np.ndarray
) -> np.ndarray:
    """True where every position of each row of ``ra``/``dec`` lies inside the polygon (even-odd rule).

    Positions are projected gnomonically about the polygon's centre, where its great-circle edges are
    straight lines; positions more than 90 degrees away are outside.
    """
    vx, vy = sky_to_cutout_pixels(polygon[:, 0], polygon[:, 1], centre_ra, centre_dec, 1.0, 1)
    ra, dec = ra.reshape(len(ra), -1), dec.reshape(len(dec), -1)
    px, py = sky_to_cutout_pixels(ra, dec, centre_ra, centre_dec, 1.0, 1)
    inside = np.zeros(px.shape, dtype=bool)
    for i in range(len(vx)):
        j = i - 1
        straddles = (vy[i] > py) != (vy[j] > py)
        span = vy[j] - vy[i] if vy[j] != vy[i] else 1.0
        crossing = vx[i] + (vx[j] - vx[i]) * (py - vy[i]) / span
        inside ^= straddles & (px < crossing)
    return (inside & np.isfinite(px)).all(axis=1)


def _polygon(value: Any) -> np.ndarray | None:
    """Vertices (n, 2) of a ``position_bounds`` value: a DALI polygon array or an STC-S/shape string."""
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        tokens = value.replace(",", " ").split()
        numbers = []
        for token in tokens:
            try:
                numbers.append(float(token))
            except ValueError:
                if token.lower() not in ("polygon", "icrs", "fk5", "j2000"):
                    return None  # circles, unions and other shapes are not tile footprints
    else:
        numbers = list(np.ma.filled(np.ma.asarray(value, dtype=float), np.nan).ravel())
    vertices = np.array(numbers, dtype=float)
    if len(vertices) < 6 or len(vertices) % 2 or not np.isfinite(vertices).all():
        return None
    return vertices.reshape(-1, 2)


def read_cutout(path: Path, tile: WideTile, survey: SurveySpec) -> tuple[FrameInfo, np.ndarray]:
    """The image of a served cutout: its index entry (WCS, calibration) and pixels.

    The band is the tile's; a ``FILTER`` keyword naming a filter of another band makes the cutout
    unusable. The calibration follows the ``fits`` source's rules (``PHOTZP`` and other zero-point
    keywords; none: ADU at zero point 30 already).

    Raises
    ------
    OSError, ValueError
        If the file cannot be read as FITS.
    UnusableImage
        If it holds no 2-D celestial image, or one of another band.
    """
    with open_fits(path, memmap=False) as hdus:
        for index, hdu in enumerate(hdus):
            header = hdu.header
            if not hdu.is_image or header.get("NAXIS") != 2:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FITSFixedWarning)
                wcs = WCS(header)
            if not wcs.has_celestial:
                continue
            served = str(header.get("FILTER", "")).strip()
            canonical = {name.lower(): name for name in FILTER_BANDS}.get(served.lower())
            if canonical is not None and FILTER_BANDS[canonical] != tile.band:
                raise UnusableImage(f"its FILTER is {served}, not a {tile.band} filter")
            factor, origin = calibration(header, survey, None)
            frame = FrameInfo(
                path=path,
                hdu=index,
                band=tile.band,
                filter_name=canonical or tile.filter_name,
                shape=(int(header["NAXIS2"]), int(header["NAXIS1"])),
                wcs=wcs if wcs.naxis == 2 else wcs.celestial,
                to_survey_unit=factor,
                calibration=origin,
            )
            return frame, np.asarray(hdu.data, dtype=np.float32)
    raise UnusableImage("no 2-D image with a celestial WCS")


def check_cutout(path: Path) -> None:
    """Content check of a served cutout: a complete FITS file holding a 2-D image.

    Raises
    ------
    ValueError, OSError
        If the file is not FITS, has no 2-D image, or its data unit is cut short.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with open_fits(path, memmap=False) as hdus:
            images = [hdu for hdu in hdus if hdu.is_image and hdu.header.get("NAXIS") == 2]
            if not images:
                raise ValueError("no 2-D image in the cutout")
            data = images[0].data
            if data is None or data.ndim != 2 or data.size == 0:
                raise ValueError("empty image in the cutout")
    for warning in caught:
        if "truncated" in str(warning.message).lower():
            raise ValueError(str(warning.message))


class _TimeoutSession(requests.Session):
    """A session giving every request a timeout (pyvo and astroquery give none to TAP and DataLink)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.default_timeout = timeout
        self.headers["User-Agent"] = USER_AGENT

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


def _server_wait(error: BaseException) -> float | None:
    """The Retry-After of the HTTP answer behind a pyvo or requests error, if it gave one."""
    for candidate in (error, getattr(error, "cause", None)):
        response = getattr(candidate, "response", None)
        if isinstance(response, requests.Response):
            return _retry_after(response)
    return None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else "no details"
