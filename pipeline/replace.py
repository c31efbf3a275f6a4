"""Replacing outputs without ever leaving them half written.

A new output (a store directory or a file) is written beside its final path as ``NAME.galtk-new`` and
swapped in only once complete: the previous output is moved aside to ``NAME.galtk-old``, the new one renamed
into place, the old one deleted. A run killed before the swap leaves the previous output untouched; one
killed between the two renames is repaired by :func:`recover_interrupted_swap`. Several outputs that belong
together (the cross-match's paired and unpaired stores and summary) are swapped as a set
(:func:`swap_in_together`): a journal naming them is written first, so that a run killed part-way through the
renames is completed by :func:`finish_swap_together`, never left as a mix of new and old outputs. Small text
files are written through a temporary file and renamed (:func:`write_text_atomic`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from galtk.errors import StoreError

log = logging.getLogger(__name__)

NEW_SUFFIX = ".galtk-new"
OLD_SUFFIX = ".galtk-old"


def check_creatable(path: Path) -> None:
    """Raise :class:`~galtk.errors.StoreError` unless ``path`` can be created.

    It can when its nearest existing ancestor is a writable directory.
    """
    probe = path.parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise StoreError(f"cannot create {path}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise StoreError(f"cannot create {path}: {probe} is not writable")


def staging_path(path: Path) -> Path:
    """Where the new version of ``path`` is written before :func:`swap_in`."""
    return path.with_name(path.name + NEW_SUFFIX)


def swap_in(new: Path, path: Path) -> None:
    """Replace ``path`` (if it exists) by the complete output at ``new``; the old one is deleted last."""
    old = path.with_name(path.name + OLD_SUFFIX)
    remove_leftover(old)
    if path.exists():
        os.replace(path, old)
    os.replace(new, path)
    remove_leftover(old)


def swap_in_together(outputs: Sequence[Path], journal: Path) -> None:
    """Replace every output of ``outputs`` by its complete new version (``staging_path``), as one set.

    The journal (a small JSON file) lists the outputs before the first rename and is removed after the last:
    while it exists the set is half replaced, and :func:`finish_swap_together` completes it.

    Parameters
    ----------
    outputs : sequence of Path
        Final paths; each must have its complete new version at ``staging_path(path)``.
    journal : Path
        Where to keep the journal (beside the outputs).
    """
    write_text_atomic(journal, json.dumps([str(Path(path).absolute()) for path in outputs]))
    finish_swap_together(journal)


def finish_swap_together(journal: Path) -> bool:
    """Complete the set of replacements ``journal`` lists, if a run was killed during them.

    Every new version was complete before the journal was written, so the set is rolled forward: each output
    whose new version is still there is swapped in, and what the old versions left is deleted.

    Returns
    -------
    bool
        True if there was an interrupted set to complete.
    """
    if not journal.exists():
        return False
    try:
        outputs = [Path(path) for path in json.loads(journal.read_text(encoding="utf-8"))]
    except (ValueError, OSError) as error:
        raise StoreError(f"{journal} (the list of outputs being replaced) is unreadable: {error}") from None
    for path in outputs:
        if staging_path(path).exists():
            swap_in(staging_path(path), path)
        remove_leftover(path.with_name(path.name + OLD_SUFFIX))
    journal.unlink()
    return True


def remove_leftover(path: Path) -> None:
    """Delete a staging or parked output of ours (directory or file), even if half deleted already."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def recover_interrupted_swap(path: Path, *, accept: Callable[[Path], bool] | None = None) -> bool:
    """Put back the previous output if a run died between the two renames of :func:`swap_in`.

    Parameters
    ----------
    path : Path
        Final path of the output.
    accept : callable, optional
        Restore the parked output only if ``accept(parked_path)`` is true (e.g. it is a galtk store).

    Returns
    -------
    bool
        True if an output was restored.
    """
    old = path.with_name(path.name + OLD_SUFFIX)
    if path.exists() or not old.exists() or (accept is not None and not accept(old)):
        return False
    log.warning("restoring %s from %s left by an interrupted replacement", path, old)
    os.replace(old, path)
    return True


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory, then rename."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
