"""``[surveys.NAME]`` of galtk.toml: one survey's cutouts and the source of its objects and pixels."""

from __future__ import annotations

from dataclasses import dataclass, field

from galtk.pipeline.resample import check_kernel
from galtk.pipeline.surveys import BANDS


@dataclass
class SurveySettings:
    """``[surveys.NAME]``: one survey's cutouts and where they come from."""

    source: str = "sim"
    catalog: str = ""
    sql: str = ""
    images: list[str] = field(default_factory=list)
    zeropoint: float = 0.0
    resampling: str = "lanczos3"
    hips: list[str] = field(default_factory=list)
    hips_server: str = ""
    hips_scale: float = 1.0
    release: str = ""
    bands: list[str] = field(default_factory=lambda: list(BANDS))
    cutout_size: int = 0
    pixel_scale: float = 0.0
    store: str = ""

    def __post_init__(self) -> None:
        check_kernel(self.resampling)
