"""Write every view of a run's outcome into its output folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nianbao.hooks import checkpoint
from nianbao.outcome import RunOutcome
from nianbao.output.jsonout import write_json_outputs
from nianbao.output.parallel import frozen_gc
from nianbao.output.quality import quality_view

# Further views register here; each gets (outcome, out folder).  quality_view writes the HTML
# report, findings.xlsx and changes.json (it reads outcome.extra["previous_run"/"acks_file"]).
VIEWS: list[Callable[[RunOutcome, Path], None]] = [write_json_outputs, quality_view]


def write_all(outcome: RunOutcome, out: Path) -> None:
    checkpoint("views")  # a test hook (nianbao.hooks): the views writer failing or interrupted
    out.mkdir(parents=True, exist_ok=True)
    with frozen_gc():  # the views only read the outcome: keep the collector off its objects
        for view in VIEWS:
            view(outcome, out)
