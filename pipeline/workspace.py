"""The galtk workspace: a directory with a ``galtk.toml`` that every command reads.

``galtk.toml`` holds the surveys (bands, cutout sizes, pixel scales, source of their objects and pixels, store
paths), the synthetic-sky settings and the settings of every stage. Command-line flags override it. Unknown
sections or keys, and values of the wrong type, are errors: a typo must not silently fall back to a default.

This module only parses: each table's settings dataclass is defined beside its stage
(:class:`~galtk.pipeline.sources.settings.SurveySettings`,
:class:`~galtk.pipeline.fetch.settings.FetchSettings`,
:class:`~galtk.pipeline.crossmatch.settings.CrossmatchSettings`,
:class:`~galtk.pipeline.preprocess.settings.PreprocessSettings`, the synthetic sky's
:class:`~galtk.pipeline.synthetic.catalog.SimSkyParams` and
:class:`~galtk.pipeline.synthetic.source.SimImagingParams`). The ``[train]`` table belongs to a layer above
the pipeline: it is kept as read and parsed into :class:`galtk.models.training.settings.TrainSettings` by
:func:`galtk.models.training.settings.train_settings`, with :func:`parse_settings`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

from galtk.errors import ConfigError
from galtk.pipeline.crossmatch.settings import CrossmatchOutputs, CrossmatchSettings
from galtk.pipeline.fetch.settings import FetchSettings
from galtk.pipeline.preprocess.settings import PreprocessSettings
from galtk.pipeline.replace import write_text_atomic
from galtk.pipeline.sources.settings import STANDIN_SERVER, SurveySettings
from galtk.pipeline.surveys import PRESETS, SURVEYS, HipsBands, SurveySpec, get_survey, with_bands
from galtk.pipeline.surveys.spec import NANOMAGGY_ZEROPOINT, nanomaggies_per_count
from galtk.pipeline.synthetic.catalog import SimSkyParams
from galtk.pipeline.synthetic.source import SimImagingParams

CONFIG_NAME = "galtk.toml"
#: What a survey's name may look like: it names its table, its store and its command-line choices.
SURVEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
T = TypeVar("T")
#: Test share of the paper's pairs (2,500 of 5,057), the default split of synthetic-sky workspaces.
SIM_TEST_FRACTION = 0.4944


@dataclass
class Config:
    """The whole of ``galtk.toml``."""

    surveys: dict[str, SurveySettings] = field(default_factory=dict)
    sim_sky: SimSkyParams = field(default_factory=SimSkyParams)
    sim_imaging: SimImagingParams = field(default_factory=SimImagingParams)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    crossmatch: CrossmatchSettings = field(default_factory=CrossmatchSettings)
    preprocess: PreprocessSettings = field(default_factory=PreprocessSettings)
    train: dict[str, Any] = field(default_factory=dict)
    """``[train]`` as read (see :func:`galtk.models.training.settings.train_settings`)."""


_SIMPLE_SECTIONS = {
    "fetch": FetchSettings,
    "crossmatch": CrossmatchSettings,
    "preprocess": PreprocessSettings,
}
_SECTION_COMMENTS = {
    "sim": "The built-in synthetic sky (galtk fetch --source sim): region, galaxies, observing conditions.",
    "surveys": (
        "One table per survey: source of objects and pixels (sim, fits, sdss, hips), the object catalog (or,"
        " for sdss, a SkyServer SQL query instead), image files (glob patterns) of the fits source and their"
        " AB zero point (0: from BUNIT or headers), the kernel resampling images onto the cutout grid"
        " (lanczos3, bilinear, nearest), one HiPS per band of the hips source (hips2fits server, default"
        " astroquery's, and a scale factor), cutout grid, raw store (paths relative to this file)."
    ),
    "fetch": (
        "galtk fetch: rows per write batch, parallel workers, objects per zarr chunk; archive sources:"
        " downloads in flight, cache directory and its size bound in GB (0: unbounded)."
    ),
    "crossmatch": (
        "galtk crossmatch: match radius, aligned-peak test (tolerance in SDSS px, smoothing and search radius"
        " of the peak finder), test pairs (n_test, or test_fraction when > 0), split seed, threads reading"
        " cutouts, output paths."
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


def default_config(
    *,
    sim: bool,
    train: dict[str, Any] | None = None,
    surveys: list[str] | None = None,
    hips_standin: bool = False,
) -> Config:
    """Configuration written by ``galtk init``.

    Parameters
    ----------
    sim : bool
        Use the built-in synthetic sky for every survey; otherwise each survey's archive source (``sdss`` for
        SDSS DR12, ``cfhtls`` for CFHTLS Wide, ``hips`` for the HiPS presets), which needs a catalog of
        objects.
    train : dict, optional
        The ``[train]`` table to write (``galtk init`` writes every training setting with its default).
    surveys : list of str, optional
        Built-in surveys to describe (default: the paper's ``sdss`` and ``cfht``). Other surveys share one
        object catalog, ``catalogs/objects.csv``.
    hips_standin : bool
        With ``sim``: read the synthetic sky through hips2fits, from galtk's stand-in on 127.0.0.1
        (``source = "hips"``, ``hips_server = "sim"``; :mod:`galtk.pipeline.synthetic.hips_service`), in
        each survey's HiPS unit, instead of rendering it directly.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        If a survey is not built in, is named twice, or has no archive source galtk can read (or, with
        ``hips_standin``, no HiPS), or ``hips_standin`` is asked without ``sim``.
    """
    names = list(SURVEYS) if surveys is None else surveys
    if not names or len(set(names)) != len(names):
        raise ConfigError(f"name each survey once, got {', '.join(names) or 'none'}")
    if hips_standin and not sim:
        raise ConfigError("--hips reads the synthetic sky through the HiPS stand-in: give --sim as well")
    sections = {}
    for name in names:
        try:
            spec = get_survey(name)
        except KeyError as error:
            raise ConfigError(error.args[0]) from None
        if not sim and not spec.archive:
            raise ConfigError(f"galtk has no archive source for {name}; use --sim or describe its source")
        catalog = f"catalogs/{name}_objects.csv" if surveys is None else "catalogs/objects.csv"
        section = SurveySettings(
            preset=spec.name,
            source="sim" if sim else spec.archive,
            catalog="" if sim else catalog,
            release=spec.release,
            bands=list(spec.bands),
            cutout_size=spec.cutout_size,
            pixel_scale=spec.pixel_scale,
            store=f"data/raw/{spec.name}.zarr",
        )
        if hips_standin:
            if spec.hips is None:
                raise ConfigError(f"{name} has no HiPS for the stand-in to serve; leave out --hips")
            section.source, section.hips_server = "hips", STANDIN_SERVER
        elif sim and not spec.calibrated:  # the synthetic sky renders every survey in nanomaggies
            section.unit, section.unit_zeropoint = "nanomaggy", NANOMAGGY_ZEROPOINT
        sections[spec.name] = section
    config = Config(surveys=sections, train=dict(train or {}))
    if surveys is not None and set(names) != set(SURVEYS):  # other surveys are paired for multi-input
        config.crossmatch = dataclasses.replace(config.crossmatch, surveys=list(sections))
    if sim:  # a synthetic sky holds far fewer than the paper's 5,057 pairs: keep the paper's test share
        config.crossmatch = dataclasses.replace(config.crossmatch, test_fraction=SIM_TEST_FRACTION)
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

    def output(self, relative: str | Path, what: str) -> Path:
        """Absolute path of an output galtk writes: a relative one must stay inside the workspace.

        Parameters
        ----------
        relative : str or Path
            The path as configured; an absolute path is taken as it is (the explicit way to write elsewhere).
        what : str
            What it is, for the error message (``[surveys.sdss] store``...).

        Raises
        ------
        ConfigError
            If a relative path leads out of the workspace (``../x``).
        """
        path = Path(relative).expanduser()
        if path.is_absolute():
            return path
        if not stays_inside(self.root / path, self.root):
            raise ConfigError(
                f"{what} = {str(relative)!r} leads out of the workspace {self.root}; give a path inside it, "
                "or an absolute path to write elsewhere"
            )
        return self.root / path

    def survey(self, name: str) -> SurveySpec:
        """The survey ``name`` as its ``[surveys.NAME]`` table describes it (its preset, overridden)."""
        return survey_spec(name, self.survey_section(name))

    def survey_section(self, name: str) -> SurveySettings:
        """The ``[surveys.NAME]`` table."""
        try:
            return self.config.surveys[name]
        except KeyError:
            known = ", ".join(self.config.surveys) or "none"
            raise ConfigError(f"galtk.toml has no [surveys.{name}] table (surveys: {known})") from None

    def store_path(self, name: str) -> Path:
        """Raw cutout store of survey ``name``."""
        return self.output(self.survey_section(name).store, f"[surveys.{name}] store")

    def crossmatch_outputs(self, settings: CrossmatchSettings | None = None) -> CrossmatchOutputs:
        """The paired and unpaired stores and the summary named by ``settings`` (default ``[crossmatch]``)."""
        settings = settings or self.config.crossmatch
        return CrossmatchOutputs(
            paired=self.output(settings.paired, "[crossmatch] paired"),
            unpaired={
                "sdss": self.output(settings.unpaired_sdss, "[crossmatch] unpaired_sdss"),
                "cfht": self.output(settings.unpaired_cfht, "[crossmatch] unpaired_cfht"),
            },
            summary=self.output(settings.summary, "[crossmatch] summary"),
        )


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
    known = {*_SIMPLE_SECTIONS, "sim", "surveys", "train"}
    _reject_unknown(raw, known, source, "")
    values: dict[str, Any] = {}
    for name, section_type in _SIMPLE_SECTIONS.items():
        values[name] = parse_settings(section_type, raw.get(name, {}), source=source, where=name)
    values["train"] = dict(_table(raw.get("train", {}), source, "train"))
    sim_raw = _table(raw.get("sim", {}), source, "sim")
    sky_keys = {item.name for item in fields(SimSkyParams)}
    imaging_keys = {item.name for item in fields(SimImagingParams)}
    _reject_unknown(sim_raw, sky_keys | imaging_keys, source, "sim")
    values["sim_sky"] = parse_settings(
        SimSkyParams, {k: v for k, v in sim_raw.items() if k in sky_keys}, source=source, where="sim"
    )
    values["sim_imaging"] = parse_settings(
        SimImagingParams, {k: v for k, v in sim_raw.items() if k in imaging_keys}, source=source, where="sim"
    )
    surveys_raw = _table(raw.get("surveys", {name: {} for name in SURVEYS}), source, "surveys")
    for name in surveys_raw:
        if not SURVEY_NAME.fullmatch(name):
            raise ConfigError(
                f"{source}: [surveys.{name}]: a survey name is letters, digits, '_', '.' and '-', "
                "starting with a letter or digit"
            )
    values["surveys"] = {
        name: _build_survey(name, _table(table, source, f"surveys.{name}"), source)
        for name, table in surveys_raw.items()
    }
    return Config(**values)


def _build_survey(name: str, table: dict[str, Any], source: str) -> SurveySettings:
    where = f"surveys.{name}"
    preset = table.get("preset") or (name if name.lower() in PRESETS else "")
    if not isinstance(preset, str):
        raise ConfigError(f"{source}: {where}.preset must be of type str, got {preset!r}")
    defaults: dict[str, Any] = {"store": f"data/raw/{name}.zarr"}
    if preset:
        try:
            spec = get_survey(preset)
        except KeyError as error:
            raise ConfigError(f"{source}: [{where}] preset: {error.args[0]}") from None
        defaults.update(
            release=spec.release,
            bands=list(spec.bands),
            cutout_size=spec.cutout_size,
            pixel_scale=spec.pixel_scale,
        )
    else:
        missing = [key for key in ("bands", "pixel_scale", "cutout_size", "unit") if key not in table]
        if missing:
            raise ConfigError(
                f"{source}: [{where}] is not a built-in survey ({', '.join(PRESETS)}): name one with "
                f'preset = "...", or describe it with {", ".join(missing)}'
            )
    section = parse_settings(SurveySettings, {**defaults, **table}, source=source, where=where)
    try:
        survey_spec(name, section)
    except ValueError as error:
        raise ConfigError(f"{source}: [{where}] {error}") from None
    if section.cutout_size < 8 or section.pixel_scale <= 0:
        raise ConfigError(f"{source}: [{where}] needs cutout_size >= 8 and pixel_scale > 0")
    return section


def survey_spec(name: str, section: SurveySettings) -> SurveySpec:
    """The :class:`SurveySpec` a ``[surveys.NAME]`` table describes: its preset (if any), overridden.

    Parameters
    ----------
    name : str
        The table's name, which becomes the survey's name.
    section : SurveySettings
        The table.

    Returns
    -------
    SurveySpec

    Raises
    ------
    ValueError
        If its bands are not the preset's, or its HiPS list does not name one HiPS per band.
    """
    preset = section.preset or (name if name.lower() in PRESETS else "")
    bands = tuple(section.bands)
    if preset:
        spec = with_bands(get_survey(preset), bands)
    else:
        if not bands or len(set(bands)) != len(bands):
            raise ValueError(f"bands must be distinct names, got {list(bands)}")
        spec = SurveySpec(
            name=name,
            title=name,
            release="",
            bands=bands,
            pixel_scale=section.pixel_scale,
            cutout_size=section.cutout_size,
            unit=section.unit,
            nanomaggies_per_unit=1.0,
            seeing_fwhm={},
            noise_sigma_nmgy={},
            calibrated=False,
        )
    calibration: dict[str, Any] = {}
    if section.unit_zeropoint > 0:
        per_unit = nanomaggies_per_count(section.unit_zeropoint)
        calibration = {"nanomaggies_per_unit": per_unit, "calibrated": True}
    per_band = {
        key: dict(zip(bands, values, strict=True))
        for key in ("wavelength_nm", "seeing_fwhm", "noise_sigma_nmgy")
        if (values := getattr(section, key))
    }
    spec = dataclasses.replace(
        spec,
        name=name,
        title=section.title or spec.title,
        release=section.release,
        cutout_size=section.cutout_size,
        pixel_scale=section.pixel_scale,
        unit=section.unit or spec.unit,
        hips=_hips_bands(spec, section.hips),
        **calibration,
        **per_band,
    )
    return spec


def _hips_bands(spec: SurveySpec, ids: list[str]) -> HipsBands | None:
    """The survey's HiPS with the table's identifiers, if it gives them (values then kept as served)."""
    if not ids:
        return spec.hips
    if len(ids) != len(spec.bands):
        raise ValueError(
            f'hips must name one HiPS per band ({", ".join(spec.bands)}), e.g. hips = ["CDS/P/SDSS9/u", ...]'
        )
    if spec.hips is not None:
        return dataclasses.replace(spec.hips, ids=tuple(ids))
    return HipsBands(ids=tuple(ids), unit=spec.unit, native_pixel_scale=0.0)


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


def stays_inside(path: Path, base: Path) -> bool:
    """Whether ``path`` lies inside ``base`` once its ``..`` are resolved (by name: a symbolic link inside
    ``base``, such as a data folder on another disk, counts as inside)."""
    return Path(os.path.normpath(os.path.abspath(path))).is_relative_to(
        os.path.normpath(os.path.abspath(base))
    )


def parse_settings(settings_type: type[T], table: Any, *, source: str, where: str) -> T:
    """Build a settings dataclass from a TOML table, checking its keys and their types.

    Parameters
    ----------
    settings_type : type
        The dataclass (its fields' type hints say what each key must hold; ints are accepted for floats).
    table : dict
        The table as read; missing keys take their defaults.
    source : str
        File named in error messages.
    where : str
        Name of the table (``train``, ``surveys.sdss`` ...), named in error messages.

    Returns
    -------
    settings_type

    Raises
    ------
    ConfigError
        If the table holds an unknown key, a value of the wrong type or an invalid value.
    """
    table = _table(table, source, where)
    names = {item.name for item in fields(settings_type)}
    _reject_unknown(table, names, source, where)
    hints = get_type_hints(settings_type)
    values = {key: _coerce(value, hints[key], source, f"{where}.{key}") for key, value in table.items()}
    try:
        return settings_type(**values)
    except ValueError as error:
        raise ConfigError(f"{source}: [{where}] {error}") from None


def override_settings(settings: T, **overrides: Any) -> T:
    """``settings`` with every override that is not None applied and validated (flags over galtk.toml).

    Parameters
    ----------
    settings : dataclass instance
        The settings of a stage (from galtk.toml, or a run's snapshot).
    **overrides
        Field names and their new values; None leaves a field unchanged.

    Returns
    -------
    A copy of ``settings``.

    Raises
    ------
    ConfigError
        If a name is not a setting or a value is invalid.
    """
    known = {item.name for item in fields(settings)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r}; known: {', '.join(sorted(known))}")
    values = {key: value for key, value in overrides.items() if value is not None}
    for key, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key} must be a finite number, got {value!r}")
    try:
        return dataclasses.replace(settings, **values)
    except ValueError as error:
        raise ConfigError(f"invalid setting: {error}") from None


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
        if ok and not math.isfinite(value):
            raise ConfigError(f"{source}: {key} must be a finite number, got {value!r}")
    elif expected is str:
        ok = isinstance(value, str)
    elif expected == list[str]:
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
    elif expected == list[float]:
        ok = isinstance(value, list) and all(
            isinstance(item, int | float) and not isinstance(item, bool) and math.isfinite(item)
            for item in value
        )
        value = [float(item) for item in value] if ok else value
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
    for name in ("fetch", "crossmatch", "preprocess"):
        emit(name, name, dataclasses.asdict(getattr(config, name)))
    if config.train:
        tables = {key: value for key, value in config.train.items() if isinstance(value, dict)}
        emit("train", "train", {key: value for key, value in config.train.items() if key not in tables})
        for name, table in tables.items():
            emit(f"train.{name}", None, table)
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


def init_workspace(
    directory: str | Path,
    *,
    sim: bool,
    force: bool = False,
    train: dict[str, Any] | None = None,
    surveys: list[str] | None = None,
    hips_standin: bool = False,
) -> Path:
    """Create a workspace: the directory (if needed) and its ``galtk.toml``.

    Parameters
    ----------
    directory : str or Path
        Workspace directory.
    sim : bool
        Configure the built-in synthetic sky as the source of both surveys.
    force : bool
        Replace an existing ``galtk.toml``.
    train : dict, optional
        The ``[train]`` table to write.
    surveys : list of str, optional
        Built-in surveys to describe (default: the paper's SDSS and CFHTLS; see :func:`default_config`).
    hips_standin : bool
        With ``sim``: the synthetic sky read through galtk's hips2fits stand-in (see :func:`default_config`).

    Returns
    -------
    Path
        The written ``galtk.toml``.

    Raises
    ------
    ConfigError
        If ``galtk.toml`` exists and ``force`` is false, a survey is unknown, or the directory cannot be
        written.
    """
    root = Path(directory)
    target = root / CONFIG_NAME
    config = default_config(sim=sim, train=train, surveys=surveys, hips_standin=hips_standin)
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists; use --force to replace it")
    blocker = next((path for path in (root, *root.parents) if path.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise ConfigError(f"cannot create the workspace {root}: {blocker} is a file, not a directory")
    try:
        root.mkdir(parents=True, exist_ok=True)
        write_text_atomic(target, render_config(config))
    except OSError as error:
        raise ConfigError(f"cannot write {target}: {error.strerror or error}") from None
    return target
