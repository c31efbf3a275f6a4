"""Object samples: synthetic galaxy catalogs and catalog files."""

from galtk.catalogs.synthetic import GalaxyCatalog, SimSkyParams, make_galaxy_catalog

__all__ = ["GalaxyCatalog", "SimSkyParams", "make_galaxy_catalog"]
