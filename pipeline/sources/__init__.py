"""Cutout sources: where the pixels of a cutout store come from.

``build_source`` turns the ``source`` name of a ``[surveys.NAME]`` table (or ``galtk fetch --source``) into a
:class:`~galtk.pipeline.sources.base.CutoutSource`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from galtk import __version__
from galtk.errors import ConfigError
from galtk.pipeline.sources.base import CutoutSource, ObjectList
from galtk.pipeline.sources.sim import SimImagingParams, SimSource

if TYPE_CHECKING:
    from galtk.pipeline.workspace import Workspace

#: Sources this version of galtk can fetch from.
AVAILABLE_SOURCES: tuple[str, ...] = ("sim",)


def build_source(kind: str, workspace: Workspace) -> CutoutSource:
    """Create the cutout source called ``kind`` from a workspace's configuration.

    Raises
    ------
    ConfigError
        If ``kind`` is not one of :data:`AVAILABLE_SOURCES`.
    """
    if kind == "sim":
        return SimSource(workspace.config.sim_sky, workspace.config.sim_imaging)
    raise ConfigError(
        f"source {kind!r} is not available in galtk {__version__}; available: {', '.join(AVAILABLE_SOURCES)}"
    )


__all__ = ["AVAILABLE_SOURCES", "CutoutSource", "ObjectList", "SimImagingParams", "SimSource", "build_source"]
