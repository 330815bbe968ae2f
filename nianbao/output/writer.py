"""Write every view of a run's outcome into its output folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nianbao.outcome import RunOutcome
from nianbao.output.jsonout import write_json_outputs

# Further views (HTML, Excel, …) register here; each gets (outcome, out folder).
VIEWS: list[Callable[[RunOutcome, Path], None]] = [write_json_outputs]


def write_all(outcome: RunOutcome, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for view in VIEWS:
        view(outcome, out)
