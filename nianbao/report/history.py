"""What changed since the previous run of the same inputs, and the auditors' acknowledgements.

The previous run is read from its ``submissions.json`` / ``findings.json`` (the JSON contract, so
any earlier run folder works).  Reports are matched by file, then — for a file that was renamed
or resubmitted under a new name — by (agency, year) when that pair is unique on both sides.  A
report is *corrected* when its SHA-256 changed.  Findings of matched reports are compared by
:func:`finding_identity` — agency, year, rule and cells, never a path.

Acknowledgements (``acknowledgements.csv`` beside the data; columns
``sha256,rule,cells,reviewer,note,date``) mark a warning or info as reviewed by an auditor.  An
acknowledged finding stays listed, but is out of the "new" view, until the report's SHA-256
changes (the acknowledgement names the exact bytes that were reviewed).  Error-level findings
cannot be acknowledged: the report must be corrected.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from nianbao.catalogue import catalogue
from nianbao.domain.clock import TZ
from nianbao.domain.oserrors import os_error_text, os_reason
from nianbao.domain.registry import normalise_agency
from nianbao.domain.spec import is_valid_cell_id
from nianbao.io.atomic import dumps, write_text
from nianbao.outcome import FileOutcome, RunOutcome
from nianbao.report.hooks import ACK_SOURCES, Ack
from nianbao.report.reuse import same_file

ACK_FIELDS = ("sha256", "rule", "cells", "reviewer", "note", "date")
ACKABLE = frozenset({"warning", "info"})
_SHA = re.compile(r"^[0-9a-f]{64}$")

# finding status in this run
NEW = "new"  # not in the previous run (or no previous run)
STILL = "still"  # also in the previous run
ACKED = "acked"  # reviewed by an auditor for exactly this version of the report

# report change since the previous run
SUBMITTED = "submitted"  # not in the previous run
CORRECTED = "corrected"  # in the previous run with other bytes
UNCHANGED = "unchanged"


class AckError(ValueError):
    """An acknowledgement that cannot be recorded (the message is for the user, in Chinese)."""


def load_acks(path: Path | None) -> tuple[list[Ack], list[str]]:
    """The acknowledgements in ``path`` and the problems found (Chinese, naming file and line).

    A missing file is no acknowledgement (nothing reviewed yet); a bad row is skipped and reported."""
    if path is None or not path.exists():
        return [], []
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        return [], [f"确认记录文件 {path} 无法读取：{os_reason(e)}"]
    except UnicodeDecodeError:
        return [], [f"确认记录文件 {path} 无法读取：应为 UTF-8 编码的 CSV"]
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(h.strip() for h in rows[0][: len(ACK_FIELDS)]) != ACK_FIELDS:
        return [], [f"确认记录文件 {path}：第 1 行应为表头 {','.join(ACK_FIELDS)}"]
    acks: list[Ack] = []
    problems: list[str] = []
    codes = catalogue()
    for lineno, row in enumerate(rows[1:], 2):
        if not any(c.strip() for c in row):
            continue
        if len(row) < len(ACK_FIELDS):
            problems.append(f"确认记录文件 {path}：第 {lineno} 行应有 {len(ACK_FIELDS)} 列，已跳过")
            continue
        sha, code, cells_s, reviewer, note, date = (c.strip() for c in row[: len(ACK_FIELDS)])
        cells = tuple(cells_s.split())
        why = None
        if not _SHA.match(sha):
            why = "sha256 应为 64 位十六进制小写字符"
        elif code not in codes:
            why = f"规则代码 {code} 不在规则目录中"
        elif codes[code].severity.value not in ACKABLE:
            why = f"规则 {code} 为错误级别，不能标记为已复核"
        elif bad := [c for c in cells if not is_valid_cell_id(c)]:
            why = f"单元格编号无效：{' '.join(bad)}"
        elif not reviewer:
            why = "缺少复核人"
        if why:
            problems.append(f"确认记录文件 {path}：第 {lineno} 行{why}，已跳过")
            continue
        acks.append(Ack(sha, code, cells, reviewer, note, date, lineno))
    return acks, problems


def append_ack(path: Path, ack: Ack) -> None:
    """Add one acknowledgement to ``path`` (created with its header; written atomically)."""
    codes = catalogue()
    if not _SHA.match(ack.sha256):
        raise AckError("sha256 应为 64 位十六进制小写字符")
    if ack.rule not in codes:
        raise AckError(f"规则代码 {ack.rule} 不在规则目录中")
    if codes[ack.rule].severity.value not in ACKABLE:
        raise AckError(f"规则 {ack.rule} 为错误级别，不能标记为已复核；请报送单位改正报告")
    bad = [c for c in ack.cells if not is_valid_cell_id(c)]
    if bad:
        raise AckError(f"单元格编号无效：{' '.join(bad)}（格式如 3:3.1:natural）")
    if not ack.reviewer.strip():
        raise AckError("请用 --reviewer 写明复核人")
    old = ""
    if path.exists():
        old = path.read_bytes().decode("utf-8-sig")
        _acks, problems = load_acks(path)
        if problems and problems[0].endswith(f"表头 {','.join(ACK_FIELDS)}"):
            raise AckError(problems[0])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if not old.strip():
        w.writerow(ACK_FIELDS)
    elif not old.endswith("\n"):
        buf.write("\n")
    w.writerow([ack.sha256, ack.rule, " ".join(ack.cells), ack.reviewer, ack.note, ack.date])
    # with a BOM, so that Excel/WPS open the Chinese text correctly
    write_text(path, "\ufeff" + old + buf.getvalue())


def today() -> str:
    return datetime.now(TZ).date().isoformat()


# ------------------------------------------------------------------ previous run


@dataclass
class PreviousRun:
    path: Path
    started_at: str | None
    submissions: list[dict[str, Any]]
    findings: list[dict[str, Any]]


def load_previous(path: Path | None) -> tuple[PreviousRun | None, str | None]:
    """The previous run's JSON views, or (None, a Chinese reason) when they cannot be read."""
    if path is None:
        return None, None
    try:
        # orjson: the previous run's findings are read on every run (json took ~5 % of an unchanged rerun)
        subs = orjson.loads((path / "submissions.json").read_bytes())
        finds = orjson.loads((path / "findings.json").read_bytes())
    except FileNotFoundError as e:
        return None, f"上一次运行的结果不完整（缺少 {Path(e.filename or '').name}）：{path}"
    except OSError as e:
        return None, f"上一次运行的结果无法读取：{os_error_text(e)}"
    except ValueError:
        return None, f"上一次运行的结果无法读取：{path} 中的 submissions.json 或 findings.json 不是有效的 JSON"
    ok = (
        isinstance(subs, list)
        and isinstance(finds, list)
        and all(isinstance(s, dict) and isinstance(s.get("file"), str) for s in subs)
        and all(
            isinstance(f, dict) and isinstance(f.get("file"), str) and isinstance(f.get("rule"), str) for f in finds
        )
    )
    if not ok:
        return None, f"上一次运行的结果格式不对（submissions.json / findings.json）：{path}"
    return PreviousRun(path, _started_at(path), subs, finds), None


def _started_at(path: Path) -> str | None:
    try:
        run = orjson.loads((path / "run.json").read_bytes())
    except (OSError, ValueError):
        return None
    started = run.get("started_at") if isinstance(run, dict) else None
    return started if isinstance(started, str) else None


def same_contract(previous: Path, outcome: RunOutcome, out: Path | None = None) -> bool:
    """Whether the previous run's ``submissions.json`` and ``findings.json`` are byte for byte what
    this run's outcome writes (and no file name is listed twice, which the matching treats apart).
    ``out``: this run's folder — when the contract writer linked both files from the previous run
    (:func:`nianbao.report.reuse.write_or_link`: same bytes), they are not serialised again."""
    if len({f.file for f in outcome.files}) != len(outcome.files):
        return False
    if out is not None and all(same_file(out / n, previous / n) for n in ("submissions.json", "findings.json")):
        return True
    try:
        if (previous / "submissions.json").read_bytes() != dumps([f.to_json() for f in outcome.files]):
            return False
        return (previous / "findings.json").read_bytes() == dumps([f.to_json() for f in outcome.findings])
    except OSError:
        return False


def _report_key(agency: Any, year: Any) -> tuple[str, Any] | None:
    key = normalise_agency(agency) if isinstance(agency, str) else ""
    return (key, year) if key and year is not None else None


def match_reports(files: Sequence[FileOutcome], prev: Sequence[dict[str, Any]]) -> dict[int, int]:
    """current file index -> previous submission index: by file, then by content (SHA-256), then by
    agency and year (each only when unique on both sides)."""
    by_file = {s["file"]: i for i, s in enumerate(prev)}
    out: dict[int, int] = {}
    for i, f in enumerate(files):
        j = by_file.get(f.file)
        if j is not None:
            out[i] = j
    # a file moved or renamed with the same bytes (a hash that is unique on both sides)
    used = set(out.values())
    cur_sha: dict[str, list[int]] = defaultdict(list)
    prev_sha: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(files):
        if i not in out and f.sha256:
            cur_sha[f.sha256].append(i)
    for j, s in enumerate(prev):
        if j not in used and isinstance(s.get("sha256"), str) and s["sha256"]:
            prev_sha[s["sha256"]].append(j)
    for h, cur in cur_sha.items():
        old = prev_sha.get(h, [])
        if len(cur) == 1 and len(old) == 1:
            out[cur[0]] = old[0]
    used = set(out.values())
    cur_keys: dict[tuple[str, Any], list[int]] = defaultdict(list)
    prev_keys: dict[tuple[str, Any], list[int]] = defaultdict(list)
    for i, f in enumerate(files):
        if i not in out and (k := _report_key(f.agency, f.year)):
            cur_keys[k].append(i)
    for j, s in enumerate(prev):
        if j not in used and (k := _report_key(s.get("agency"), s.get("year"))):
            prev_keys[k].append(j)
    for k, cur in cur_keys.items():
        old = prev_keys.get(k, [])
        if len(cur) == 1 and len(old) == 1:
            out[cur[0]] = old[0]
    return out


# ------------------------------------------------------------------ the review of a run


@dataclass
class Review:
    """The run seen against the previous run and the acknowledgements (shared by HTML and Excel)."""

    status: list[str]  # per finding (index in outcome.findings): NEW | STILL | ACKED
    acks: dict[int, Ack]  # finding index -> the acknowledgement that covers it
    report_change: list[str | None]  # per file: SUBMITTED | CORRECTED | UNCHANGED; None without a previous run
    resolved: list[dict[str, Any]]  # findings of the previous run that are gone (reports still submitted)
    withdrawn: list[dict[str, Any]]  # submissions of the previous run not found any more
    previous: Path | None = None
    previous_started_at: str | None = None
    problems: list[str] = field(default_factory=list)  # Chinese notes for the overview
    # the previous run's submissions.json and findings.json are this run's, byte for byte
    unchanged: bool = False
    # the summarised notes acknowledged on a report (RunOutcome.summaries: not in ``status``):
    # (report, rule, cells) -> the acknowledgement
    common_acks: dict[tuple[int, str, tuple[str, ...]], Ack] = field(default_factory=dict)

    @property
    def has_previous(self) -> bool:
        return self.previous is not None

    def new_findings(self) -> list[int]:
        return [i for i, s in enumerate(self.status) if s == NEW]

    def files_with(self, change: str) -> list[int]:
        changes = self.report_change
        if change not in changes:  # (none, as on an unchanged rerun: one look in C, no Python loop)
            return []
        return [i for i, c in enumerate(changes) if c == change]

    def counts(self) -> dict[str, int]:
        c = Counter(self.status)
        return {
            "new": c[NEW],
            "still": c[STILL],
            "acked": c[ACKED],
            "resolved": len(self.resolved),
            "submitted": self.report_change.count(SUBMITTED),
            "corrected": self.report_change.count(CORRECTED),
            "withdrawn": len(self.withdrawn),
        }


def _fkey(rule: Any, cells: Any) -> tuple[str, tuple[str, ...]]:
    return (str(rule), tuple(str(c) for c in cells) if isinstance(cells, list) else ())


def _who(agency: Any, year: Any) -> tuple[str, ...] | None:
    """The agency and year a finding is about, as the auditor names them (normalised agency name)."""
    k = _report_key(agency, year)
    return ("a", k[0], str(k[1])) if k else None


def finding_identity(who: tuple[str, ...], rule: Any, cells: Any) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
    """What makes two findings of two runs "the same problem": the report they are about (its agency
    and year; for a report without a recognised agency, the report it was matched to), the rule and
    the cells — never a path (a registry path, a moved file or a renamed one changes nothing)."""
    rule_s, cells_t = _fkey(rule, cells)
    return who, rule_s, tuple(sorted(cells_t))


def review(
    outcome: RunOutcome,
    previous: Path | None = None,
    acks: Path | None = None,
    *,
    out: Path | None = None,
) -> Review:
    """Compare ``outcome`` with the run in ``previous`` and apply the acknowledgements in ``acks``.

    Reports are matched (:func:`match_reports`) to tell submitted, corrected and withdrawn files
    apart; findings are matched by :func:`finding_identity`, so that a finding about no file of its
    own (M01: an agency that did not submit, reported on the registry) is the same problem on
    every run, and a moved or renamed file keeps its findings "still there"."""
    problems: list[str] = []
    prev: PreviousRun | None = None
    unchanged = False
    if previous is not None and out is not None and previous.resolve() == out.resolve():
        problems.append("上一次运行的目录与本次输出目录相同，无法比较变化")
    elif previous is not None and same_contract(previous, outcome, out):
        # the previous run's submissions.json and findings.json are byte for byte this run's: every
        # report unchanged, every finding still there — what the matching below finds, without
        # parsing and matching them (a rerun over an unchanged inbox)
        prev, unchanged = PreviousRun(previous, _started_at(previous), [], []), True
    else:
        prev, why = load_previous(previous)
        if why:
            problems.append(why)
    ack_list, ack_problems = load_acks(acks)
    problems += ack_problems
    for source in ACK_SOURCES:  # the review desk's decisions (nianbao serve), when it has a database
        try:
            ack_list += source(outcome, out)
        except Exception as e:  # an unreachable database must not fail the run
            problems.append(f"审核台的复核结论无法读取（{type(e).__name__}），本次报告未标出审核台的复核结论")

    files = outcome.files
    file_of_report = {f.report: i for i, f in enumerate(files) if f.report >= 0}
    n = len(outcome.findings)
    status = [NEW] * n
    report_change: list[str | None] = [None] * len(files)
    resolved: list[dict[str, Any]] = []
    withdrawn: list[dict[str, Any]] = []

    if unchanged:
        status = [STILL] * n
        report_change = [UNCHANGED] * len(files)
    elif prev is not None:
        matched = match_reports(files, prev.submissions)
        for i, fo in enumerate(files):
            j = matched.get(i)
            if j is None:
                report_change[i] = SUBMITTED
            else:
                same = prev.submissions[j].get("sha256") == fo.sha256
                report_change[i] = UNCHANGED if same else CORRECTED
        # a previous report: its agency and year, else its place in the previous run
        prev_who = [_who(s.get("agency"), s.get("year")) or ("s", str(j)) for j, s in enumerate(prev.submissions)]
        prev_index = {s["file"]: j for j, s in enumerate(prev.submissions)}
        cur_who: dict[int, tuple[str, ...]] = {}  # file index -> who, as the previous run names it
        for i, fo in enumerate(files):
            j = matched.get(i)
            cur_who[i] = prev_who[j] if j is not None else _who(fo.agency, fo.year) or ("c", str(i))
        still_there = set(matched.values())
        now_file: dict[tuple[str, ...], str] = {}
        for i in range(len(files)):
            now_file.setdefault(cur_who[i], files[i].file)

        def prev_key(pf: dict[str, Any]) -> tuple[tuple[str, ...], str, tuple[str, ...]] | None:
            """None: a finding of a report that is gone (withdrawn: not "resolved")."""
            j = prev_index.get(pf["file"])
            if j is not None:
                who = prev_who[j] if j in still_there else None
            else:  # about no report of its own (the registry): its agency and year, else its file
                who = _who(pf.get("agency"), pf.get("year")) or ("p", pf["file"])
            return finding_identity(who, pf["rule"], pf.get("cells")) if who else None

        old: Counter[tuple[tuple[str, ...], str, tuple[str, ...]]] = Counter()
        keyed: list[tuple[dict[str, Any], tuple[tuple[str, ...], str, tuple[str, ...]]]] = []
        for pf in prev.findings:
            key = prev_key(pf)
            if key is not None:
                old[key] += 1
                keyed.append((pf, key))
        for k, fnd in enumerate(outcome.findings):
            fi = file_of_report.get(fnd.report)
            who = cur_who[fi] if fi is not None else _who(fnd.agency, fnd.year) or ("p", fnd.file)
            key = finding_identity(who, fnd.rule, fnd.cells)
            if old[key] > 0:
                old[key] -= 1
                status[k] = STILL
        for pf, key in keyed:
            if old[key] > 0:
                old[key] -= 1
                resolved.append(pf | {"now_file": now_file.get(key[0])})
        withdrawn = [s for j, s in enumerate(prev.submissions) if j not in still_there]

    covered: dict[int, Ack] = {}
    common: dict[tuple[int, str, tuple[str, ...]], Ack] = {}
    if ack_list:
        by_sha: dict[str, list[Ack]] = defaultdict(list)
        for a in ack_list:
            by_sha[a.sha256].append(a)
        for sm in outcome.summaries:  # a summarised note acknowledged on one of its reports
            for r in sm.reports:
                fi = file_of_report.get(r)
                sha = files[fi].sha256 if fi is not None else ""
                for a in by_sha.get(sha, ()):
                    same_cells = not a.cells or sorted(a.cells) == sorted(sm.cells)
                    if (sm.severity in ACKABLE or a.any_severity) and a.rule == sm.rule and same_cells:
                        common[(r, sm.rule, tuple(sm.cells))] = a
                        break
        for k, f in enumerate(outcome.findings):
            fi = file_of_report.get(f.report)
            if fi is None:
                continue
            sha = files[fi].sha256
            for a in by_sha.get(sha, ()):
                if (f.severity in ACKABLE or a.any_severity) and a.matches(sha, f):
                    covered[k] = a
                    status[k] = ACKED
                    break

    return Review(
        status=status,
        acks=covered,
        report_change=report_change,
        resolved=resolved,
        withdrawn=withdrawn,
        previous=prev.path if prev else None,
        previous_started_at=prev.started_at if prev else None,
        problems=problems,
        unchanged=unchanged,
        common_acks=common,
    )


def changes_json(outcome: RunOutcome, rv: Review) -> dict[str, Any]:
    """The machine-readable form of the review (``changes.json``)."""
    return {
        "previous_run": str(rv.previous) if rv.previous else None,
        "previous_started_at": rv.previous_started_at,
        "counts": rv.counts(),
        "new": [outcome.findings[k].to_json() for k in rv.new_findings()],
        "resolved": [{k: v for k, v in pf.items() if k != "now_file"} for pf in rv.resolved],
        "submitted": [outcome.files[i].file for i in rv.files_with(SUBMITTED)],
        "corrected": [outcome.files[i].file for i in rv.files_with(CORRECTED)],
        "withdrawn": [s["file"] for s in rv.withdrawn],
        "acknowledged": [
            {"finding": outcome.findings[k].to_json(), "reviewer": a.reviewer, "note": a.note, "date": a.date}
            for k, a in sorted(rv.acks.items())
        ]
        + [
            {"finding": f.to_json(), "reviewer": a.reviewer, "note": a.note, "date": a.date}
            for (r, rule, cells), a in sorted(rv.common_acks.items(), key=lambda x: x[0])
            for f in outcome.summarised_of(r)
            if f.rule == rule and tuple(f.cells) == cells
        ],
        "problems": rv.problems,
    }
