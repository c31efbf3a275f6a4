"""Cutout sources: where the pixels of a cutout store come from.

``build_source`` turns the ``source`` name of a ``[surveys.NAME]`` table (or ``galtk fetch --source``) into a
:class:`~galtk.pipeline.sources.base.CutoutSource`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from galtk import __version__
from galtk.errors import ConfigError
from galtk.pipeline.sources.base import CutoutSource, ObjectList

if TYPE_CHECKING:
    from galtk.catalogs.files import ObjectCatalog
    from galtk.pipeline.workspace import Workspace

log = logging.getLogger(__name__)

#: Sources this version of galtk can fetch from.
AVAILABLE_SOURCES: tuple[str, ...] = ("sim", "fits", "sdss", "cfhtls", "hips")


def build_source(kind: str, workspace: Workspace, survey: str) -> CutoutSource:
    """Create the cutout source called ``kind`` for ``survey`` from a workspace's configuration.

    Parameters
    ----------
    kind : str
        Source name (one of :data:`AVAILABLE_SOURCES`).
    workspace : Workspace
        Loaded workspace.
    survey : str
        Survey whose ``[surveys.NAME]`` table configures the source.

    Raises
    ------
    ConfigError
        If ``kind`` is unknown or its settings are incomplete.
    """
    if kind == "sim":
        from galtk.pipeline.synthetic.source import SimSource

        section = workspace.survey_section(survey)
        return SimSource(workspace.config.sim_sky, workspace.config.sim_imaging, kernel=section.resampling)
    if kind == "fits":
        return _fits_source(workspace, survey)
    if kind == "sdss":
        return _sdss_source(workspace, survey)
    if kind == "cfhtls":
        return _cfhtls_source(workspace, survey)
    if kind == "hips":
        return _hips_source(workspace, survey)
    raise ConfigError(
        f"source {kind!r} is not available in galtk {__version__}; available: {', '.join(AVAILABLE_SOURCES)}"
    )


__all__ = ["AVAILABLE_SOURCES", "CutoutSource", "ObjectList", "build_source"]


def _fits_source(workspace: Workspace, survey: str) -> CutoutSource:
    from galtk.pipeline.sources.fits import FitsSource, expand_image_patterns

    section = workspace.survey_section(survey)
    if not section.catalog:
        raise ConfigError(f"[surveys.{survey}] needs a catalog (ra, dec[, id] file) for the fits source")
    if not section.images:
        raise ConfigError(
            f"[surveys.{survey}] needs images (glob patterns of FITS files) for the fits source"
        )
    catalog = _read_catalog(workspace, section.catalog)
    images = expand_image_patterns([workspace.resolve(pattern) for pattern in section.images])
    if not images:
        raise ConfigError(f"[surveys.{survey}] images: no file matches {', '.join(section.images)}")
    return FitsSource(catalog, images, zeropoint=section.zeropoint or None, kernel=section.resampling)


def _sdss_source(workspace: Workspace, survey: str) -> CutoutSource:
    from galtk.pipeline.sources.sdss import SdssSource

    section = workspace.survey_section(survey)
    if bool(section.catalog) == bool(section.sql):
        raise ConfigError(f"[surveys.{survey}] needs either a catalog or an sql query for the sdss source")
    fetch = workspace.config.fetch
    bound = int(fetch.cache_max_gb * 1e9) if fetch.cache_max_gb > 0 else None
    return SdssSource(
        workspace.resolve(fetch.cache_dir),
        catalog=_read_catalog(workspace, section.catalog) if section.catalog else None,
        sql=section.sql or None,
        max_connections=fetch.connections,
        max_cache_bytes=bound,
        kernel=section.resampling,
    )


def _cfhtls_source(workspace: Workspace, survey: str) -> CutoutSource:
    from galtk.pipeline.sources.cfhtls import DEFAULT_RELEASE, CfhtlsSource

    section = workspace.survey_section(survey)
    if not section.catalog:
        raise ConfigError(f"[surveys.{survey}] needs a catalog (ra, dec[, id] file) for the cfhtls source")
    fetch = workspace.config.fetch
    bound = int(fetch.cache_max_gb * 1e9) if fetch.cache_max_gb > 0 else None
    return CfhtlsSource(
        _read_catalog(workspace, section.catalog),
        workspace.resolve(fetch.cache_dir),
        release=section.release or DEFAULT_RELEASE,
        max_connections=fetch.connections,
        max_cache_bytes=bound,
        kernel=section.resampling,
    )


def _read_catalog(workspace: Workspace, path: str) -> ObjectCatalog:
    """Read a catalog file of the workspace, warning about the rows it drops."""
    from galtk.catalogs.files import read_object_catalog

    catalog = read_object_catalog(workspace.resolve(path))
    if catalog.dropped:
        counts = ", ".join(f"{count} {reason}" for reason, count in catalog.dropped.items())
        log.warning("%s: %d objects kept, rows dropped: %s", path, len(catalog), counts)
    return catalog


def _hips_source(workspace: Workspace, survey: str) -> CutoutSource:
    from galtk.pipeline.sources.hips import HipsSource
    from galtk.pipeline.sources.settings import STANDIN_SERVER

    section = workspace.survey_section(survey)
    standin = section.hips_server == STANDIN_SERVER
    if not section.catalog and not standin:
        raise ConfigError(f"[surveys.{survey}] needs a catalog (ra, dec[, id] file) for the hips source")
    spec = workspace.survey(survey)
    if spec.hips is None:
        raise ConfigError(
            f"[surveys.{survey}] hips must name one HiPS per band ({', '.join(spec.bands)}), "
            f'e.g. hips = ["CDS/P/SDSS9/u", ...]'
        )
    server = section.hips_server or None
    if standin:
        from galtk.pipeline.synthetic.hips_service import running_standin

        service = running_standin(workspace.config.sim_sky, workspace.config.sim_imaging)
        server = service.url
    if section.catalog:
        catalog = _read_catalog(workspace, section.catalog)
    else:  # the stand-in's own galaxies
        from galtk.catalogs.files import ObjectCatalog

        galaxies = service.hips.catalog
        catalog = ObjectCatalog(ids=galaxies.ids, ra=galaxies.ra, dec=galaxies.dec)
    return HipsSource(
        catalog,
        spec.hips.ids,
        server=server,
        scale=[factor * section.hips_scale for factor in spec.hips_factors()],
        max_connections=workspace.config.fetch.connections,
    )
