"""Each finding's <li> on a report page built in Python (html.finding_html) is the markup the
``finding`` macro it replaces rendered — for every finding of the bundled sample and a synthetic
batch, and for every branch of the macro (quote, fix, shared advice, suspects, cells, review)
with hostile texts (markup characters, quotes, control characters)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from jinja2 import DictLoader

from nianbao.report import html
from nianbao.report.hooks import Ack
from nianbao.report.quality import prepare
from nianbao.run.steps import validate_paths
from tests.helpers import ROOT

# the macro of _macros.html.j2 before the markup was built in Python (its whitespace control included)
MACRO = """{% macro finding(v, rules_href) -%}
<li id="{{ v["id"] }}" class="sev-l-{{ v["severity"] }}" data-rule="{{ v["rule"] }}" data-status="{{ v["status"] }}">
  <div class="f-head">
    <span class="sev sev-{{ v["severity"] }}">{{ v["sev_zh"] }}</span>
    <a href="{{ rules_href }}#{{ v["rule"] }}" class="rule-link">{{ v["rule"] }}</a> {{ v["title"] }}
    <span class="st st-{{ v["status"] }}">{{ v["status_zh"] }}{% if v["corrected"] %}（报告已更正，问题仍在）{% endif %}</span>
  </div>
  <div class="f-msg">{{ v["message"] }}</div>
  {% if v["quote"] %}<blockquote>{{ v["quote"] }}</blockquote>{% endif %}
  <div class="f-vals">{% for lab, val in v["values"] %}{{ lab }}：<b>{{ val }}</b>{% if not loop.last %}　{% endif %}{% endfor %}</div>
  {% if v["table_wrong"] %}
  <div class="f-fix table-wrong">按表内勾稽关系推断，更可能填错的是表格：{% for s in v["table_wrong"] %}{{ s["label"] }}由 {{ s["reported"] }} 改为 {{ s["suggested"] }}{% if not loop.last %}；{% endif %}{% endfor %}（见上方“疑似错误单元格”）。先改表格，再核对正文是否与改正后的表格一致。</div>
  {% endif %}
  {% if v["table_wrong"] %}
  {% elif v["fix_likely"] %}<div class="f-fix f-ref">改正建议：最可能的改法见上方“<a href="#suspects">疑似错误单元格</a>”。{% if v["fix_ref"] %}另见 <a href="#{{ v["fix_ref"][0] }}">{{ v["fix_ref"][1] }}</a> 的改正建议。{% elif v["fix"] %}{{ v["fix"] }}{% endif %}</div>
  {% elif v["fix_ref"] %}<div class="f-fix f-ref">改正建议：同 <a href="#{{ v["fix_ref"][0] }}">{{ v["fix_ref"][1] }}</a>（见上）。</div>
  {% elif v["fix"] %}<div class="f-fix">改正建议：{{ v["fix"] }}</div>{% endif %}
  {% if v["suspects"] and not v["fix_likely"] %}
  <div class="f-meta">疑似错误单元格：
    {% for s in v["suspects"] %}{{ s["label"] }}（填写 {{ s["reported"] }}，建议 {{ s["suggested"] }}）{% if not loop.last %}；{% endif %}{% endfor %}
  </div>
  {% endif %}
  <div class="f-meta">
    {% if v["where"] %}源文件{{ v["where"] }}{% elif v["line"] %}源文件第 {{ v["line"] }} 行{% else %}源文件中无对应行{% endif %}
    {% if v["cells"] %}｜涉及：{% if v["cells"]|length <= 3 %}{{ v["cells"]|join("；") }}{% else %}{{ v["cells"][0] }} 等 {{ v["cells"]|length }} 处<details class="cells"><summary>全部列出</summary>{{ v["cells"]|join("；") }}</details>{% endif %}{% endif %}
  </div>
  {% if v["ack"] %}
  <div class="f-meta">已由 {{ v["ack"].reviewer }} 于 {{ v["ack_date"] }} 复核{% if v["ack"].note %}：{{ v["ack"].note }}{% endif %}（报告内容变化后需重新复核）</div>
  {% elif v["ack_cmd"] %}
  <details class="f-meta noprint"><summary>标记为已复核</summary>
    <code class="cmd">{{ v["ack_cmd"] }}</code>
  </details>
  {% endif %}
</li>
{%- endmacro %}
"""  # noqa: E501

HOSTILE = "<b>\"甲&乙\"</b>\x07'丙'"


def variants(v: dict[str, Any]) -> list[dict[str, Any]]:
    """``v`` as it is, and with each branch of the macro taken (one change at a time, and some together)."""
    ack = Ack("0" * 64, v["rule"], (), HOSTILE, HOSTILE, "2026-12-07")
    changes: list[dict[str, Any]] = [
        {"quote": HOSTILE},
        {"quote": ""},
        {"corrected": True},
        {"message": HOSTILE, "title": HOSTILE},
        {"values": [("应为", "1"), ("报告填写", HOSTILE)]},
        {"values": []},
        {
            "table_wrong": [
                {"label": HOSTILE, "reported": "1", "suggested": "2"},
                {"label": "b", "reported": HOSTILE, "suggested": "3"},
            ]
        },
        {"fix_likely": True, "fix_ref": None, "fix": HOSTILE},
        {"fix_likely": True, "fix_ref": ("f-1", HOSTILE), "fix": "x"},
        {"fix_likely": True, "fix_ref": None, "fix": ""},
        {"fix_likely": False, "fix_ref": ("f-2", "A01"), "fix": "x"},
        {"fix_likely": False, "fix_ref": None, "fix": HOSTILE},
        {"fix_likely": False, "fix_ref": None, "fix": ""},
        {
            "suspects": [
                {"label": HOSTILE, "reported": "1", "suggested": "2"},
                {"label": "c", "reported": "空白", "suggested": "0"},
            ]
        },
        {"suspects": [{"label": "c", "reported": "1", "suggested": "2"}], "fix_likely": True},
        {"where": HOSTILE, "line": 3},
        {"where": None, "line": 12},
        {"where": None, "line": None},
        *({"cells": [HOSTILE, "b", "c", "d", "e"][:n]} for n in range(6)),
        {"ack": ack, "ack_date": "2026年12月7日"},
        {"ack": Ack("0" * 64, "A01", (), "张三", "", "2026-12-07"), "ack_date": "2026年12月7日"},
        {"ack": None, "ack_cmd": "nianbao ack --rule " + HOSTILE},
        {"ack": None, "ack_cmd": None},
    ]
    out = [v, *({**v, **c} for c in changes)]
    out += [{**v, **a, **b} for a, b in itertools.combinations(changes[6:16], 2)]
    return out


def test_finding_html_equals_the_macro(tmp_path: Path) -> None:
    env = html.template_env(DictLoader({"m.html": MACRO + '{{ finding(v, "../rules.html") }}'}))
    macro = env.get_template("m.html")
    outcome = validate_paths([ROOT / "data" / "submissions"], 1)
    q = prepare(outcome, tmp_path, None, None)
    compared = 0
    rules: set[str] = set()
    for i in range(len(outcome.files)):
        for v in html.report_context(q, i)["findings"]:
            rules.add(v["rule"])
            for w in variants(v):
                assert html.finding_html(w) == macro.render(v=w), (v["rule"], w)
                compared += 1
    assert len(rules) >= 10 and compared > 2000


def test_ack_command_is_shlex_join_of_its_words() -> None:
    """html._ack_command (fixed words and cell ids quoted once) is ``shlex.join`` of the command's
    words, for hostile file names, rules and cells (spaces, quotes, $(...), Chinese, empty)."""
    import shlex
    from types import SimpleNamespace

    files = ["a b.txt", "x'$(rm -rf ~)\"", "", "报告 2023.docx", "-n", "a\nb"]
    rules = ["A01", "H19", "", "a b"]
    cells = [[], ["3:1:2"], ["3:*:1", "a b", ""], ["2:一:1"] * 3]
    for file, rule, cs in itertools.product(files, rules, cells):
        words = ["nianbao", "ack", "--acks", "acknowledgements.csv", "--file", file, "--rule", rule]
        for c in cs:
            words += ["--cell", c]
        words += ["--reviewer", "姓名", "--note", "复核说明"]
        f = SimpleNamespace(file=file, rule=rule, cells=cs)
        assert html._ack_command(f) == shlex.join(words)  # type: ignore[arg-type]
