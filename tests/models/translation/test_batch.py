"""The batch loop of ``galtk translate``: seeds, output names, collisions and skipped inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from survey_cutouts import survey_cutouts

from galtk.errors import GaltkError
from galtk.models.translation.batch import TranslateSettings, translate_inputs
from galtk.models.translation.cutout_inputs import iter_inputs
from galtk.models.translation.translator import Translator, find_checkpoint, load_translator
from galtk.pipeline.fits_headers import cutout_header
from galtk.pipeline.surveys import BANDS, SDSS

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def translator(trained_workspace: Path) -> Translator:
    return load_translator(find_checkpoint(trained_workspace / "runs", method="ours"), bands=BANDS)


def _sdss_files(directory: Path, count: int) -> list[Path]:
    """``count`` SDSS cubes written with galtk's own header rules."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, image in enumerate(survey_cutouts(SDSS, count)):
        centre = SkyCoord(150.0 + index / 60, 2.0, unit="deg")
        header = cutout_header(survey=SDSS, centre=centre, bands=BANDS, size=SDSS.cutout_size)
        path = directory / f"galaxy{index}.fits"
        fits.PrimaryHDU(image, header).writeto(path)
        paths.append(path)
    return paths


def test_every_output_gets_its_own_seed_and_name(translator: Translator, tmp_path: Path) -> None:
    inputs = _sdss_files(tmp_path / "in", 2)
    done: list[int] = []
    outcome = translate_inputs(
        translator,
        iter_inputs([str(path) for path in inputs]),
        settings=TranslateSettings(seed=7, samples=2, batch_size=1),
        directory=tmp_path / "out",
        advance=done.append,
    )
    names = [path.name for path in outcome.written]
    assert names == [f"galaxy{i}_cfht_s{s:02d}.fits" for i in (0, 1) for s in (0, 1)]
    seeds = [fits.getheader(path)["SEED"] for path in outcome.written]
    assert seeds == [7, 8, 9, 10] and outcome.skipped == [] and sum(done) == 2
    first, second = (fits.getdata(path) for path in outcome.written[:2])
    assert not np.array_equal(first, second)  # two noise realisations of one input


def test_inputs_that_cannot_be_written_are_skipped_and_listed(translator: Translator, tmp_path: Path) -> None:
    same_name = [*_sdss_files(tmp_path / "a", 1), *_sdss_files(tmp_path / "b", 1)]
    broken = tmp_path / "broken.fits"
    broken.write_text("not FITS")
    batch = iter_inputs([str(path) for path in [*same_name, broken]])
    outcome = translate_inputs(translator, batch, settings=TranslateSettings(), directory=tmp_path / "out")
    assert [path.name for path in outcome.written] == ["galaxy0_cfht.fits"]
    assert len(outcome.skipped) == 2
    assert outcome.skipped[0].startswith(str(broken))
    assert "is taken by another input" in outcome.skipped[1]
    again = translate_inputs(
        translator, iter_inputs([str(same_name[0])]), settings=TranslateSettings(), directory=tmp_path / "out"
    )
    assert again.written == [] and "already exists" in again.skipped[0]


def test_a_single_input_raises_instead_of_skipping(translator: Translator, tmp_path: Path) -> None:
    broken = tmp_path / "broken.fits"
    broken.write_text("not FITS")
    with pytest.raises(GaltkError, match=r"broken\.fits"):
        translate_inputs(translator, iter_inputs([str(broken)]), settings=TranslateSettings(), single=True)
