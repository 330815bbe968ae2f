"""What the nightly run reads back from the desk: every decision on a finding of the run, as an
acknowledgement (:class:`nianbao.report.history.Ack`) that the static report and the workbook show
("已复核", who, when, the decision and its reason).

Registered in :data:`nianbao.report.hooks.ACK_SOURCES` when the command line starts; the
database is ``NIANBAO_DB`` when set, else ``desk.sqlite3`` in the reports folder when it exists
(a run without a desk reads nothing and imports no database library).
"""

from __future__ import annotations

import os
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from nianbao.desk.words import DB_ENV, DB_FILE, DECISION_ZH, OPEN

if TYPE_CHECKING:
    from nianbao.outcome import RunOutcome
    from nianbao.report.history import Ack


def database_url(out: Path | None) -> str | None:
    """The desk's database for a run written to ``out`` (a folder of the reports folder)."""
    env = os.environ.get(DB_ENV, "").strip()
    if env:
        return env
    if out is None:
        return None
    for folder in (out.parent, out):
        if (folder / DB_FILE).is_file():
            return "sqlite:///" + str((folder / DB_FILE).resolve())
    return None


def run_acks(outcome: RunOutcome, out: Path | None) -> list[Ack]:
    """The desk's decisions on the findings of ``outcome`` (confirmed or dismissed), as acknowledgements."""
    url = database_url(out)
    if url is None or not (outcome.findings or outcome.summaries):
        return []
    from sqlalchemy import select

    from nianbao.desk.db import Database, Review
    from nianbao.desk.identity import finding_key_of, key_hash
    from nianbao.desk.review import beijing
    from nianbao.report.history import Ack

    db = Database(url)
    try:
        with db.session() as s:
            rows = {r.key_hash: r for r in s.scalars(select(Review).where(Review.state != OPEN))}
    finally:
        db.dispose()
    if not rows:
        return []
    sha_of = {f.report: f.sha256 for f in outcome.files if f.report >= 0}
    acks: list[Ack] = []
    common = sorted({r for sm in outcome.summaries for r in sm.reports})  # (a summarised note: per report)
    for f in chain(outcome.findings, (x for r in common for x in outcome.summarised_of(r))):
        sha = sha_of.get(f.report)
        if not sha:
            continue
        rv = rows.get(key_hash(finding_key_of(f.agency, f.year, f.file, f.rule, f.cells)))
        if rv is None:
            continue
        note = f"审核台：{DECISION_ZH[rv.state]}" + (f"（{rv.reason}）" if rv.reason else "")
        when = beijing(rv.updated_at).isoformat(timespec="seconds")
        acks.append(Ack(sha, f.rule, tuple(f.cells), rv.user, note, when, any_severity=True))
    return acks


def register() -> None:
    """Let the nightly run (and ``nianbao validate``) read the desk's decisions."""
    from nianbao.report.hooks import ACK_SOURCES

    if run_acks not in ACK_SOURCES:
        ACK_SOURCES.append(run_acks)
