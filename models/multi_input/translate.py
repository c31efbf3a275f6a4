"""``galtk translate --method pix2pix-multi``: one FITS cutout per input survey in, the target survey out.

Each input file holds one survey's cutout of the object: a cube of its bands (in the survey's band order, the
primary HDU or the first image extension) with a celestial WCS. Which survey a file is comes from its
``SURVEY`` keyword, else from a token of its name (``ngc1234_galex.fits``); every input survey of the run
needs exactly one file (a directory is read as its ``*.fits`` files).

Units: ``BUNIT`` absent or equal to the survey's unit means the survey's unit (what ``galtk fetch`` stores);
``BUNIT`` equal to the unit of the survey's HiPS (``counts/s`` for GALEX...) means values as hips2fits serves
them, converted per band as ``galtk fetch`` does (``SurveySpec.hips_factors`` at the file's pixel scale).

Each input is then prepared as in training (:mod:`galtk.models.training.batches.survey_pairs`): nanomaggies
(or, for a survey that is not calibrated, its own noise units), resampled bilinearly onto the target's cutout
grid centred on the first input's centre (``reproject``), times the ratio of pixel areas for a calibrated
survey, signed square root, concatenated. The target cube is written north up with WCS, in the target
survey's unit, with galtk's provenance keywords (``METHOD``, ``CKPTSHA``, ``INPUT``, ``DIRECTN``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning
from astropy.wcs.utils import proj_plane_pixel_scales

from galtk.errors import TranslationError
from galtk.models.multi_input.translator import MultiInputTranslator
from galtk.models.training.batches.survey_pairs import survey_pixels
from galtk.models.translation.translated_fits import write_translated
from galtk.pipeline.geometry import cutout_wcs
from galtk.pipeline.preprocess.transforms import inverse_signed_sqrt, signed_sqrt
from galtk.pipeline.surveys import SurveySpec


def assign_inputs(paths: Sequence[str | Path], surveys: Sequence[str]) -> dict[str, Path]:
    """Which file is which input survey: its ``SURVEY`` keyword, else a token of its file name.

    Raises
    ------
    TranslationError
        If a file matches no survey or several, a survey has no file or several, or a path does not exist.
    """
    files: list[Path] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.name.lower().endswith((".fits", ".fits.gz"))))
        elif path.is_file():
            files.append(path)
        else:
            raise TranslationError(f"{path} does not exist")
    assigned: dict[str, Path] = {}
    for path in files:
        name = _survey_of(path, surveys)
        if name in assigned:
            raise TranslationError(f"two inputs of {name}: {assigned[name]} and {path}")
        assigned[name] = path
    missing = [name for name in surveys if name not in assigned]
    if missing:
        raise TranslationError(
            f"no input for {', '.join(missing)}: give one FITS cutout per input survey "
            f"({', '.join(surveys)}), named by its SURVEY keyword or a token of its file name"
        )
    return assigned


def _survey_of(path: Path, surveys: Sequence[str]) -> str:
    try:
        keyword = str(fits.getval(path, "SURVEY", ext=0)).strip().lower()
    except (KeyError, OSError):
        keyword = ""
    lowered = {name.lower(): name for name in surveys}
    if keyword in lowered:
        return lowered[keyword]
    tokens = set(re.split(r"[^a-z0-9]+", path.name.lower()))
    found = [name for key, name in lowered.items() if key in tokens]
    if len(found) != 1:
        raise TranslationError(
            f"{path}: cannot tell which of {', '.join(surveys)} it is (no SURVEY keyword naming one, "
            f"{'several' if found else 'no'} survey name among the tokens of its file name)"
        )
    return found[0]


def read_input(
    path: Path, spec: SurveySpec, noise_sigma: Sequence[float] | None = None
) -> tuple[np.ndarray, WCS, float]:
    """A survey's cutout cube in :func:`survey_pixels` units, its celestial WCS and pixel scale (arcsec).

    ``noise_sigma`` is the run's noise per band of an uncalibrated survey (see :func:`survey_pixels`).

    Raises
    ------
    TranslationError
        If the file has no image of the survey's bands, no celestial WCS, or an unknown ``BUNIT``.
    """
    import warnings

    try:
        with fits.open(path) as hdus:
            hdu = next((h for h in hdus if h.is_image and h.data is not None and h.data.ndim in (2, 3)), None)
            if hdu is None:
                raise TranslationError(f"{path}: no 2-D or 3-D image")
            data = np.asarray(hdu.data, dtype=np.float64)
            header = hdu.header.copy()
    except OSError as error:
        raise TranslationError(f"{path}: not a readable FITS file ({error})") from None
    cube = data[None] if data.ndim == 2 else data
    if cube.shape[0] != len(spec.bands):
        raise TranslationError(
            f"{path}: {cube.shape[0]} planes, but {spec.name} has {len(spec.bands)} bands "
            f"({', '.join(spec.bands)}, in that order)"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        wcs = WCS(header, naxis=2)
    if not wcs.has_celestial:
        raise TranslationError(f"{path}: no celestial WCS")
    scale = float(np.mean(proj_plane_pixel_scales(wcs.celestial))) * 3600.0
    unit = str(header.get("BUNIT", "")).strip()
    if unit and unit.lower() != spec.unit.lower():
        hips = spec.hips
        if hips is None or unit.lower() != hips.unit.lower():
            known = spec.unit + (f" or its HiPS unit {hips.unit}" if hips is not None else "")
            raise TranslationError(f"{path}: BUNIT {unit!r} is not {spec.name}'s unit ({known})")
        import dataclasses

        factors = dataclasses.replace(spec, pixel_scale=scale).hips_factors()
        cube = cube * np.asarray(factors)[:, None, None]
    return survey_pixels(cube[None], spec, noise_sigma)[0], wcs, scale


def translate_files(
    translator: MultiInputTranslator,
    specs: Mapping[str, SurveySpec],
    paths: Sequence[str | Path],
    output: Path,
    *,
    overwrite: bool = False,
) -> Path:
    """Translate one object's input cutouts into the run's target survey and write ``output``.

    Raises
    ------
    TranslationError
        If an input is missing, unreadable, or does not cover the target grid.
    OutputExists
        If ``output`` exists and ``overwrite`` is false.
    """
    from reproject import reproject_interp

    target = specs[translator.target]
    assigned = assign_inputs(paths, translator.inputs)
    first = assigned[translator.inputs[0]]
    planes = []
    grid = None
    for name in translator.inputs:
        spec = specs[name]
        scales = translator.noise_scales
        sigma = scales.get(name) if scales is not None and not spec.calibrated else None
        if scales is not None and not spec.calibrated and sigma is None:
            raise TranslationError(f"{translator.run} recorded no noise scale of the uncalibrated {name}")
        cube, wcs, scale = read_input(assigned[name], spec, sigma)
        if grid is None:
            height, width = cube.shape[-2:]
            centre = wcs.celestial.pixel_to_world_values((width - 1) / 2, (height - 1) / 2)
            ra, dec = (float(value) for value in centre)
            grid = cutout_wcs(ra, dec, target.pixel_scale, target.cutout_size)
        shape = (target.cutout_size, target.cutout_size)
        for band, plane in zip(spec.bands, cube, strict=True):
            regridded, _ = reproject_interp((plane, wcs.celestial), grid, shape_out=shape, order="bilinear")
            if not np.isfinite(regridded).all():
                raise TranslationError(
                    f"{assigned[name]}: its {band} band does not cover the {target.name} cutout "
                    f'({target.cutout_arcsec:.1f}" around the centre of {first.name})'
                )
            if spec.calibrated:
                regridded *= (target.pixel_scale / scale) ** 2
            planes.append(regridded)
    inputs = signed_sqrt(np.stack(planes)[None].astype(np.float32))
    nanomaggies = inverse_signed_sqrt(translator.translate(inputs))[0]
    cube = nanomaggies / (target.nanomaggies_per_unit if target.calibrated else 1.0)
    centre = SkyCoord(*grid.wcs.crval, unit="deg", frame="icrs")
    return write_translated(
        output,
        cube.astype(np.float32),
        survey=target,
        centre=centre,
        bands=target.bands,
        provenance={
            "method": "pix2pix-multi",
            "checkpoint_sha256": translator.checkpoint_sha256,
            "checkpoint": translator.checkpoint.name,
            "input": ", ".join(assigned[name].name for name in translator.inputs),
        },
        overwrite=overwrite,
        direction=f"{'+'.join(translator.inputs)}->{translator.target}",
    )
