"""What auditors change in the desk, each change with its audit-log row in the same transaction.

Every row carries a ``version``: a form posts the version it was drawn from and the change is an
``UPDATE … WHERE version = :seen`` (or an INSERT guarded by a unique key), so two auditors working
on the same finding never silently overwrite each other — the second is told to reload.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nianbao.desk.db import (
    CONFIRMED,
    DECISION_ZH,
    DISMISSED,
    FIXED,
    NOTIFIED,
    OPEN,
    Audit,
    Database,
    Review,
    SeenRun,
    Township,
    now,
)
from nianbao.desk.runs import Report, Run
from nianbao.domain.clock import TZ, zh_date, zh_minute

SYSTEM = "系统（夜间校验）"
REASON_MAX = 500
FIELD_MAX = 200


class Conflict(Exception):
    """Someone else changed the row since the form was drawn (message for the user)."""


class Invalid(ValueError):
    """A form value that cannot be accepted (message for the user)."""


def beijing(t: datetime) -> datetime:
    if t.tzinfo is None:  # SQLite hands back naive UTC
        t = t.replace(tzinfo=UTC)
    return t.astimezone(TZ)


def when_zh(t: datetime | None) -> str:
    """2026年12月7日 08:12 (Beijing time)."""
    if t is None:
        return ""
    return zh_minute(beijing(t))


def date_zh(d: date | None) -> str:
    return zh_date(d) if d else ""


def today() -> date:
    return datetime.now(TZ).date()


def _log(s: Session, user: str, county: str, action: str, target: str, detail: str) -> None:
    s.add(Audit(at=now(), user=user, county=county, action=action, target=target, detail=detail))


def _target(r: Report) -> str:
    return f"{r.name} {r.year or ''} 年度报告".replace("  ", " ")


# ------------------------------------------------------------------ decisions on findings


def decisions(db: Database, hashes: list[str]) -> dict[str, Review]:
    """key hash -> its review row, for the given findings."""
    out: dict[str, Review] = {}
    with db.session() as s:
        for k in range(0, len(hashes), 500):
            for row in s.scalars(select(Review).where(Review.key_hash.in_(hashes[k : k + 500]))):
                out[row.key_hash] = row
    return out


@dataclass
class Decided:
    state: str
    version: int


def decide(db: Database, run: Run, k: int, state: str, reason: str, user: str, seen: int) -> Decided:
    """Record the decision ``state`` on finding ``k`` of ``run`` (``seen``: the version the form showed)."""
    if state not in (CONFIRMED, DISMISSED, OPEN):
        raise Invalid("未知的复核结论")
    reason = reason.strip()
    if state == DISMISSED and not reason:
        raise Invalid("标记为误报时请写明理由")
    if len(reason) > REASON_MAX:
        raise Invalid(f"理由最多 {REASON_MAX} 字")
    f = run.findings[k]
    i = run.by_file.get(str(f.get("file")))
    r = run.reports[i] if i is not None else None
    county = r.county if r else ""
    target = f"{_target(r) if r else f.get('agency') or ''} 的 {f['rule']} 问题"
    detail = f"{DECISION_ZH[state]}" + (f"：{reason}" if reason else "")
    with db.session() as s:
        if seen == 0:
            row = Review(
                key_hash=run.hashes[k],
                key=run.keys[k],
                agency_key=r.agency_key if r else "",
                agency=(r.agency if r else f.get("agency")) or "",
                year=f.get("year") if isinstance(f.get("year"), int) else None,
                county=county,
                rule=str(f["rule"]),
                cells=" ".join(str(c) for c in f.get("cells") or []),
                state=state,
                reason=reason,
                sha256=r.sha256 if r else "",
                user=user,
                updated_at=now(),
                version=1,
            )
            s.add(row)
            _log(s, user, county, "review", target, detail)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                raise Conflict("该问题刚刚已由他人复核，请刷新页面后再操作") from None
            return Decided(state, 1)
        res = s.execute(
            update(Review)
            .where(Review.key_hash == run.hashes[k], Review.version == seen)
            .values(
                state=state,
                reason=reason,
                user=user,
                sha256=r.sha256 if r else "",
                updated_at=now(),
                version=Review.version + 1,
            )
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            s.rollback()
            raise Conflict("该问题的复核结论刚刚已由他人修改，请刷新页面后再操作")
        _log(s, user, county, "review", target, detail)
        s.commit()
        return Decided(state, seen + 1)


# ------------------------------------------------------------------ townships


def townships(db: Database, pairs: list[tuple[str, int]]) -> dict[tuple[str, int], Township]:
    keys = {a for a, _y in pairs if a}
    out: dict[tuple[str, int], Township] = {}
    with db.session() as s:
        klist = sorted(keys)
        for k in range(0, len(klist), 500):
            for t in s.scalars(select(Township).where(Township.agency_key.in_(klist[k : k + 500]))):
                out[(t.agency_key, t.year)] = t
    return out


def township_list(db: Database, county: str | None) -> list[Township]:
    with db.session() as s:
        q = select(Township).order_by(Township.state, Township.deadline, Township.agency)
        if county is not None:
            q = q.where(Township.county == county)
        return list(s.scalars(q.limit(5000)))


def township_counts(db: Database) -> dict[tuple[str, str], int]:
    """(county, state) -> how many townships."""
    with db.session() as s:
        q = select(Township.county, Township.state, func.count()).group_by(Township.county, Township.state)
        return {(c, st): int(n) for c, st, n in s.execute(q)}


def _parse_date(v: str, what: str, required: bool) -> date | None:
    v = v.strip()
    if not v:
        if required:
            raise Invalid(f"请填写{what}")
        return None
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise Invalid(f"{what}格式不对（应为 2026-12-07）") from None


def notify(
    db: Database,
    r: Report,
    *,
    notified_on: str,
    how: str,
    deadline: str,
    contact: str,
    user: str,
    seen: int,
) -> int:
    """Mark report ``r``'s township notified (again); returns the new version."""
    on = _parse_date(notified_on, "通知日期", True)
    due = _parse_date(deadline, "整改期限", False)
    assert on is not None
    if due is not None and due < on:
        raise Invalid("整改期限不能早于通知日期")
    how, contact = how.strip(), contact.strip()
    if not how:
        raise Invalid("请写明通知方式（如 电话、公文、当面）")
    if len(how) > FIELD_MAX or len(contact) > FIELD_MAX:
        raise Invalid(f"通知方式、联系人最多 {FIELD_MAX} 字")
    detail = f"通知日期 {date_zh(on)}，方式：{how}" + (f"，整改期限 {date_zh(due)}" if due else "")
    detail += f"，联系人：{contact}" if contact else ""
    values: dict[str, Any] = {
        "state": NOTIFIED,
        "notified_on": on,
        "how": how,
        "deadline": due,
        "contact": contact,
        "sha256": r.sha256,
        "file": r.file,
        "fixed_at": None,
        "fixed_run": None,
        "user": user,
        "updated_at": now(),
    }
    with db.session() as s:
        if seen == 0:
            s.add(
                Township(
                    agency_key=r.follow_key, agency=r.name, year=r.follow_year, county=r.county, version=1, **values
                )
            )
            _log(s, user, r.county, "notify", _target(r), detail)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                raise Conflict("该乡镇刚刚已由他人登记通知，请刷新页面后再操作") from None
            return 1
        res = s.execute(
            update(Township)
            .where(Township.agency_key == r.follow_key, Township.year == r.follow_year, Township.version == seen)
            .values(version=Township.version + 1, **values)
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            s.rollback()
            raise Conflict("该乡镇的通知记录刚刚已由他人修改，请刷新页面后再操作")
        _log(s, user, r.county, "notify", _target(r), detail)
        s.commit()
        return seen + 1


def remaining(run: Run, r: Report, decided: dict[str, Review]) -> list[int]:
    """The report's errors and warnings that are not dismissed as false alarms."""
    out = []
    for k in r.findings:
        if run.findings[k].get("severity") not in ("error", "warning"):
            continue
        d = decided.get(run.hashes[k])
        if d is not None and d.state == DISMISSED:
            continue
        out.append(k)
    return out


def sync_fixed(db: Database, run: Run) -> int:
    """Move notified townships to fixed when ``run`` finds their corrected report clean (no error or
    warning left but those dismissed as false alarms).  Each run is looked at once; returns how many moved."""
    with db.session() as s:
        if s.get(SeenRun, run.name) is not None:
            return 0
        notified = list(s.scalars(select(Township).where(Township.state == NOTIFIED)))
    by_key = run.by_follow()
    moved = 0
    for t in notified:
        r = by_key.get((t.agency_key, t.year))
        if r is None or r.status != "validated" or r.sha256 == t.sha256:
            continue  # not resubmitted (the same bytes as when notified)
        decided = decisions(db, [run.hashes[k] for k in r.findings])
        if remaining(run, r, decided):
            continue
        with db.session() as s:
            res = s.execute(
                update(Township)
                .where(Township.id == t.id, Township.version == t.version)
                .values(state=FIXED, fixed_at=now(), fixed_run=run.name, file=r.file, version=Township.version + 1)
            )
            if res.rowcount == 1:  # type: ignore[attr-defined]
                _log(
                    s,
                    SYSTEM,
                    t.county,
                    "fixed",
                    _target(r),
                    f"校验运行 {run.name} 中更正后的报告已无问题，自动标记为已整改",
                )
                s.commit()
                moved += 1
    with db.session() as s:
        s.add(SeenRun(name=run.name, at=now()))
        try:
            s.commit()
        except IntegrityError:
            s.rollback()
    return moved


# ------------------------------------------------------------------ audit log


def audit_page(db: Database, county: str | None, page: int, per: int = 100) -> tuple[list[Audit], int]:
    with db.session() as s:
        q = select(Audit)
        c = select(func.count()).select_from(Audit)
        if county is not None:
            q = q.where(Audit.county == county)
            c = c.where(Audit.county == county)
        total = int(s.scalar(c) or 0)
        rows = list(s.scalars(q.order_by(Audit.id.desc()).offset(page * per).limit(per)))
    return rows, total


def log(db: Database, user: str, county: str, action: str, target: str, detail: str = "") -> None:
    with db.session() as s:
        _log(s, user, county, action, target, detail)
        s.commit()


# ------------------------------------------------------------------ CSV acknowledgements


def import_acks(db: Database, run: Run, acks: list[Any]) -> tuple[int, int, int]:
    """Record the CSV acknowledgements (``nianbao ack``, :class:`nianbao.report.history.Ack`) as
    decisions: each finding of ``run`` an acknowledgement covers (the same report bytes, rule and
    cells) becomes *dismissed* with the acknowledgement's note, unless the desk already has a
    decision on it.  Returns (imported, already decided, not in the run)."""
    by_sha: dict[str, list[Report]] = {}
    for r in run.reports:
        by_sha.setdefault(r.sha256, []).append(r)
    imported = kept = missing = 0
    for a in acks:
        hits = [
            k
            for r in by_sha.get(a.sha256, [])
            for k in r.findings
            if run.findings[k]["rule"] == a.rule
            and (not a.cells or sorted(a.cells) == sorted(str(c) for c in run.findings[k].get("cells") or []))
        ]
        if not hits:
            missing += 1
            continue
        decided = decisions(db, [run.hashes[k] for k in hits])
        for k in hits:
            if run.hashes[k] in decided:
                kept += 1
                continue
            note = f"由确认记录导入（{a.date}）" + (f"：{a.note}" if a.note else "")
            try:
                decide(db, run, k, DISMISSED, note[:REASON_MAX], a.reviewer, 0)
                imported += 1
            except Conflict:
                kept += 1
    return imported, kept, missing
