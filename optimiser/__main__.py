"""``python -m optimiser``: the ``optimiser`` command."""

from optimiser.cli.app import main

main()
