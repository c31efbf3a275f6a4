"""Translating with a trained checkpoint: transforms, noise seeds, regridded methods, refused checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from astropy.io import fits
from astropy.wcs import WCS
from scipy.stats import ks_2samp
from survey_cutouts import survey_cutouts

from galtk.errors import MissingBands, TranslationError
from galtk.models.training.checkpoint import load_checkpoint, save_checkpoint
from galtk.models.translation import translator as translation
from galtk.models.translation.translator import (
    find_checkpoint,
    load_translator,
    sample_seeds,
    translate_hdulist,
)
from galtk.pipeline.geometry import cutout_wcs
from galtk.pipeline.preprocess.regrid import regrid_cutouts
from galtk.pipeline.preprocess.transforms import inverse_rescale, rescale
from galtk.pipeline.surveys import BANDS, CFHT, SDSS


@pytest.fixture(scope="module")
def ours(trained_workspace: Path):
    return load_translator(find_checkpoint(trained_workspace / "runs", method="ours"))


@pytest.fixture(scope="module")
def cyclegan(trained_workspace: Path):
    return load_translator(find_checkpoint(trained_workspace / "runs", method="cyclegan"))


def test_the_latest_ours_checkpoint_is_step2_with_both_noise_emulators(ours) -> None:
    assert ours.method == "ours" and ours.bands == BANDS
    assert ours.checkpoint.parent.name == "step2"
    assert ours.has_noise_emulators and ours.is_stochastic and ours.cfht_array == "rescaled"
    assert len(ours.checkpoint_sha256) == 64
    assert ours.checkpoint_sha256 == translation.file_sha256(ours.checkpoint)


def test_noiseless_output_is_the_generator_output_after_the_inverse_transforms(ours) -> None:
    images = survey_cutouts(SDSS)
    result = ours.translate(images, direction="sdss2cfht", seeds=[0, 1, 2], noise=False)
    with torch.no_grad():
        expected = ours._networks["G_XY"](torch.from_numpy(rescale(images, "sdss"))).numpy()
    np.testing.assert_array_equal(result.noiseless, inverse_rescale(expected, "cfht"))
    np.testing.assert_array_equal(result.images, result.noiseless)
    assert result.images.shape == (3, 5, 136, 136) and result.survey is CFHT
    assert result.pixel_scale == CFHT.pixel_scale


def test_noise_is_the_emulator_noise_of_each_seed_whatever_the_batch(ours) -> None:
    images = survey_cutouts(CFHT)
    whole = ours.translate(images, direction="cfht2sdss", seeds=[10, 11, 12])
    one_by_one = [ours.translate(images[k : k + 1], direction="cfht2sdss", seeds=[10 + k]) for k in range(3)]
    for k, alone in enumerate(one_by_one):
        np.testing.assert_allclose(alone.images[0], whole.images[k], rtol=1e-5, atol=1e-6)
    again = ours.translate(images, direction="cfht2sdss", seeds=[10, 11, 12], batch_size=2)
    np.testing.assert_allclose(again.images, whole.images, rtol=1e-5, atol=1e-6)
    # The noise in the rescaled domain is NE_X's, drawn from the seed alone.
    noise = rescale(whole.images, "sdss") - rescale(whole.noiseless, "sdss")
    emulator = ours._networks["NE_X"]
    with torch.no_grad():
        z1, z2 = emulator.draw_seeds(1, (64, 64), generator=torch.Generator().manual_seed(11))
        expected = emulator(z1, z2).numpy()[0]
    np.testing.assert_allclose(noise[1], expected, atol=2e-5)


def test_different_seeds_give_different_noise_of_the_same_statistics(ours) -> None:
    images = np.repeat(survey_cutouts(CFHT, 1), 200, axis=0)
    first = ours.translate(images, direction="cfht2sdss", seeds=list(range(200)))
    second = ours.translate(images, direction="cfht2sdss", seeds=list(range(1000, 1200)))
    noise_a = rescale(first.images, "sdss") - rescale(first.noiseless, "sdss")
    noise_b = rescale(second.images, "sdss") - rescale(second.noiseless, "sdss")
    assert not np.allclose(noise_a, noise_b)
    np.testing.assert_array_equal(first.noiseless, second.noiseless)
    # Each image's noise level follows its amplitude seed: the per-image levels of the two seed sets must
    # come from one distribution (two-sample Kolmogorov-Smirnov test per band), around a zero mean.
    levels_a, levels_b = noise_a.std(axis=(2, 3)), noise_b.std(axis=(2, 3))
    assert levels_a.min() > 0
    for band in range(5):
        assert ks_2samp(levels_a[:, band], levels_b[:, band]).pvalue > 1e-3
    np.testing.assert_allclose(noise_a.mean(axis=(0, 2, 3)), 0.0, atol=0.05 * levels_a.mean())
    # A doubled noise level is told apart.
    assert ks_2samp(levels_a[:, 0], 2 * levels_b[:, 0]).pvalue < 1e-6


def test_regridded_methods_translate_on_the_sdss_grid_and_keep_constant_units_exactly(cyclegan) -> None:
    assert cyclegan.cfht_array == "regridded" and not cyclegan.is_stochastic
    assert cyclegan.output_grid("sdss2cfht") == (CFHT, 64, SDSS.pixel_scale)
    images = survey_cutouts(CFHT, 2)
    result = cyclegan.translate(images, direction="cfht2sdss", seeds=[0, 1])
    regridded = regrid_cutouts(rescale(images, "cfht"), from_scale=0.186, to_scale=0.396, to_size=64)
    with torch.no_grad():
        expected = cyclegan._networks["G_YX"](torch.from_numpy(regridded)).numpy()
    np.testing.assert_allclose(result.images, inverse_rescale(expected, "sdss"), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(result.images, result.noiseless)
    # SDSS -> CFHT: flux per CFHT pixel area on the SDSS grid, times the pixel-area ratio.
    sdss_images = survey_cutouts(SDSS, 2)
    to_cfht = cyclegan.translate(sdss_images, direction="sdss2cfht", seeds=[0, 1])
    with torch.no_grad():
        raw = cyclegan._networks["G_XY"](torch.from_numpy(rescale(sdss_images, "sdss"))).numpy()
    area = (0.396 / 0.186) ** 2
    np.testing.assert_allclose(to_cfht.images, inverse_rescale(raw, "cfht") * area, rtol=1e-6, atol=1e-6)
    assert to_cfht.images.shape == (2, 5, 64, 64) and to_cfht.pixel_scale == SDSS.pixel_scale
    # Units: with the generator replaced by the identity, a constant CFHT image of c ADU comes back as
    # c / 1000 nanomaggies, through rescale, regridding and the inverse transforms.
    original = cyclegan._networks["G_YX"]
    cyclegan._networks["G_YX"] = torch.nn.Identity()
    try:
        for value in (0.0, 250.0, -40.0, 1.5e4):
            constant = np.full((1, 5, 136, 136), value, np.float32)
            out = cyclegan.translate(constant, direction="cfht2sdss", seeds=[0]).images
            np.testing.assert_allclose(out, value / 1000.0, rtol=2e-6, atol=1e-9)
    finally:
        cyclegan._networks["G_YX"] = original


def test_translate_checks_shapes_seeds_and_pixels(ours) -> None:
    with pytest.raises(TranslationError, match=r"needs images of shape \(N, 5, 64, 64\)"):
        ours.translate(survey_cutouts(CFHT, 1), direction="sdss2cfht", seeds=[0])
    with pytest.raises(TranslationError, match="2 seeds for 3 images"):
        ours.translate(survey_cutouts(SDSS), direction="sdss2cfht", seeds=[0, 1])
    bad = survey_cutouts(SDSS, 1)
    bad[0, 2, 5, 5] = np.nan
    with pytest.raises(TranslationError, match="NaN"):
        ours.translate(bad, direction="sdss2cfht", seeds=[0])
    with pytest.raises(TranslationError, match="unknown direction"):
        ours.translate(bad, direction="sdss2hsc", seeds=[0])


def test_checkpoints_of_another_method_bands_or_stage_are_refused(trained_workspace: Path, tmp_path) -> None:
    runs = trained_workspace / "runs"
    path = find_checkpoint(runs, method="ours")
    with pytest.raises(TranslationError, match="checkpoint of ours, not of pix2pix"):
        load_translator(path, method="pix2pix")
    assert load_translator(path, method="ours-step2").method == "ours"
    state = load_checkpoint(path)
    state["bands"] = ["g", "r", "i"]
    three = tmp_path / "three.pt"
    save_checkpoint(three, state)
    with pytest.raises(TranslationError, match="trained on bands g r i"):
        load_translator(three, bands=BANDS)
    step1 = sorted((runs / "ours" / "checkpoints" / "step1").glob("*.pt"))[-1]
    with pytest.raises(TranslationError, match="step1 stage, which trains no generator"):
        load_translator(step1)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(TranslationError):
        load_translator(junk)


def test_find_checkpoint_explains_what_is_missing(trained_workspace: Path, tmp_path) -> None:
    runs = trained_workspace / "runs"
    assert find_checkpoint(runs, run="ours") == find_checkpoint(runs, method="ours")
    assert find_checkpoint(runs, run=runs / "cyclegan").parent.name == "train"
    with pytest.raises(TranslationError, match="no run of pix2pix"):
        find_checkpoint(runs, method="pix2pix")
    with pytest.raises(TranslationError, match="--run nowhere"):
        find_checkpoint(runs, run="nowhere")
    with pytest.raises(TranslationError, match="no such file"):
        find_checkpoint(runs, checkpoint=tmp_path / "missing.pt")


def test_sample_seeds_are_consecutive_per_cutout_then_sample() -> None:
    assert sample_seeds(5, 2, 3) == [[5, 6, 7], [8, 9, 10]]
    with pytest.raises(TranslationError):
        sample_seeds(0, 1, 0)


def test_an_hdulist_in_memory_is_translated_with_its_wcs(ours) -> None:
    header = cutout_wcs(150.2, 2.3, SDSS.pixel_scale, 64).to_header()
    header["BUNIT"] = "nanomaggy"
    hdus = fits.HDUList([fits.PrimaryHDU(survey_cutouts(SDSS, 1)[0], header)])
    out = translate_hdulist(ours, hdus, seed=3, name="memory-galaxy")
    assert out[0].data.shape == (5, 136, 136)
    assert out[0].header["INPUT"] == "memory-galaxy" and out[0].header["SEED"] == 3
    centre = WCS(out[0].header).celestial.pixel_to_world(67.5, 67.5)
    assert abs(centre.ra.deg - 150.2) * 3600 < 0.05 and abs(centre.dec.deg - 2.3) * 3600 < 0.05
    four = fits.HDUList([fits.PrimaryHDU(survey_cutouts(SDSS, 1)[0][:4], header)])
    four[0].header["BANDS"] = "u,g,r,i"
    with pytest.raises(MissingBands, match=r"^memory-galaxy: no image of band"):
        translate_hdulist(ours, four, name="memory-galaxy")
