"""Cross-match benchmark: positions of survey size (660k SDSS x 130k CFHT), seconds and peak memory.

Catalogs like the paper's: 130,093 CFHT objects spread over 155 deg^2, and 659,821 SDSS objects of which 5,057
lie 0.1-0.5" from a CFHT object and the rest are spread over a 1,000 deg^2 area around it. Each measurement
runs in a fresh subprocess (so its peak RSS is its own) and is printed with its ratio to a single astropy
``SkyCoord.match_to_catalog_sky`` call on the same catalogs (the minimum any nearest-neighbour match costs):

- ``match_to_catalog_sky``: SDSS -> CFHT nearest neighbours, one call;
- ``match_positions``: galtk's one-to-one match (``search_around_sky`` within 1", mutual nearest, ties and
  many-to-one counted);
- ``match_positions + split_pairs``: the above plus the seeded train/test split of the pairs.

    python benchmarks/crossmatch.py [--sdss 659821] [--cfht 130093]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

PAIRS = 5057


def _catalogs(n_sdss: int, n_cfht: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    # CFHT: 155 deg^2 around (35, -6); SDSS: 1,000 deg^2 around it, plus objects next to CFHT ones.
    half = np.sqrt(155.0) / 2
    dec_c = rng.uniform(-6 - half, -6 + half, n_cfht)
    ra_c = 35 + rng.uniform(-half, half, n_cfht) / np.cos(np.deg2rad(dec_c))
    pairs = min(PAIRS, n_cfht, n_sdss)
    chosen = rng.choice(n_cfht, pairs, replace=False)
    distance = rng.uniform(0.1, 0.5, pairs) / 3600
    angle = rng.uniform(0, 2 * np.pi, pairs)
    dec_p = dec_c[chosen] + distance * np.cos(angle)
    ra_p = ra_c[chosen] + distance * np.sin(angle) / np.cos(np.deg2rad(dec_p))
    wide = np.sqrt(1000.0) / 2
    dec_s = rng.uniform(-6 - wide, -6 + wide, n_sdss - pairs)
    ra_s = 35 + rng.uniform(-wide, wide, n_sdss - pairs) / np.cos(np.deg2rad(dec_s))
    return np.r_[ra_p, ra_s], np.r_[dec_p, dec_s], ra_c, dec_c


def _child(kind: str, n_sdss: int, n_cfht: int) -> None:
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    from galtk.pipeline.crossmatch.matching import match_positions, split_pairs

    ra_s, dec_s, ra_c, dec_c = _catalogs(n_sdss, n_cfht)
    baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if kind == "match_to_catalog_sky":
        sdss = SkyCoord(ra_s * u.deg, dec_s * u.deg)
        cfht = SkyCoord(ra_c * u.deg, dec_c * u.deg)
        _, separation, _ = sdss.match_to_catalog_sky(cfht)
        pairs = int(np.count_nonzero(separation.arcsec <= 1.0))
    else:
        match = match_positions(ra_s, dec_s, ra_c, dec_c, radius_arcsec=1.0)
        pairs = len(match)
        if kind == "match_positions + split_pairs":
            ids = np.arange(pairs).astype(str)
            split_pairs(np.char.add("S", ids), np.char.add("C", ids), n_test=2500, seed=0)
    seconds = time.perf_counter() - started
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {"seconds": seconds, "pairs": pairs, "peak_mb": peak_rss / 1024, "base_mb": baseline_rss / 1024}
        )
    )


def main() -> None:
    """Run every measurement in a subprocess and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdss", type=int, default=659_821)
    parser.add_argument("--cfht", type=int, default=130_093)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.sdss, args.cfht)
        return
    kinds = ["match_to_catalog_sky", "match_positions", "match_positions + split_pairs"]
    results = {}
    for kind in kinds:
        output = subprocess.run(
            [sys.executable, __file__, "--child", kind, "--sdss", str(args.sdss), "--cfht", str(args.cfht)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results[kind] = json.loads(output.strip().splitlines()[-1])
    base = results[kinds[0]]
    print(f"{args.sdss:,} SDSS x {args.cfht:,} CFHT positions, radius 1 arcsec, {PAIRS:,} planted pairs")
    print("peak RSS: the whole process (Python, astropy, catalogs); 'for matching': above the catalogs\n")
    header = (
        f"{'method':<30} | {'pairs':>6} | {'seconds':>7} | {'x':>5} | {'peak RSS MB':>11} | "
        f"{'for matching MB':>15} | {'x':>5}"
    )
    print(header)
    print("-" * len(header))
    for kind, r in results.items():
        extra = r["peak_mb"] - r["base_mb"]
        base_extra = base["peak_mb"] - base["base_mb"]
        print(
            f"{kind:<30} | {r['pairs']:>6,} | {r['seconds']:>7.2f} | "
            f"{r['seconds'] / base['seconds']:>5.2f} | {r['peak_mb']:>11,.0f} | {extra:>15,.0f} | "
            f"{extra / base_extra:>5.2f}"
        )


if __name__ == "__main__":
    main()
