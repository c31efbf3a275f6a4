"""The synthetic sky served as hips2fits on 127.0.0.1: HiPS surveys offline, through the real client.

``hips_server = "sim"`` in a ``[surveys.NAME]`` table whose source is ``hips`` (what ``galtk init --sim
--hips`` writes) makes ``galtk fetch`` start a :class:`HipsStandIn` for the workspace's ``[sim]`` sky and
point astroquery's hips2fits client at it, so the whole HiPS path (the client, HTTP, FITS parsing, unit
factors, refusals and blank pixels) runs without the internet.

Every HiPS of the built-in surveys (``CDS/P/DSS2/red``, ``CDS/P/2MASS/K``, ``CDS/P/GALEXGR6_7/NUV``,
``CDS/P/SDSS9/u`` ...) shows the synthetic galaxies as that survey sees them: its band's wavelength, its
seeing and noise, on its native pixels, in its HiPS unit per native pixel (uncalibrated HiPS at an AB zero
point of :data:`UNCALIBRATED_ZEROPOINT`), then resampled bilinearly onto the grid asked for, as hips2fits
resamples HiPS tiles. Each request renders the catalog galaxy nearest the centre of the grid asked for, with
its neighbours. Unknown HiPS and malformed requests get hips2fits's error answer (HTTP 400 with a JSON title
and description).
"""

from __future__ import annotations

import dataclasses
import http.server
import io
import json
import threading
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from galtk.pipeline.surveys import PRESETS, SurveySpec, nanomaggies_per_count, with_bands
from galtk.pipeline.synthetic.catalog import SimSkyParams
from galtk.pipeline.synthetic.source import SimImagingParams

#: Path of the hips2fits service under the stand-in's address (as on alasky.cds.unistra.fr).
HIPS2FITS_PATH = "/hips-image-services/hips2fits"
#: AB zero point of the stand-in's values for HiPS that are not flux-calibrated (real ones vary by plate).
UNCALIBRATED_ZEROPOINT = 25.0


class SyntheticHips:
    """The synthetic sky as the HiPS of every built-in survey.

    Parameters
    ----------
    sky : SimSkyParams
        The galaxies.
    imaging : SimImagingParams, optional
        Observing conditions (``noise_scale = 0``: noiseless HiPS).
    """

    def __init__(self, sky: SimSkyParams, imaging: SimImagingParams | None = None) -> None:
        from scipy.spatial import cKDTree

        from galtk.pipeline.geometry import unit_vectors
        from galtk.pipeline.synthetic.source import SimSource

        self.source = SimSource(sky, imaging, kernel="bilinear")
        self.catalog = self.source.catalog
        self._tree = cKDTree(unit_vectors(self.catalog.ra, self.catalog.dec))
        self.bands: dict[str, tuple[SurveySpec, str]] = {
            hips_id: (spec, band)
            for spec in PRESETS.values()
            if spec.hips is not None
            for band, hips_id in zip(spec.bands, spec.hips.ids, strict=True)
        }

    def nanomaggies_per_value(self, hips: str) -> float:
        """Nanomaggies in one served value (per native pixel) of the HiPS ``hips``."""
        spec, band = self.bands[hips]
        assert spec.hips is not None
        if spec.hips.calibrated:
            return spec.hips.nanomaggies[spec.bands.index(band)]
        return nanomaggies_per_count(UNCALIBRATED_ZEROPOINT)

    def render(self, hips: str, header: fits.Header) -> np.ndarray:
        """The HiPS ``hips`` on the grid of ``header`` (NAXIS1, NAXIS2 and a celestial WCS).

        Raises
        ------
        KeyError
            If ``hips`` is not the HiPS of a built-in survey's band.
        """
        from reproject import reproject_interp

        from galtk.pipeline.geometry import cutout_wcs, unit_vectors
        from galtk.pipeline.sources.base import ObjectList

        spec, band = self.bands[hips]
        assert spec.hips is not None
        wcs = WCS(header)
        ny, nx = int(header["NAXIS2"]), int(header["NAXIS1"])
        ra, dec = (float(value) for value in wcs.pixel_to_world_values((nx - 1) / 2.0, (ny - 1) / 2.0))
        _, row = self._tree.query(unit_vectors(ra, dec))
        scale = float(np.sqrt(abs(np.linalg.det(wcs.celestial.pixel_scale_matrix)))) * 3600.0
        native = spec.hips.native_pixel_scale or spec.pixel_scale
        size = int(np.ceil(max(nx, ny) * scale / native)) + 6
        one_band = dataclasses.replace(
            with_bands(spec, (band,)),
            name=f"{spec.name}-{band}",  # each band's own noise
            pixel_scale=native,
            cutout_size=size,
            nanomaggies_per_unit=1.0,
            calibrated=True,
        )
        positions = ObjectList(ids=self.catalog.ids, ra=self.catalog.ra.copy(), dec=self.catalog.dec.copy())
        positions.ra[row], positions.dec[row] = ra, dec
        batch = self.source.cutouts(one_band, positions, np.array([row]))
        offset = (float(batch.extras["offset_x"][0, 0]), float(batch.extras["offset_y"][0, 0]))
        rendered = batch.images[0, 0].astype(np.float64) / self.nanomaggies_per_value(hips)
        image, _ = reproject_interp(
            (rendered, cutout_wcs(ra, dec, native, size, offset)), wcs, shape_out=(ny, nx), order="bilinear"
        )
        return image

    def answer(self, parameters: dict[str, str]) -> tuple[int, str, bytes]:
        """hips2fits's answer to a query: ``(HTTP status, content type, body)``.

        A FITS image on the WCS asked for (``hips``, ``wcs`` as JSON header keywords, ``format=fits``), or
        status 400 with a JSON ``title`` and ``description`` as hips2fits answers a bad request.
        """
        hips = parameters.get("hips", "")
        if hips not in self.bands:
            return _refusal("Bad request", f"unknown HiPS {hips!r}: the stand-in serves the built-in surveys")
        if parameters.get("format", "fits") != "fits":
            return _refusal("Bad request", "the stand-in answers format=fits only")
        try:
            header = fits.Header(json.loads(parameters["wcs"]))
            image = self.render(hips, header)
        except (KeyError, ValueError, TypeError) as error:
            return _refusal("Bad request", f"wcs: {error}")
        buffer = io.BytesIO()
        fits.PrimaryHDU(image.astype(np.float32), WCS(header).to_header()).writeto(buffer)
        return 200, "application/fits", buffer.getvalue()


class HipsStandIn:
    """A hips2fits stand-in serving a :class:`SyntheticHips` on 127.0.0.1 from a daemon thread.

    Parameters
    ----------
    hips : SyntheticHips
        What to serve.
    port : int
        TCP port (0: any free one).

    Attributes
    ----------
    url : str
        The hips2fits endpoint to give astroquery (``http://127.0.0.1:PORT/hips-image-services/hips2fits``).
    """

    def __init__(self, hips: SyntheticHips, port: int = 0) -> None:
        self.hips = hips
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _handler(hips))
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{HIPS2FITS_PATH}"

    def close(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> HipsStandIn:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_RUNNING: dict[tuple[Any, ...], HipsStandIn] = {}
_RUNNING_LOCK = threading.Lock()


def running_standin(sky: SimSkyParams, imaging: SimImagingParams) -> HipsStandIn:
    """The stand-in of this sky for this process, started on first use and kept until the process ends."""
    key = (sky, imaging)
    with _RUNNING_LOCK:
        if key not in _RUNNING:
            _RUNNING[key] = HipsStandIn(SyntheticHips(sky, imaging))
        return _RUNNING[key]


def _refusal(title: str, description: str) -> tuple[int, str, bytes]:
    return 400, "application/json", json.dumps({"title": title, "description": description}).encode()


def _handler(hips: SyntheticHips) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            self._reply(parts.path, dict(parse_qsl(parts.query)))

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            self._reply(parts.path, dict(parse_qsl(parts.query)) | dict(parse_qsl(form)))

        def _reply(self, path: str, parameters: dict[str, str]) -> None:
            if path.rstrip("/") != HIPS2FITS_PATH:
                self.send_error(404)
                return
            status, content_type, body = hips.answer(parameters)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:
            pass

    return Handler
