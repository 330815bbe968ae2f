"""``submissions.json``, ``findings.json`` and ``run.json`` — the machine-readable contract."""

from __future__ import annotations

from pathlib import Path

from nianbao.outcome import RunOutcome
from nianbao.output.atomic import write_json


def write_json_outputs(outcome: RunOutcome, out: Path) -> None:
    write_json(out / "submissions.json", [f.to_json() for f in outcome.files])
    write_json(out / "findings.json", [f.to_json() for f in outcome.findings])
    write_json(
        out / "run.json",
        {
            "started_at": outcome.started_at,
            "ruleset_version": outcome.ruleset_version,
            "inputs": outcome.inputs,
            "files": outcome.n_files,
            "validated": outcome.n_files - outcome.n_unreadable,
            "unreadable": outcome.n_unreadable,
            "errors": outcome.n_errors,
            "warnings": outcome.n_warnings,
            "exit_code": outcome.exit_code,
            "timings_s": {k: round(v, 4) for k, v in outcome.timings.items()},
            **outcome.extra,
        },
    )
