"""The county pages' report rows built in Python (html.county_rows_html) are the markup the
template loop they replace rendered, value for value — hostile texts included (markup characters,
quotes, control characters, a formula-like name), with and without a page, a reason, a change."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from jinja2 import DictLoader

from nianbao.report import html
from nianbao.report.history import CORRECTED, SUBMITTED, UNCHANGED
from nianbao.report.quality import prepare
from nianbao.run.steps import validate_paths
from tests.helpers import ROOT

# the loop of county.html.j2 before the rows were built in Python (its whitespace control included)
LOOP = """<table>
    <tr><th>#</th></tr>
    {#- rows -#}
    {% for r in reports %}
    <tr id="r-{{ r["i"] }}" class="r-{{ r["state_cls"] }}"><td class="n">{{ loop.index }}</td><td class="who">{% if r["paged"] %}<a href="{{ r["href"] }}" class="report-link">{{ r["agency"] }}</a>{% else %}<span class="report-name">{{ r["agency"] }}</span>{% endif %}</td><td>{{ r["year"] }}</td>
      <td><span class="st st-{{ r["state_cls"] }}">{{ r["state"] }}</span>{% if r["reason"] %}<div class="muted">{{ r["reason"] }}</div>{% endif %}</td>
      <td class="n">{{ r["errors"] }}</td><td class="n">{{ r["warnings"] }}</td><td class="n">{{ r["infos"] }}</td><td class="n">{{ r["new"] }}</td>
      <td>{% if r["change"] %}<span class="tag">{{ r["change"] }}</span>{% endif %}</td><td class="mono">{{ r["file"] }}</td></tr>
    {% endfor %}
  </table>"""  # noqa: E501

HOSTILE = ('<b>"甲&乙"</b>', "丙'丁\x07镇", "=HYPERLINK(1)", "  空格  ", "\ud800孤", "")


def test_county_rows_equal_the_template_loop(tmp_path: Path) -> None:
    outcome = validate_paths([ROOT / "data" / "submissions"], 1)
    files = outcome.files
    for n, fo in enumerate(files):  # every other file with a hostile agency, file name and reason
        text = HOSTILE[(n // 2) % len(HOSTILE)]
        if n % 2:
            files[n] = dataclasses.replace(fo, agency=text or None, file=f"{text}/{n}.txt", reason=text or fo.reason)
    q = prepare(outcome, tmp_path, None, None)
    changes = (None, SUBMITTED, CORRECTED, UNCHANGED)
    q.review.report_change[:] = [changes[n % 4] for n in range(len(files))]
    q.paged[:] = [n % 3 != 0 for n in range(len(files))]
    q.new[:] = [n % 5 for n in range(len(files))]
    env = html.template_env(DictLoader({"loop.html": LOOP}))
    compared = 0
    pages = ""
    for g in q.groups:
        rows = [html._file_row(q, i, files[i], "../") for i in g.files]
        want = env.get_template("loop.html").render(reports=rows)
        got = env.from_string("""<table>
    <tr><th>#</th></tr>
    {#- rows -#}
    {{ rows }}  </table>""").render(rows=html.Markup(html.county_rows_html(q, g)))
        assert got == want, g.name
        compared += len(g.files)
        pages += want
    assert compared == len(files) > 20
    # the hostile texts were there
    assert "&lt;b&gt;&#34;甲&amp;乙&#34;&lt;/b&gt;" in pages and "丙&#39;丁\ufffd镇" in pages
