"""``[surveys.NAME]`` of galtk.toml: one survey's cutouts and the source of its objects and pixels."""

from __future__ import annotations

from dataclasses import dataclass, field

from galtk.pipeline.resample import check_kernel
from galtk.pipeline.surveys import BANDS

#: ``hips_server`` value of galtk's offline hips2fits stand-in (:mod:`galtk.pipeline.synthetic.hips_service`).
STANDIN_SERVER = "sim"


@dataclass
class SurveySettings:
    """``[surveys.NAME]``: one survey's cutouts and where they come from.

    ``preset`` names the built-in description the table starts from (empty: the table's own name when that is
    a preset, else none: the table describes the survey from scratch). Empty strings, lists and zeros of the
    description keys (``title``, ``unit``, ``unit_zeropoint``, ``wavelength_nm``, ``seeing_fwhm``,
    ``noise_sigma_nmgy``) keep the preset's values; the per-band lists hold one value per band of ``bands``.
    """

    preset: str = ""
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
    title: str = ""
    unit: str = ""
    unit_zeropoint: float = 0.0
    wavelength_nm: list[float] = field(default_factory=list)
    seeing_fwhm: list[float] = field(default_factory=list)
    noise_sigma_nmgy: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_kernel(self.resampling)
        for name in ("wavelength_nm", "seeing_fwhm", "noise_sigma_nmgy"):
            values = getattr(self, name)
            if values and len(values) != len(self.bands):
                raise ValueError(f"{name} needs one value per band ({len(self.bands)}), got {len(values)}")
            if any(value <= 0 for value in values):
                raise ValueError(f"{name} values must be positive, got {values}")
        if self.unit_zeropoint < 0:
            raise ValueError(
                f"unit_zeropoint must not be negative (0: the preset's), got {self.unit_zeropoint}"
            )
