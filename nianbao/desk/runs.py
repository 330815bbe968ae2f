"""The run folders as the desk reads them: the latest completed run of the reports folder (its
``submissions.json`` / ``findings.json`` / ``run.json``), indexed once per run for the queue, the
report pages and the notices; and the statutory tables of a report redrawn with the static
report's own rendering (:mod:`nianbao.report.html`).

A run is read once and kept until ``latest`` moves (or its ``findings.json`` changes); the tables
of the last :data:`TABLE_CACHE` reports shown are kept too.  Reading is bounded: a run's JSON is
read whole (what the nightly run wrote), a report's tables are redrawn from its file parsed under
the loaders' size and time limits, only when the file still has the bytes the run validated.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

import orjson
from markupsafe import Markup

from nianbao.desk.identity import finding_key, key_hash
from nianbao.domain.oserrors import os_error_text
from nianbao.domain.registry import normalise_agency
from nianbao.outcome import expand_summaries
from nianbao.run.folders import completed_runs, latest

NO_COUNTY = "（未分县）"
TABLE_CACHE = 256  # redrawn reports kept in memory
SEV_RANK = {"error": 0, "warning": 1, "info": 2}


class RunMissing(Exception):
    """No completed run in the reports folder (the message is for the user)."""


@dataclass
class Report:
    """One submitted file of a run."""

    i: int
    file: str
    sha256: str
    status: str
    reason: str | None
    agency: str | None
    year: int | None
    format: str | None
    errors: int
    warnings: int
    infos: int
    county: str
    agency_key: str
    findings: list[int] = field(default_factory=list)  # indices in Run.findings

    @property
    def name(self) -> str:
        return self.agency or f"（未识别机关）{PurePath(self.file).name}"

    @property
    def follow_key(self) -> str:
        """Whom a notice goes to: the agency, or — for a file whose agency could not be read — the file."""
        return self.agency_key or f"文件:{self.file}"

    @property
    def follow_year(self) -> int:
        """The report's year, else the year folder it was filed under (0 when neither is known)."""
        if self.year is not None:
            return self.year
        head = PurePath(self.file.replace("\\", "/")).parts[:1]
        return int(head[0]) if head and head[0].isdigit() and len(head[0]) == 4 else 0

    @property
    def state(self) -> tuple[str, str]:
        if self.status != "validated":
            return "无法读取", "unreadable"
        if self.errors:
            return "有错误", "error"
        if self.warnings:
            return "有警告", "warning"
        return "通过", "ok"


@dataclass
class Run:
    name: str
    path: Path
    started_at: str | None
    ruleset: str | None
    inputs: list[str]
    reports: list[Report]
    findings: list[dict[str, Any]]
    keys: list[str]  # finding identity (JSON) per finding
    hashes: list[str]  # its SHA-256 (the database key)
    by_file: dict[str, int]
    counties: list[str]
    stamp: tuple[int, int]

    def report(self, file: str) -> Report | None:
        i = self.by_file.get(file)
        return self.reports[i] if i is not None else None

    def queue(self, county: str | None) -> list[Report]:
        """Reports an auditor must act on (an error, a warning, or unreadable), worst first; of one
        county or all."""
        rows = [
            r
            for r in self.reports
            if (county is None or r.county == county) and (r.status != "validated" or r.errors or r.warnings)
        ]
        rows.sort(key=lambda r: (r.status == "validated", -r.errors, -r.warnings, -r.infos, r.file))
        return rows

    def by_follow(self) -> dict[tuple[str, int], Report]:
        """(follow key, year) -> the report (the first of several)."""
        out: dict[tuple[str, int], Report] = {}
        for r in self.reports:
            out.setdefault((r.follow_key, r.follow_year), r)
        return out


def county_of(s: dict[str, Any]) -> str:
    """The inbox's county of a submission, else the folder it is in (``<year>/<county>/<file>``)."""
    c = s.get("county")
    if isinstance(c, str) and c:
        return c
    parts = PurePath(str(s.get("file", "")).replace("\\", "/")).parts
    return parts[1] if len(parts) >= 3 else NO_COUNTY


def _int(v: Any) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def load_run(path: Path) -> Run:
    try:
        subs = orjson.loads((path / "submissions.json").read_bytes())
        finds = orjson.loads((path / "findings.json").read_bytes())
    except OSError as e:
        raise RunMissing(f"运行结果 {path} 无法读取：{os_error_text(e)}") from None
    except ValueError:
        raise RunMissing(f"运行结果 {path} 无法读取：submissions.json 或 findings.json 不是有效的 JSON") from None
    try:
        info = orjson.loads((path / "run.json").read_bytes())
    except (OSError, ValueError):
        info = {}
    if not isinstance(subs, list) or not isinstance(finds, list) or not isinstance(info, dict):
        raise RunMissing(f"运行结果 {path} 格式不对（submissions.json / findings.json）")
    # the summarised infos (run.json "summaries": E02, I06 … once per run) as each report's findings
    finds += expand_summaries(info.get("summaries"), subs)
    reports: list[Report] = []
    by_file: dict[str, int] = {}
    for s in subs:
        if not isinstance(s, dict) or not isinstance(s.get("file"), str):
            continue
        agency = s.get("agency") if isinstance(s.get("agency"), str) else None
        year = s.get("year") if isinstance(s.get("year"), int) else None
        r = Report(
            i=len(reports),
            file=s["file"],
            sha256=str(s.get("sha256") or ""),
            status=str(s.get("status") or ""),
            reason=s.get("reason") if isinstance(s.get("reason"), str) else None,
            agency=agency,
            year=year,
            format=s.get("format") if isinstance(s.get("format"), str) else None,
            errors=_int(s.get("errors")),
            warnings=_int(s.get("warnings")),
            infos=_int(s.get("infos")),
            county=county_of(s),
            agency_key=normalise_agency(agency) if agency else "",
        )
        by_file.setdefault(r.file, r.i)
        reports.append(r)
    findings = [f for f in finds if isinstance(f, dict) and isinstance(f.get("rule"), str)]
    keys = [finding_key(f) for f in findings]
    for k, f in enumerate(findings):
        i = by_file.get(str(f.get("file")))
        if i is not None:
            reports[i].findings.append(k)
    for r in reports:
        r.findings.sort(key=lambda k: (SEV_RANK.get(str(findings[k].get("severity")), 3), findings[k]["rule"], k))
    st = (path / "findings.json").stat()
    inputs = info.get("inputs")
    return Run(
        name=path.name,
        path=path,
        started_at=info.get("started_at") if isinstance(info.get("started_at"), str) else None,
        ruleset=info.get("ruleset_version") if isinstance(info.get("ruleset_version"), str) else None,
        inputs=[str(x) for x in inputs] if isinstance(inputs, list) else [],
        reports=reports,
        findings=findings,
        keys=keys,
        hashes=[key_hash(k) for k in keys],
        by_file=by_file,
        counties=sorted({r.county for r in reports}),
        stamp=(st.st_mtime_ns, st.st_size),
    )


class Runs:
    """The reports folder: its latest completed run (re-read when ``latest`` moves)."""

    def __init__(self, reports: Path, root: Path | None = None) -> None:
        self.reports = reports
        self.root = root
        self._lock = threading.Lock()
        self._loading = threading.Lock()
        self._run: Run | None = None
        self._tables: OrderedDict[tuple[str, int], tuple[dict[str, Markup] | None, str | None]] = OrderedDict()

    def latest_path(self) -> Path | None:
        p = latest(self.reports)
        if p is None:
            runs = completed_runs(self.reports)
            p = runs[-1] if runs else None
        return p

    def current(self) -> Run:
        path = self.latest_path()
        if path is None:
            raise RunMissing(f"报告目录 {self.reports} 中还没有完成的校验运行（先运行 nianbao run）")
        try:
            st = (path / "findings.json").stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = (0, 0)
        with self._lock:
            run = self._run
            if run is not None and run.path == path and run.stamp == stamp:
                return run
        with self._loading:  # one thread reads a new run; the others wait for it
            with self._lock:
                run = self._run
                if run is not None and run.path == path and run.stamp == stamp:
                    return run
            run = load_run(path)
            with self._lock:
                self._run = run
                self._tables.clear()
        return run

    def inbox_root(self, run: Run) -> Path | None:
        """Where the run's submissions are: ``--root``, else the run's input folder."""
        if self.root is not None:
            return self.root
        for inp in run.inputs[:1]:
            p = Path(inp)
            for cand in (p, self.reports.parent / p) if not p.is_absolute() else (p,):
                if cand.is_dir():
                    return cand
        return None

    def tables(
        self, run: Run, r: Report, findings: list[tuple[int, Any]]
    ) -> tuple[dict[str, Markup] | None, str | None]:
        """The report's statutory tables redrawn (table -> HTML), or (None, why not)."""
        key = (str(run.path), r.i)
        with self._lock:
            hit = self._tables.get(key)
            if hit is not None:
                self._tables.move_to_end(key)
                return hit
        out = self._draw(run, r, findings)
        with self._lock:
            self._tables[key] = out
            while len(self._tables) > TABLE_CACHE:
                self._tables.popitem(last=False)
        return out

    def _draw(
        self, run: Run, r: Report, findings: list[tuple[int, Any]]
    ) -> tuple[dict[str, Markup] | None, str | None]:
        from nianbao.domain.spec import Fmt
        from nianbao.read.load import load_file
        from nianbao.report.html import cell_views, skeleton
        from nianbao.report.quality import flags_of

        if r.status != "validated":
            return None, None
        root = self.inbox_root(run)
        if root is None:
            return None, "找不到报送文件所在的收件目录，无法重绘统计表（可用 --root 指定）"
        path = root / r.file
        if not path.resolve().is_relative_to(root.resolve()):
            return None, "报送文件不在收件目录中，不重绘统计表"
        if not path.is_file() or path.is_symlink():
            return None, f"报送文件已不在收件目录中（{r.file}），无法重绘统计表"
        rep = load_file(path, name=r.file)
        if rep.sha256 != r.sha256:
            return None, "报送文件在本次校验之后已被替换（新的文件将在下一次校验中检查），此处不重绘统计表"
        if rep.status != "validated":
            return None, rep.reason
        fmt = rep.fmt or (Fmt(r.format) if r.format in ("2019", "2021") else Fmt.F2021)
        flags = flags_of(findings)
        cells = cell_views(rep, fmt, flags, dict(findings))
        el = {e: f"hl hl-{fl.severity}" for e, fl in flags.items() if "*" in e}
        return {t: skeleton(fmt, t).fill(cells, el) for t in ("2", "3", "4")}, None


def to_finding(d: dict[str, Any]) -> Any:
    """A finding of ``findings.json`` as the run's :class:`~nianbao.outcome.Finding` (for the renderers)."""
    from nianbao.outcome import Finding, Suspect

    sus = d.get("suspects")
    suspects = None
    if isinstance(sus, list):
        suspects = [
            Suspect(
                cell=str(s.get("cell")),
                reported=s.get("reported"),
                suggested=float(s.get("suggested") or 0),
                cause=str(s.get("cause") or ""),
                alternative=_int(s.get("alternative")),
            )
            for s in sus
            if isinstance(s, dict)
        ]
    cells = d.get("cells")
    return Finding(
        file=str(d.get("file", "")),
        agency=d.get("agency"),
        year=d.get("year"),
        rule=str(d["rule"]),
        severity=str(d.get("severity") or "info"),
        cells=[str(c) for c in cells] if isinstance(cells, list) else [],
        expected=d.get("expected"),
        actual=d.get("actual"),
        message=str(d.get("message") or ""),
        line=d.get("line") if isinstance(d.get("line"), int) else None,
        fix=str(d.get("fix") or ""),
        quote=d.get("quote") if isinstance(d.get("quote"), str) else None,
        suspects=suspects,
        where=d.get("where") if isinstance(d.get("where"), str) else None,
    )
