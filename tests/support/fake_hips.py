"""A fake hips2fits service: renders on whatever WCS it is asked for, as the real one resamples.

By default every ``CDS/P/...`` HiPS shows two stars. Given a :class:`SyntheticHipsSky` (galtk's own
:class:`galtk.pipeline.synthetic.hips_service.SyntheticHips`), the HiPS of the built-in surveys
(``CDS/P/GALEXGR6_7/NUV``, ``CDS/P/2MASS/K``...) show the synthetic sky's galaxies as each survey sees them.
Unlike galtk's stand-in, this one records the requests and answers programmed faults first.
"""

from __future__ import annotations

import io
import json

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from galtk.pipeline.synthetic import hips_service

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


#: The stand-in's zero point of HiPS that are not calibrated, and the synthetic sky as every preset's HiPS.
UNCALIBRATED_ZEROPOINT = hips_service.UNCALIBRATED_ZEROPOINT
SyntheticHipsSky = hips_service.SyntheticHips


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
            image = self.sky.render(parameters["hips"], fits.Header(header))
            buffer = io.BytesIO()
            fits.PrimaryHDU(image.astype(np.float32), WCS(fits.Header(header)).to_header()).writeto(buffer)
            return {"body": buffer.getvalue()}
        return {"body": render(parameters["hips"], header)}
