"""Parameter counts and shapes of every network of every method (the data behind ``galtk models``)."""

import pytest

from galtk.errors import GaltkError
from galtk.models.summary import count_parameters, summarize

SPEC_COUNTS = {
    "Autoencoder": 2_162_501,
    "Generator SDSS->CFHT": 1_425_093,
    "Generator CFHT->SDSS": 1_019_269,
    "Generator SDSS->CFHT, pixel shuffle": 829_125,
    "Generator CFHT->SDSS, pixel shuffle": 644_485,
    "Noise Emulator": 22_010,
    "Discriminator (per band)": 3_859_845,
    "CycleGAN ResNet generator": 7_850_245,
    "PatchGAN discriminator": 2_766_785,
    "AugCGAN generator (CIN)": 8_095_237,
    "AugCGAN latent encoder": 3_931_232,
    "AugCGAN latent discriminator": 10_497,
    "U-Net generator (pix2pix)": 29_247_877,
    "Conditional PatchGAN (pix2pix)": 2_771_905,
}
"""SPEC section 4's counts, and those of GalaxyGAN's pix2pix networks (their formula: test_pix2pix.py)."""


def test_every_row_matches_spec_section_4() -> None:
    rows = summarize()
    assert len(rows) == 8 + 4 * 5 + 6 + 4 + 8 + 2 + 2  # ..., galaxygan, pix2pix-multi
    assert {row.network for row in rows} == set(SPEC_COUNTS)
    for row in rows:
        assert row.parameters.stored == SPEC_COUNTS[row.network] == row.spec_parameters
        expected_free = 21_815 if row.network == "Noise Emulator" else row.parameters.stored
        assert row.parameters.free == expected_free


def test_one_method_by_alias() -> None:
    rows = summarize("h")
    assert {row.method for row in rows} == {"augcgan"}
    assert [row.role for row in rows][:2] == ["G_XY", "G_YX"]
    assert rows[0].inputs == ("(B, 5, 64, 64)", "(B, 32)")


def test_other_band_counts_and_widths() -> None:
    rows = summarize("ours", bands=3, width=0.5)
    assert all(row.spec_parameters is None for row in rows)
    assert rows[0].inputs == ("(B, 3, 64, 64)",)
    assert rows[0].parameters.stored < 2_162_501
    assert count_parameters("noise-emulator", 3, 1.0).free == 3 * 4_353 + 30


def test_unknown_method() -> None:
    with pytest.raises(GaltkError, match="known methods"):
        summarize("nope")
