"""``[crossmatch]`` of galtk.toml: the settings of ``galtk crossmatch`` (paper values) and its outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class CrossmatchSettings:
    """Settings of a cross-match.

    Attributes
    ----------
    radius_arcsec : float
        Largest separation of a positional match.
    peak_tolerance_px : float
        Largest distance of the two peaks, in pixels of the reference (SDSS) survey.
    peak_smoothing_arcsec, peak_search_arcsec : float
        Peak finder settings (:class:`galtk.pipeline.crossmatch.peaks.PeakFinder`).
    n_test : int
        Number of test pairs (used when ``test_fraction`` is 0).
    test_fraction : float
        Fraction of test pairs, in (0, 1); 0 holds out ``n_test`` pairs instead.
    seed : int
        Seed of the train/test split.
    workers : int
        Threads reading cutouts.
    paired, unpaired_sdss, unpaired_cfht, summary : str
        Output paths, relative to the workspace.
    surveys : list of str
        Surveys to pair for multi-input translation (:mod:`galtk.pipeline.crossmatch.surveys`); empty: the
        paper's cross-match of ``sdss`` and ``cfht``.
    """

    radius_arcsec: float = 1.0
    peak_tolerance_px: float = 1.0
    peak_smoothing_arcsec: float = 0.6
    peak_search_arcsec: float = 4.0
    n_test: int = 2500
    test_fraction: float = 0.0
    seed: int = 0
    workers: int = 2
    paired: str = "data/paired.zarr"
    unpaired_sdss: str = "data/unpaired_sdss.zarr"
    unpaired_cfht: str = "data/unpaired_cfht.zarr"
    summary: str = "data/crossmatch_summary.json"
    surveys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.surveys and (len(self.surveys) < 2 or len(set(self.surveys)) != len(self.surveys)):
            raise ValueError(f"surveys must name at least two different surveys, got {self.surveys}")
        if self.radius_arcsec <= 0 or self.peak_tolerance_px <= 0 or self.peak_search_arcsec <= 0:
            raise ValueError("radius_arcsec, peak_tolerance_px and peak_search_arcsec must be positive")
        if self.peak_smoothing_arcsec < 0:
            raise ValueError("peak_smoothing_arcsec must not be negative")
        if self.n_test < 1:
            raise ValueError(f"n_test must be at least 1, got {self.n_test}")
        if not 0.0 <= self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in [0, 1) (0: use n_test), got {self.test_fraction}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.seed < 0:
            raise ValueError(f"seed must not be negative, got {self.seed}")


@dataclass(frozen=True)
class CrossmatchOutputs:
    """Where a cross-match writes.

    Attributes
    ----------
    paired : Path
        The paired store.
    unpaired : dict of str to Path
        One unpaired store per survey.
    summary : Path
        The JSON summary.
    """

    paired: Path
    unpaired: dict[str, Path]
    summary: Path

    def all(self) -> list[Path]:
        """Every output path."""
        return [self.paired, *self.unpaired.values(), self.summary]
