"""``python -m nianbao.cli``: the ``nianbao`` command."""

from nianbao.cli.app import main

main()
