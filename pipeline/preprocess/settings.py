"""``[preprocess]`` of galtk.toml: the settings of ``galtk preprocess``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PreprocessSettings:
    """``[preprocess]``: defaults of ``galtk preprocess``."""

    scheduler: str = "threads"
    workers: int = 0
    stores: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.workers < 0:
            raise ValueError(f"workers must not be negative (0: one per CPU core), got {self.workers}")
        if not self.scheduler.strip():
            raise ValueError("scheduler must be threads, processes or a dask.distributed address")
