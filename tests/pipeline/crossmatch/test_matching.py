"""Positional one-to-one matching against a brute-force astropy reference, and the train/test split."""

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord

from galtk.pipeline.crossmatch.matching import match_positions, split_pairs


def _offset(
    ra: np.ndarray, dec: np.ndarray, arcsec: float, angle_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    moved = SkyCoord(ra * u.deg, dec * u.deg).directional_offset_by(angle_deg * u.deg, arcsec * u.arcsec)
    return moved.ra.deg, moved.dec.deg


def _brute_force(ra_a, dec_a, ra_b, dec_b, radius: float) -> set[tuple[int, int]]:
    """Mutual nearest neighbours from the full separation matrix (independent of KD-trees)."""
    a = SkyCoord(ra_a * u.deg, dec_a * u.deg)
    b = SkyCoord(ra_b * u.deg, dec_b * u.deg)
    separation = a[:, None].separation(b[None, :]).arcsec
    nearest_b = separation.argmin(axis=1)
    nearest_a = separation.argmin(axis=0)
    return {(i, int(j)) for i, j in enumerate(nearest_b) if nearest_a[j] == i and separation[i, j] <= radius}


def test_known_answer_with_offsets_decoys_and_unmatched_objects() -> None:
    rng = np.random.default_rng(3)
    n = 50
    ra = 150 + rng.uniform(0, 0.2, n)
    dec = 2 + rng.uniform(0, 0.2, n)
    ra_b, dec_b = _offset(ra[:30], dec[:30], 0.4, rng.uniform(0, 360))  # 30 true pairs, 0.4" apart
    far_ra, far_dec = _offset(ra[30:35], dec[30:35], 1.6, 45.0)  # 5 beyond the radius
    ra_b, dec_b = np.r_[ra_b, far_ra], np.r_[dec_b, far_dec]
    match = match_positions(ra, dec, ra_b, dec_b, radius_arcsec=1.0)
    assert len(match) == 30 and match.candidates == 30
    np.testing.assert_array_equal(match.index_a, np.arange(30))
    np.testing.assert_array_equal(match.index_b, np.arange(30))
    np.testing.assert_allclose(match.separation, 0.4, atol=1e-6)
    assert not match.ambiguous_a.any() and not match.ambiguous_b.any()
    assert match.ties_a == match.ties_b == match.many_to_one_a == match.many_to_one_b == 0


def test_dense_random_catalogs_agree_with_the_brute_force_reference() -> None:
    rng = np.random.default_rng(11)
    ra_a, dec_a = 10 + rng.uniform(0, 0.02, 400), -5 + rng.uniform(0, 0.02, 400)
    ra_b, dec_b = 10 + rng.uniform(0, 0.02, 300), -5 + rng.uniform(0, 0.02, 300)
    match = match_positions(ra_a, dec_a, ra_b, dec_b, radius_arcsec=2.0)
    expected = _brute_force(ra_a, dec_a, ra_b, dec_b, 2.0)
    assert len(expected) > 20  # crowded enough for contested matches
    assert set(zip(match.index_a.tolist(), match.index_b.tolist(), strict=True)) == expected
    assert match.many_to_one_a + match.many_to_one_b > 0
    assert match.ambiguous_a.sum() + match.ambiguous_b.sum() > 0


def test_duplicates_give_one_pair_a_reported_tie_and_an_ambiguous_row() -> None:
    ra = np.array([150.0, 150.1, 150.2])
    dec = np.array([2.0, 2.0, 2.0])
    ra_b = np.array([150.0, 150.1, 150.1, 150.3])  # rows 1 and 2 of B are the same object twice
    dec_b = np.array([2.0, 2.0 + 0.2 / 3600, 2.0 + 0.2 / 3600, 2.0])
    match = match_positions(ra, dec, ra_b, dec_b, radius_arcsec=1.0)
    assert list(zip(match.index_a, match.index_b, strict=True)) == [(0, 0), (1, 1)]
    assert match.ties_a == 1  # A row 1 sees two equally near candidates; the lower row wins
    assert match.many_to_one_a == 1  # and it is the nearest of both B duplicates
    np.testing.assert_array_equal(match.ambiguous_b, [False, False, True, False])
    assert not match.ambiguous_a.any()
    swapped = match_positions(ra_b, dec_b, ra, dec, radius_arcsec=1.0)
    assert list(zip(swapped.index_a, swapped.index_b, strict=True)) == [(0, 0), (1, 1)]
    assert swapped.ties_b == 1 and swapped.many_to_one_b == 1


def test_empty_catalogs() -> None:
    match = match_positions(np.zeros(0), np.zeros(0), np.ones(3), np.ones(3), radius_arcsec=1.0)
    assert len(match) == 0 and match.ambiguous_b.shape == (3,)


def _keys(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.array([f"S{i:05d}" for i in range(n)]), np.array([f"C{i:05d}" for i in range(n)])


def test_split_is_deterministic_exact_and_independent_of_row_order() -> None:
    keys_a, keys_b = _keys(5057)
    test = split_pairs(keys_a, keys_b, n_test=2500, seed=0)
    assert test.sum() == 2500 and (~test).sum() == 2557  # the paper's split
    np.testing.assert_array_equal(split_pairs(keys_a, keys_b, n_test=2500, seed=0), test)
    assert not np.array_equal(split_pairs(keys_a, keys_b, n_test=2500, seed=1), test)
    order = np.random.default_rng(5).permutation(5057)
    np.testing.assert_array_equal(split_pairs(keys_a[order], keys_b[order], n_test=2500, seed=0), test[order])
    assert split_pairs(keys_a, keys_b, test_fraction=0.25, seed=0).sum() == 1264


def test_pairs_sharing_an_object_land_on_the_same_side() -> None:
    keys_a, keys_b = _keys(200)
    keys_a[100:110] = keys_a[0]  # one SDSS object paired ten more times
    keys_b[150:153] = keys_b[1]
    for seed in range(10):
        test = split_pairs(keys_a, keys_b, n_test=60, seed=seed)
        assert len(set(test[keys_a == keys_a[0]])) == 1
        assert len(set(test[keys_b == keys_b[1]])) == 1
        assert not set(keys_a[test]) & set(keys_a[~test])
        assert not set(keys_b[test]) & set(keys_b[~test])
        assert test.sum() == 60


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_test": 10}, "cannot hold out 10 test pairs of 10"),
        ({"n_test": 0}, "cannot hold out 0"),
        ({"test_fraction": 1.0}, "between 0 and 1"),
        ({}, "give n_test or test_fraction"),
        ({"n_test": 3, "test_fraction": 0.5}, "give n_test or test_fraction"),
    ],
)
def test_impossible_splits_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split_pairs(*_keys(10), **kwargs)
