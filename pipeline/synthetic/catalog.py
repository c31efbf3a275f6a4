"""A synthetic galaxy catalog: the ground truth behind the offline synthetic sky (SPEC section 9).

Each galaxy has a position, an elliptical Sersic profile (index 0.5-4, half-light radius 0.5-4 arcsec
along the major axis), AB magnitudes in u g r i z from a red or a blue colour family, and flags telling
which survey's object sample holds it (some objects are only in one survey). A fraction of galaxies is
placed as close companions of another galaxy so that neighbours appear in the cutouts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.table import Table

from galtk.pipeline.surveys import BANDS

#: Colours (u-g, g-r, r-i, i-z) of the two colour families: early-type (red) and star-forming (blue) galaxies.
_RED_COLOURS = np.array([1.80, 0.80, 0.40, 0.35])
_BLUE_COLOURS = np.array([1.10, 0.45, 0.25, 0.15])
_COLOUR_SCATTER = 0.08


MAX_OBJECTS = 10_000_000
"""The most galaxies of a synthetic sky (its catalog is held in memory: about 2 GB at this size)."""


@dataclass(frozen=True)
class SimSkyParams:
    """Parameters of a synthetic sky region.

    Parameters
    ----------
    seed : int
        Seed of every random draw; equal parameters give identical catalogs and images.
    n_objects : int
        Number of galaxies in the region.
    ra, dec : float
        Centre of the region in degrees.
    width_deg : float
        Side of the square region in degrees (along great circles at its centre).
    overlap : float
        Fraction of galaxies in both survey samples.
    sdss_only : float
        Fraction of galaxies only in the SDSS sample; the remaining ``1 - overlap - sdss_only`` are CFHT only.
    pair_fraction : float
        Fraction of galaxies placed 2-8 arcsec from another galaxy (close neighbours).
    mag_r_min, mag_r_max : float
        Range of r-band AB magnitudes; counts rise towards faint magnitudes as 10**(0.3 m).
    """

    seed: int = 42
    n_objects: int = 2000
    ra: float = 150.1
    dec: float = 2.2
    width_deg: float = 0.5
    overlap: float = 0.4
    sdss_only: float = 0.4
    pair_fraction: float = 0.15
    mag_r_min: float = 15.5
    mag_r_max: float = 20.5

    def __post_init__(self) -> None:
        if not 1 <= self.n_objects <= MAX_OBJECTS:
            raise ValueError(f"n_objects must be between 1 and {MAX_OBJECTS:,}, got {self.n_objects:,}")
        if self.seed < 0:
            raise ValueError(f"seed must not be negative, got {self.seed}")
        for name in ("overlap", "sdss_only", "pair_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.overlap + self.sdss_only > 1.0 + 1e-12:
            raise ValueError(f"overlap + sdss_only must not exceed 1 (got {self.overlap} + {self.sdss_only})")
        if not -90.0 < self.dec < 90.0:
            raise ValueError(f"dec must be inside (-90, 90), got {self.dec}")
        if not 0.0 < self.width_deg <= 10.0:
            raise ValueError(f"width_deg must be in (0, 10], got {self.width_deg}")
        if not self.mag_r_min < self.mag_r_max:
            raise ValueError("mag_r_min must be smaller than mag_r_max")


@dataclass(frozen=True)
class GalaxyCatalog:
    """True properties of the galaxies of a synthetic sky, one row per galaxy.

    Attributes
    ----------
    ids : ndarray of str
        Object identifiers, ``SIM`` followed by a zero-padded row number.
    ra, dec : ndarray of float64
        True positions in degrees.
    sersic_n : ndarray of float64
        Sersic index.
    r_eff : ndarray of float64
        Half-light radius along the major axis in arcsec.
    axis_ratio : ndarray of float64
        Minor to major axis ratio.
    position_angle : ndarray of float64
        Position angle of the major axis in degrees, east of north.
    mag : ndarray of float64, shape (n, 5)
        AB magnitudes in u g r i z.
    in_sdss, in_cfht : ndarray of bool
        Membership of each survey's object sample.
    """

    ids: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    sersic_n: np.ndarray
    r_eff: np.ndarray
    axis_ratio: np.ndarray
    position_angle: np.ndarray
    mag: np.ndarray
    in_sdss: np.ndarray
    in_cfht: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def flux_nmgy(self) -> np.ndarray:
        """Total flux per band in nanomaggies, shape (n, 5)."""
        return 10.0 ** (-0.4 * (self.mag - 22.5))

    def to_table(self) -> Table:
        """Return the catalog as an astropy Table (one magnitude column per band)."""
        table = Table(
            {
                "id": self.ids,
                "ra": self.ra,
                "dec": self.dec,
                "sersic_n": self.sersic_n,
                "r_eff": self.r_eff,
                "axis_ratio": self.axis_ratio,
                "position_angle": self.position_angle,
            }
        )
        for index, band in enumerate(BANDS):
            table[f"mag_{band}"] = self.mag[:, index]
        table["in_sdss"] = self.in_sdss
        table["in_cfht"] = self.in_cfht
        for column, unit in (("ra", "deg"), ("dec", "deg"), ("r_eff", "arcsec"), ("position_angle", "deg")):
            table[column].unit = unit
        return table


def make_galaxy_catalog(params: SimSkyParams) -> GalaxyCatalog:
    """Draw the galaxies of a synthetic sky region.

    Parameters
    ----------
    params : SimSkyParams
        Region, size, survey overlap and seed.

    Returns
    -------
    GalaxyCatalog
        Deterministic for ``params``.
    """
    rng = np.random.default_rng(np.random.SeedSequence([params.seed, 0x5CA7]))
    n = params.n_objects
    half = np.deg2rad(params.width_deg) / 2.0

    # Uniform on the sphere inside the region: tangent-plane offsets of a uniform box, deprojected.
    xi = rng.uniform(-half, half, n)
    eta = rng.uniform(-half, half, n)
    n_pairs = round(params.pair_fraction * n)
    if n_pairs and n > 1:
        companions = rng.choice(np.arange(1, n), size=min(n_pairs, n - 1), replace=False)
        hosts = rng.integers(0, companions, size=len(companions))  # an earlier galaxy hosts each companion
        separation = np.deg2rad(rng.uniform(2.0, 8.0, len(companions)) / 3600.0)
        angle = rng.uniform(0.0, 2.0 * np.pi, len(companions))
        xi[companions] = xi[hosts] + separation * np.sin(angle)
        eta[companions] = eta[hosts] + separation * np.cos(angle)
    ra, dec = _deproject(xi, eta, np.deg2rad(params.ra), np.deg2rad(params.dec))

    is_red = rng.random(n) < 0.4
    sersic_n = np.where(is_red, rng.uniform(2.5, 4.0, n), rng.uniform(0.5, 1.8, n))
    r_eff = np.exp(rng.uniform(np.log(0.5), np.log(4.0), n))
    axis_ratio = np.where(is_red, rng.uniform(0.55, 1.0, n), rng.uniform(0.25, 1.0, n))
    position_angle = rng.uniform(0.0, 180.0, n)

    # Magnitude counts dN/dm ~ 10**(0.3 m) by inverse transform sampling.
    lo, hi = 10.0 ** (0.3 * params.mag_r_min), 10.0 ** (0.3 * params.mag_r_max)
    mag_r = np.log10(lo + rng.random(n) * (hi - lo)) / 0.3
    colours = np.where(is_red[:, None], _RED_COLOURS, _BLUE_COLOURS) + rng.normal(0, _COLOUR_SCATTER, (n, 4))
    mag = np.empty((n, len(BANDS)))
    mag[:, 2] = mag_r
    mag[:, 1] = mag_r + colours[:, 1]  # g = r + (g-r)
    mag[:, 0] = mag[:, 1] + colours[:, 0]  # u = g + (u-g)
    mag[:, 3] = mag_r - colours[:, 2]  # i = r - (r-i)
    mag[:, 4] = mag[:, 3] - colours[:, 3]  # z = i - (i-z)

    membership = rng.random(n)
    in_both = membership < params.overlap
    sdss_only = (membership >= params.overlap) & (membership < params.overlap + params.sdss_only)
    ids = np.array([f"SIM{i:07d}" for i in range(n)], dtype=object)
    return GalaxyCatalog(
        ids=ids,
        ra=ra,
        dec=dec,
        sersic_n=sersic_n,
        r_eff=r_eff,
        axis_ratio=axis_ratio,
        position_angle=position_angle,
        mag=mag,
        in_sdss=in_both | sdss_only,
        in_cfht=in_both | ~(in_both | sdss_only),
    )


def _deproject(xi: np.ndarray, eta: np.ndarray, ra0: float, dec0: float) -> tuple[np.ndarray, np.ndarray]:
    """Inverse gnomonic projection of standard coordinates (radians) about (ra0, dec0) to degrees."""
    rho = np.hypot(xi, eta)
    c = np.arctan(rho)
    sin_c, cos_c = np.sin(c), np.cos(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(rho > 0, eta * sin_c / np.where(rho > 0, rho, 1.0), 0.0)
    dec = np.arcsin(cos_c * np.sin(dec0) + ratio * np.cos(dec0))
    ra = ra0 + np.arctan2(xi * sin_c, rho * np.cos(dec0) * cos_c - eta * np.sin(dec0) * sin_c)
    return np.rad2deg(ra) % 360.0, np.rad2deg(dec)
