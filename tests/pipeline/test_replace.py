"""Swapping outputs in, recovering interrupted swaps, atomic text writes, creatable paths."""

from pathlib import Path

import pytest

from galtk.errors import StoreError
from galtk.pipeline.replace import (
    check_creatable,
    recover_interrupted_swap,
    staging_path,
    swap_in,
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
