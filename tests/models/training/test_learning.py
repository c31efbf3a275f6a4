"""ours-step1 learns the noise of the synthetic sky: the Noise Emulators' noise level against the true sigma.

The synthetic sky records the true background noise sigma of every image and band (``noise_sigma``, in the
survey's pixel unit: nanomaggies for SDSS, ZP30 ADU for CFHT). A workspace built by ``galtk init --sim``
(100 galaxies), ``fetch``, ``crossmatch`` and ``preprocess`` is trained with ``ours-step1`` at width 1/16 on
the CPU through the trainer (:func:`galtk.models.training.launch.prepare`); then, for each survey and band,
the median noise level the trained Noise Emulator emits is compared with the median true sigma of the
training images, taken to the rescaled domain the emulator works in.

What is compared, per survey and band:

- emitted: the pixel standard deviation of each of 256 emitted images, median over the images, against the
  true sigma: the median of ``noise_sigma`` over the images the trainer draws (every unpaired row and the
  train pairs), taken through the rescaling of SPEC section 3 (CFHT x 1e-3, then the signed square root):
  the standard deviation of ``rescale(sigma * z)`` for standard normal z, about ``sigma_nmgy / 2``. The
  truth is never shown to the trainer: it measures the noise on the images themselves.
- high-passed: the noise sigma of the emitted images as the discriminators see it (the MAD of the
  high-passed image over the filter's noise gain, :func:`galtk.models.evaluation.metrics.high_passed_sigma`),
  against the same measure on the rescaled training images themselves (median over images). The SDSS
  cutouts are resampled from rotated frames, so their noise is correlated: its high-passed sigma is about
  0.4 of its per-pixel sigma, and an emulator must emit that correlation, not white noise, to match both.

The acceptance point is emitted / true within 25 % in every band of both surveys, in both measures. It is
asserted for galtk's default ``[train] noise_emulator = "measured"`` (docs/methods.md): the emulators start
at the noise measured on the training images (its per-pixel sigma and its high-passed share), and learn at
``noise_lr_factor`` 0.05 of the learning rate. The paper's parametrisation (softplus amplitude, free filter
norm) is checked at what it reaches in a CPU budget: from 4-374 times off to at least twice closer in every
band, within a factor of 4 in 8 of the 10 (the synthetic sky rendered as frames, its SDSS noise correlated
by resampling; with the former white noise drawn on the cutouts: 3.7-380 times off to within a factor of 4
in all 10). What was found with it (seed 0, 2-core machine, CPU minutes of training, white noise), the
reasons for the ``measured`` option:

- At the paper's learning rate (1e-4) the emulators hardly move in a few hundred iterations: they start at
  0.2-0.6 (rescaled) against true sigmas of 0.012-0.057 (SDSS) and 0.0014-0.0054 (CFHT).
- At 3e-3 to 2e-2 they get within a factor of 2-3 in 100-300 iterations, then oscillate by factors of 2-3
  around the truth, and bands that overshoot collapse (amplitude -> 1e-5 deep in the softplus tail): 1-5 of
  the 10 bands end within 25 %; 3,900 iterations at 1e-3 (16 minutes) reach 5 of 10.
- The discriminators see only high-pass filtered images (Fig. 2 (g)), so the low-frequency part of the
  emitted spectrum is barely constrained: the filters K stay far from white (centre tap 1-57 % of ||K||_2)
  and an emulator can match the high-passed noise within 15 % while emitting 3 times the true pixel sigma.
- With ``measured`` but the full learning rate (2e-3) the filters change shape within 60 iterations at
  width 1/8: pixel sigma stays within 7 % (the filter is normalised) but the high-passed sigma moves to
  0.56-1.68 of the truth; at 0.05 of it every band stays within 6 % in both measures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from sim_workspaces import preprocessed_sim_workspace
from torch_threads import torch_on_one_thread

from galtk.models.evaluation.metrics import high_passed_sigma
from galtk.models.methods import build_networks, resolve_method
from galtk.models.networks.noise_emulator import NoiseEmulator
from galtk.models.training.batches.loader import StoreBatchSource
from galtk.models.training.batches.sources import StoreBatchSources
from galtk.models.training.launch import LaunchRequest, prepare
from galtk.models.training.settings import train_settings
from galtk.pipeline.preprocess.transforms import rescale
from galtk.pipeline.stores.cutout_store import CutoutStore
from galtk.pipeline.workspace import load_workspace, override_settings

TOLERANCE = 0.25
"""Largest accepted relative difference between the emitted and the true median noise sigma."""
LEARNED_FACTOR = 4.0
"""What the CPU run does reach: emitted / true within this factor either way in most bands."""
SETTINGS = {
    "method": "ours-step1",
    "width": 0.0625,
    "batch_size": 2,
    "batch_pairs": 2,
    "iterations": 150,
    "learning_rate": 2e-3,
    "lr_decay_every": 50,
    "lr_decay_factor": 2.0,
    "noise_emulator": "measured",
    "noise_lr_factor": 0.05,
    "device": "cpu",
    "sample_every": 0,
    "log_every": 50,
    "checkpoint_every": 150,
}
"""galtk's defaults for the emulators (measured, noise-weighted) at the demo's learning rates: width 1/16, two
images per set and iteration, 2e-3 halved every 50 iterations, the emulators at 0.05 of it."""
PAPER_SETTINGS = {
    **SETTINGS,
    "batch_size": 1,
    "batch_pairs": 1,
    "iterations": 360,
    "learning_rate": 5e-3,
    "lr_decay_every": 120,
    "noise_emulator": "paper",
    "content_loss": "mse",
    "generator_units": "rescaled",
    "noise_lr_factor": 1.0,
    "log_every": 60,
    "checkpoint_every": 360,
}
"""The paper's parametrisation: one image per set, a learning rate 50 times the paper's, halved every 120
iterations (the paper's 1e-4 hardly moves the emulators in a few hundred iterations)."""
CUDA_SETTINGS = {
    **PAPER_SETTINGS,
    "width": 0.25,
    "batch_size": 8,
    "batch_pairs": 8,
    "iterations": 6000,
    "learning_rate": 1e-3,
    "lr_decay_every": 2000,
    "lr_decay_factor": 5.0,
    "device": "cuda",
    "checkpoint_every": 6000,
}
"""The same check at a GPU budget: width 1/4, 8 images per set, 6,000 iterations from 1e-3 divided by 5 every
2,000 (the paper's schedule, 10 times shorter and 10 times faster); not yet run (no GPU was available)."""
NOISE_EMULATORS = {"sdss": "NE_X", "cfht": "NE_Y"}
EMITTED_IMAGES = 256


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def true_rescaled_sigma(paths: list[Path], survey: str) -> np.ndarray:
    """Median true noise sigma per band of one survey's training images, in the rescaled domain.

    Parameters
    ----------
    paths : list of Path
        The paired store, the unpaired SDSS store and the unpaired CFHT store (the cross-match outputs).
    survey : {"sdss", "cfht"}
        The survey.

    Returns
    -------
    ndarray, shape (bands,)
        Standard deviation of ``rescale(median sigma * z, survey)`` for standard normal z (about median
        sigma / 2 in nanomaggies), the median running over the images the trainer draws from: every row of
        the unpaired store and the train pairs.
    """
    data = StoreBatchSource.open(*paths)
    paired, unpaired = (paths[0] / survey, paths[1] if survey == "sdss" else paths[2])
    sigma = np.concatenate(
        [
            CutoutStore.open(unpaired).extra("noise_sigma")[data.rows(f"unpaired_{survey}")],
            CutoutStore.open(paired).extra("noise_sigma")[data.rows("train_pairs")],
        ]
    )
    z = np.random.default_rng(0).standard_normal(1_000_000)
    return np.array([rescale(value * z, survey).std() for value in np.median(sigma, axis=0)])


def emitted_sigma(noise_emulator: NoiseEmulator, size: int) -> np.ndarray:
    """Median over emitted images of each band's pixel standard deviation.

    Parameters
    ----------
    noise_emulator : NoiseEmulator
        A survey's emulator.
    size : int
        Side of the images it emits noise for.

    Returns
    -------
    ndarray, shape (bands,)
    """
    return _emitted_noise(noise_emulator, size).flatten(2).std(dim=2).median(dim=0).values.numpy()


def _emitted_noise(noise_emulator: NoiseEmulator, size: int) -> torch.Tensor:
    """The same ``EMITTED_IMAGES`` noise images for every measurement (seed 1)."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        return noise_emulator.sample(EMITTED_IMAGES, (size, size), generator=generator)


def emitted_high_passed_sigma(noise_emulator: NoiseEmulator, size: int) -> np.ndarray:
    """Median over emitted images of each band's high-passed noise sigma (what the discriminators see)."""
    return np.median(high_passed_sigma(_emitted_noise(noise_emulator, size).numpy()), axis=0)


def training_high_passed_sigma(paths: list[Path], survey: str) -> np.ndarray:
    """Median high-passed noise sigma per band of the rescaled images the trainer draws of a survey."""
    data = StoreBatchSource.open(*paths)
    paired, unpaired = (paths[0] / survey, paths[1] if survey == "sdss" else paths[2])
    images = np.concatenate(
        [
            np.asarray(CutoutStore.open(unpaired).array("rescaled"))[data.rows(f"unpaired_{survey}")],
            np.asarray(CutoutStore.open(paired).array("rescaled"))[data.rows("train_pairs")],
        ]
    )
    return np.median(high_passed_sigma(images), axis=0)


def amplitude_times_filter_norm(noise_emulator: NoiseEmulator) -> np.ndarray:
    """Median over seeds z1 of ``amplitude * ||K||_2`` per band: the emitted std, computed."""
    generator = torch.Generator().manual_seed(2)
    with torch.no_grad():
        amplitudes = noise_emulator.amplitudes(
            torch.randn(EMITTED_IMAGES, noise_emulator.bands, generator=generator)
        )
        norms = noise_emulator.kernels().flatten(1).norm(dim=1)
    return (amplitudes.median(dim=0).values * norms).numpy()


def _ratios(
    networks: dict[str, torch.nn.Module],
    truth: dict[str, np.ndarray],
    sizes: dict[str, int],
    measure: Callable[[NoiseEmulator, int], np.ndarray] = emitted_sigma,
) -> dict[str, np.ndarray]:
    """Emitted / true median noise sigma per band, by survey (pixel sigma, or ``measure``)."""
    return {
        survey: measure(networks[role], sizes[survey]) / truth[survey]
        for survey, role in NOISE_EMULATORS.items()
    }


@pytest.fixture(scope="module")
def learned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, np.ndarray]]:
    """Emitted / true noise sigma per survey and band after training ours-step1 with galtk's defaults."""
    with torch_on_one_thread():  # module scope comes before the per-test one-thread fixture
        return _learn(tmp_path_factory.mktemp("learning"), SETTINGS)


@pytest.fixture(scope="module")
def learned_as_in_the_paper(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, np.ndarray]]:
    """The same with the paper's parametrisation of the emulators, before and after training."""
    with torch_on_one_thread():
        return _learn(tmp_path_factory.mktemp("learning-paper"), PAPER_SETTINGS)


def _learn(directory: Path, overrides: dict[str, object]) -> dict[str, dict[str, np.ndarray]]:
    root = preprocessed_sim_workspace(directory / "ws")
    ws = load_workspace(root)
    crossmatch = ws.config.crossmatch
    paths = [ws.resolve(p) for p in (crossmatch.paired, crossmatch.unpaired_sdss, crossmatch.unpaired_cfht)]
    truth = {survey: true_rescaled_sigma(paths, survey) for survey in NOISE_EMULATORS}
    high_passed_truth = {survey: training_high_passed_sigma(paths, survey) for survey in NOISE_EMULATORS}
    sizes = {survey: CutoutStore.open(paths[0] / survey).array("rescaled").shape[-1] for survey in truth}
    settings = override_settings(train_settings(ws), **overrides)
    method = resolve_method(settings.method)

    torch.manual_seed(settings.seed)  # the trainer's initial weights of step 1
    untrained = build_networks(method, roles=method.stages[0].roles, width=settings.width)
    before = _ratios(untrained, truth, sizes)

    started = time.perf_counter()
    request = LaunchRequest(method, settings, overrides={}, runs=ws.resolve(settings.runs), name="learning")
    report = prepare(request, StoreBatchSources(*paths)).train()
    seconds = time.perf_counter() - started
    networks = {role: network.cpu() for role, network in report.stages[0].networks.items()}
    after = _ratios(networks, truth, sizes)
    after_high_passed = _ratios(networks, high_passed_truth, sizes, emitted_high_passed_sigma)
    print(
        f"ours-step1 ({settings.noise_emulator}), {settings.iterations} iterations in {seconds:.0f} s;"
        " emitted / true noise sigma:"
    )
    for survey, role in NOISE_EMULATORS.items():
        computed = amplitude_times_filter_norm(networks[role]) / truth[survey]
        print(
            f"  {survey}: measured {np.round(after[survey], 2)}, amplitude*||K|| {np.round(computed, 2)},"
            f" high-passed {np.round(after_high_passed[survey], 2)}"
        )
    return {"before": before, "after": after, "after_high_passed": after_high_passed}


@pytest.mark.slow
def test_ours_step1_learns_the_true_noise_sigma_of_every_band_within_25_percent(learned) -> None:
    """galtk's default: every band of both surveys within 25 % of the truth, pixel and high-passed sigma."""
    for key in ("after", "after_high_passed"):
        for survey, ratio in learned[key].items():
            assert np.all(np.abs(ratio - 1) <= TOLERANCE), f"{key} {survey}: {ratio}"


@pytest.mark.slow
def test_as_in_the_paper_ours_step1_brings_every_band_from_far_off_towards_the_truth(
    learned_as_in_the_paper,
) -> None:
    """The paper's parametrisation in a CPU budget: every band from 4-374 times off to at least twice closer,
    most within a factor of 4 (measured: SDSS 1.8-3.9, CFHT 1.4-49 times the truth)."""
    before, after = learned_as_in_the_paper["before"], learned_as_in_the_paper["after"]
    within = 0
    for survey, ratio in before.items():
        assert np.all(np.abs(ratio - 1) > TOLERANCE), f"untrained {survey} emulator passes: {ratio}"
        assert np.all((ratio > 3) | (ratio < 1 / 3)), f"untrained {survey} emulator is already close: {ratio}"
        error_before = np.abs(np.log(ratio))
        error_after = np.abs(np.log(after[survey]))
        assert np.all(error_after < error_before - np.log(2.0)), f"{survey}: {ratio} -> {after[survey]}"
        within += int(np.sum(error_after < np.log(LEARNED_FACTOR)))
    assert within >= 7, f"{within} of 10 bands within a factor of {LEARNED_FACTOR}: {after}"


@pytest.fixture(scope="module")
def learned_on_cuda(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, np.ndarray]]:
    """Emitted / true noise sigma before and after training ours-step1 on a CUDA device (once)."""
    return _learn(tmp_path_factory.mktemp("learning-cuda"), CUDA_SETTINGS)


@pytest.mark.slow
@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_ours_step1_learns_the_true_noise_sigma_of_every_band_within_25_percent(
    learned_on_cuda,
) -> None:
    for survey, ratio in learned_on_cuda["after"].items():
        assert np.all(np.abs(ratio - 1) <= TOLERANCE), f"{survey}: {ratio}"
