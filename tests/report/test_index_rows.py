"""The overview's two tables of a row per county (``#county-summary``, ``#counties``) built in
Python (html.county_summary_html, html.county_table_html) are the markup the template loops they
replace rendered, value for value — hostile texts included (markup characters, quotes, control
characters, a lone surrogate), counts of a run without a registry ("—"), empty tables."""

from __future__ import annotations

from typing import Any

from jinja2 import DictLoader

from nianbao.report import html

# the loops of index.html.j2 before the rows were built in Python (their whitespace control included)
SUMMARY_LOOP = """  <table class="list" id="county-summary">
    <tr><th>县（区）</th></tr>
    {% for c in county_summary %}
    <tr data-county="{{ c.name }}"><td class="who"><a href="{{ c.href }}" class="county-link">{{ c.name }}</a></td><td class="n">{{ c.files }}</td><td class="n">{{ c.expected if c.expected is not none else "—" }}</td><td class="n">{{ c.missing if c.missing is not none else "—" }}</td>
      <td class="n">{{ c.ok }}</td><td class="n">{{ c.error }}</td><td class="n">{{ c.warning }}</td><td class="n">{{ c.unreadable }}</td><td class="n">{{ c.errors }}</td><td class="n">{{ c.warnings }}</td><td class="n">{{ c.new }}</td></tr>
    {% endfor %}
  </table>"""  # noqa: E501
SUMMARY_NOW = """  <table class="list" id="county-summary">
    <tr><th>县（区）</th></tr>
{{ county_summary }}  </table>"""
COUNTIES_LOOP = """  <table class="list" id="counties">
    <tr>{% for h in counties.head %}<th>{{ h }}</th>{% endfor %}</tr>
    {% for r in counties.rows %}<tr>{% for v in r %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
  </table>"""
COUNTIES_NOW = """  <table class="list" id="counties">
    <tr>{% for h in counties.head %}<th>{{ h }}</th>{% endfor %}</tr>
{{ counties.rows }}  </table>"""

HOSTILE = ('<b>"甲&乙"</b>', "丙'丁\x07镇", "=HYPERLINK(1)", "  空格  ", "\ud800孤", "", "正常县")


def summary_rows() -> list[dict[str, Any]]:
    rows = []
    for n, name in enumerate(HOSTILE * 3):
        registry = n % 3 != 0
        rows.append(
            {
                "name": name,
                "href": f"counties/{name}-{n}.html?a=1&b=2",
                "files": n,
                "ok": n * 2,
                "error": n % 4,
                "warning": 0,
                "unreadable": n % 2,
                "errors": n * 7,
                "warnings": n * 3,
                "infos": n,
                "new": n % 5,
                "expected": n + 3 if registry else None,
                "missing": n % 3 if registry else None,
            }
        )
    return rows


def render(template: str, **ctx: Any) -> str:
    return html.template_env(DictLoader({"t": template})).get_template("t").render(**ctx)


def test_county_summary_rows_equal_the_template_loop() -> None:
    for rows in (summary_rows(), summary_rows()[:1], []):
        want = render(SUMMARY_LOOP, county_summary=[html.Row(r) for r in rows])
        got = render(SUMMARY_NOW, county_summary=html.Markup(html.county_summary_html(rows)))
        assert got == want
    page = render(SUMMARY_NOW, county_summary=html.Markup(html.county_summary_html(summary_rows())))
    assert "&lt;b&gt;&#34;甲&amp;乙&#34;&lt;/b&gt;" in page and "丙&#39;丁\ufffd镇" in page and "—" in page


def test_county_table_rows_equal_the_template_loop() -> None:
    head = ["县（区）", "年度", "通过", "未提交", "文件数"]
    rows: list[list[Any]] = [[name, 2023 if n % 2 else "", str(n), n, "—"] for n, name in enumerate(HOSTILE * 2)]
    for table in (rows, rows[:1], []):
        want = render(COUNTIES_LOOP, counties={"head": head, "rows": table})
        got = render(COUNTIES_NOW, counties={"head": head, "rows": html.Markup(html.county_table_html(table))})
        assert got == want
