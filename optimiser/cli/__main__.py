"""``python -m optimiser.cli``: the ``optimiser`` command."""

from optimiser.cli.app import main

main()
