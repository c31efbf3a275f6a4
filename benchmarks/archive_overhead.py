"""Pieces shared by the archive-source overhead benchmarks (``sdss_overhead.py``, ``cfhtls_overhead.py``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from galtk.catalogs.files import ObjectCatalog


def objects_around(stars: Sequence[tuple[float, float]], n: int) -> ObjectCatalog:
    """``n`` objects (ids ``o0``..) within 4" of stars picked at random (seed 0) from ``stars`` (ra, dec)."""
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(stars), n)
    ra = np.array([stars[i][0] for i in picks]) + rng.uniform(-4, 4, n) / 3600
    dec = np.array([stars[i][1] for i in picks]) + rng.uniform(-4, 4, n) / 3600
    return ObjectCatalog(ids=np.array([f"o{i}" for i in range(n)], dtype=object), ra=ra, dec=dec)


def print_overhead_table(rows: Sequence[tuple[str, int, float]]) -> None:
    """Print (path, cutouts, seconds) rows with ms per object and the ratio to the last row (fits source)."""
    base = rows[-1][2] / max(rows[-1][1], 1)
    print(f"{'path':34} | {'cutouts':>7} | {'seconds':>7} | {'ms/object':>9} | {'x fits':>6}")
    for label, done, seconds in rows:
        per_object = seconds / max(done, 1)
        print(
            f"{label:34} | {done:>7} | {seconds:>7.2f} | {per_object * 1e3:>9.2f} | {per_object / base:>6.2f}"
        )
