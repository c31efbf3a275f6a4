"""Positional cross-matching (one-to-one, mutual nearest) and the train/test split of the pairs.

:func:`match_positions` finds every pair of objects of two catalogs closer than a radius with astropy
(``SkyCoord.search_around_sky``), then keeps the pairs in which each object is the other's nearest
neighbour. Everything else within the radius is reported rather than silently dropped:

- a **tie**: an object whose two or more nearest candidates are equally far (duplicated rows); the tie is
  broken by the lower row index, so the result does not depend on the KD-tree;
- **many-to-one**: an object chosen as nearest neighbour by more than one object of the other catalog;
- **ambiguous** objects: objects with a candidate within the radius but no mutual-nearest partner (the losers
  of a many-to-one, usually duplicates or blends). They are neither paired nor "unmatched".

:func:`split_pairs` draws the test pairs with a seeded generator from pairs sorted by their identifiers, so
the split depends on the seed and the pairs only, not on row order; pairs that share an identifier (the same
galaxy listed twice) always land on the same side, so no object is ever in both the train and the test set.
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord, search_around_sky
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

#: Candidates whose separations differ by less than this are tied (arcsec).
TIE_TOLERANCE_ARCSEC = 1e-6


@dataclass(frozen=True)
class PositionalMatch:
    """Result of :func:`match_positions` (row indices into the two input catalogs).

    Attributes
    ----------
    index_a, index_b : ndarray of int
        Matched rows, sorted by ``index_a``.
    separation : ndarray of float
        Their separations in arcsec.
    candidates : int
        Pairs of objects closer than the radius.
    ties_a, ties_b : int
        Objects of catalog A (B) whose nearest candidates are tied.
    many_to_one_a, many_to_one_b : int
        Objects of catalog A (B) that are the nearest candidate of more than one object of the other catalog.
    ambiguous_a, ambiguous_b : ndarray of bool
        Objects with a candidate within the radius but no mutual-nearest partner.
    """

    index_a: np.ndarray
    index_b: np.ndarray
    separation: np.ndarray
    candidates: int
    ties_a: int
    ties_b: int
    many_to_one_a: int
    many_to_one_b: int
    ambiguous_a: np.ndarray
    ambiguous_b: np.ndarray

    def __len__(self) -> int:
        return len(self.index_a)


def match_positions(
    ra_a: np.ndarray, dec_a: np.ndarray, ra_b: np.ndarray, dec_b: np.ndarray, *, radius_arcsec: float
) -> PositionalMatch:
    """One-to-one cross-match of two catalogs: mutual nearest neighbours within a radius.

    Parameters
    ----------
    ra_a, dec_a, ra_b, dec_b : array_like
        Positions of the two catalogs in degrees (ICRS).
    radius_arcsec : float
        Largest separation of a pair.

    Returns
    -------
    PositionalMatch
    """
    if radius_arcsec <= 0:
        raise ValueError(f"radius_arcsec must be positive, got {radius_arcsec}")
    n_a, n_b = len(ra_a), len(ra_b)
    if n_a == 0 or n_b == 0:
        empty = np.zeros(0, dtype=np.int64)
        return PositionalMatch(
            empty, empty, np.zeros(0), 0, 0, 0, 0, 0, np.zeros(n_a, bool), np.zeros(n_b, bool)
        )
    coords_a = SkyCoord(ra=np.asarray(ra_a, float) * u.deg, dec=np.asarray(dec_a, float) * u.deg)
    coords_b = SkyCoord(ra=np.asarray(ra_b, float) * u.deg, dec=np.asarray(dec_b, float) * u.deg)
    cand_a, cand_b, separation, _ = search_around_sky(coords_a, coords_b, radius_arcsec * u.arcsec)
    cand_a, cand_b = cand_a.astype(np.int64), cand_b.astype(np.int64)
    separation = separation.to_value(u.arcsec)

    best_of_a, ties_a = _nearest(cand_a, cand_b, separation)
    best_of_b, ties_b = _nearest(cand_b, cand_a, separation)
    mutual = best_of_a & best_of_b
    order = np.argsort(cand_a[mutual], kind="stable")
    index_a, index_b = cand_a[mutual][order], cand_b[mutual][order]

    ambiguous_a = np.zeros(n_a, dtype=bool)
    ambiguous_a[cand_a] = True
    ambiguous_a[index_a] = False
    ambiguous_b = np.zeros(n_b, dtype=bool)
    ambiguous_b[cand_b] = True
    ambiguous_b[index_b] = False
    return PositionalMatch(
        index_a=index_a,
        index_b=index_b,
        separation=separation[mutual][order],
        candidates=len(cand_a),
        ties_a=ties_a,
        ties_b=ties_b,
        many_to_one_a=int(np.count_nonzero(np.bincount(cand_a[best_of_b], minlength=n_a) > 1)),
        many_to_one_b=int(np.count_nonzero(np.bincount(cand_b[best_of_a], minlength=n_b) > 1)),
        ambiguous_a=ambiguous_a,
        ambiguous_b=ambiguous_b,
    )


def _nearest(owner: np.ndarray, other: np.ndarray, separation: np.ndarray) -> tuple[np.ndarray, int]:
    """Flag each owner's nearest candidate (ties broken by the lower ``other`` index); count tied owners."""
    order = np.lexsort((other, separation, owner))
    owners, distances = owner[order], separation[order]
    first = np.r_[True, owners[1:] != owners[:-1]]
    best = np.zeros(len(order), dtype=bool)
    best[order[first]] = True
    second = np.r_[False, first[:-1]] & ~first
    tied = second & (distances - np.r_[distances[:1], distances[:-1]] <= TIE_TOLERANCE_ARCSEC)
    return best, int(np.count_nonzero(tied))


def split_pairs(
    keys_a: np.ndarray,
    keys_b: np.ndarray,
    *,
    n_test: int | None = None,
    test_fraction: float | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Choose the test pairs: seeded, independent of the pairs' order, never splitting an object.

    Parameters
    ----------
    keys_a, keys_b : array_like of str
        Identifiers of the two objects of each pair.
    n_test : int, optional
        Number of test pairs (reached exactly unless groups of pairs sharing an object prevent it).
    test_fraction : float, optional
        Fraction of test pairs (rounded to the nearest count); give this or ``n_test``.
    seed : int
        Seed of the draw.

    Returns
    -------
    ndarray of bool
        True for test pairs, in the order of the input.

    Raises
    ------
    ValueError
        If both or neither of ``n_test`` and ``test_fraction`` are given, or the split would leave the train
        or the test set empty.
    """
    keys_a = np.asarray(keys_a, dtype=str)
    keys_b = np.asarray(keys_b, dtype=str)
    n = len(keys_a)
    if (n_test is None) == (test_fraction is None):
        raise ValueError("give n_test or test_fraction")
    if test_fraction is not None:
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
        n_test = round(test_fraction * n)
    if not 0 < n_test < n:
        raise ValueError(
            f"cannot hold out {n_test} test pairs of {n}: the train and the test set each need a pair"
        )
    group = _groups(keys_a, keys_b)
    n_groups = int(group.max()) + 1
    # Rank groups by their smallest "key_a key_b" label, then shuffle with the seed: independent of row order.
    label = np.char.add(np.char.add(keys_a, "\x00"), keys_b)
    by_label = np.argsort(label, kind="stable")
    groups, first_position = np.unique(group[by_label], return_index=True)
    ranked = groups[np.argsort(first_position)]
    shuffled = ranked[np.random.default_rng(seed).permutation(n_groups)]
    sizes = np.bincount(group, minlength=n_groups)
    chosen = np.zeros(n_groups, dtype=bool)
    remaining = n_test
    for index in shuffled:
        if remaining == 0:
            break
        if sizes[index] <= remaining:
            chosen[index] = True
            remaining -= int(sizes[index])
    return chosen[group]


def _groups(keys_a: np.ndarray, keys_b: np.ndarray) -> np.ndarray:
    """Connected components of pairs linked by a shared identifier on either side."""
    n = len(keys_a)
    edges = []
    for keys in (keys_a, keys_b):
        _, first_index, inverse = np.unique(keys, return_index=True, return_inverse=True)
        edges.append(np.stack([np.arange(n), first_index[inverse]]))
    rows, cols = np.concatenate(edges, axis=1)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels
