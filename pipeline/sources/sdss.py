"""SDSS DR12 imaging through ``astroquery.sdss``: the object sample, its frames, and 5-band cutouts.

Objects come either from a SkyServer SQL query (``sql`` in galtk.toml; it must return ``ra``, ``dec``,
``run``, ``rerun``, ``camcol``, ``field`` and an identifier such as ``objid``) or from a catalog file, whose
positions are located in the imaging by SkyServer: batches of positions go through ``astroquery``'s
``query_sql`` as one query each, ``CROSS APPLY dbo.fGetNearestObjEq(ra, dec, 0.1)``, which names the frame
(run, rerun, camcol, field) of the nearest photometric object within 6 arcsec. Positions with none are
rejected as outside the SDSS imaging. Queries are spaced by ``query_interval`` seconds (SkyServer allows 60
per minute).

Rows are ordered by frame, so each frame file is downloaded once for all its objects. Frame URLs come from
``astroquery``'s own template (``SDSS.get_images_async(matches=...)`` builds them without downloading; its
``sas_baseurl`` configuration item chooses the server) and the files are fetched by galtk's downloader
(bounded connections, retries, checked cache). Each band of each object is cut from its own frame, resampled
onto the one north-up TAN grid of the cutout. When an object's cutout is not wholly inside its frame, the
neighbouring fields of the same run and camcol (which overlap it by 128 rows) are tried; when none covers it,
the band is marked invalid, with the reason in the ``error`` array. A row whose frame could not be downloaded
(after the downloader's retries) is marked failed, with the reason; ``galtk fetch --resume --retry-failed``
tries it again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from astropy.table import Table

from galtk.catalogs.files import ObjectCatalog, catalog_from_table
from galtk.errors import DownloadError, GaltkError, SkyServerError
from galtk.pipeline.fits_files import open_fits
from galtk.pipeline.resample import check_kernel
from galtk.pipeline.sources.base import RECORD_EXTRAS, CutoutSource, ObjectList, assemble_batch
from galtk.pipeline.sources.download import Downloader, RetryPolicy
from galtk.pipeline.sources.fits import (
    FrameInfo,
    UnusableImage,
    covers_cutouts,
    cut_from_frame,
    read_frame_info,
)
from galtk.pipeline.stores.cutout_store import CutoutBatch, ExtraArray
from galtk.pipeline.surveys import SurveySpec

log = logging.getLogger(__name__)

DATA_RELEASE = 12
LOCATE_BATCH = 100
NEAREST_RADIUS_ARCMIN = 0.1
_OPEN_FRAMES = 24

LOCATE_SQL = (
    "SELECT t.up_id, n.run, n.rerun, n.camcol, n.field "
    "FROM (VALUES {values}) AS t(up_id, ra, dec) "
    "CROSS APPLY dbo.fGetNearestObjEq(t.ra, t.dec, {radius}) AS n"
)


class FrameId(NamedTuple):
    """An SDSS imaging field: one frame file per band."""

    run: int
    rerun: int
    camcol: int
    field: int

    def neighbours(self) -> tuple[FrameId, FrameId]:
        """The previous and next fields of the same run and camcol (each overlaps this one)."""
        return self._replace(field=self.field - 1), self._replace(field=self.field + 1)

    def __str__(self) -> str:
        return f"run {self.run} camcol {self.camcol} field {self.field}"


class SdssSource(CutoutSource):
    """SDSS DR12 frames through astroquery and the SAS.

    Parameters
    ----------
    cache_dir : Path
        Where downloaded frames are kept.
    catalog : ObjectCatalog, optional
        Objects to locate and cut out.
    sql : str, optional
        SkyServer SQL selecting the sample instead (give exactly one of ``catalog`` and ``sql``).
    max_connections : int
        Downloads in flight at once.
    max_cache_bytes : int, optional
        Size bound of the frame cache.
    policy : RetryPolicy, optional
        Retries of downloads and queries.
    query_interval : float
        Minimum seconds between two SkyServer queries.
    kernel : {"lanczos3", "bilinear", "nearest"}, optional
        Resampling kernel (``resampling`` of ``[surveys.NAME]``; :mod:`galtk.pipeline.resample`).
    """

    name = "sdss"
    parallelism = "threads"  # downloads dominate; the downloader bounds the connections

    def __init__(
        self,
        cache_dir: str | Path,
        *,
        catalog: ObjectCatalog | None = None,
        sql: str | None = None,
        max_connections: int = 4,
        max_cache_bytes: int | None = None,
        policy: RetryPolicy | None = None,
        query_interval: float = 1.0,
        kernel: str = "lanczos3",
    ) -> None:
        if (catalog is None) == (not sql):
            raise ValueError("give exactly one of catalog and sql")
        self.kernel = check_kernel(kernel, GaltkError)
        self.catalog = catalog
        self.sql = sql or None
        self.policy = policy or RetryPolicy()
        self.query_interval = query_interval
        self.downloader = Downloader(
            cache_dir, max_connections=max_connections, max_cache_bytes=max_cache_bytes, policy=self.policy
        )
        self._plan: tuple[ObjectList, np.ndarray] | None = None
        self._frames: OrderedDict[tuple[FrameId, str], tuple[FrameInfo, np.ndarray] | str] = OrderedDict()
        self._lock = threading.Lock()
        self._query_lock = threading.Lock()
        self._last_query = 0.0

    def watch_bytes(self, callback: Callable[[int], None]) -> None:
        self.downloader.on_bytes = callback

    def describe(self) -> Mapping[str, Any]:
        return {
            "kind": self.name,
            "data_release": DATA_RELEASE,
            "sql": self.sql,
            "catalog_objects": None if self.catalog is None else len(self.catalog),
            "resampling": self.kernel,
        }

    def extras(self, survey: SurveySpec) -> tuple[ExtraArray, ...]:
        return RECORD_EXTRAS

    # ------------------------------------------------------------------ objects
    def objects(self, survey: SurveySpec) -> ObjectList:
        if survey.archive != self.name:
            raise GaltkError(
                f'the sdss source provides SDSS cutouts, not {survey.name}\'s (name preset = "sdss" in its '
                "[surveys.NAME] table)"
            )
        with self._lock:
            if self._plan is None:
                self._plan = self._make_plan()
            return self._plan[0]

    def frame_ids(self) -> np.ndarray:
        """(run, rerun, camcol, field) of each object, in row order."""
        if self._plan is None:
            raise RuntimeError("call objects() first")
        return self._plan[1]

    def _make_plan(self) -> tuple[ObjectList, np.ndarray]:
        if self.sql is not None:
            table = self.query(self.sql)
            catalog = catalog_from_table(table, origin="SkyServer query")
            frames = _frame_columns(table, catalog, origin="SkyServer query")
            rejected: list[tuple[str, float, float, str]] = []
        else:
            catalog, frames, rejected = self._locate(self.catalog)
        order = np.lexsort((catalog.ra, frames[:, 3], frames[:, 2], frames[:, 0]))
        objects = ObjectList(
            ids=catalog.ids[order], ra=catalog.ra[order], dec=catalog.dec[order], rejected=tuple(rejected)
        )
        return objects, frames[order]

    def _locate(
        self, catalog: ObjectCatalog
    ) -> tuple[ObjectCatalog, np.ndarray, list[tuple[str, float, float, str]]]:
        """Frame of each catalog position, from SkyServer, in batches of :data:`LOCATE_BATCH`."""
        frames = np.full((len(catalog), 4), -1, dtype=np.int64)
        for start in range(0, len(catalog), LOCATE_BATCH):
            rows = np.arange(start, min(start + LOCATE_BATCH, len(catalog)))
            values = ", ".join(f"({i}, {catalog.ra[i]:.8f}, {catalog.dec[i]:.8f})" for i in rows)
            table = self.query(LOCATE_SQL.format(values=values, radius=NEAREST_RADIUS_ARCMIN))
            if table is None:
                continue
            index = np.asarray(table["up_id"], dtype=np.int64)
            for column, name in enumerate(("run", "rerun", "camcol", "field")):
                frames[index, column] = np.asarray(table[name], dtype=np.int64)
        found = frames[:, 0] >= 0
        rejected = [
            (str(catalog.ids[i]), float(catalog.ra[i]), float(catalog.dec[i]), "outside the SDSS imaging")
            for i in np.flatnonzero(~found)
        ]
        kept = ObjectCatalog(ids=catalog.ids[found], ra=catalog.ra[found], dec=catalog.dec[found])
        return kept, frames[found], rejected

    def query(self, sql: str) -> Table | None:
        """Run SkyServer SQL through ``astroquery`` (DR12), spaced and retried; None when no row matches."""
        from astroquery.exceptions import RemoteServiceError
        from astroquery.sdss import SDSS

        reason = ""
        for attempt in range(1, self.policy.attempts + 1):
            with self._query_lock:
                wait = self._last_query + self.query_interval - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                self._last_query = time.monotonic()
            try:
                return SDSS.query_sql(
                    sql, data_release=DATA_RELEASE, timeout=self.policy.timeout, cache=False
                )
            except RemoteServiceError as error:
                raise SkyServerError(f"SkyServer refused the query: {_first_line(str(error))}") from None
            except Exception as error:  # network errors of requests and astroquery's own
                reason = f"{type(error).__name__}: {_first_line(str(error))}"
                if attempt < self.policy.attempts:
                    time.sleep(min(self.policy.backoff * 2 ** (attempt - 1), self.policy.max_wait))
        raise SkyServerError(f"SkyServer could not be queried ({reason}; {self.policy.attempts} tries)")

    # ------------------------------------------------------------------ cutouts
    def cutouts(self, survey: SurveySpec, objects: ObjectList, rows: np.ndarray) -> CutoutBatch:
        frame_ids = self.frame_ids()[rows]
        n, size, n_bands = len(rows), survey.cutout_size, len(survey.bands)
        images = np.full((n, n_bands, size, size), np.nan, dtype=np.float32)
        valid = np.zeros((n, n_bands), dtype=bool)
        noise_gain = np.full((n, n_bands), np.nan, dtype=np.float32)
        offset = np.zeros((n, n_bands, 2), dtype=np.float32)
        used = [[""] * n_bands for _ in range(n)]
        errors: list[list[str]] = [[] for _ in range(n)]
        unavailable = np.zeros(n, dtype=bool)  # a frame could not be downloaded: worth retrying later
        ra, dec = objects.ra[rows], objects.dec[rows]
        keys = [FrameId(*map(int, row)) for row in frame_ids]
        for home in sorted(set(keys)):
            members = np.array([i for i, key in enumerate(keys) if key == home])
            for band_index, band in enumerate(survey.bands):
                todo = members
                for frame_id in (home, *home.neighbours()):
                    if len(todo) == 0:
                        break
                    loaded = self._frame(frame_id, band, survey)
                    if isinstance(loaded, str):
                        if frame_id == home:
                            unavailable[todo] = True
                            for member in todo:
                                errors[member].append(f"{band}: {loaded}")
                            break
                        continue
                    frame, data = loaded
                    inside = covers_cutouts(frame, ra[todo], dec[todo], survey)
                    chosen = todo[inside]
                    if len(chosen):
                        cut = cut_from_frame(frame, data, ra[chosen], dec[chosen], survey, kernel=self.kernel)
                        images[chosen, band_index] = cut.cutouts
                        valid[chosen, band_index] = cut.complete
                        noise_gain[chosen, band_index] = cut.noise_gain
                        offset[chosen, band_index] = cut.offset
                        for member in chosen:
                            used[member][band_index] = f"{band}={frame.path.name} ({frame_id})"
                    todo = todo[~inside]
                for member in todo:
                    if not unavailable[member]:
                        errors[member].append(f"{band}: at the edge of {home} and its neighbouring fields")
        return assemble_batch(images, valid, used, errors, unavailable, noise_gain, offset)

    def frame_url(self, frame_id: FrameId, band: str) -> str:
        """URL of a frame file, from astroquery's template and its ``sas_baseurl`` configuration item."""
        from astroquery.sdss import SDSS

        matches = Table({name: [value] for name, value in frame_id._asdict().items()})
        containers = SDSS.get_images_async(
            matches=matches, band=band, data_release=DATA_RELEASE, cache=False, show_progress=False
        )
        return containers[0]._target

    def _frame(self, frame_id: FrameId, band: str, survey: SurveySpec) -> tuple[FrameInfo, np.ndarray] | str:
        """The frame's index entry and pixels, or the reason it cannot be had (remembered for this run)."""
        key = (frame_id, band)
        with self._lock:
            if key in self._frames:
                self._frames.move_to_end(key)
                return self._frames[key]
        url = self.frame_url(frame_id, band)
        try:
            path = self.downloader.fetch(url, check=_check_frame)
            frame = read_frame_info(path, survey)
            with open_fits(path) as hdus:
                data = np.array(hdus[frame.hdu].data, dtype=np.float32)
            loaded: tuple[FrameInfo, np.ndarray] | str = (frame, data)
        except DownloadError as error:
            loaded = f"frame {frame_id} not available ({_first_line(str(error))})"
        except (OSError, ValueError, UnusableImage) as error:
            loaded = f"frame {frame_id} unusable ({error})"
        with self._lock:
            self._frames[key] = loaded
            while len(self._frames) > _OPEN_FRAMES:
                self._frames.popitem(last=False)
        return loaded


def _check_frame(path: Path) -> None:
    """Content check of a downloaded frame: a FITS file whose first HDU is a 2-D image."""
    with open_fits(path) as hdus:
        data = hdus[0].data
        if data is None or data.ndim != 2:
            raise ValueError("no 2-D image in the first HDU")


def _frame_columns(table: Table, catalog: ObjectCatalog, *, origin: str) -> np.ndarray:
    missing = [name for name in ("run", "rerun", "camcol", "field") if name not in table.colnames]
    if missing:
        raise GaltkError(f"{origin} must return run, rerun, camcol and field; missing: {', '.join(missing)}")
    if len(catalog) != len(table):
        raise GaltkError(f"{origin} returned rows without usable ra/dec or with duplicates; fix the query")
    return np.stack(
        [np.asarray(table[name], dtype=np.int64) for name in ("run", "rerun", "camcol", "field")], 1
    )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else "no details"
