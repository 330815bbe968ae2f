"""What every ``nianbao`` command shares: the command group, the two consoles, the bounds of options.

The commands live in :mod:`nianbao.cli.app`, :mod:`nianbao.cli.run` and :mod:`nianbao.desk.cli` and
register on :data:`app`; :mod:`nianbao.cli.app` imports them all (``nianbao`` runs ``cli.main``).
"""

from __future__ import annotations

import typer
from rich.console import Console

from nianbao.cli.errors import ChineseErrorsGroup

app = typer.Typer(
    cls=ChineseErrorsGroup,  # click's usage errors, escaped OS errors: one Chinese sentence, exit 2
    name="nianbao",  # the program's name in messages, however it is started (python -m nianbao.cli)
    add_completion=False,
    no_args_is_help=True,
    help="nianbao：政府信息公开工作年度报告数据质量校验。",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
# No markup or emoji codes: messages carry file names and cell ids from submissions ("[x]", ":x:").
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)
out_console = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)

MAX_WORKERS = 256  # --workers: a typo (4000) must not start thousands of processes
