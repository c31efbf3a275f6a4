"""Settings of a training run: :class:`TrainSettings` (``[train]`` of galtk.toml), the device and precision.

:func:`train_settings` reads them from a workspace; flags are applied with
:func:`galtk.pipeline.workspace.override_settings`. This module also turns the settings into a JSON-ready
dict and back (run snapshots and checkpoints), resolves ``device``/``precision`` and gives the learning-rate
schedule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from galtk.errors import ConfigError
from galtk.pipeline.workspace import CONFIG_NAME, Workspace, parse_settings

if TYPE_CHECKING:
    import torch


@dataclass
class TrainSettings:
    """``[train]`` of galtk.toml: the settings of ``galtk train`` (paper values, SPEC section 6).

    ``iterations`` counts each step of a method (``ours`` runs two; ``step1_iterations > 0`` sets step 1's
    own count); ``batch_size`` is the number of unpaired
    images of each survey per iteration and ``batch_pairs`` the number of pairs. Adam's learning rate is
    divided by ``lr_decay_factor`` every ``lr_decay_every`` iterations; the gradients of every update are
    clipped to a global norm of ``grad_clip_norm``. ``precision`` is ``auto`` (bf16 autocast on CUDA, fp32
    on CPU), ``bf16`` or ``fp32``. ``memory`` says where the training images live: ``hold`` (all in the
    memory of the training device), ``stream`` (read from the stores for every batch) or ``auto`` (hold the
    sets that fit, stream the others). Runs are written under the ``runs`` directory; ``sample_every = 0``
    writes no sample grids. ``noise_emulator``, ``content_loss`` and ``generator_units`` choose how the
    methods with Noise Emulators (ours, ours-auto) are trained: ``measured`` conditions the emulators on
    the noise measured on the training images, ``noise-weighted`` divides the content losses by each band's
    noise variance and ``noise`` makes the generators read and write in units of that noise (galtk's
    defaults, docs/methods.md); ``paper``, ``mse`` and ``rescaled`` are the paper's formulation. The Noise
    Emulators' update uses ``learning_rate * noise_lr_factor`` (1: the paper's single learning rate).
    ``content_weight`` weighs the content terms against the adversarial term in the GAN baselines (a-e, g,
    h; the paper's 1000); ours and ours-auto weigh their content terms by the noise instead.
    ``adversarial_weight`` weighs the adversarial term of pix2pix's generator loss (``galaxygan``,
    ``pix2pix``; pix2pix's 1, against L1's 100); 0 trains the generator on L1 alone, which measures better
    photometry (docs/surveys.md).
    ``degraded``, ``folds`` and ``fold`` are read by ``galaxygan`` only: the ``galtk degrade`` store it
    trains on (empty: ``data/degraded/NAME.zarr`` of the first survey's raw store) and, with ``folds = K``
    (at least 2), K-fold cross-validation: the run trains on every pair but those of fold ``fold``
    (0 to K - 1) instead of the store's train split. ``inputs`` and ``target`` are read by ``pix2pix``
    only: the input surveys (in channel order) and the target survey of multi-input translation, members of
    the paired store of ``galtk crossmatch --surveys``.
    """

    method: str = "ours"
    iterations: int = 60000
    step1_iterations: int = 0
    batch_size: int = 24
    batch_pairs: int = 24
    learning_rate: float = 1e-4
    lr_decay_every: int = 20000
    lr_decay_factor: float = 5.0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    grad_clip_norm: float = 5.0
    width: float = 1.0
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    compile: bool = False
    memory: str = "auto"
    checkpoint_every: int = 5000
    keep_checkpoints: int = 3
    log_every: int = 10
    sample_every: int = 5000
    runs: str = "runs"
    noise_emulator: str = "measured"
    content_loss: str = "noise-weighted"
    generator_units: str = "noise"
    noise_lr_factor: float = 1.0
    content_weight: float = 1000.0
    adversarial_weight: float = 1.0
    degraded: str = ""
    folds: int = 0
    fold: int = 0
    inputs: list[str] = field(default_factory=list)
    target: str = ""

    def __post_init__(self) -> None:
        if len(set(self.inputs)) != len(self.inputs) or self.target in self.inputs:
            raise ValueError(
                f"inputs must name different surveys, none of them the target, got {self.inputs} -> "
                f"{self.target or '(no target)'}"
            )
        counts = ("iterations", "batch_size", "batch_pairs", "lr_decay_every", "checkpoint_every")
        for name in (*counts, "keep_checkpoints", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.step1_iterations < 0:
            raise ValueError(f"step1_iterations must not be negative, got {self.step1_iterations}")
        if self.sample_every < 0:
            raise ValueError(f"sample_every must not be negative (0: no grids), got {self.sample_every}")
        for name in ("learning_rate", "eps", "grad_clip_norm", "width", "noise_lr_factor", "content_weight"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not self.adversarial_weight >= 0:
            raise ValueError(f"adversarial_weight must not be negative, got {self.adversarial_weight}")
        if not self.lr_decay_factor >= 1:
            raise ValueError(f"lr_decay_factor must be at least 1 (1: no decay), got {self.lr_decay_factor}")
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ValueError(f"beta1 and beta2 must be in [0, 1), got {self.beta1} and {self.beta2}")
        device = self.device.strip().lower()
        indexed_cuda = device.startswith("cuda:") and device[5:].isdigit()
        if device not in ("auto", "cpu", "cuda") and not indexed_cuda:
            raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        if self.precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"precision must be auto, bf16 or fp32, got {self.precision!r}")
        if self.memory not in ("auto", "hold", "stream"):
            raise ValueError(f"memory must be auto, hold or stream, got {self.memory!r}")
        if not self.method.strip() or not self.runs.strip():
            raise ValueError("method and runs must not be empty")
        if self.noise_emulator not in ("measured", "paper"):
            raise ValueError(f"noise_emulator must be measured or paper, got {self.noise_emulator!r}")
        if self.content_loss not in ("noise-weighted", "mse"):
            raise ValueError(f"content_loss must be noise-weighted or mse, got {self.content_loss!r}")
        if self.generator_units not in ("noise", "rescaled"):
            raise ValueError(f"generator_units must be noise or rescaled, got {self.generator_units!r}")
        if self.folds == 1 or self.folds < 0:
            raise ValueError(f"folds must be 0 (the store's split) or at least 2, got {self.folds}")
        if not 0 <= self.fold < max(1, self.folds):
            raise ValueError(
                f"fold must be in 0..{max(1, self.folds) - 1} (folds {self.folds}), got {self.fold}"
            )


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


def settings_to_dict(settings: TrainSettings) -> dict[str, Any]:
    """The settings as a plain dict (JSON and ``torch.load(weights_only=True)`` safe)."""
    return dataclasses.asdict(settings)


def settings_from_dict(values: dict[str, Any], *, source: str) -> TrainSettings:
    """Settings read back from a run snapshot or checkpoint, validated like ``[train]`` of galtk.toml.

    Raises
    ------
    ConfigError
        If a key is unknown or a value invalid; ``source`` names the file in the message.
    """
    return parse_settings(TrainSettings, values, source=source, where="train")


def train_settings(
    workspace: Workspace, *, method: str | None = None, defaults: Mapping[str, Any] | None = None
) -> TrainSettings:
    """``[train]`` of a workspace's galtk.toml; for a method, with its own settings over it.

    Parameters
    ----------
    workspace : Workspace
        The loaded workspace.
    method : str, optional
        A method's canonical name: its ``defaults``, then its ``[train.METHOD]`` table, replace the
        keys of ``[train]``.
    defaults : mapping, optional
        The method's own settings (``Method.settings``).

    Raises
    ------
    ConfigError
        If a table holds an unknown key or an invalid value.
    """
    source = str(workspace.root / CONFIG_NAME)
    table = {key: value for key, value in workspace.config.train.items() if not isinstance(value, dict)}
    where = "train"
    if method is not None:
        own = workspace.config.train.get(method, {})
        if not isinstance(own, dict):
            raise ConfigError(f"{source}: [train] {method} must be a table of settings")
        table = {**table, **dict(defaults or {}), **own}
        where = f"train.{method}" if own else "train"
    return parse_settings(TrainSettings, table, source=source, where=where)


def method_tables(workspace: Workspace) -> list[str]:
    """Names of the ``[train.NAME]`` tables of a workspace's galtk.toml."""
    return [key for key, value in workspace.config.train.items() if isinstance(value, dict)]


def changed_settings(old: TrainSettings, new: TrainSettings) -> list[str]:
    """Names of the settings whose values differ, in declaration order."""
    return [
        field.name
        for field in dataclasses.fields(TrainSettings)
        if getattr(old, field.name) != getattr(new, field.name)
    ]


def stage_iterations(settings: TrainSettings, stage: str) -> int:
    """Iterations of stage ``stage``: ``step1_iterations`` for step 1 when set, else ``iterations``.

    Parameters
    ----------
    settings : TrainSettings
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
    import torch  # torch is loaded only by the commands that need a device

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
    import torch

    if precision == "bf16" or (precision == "auto" and device.type == "cuda"):
        return torch.bfloat16
    return None


def learning_rate_at(iteration: int, settings: TrainSettings) -> float:
    """Learning rate of the optimizer step of ``iteration`` (counted from 0 in each step of a method).

    ``learning_rate / lr_decay_factor ** (iteration // lr_decay_every)``: the paper's 1e-4 for iterations
    0-19,999, 2e-5 from 20,000, 4e-6 from 40,000.
    """
    return settings.learning_rate * learning_rate_factor(iteration, settings)


def learning_rate_factor(iteration: int, settings: TrainSettings) -> float:
    """The factor applied to ``learning_rate`` at ``iteration`` (see :func:`learning_rate_at`)."""
    return 1.0 / settings.lr_decay_factor ** (iteration // settings.lr_decay_every)
