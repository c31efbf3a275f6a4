"""galtk: build machine-learning data sets from SDSS and CFHTLS and translate galaxy images between them.

Subpackages
-----------
galtk.pipeline
    Survey facts, the zarr cutout store, cutout sources (synthetic sky, archives) and the fetch engine.
galtk.catalogs
    Object samples: synthetic galaxy catalogs and catalog files.
galtk.models
    The paper's networks.
galtk.cli
    The ``galtk`` command line.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("galtk")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
