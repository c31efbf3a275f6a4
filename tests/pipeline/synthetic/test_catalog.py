"""The synthetic galaxy catalog: determinism, ranges, region, table output."""

from pathlib import Path

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table

from galtk.pipeline.synthetic.catalog import SimSkyParams, make_galaxy_catalog


def test_same_seed_same_catalog_other_seed_other_catalog() -> None:
    first = make_galaxy_catalog(SimSkyParams(seed=1, n_objects=100))
    again = make_galaxy_catalog(SimSkyParams(seed=1, n_objects=100))
    other = make_galaxy_catalog(SimSkyParams(seed=2, n_objects=100))
    np.testing.assert_array_equal(first.ra, again.ra)
    np.testing.assert_array_equal(first.mag, again.mag)
    assert not np.array_equal(first.ra, other.ra)


def test_galaxy_parameters_stay_in_the_specified_ranges() -> None:
    catalog = make_galaxy_catalog(SimSkyParams(seed=3, n_objects=5000))
    assert catalog.sersic_n.min() >= 0.5 and catalog.sersic_n.max() <= 4.0
    assert catalog.r_eff.min() >= 0.5 and catalog.r_eff.max() <= 4.0
    assert catalog.axis_ratio.min() > 0.2 and catalog.axis_ratio.max() <= 1.0
    assert catalog.mag[:, 2].min() >= 15.5 and catalog.mag[:, 2].max() <= 20.5
    # Colours u-g, g-r, r-i, i-z: all positive (galaxies brighten towards the red), u-g the largest.
    colours = np.median(catalog.mag[:, :-1] - catalog.mag[:, 1:], axis=0)
    assert np.all(colours > 0) and colours[0] > 1.0 and colours[1] > colours[2]
    assert len(set(catalog.ids)) == len(catalog)


def test_positions_fill_the_region_with_close_pairs() -> None:
    params = SimSkyParams(seed=4, n_objects=2000, ra=359.9, dec=-20.0, width_deg=0.6, pair_fraction=0.2)
    catalog = make_galaxy_catalog(params)
    centre = SkyCoord(params.ra, params.dec, unit="deg")
    positions = SkyCoord(catalog.ra, catalog.dec, unit="deg")
    offsets = centre.spherical_offsets_to(positions)
    assert np.max(np.abs(offsets[0].deg)) < 0.31 and np.max(np.abs(offsets[1].deg)) < 0.31
    assert np.all((catalog.ra >= 0) & (catalog.ra < 360))
    _, separation, _ = positions.match_to_catalog_sky(positions, nthneighbor=2)
    close = np.count_nonzero(separation.arcsec < 8.0)
    assert close >= 0.2 * 2000  # every companion and its host have a neighbour within 8"


def test_catalog_table_round_trips_through_ecsv(tmp_path: Path) -> None:
    catalog = make_galaxy_catalog(SimSkyParams(seed=5, n_objects=50))
    table = catalog.to_table()
    table.write(tmp_path / "truth.ecsv")
    back = Table.read(tmp_path / "truth.ecsv")
    assert back.colnames[:3] == ["id", "ra", "dec"]
    assert str(back["r_eff"].unit) == "arcsec"
    np.testing.assert_allclose(back["mag_r"], catalog.mag[:, 2])
    np.testing.assert_allclose(10 ** (-0.4 * (back["mag_g"] - 22.5)), catalog.flux_nmgy[:, 1])


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"n_objects": 0}, "n_objects"),
        ({"n_objects": 9_999_999_999_999}, "n_objects must be between 1 and 10,000,000"),
        ({"seed": -1}, "seed must not be negative"),
        ({"overlap": 0.7, "sdss_only": 0.5}, "must not exceed 1"),
        ({"dec": 95.0}, "dec"),
        ({"mag_r_min": 21.0, "mag_r_max": 20.0}, "mag_r_min"),
    ],
)
def test_invalid_parameters_are_refused(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SimSkyParams(**settings)
