"""Checks of what a ``galtk`` command printed, shared by the command-line tests."""

from __future__ import annotations

from typer.testing import Result


def one_error_line(result: Result) -> str:
    """The single line a failed command printed on standard error, which must start with ``Error: ``."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]
