"""Hooks other packages register into without importing the outputs (cheap at the CLI's start).

``ACK_SOURCES``: further sources of acknowledgements, each called with the run and its output
folder by :func:`nianbao.output.history.review` — the review desk registers the decisions of its
database here (:mod:`nianbao.desk.nightly`) when the command line starts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nianbao.outcome import RunOutcome
    from nianbao.output.history import Ack

ACK_SOURCES: list[Callable[[RunOutcome, Path | None], list[Ack]]] = []
