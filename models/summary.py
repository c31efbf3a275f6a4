"""Parameter counts and shapes of every network of every method, computed without allocating weights."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import torch

from galtk.models.methods import METHODS, Method, resolve_method
from galtk.models.network_kinds import KINDS, NetworkKind, format_shape
from galtk.models.networks.noise_emulator import NoiseEmulator


@dataclass(frozen=True)
class ParameterCount:
    """Parameters of one network.

    Attributes
    ----------
    stored : int
        Values held by ``parameters()``.
    free : int
        Independent values (differs from ``stored`` only for the Noise Emulator, whose symmetric filters
        store 49 values per band of which 10 are free).
    """

    stored: int
    free: int


@dataclass(frozen=True)
class NetworkSummary:
    """One row of ``galtk models``.

    Attributes
    ----------
    method, paper : str
        Method name and its label in the paper.
    aliases : tuple of str
        Other names of the method (reference-code numbers, paper letters).
    role, step : str
        Role in the method (``G_XY``...) and training step (empty for one-step methods).
    network, panel : str
        Network title and its Figure 2 panel.
    inputs : tuple of str
        Input shapes, e.g. ``"(B, 5, 64, 64)"``.
    output : str
        Output shape.
    parameters : ParameterCount
        Parameter counts at the requested bands and width.
    spec_parameters : int or None
        SPEC section 4's count, given only for 5 bands at width 1 (where it must equal ``parameters.stored``).
    """

    method: str
    paper: str
    aliases: tuple[str, ...]
    role: str
    step: str
    network: str
    panel: str
    inputs: tuple[str, ...]
    output: str
    parameters: ParameterCount
    spec_parameters: int | None


@cache
def count_parameters(kind_name: str, bands: int = 5, width: float = 1.0) -> ParameterCount:
    """Count the parameters of a network kind by building it on the meta device (no memory, no init cost).

    Parameters
    ----------
    kind_name : str
        Key of :data:`galtk.models.network_kinds.KINDS`.
    bands : int, optional
        Number of bands C.
    width : float, optional
        Scale of every hidden channel count.

    Returns
    -------
    ParameterCount
    """
    with torch.device("meta"):
        network = KINDS[kind_name].build(bands, width, "pytorch")
    stored = sum(p.numel() for p in network.parameters())
    free = network.free_parameter_count if isinstance(network, NoiseEmulator) else stored
    return ParameterCount(stored, free)


def summarize(method: str | None = None, *, bands: int = 5, width: float = 1.0) -> list[NetworkSummary]:
    """Summarise the networks of one method, or of all methods.

    Parameters
    ----------
    method : str, optional
        Method name or alias; all methods if None.
    bands : int, optional
        Number of bands C.
    width : float, optional
        Scale of every hidden channel count.

    Returns
    -------
    list of NetworkSummary
        In the order of the method table.

    Raises
    ------
    galtk.errors.GaltkError
        If ``method`` is unknown.
    """
    listed = [m for m in METHODS.values() if m.listed]
    methods = listed if method is None else [_listed_method(resolve_method(method), listed)]
    at_spec_size = bands == 5 and width == 1.0
    rows = []
    for spec in methods:
        aliases = spec.aliases + tuple(
            alias
            for other in METHODS.values()
            if not other.listed and other.networks == spec.networks
            for alias in other.aliases
        )
        for net in spec.networks:
            kind: NetworkKind = net.kind
            rows.append(
                NetworkSummary(
                    method=spec.name,
                    paper=spec.paper,
                    aliases=aliases,
                    role=net.role,
                    step=net.step,
                    network=kind.title,
                    panel=kind.panel,
                    inputs=tuple(format_shape(shape, bands) for shape in net.inputs),
                    output=format_shape(net.output, bands),
                    parameters=count_parameters(kind.name, bands, width),
                    spec_parameters=kind.spec_parameters if at_spec_size else None,
                )
            )
    return rows


def _listed_method(method: Method, listed: list[Method]) -> Method:
    """``method``, or for a single step of ``ours`` the listed method whose networks it shares."""
    if method.listed:
        return method
    return next(other for other in listed if other.networks == method.networks)
