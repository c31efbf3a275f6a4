"""Checkpoints: atomic writes, a process killed mid-write, damaged files skipped, pruning, identity checks."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from galtk.errors import CheckpointError
from galtk.models.training.checkpoint import (
    FORMAT,
    capture_rng_state,
    check_compatible,
    checkpoint_name,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    restore_rng_state,
    save_checkpoint,
)


def _state(iteration: int, size: int = 10) -> dict:
    return {"format": FORMAT, "iteration": iteration, "weights": torch.full((size,), float(iteration))}


def test_save_then_load_leaves_no_staging_file(tmp_path: Path) -> None:
    path = tmp_path / "step1" / checkpoint_name(5000)
    save_checkpoint(path, _state(5000))
    assert path.name == "iter_0005000.pt"
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    loaded = load_checkpoint(path)
    assert loaded["iteration"] == 5000
    torch.testing.assert_close(loaded["weights"], torch.full((10,), 5000.0))


def test_kill_9_during_a_write_leaves_the_previous_checkpoint_loadable(tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(
        textwrap.dedent(
            """
            import io, sys, time
            from pathlib import Path
            import torch
            from galtk.models.training import checkpoint

            directory = Path(sys.argv[1])
            checkpoint.save_checkpoint(
                directory / "iter_0000001.pt", {"format": 1, "iteration": 1, "weights": torch.ones(1000)}
            )
            real_save = torch.save

            def half_then_hang(state, stream):
                buffer = io.BytesIO()
                real_save(state, buffer)
                data = buffer.getvalue()
                stream.write(data[: len(data) // 2])
                stream.flush()
                print("half written", flush=True)
                time.sleep(120)
                stream.write(data[len(data) // 2 :])

            checkpoint.torch.save = half_then_hang
            checkpoint.save_checkpoint(
                directory / "iter_0000002.pt", {"format": 1, "iteration": 2, "weights": torch.zeros(200_000)}
            )
            """
        )
    )
    writer = subprocess.Popen([sys.executable, str(script), str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "half written"
        os.kill(writer.pid, signal.SIGKILL)
        assert writer.wait(timeout=30) == -signal.SIGKILL
    finally:
        if writer.poll() is None:
            writer.kill()
    staging = tmp_path / "iter_0000002.pt.galtk-new"
    assert staging.exists() and not (tmp_path / "iter_0000002.pt").exists()
    with pytest.raises(CheckpointError):
        load_checkpoint(staging)
    found = latest_checkpoint(tmp_path)
    assert found is not None
    path, state = found
    assert path.name == "iter_0000001.pt" and state["iteration"] == 1
    torch.testing.assert_close(state["weights"], torch.ones(1000))
    assert not staging.exists()


def test_a_truncated_newest_checkpoint_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for iteration in (2, 4):
        save_checkpoint(tmp_path / checkpoint_name(iteration), _state(iteration, size=5000))
    newest = tmp_path / checkpoint_name(4)
    newest.write_bytes(newest.read_bytes()[:1000])
    (tmp_path / checkpoint_name(6)).write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="galtk.models.training.checkpoint"):
        found = latest_checkpoint(tmp_path)
    assert found is not None and found[0].name == checkpoint_name(2)
    skipped = [record.getMessage() for record in caplog.records]
    assert len(skipped) == 2 and all("skipping" in message for message in skipped)
    assert latest_checkpoint(tmp_path / "missing") is None


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "iter_0000001.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="not a galtk training checkpoint"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "absent.pt")


class _Unsafe:
    """A class no galtk checkpoint holds: torch's safe loader refuses to unpickle it."""


@pytest.mark.parametrize("damage", ["truncated", "random bytes", "pickled object"])
def test_a_damaged_checkpoint_is_one_line_that_never_advises_unsafe_loading(
    tmp_path: Path, damage: str, recwarn: pytest.WarningsRecorder
) -> None:
    path = tmp_path / checkpoint_name(3)
    save_checkpoint(path, _state(3, size=5000))
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    elif damage == "random bytes":
        path.write_bytes(bytes(range(256)) * 40)
    else:
        torch.save({"format": "x", "object": _Unsafe()}, path)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert message.startswith(f"{path} is damaged or not a galtk checkpoint ("), message
    assert "\n" not in message and "weights_only" not in message
    assert not [warning for warning in recwarn if "torch" in str(warning.filename)]


def test_a_flipped_bit_in_the_weights_is_refused(tmp_path: Path) -> None:
    """torch.load does not check the archive's CRCs: a checkpoint with one flipped byte loaded silently."""
    import struct
    import zipfile

    path = tmp_path / checkpoint_name(2)
    save_checkpoint(path, _state(2, size=5000))
    with zipfile.ZipFile(path) as archive:
        record = max(archive.infolist(), key=lambda info: info.file_size)
    data = bytearray(path.read_bytes())
    start = record.header_offset  # local header: 30 bytes, then the name and the extra field, then the data
    name_length, extra_length = struct.unpack("<HH", data[start + 26 : start + 30])
    data[start + 30 + name_length + extra_length + record.file_size // 2] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"is damaged \(the checksum of its record .* fails\)"):
        load_checkpoint(path)


class _RunsCode:
    """Pickled as a call: unpickling it touches ``marker``, as a hostile checkpoint would run its code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


def test_a_checkpoint_that_would_run_code_is_refused_without_running_it(tmp_path: Path) -> None:
    path, marker = tmp_path / checkpoint_name(1), tmp_path / "code-ran"
    torch.save({"format": FORMAT, "iteration": 1, "payload": _RunsCode(marker)}, path)
    with pytest.raises(CheckpointError, match="is damaged or not a galtk checkpoint"):
        load_checkpoint(path)
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the check above can fail: an unsafe load does run the code
    assert marker.exists()


def test_prune_keeps_the_newest(tmp_path: Path) -> None:
    for iteration in (1, 2, 10, 11):
        save_checkpoint(tmp_path / checkpoint_name(iteration), _state(iteration))
    deleted = prune_checkpoints(tmp_path, keep=2)
    assert [p.name for p in deleted] == [checkpoint_name(1), checkpoint_name(2)]
    assert [iteration for iteration, _ in list_checkpoints(tmp_path)] == [10, 11]


def test_compatibility_check_names_every_difference(tmp_path: Path) -> None:
    state = {"method": "ours", "stage": "step1", "bands": ["u", "g"], "width": 0.5}
    check_compatible(state, source=tmp_path, expected={"method": "ours", "width": 0.5})
    with pytest.raises(CheckpointError) as error:
        check_compatible(
            state, source=tmp_path, expected={"method": "ours", "bands": ["u", "g", "r"], "width": 1.0}
        )
    message = str(error.value)
    assert "bands ['u', 'g'] (this run: ['u', 'g', 'r'])" in message
    assert "width 0.5 (this run: 1.0)" in message and "method" not in message


def test_rng_state_round_trip_through_a_checkpoint(tmp_path: Path) -> None:
    torch.manual_seed(3)
    torch.randn(7)
    save_checkpoint(tmp_path / checkpoint_name(1), {"format": FORMAT, "rng": capture_rng_state()})
    expected = torch.randn(5)
    torch.manual_seed(99)
    restore_rng_state(load_checkpoint(tmp_path / checkpoint_name(1))["rng"])
    torch.testing.assert_close(torch.randn(5), expected, rtol=0, atol=0)
