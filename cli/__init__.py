"""The ``galtk`` command line (Typer)."""
