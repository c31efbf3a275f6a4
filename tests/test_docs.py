"""The documentation stays true: console examples run, links resolve, the galtk.toml reference is complete.

Convention (stated in docs/README.md): in README.md and docs/*.md, a fenced block marked ```console holds
commands, one per line after ``$ ``, each followed by what it prints. The ``$ galtk ...`` and ``$ cd ...``
lines of a file run in order, in a new empty directory, in this process; other ``$`` lines (pip, python,
torchrun) are not run. A command whose printed lines include one starting with ``Error:`` must fail with
exit code 1 and print that line ("..." stands for any text); every other command must succeed. To keep the
examples fast: ``galtk init --sim`` is followed by setting ``[sim] n_objects = 100`` (seed 5) in the new
galtk.toml, ``galtk demo`` runs with ``--quick``, and a demo already run with the same arguments is copied
instead of run again. Pages whose examples need input files get them from :data:`PAGE_SETUP` first.
Blocks marked ```bash, ```toml or left unmarked are not run.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import shlex
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from galtk.cli.app import app
from galtk.models.methods import workspace_train_table
from galtk.pipeline.workspace import CONFIG_NAME, default_config, load_workspace, render_config

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: The synthetic sky of workspaces created by the examples' `galtk init --sim`.
TINY_SKY = {"n_objects": 100, "seed": 5}

runner = CliRunner()


@dataclass
class Example:
    """One ``$`` line of a console block and the lines printed after it."""

    source: str
    line: int
    command: str
    output: list[str] = field(default_factory=list)

    @property
    def expected_error(self) -> str | None:
        """The ``Error:`` line the command must print, if any."""
        return next((text for text in self.output if text.startswith("Error:")), None)

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: $ {self.command}"


def console_examples(path: Path) -> list[Example]:
    """Every ``$`` line of the ```console blocks of a Markdown file, in order."""
    examples: list[Example] = []
    language: str | None = None
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text.strip().startswith("```"):
            language = text.strip()[3:].strip() if language is None else None
            continue
        if language != "console":
            continue
        if text.startswith("$ "):
            examples.append(Example(path.relative_to(ROOT).as_posix(), number, text[2:].strip()))
        elif examples and text.strip():
            examples[-1].output.append(text.strip())
    return examples


def _runnable(examples: list[Example]) -> list[Example]:
    return [e for e in examples if e.command.split()[0] in ("galtk", "cd")]


EXAMPLES = {path.relative_to(ROOT).as_posix(): _runnable(console_examples(path)) for path in DOCUMENTS}


@pytest.fixture(scope="module")
def demo_cache(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Path]:
    """Directories of the demos already run, by their arguments."""
    return {}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("document", [name for name, examples in EXAMPLES.items() if examples])
def test_console_examples_run(
    document: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    demo_cache: dict[tuple[str, ...], Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    monkeypatch.chdir(tmp_path)
    if document in PAGE_SETUP:

        def demo(arguments: list[str]) -> None:
            _run_demo(
                arguments,
                Example(document, 0, shlex.join(["galtk", *arguments])),
                demo_cache,
                tmp_path_factory,
            )

        PAGE_SETUP[document](demo, monkeypatch)
    for example in EXAMPLES[document]:
        words = shlex.split(example.command)
        if words[0] == "cd":
            monkeypatch.chdir(Path.cwd() / words[1])
            continue
        arguments = words[1:]
        if arguments and arguments[0] == "demo":
            _run_demo(arguments, example, demo_cache, tmp_path_factory)
            continue
        result = runner.invoke(app, arguments)
        _check(example, result)
        if arguments[:1] == ["init"] and "--sim" in arguments and result.exit_code == 0:
            _make_sky_tiny(_init_directory(arguments))


def _translate_inputs(demo: Callable[[list[str]], None], monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/translate.md: the quick demo's workspace, with ``galaxy.fits`` and FITS files in ``cutouts/``."""
    demo(["demo"])
    monkeypatch.chdir(Path.cwd() / "galtk-demo")
    files = sorted(Path("cutouts").rglob("*.fits"))
    shutil.copy(files[0], "galaxy.fits")
    for path in files:
        shutil.copy(path, Path("cutouts") / f"{path.parent.name}_{path.name}")


#: What a page's examples need before they run: page -> function(demo, monkeypatch), run in its directory.
PAGE_SETUP: dict[str, Callable[[Callable[[list[str]], None], pytest.MonkeyPatch], None]] = {
    "docs/translate.md": _translate_inputs,
}


def _run_demo(
    arguments: list[str],
    example: Example,
    cache: dict[tuple[str, ...], Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    quick = [*arguments, "--quick"] if "--quick" not in arguments else list(arguments)
    key = tuple(quick)
    directory = next((word for word in quick[1:] if not word.startswith("-")), "galtk-demo")
    if key in cache:
        shutil.copytree(cache[key], Path.cwd() / directory)
        return
    result = runner.invoke(app, quick)
    _check(example, result)
    if result.exit_code == 0:
        kept = tmp_path_factory.mktemp("demo") / "copy"
        shutil.copytree(Path.cwd() / directory, kept)
        cache[key] = kept


def _check(example: Example, result) -> None:
    expected = example.expected_error
    if expected is None:
        assert result.exit_code == 0, f"{example} failed:\n{result.output}"
        return
    assert result.exit_code == 1, f"{example} should fail:\n{result.output}"
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors, f"{example} printed no error line:\n{result.output}"
    pattern = ".*".join(re.escape(part.strip()) for part in expected.split("..."))
    assert re.search(pattern, errors[0]), f"{example}: the docs say\n  {expected}\nit printed\n  {errors[0]}"


def _init_directory(arguments: list[str]) -> Path:
    valued = {"--surveys"}  # options of galtk init that take a value
    positional = [
        word
        for previous, word in itertools.pairwise(arguments)
        if not word.startswith("-") and previous not in valued
    ]
    return Path.cwd() / (positional[0] if positional else ".")


def _make_sky_tiny(root: Path) -> None:
    workspace = load_workspace(root)
    config = dataclasses.replace(
        workspace.config, sim_sky=dataclasses.replace(workspace.config.sim_sky, **TINY_SKY)
    )
    (root / CONFIG_NAME).write_text(render_config(config), encoding="utf-8")


def test_every_command_has_a_console_example() -> None:
    ran = {
        words[1]
        for examples in EXAMPLES.values()
        for e in examples
        if (words := shlex.split(e.command))[0] == "galtk"
    }
    commands = {command.name for command in app.registered_commands}
    assert commands <= ran, f"commands without a console example: {sorted(commands - ran)}"


def test_console_blocks_are_closed_and_only_hold_commands_and_output() -> None:
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        assert text.count("```") % 2 == 0, f"{path.name}: unbalanced code fences"
        for example in console_examples(path):
            assert "&&" not in example.command and "|" not in example.command, (
                f"{example}: one command per line"
            )


def test_relative_links_resolve() -> None:
    link = re.compile(r"\[[^\]]*\]\(([^)#\s]+)(#[^)\s]*)?\)")
    for path in DOCUMENTS:
        for target, _ in link.findall(path.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            assert (path.parent / target).exists(), f"{path.relative_to(ROOT)} links to a missing {target}"


def test_configuration_reference_lists_every_key_with_its_default() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    train = workspace_train_table()  # written by galtk init
    rendered = tomllib.loads(render_config(default_config(sim=True, train=train)))
    archive = tomllib.loads(render_config(default_config(sim=False, train=train)))
    for tables in (rendered, archive):
        for name in [key for key, value in tables["train"].items() if isinstance(value, dict)]:
            tables[f"train.{name}"] = tables["train"].pop(name)
    sections = re.split(r"^## ", text, flags=re.MULTILINE)
    by_heading = {section.split("\n", 1)[0].strip("` \n"): section for section in sections[1:]}
    for table, values in rendered.items():
        if table == "surveys":
            rows = [(key, values["sdss"][key], values["cfht"][key]) for key in values["sdss"]]
            others = [(archive[table]["sdss"][key], archive[table]["cfht"][key]) for key in values["sdss"]]
            section = by_heading["[surveys.NAME]"]
        else:
            rows = [(key, value) for key, value in values.items()]
            others = [(archive[table][key],) for key in values]
            section = by_heading[f"[{table}]"]
        for (key, *defaults), without_sim in zip(rows, others, strict=True):
            start = "| " + " | ".join([f"`{key}`", *(f"`{_toml(value)}`" for value in defaults)]) + " |"
            line = next((row for row in section.splitlines() if row.startswith(start)), None)
            assert line is not None, f"docs/configuration.md: no row starting {start}"
            for value, default in zip(without_sim, defaults, strict=True):
                if value != default:
                    assert f"`{_toml(value)}`" in line and "without `--sim`" in line, (table, key, value)


def _toml(value: object) -> str:
    """A default as galtk.toml writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return repr(value)


def test_the_tests_named_in_the_guarantees_exist() -> None:
    """docs/guarantees.md backs each promise with tests: a renamed or deleted test must not go unnoticed."""
    text = (ROOT / "docs" / "guarantees.md").read_text(encoding="utf-8")
    named = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", text)
    assert len(named) > 20
    for path, test in named:
        source = ROOT / path
        assert source.is_file(), path
        if test:
            defined = re.search(rf"^def {test}\(", source.read_text(encoding="utf-8"), re.MULTILINE)
            assert defined, f"{path}::{test}"
