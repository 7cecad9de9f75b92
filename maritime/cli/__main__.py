"""``python -m maritime.cli``: the ``maritime`` command."""

from maritime.cli import main

main()
