"""A fake hips2fits service: renders on whatever WCS it is asked for, as the real one resamples.

By default every ``CDS/P/...`` HiPS shows two stars. Given a :class:`SyntheticHipsSky`, the HiPS of the
built-in surveys (``CDS/P/GALEXGR6_7/NUV``, ``CDS/P/2MASS/K``...) show the synthetic sky's galaxies as each
survey sees them: its wavelength, seeing, noise and native pixels, in its HiPS unit per native pixel,
resampled bilinearly onto the requested grid.
"""

from __future__ import annotations

import io
import json

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

PATH = "/hips-image-services/hips2fits"
STAR_FLUX = 50.0
STAR_SIGMA_ARCSEC = 0.6
STARS = {"a": (150.01, 2.01), "b": (150.02, 2.03)}
COVERAGE_DEC_MAX = 2.05  # the fake HiPS has no data north of this declination


def render(hips: str, header: dict) -> bytes:
    wcs = WCS(fits.Header(header))
    ny, nx = int(header["NAXIS2"]), int(header["NAXIS1"])
    scale = abs(float(header["CDELT2"])) * 3600.0
    sigma = STAR_SIGMA_ARCSEC / scale
    yy, xx = np.mgrid[:ny, :nx]
    image = np.zeros((ny, nx))
    weight = 1.0 + "ugriz".find(hips[-1]) * 0.1  # each band's HiPS a little brighter
    for ra, dec in STARS.values():
        x, y = wcs.world_to_pixel_values(ra, dec)
        image += (
            weight
            * STAR_FLUX
            / (2 * np.pi * sigma**2)
            * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2))
        )
    _, dec_grid = wcs.pixel_to_world_values(xx, yy)
    image[dec_grid > COVERAGE_DEC_MAX] = np.nan
    buffer = io.BytesIO()
    fits.PrimaryHDU(image.astype(np.float32), wcs.to_header()).writeto(buffer)
    return buffer.getvalue()


#: Zero point of the stand-in's values for HiPS that are not calibrated (real ones vary image to image).
UNCALIBRATED_ZEROPOINT = 25.0


class SyntheticHipsSky:
    """The synthetic sky served as the HiPS of every built-in survey.

    Parameters
    ----------
    sky, imaging : SimSkyParams, SimImagingParams
        The galaxies and the observing conditions (``noise_scale = 0``: noiseless HiPS).
    """

    def __init__(self, sky, imaging=None) -> None:
        from scipy.spatial import cKDTree

        from galtk.pipeline.geometry import unit_vectors
        from galtk.pipeline.surveys import PRESETS
        from galtk.pipeline.synthetic.source import SimSource

        self.source = SimSource(sky, imaging, kernel="bilinear")
        self.catalog = self.source.catalog
        self._tree = cKDTree(unit_vectors(self.catalog.ra, self.catalog.dec))
        self.bands = {
            hips_id: (spec, band)
            for spec in PRESETS.values()
            if spec.hips is not None
            for band, hips_id in zip(spec.bands, spec.hips.ids, strict=True)
        }

    def hips_value(self, hips: str) -> float:
        """Nanomaggies in one served unit per native pixel."""
        from galtk.pipeline.surveys import nanomaggies_per_count

        spec, band = self.bands[hips]
        if spec.hips.calibrated:
            return spec.hips.nanomaggies[spec.bands.index(band)]
        return nanomaggies_per_count(UNCALIBRATED_ZEROPOINT)

    def render(self, hips: str, header: dict) -> np.ndarray:
        """The HiPS ``hips`` on the grid of ``header``, around the catalog galaxy nearest its centre."""
        import dataclasses

        from reproject import reproject_interp

        from galtk.pipeline.geometry import cutout_wcs, unit_vectors
        from galtk.pipeline.sources.base import ObjectList
        from galtk.pipeline.surveys import with_bands

        spec, band = self.bands[hips]
        wcs = WCS(fits.Header(header))
        ny, nx = int(header["NAXIS2"]), int(header["NAXIS1"])
        ra, dec = (float(value) for value in wcs.pixel_to_world_values((nx - 1) / 2.0, (ny - 1) / 2.0))
        _, row = self._tree.query(unit_vectors(ra, dec))
        scale = abs(float(header["CDELT2"])) * 3600.0
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
        rendered = batch.images[0, 0].astype(np.float64) / self.hips_value(hips)
        image, _ = reproject_interp(
            (rendered, cutout_wcs(ra, dec, native, size, offset)), wcs, shape_out=(ny, nx), order="bilinear"
        )
        return image


class FakeHips2fits:
    """``requests`` lists every query; ``faults`` lists answers given (in turn) before normal ones."""

    def __init__(self, archive: object, sky: SyntheticHipsSky | None = None) -> None:
        self.sky = sky
        self.requests: list[dict[str, str]] = []
        self.faults: list[dict] = []
        archive.routes[PATH] = [self._answer]
        self.url = archive.url + PATH

    def _answer(self, parameters: dict[str, str]) -> dict:
        self.requests.append(parameters)
        if self.faults:
            return self.faults.pop(0)
        if not parameters.get("hips", "").startswith("CDS/P/"):
            title = {"title": "Bad request", "description": f"unknown HiPS {parameters.get('hips')}"}
            return {
                "status": 400,
                "body": json.dumps(title).encode(),
                "headers": {"Content-Type": "application/json"},
            }
        if parameters.get("format") != "fits" or "wcs" not in parameters:
            return {"status": 400, "body": b'{"title": "bad parameters"}'}
        header = json.loads(parameters["wcs"])
        if self.sky is not None and parameters["hips"] in self.sky.bands:
            image = self.sky.render(parameters["hips"], header)
            buffer = io.BytesIO()
            fits.PrimaryHDU(image.astype(np.float32), WCS(fits.Header(header)).to_header()).writeto(buffer)
            return {"body": buffer.getvalue()}
        return {"body": render(parameters["hips"], header)}
