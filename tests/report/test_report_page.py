"""The report pages built in Python (html.report_page) are the markup the former template
(``report_page.html.j2`` beside this test, in the package's ``_base.html.j2``) rendered from the same
context — on every page of the bundled submissions and on every branch of the page: unreadable with
and without advice, a change tag, new and acknowledged counts, a title with and without its line, no
file type, suspects with one and several ways to correct, a likely fix, hostile texts."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader

from nianbao.report import html
from nianbao.report.quality import prepare
from nianbao.run.steps import validate_paths
from tests.helpers import ROOT

HOSTILE = '<b>"甲&乙"</b>\x07丙'


def reference(ctx: dict[str, Any]) -> str:
    env = html.template_env(
        ChoiceLoader([FileSystemLoader(Path(__file__).parent), PackageLoader("nianbao.report", "templates")])
    )
    return env.get_template("report_page.html.j2").render(ctx)


def variants(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    """The context as it is and with each branch of the page turned the other way."""
    fo, row = ctx["fo"], ctx["row"]
    out = [ctx]
    for key, value in (("change", "已更正"), ("source_zh", ""), ("reason_fix", HOSTILE), ("likely_fix", HOSTILE)):
        out.append({**ctx, key: value})
    for row_change in ({"new": 3, "acked": 2}, {"year": None}, {"agency": HOSTILE, "state": HOSTILE}):
        out.append({**ctx, "row": html.Row(row, **row_change)})
    out.append({**ctx, "fo": dataclasses.replace(fo, agency=None, file=HOSTILE, reason=HOSTILE)})
    out.append({**ctx, "county": {"name": HOSTILE, "href": "../counties/&.html"}})
    for title, line in ((HOSTILE, 7), ("年报", None), (None, 3)):
        out.append({**ctx, "rep": SimpleNamespace(title=title, title_line=line)})
    out.append({**ctx, "rep": None})
    for unreadable in ({}, {"reason_fix": HOSTILE, "change": "新报送"}, {"fo": dataclasses.replace(fo, agency=None)}):
        out.append({**ctx, "readable": False, "reason_fix": "", **unreadable})  # (its branch shows no tables)
    suspect = html.Row(
        cell="3:*:x", alternative=2, label=HOSTILE, reported="—", suggested="12", cause=HOSTILE, rules=[]
    )
    rules = [("A01", "f-0"), ("A02", "f-3")]
    for alternatives in (1, 2):
        out.append({**ctx, "alternatives": alternatives, "suspects": [suspect, html.Row(suspect, rules=rules)]})
    out.append({**ctx, "structural": [], "suspects": []})
    return out


def test_report_page_equals_the_template(tmp_path: Path) -> None:
    outcome = validate_paths([ROOT / "data" / "submissions"], 1)
    q = prepare(outcome, tmp_path, None, None)
    kinds: set[tuple[bool, bool, bool]] = set()
    compared = 0
    for i in range(len(outcome.files)):
        if not q.paged[i]:
            continue
        base = html.report_context(q, i)
        kinds.add((base["readable"], bool(base["suspects"]), bool(base["structural"])))
        for ctx in variants(base) if base["readable"] else [base]:
            assert html.report_page(ctx) == reference(ctx), outcome.files[i].file
            compared += 1
    assert compared > 200 and any(k[0] for k in kinds)
    assert any(k[1] for k in kinds) and any(k[2] for k in kinds)  # with suspects, with structural findings
