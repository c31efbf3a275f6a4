"""Cutouts from any HiPS survey through ``astroquery.hips2fits`` (the CDS service behind Aladin).

One HiPS per band (e.g. ``CDS/P/SDSS9/u`` ... ``CDS/P/SDSS9/z``, ``CDS/P/DSS2/red``, ``CDS/P/2MASS/K``,
``CDS/P/GALEXGR6/AIS/FUV``): for each object and band, hips2fits is asked for exactly the cutout's grid,
the north-up TAN WCS of :func:`galtk.pipeline.geometry.cutout_wcs` at the survey's pixel scale and size, so
the service does the resampling and the bands align by construction. Pixel values are multiplied by ``scale``
per band: HiPS tiles hold resampled survey images, so their values are fluxes per native pixel of the survey
in the HiPS's unit; a built-in survey's factors (``SurveySpec.hips_factors``) turn them into its unit per
pixel of the requested grid.

Requests are spaced and bounded by ``max_connections`` threads, retried with backoff on network errors and
server failures; an error answer of the service (a JSON title and description) fails the band at once. Pixels
the HiPS does not cover come back as NaN (or blank) and mark the band invalid.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from galtk.catalogs.files import ObjectCatalog
from galtk.errors import GaltkError
from galtk.pipeline.geometry import cutout_wcs
from galtk.pipeline.sources.base import RECORD_EXTRAS, CutoutSource, ObjectList, assemble_batch
from galtk.pipeline.sources.download import RetryPolicy
from galtk.pipeline.stores.cutout_store import CutoutBatch, ExtraArray
from galtk.pipeline.surveys import SurveySpec


class HipsSource(CutoutSource):
    """Cutouts served by hips2fits.

    Parameters
    ----------
    catalog : ObjectCatalog
        Objects to cut out.
    hips : sequence of str
        One HiPS identifier per band of the survey, in band order.
    server : str, optional
        hips2fits endpoint (default: astroquery's configured server).
    scale : float or sequence of float
        Factor applied to the served pixel values: one for every band, or one per band
        (:meth:`~galtk.pipeline.surveys.SurveySpec.hips_factors` turns each HiPS unit per native pixel into
        the survey's unit per cutout pixel).
    max_connections : int
        Requests in flight at once.
    policy : RetryPolicy, optional
        Retries and timeout.
    """

    name = "hips"
    parallelism = "threads"  # waits on the service

    def __init__(
        self,
        catalog: ObjectCatalog,
        hips: Sequence[str],
        *,
        server: str | None = None,
        scale: float | Sequence[float] = 1.0,
        max_connections: int = 4,
        policy: RetryPolicy | None = None,
    ) -> None:
        from astroquery.hips2fits import conf

        self.catalog = catalog
        self.hips = list(hips)
        default = conf.server
        self.server = server or (default[0] if isinstance(default, list | tuple) else str(default))
        self.scale = [float(value) for value in scale] if isinstance(scale, Sequence) else float(scale)
        self.policy = policy or RetryPolicy()
        self._connections = threading.BoundedSemaphore(max_connections)

    def describe(self) -> Mapping[str, Any]:
        return {"kind": self.name, "hips": self.hips, "scale": self.scale, "objects": len(self.catalog)}

    def extras(self, survey: SurveySpec) -> tuple[ExtraArray, ...]:
        return RECORD_EXTRAS

    def objects(self, survey: SurveySpec) -> ObjectList:
        scales = len(self.scale) if isinstance(self.scale, list) else len(self.hips)
        if len(self.hips) != len(survey.bands) or scales != len(self.hips):
            raise GaltkError(
                f"the hips source needs one HiPS per band of {survey.name} ({len(survey.bands)}), "
                f"got {len(self.hips)} HiPS and {scales} scale factors"
            )
        return ObjectList(ids=self.catalog.ids, ra=self.catalog.ra, dec=self.catalog.dec)

    def cutouts(self, survey: SurveySpec, objects: ObjectList, rows: np.ndarray) -> CutoutBatch:
        size = survey.cutout_size
        n, n_bands = len(rows), len(survey.bands)
        images = np.full((n, n_bands, size, size), np.nan, dtype=np.float32)
        valid = np.zeros((n, n_bands), dtype=bool)
        used = [[""] * n_bands for _ in range(n)]
        errors: list[list[str]] = [[] for _ in range(n)]
        unavailable = np.zeros(n, dtype=bool)
        for out, row in enumerate(rows):
            wcs = cutout_wcs(float(objects.ra[row]), float(objects.dec[row]), survey.pixel_scale, size)
            for band_index, (band, hips) in enumerate(zip(survey.bands, self.hips, strict=True)):
                try:
                    pixels = self.fetch_image(hips, wcs)
                except _ServiceRefused as error:
                    errors[out].append(f"{band}: {hips}: {error}")
                    continue
                except GaltkError as error:
                    unavailable[out] = True
                    errors[out].append(f"{band}: {error}")
                    continue
                if pixels.shape != (size, size):
                    errors[out].append(f"{band}: {hips} returned a {pixels.shape} image")
                    continue
                covered = np.isfinite(pixels).all()
                images[out, band_index] = pixels * np.float32(self._factor(band_index))
                valid[out, band_index] = covered
                used[out][band_index] = f"{band}={hips}"
                if not covered:
                    errors[out].append(f"{band}: {hips} does not cover the whole cutout")
        return assemble_batch(images, valid, used, errors, unavailable)

    def _factor(self, band_index: int) -> float:
        return self.scale[band_index] if isinstance(self.scale, list) else self.scale

    def fetch_image(self, hips: str, wcs: Any) -> np.ndarray:
        """One image from hips2fits on ``wcs``'s grid, retried on failures; float32 with NaN for blanks."""
        from astroquery.hips2fits import hips2fitsClass

        client = hips2fitsClass()
        client.server = self.server
        client.timeout = self.policy.timeout
        reason = ""
        for attempt in range(1, self.policy.attempts + 1):
            try:
                with self._connections:
                    hdus = client.query_with_wcs(hips=hips, wcs=wcs, format="fits")
                return _pixels(hdus)
            except AttributeError as error:  # astroquery's way of reporting the service's JSON error
                raise _ServiceRefused(str(error).strip()) from None
            except Exception as error:  # network errors, non-JSON error pages, truncated FITS
                reason = f"{type(error).__name__}: {str(error).strip()[:200]}"
                if attempt < self.policy.attempts:
                    time.sleep(min(self.policy.backoff * 2 ** (attempt - 1), self.policy.max_wait))
        raise GaltkError(f"{hips} not available ({reason}; {self.policy.attempts} tries)")


class _ServiceRefused(Exception):
    """hips2fits answered with an error for this request (unknown HiPS, bad parameters)."""


def _pixels(hdus: Any) -> np.ndarray:
    """The image as float32 (astropy has applied BSCALE/BZERO and turned BLANK values into NaN)."""
    return np.asarray(hdus[0].data, dtype=np.float32)
