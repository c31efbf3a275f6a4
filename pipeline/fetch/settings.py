"""``[fetch]`` of galtk.toml: the settings of ``galtk fetch``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FetchSettings:
    """``[fetch]``: rows per write batch, parallel workers, objects per zarr chunk; for archive sources,
    downloads in flight, the cache directory and its size bound in GB (0: unbounded)."""

    batch_size: int = 256
    workers: int = 2
    chunk_objects: int = 32
    connections: int = 4
    cache_dir: str = "data/cache"
    cache_max_gb: float = 0.0

    def __post_init__(self) -> None:
        for name in ("batch_size", "workers", "chunk_objects", "connections"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.cache_max_gb < 0:
            raise ValueError(f"cache_max_gb must be 0 (unbounded) or more, got {self.cache_max_gb}")
