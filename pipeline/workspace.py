"""The galtk workspace: a directory with a ``galtk.toml`` that every command reads.

``galtk.toml`` holds the surveys (bands, cutout sizes, pixel scales, source of their objects and pixels, store
paths), the synthetic-sky settings and the defaults of every command. Command-line flags override it. Unknown
sections or keys, and values of the wrong type, are errors: a typo must not silently fall back to a default.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from galtk.errors import ConfigError
from galtk.pipeline.replace import write_text_atomic
from galtk.pipeline.surveys import BANDS, SURVEYS, SurveySpec, get_survey
from galtk.pipeline.synthetic.catalog import SimSkyParams
from galtk.pipeline.synthetic.source import SimImagingParams

CONFIG_NAME = "galtk.toml"
#: Test share of the paper's pairs (2,500 of 5,057), the default split of synthetic-sky workspaces.
SIM_TEST_FRACTION = 0.4944


@dataclass
class SurveySection:
    """``[surveys.NAME]``: one survey's cutouts and where they come from."""

    source: str = "sim"
    catalog: str = ""
    sql: str = ""
    images: list[str] = field(default_factory=list)
    zeropoint: float = 0.0
    hips: list[str] = field(default_factory=list)
    hips_server: str = ""
    hips_scale: float = 1.0
    release: str = ""
    bands: list[str] = field(default_factory=lambda: list(BANDS))
    cutout_size: int = 0
    pixel_scale: float = 0.0
    store: str = ""


@dataclass
class FetchSection:
    """``[fetch]``: defaults of ``galtk fetch``."""

    batch_size: int = 256
    workers: int = 2
    chunk_objects: int = 32
    connections: int = 4
    cache_dir: str = "data/cache"
    cache_max_gb: float = 0.0


@dataclass
class CrossmatchSection:
    """``[crossmatch]``: defaults of ``galtk crossmatch`` (paper values) and its output paths."""

    radius_arcsec: float = 1.0
    peak_tolerance_px: float = 1.0
    peak_smoothing_arcsec: float = 0.6
    peak_search_arcsec: float = 4.0
    n_test: int = 2500
    test_fraction: float = 0.0
    seed: int = 0
    paired: str = "data/paired.zarr"
    unpaired_sdss: str = "data/unpaired_sdss.zarr"
    unpaired_cfht: str = "data/unpaired_cfht.zarr"
    summary: str = "data/crossmatch_summary.json"

    def __post_init__(self) -> None:
        if self.radius_arcsec <= 0 or self.peak_tolerance_px <= 0 or self.peak_search_arcsec <= 0:
            raise ValueError("radius_arcsec, peak_tolerance_px and peak_search_arcsec must be positive")
        if self.peak_smoothing_arcsec < 0:
            raise ValueError("peak_smoothing_arcsec must not be negative")
        if self.n_test < 1:
            raise ValueError(f"n_test must be at least 1, got {self.n_test}")
        if not 0.0 <= self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in [0, 1) (0: use n_test), got {self.test_fraction}")


@dataclass
class PreprocessSection:
    """``[preprocess]``: defaults of ``galtk preprocess``."""

    scheduler: str = "threads"
    workers: int = 0
    stores: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.workers < 0:
            raise ValueError(f"workers must not be negative (0: one per CPU core), got {self.workers}")
        if not self.scheduler.strip():
            raise ValueError("scheduler must be threads, processes or a dask.distributed address")


@dataclass
class TrainSection:
    """``[train]``: defaults of ``galtk train`` (paper values, SPEC section 6).

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

    def __post_init__(self) -> None:
        counts = ("iterations", "batch_size", "batch_pairs", "lr_decay_every", "checkpoint_every")
        for name in (*counts, "keep_checkpoints", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.step1_iterations < 0:
            raise ValueError(f"step1_iterations must not be negative, got {self.step1_iterations}")
        if self.sample_every < 0:
            raise ValueError(f"sample_every must not be negative (0: no grids), got {self.sample_every}")
        for name in ("learning_rate", "eps", "grad_clip_norm", "width", "noise_lr_factor"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
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


@dataclass
class Config:
    """The whole of ``galtk.toml``."""

    surveys: dict[str, SurveySection] = field(default_factory=dict)
    sim_sky: SimSkyParams = field(default_factory=SimSkyParams)
    sim_imaging: SimImagingParams = field(default_factory=SimImagingParams)
    fetch: FetchSection = field(default_factory=FetchSection)
    crossmatch: CrossmatchSection = field(default_factory=CrossmatchSection)
    preprocess: PreprocessSection = field(default_factory=PreprocessSection)
    train: TrainSection = field(default_factory=TrainSection)


_SIMPLE_SECTIONS = {
    "fetch": FetchSection,
    "crossmatch": CrossmatchSection,
    "preprocess": PreprocessSection,
    "train": TrainSection,
}
_SECTION_COMMENTS = {
    "sim": "The built-in synthetic sky (galtk fetch --source sim): region, galaxies, observing conditions.",
    "surveys": (
        "One table per survey: source of objects and pixels (sim, fits, sdss, hips), the object catalog (or,"
        " for sdss, a SkyServer SQL query instead), image files (glob patterns) of the fits source and their"
        " AB zero point (0: from BUNIT or headers), one HiPS per band of the hips source (hips2fits server,"
        " default astroquery's, and a scale factor), cutout grid, raw store (paths relative to this file)."
    ),
    "fetch": (
        "galtk fetch: rows per write batch, parallel workers, objects per zarr chunk; archive sources:"
        " downloads in flight, cache directory and its size bound in GB (0: unbounded)."
    ),
    "crossmatch": (
        "galtk crossmatch: match radius, aligned-peak test (tolerance in SDSS px, smoothing and search radius"
        " of the peak finder), test pairs (n_test, or test_fraction when > 0), split seed, output paths."
    ),
    "preprocess": (
        "galtk preprocess: dask scheduler (threads, processes, or a dask.distributed address), workers"
        " (0: one per core), stores (empty: the crossmatch outputs)."
    ),
    "train": (
        "galtk train: method, iterations per step (and of step 1 if step1_iterations > 0), unpaired images"
        " per survey and pairs per iteration, Adam"
        " (lr divided by lr_decay_factor every lr_decay_every iterations), gradient clipping, network width,"
        " seed, device (auto, cpu, cuda), precision (auto, bf16, fp32), torch.compile, training images held"
        " in memory or streamed (auto, hold, stream), checkpoint/log/sample intervals (sample_every 0: none),"
        " checkpoints kept, runs directory, Noise Emulators conditioned on the measured noise or as in the"
        " paper (measured, paper), content losses in units of the noise or plain (noise-weighted, mse),"
        " generators reading and writing in units of the noise or rescaled units (noise, rescaled),"
        " factor on the Noise Emulators' learning rate."
    ),
}


def default_config(*, sim: bool) -> Config:
    """Configuration written by ``galtk init``.

    Parameters
    ----------
    sim : bool
        Use the built-in synthetic sky for both surveys; otherwise the archive sources (``sdss`` for SDSS
        DR12 and ``cfhtls`` for CFHTLS Wide), which need a catalog of objects.

    Returns
    -------
    Config
    """
    surveys = {}
    for name, spec in SURVEYS.items():
        surveys[name] = SurveySection(
            source="sim" if sim else {"sdss": "sdss", "cfht": "cfhtls"}[name],
            catalog="" if sim else f"catalogs/{name}_objects.csv",
            release=spec.release,
            bands=list(spec.bands),
            cutout_size=spec.cutout_size,
            pixel_scale=spec.pixel_scale,
            store=f"data/raw/{name}.zarr",
        )
    config = Config(surveys=surveys)
    if sim:  # a synthetic sky holds far fewer than the paper's 5,057 pairs: keep the paper's test share
        config.crossmatch.test_fraction = SIM_TEST_FRACTION
    return config


@dataclass(frozen=True)
class Workspace:
    """A loaded workspace: its directory and configuration.

    Attributes
    ----------
    root : Path
        Directory holding ``galtk.toml``.
    config : Config
    """

    root: Path
    config: Config

    def resolve(self, relative: str | Path) -> Path:
        """Absolute path of ``relative`` (taken relative to the workspace directory)."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.root / path

    def survey(self, name: str) -> SurveySpec:
        """The survey ``name`` with this workspace's bands, cutout size and pixel scale."""
        section = self.survey_section(name)
        return dataclasses.replace(
            get_survey(name),
            release=section.release,
            bands=tuple(section.bands),
            cutout_size=section.cutout_size,
            pixel_scale=section.pixel_scale,
        )

    def survey_section(self, name: str) -> SurveySection:
        """The ``[surveys.NAME]`` table."""
        try:
            return self.config.surveys[name]
        except KeyError:
            known = ", ".join(self.config.surveys) or "none"
            raise ConfigError(f"galtk.toml has no [surveys.{name}] table (surveys: {known})") from None

    def store_path(self, name: str) -> Path:
        """Raw cutout store of survey ``name``."""
        return self.resolve(self.survey_section(name).store)


def find_workspace(directory: str | Path | None = None) -> Path:
    """Directory of the workspace: ``directory`` if given, else the current directory.

    Raises
    ------
    ConfigError
        If that directory has no ``galtk.toml``.
    """
    root = Path(directory) if directory is not None else Path.cwd()
    if not (root / CONFIG_NAME).is_file():
        where = "the current directory" if directory is None else str(root)
        raise ConfigError(
            f"no {CONFIG_NAME} in {where}; create one with `galtk init` or point to it with --workspace DIR"
        )
    return root.resolve()


def load_workspace(directory: str | Path | None = None) -> Workspace:
    """Find and read ``galtk.toml``.

    Parameters
    ----------
    directory : str or Path, optional
        Workspace directory (default: the current directory).

    Returns
    -------
    Workspace

    Raises
    ------
    ConfigError
        If the file is missing or unreadable, or holds unknown keys or values of the wrong type.
    """
    root = find_workspace(directory)
    path = root / CONFIG_NAME
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    return Workspace(root=root, config=parse_config(raw, source=str(path)))


def parse_config(raw: dict[str, Any], *, source: str = CONFIG_NAME) -> Config:
    """Validate a parsed TOML document and build a :class:`Config`.

    Missing keys take their defaults; a document without any ``[surveys.NAME]`` table gets both surveys.
    """
    known = {*_SIMPLE_SECTIONS, "sim", "surveys"}
    _reject_unknown(raw, known, source, "")
    values: dict[str, Any] = {}
    for name, section_type in _SIMPLE_SECTIONS.items():
        values[name] = _build_section(section_type, raw.get(name, {}), source, name)
    sim_raw = _table(raw.get("sim", {}), source, "sim")
    sky_keys = {item.name for item in fields(SimSkyParams)}
    imaging_keys = {item.name for item in fields(SimImagingParams)}
    _reject_unknown(sim_raw, sky_keys | imaging_keys, source, "sim")
    values["sim_sky"] = _build_section(
        SimSkyParams, {k: v for k, v in sim_raw.items() if k in sky_keys}, source, "sim"
    )
    values["sim_imaging"] = _build_section(
        SimImagingParams, {k: v for k, v in sim_raw.items() if k in imaging_keys}, source, "sim"
    )
    surveys_raw = _table(raw.get("surveys", {name: {} for name in SURVEYS}), source, "surveys")
    _reject_unknown(surveys_raw, set(SURVEYS), source, "surveys")
    values["surveys"] = {
        name: _build_survey(name, _table(table, source, f"surveys.{name}"), source)
        for name, table in surveys_raw.items()
    }
    return Config(**values)


def _build_survey(name: str, table: dict[str, Any], source: str) -> SurveySection:
    spec = get_survey(name)
    defaults = {
        "release": spec.release,
        "bands": list(spec.bands),
        "cutout_size": spec.cutout_size,
        "pixel_scale": spec.pixel_scale,
        "store": f"data/raw/{name}.zarr",
    }
    section = _build_section(SurveySection, {**defaults, **table}, source, f"surveys.{name}")
    unknown_bands = [band for band in section.bands if band not in spec.bands]
    if unknown_bands or not section.bands or len(set(section.bands)) != len(section.bands):
        raise ConfigError(
            f"{source}: [surveys.{name}] bands must be distinct names among {', '.join(spec.bands)}, "
            f"got {section.bands}"
        )
    if section.cutout_size < 8 or section.pixel_scale <= 0:
        raise ConfigError(f"{source}: [surveys.{name}] needs cutout_size >= 8 and pixel_scale > 0")
    return section


def _table(value: Any, source: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: [{where}] must be a table")
    return value


def _reject_unknown(table: dict[str, Any], known: set[str], source: str, where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        place = f"[{where}]" if where else "the top level"
        raise ConfigError(
            f"{source}: unknown key {unknown[0]!r} in {place}; known keys: {', '.join(sorted(known))}"
        )


def _build_section(section_type: type, table: Any, source: str, where: str) -> Any:
    table = _table(table, source, where)
    names = {item.name for item in fields(section_type)}
    _reject_unknown(table, names, source, where)
    hints = get_type_hints(section_type)
    values = {key: _coerce(value, hints[key], source, f"{where}.{key}") for key, value in table.items()}
    try:
        return section_type(**values)
    except ValueError as error:
        raise ConfigError(f"{source}: [{where}] {error}") from None


def _coerce(value: Any, expected: Any, source: str, key: str) -> Any:
    """Check a TOML value against a field's type (ints are accepted for floats)."""
    ok = False
    if expected is bool:
        ok = isinstance(value, bool)
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif expected is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif expected is str:
        ok = isinstance(value, str)
    elif expected == list[str]:
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
    if not ok:
        name = getattr(expected, "__name__", str(expected))
        raise ConfigError(f"{source}: {key} must be of type {name}, got {value!r}")
    return value


def render_config(config: Config) -> str:
    """Render a :class:`Config` as commented TOML (parsed back by :func:`parse_config` unchanged)."""
    lines = ["# galtk workspace. Every galtk command run in this directory reads this file;", ""]
    lines[0] += " command-line flags override it."

    def emit(title: str, comment_key: str | None, values: dict[str, Any]) -> None:
        if comment_key and comment_key in _SECTION_COMMENTS:
            lines.append(f"# {_SECTION_COMMENTS[comment_key]}")
        lines.append(f"[{title}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
        lines.append("")

    emit("sim", "sim", {**dataclasses.asdict(config.sim_sky), **dataclasses.asdict(config.sim_imaging)})
    for index, (name, section) in enumerate(config.surveys.items()):
        emit(f"surveys.{name}", "surveys" if index == 0 else None, dataclasses.asdict(section))
    for name in ("fetch", "crossmatch", "preprocess", "train"):
        emit(name, name, dataclasses.asdict(getattr(config, name)))
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")


def init_workspace(directory: str | Path, *, sim: bool, force: bool = False) -> Path:
    """Create a workspace: the directory (if needed) and its ``galtk.toml``.

    Parameters
    ----------
    directory : str or Path
        Workspace directory.
    sim : bool
        Configure the built-in synthetic sky as the source of both surveys.
    force : bool
        Replace an existing ``galtk.toml``.

    Returns
    -------
    Path
        The written ``galtk.toml``.

    Raises
    ------
    ConfigError
        If ``galtk.toml`` exists and ``force`` is false, or the directory cannot be written.
    """
    root = Path(directory)
    target = root / CONFIG_NAME
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists; use --force to replace it")
    try:
        root.mkdir(parents=True, exist_ok=True)
        write_text_atomic(target, render_config(default_config(sim=sim)))
    except OSError as error:
        raise ConfigError(f"cannot write {target}: {error.strerror or error}") from None
    return target
