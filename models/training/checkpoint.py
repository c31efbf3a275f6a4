"""Checkpoints of a training run: written atomically, found again after a crash, checked before use.

A checkpoint is one ``torch.save`` file ``iter_NNNNNNN.pt`` (NNNNNNN: iterations done in the step) holding a
dict with the networks, optimizers and schedulers, torch's random-number states and the settings. It
is written to ``iter_NNNNNNN.pt.galtk-new`` (see :mod:`galtk.pipeline.replace`), flushed to disk and renamed
into place, so a process killed while writing leaves the previous checkpoints intact; a newest file that does
not load (truncated, corrupt) is skipped with a warning.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from galtk.errors import CheckpointError
from galtk.pipeline.replace import NEW_SUFFIX, remove_leftover, staging_path

log = logging.getLogger(__name__)

FORMAT = 1
"""Version of the checkpoint layout."""

_NAME = re.compile(r"^iter_(\d{7,})\.pt$")


def checkpoint_name(iteration: int) -> str:
    """File name of the checkpoint after ``iteration`` iterations: ``iter_0005000.pt``."""
    return f"iter_{iteration:07d}.pt"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically: staging file, flush, fsync, rename, fsync of the directory.

    Parameters
    ----------
    path : Path
        Final checkpoint path; its directory is created if needed.
    state : dict
        What to save (tensors, plain Python values).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_path(path)
    try:
        with open(staging, "wb") as stream:
            torch.save(state, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(staging, path)
    except BaseException:
        remove_leftover(staging)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def load_checkpoint(path: Path, map_location: torch.device | str = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Raises
    ------
    CheckpointError
        If the file is missing, truncated or not a galtk checkpoint.
    """
    try:
        _verify_checksums(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns once per odd record of a damaged file
            state = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint at {path}") from None
    except CheckpointError:
        raise
    except Exception as error:  # torch raises RuntimeError, EOFError, pickle errors... for damaged files
        raise CheckpointError(
            f"{path} is damaged or not a galtk checkpoint ({_first_sentence(error)}); "
            "use another checkpoint of the run, or train again"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a galtk training checkpoint (format {FORMAT})")
    return state


def _verify_checksums(path: Path) -> None:
    """Read every record of the checkpoint's zip archive and check its CRC-32 (torch.load does not).

    A flipped bit in the weights was loaded silently. Files that are not zip archives are left to torch.load,
    which refuses them.
    """
    if not zipfile.is_zipfile(path):
        return
    with zipfile.ZipFile(path) as archive:
        damaged = archive.testzip()
    if damaged is not None:
        raise CheckpointError(
            f"{path} is damaged (the checksum of its record {damaged} fails); use another checkpoint of the "
            "run, or train again"
        )


def _first_sentence(error: Exception) -> str:
    """The error's type and the first line of its message, leaving out torch's advice to load unsafely."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if "weights_only" in text or len(text) > 120:
        text = ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def list_checkpoints(directory: Path) -> list[tuple[int, Path]]:
    """The checkpoints of a directory as (iteration, path), oldest first (none if it does not exist)."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def latest_checkpoint(directory: Path, map_location: torch.device | str = "cpu") -> tuple[Path, dict] | None:
    """The newest checkpoint of ``directory`` that loads, or None.

    Unreadable newer files are skipped with a warning; staging files left by a killed write are deleted.

    Returns
    -------
    tuple of (Path, dict) or None
        The checkpoint's path and contents.
    """
    if directory.is_dir():
        for leftover in directory.glob(f"*{NEW_SUFFIX}"):
            log.warning("removing %s, left by a checkpoint write that did not finish", leftover)
            remove_leftover(leftover)
    for _, path in reversed(list_checkpoints(directory)):
        try:
            return path, load_checkpoint(path, map_location)
        except CheckpointError as error:
            log.warning("skipping %s: %s", path, error)
    return None


def checkpoint_holding(run_root: Path, roles: Iterable[str], *, last_stage: bool = False) -> Path | None:
    """The newest readable checkpoint of a run's first (or last) stage whose checkpoints hold ``roles``.

    The one checkpoint finder of galtk: ``galtk train --frozen-from RUN`` takes the first stage holding the
    frozen networks (step 1 of ``ours``), ``galtk translate`` and ``galtk evaluate`` the last stage holding
    both generators (step 2 of ``ours``).

    Parameters
    ----------
    run_root : Path
        A run directory (its checkpoints are under ``checkpoints/STAGE/``).
    roles : iterable of str
        Network roles the checkpoint must hold (e.g. ``G_XY``, ``G_YX``).
    last_stage : bool, optional
        Search the stages from the last (default: from the first).

    Returns
    -------
    Path or None
    """
    wanted = tuple(roles)
    for stage_directory in sorted((run_root / "checkpoints").glob("*"), reverse=last_stage):
        found = latest_checkpoint(stage_directory)
        if found is not None and all(role in found[1]["networks"] for role in wanted):
            return found[0]
    return None


def prune_checkpoints(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` checkpoints of ``directory``; return the deleted paths."""
    doomed = [path for _, path in list_checkpoints(directory)[:-keep]] if keep > 0 else []
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def check_compatible(state: dict[str, Any], *, source: Path, expected: dict[str, Any]) -> None:
    """Refuse a checkpoint whose identity differs from this run's.

    Parameters
    ----------
    state : dict
        A loaded checkpoint.
    source : Path
        Its path, for the message.
    expected : dict
        The values this run needs, e.g. ``{"bands": 5, "width": 0.5}``; each is compared with ``state[key]``.

    Raises
    ------
    CheckpointError
        Naming every key that differs, with both values.
    """
    differences = [
        f"{key} {state.get(key)!r} (this run: {value!r})"
        for key, value in expected.items()
        if state.get(key) != value
    ]
    if differences:
        raise CheckpointError(f"checkpoint {source} does not fit this run: it has " + ", ".join(differences))


def capture_rng_state() -> dict[str, Any]:
    """The states of torch's random-number generators in this process (CPU, and every CUDA device).

    Training draws its randomness (noise seeds, latent codes) from torch only; batches are a deterministic
    function of the iteration, so these states are all a resumed run needs.
    """
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng_state(state: dict[str, Any]) -> None:
    """Put back generator states captured by :func:`capture_rng_state`."""
    torch.set_rng_state(state["torch"].cpu())
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([item.cpu() for item in state["cuda"]][: torch.cuda.device_count()])
