"""Translating cutouts with a trained model: checkpoint lookup, networks, transforms and emulated noise.

A :class:`Translator` holds the generators of a finished (or partly finished) training run and, for the
methods that have them (``ours``, ``ours-step2``, ``ours-auto``), the Noise Emulators of both surveys. For a
batch of cutouts on the input survey's grid, in its physical unit, :meth:`Translator.translate`:

1. applies the forward transforms of SPEC section 3 (unit to nanomaggies, signed square root) and, for the
   methods trained on regridded CFHT images (``cyclegan``, ``augcgan``), regrids CFHT inputs onto the SDSS
   grid;
2. runs the generator of the direction (``G_XY`` SDSS -> CFHT, ``G_YX`` CFHT -> SDSS);
3. adds noise from the target survey's Noise Emulator (or, for AugCGAN, draws the latent code), seeded per
   output image, so that an output is reproduced by its seed alone;
4. returns the result to the target survey's unit with the exact inverse transforms (for the regridded
   methods' CFHT outputs, also from flux per CFHT pixel area to flux per output pixel).

Methods without a Noise Emulator (the GAN baselines) produce their noise through the generator itself: their
translation is the generator output, and the noiseless component is the same image.

Seeds: every output image ``k`` of a call gets its own seed ``seeds[k]``; its noise (or latent code) is drawn
from a ``torch.Generator`` seeded with it on the CPU, so the result does not depend on the batch it was
translated in, nor on the device.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from astropy.io import fits
from torch import nn

from galtk.errors import CheckpointError, GaltkError, InputCutoutError, TranslationError
from galtk.models.methods import METHODS, build_networks, resolve_method, same_networks
from galtk.models.networks.augcgan import LATENT_DIM
from galtk.models.training.checkpoint import checkpoint_holding, load_checkpoint
from galtk.models.training.run import SNAPSHOT_NAME, latest_run
from galtk.models.translation.cutout_fits import InputCutout, read_cutout
from galtk.models.translation.cutout_survey import CFHT_TO_SDSS, DIRECTIONS, SDSS_TO_CFHT
from galtk.models.translation.translated_fits import translated_hdulist
from galtk.pipeline.preprocess.regrid import regrid_to_training_grid, training_grid
from galtk.pipeline.preprocess.transforms import inverse_rescale, rescale
from galtk.pipeline.surveys import SurveySpec, get_survey

log = logging.getLogger(__name__)

#: Generator role of each direction.
GENERATOR_OF_DIRECTION: dict[str, str] = {SDSS_TO_CFHT: "G_XY", CFHT_TO_SDSS: "G_YX"}
#: Noise Emulator role of each target survey.
NOISE_EMULATOR_OF_SURVEY: dict[str, str] = {"sdss": "NE_X", "cfht": "NE_Y"}


@dataclass(frozen=True)
class Translation:
    """The translations of a batch of cutouts, in the target survey's unit.

    Attributes
    ----------
    images : ndarray, shape (N, C, H, W), float32
        Translations with emulated noise (or the generator output, for methods without a Noise Emulator).
    noiseless : ndarray, shape (N, C, H, W), float32
        The same without emulated noise (equal to ``images`` for methods without a Noise Emulator).
    survey : SurveySpec
        Target survey (its unit is the pixel unit of both arrays).
    pixel_scale : float
        Pixel scale of the output grid in arcsec (the SDSS scale for CFHT outputs of the regridded methods).
    seeds : tuple of int
        Seed of each output image.
    """

    images: np.ndarray
    noiseless: np.ndarray
    survey: SurveySpec
    pixel_scale: float
    seeds: tuple[int, ...]


class Translator:
    """The translation networks of one checkpoint, ready to translate in either direction.

    Build one with :func:`load_translator`.

    Attributes
    ----------
    method : str
        Canonical method name of the run (``"ours"``, ``"pix2pix"``, ...).
    checkpoint : Path
        The checkpoint file.
    checkpoint_sha256 : str
        SHA-256 of that file (64 hex digits).
    bands : tuple of str
        Bands the networks were trained on, in channel order.
    width : float
        Network width of the run.
    cfht_array : str
        ``"rescaled"`` (CFHT images on their own 136 px grid) or ``"regridded"`` (CFHT images regridded onto
        the SDSS grid, methods ``cyclegan`` and ``augcgan``).
    device : torch.device
        Where the networks run.
    iteration, stage_iterations : int
        Iterations done in the checkpoint's stage, and the stage's planned total.
    stage : str
        Training stage of the checkpoint (``"step2"``, ``"train"``...; empty when not known).
    """

    def __init__(
        self,
        *,
        method: str,
        checkpoint: Path,
        checkpoint_sha256: str,
        bands: tuple[str, ...],
        width: float,
        cfht_array: str,
        networks: dict[str, nn.Module],
        device: torch.device,
        iteration: int,
        stage_iterations: int,
        stage: str = "",
    ) -> None:
        self.method = method
        self.checkpoint = checkpoint
        self.checkpoint_sha256 = checkpoint_sha256
        self.bands = bands
        self.width = width
        self.cfht_array = cfht_array
        self.device = device
        self.iteration = iteration
        self.stage_iterations = stage_iterations
        self.stage = stage
        self._networks = networks

    @property
    def run_directory(self) -> Path | None:
        """The run directory of a checkpoint at ``RUN/checkpoints/STAGE/FILE`` (absolute), else None."""
        parts = self.checkpoint.parts
        if len(parts) >= 4 and parts[-3] == "checkpoints":
            return self.checkpoint.parents[2].resolve()
        return None

    def identity(self) -> dict[str, str | int | float | None]:
        """What names the model: method, run, checkpoint file and digest, stage, iterations and width.

        Returns
        -------
        dict
            ``method``, ``run`` (run directory name) and ``run_directory`` (None for a checkpoint outside a
            run directory), ``checkpoint`` (file name), ``checkpoint_sha256``, ``stage``, ``iteration``
            (iterations of that stage trained), ``stage_iterations`` (planned) and ``width``.
        """
        run = self.run_directory
        return {
            "method": self.method,
            "run": run.name if run is not None else None,
            "run_directory": str(run) if run is not None else None,
            "checkpoint": self.checkpoint.name,
            "checkpoint_sha256": self.checkpoint_sha256,
            "stage": self.stage or None,
            "iteration": self.iteration,
            "stage_iterations": self.stage_iterations,
            "width": self.width,
        }

    @property
    def has_noise_emulators(self) -> bool:
        """True when the method adds Noise Emulator noise to its generator outputs."""
        return all(role in self._networks for role in NOISE_EMULATOR_OF_SURVEY.values())

    @property
    def draws_latent_codes(self) -> bool:
        """True when the generators take a latent code drawn per seed (AugCGAN, see the method table)."""
        return resolve_method(self.method).latent_codes

    @property
    def is_stochastic(self) -> bool:
        """True when different seeds give different translations (Noise Emulators or AugCGAN codes)."""
        return self.has_noise_emulators or self.draws_latent_codes

    def output_grid(self, direction: str) -> tuple[SurveySpec, int, float]:
        """Target survey, output size in pixels and pixel scale (arcsec) of a direction.

        Parameters
        ----------
        direction : str
            ``"sdss2cfht"`` or ``"cfht2sdss"``.

        Returns
        -------
        tuple
            ``(survey, size, pixel_scale)``.
        """
        target = get_survey(_check_direction(direction)[1])
        grid = training_grid().get(target.name)
        if grid is not None and self.cfht_array == "regridded":
            return target, grid.size, grid.pixel_scale
        return target, target.cutout_size, target.pixel_scale

    def output_flux_factor(self, direction: str) -> float:
        """Factor from the networks' pixel values to flux per output pixel: 1, or the pixel-area ratio.

        The regridded methods were trained on CFHT images regridded onto the SDSS grid, where regridding
        interpolates pixel values: their CFHT outputs hold flux per CFHT pixel area. They are multiplied by
        ``(0.396 / 0.186)**2`` so that each output pixel holds the flux it covers (pixel sums are fluxes).
        """
        target, _, scale = self.output_grid(direction)
        return (scale / target.pixel_scale) ** 2

    def translate(
        self,
        images: np.ndarray,
        *,
        direction: str,
        seeds: Sequence[int],
        units: str | None = None,
        noise: bool = True,
        batch_size: int = 64,
    ) -> Translation:
        """Translate cutouts of the input survey (see the module docstring for the steps).

        Parameters
        ----------
        images : ndarray, shape (N, C, H, W)
            Cutouts on the input survey's grid (64x64 SDSS, 136x136 CFHT), bands in :attr:`bands` order.
        direction : str
            ``"sdss2cfht"`` or ``"cfht2sdss"``.
        seeds : sequence of int
            One seed per image, for its noise (or latent code).
        units : str, optional
            Pixel unit of ``images`` (``"nanomaggy"``, ``"adu_zp30"``); default: the input survey's.
        noise : bool
            Add emulated noise; ``False`` gives the noiseless component (for AugCGAN, the code z = 0).
        batch_size : int
            Images per forward pass.

        Returns
        -------
        Translation

        Raises
        ------
        TranslationError
            If the images do not fit the networks (shape, band count, non-finite pixels) or the seeds do not
            match the images.
        """
        source_name, _ = _check_direction(direction)
        source = get_survey(source_name)
        target, size, scale = self.output_grid(direction)
        data = np.asarray(images, dtype=np.float32)
        expected = (len(self.bands), source.cutout_size, source.cutout_size)
        if data.ndim != 4 or data.shape[1:] != expected:
            raise TranslationError(
                f"{direction} needs images of shape (N, {', '.join(map(str, expected))}), got {data.shape}"
            )
        if len(seeds) != len(data):
            raise TranslationError(f"{len(seeds)} seeds for {len(data)} images")
        if not np.isfinite(data).all():
            raise TranslationError("the images hold NaN or infinite pixels")
        rescaled = rescale(data, units or source.unit)
        if self.cfht_array == "regridded":
            rescaled = regrid_to_training_grid(rescaled, source)
        generator = self._networks[GENERATOR_OF_DIRECTION[direction]]
        emulator = self._networks.get(NOISE_EMULATOR_OF_SURVEY[target.name])
        noisy_out = np.empty((len(data), len(self.bands), size, size), np.float32)
        clean_out = np.empty_like(noisy_out)
        for start in range(0, len(data), batch_size):
            stop = min(start + batch_size, len(data))
            batch = torch.from_numpy(np.ascontiguousarray(rescaled[start:stop])).to(self.device)
            batch_seeds = seeds[start:stop]
            with torch.inference_mode():
                if self.draws_latent_codes:
                    clean = generator(batch, torch.zeros(len(batch_seeds), LATENT_DIM, device=self.device))
                    noisy = generator(batch, _latent_codes(batch_seeds).to(self.device)) if noise else clean
                else:
                    clean = generator(batch)
                    noisy = clean
                    if emulator is not None and noise:
                        noisy = clean + _emulated_noise(emulator, batch_seeds, (size, size)).to(self.device)
            clean_out[start:stop] = clean.float().cpu().numpy()
            noisy_out[start:stop] = noisy.float().cpu().numpy()
        factor = np.float32(self.output_flux_factor(direction))
        return Translation(
            images=inverse_rescale(noisy_out, target.unit) * factor,
            noiseless=inverse_rescale(clean_out, target.unit) * factor,
            survey=target,
            pixel_scale=scale,
            seeds=tuple(int(seed) for seed in seeds),
        )


def _check_direction(direction: str) -> tuple[str, str]:
    try:
        return DIRECTIONS[direction]
    except KeyError:
        raise TranslationError(f"unknown direction {direction!r}; use {' or '.join(DIRECTIONS)}") from None


def _seeded(seed: int) -> torch.Generator:
    if not 0 <= seed < 2**63:
        raise TranslationError(f"seed {seed} is outside 0 .. 2**63 - 1")
    return torch.Generator().manual_seed(int(seed))


def _emulated_noise(emulator: nn.Module, seeds: Sequence[int], size: tuple[int, int]) -> torch.Tensor:
    """Noise of one image per seed: seeds z1, z2 drawn on the CPU from a generator seeded with it."""
    weights_device = next(emulator.parameters()).device
    drawn = [emulator.draw_seeds(1, size, generator=_seeded(seed), device="cpu") for seed in seeds]
    z1 = torch.cat([pair[0] for pair in drawn]).to(weights_device)
    z2 = torch.cat([pair[1] for pair in drawn]).to(weights_device)
    return emulator(z1, z2)


def _latent_codes(seeds: Sequence[int]) -> torch.Tensor:
    return torch.cat([torch.randn(1, LATENT_DIM, generator=_seeded(seed)) for seed in seeds])


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's content, as 64 lower-case hex digits."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_checkpoint(
    runs: Path,
    *,
    method: str | None = None,
    run: str | Path | None = None,
    checkpoint: str | Path | None = None,
) -> Path:
    """The checkpoint to translate with: given, the newest of a run, or of the latest run of a method.

    For a run, the newest readable checkpoint of its last stage that holds generators is used (step 2 for
    ``ours``; a run of ``ours`` whose step 2 has not started has none).

    Parameters
    ----------
    runs : Path
        The workspace's runs directory (``[train] runs``).
    method : str, optional
        Method whose latest run is used (any alias), when neither ``run`` nor ``checkpoint`` is given.
    run : str or Path, optional
        A run directory, or its name under ``runs``.
    checkpoint : str or Path, optional
        A checkpoint file.

    Returns
    -------
    Path

    Raises
    ------
    TranslationError
        If nothing usable is found, saying where it looked.
    """
    if checkpoint is not None:
        path = Path(checkpoint)
        if not path.is_file():
            raise TranslationError(f"--checkpoint {path}: no such file")
        return path
    if run is not None:
        root = run_directory(runs, run)
    else:
        name = resolve_method(method or "ours").name
        try:
            root = latest_run(runs, name)
        except GaltkError:
            raise TranslationError(
                f"no run of {name} under {runs}: train one with `galtk train --method {name}`, or name a"
                " run (--run) or a checkpoint file (--checkpoint)"
            ) from None
    found = checkpoint_holding(root, GENERATOR_OF_DIRECTION.values(), last_stage=True)
    if found is not None:
        return found
    raise TranslationError(
        f"run {root} has no checkpoint holding generators yet (ours translates after step 2 has started)"
    )


def run_directory(runs: Path, run: str | Path) -> Path:
    """The run directory ``--run`` names: a path holding ``run.json``, or a run's name under ``runs``.

    Raises
    ------
    TranslationError
        If neither holds a ``run.json``.
    """
    root = Path(run)
    if not (root / SNAPSHOT_NAME).is_file() and (runs / root / SNAPSHOT_NAME).is_file():
        root = runs / root
    if not (root / SNAPSHOT_NAME).is_file():
        raise TranslationError(f"--run {run}: no run directory (with {SNAPSHOT_NAME}) there or under {runs}")
    return root


def load_translator(
    path: str | Path,
    *,
    method: str | None = None,
    bands: Sequence[str] | None = None,
    device: str | torch.device = "cpu",
) -> Translator:
    """Load the translation networks of a checkpoint written by ``galtk train``.

    Parameters
    ----------
    path : str or Path
        Checkpoint file.
    method : str, optional
        Method the checkpoint must belong to (any alias); a checkpoint of another method is refused.
    bands : sequence of str, optional
        Bands the networks must have been trained on (e.g. ``("u", "g", "r", "i", "z")``).
    device : str or torch.device
        Where to run the networks.

    Returns
    -------
    Translator

    Raises
    ------
    TranslationError
        If the file is not a galtk checkpoint, belongs to another method or bands, or holds no generators.
    """
    path = Path(path)
    try:
        state = load_checkpoint(path)
    except CheckpointError as error:
        raise TranslationError(str(error)) from None
    stored_method = str(state.get("method", ""))
    if stored_method not in METHODS:
        raise TranslationError(f"{path} is not a galtk training checkpoint (no known method in it)")
    chosen = resolve_method(stored_method)
    if method is not None and not same_networks(method, chosen.name):
        raise TranslationError(
            f"{path} is a checkpoint of {chosen.name}, not of {resolve_method(method).name}"
        )
    stored_bands = tuple(state.get("bands", ()))
    if bands is not None and stored_bands != tuple(bands):
        raise TranslationError(
            f"{path} was trained on bands {' '.join(stored_bands)} ({len(stored_bands)}), the input has"
            f" {' '.join(bands)} ({len(bands)})"
        )
    weights = state["networks"]
    missing = [role for role in GENERATOR_OF_DIRECTION.values() if role not in weights]
    if missing:
        raise TranslationError(
            f"{path} holds no {', '.join(missing)}: it is a checkpoint of {chosen.name}'s"
            f" {state.get('stage', '?')} stage, which trains no generator"
        )
    width = float(state["width"])
    built = build_networks(chosen, bands=len(stored_bands), width=width, device=device)
    roles = [
        *GENERATOR_OF_DIRECTION.values(),
        *(r for r in NOISE_EMULATOR_OF_SURVEY.values() if r in weights),
    ]
    networks = {}
    for role in roles:
        if role not in built:
            continue
        try:
            built[role].load_state_dict(weights[role])
        except RuntimeError as error:
            first = str(error).strip().splitlines()[0]
            raise TranslationError(
                f"{role} of {path} does not fit {chosen.name}'s network: {first}"
            ) from None
        networks[role] = built[role].eval().requires_grad_(False)
    iteration, total = int(state.get("iteration", 0)), int(state.get("stage_iterations", 0))
    if iteration < total:
        log.warning("translating with %s, taken after %d of %d iterations", path.name, iteration, total)
    return Translator(
        method=chosen.name,
        checkpoint=path,
        checkpoint_sha256=file_sha256(path),
        bands=stored_bands,
        width=width,
        cfht_array=chosen.cfht_array,
        networks=networks,
        device=torch.device(device),
        iteration=iteration,
        stage_iterations=total,
        stage=str(state.get("stage", "")),
    )


def sample_seeds(seed: int, count: int, samples: int) -> list[list[int]]:
    """Seeds of ``samples`` outputs for each of ``count`` cutouts: consecutive from ``seed``.

    Output ``j`` of cutout ``i`` gets ``seed + i * samples + j``, so every output file's recorded seed
    reproduces it alone (``--seed SEED`` on that one input).

    Parameters
    ----------
    seed : int
        First seed.
    count : int
        Number of cutouts.
    samples : int
        Outputs per cutout.

    Returns
    -------
    list of list of int
    """
    if samples < 1:
        raise TranslationError(f"samples must be at least 1, got {samples}")
    if seed < 0 or seed + count * samples > 2**63:
        raise TranslationError(f"seed {seed} is outside 0 .. 2**63 - 1 for {count * samples} outputs")
    return [[seed + i * samples + j for j in range(samples)] for i in range(count)]


@dataclass(frozen=True)
class TranslatedCutout:
    """One translation of one input cutout, with what its FITS file records.

    Attributes
    ----------
    cutout : InputCutout
        The input.
    image, noiseless : ndarray, shape (C, H, W), float32
        The translation with and without emulated noise, in ``survey``'s unit.
    seed : int
        Seed of its noise.
    sample : int
        Index of this realisation among the input's (0 for the first).
    survey : SurveySpec
        Target survey.
    pixel_scale : float
        Pixel scale of the output grid in arcsec.
    """

    cutout: InputCutout
    image: np.ndarray
    noiseless: np.ndarray
    seed: int
    sample: int
    survey: SurveySpec
    pixel_scale: float

    def to_hdulist(self, translator: Translator, *, noiseless_extension: bool = False) -> fits.HDUList:
        """The output FITS HDUs (:func:`galtk.models.translation.translated_fits.translated_hdulist`)."""
        return translated_hdulist(
            self.image,
            survey=self.survey,
            centre=self.cutout.centre,
            bands=self.cutout.bands,
            provenance=self.provenance(translator),
            noiseless=self.noiseless if noiseless_extension else None,
            pixel_scale=self.pixel_scale,
        )

    def provenance(self, translator: Translator) -> dict[str, object]:
        """Provenance of the output file: method, checkpoint digest and name, seed, input, object."""
        values: dict[str, object] = {
            "method": translator.method,
            "checkpoint_sha256": translator.checkpoint_sha256,
            "checkpoint": translator.checkpoint.name,
            "seed": self.seed,
            "input": ", ".join(self.cutout.sources),
        }
        if self.cutout.object_id:
            values["object"] = self.cutout.object_id
        return values


def translate_cutouts(
    translator: Translator,
    cutouts: Sequence[InputCutout],
    seeds: Sequence[Sequence[int]],
    *,
    noise: bool = True,
    batch_size: int = 64,
) -> list[list[TranslatedCutout]]:
    """Translate input cutouts (each in its own direction and unit), one output per seed.

    Parameters
    ----------
    translator : Translator
        The model.
    cutouts : sequence of InputCutout
        Inputs from :func:`galtk.models.translation.cutout_fits.read_cutout` or
        :func:`galtk.models.translation.cutout_inputs.iter_inputs`.
    seeds : sequence of sequence of int
        The seeds of each cutout's outputs (:func:`sample_seeds`).
    noise : bool
        Add emulated noise.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    list of list of TranslatedCutout
        For each cutout, one translation per seed.

    Raises
    ------
    TranslationError
        If a cutout's bands differ from the model's.
    """
    if len(seeds) != len(cutouts):
        raise TranslationError(f"{len(seeds)} seed lists for {len(cutouts)} cutouts")
    groups: dict[tuple[str, str], list[int]] = {}
    for index, cutout in enumerate(cutouts):
        if tuple(cutout.bands) != translator.bands:
            raise TranslationError(
                f"{cutout.label}: bands {' '.join(cutout.bands)} differ from the model's"
                f" {' '.join(translator.bands)}"
            )
        groups.setdefault((cutout.direction, cutout.units), []).append(index)
    results: list[list[TranslatedCutout]] = [[] for _ in cutouts]
    for (direction, units), members in groups.items():
        jobs = [(index, sample) for index in members for sample in range(len(seeds[index]))]
        images = np.stack([cutouts[index].data for index, _ in jobs])
        job_seeds = [int(seeds[index][sample]) for index, sample in jobs]
        done = translator.translate(
            images, direction=direction, seeds=job_seeds, units=units, noise=noise, batch_size=batch_size
        )
        for row, (index, sample) in enumerate(jobs):
            results[index].append(
                TranslatedCutout(
                    cutout=cutouts[index],
                    image=done.images[row],
                    noiseless=done.noiseless[row],
                    seed=job_seeds[row],
                    sample=sample,
                    survey=done.survey,
                    pixel_scale=done.pixel_scale,
                )
            )
    return results


def translate_hdulist(
    translator: Translator,
    hdus: fits.HDUList,
    *,
    seed: int = 0,
    noise: bool = True,
    survey: str | None = None,
    units: str | None = None,
    noiseless_extension: bool = False,
    name: str = "<in memory>",
) -> fits.HDUList:
    """Translate a cutout held in memory as an astropy HDUList (a cube, or one HDU per band).

    The same rules as for files apply (:mod:`galtk.models.translation.cutout_fits`); messages name the input
    ``name``.

    Parameters
    ----------
    translator : Translator
        The model.
    hdus : astropy.io.fits.HDUList
        The cutout.
    seed : int
        Seed of the emulated noise.
    noise : bool
        Add emulated noise.
    survey : str, optional
        Input survey (``"sdss"``, ``"cfht"``), inferred when not given.
    units : str, optional
        Pixel unit of every band, overriding the headers.
    noiseless_extension : bool
        Add the ``NOISELESS`` extension.
    name : str
        How messages and the ``INPUT`` keyword name the input.

    Returns
    -------
    astropy.io.fits.HDUList
        The translated cutout, as :func:`galtk.models.translation.translated_fits.write_translated` writes it.

    Raises
    ------
    InputCutoutError
        If the cutout cannot be used, naming ``name``.
    TranslationError
        If the model cannot translate it.
    """
    with tempfile.TemporaryDirectory(prefix="galtk-translate-") as directory:
        path = Path(directory) / "input.fits"
        hdus.writeto(path)
        try:
            cutout = read_cutout(path, survey=survey, units=units)
        except InputCutoutError as error:
            raise type(error)(error.source.replace(str(path), name), error.problem) from None
    cutout = replace(cutout, label=name, sources=(name,))
    (translated,) = translate_cutouts(translator, [cutout], [[seed]], noise=noise)[0]
    return translated.to_hdulist(translator, noiseless_extension=noiseless_extension)
