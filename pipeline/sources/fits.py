"""Cutouts from FITS images on disk: SDSS frames, CFHTLS tiles, any survey image with a celestial WCS.

The images are indexed once: for each file, the first 2-D HDU with a celestial WCS, its band (FITS keyword
``FILTER``/``FILTNAM``/``BAND``, else a ``u g r i z`` token in the file name), and its flux calibration. Every
object of the catalog is then assigned, per band, the first image that covers its whole cutout; objects near
a frame edge thereby use an overlapping neighbouring frame when there is one, and otherwise the band is marked
invalid. Objects covered in no band are rejected before fetching, with their reason. Bands are resampled
independently onto the one north-up TAN grid of the cutout (see :mod:`galtk.pipeline.resample`), so bands of
drift-scan frames with different WCSs align.

Flux calibration, in this order: a ``BUNIT`` containing "nanomaggy" (SDSS frames); the workspace's
``zeropoint`` for these images; a zero-point keyword (``MAGZPT``, ``PHOTZP``, ``MAGZERO``, ``ZEROPT``, AB
magnitude of one count); otherwise the pixels are taken to be in the survey's own unit already (CFHTLS tiles:
ADU at zero point 30). The rule used is recorded per object in the ``provenance`` array.

For CFHTLS, the i band was observed through two filters (i.MP9701, and i.MP9702 after 2007, also called i2 or
y): both count as ``i``; where both cover an object the original i.MP9701 image is used.
"""

from __future__ import annotations

import copy
import glob
import logging
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning
from scipy.spatial import cKDTree

from galtk.catalogs.files import ObjectCatalog
from galtk.errors import GaltkError
from galtk.pipeline.fits_files import CorruptFile, is_compressed, open_fits
from galtk.pipeline.fits_headers import BAND_KEYWORDS, SECOND_I_FILTERS, band_of, calibration
from galtk.pipeline.geometry import chord_length, unit_vectors
from galtk.pipeline.resample import Resampled, check_kernel, cut_image, cutout_world_grid
from galtk.pipeline.sources.base import RECORD_EXTRAS, CutoutSource, ObjectList, assemble_batch
from galtk.pipeline.stores.cutout_store import CutoutBatch, ExtraArray
from galtk.pipeline.surveys import SurveySpec

log = logging.getLogger(__name__)

_OPEN_FRAMES = 8


@dataclass(frozen=True)
class FrameInfo:
    """One indexed image.

    Attributes
    ----------
    path : Path
    hdu : int
        Index of the image HDU.
    band : str
        Band the image is assigned to.
    filter_name : str
        Filter as found in the header or file name.
    shape : tuple of int
        (ny, nx).
    wcs : astropy.wcs.WCS
        Celestial WCS (copied before use: WCS objects are not thread-safe).
    to_survey_unit : float
        Factor turning pixel values into the survey's unit.
    calibration : str
        Which rule gave that factor.
    """

    path: Path
    hdu: int
    band: str
    filter_name: str
    shape: tuple[int, int]
    wcs: WCS
    to_survey_unit: float
    calibration: str

    @property
    def preference(self) -> int:
        """Lower is preferred among images of the same band (the second CFHT i filter comes last)."""
        return 1 if self.filter_name.lower() in SECOND_I_FILTERS else 0


@dataclass(frozen=True)
class FrameIndex:
    """Indexed images, and the files that could not be used with their reasons."""

    frames: tuple[FrameInfo, ...]
    rejected_files: tuple[tuple[str, str], ...]


def expand_image_patterns(patterns: Sequence[str | Path]) -> list[Path]:
    """Files matching glob patterns (sorted, duplicates removed)."""
    paths: dict[str, Path] = {}
    for pattern in patterns:
        for match in sorted(glob.glob(str(pattern), recursive=True)):
            if Path(match).is_file():
                paths.setdefault(str(Path(match).resolve()), Path(match))
    return list(paths.values())


def index_frames(paths: Sequence[Path], survey: SurveySpec, *, zeropoint: float | None = None) -> FrameIndex:
    """Read the headers of image files and keep those usable for ``survey``.

    Parameters
    ----------
    paths : sequence of Path
        Image files (FITS, optionally .gz/.bz2 compressed).
    survey : SurveySpec
        Target survey: its bands and unit.
    zeropoint : float, optional
        AB magnitude of one count for all these images, overriding header keywords.

    Returns
    -------
    FrameIndex
    """
    frames: list[FrameInfo] = []
    rejected: list[tuple[str, str]] = []
    for path in paths:
        try:
            frames.append(read_frame_info(Path(path), survey, zeropoint))
        except (OSError, ValueError, UnusableImage) as error:
            rejected.append((str(path), str(error) or type(error).__name__))
    return FrameIndex(frames=tuple(frames), rejected_files=tuple(rejected))


class UnusableImage(Exception):
    """A file that is not a usable image for the survey (the message says why)."""


def read_frame_info(path: Path, survey: SurveySpec, zeropoint: float | None = None) -> FrameInfo:
    """Index one image file (see the module docstring for the band and calibration rules).

    Raises
    ------
    OSError, ValueError
        If the file cannot be read as FITS.
    UnusableImage
        If it holds no 2-D celestial image, or its band cannot be told.
    """
    with fits.open(path, memmap=False, lazy_load_hdus=True) as hdus:
        for index, hdu in enumerate(hdus):
            if not isinstance(hdu, fits.PrimaryHDU | fits.ImageHDU | fits.CompImageHDU):
                continue
            header = hdu.header
            if header.get("NAXIS") != 2:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FITSFixedWarning)
                wcs = WCS(header)
            if not wcs.has_celestial:
                continue
            band, filter_name = _detect_band(header, path, survey.bands)
            factor, origin = calibration(header, survey, zeropoint)
            shape = (int(header["NAXIS2"]), int(header["NAXIS1"]))
            return FrameInfo(path, index, band, filter_name, shape, wcs.celestial, factor, origin)
    raise UnusableImage("no 2-D image with a celestial WCS")


def _detect_band(header: fits.Header, path: Path, bands: Sequence[str]) -> tuple[str, str]:
    candidates = [str(header[key]).strip() for key in BAND_KEYWORDS if header.get(key)]
    candidates += [token for token in re.split(r"[-_.]", path.name) if token]
    for name in candidates:
        band = band_of(name, bands)
        if band:
            return band, name
    raise UnusableImage(
        f"cannot tell its band (no {'/'.join(BAND_KEYWORDS)} keyword or band name in the file name)"
    )


class FitsSource(CutoutSource):
    """Cutouts resampled from FITS images on disk.

    Parameters
    ----------
    catalog : ObjectCatalog
        Objects to cut out.
    images : sequence of Path
        Image files.
    zeropoint : float, optional
        AB magnitude of one count for all images (overrides header keywords; not BUNIT nanomaggy).
    kernel : {"lanczos3", "bilinear", "nearest"}, optional
        Resampling kernel (``resampling`` of ``[surveys.NAME]``; :mod:`galtk.pipeline.resample`).
    """

    name = "fits"
    parallelism = "processes"  # WCS transforms and interpolation hold the GIL

    def __init__(
        self,
        catalog: ObjectCatalog,
        images: Sequence[Path],
        *,
        zeropoint: float | None = None,
        kernel: str = "lanczos3",
    ) -> None:
        self.catalog = catalog
        self.images = [Path(path) for path in images]
        self.zeropoint = zeropoint
        self.kernel = check_kernel(kernel, GaltkError)
        self._plans: dict[str, tuple[FrameIndex, ObjectList, np.ndarray]] = {}
        self._open: OrderedDict[tuple[Path, int], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_open"] = OrderedDict()  # open files and the lock stay with their process
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def describe(self) -> Mapping[str, Any]:
        return {
            "kind": self.name,
            "images": [str(path) for path in self.images],
            "zeropoint": self.zeropoint,
            "objects": len(self.catalog),
            "resampling": self.kernel,
        }

    def extras(self, survey: SurveySpec) -> tuple[ExtraArray, ...]:
        return RECORD_EXTRAS

    def frame_index(self, survey: SurveySpec) -> FrameIndex:
        """The indexed images of ``survey`` (built on first use)."""
        return self._plan(survey)[0]

    def objects(self, survey: SurveySpec) -> ObjectList:
        return self._plan(survey)[1]

    def cutouts(self, survey: SurveySpec, objects: ObjectList, rows: np.ndarray) -> CutoutBatch:
        index, _, choices = self._plan(survey)
        frames = index.frames
        n, size, n_bands = len(rows), survey.cutout_size, len(survey.bands)
        images = np.full((n, n_bands, size, size), np.nan, dtype=np.float32)
        valid = np.zeros((n, n_bands), dtype=bool)
        noise_gain = np.full((n, n_bands), np.nan, dtype=np.float32)
        offset = np.zeros((n, n_bands, 2), dtype=np.float32)
        used = [[""] * n_bands for _ in range(n)]
        errors = [[] for _ in range(n)]
        ra, dec = objects.ra[rows], objects.dec[rows]
        for band_index, band in enumerate(survey.bands):
            chosen = choices[rows, band_index]
            for frame_number in np.unique(chosen[chosen >= 0]):
                members = np.flatnonzero(chosen == frame_number)
                frame = frames[frame_number]
                try:
                    data = self._data(frame)
                except CorruptFile as error:
                    for member in members:
                        errors[member].append(f"{band}: {frame.path.name} is damaged: {error}")
                    continue
                cut = cut_from_frame(frame, data, ra[members], dec[members], survey, kernel=self.kernel)
                images[members, band_index] = cut.cutouts
                valid[members, band_index] = cut.complete
                noise_gain[members, band_index] = cut.noise_gain
                offset[members, band_index] = cut.offset
                for member, ok, native in zip(members, cut.complete, cut.native, strict=True):
                    how = f"{frame.calibration}, native pixels" if native else frame.calibration
                    used[member][band_index] = f"{band}={frame.path.name}[{frame.hdu}] ({how})"
                    if not ok:
                        errors[member].append(f"{band}: missing pixels in {frame.path.name}")
            for member in np.flatnonzero(chosen < 0):
                errors[member].append(f"{band}: no image covers the whole cutout")
        return assemble_batch(images, valid, used, errors, noise_gain=noise_gain, offset=offset)

    def _data(self, frame: FrameInfo) -> np.ndarray:
        key = (frame.path, frame.hdu)
        with self._lock:
            if key in self._open:
                self._open.move_to_end(key)
                return self._open[key]
            compressed = is_compressed(frame.path) or frame.path.suffix.lower() == ".fz"
            with open_fits(frame.path, memmap=not compressed) as hdus:
                data = hdus[frame.hdu].data
                data = data if not compressed else np.array(data, dtype=np.float32)
            self._open[key] = data
            while len(self._open) > _OPEN_FRAMES:
                self._open.popitem(last=False)
            return data

    def _plan(self, survey: SurveySpec) -> tuple[FrameIndex, ObjectList, np.ndarray]:
        with self._lock:
            if survey.name not in self._plans:
                self._plans[survey.name] = self._make_plan(survey)
            return self._plans[survey.name]

    def _make_plan(self, survey: SurveySpec) -> tuple[FrameIndex, ObjectList, np.ndarray]:
        index = index_frames(self.images, survey, zeropoint=self.zeropoint)
        if not index.frames:
            reasons = (
                "; ".join(f"{path}: {why}" for path, why in index.rejected_files[:3]) or "no file matched"
            )
            raise GaltkError(f"no usable {survey.name} image among {len(self.images)} files ({reasons})")
        for path, why in index.rejected_files:
            log.warning("skipping %s: %s", path, why)
        catalog = self.catalog
        choices = _assign_frames(index.frames, catalog.ra, catalog.dec, survey)
        centred = _assign_frames(index.frames, catalog.ra, catalog.dec, survey, centre_only=True)
        covered = (choices >= 0).any(axis=1)
        # Rows follow the image of their first covered band, so a batch of rows reads few files.
        first = np.where(choices >= 0, choices, np.iinfo(np.int64).max).min(axis=1)
        order = np.flatnonzero(covered)[np.lexsort((catalog.ra[covered], first[covered]))]
        outside = np.flatnonzero(~covered)
        objects = ObjectList(
            ids=catalog.ids[order],
            ra=catalog.ra[order],
            dec=catalog.dec[order],
            rejected=tuple(
                (
                    str(catalog.ids[i]),
                    float(catalog.ra[i]),
                    float(catalog.dec[i]),
                    "at an image edge: no image covers the whole cutout in any band"
                    if (centred[i] >= 0).any()
                    else "outside every image",
                )
                for i in outside
            ),
        )
        return index, objects, choices[order]


def cut_from_frame(
    frame: FrameInfo,
    data: np.ndarray,
    ra: np.ndarray,
    dec: np.ndarray,
    survey: SurveySpec,
    *,
    kernel: str = "lanczos3",
) -> Resampled:
    """Cutouts of several objects from one image, in the survey's unit.

    Parameters
    ----------
    frame : FrameInfo
        The image's index entry (WCS and calibration).
    data : ndarray
        Its pixels (may be memory-mapped).
    ra, dec : ndarray
        Cutout centres in degrees.
    survey : SurveySpec
        Cutout grid and unit.
    kernel : {"lanczos3", "bilinear", "nearest"}, optional
        Resampling kernel (:mod:`galtk.pipeline.resample`).

    Returns
    -------
    Resampled
        The cutouts (in the survey's unit), which are complete, what resampling did to their noise, and
        which are the image's own pixels (a north-up TAN image at the survey's pixel scale) with the
        objects' sub-pixel offsets (:func:`galtk.pipeline.resample.cut_image`).
    """
    wcs = copy.deepcopy(frame.wcs)  # astropy WCS objects are not thread-safe
    cut = cut_image(data, wcs, ra, dec, survey.pixel_scale, survey.cutout_size, kernel=kernel)
    return cut._replace(cutouts=cut.cutouts * np.float32(frame.to_survey_unit))


def covers_cutouts(frame: FrameInfo, ra: np.ndarray, dec: np.ndarray, survey: SurveySpec) -> np.ndarray:
    """True where the whole cutout centred on each position (plus one pixel) lies within the image."""
    return _cutouts_inside(frame, ra, dec, survey.pixel_scale, (survey.cutout_size - 1) / 2.0 + 1.0)


def _assign_frames(
    frames: Sequence[FrameInfo],
    ra: np.ndarray,
    dec: np.ndarray,
    survey: SurveySpec,
    *,
    centre_only: bool = False,
) -> np.ndarray:
    """For each object and band, the index of the preferred frame covering the whole cutout, or -1.

    With ``centre_only``, a frame only needs to hold the object's position.
    """
    n_bands = len(survey.bands)
    choices = np.full((len(ra), n_bands), -1, dtype=np.int64)
    preference = np.full((len(ra), n_bands), np.iinfo(np.int64).max, dtype=np.int64)
    if len(ra) == 0:
        return choices
    # One pixel of margin for bilinear interpolation; a zero-size "cutout" tests the centre alone.
    half = 0.0 if centre_only else (survey.cutout_size - 1) / 2.0 + 1.0
    corner_offsets = survey.pixel_scale * half / 3600.0
    tree = cKDTree(unit_vectors(ra, dec))
    for number, frame in enumerate(frames):
        centre_ra, centre_dec, radius = _frame_circle(frame)
        chord = chord_length(radius + corner_offsets * np.sqrt(2.0))
        near = np.array(tree.query_ball_point(unit_vectors(centre_ra, centre_dec), chord), dtype=int)
        if len(near) == 0:
            continue
        inside = _cutouts_inside(frame, ra[near], dec[near], survey.pixel_scale, half)
        band = survey.bands.index(frame.band)
        rank = frame.preference * len(frames) + number
        better = inside & (rank < preference[near, band])
        choices[near[better], band] = number
        preference[near[better], band] = rank
    return choices


def _frame_circle(frame: FrameInfo) -> tuple[float, float, float]:
    """Centre (degrees) and radius (degrees) of a circle holding the whole frame."""
    ny, nx = frame.shape
    xs = np.array([0, nx - 1, 0, nx - 1, (nx - 1) / 2])
    ys = np.array([0, 0, ny - 1, ny - 1, (ny - 1) / 2])
    ra, dec = frame.wcs.pixel_to_world_values(xs, ys)
    vectors = unit_vectors(np.asarray(ra), np.asarray(dec))
    separation = np.arccos(np.clip(vectors[:4] @ vectors[4], -1.0, 1.0))
    return float(ra[4]), float(dec[4]), float(np.rad2deg(separation.max()))


def _cutouts_inside(
    frame: FrameInfo, ra: np.ndarray, dec: np.ndarray, pixel_scale: float, half: float
) -> np.ndarray:
    """True where the cutout (plus a margin) centred on each position lies within the frame."""
    size = round(2 * half + 1)
    corners = np.unique(np.array([0.0, size - 1.0]))
    ra_grid, dec_grid = cutout_world_grid(ra, dec, pixel_scale, size, corners)
    x, y = frame.wcs.world_to_pixel_values(ra_grid.ravel(), dec_grid.ravel())
    ny, nx = frame.shape
    ok = (np.asarray(x) >= 0) & (np.asarray(y) >= 0) & (np.asarray(x) <= nx - 1) & (np.asarray(y) <= ny - 1)
    return ok.reshape(len(ra), -1).all(axis=1)
