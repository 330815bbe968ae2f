"""The auditor's quality report: what the HTML pages and the Excel workbook share.

:func:`prepare` computes, once per run and in one pass over the files and the findings, the
review against the previous run and the acknowledgements, the page name of every submission,
which reports get a page of their own, the findings of each report, the county each report
belongs to (the unit of the county pages) and the order worst first.  Cells flagged by each
finding: :func:`flags_of`.  :func:`nianbao.report.writer.write_quality_report` writes
``index.html``, ``counties/*.html``, ``rules.html``, ``reports/*.html``, ``findings.xlsx`` and
``changes.json`` from it.

**Large batches** (more than :data:`LARGE_BATCH` files — a province or the whole country): every
report with an error or a warning, and every unreadable file, still gets its page (that is what
an auditor opens), but a report that passed is a row of its county's page only; the workbook
lists the errors and warnings and the values of the worst reports (see
:mod:`nianbao.report.excel`).  Smaller batches get a page for every report.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePath
from typing import Any

from nianbao.catalogue import derived, linear_rules
from nianbao.domain.model import ParsedReport
from nianbao.domain.normalize import State
from nianbao.domain.registry import Agency, normalise_agency
from nianbao.domain.spec import Fmt
from nianbao.outcome import STATE_ZH, FileOutcome, Finding, RunOutcome, Suspect, report_state
from nianbao.report.history import ACKED, NEW, Review, review
from nianbao.report.names import county_page_name, page_name

SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}


def cause_zh(cause: str) -> str:
    """The Chinese wording of an error-localisation cause code (``digit_typo`` …)."""
    words = _causes_zh()
    return cause if words is None else str(words.get(cause, cause))


_CAUSES: list[dict[str, str]] = []  # localisation's words, once imported (a suspect's cause, each)


def _causes_zh() -> dict[str, str] | None:
    if not _CAUSES:
        try:
            from nianbao.localise import CAUSES_ZH
        except ImportError:  # localisation not installed: show the code as it is
            return None
        _CAUSES.append(CAUSES_ZH)
    return _CAUSES[0]


def alternative(s: Suspect) -> int:
    """Which of several equally small explanations a suspect belongs to (0 when there is one)."""
    return int(getattr(s, "alternative", 0) or 0)


# the stages of a run (run.json's timings), in the auditor's words
STAGE_ZH = {
    "discover": "查找文件",
    "store_lookup": "查找上次的解析结果",
    "parse": "读取报告",
    "validate": "校验",
    "validate_schemas": "表内勾稽与填写规范",
    "validate_cross_year": "跨年度核对",
    "validate_plausibility": "数字合理性",
    "validate_prose": "正文与表格核对",
    "localise": "推断疑似错误单元格",
    "batch_expectations": "批次检查",
    "total": "合计",
}


def stages_zh(timings: dict[str, float]) -> list[tuple[str, float]]:
    """(stage in Chinese, seconds) for the known stages; the others summed as 其他步骤."""
    out: list[tuple[str, float]] = []
    other = 0.0
    for k, v in timings.items():
        if k in STAGE_ZH:
            out.append((STAGE_ZH[k], round(v, 2)))
        else:
            other += v
    if other:
        out.append(("其他步骤", round(other, 2)))
    return out


BLANK_ZH = "空白（未填写）"


@derived
def _printed_side() -> dict[tuple[str, tuple[str, ...]], tuple[str, ...]]:
    """(rule, cells) of a sum-rule finding -> the cells of its printed side (the total)."""
    return {(lr.code, lr.cells): lr.lhs for fmt in Fmt for lr in linear_rules(fmt)}


def printed_blank(f: Finding, rep: ParsedReport | None) -> bool | None:
    """For a sum-rule finding: whether its printed side (the total) was left blank — the sums count
    it as 0, but the auditor must read 空白（未填写）, not "报告填写 0".  None for other findings."""
    lhs = _printed_side().get((f.rule, tuple(f.cells)))
    if lhs is None or rep is None:
        return None
    return all((c := rep.cells.get(x)) is not None and c.state is State.BLANK for x in lhs)


TEXT_RULES_WITH_CELLS = "H"  # text vs table: the sentence states one figure, the table prints another


def is_text_against_table(f: Finding) -> bool:
    return f.rule.startswith(TEXT_RULES_WITH_CELLS) and bool(f.cells) and f.quote is not None


def text_and_table(f: Finding, rep: ParsedReport | None) -> tuple[Any, Any] | None:
    """For a finding of the text against the table: (what the text states, what the table prints —
    空白（未填写） when its cells are blank); None for other findings.  ``expected``/``actual`` of
    these findings are the two sides in a rule-dependent order; the table's own cells tell which
    one is the table's."""
    if rep is None or not is_text_against_table(f):
        return None
    cells = [c for x in f.cells if (c := rep.cells.get(x)) is not None]
    vals = [c.value for c in cells if c.value is not None]
    table = sum(vals) if vals else 0.0
    blank = bool(cells) and all(c.state is State.BLANK for c in cells)
    if isinstance(f.expected, int | float) and table == f.expected:
        return f.actual, BLANK_ZH if blank else f.expected
    if isinstance(f.actual, int | float) and table == f.actual:
        return f.expected, BLANK_ZH if blank else f.actual
    return None


SEV_RANK = {"error": 0, "warning": 1, "info": 2}
REPORTS_DIR = "reports"
COUNTIES_DIR = "counties"
# files in a run above which the scale path is taken (a page only for reports with errors or
# warnings and unreadable files; a lean workbook) — module-level so that tests can lower it
LARGE_BATCH = 5000
NO_COUNTY = "（未分县）"


@dataclass(slots=True)
class Flag:
    """What the findings of a report say about one cell (or one structural element)."""

    severity: str
    findings: list[int] = field(default_factory=list)  # indices in outcome.findings
    rules: list[str] = field(default_factory=list)
    primary: list[int] = field(default_factory=list)  # findings for which this cell is the one to look at
    suspect: Suspect | None = None

    def add(self, k: int, f: Finding, primary: bool) -> None:
        if SEV_RANK.get(f.severity, 3) < SEV_RANK.get(self.severity, 3):
            self.severity = f.severity
        self.findings.append(k)
        if f.rule not in self.rules:
            self.rules.append(f.rule)
        if primary:
            self.primary.append(k)


@cache
def _sum_rule_codes() -> frozenset[str]:
    return frozenset(lr.code for fmt in Fmt for lr in linear_rules(fmt))


def flags_of(findings: list[tuple[int, Finding]]) -> dict[str, Flag]:
    """cell id (or ``*`` element id) -> its flag, for the findings of one report.

    Every cell a finding involves is flagged; for a sum rule the printed side (its first cell) and
    the suspects found by error localisation are the *primary* cells (they carry the rule badge)."""
    out: dict[str, Flag] = {}
    sums = _sum_rule_codes()
    for k, f in findings:
        suspects: dict[str, Suspect] = {}
        for s in f.suspects or []:
            if s.cell not in suspects or alternative(s) < alternative(suspects[s.cell]):
                suspects[s.cell] = s
        for i, cid in enumerate(f.cells):
            fl = out.get(cid)
            if fl is None:
                fl = out[cid] = Flag(f.severity)
            primary = f.rule not in sums or i == 0 or cid in suspects
            fl.add(k, f, primary)
            if cid in suspects and (fl.suspect is None or alternative(suspects[cid]) < alternative(fl.suspect)):
                fl.suspect = suspects[cid]
        for cid, s in suspects.items():  # a suspect outside the finding's cells is still shown
            if cid not in f.cells:  # (its badges come from the findings whose cells it is)
                fl = out.get(cid) or out.setdefault(cid, Flag(f.severity))
                fl.add(k, f, False)
                fl.suspect = fl.suspect or s
    return out


@dataclass(slots=True)
class Group:
    """The reports of one county: one row of the overview, one page under ``counties/``."""

    name: str
    page: str  # file name under counties/
    files: list[int]  # file indices, worst first
    registered: int | None = None  # agencies of the county in the registry (None: no registry)
    expected: int | None = None  # registered agencies x report years of the run
    missing: list[tuple[int | None, str]] = field(default_factory=list)  # (year, agency) not submitted


@dataclass
class Quality:
    outcome: RunOutcome
    review: Review
    pages: list[str]  # per file: page name under reports/ where paged[i] (else "")
    by_report: dict[int, list[tuple[int, Finding]]]  # report index -> (finding index, finding)
    file_index: dict[int, int]  # report index -> file index
    large: bool = False  # the scale path (more than LARGE_BATCH files)
    paged: list[bool] = field(default_factory=list)  # per file: has a page of its own
    order: list[int] = field(default_factory=list)  # file indices, worst first
    groups: list[Group] = field(default_factory=list)  # counties, by name
    group_of: list[int] = field(default_factory=list)  # per file: index in groups
    new: list[int] = field(default_factory=list)  # per file: findings new since the previous run
    # per county: new findings about no file of its own (an agency that did not submit, M01)
    new_elsewhere: dict[str, int] = field(default_factory=dict)
    acked: list[int] = field(default_factory=list)  # per file: acknowledged findings
    registry: list[dict[str, Any]] | None = None  # registry_status(outcome)
    anchor: list[int] = field(default_factory=list)  # per finding: its number on its report's page (f-<n>)
    page_stats: Any = None  # nianbao.report.reuse.PageStats of the pages written (write_html)
    _states: Counter[str] | None = field(default=None, repr=False, compare=False)
    # per county page: its counts (group_counts), made once per process for the views that show them
    _counts: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    def state_counts(self) -> Counter[str]:
        """How many reports are in each state (:func:`report_state`): counted once for the views
        that show them (the overview, the workbook's 汇总), not a walk of the files each."""
        if self._states is None:
            self._states = Counter(map(report_state, self.outcome.files))
        return self._states

    def file_findings(self, fo: FileOutcome) -> list[tuple[int, Finding]]:
        return self.by_report.get(fo.report, []) if fo.report >= 0 else []

    def page_of_finding(self, f: Finding) -> str | None:
        """The page of a finding's report, None when the report has no page (or no file)."""
        i = self.file_index.get(f.report)
        return self.pages[i] if i is not None and self.paged[i] else None

    def href(self, i: int, prefix: str = "") -> str:
        """Where the report of file ``i`` is shown: its page, or else its row on the county page."""
        if self.paged[i]:
            return f"{prefix}{REPORTS_DIR}/{self.pages[i]}"
        return f"{prefix}{COUNTIES_DIR}/{self.groups[self.group_of[i]].page}#r-{i}"

    def county_href(self, i: int, prefix: str = "") -> str:
        return f"{prefix}{COUNTIES_DIR}/{self.groups[self.group_of[i]].page}"


NO_AGENCY = "（未识别机关）"
_STEM_YEAR = re.compile(r"[_\-\s]*((?:19|20)\d\d)(?:年度?)?(?:年报|报告)?$")
_NAME_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


def agency_label(fo: FileOutcome) -> str:
    """The agency as the report names it; for a file whose report names none (unreadable, or no
    title), the name its file gives (``示例县青山镇_2023.docx`` → 示例县青山镇（据文件名））."""
    if fo.agency:
        return fo.agency
    stem = PurePath(fo.file.replace("\\", "/")).stem
    name = _STEM_YEAR.sub("", stem).strip(" _-.")
    if name and not name.isdigit():
        return f"{name}（据文件名）"
    return NO_AGENCY


def year_label(fo: FileOutcome) -> int | None:
    """The report year; for a file whose report names none, the year its file name or folder gives."""
    if fo.year is not None:
        return fo.year
    for part in reversed(PurePath(fo.file.replace("\\", "/")).parts):
        if m := _NAME_YEAR.search(part):
            return int(m.group(1))
    return None


def is_flagged(fo: FileOutcome) -> bool:
    """A report an auditor must open: unreadable, or with an error or a warning."""
    return fo.status != "validated" or bool(fo.errors) or bool(fo.warnings)


def state_of(fo: FileOutcome) -> tuple[str, str]:
    """The state of a report in Chinese, and its CSS class (:func:`nianbao.outcome.report_state`)."""
    s = report_state(fo)
    if fo.status == "not_processed":  # a run that stopped before it (nianbao.run.interrupt)
        return "未处理", s
    return STATE_ZH[s], s


def worst_order(files: list[FileOutcome]) -> list[int]:
    """File indices: unreadable first, then by errors, warnings, notes (descending), then by file."""
    keys = [(f.status == "validated", -f.errors, -f.warnings, -f.infos, f.file) for f in files]
    return sorted(range(len(files)), key=keys.__getitem__)


def registry_keys(outcome: RunOutcome) -> list[str]:
    """Each registered agency's matching key (:func:`normalise_agency`), in the registry's order:
    worked out once per run by :func:`prepare` for its several uses (50,000 agencies, ~1 µs each)."""
    return [a.key for a in outcome.registry or ()]


def county_of_files(outcome: RunOutcome, keys: list[str] | None = None) -> list[str]:
    """The county of each file: the inbox's county folder (set by the flows), else the registry's
    county of its agency, else the folder the file is in (``<year>/<county>/<file>`` in the inbox
    layout), else :data:`NO_COUNTY`.  ``keys``: :func:`registry_keys`, when already known."""
    by_agency: dict[str, str | None] = {}
    registry = outcome.registry or []
    for a, k in zip(registry, registry_keys(outcome) if keys is None else keys, strict=True):
        by_agency[k] = a.county if by_agency.get(k, a.county) == a.county else None  # ambiguous: None
    out = []
    folders: dict[str, str] = {}  # a folder's path -> its name (the files of a folder share it)
    for fo in outcome.files:
        c = fo.county or (by_agency.get(normalise_agency(fo.agency)) if fo.agency and by_agency else None)
        if not c:
            head, _, name = fo.file.replace("\\", "/").rpartition("/")
            if name and name != "." and head:  # folder_name depends on the folder's path alone
                c = folders.get(head)
                if c is None:
                    c = folders[head] = folder_name(fo.file) or NO_COUNTY
            else:
                c = folder_name(fo.file) or NO_COUNTY
        out.append(c)
    return out


def folder_name(file: str) -> str:
    """The name of the folder ``file`` is in (``\\`` read as ``/``): ``PurePath(file).parent.name``,
    split by hand when the path has no empty or ``.`` part (PurePath's normalising changes nothing
    then) — one per file of a large run."""
    parts = file.replace("\\", "/").split("/")
    if len(parts) > 1 and "." not in parts and all(parts[1:]):
        return parts[-2]
    return PurePath(file.replace("\\", "/")).parent.name


def group_counts(q: Quality, g: Group) -> dict[str, Any]:
    """The counts of one county's reports (``missing``/``expected``: None without a registry).
    Counted once per process (the county page, the overview's table, the workbook's 各县（区）
    sheet and its key show them: a walk of every file of the run each); a copy is returned."""
    counts = q._counts.get(g.page)
    if counts is None:
        counts = q._counts[g.page] = _group_counts(q, g)
    return dict(counts)


def _group_counts(q: Quality, g: Group) -> dict[str, Any]:
    files, new_of = q.outcome.files, q.new
    # one walk of the county's files (every file of the run once per overview); each state by
    # report_state, the one definition every view shares
    states = dict.fromkeys(STATE_ZH, 0)
    errors = warnings = infos = new = 0
    for i in g.files:
        f = files[i]
        errors += f.errors
        warnings += f.warnings
        infos += f.infos
        new += new_of[i]
        states[report_state(f)] += 1
    return {
        "files": len(g.files),
        "ok": states["ok"],
        "error": states["error"],
        "warning": states["warning"],
        "unreadable": states["unreadable"],
        "errors": errors,
        "warnings": warnings,
        "infos": infos,
        "new": new + q.new_elsewhere.get(g.name, 0),
        "expected": g.expected,
        "missing": len(g.missing) if g.expected is not None else None,
    }


def county_summary(q: Quality, prefix: str = "") -> list[dict[str, Any]]:
    """One row per county: its page and its counts (the overview's 各县（区）汇总)."""
    return [{"name": g.name, "href": f"{prefix}{COUNTIES_DIR}/{g.page}", **group_counts(q, g)} for g in q.groups]


def registry_status(outcome: RunOutcome, akeys: list[str] | None = None) -> list[dict[str, Any]] | None:
    """Per report year of the run: how many registered agencies submitted, and who is missing.

    ``None`` when no registry is known.  When the run already worked out the missing agencies
    (``outcome.info.missing``: rows of county, year, agency — the nightly flow does, with the
    rename table applied), that list is used; otherwise agencies are matched by normalised name
    (``akeys``: :func:`registry_keys`, when already known)."""
    if outcome.registry is None:
        return None
    expected = outcome.registry
    given = list(outcome.info.missing) if outcome.info.missing is not None else None
    if isinstance(given, list) and all(isinstance(r, dict) and isinstance(r.get("agency"), str) for r in given):
        by_agency = {(a.county, a.agency): a for a in expected}
        per: dict[int | None, list[Agency]] = defaultdict(list)
        for r in given:
            year = r.get("year") if isinstance(r.get("year"), int) else None
            county = str(r.get("county") or "")
            per[year].append(by_agency.get((county, r["agency"])) or Agency(county, r["agency"], ""))
        years: list[int | None] = []
        years += sorted({f.year for f in outcome.files if f.year is not None} | {y for y in per if y is not None})
        return [
            {"year": y, "submitted": len(expected) - len(per.get(y, [])), "missing": per.get(y, [])}
            for y in years or [None]
        ]
    if akeys is None:
        akeys = registry_keys(outcome)
    keys = set(akeys)
    by_year: dict[int | None, set[str]] = defaultdict(set)
    norm: dict[str, str] = {}  # an agency's files of several years: its name normalised once
    for f in outcome.files:
        if f.agency:
            k = norm.get(f.agency)
            if k is None:
                k = norm[f.agency] = normalise_agency(f.agency)
            by_year[f.year].add(k)
    out = []
    run_years: list[int | None] = []
    run_years += sorted(y for y in by_year if y is not None)
    for y in run_years or [None]:
        got = by_year.get(y, set()) if y is not None else set().union(*by_year.values())
        missing = [a for a, k in zip(expected, akeys, strict=True) if k not in got]
        out.append({"year": y, "submitted": len(keys & got), "missing": missing})
    return out


def prepare(
    outcome: RunOutcome,
    out: Path,
    previous: Path | None = None,
    acks: Path | None = None,
    *,
    large: bool | None = None,
) -> Quality:
    """Everything the views share, computed once (``large``: force or refuse the scale path;
    default: more than :data:`LARGE_BATCH` files)."""
    files = outcome.files
    rv = review(outcome, previous, acks, out=out)
    if large is None:
        large = len(files) > LARGE_BATCH
    paged = [is_flagged(f) for f in files] if large else [True] * len(files)
    pages = page_names(files, paged)
    file_index = {fo.report: i for i, fo in enumerate(files) if fo.report >= 0}
    by_report: dict[int, list[tuple[int, Finding]]] = defaultdict(list)
    new = [0] * len(files)
    acked = [0] * len(files)
    status = rv.status
    akeys = registry_keys(outcome)
    county_of_agency = {k: a.county for a, k in zip(outcome.registry or [], akeys, strict=True)}
    new_elsewhere: Counter[str] = Counter()  # county -> new findings about no file (M01: did not submit)
    anchor = [0] * len(outcome.findings)
    for k, fnd in enumerate(outcome.findings):
        mine = by_report[fnd.report]
        anchor[k] = len(mine)
        mine.append((k, fnd))
        i = file_index.get(fnd.report)
        if i is not None:
            if status[k] == NEW:
                new[i] += 1
            elif status[k] == ACKED:
                acked[i] += 1
        elif status[k] == NEW and fnd.agency and (c := county_of_agency.get(normalise_agency(fnd.agency))):
            new_elsewhere[c] += 1
    order = worst_order(files)
    registry = registry_status(outcome, akeys)
    groups, group_of = _groups(outcome, order, registry, akeys)
    return Quality(
        outcome,
        rv,
        pages,
        dict(by_report),
        file_index,
        large=large,
        paged=paged,
        order=order,
        groups=groups,
        group_of=group_of,
        new=new,
        acked=acked,
        registry=registry,
        new_elsewhere=dict(new_elsewhere),
        anchor=anchor,
    )


def page_names(files: Sequence[FileOutcome], paged: Sequence[bool]) -> list[str]:
    """Each file's page name under ``reports/`` (:func:`page_name`), distinct among the pages
    written; ``""`` for a file without a page of its own (a passing report of a large run: no
    name made for it — 100,000 names were ~0.09 s of an unchanged rerun, for ~11,000 pages)."""
    pages: list[str] = []
    seen: set[str] = set()
    for f, has_page in zip(files, paged, strict=True):
        if not has_page:
            pages.append("")
            continue
        name = page_name(f.file, f.agency, f.year)
        k = 2
        while name in seen:  # the same file listed twice: keep pages distinct
            name = page_name(f"{f.file}#{k}", f.agency, f.year)
            k += 1
        seen.add(name)
        pages.append(name)
    return pages


def _groups(
    outcome: RunOutcome, order: list[int], registry: list[dict[str, Any]] | None, akeys: list[str] | None = None
) -> tuple[list[Group], list[int]]:
    counties = county_of_files(outcome, akeys)
    by_name: dict[str, list[int]] = defaultdict(list)
    for i in order:  # worst first within each county
        by_name[counties[i]].append(i)
    registered: dict[str, int] = defaultdict(int)
    for a in outcome.registry or []:
        registered[a.county] += 1
    missing: dict[str, list[tuple[int | None, str]]] = defaultdict(list)
    for y in registry or []:
        for a in y["missing"]:
            missing[a.county].append((y["year"], a.agency))
    n_years = len(registry or [])
    names = sorted(set(by_name) | set(registered))
    pages: set[str] = set()
    groups = []
    for name in names:
        page = county_page_name(name)
        k = 2
        while page in pages:  # two names that differ only in characters the file name drops
            page = county_page_name(f"{name}#{k}")
            k += 1
        pages.add(page)
        groups.append(
            Group(
                name=name,
                page=page,
                files=by_name.get(name, []),
                registered=registered.get(name, 0) if outcome.registry is not None else None,
                expected=registered.get(name, 0) * n_years if outcome.registry is not None else None,
                missing=missing.get(name, []),
            )
        )
    index = {g.name: n for n, g in enumerate(groups)}
    return groups, [index[c] for c in counties]
