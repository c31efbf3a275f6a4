"""``python -m galtk.cli``: the same as the ``galtk`` console script."""

from galtk.cli.app import main

main()
