"""Write every view of a run's outcome into its output folder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nianbao.io.atomic import inside, write_json
from nianbao.outcome import RunOutcome
from nianbao.report.excel import WORKBOOK, reuse_workbook, workbook_key, write_excel
from nianbao.report.history import changes_json
from nianbao.report.html import write_html, write_index
from nianbao.report.jsonout import write_json_outputs
from nianbao.report.parallel import frozen_gc, mark_idle
from nianbao.report.quality import Quality, prepare
from nianbao.report.reuse import Reuse
from nianbao.run.collector import gc_paused
from nianbao.run.hooks import checkpoint


def write_quality_report(
    outcome: RunOutcome,
    out: Path,
    previous: Path | None = None,
    acks: Path | None = None,
    *,
    shared: Sequence[Callable[[], object]] = (),
) -> Quality:
    """Write the HTML report, the Excel workbook and ``changes.json`` into ``out``.  ``shared``:
    further work (a first run's contract files, :func:`write_all`) done as units shared with the
    pages' helper, before ``index.html``."""
    # no cyclic collection while the review and the pages' names are made (many objects that
    # live on, no cycles: the collector's passes over them were most of the views' own collections)
    with gc_paused():
        q = prepare(outcome, out, previous, acks)
    out.mkdir(parents=True, exist_ok=True)

    def changes() -> None:
        write_json(inside(out, "changes.json"), changes_json(outcome, q.review), durable=False)

    # pages and the workbook unchanged since the run the review compares with are taken from
    # its folder (nianbao.report.reuse); the workbook is otherwise one more unit of work the HTML
    # pages share with a helper process (when there are many); index.html comes last: it only
    # links to what exists
    reuse = Reuse(out, q.review.previous)
    if _adopted(q, out, reuse, outcome, [*shared, changes]):
        return q
    # changes.json (and the shared work) overlap the pages: units of work like the workbook
    extra: list[Callable[[], object]] = [*shared, changes]
    later: list[Callable[[], object]] = []
    if not reuse.can_take:  # a first run: the workbook is built, its key recorded after the fork
        reuse.rendered(WORKBOOK)
        extra.append(lambda: write_excel(outcome, out, quality=q))
        later.append(lambda: reuse.match(WORKBOOK, workbook_key(q, reuse)))
    elif not reuse_workbook(q, out, reuse):
        reuse.rendered(WORKBOOK)
        extra.append(lambda: write_excel(outcome, out, quality=q))
    write_html(outcome, out, quality=q, extra=extra, reuse=reuse, later=later)
    return q


def _adopted(q: Quality, out: Path, reuse: Reuse, outcome: RunOutcome, units: list[Callable[[], object]]) -> bool:
    """The steady rerun's views: when nothing a page or the workbook's other sheets show changed,
    every page is linked from the previous run (no page keyed, none rendered), the workbook gets
    this run's 汇总, ``index.html`` is rendered; False (nothing done) otherwise.  No cyclic
    collection meanwhile: the work is bounded (no report page is rendered) and makes no cycles
    worth collecting, and a collection would walk every object the run keeps."""

    def meanwhile() -> None:
        # while the pages are linked (their system calls in a thread, the GIL released): the
        # units and index.html, none of which reads a page or the reuse's keys (done again by the
        # caller when the adoption fails after all, a page that could not be linked)
        for unit in units:
            unit()
        write_index(q, out)

    with gc_paused():
        if not reuse.adopt(q.review.unchanged, views_parts(q), keep=(WORKBOOK,), meanwhile=meanwhile):
            return False
        if not reuse_workbook(q, out, reuse):
            reuse.rendered(WORKBOOK)
            write_excel(outcome, out, quality=q)
        reuse.rendered("index.html")
        reuse.save()
        q.page_stats = reuse.stats
    return True


def views_parts(q: Quality) -> tuple[Any, ...]:
    """What the pages show beside the contract files and ``run.json`` (the views key,
    :meth:`nianbao.report.reuse.Reuse.adopt`): the review of every finding and report, the
    registry, the scale path."""
    rv = q.review
    acks = sorted(rv.acks.items())
    common_acks = sorted(rv.common_acks.items())  # a summarised info's acknowledgement shows on its report's page
    review = (rv.status, acks, common_acks, rv.report_change, rv.resolved, rv.withdrawn, rv.problems, rv.has_previous)
    registry = [(a.county, a.agency, a.level) for a in q.outcome.registry or ()]
    return review, registry, q.large


def quality_view(outcome: RunOutcome, out: Path) -> None:
    """The quality report as a view (reads ``outcome.info.previous_run`` and
    ``outcome.info.acks_file`` when set)."""
    prev = outcome.info.previous_run
    acks = outcome.info.acks_file
    write_quality_report(outcome, out, Path(prev) if prev else None, Path(acks) if acks else None)


# Further views register here; each gets (outcome, out folder).  quality_view writes the HTML
# report, findings.xlsx and changes.json (it reads outcome.info.previous_run / acks_file).
VIEWS: list[Callable[[RunOutcome, Path], None]] = [write_json_outputs, quality_view]


def write_all(outcome: RunOutcome, out: Path) -> None:
    checkpoint("views")  # a test hook (nianbao.run.hooks): the views writer failing or interrupted
    mark_idle()  # whether a second core is free is measured over the first views (no sleep for it)
    out.mkdir(parents=True, exist_ok=True)
    # a first run (nothing to compare with: the review reads none of this run's contract files)
    # writes them as units of work shared with the pages' helper: their serialisation and fsync
    # overlap the pages instead of coming before everything
    first = outcome.info.previous_run is None and quality_view in VIEWS
    shared = [lambda: write_json_outputs(outcome, out)] if first and write_json_outputs in VIEWS else []
    with frozen_gc():  # the views only read the outcome: keep the collector off its objects
        for view in VIEWS:
            if shared and view is write_json_outputs:
                continue
            if shared and view is quality_view:
                acks = outcome.info.acks_file
                write_quality_report(outcome, out, None, Path(acks) if acks else None, shared=shared)
            else:
                view(outcome, out)
