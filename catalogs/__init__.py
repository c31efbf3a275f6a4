"""Object catalogs: the ra/dec lists that ``galtk fetch`` cuts cutouts around."""

from galtk.catalogs.files import read_object_catalog

__all__ = ["read_object_catalog"]
