"""Swapping outputs in, recovering interrupted swaps, atomic text writes, creatable paths."""

from pathlib import Path

import pytest

from galtk.errors import StoreError
from galtk.pipeline.replace import (
    OLD_SUFFIX,
    check_creatable,
    finish_swap_together,
    recover_interrupted_swap,
    staging_path,
    swap_in,
    swap_in_together,
    write_text_atomic,
)


@pytest.mark.parametrize("kind", ["directory", "file"])
def test_swap_in_replaces_an_output_and_leaves_nothing_behind(tmp_path: Path, kind: str) -> None:
    final = tmp_path / "out"
    new = staging_path(final)
    for path, content in ((final, "old"), (new, "new")):
        if kind == "directory":
            path.mkdir()
            (path / "data").write_text(content)
        else:
            path.write_text(content)
    swap_in(new, final)
    assert (final / "data" if kind == "directory" else final).read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_swap_in_works_without_a_previous_output(tmp_path: Path) -> None:
    new = staging_path(tmp_path / "summary.json")
    new.write_text("{}")
    swap_in(new, tmp_path / "summary.json")
    assert (tmp_path / "summary.json").read_text() == "{}"


def test_an_interrupted_swap_is_recovered_only_when_accepted(tmp_path: Path) -> None:
    parked = tmp_path / "store.galtk-old"
    parked.mkdir()
    final = tmp_path / "store"
    assert not recover_interrupted_swap(final, accept=lambda path: False)
    assert parked.exists() and not final.exists()
    assert recover_interrupted_swap(final)
    assert final.exists() and not parked.exists()
    assert not recover_interrupted_swap(final)  # nothing to do once in place


def test_a_set_swapped_together_is_completed_after_an_interruption(tmp_path: Path) -> None:
    """A crossmatch killed during its renames once left a new paired store beside old unpaired ones."""
    outputs = [tmp_path / "paired.zarr", tmp_path / "unpaired.zarr", tmp_path / "summary.json"]
    for path in outputs:
        path.write_text(f"old {path.name}")
        staging_path(path).write_text(f"new {path.name}")
    journal = tmp_path / ".paired.zarr.swap.json"
    swap_in_together(outputs, journal)
    assert [path.read_text() for path in outputs] == [f"new {path.name}" for path in outputs]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(path.name for path in outputs)
    for path in outputs:  # the state of a run killed right after its first output's renames
        staging_path(path).write_text(f"newer {path.name}")
    write_text_atomic(journal, __import__("json").dumps([str(path) for path in outputs]))
    swap_in(staging_path(outputs[0]), outputs[0])
    outputs[1].rename(outputs[1].with_name(outputs[1].name + OLD_SUFFIX))  # killed between two renames
    assert finish_swap_together(journal)
    assert [path.read_text() for path in outputs] == [f"newer {path.name}" for path in outputs]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(path.name for path in outputs)
    assert not finish_swap_together(journal)


def test_write_text_atomic_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "galtk.toml"
    target.write_text("old")
    write_text_atomic(target, "new")
    assert target.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["galtk.toml"]


def test_check_creatable_names_the_obstacle(tmp_path: Path) -> None:
    check_creatable(tmp_path / "a" / "b" / "store.zarr")
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is not a directory"):
        check_creatable(tmp_path / "file" / "store.zarr")
