"""The report layer's writers as the one value the run's steps take (:class:`nianbao.outcome.Views`):
the command line and the flows hand :data:`REPORT_VIEWS` to :mod:`nianbao.run.steps`."""

from __future__ import annotations

from nianbao.outcome import Views
from nianbao.report.jsonout import write_json_outputs
from nianbao.report.writer import write_all

REPORT_VIEWS = Views(contract=write_json_outputs, write_all=write_all)
