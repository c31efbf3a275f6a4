"""Settings of a training run: ``[train]`` of galtk.toml with flags applied, the device and the precision.

The settings themselves are :class:`galtk.pipeline.workspace.TrainSection`; this module applies overrides,
turns the settings into a JSON-ready dict and back, resolves ``device``/``precision`` and gives the
learning-rate schedule.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from galtk.errors import ConfigError
from galtk.pipeline.workspace import TrainSection, parse_config

OPERATIONAL_KEYS = frozenset(
    {
        "iterations",
        "step1_iterations",
        "device",
        "precision",
        "compile",
        "memory",
        "checkpoint_every",
        "keep_checkpoints",
        "log_every",
        "sample_every",
        "runs",
    }
)
"""Settings that may change when a run is resumed; any other change would break exact resumption."""


def with_overrides(settings: TrainSection, **overrides: Any) -> TrainSection:
    """``settings`` with every override that is not None applied and validated.

    Parameters
    ----------
    settings : TrainSection
        Base settings (``[train]`` of galtk.toml, or a run's snapshot).
    **overrides
        Field names of :class:`TrainSection` and their new values; None leaves a field unchanged.

    Returns
    -------
    TrainSection

    Raises
    ------
    ConfigError
        If a name is not a setting or a value is invalid.
    """
    known = {field.name for field in dataclasses.fields(TrainSection)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"unknown training setting {unknown[0]!r}")
    values = {key: value for key, value in overrides.items() if value is not None}
    try:
        return dataclasses.replace(settings, **values)
    except ValueError as error:
        raise ConfigError(f"invalid training setting: {error}") from None


def settings_to_dict(settings: TrainSection) -> dict[str, Any]:
    """The settings as a plain dict (JSON and ``torch.load(weights_only=True)`` safe)."""
    return dataclasses.asdict(settings)


def settings_from_dict(values: dict[str, Any], *, source: str) -> TrainSection:
    """Settings read back from a run snapshot or checkpoint, validated like ``[train]`` of galtk.toml.

    Raises
    ------
    ConfigError
        If a key is unknown or a value invalid; ``source`` names the file in the message.
    """
    return parse_config({"train": values}, source=source).train


def changed_settings(old: TrainSection, new: TrainSection) -> list[str]:
    """Names of the settings whose values differ, in declaration order."""
    return [
        field.name
        for field in dataclasses.fields(TrainSection)
        if getattr(old, field.name) != getattr(new, field.name)
    ]


def stage_iterations(settings: TrainSection, stage: str) -> int:
    """Iterations of stage ``stage``: ``step1_iterations`` for step 1 when set, else ``iterations``.

    Parameters
    ----------
    settings : TrainSection
        The run's settings.
    stage : str
        Stage name (``"step1"``, ``"step2"``, ``"train"``).

    Returns
    -------
    int
    """
    if stage == "step1" and settings.step1_iterations > 0:
        return settings.step1_iterations
    return settings.iterations


def resolve_device(name: str, *, local_rank: int = 0) -> torch.device:
    """The torch device of a ``device`` setting.

    Parameters
    ----------
    name : {"auto", "cpu", "cuda", "cuda:N"}
        ``auto`` is CUDA when available, else the CPU.
    local_rank : int, optional
        GPU index of this process in a multi-GPU run (``cuda`` and ``auto`` map to ``cuda:local_rank``).

    Returns
    -------
    torch.device

    Raises
    ------
    ConfigError
        If CUDA is asked for but not available.
    """
    name = name.strip().lower()
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} asked for, but torch sees no CUDA GPU; use --device cpu")
    device = torch.device(f"cuda:{local_rank}") if name in ("auto", "cuda") else torch.device(name)
    if device.index is not None and device.index >= torch.cuda.device_count():
        raise ConfigError(f"device {device} asked for, but torch sees {torch.cuda.device_count()} GPU(s)")
    return device


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of a ``precision`` setting, or None for plain float32.

    ``auto`` is bf16 on CUDA and float32 elsewhere.
    """
    if precision == "bf16" or (precision == "auto" and device.type == "cuda"):
        return torch.bfloat16
    return None


def learning_rate_at(iteration: int, settings: TrainSection) -> float:
    """Learning rate of the optimizer step of ``iteration`` (counted from 0 in each step of a method).

    ``learning_rate / lr_decay_factor ** (iteration // lr_decay_every)``: the paper's 1e-4 for iterations
    0-19,999, 2e-5 from 20,000, 4e-6 from 40,000.
    """
    return settings.learning_rate * learning_rate_factor(iteration, settings)


def learning_rate_factor(iteration: int, settings: TrainSection) -> float:
    """The factor applied to ``learning_rate`` at ``iteration`` (see :func:`learning_rate_at`)."""
    return 1.0 / settings.lr_decay_factor ** (iteration // settings.lr_decay_every)
