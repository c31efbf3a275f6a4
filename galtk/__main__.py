"""``python -m galtk``: the same as the ``galtk`` console script (and what torchrun starts: ``-m galtk``)."""

from galtk.cli.app import main

main()
