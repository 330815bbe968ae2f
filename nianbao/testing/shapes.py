"""A report printed in the shapes real documents come in (for the tests of the grid reader).

Each renderer takes a report in the statutory layout (:func:`nianbao.testing.render.document_from_content`)
and prints it the way an extraction or a copy leaves it — studied on published reports and their
extractions, never copied from them:

=======================  ==================================================================================
``single_space``         ``pdftotext`` / pdfplumber ``extract_text``: a row is its label and its numbers
                         separated by single spaces; column headers wrapped into pieces of two characters
                         over several lines (``社会`` / ``公益`` / ``组织``), ``总 计`` with a space; the long
                         label of （二）部分公开 wrapped with its numbers on the first line; the numbers of
                         the first sub-row of （三） on a line of their own above their label (the PDF's
                         vertical centring); the group label printed once, on its first row's line
``one_per_line``         text copied from a web page: every cell on a line of its own (a label, then its
                         numbers one per line), merged group labels printed once
``traditional``          any shape in traditional characters (a site's 繁體 switch)
``markdown_subtables``   a conversion to Markdown: a ``###`` heading per group of table 三 (（三）不予公开 …)
                         followed by a small pipe table of its sub-rows, columns named ``数据1 … 数据6 | 总计``
``pipes_between``        a web table copied with `` | `` between cells and after the last, none before
=======================  ==================================================================================

A blank cell leaves no trace in the shapes that have no cell separators, so these print it as
``—`` (read as a blank, like the empty cell of the clean twin).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from nianbao.domain.spec import T3_COLUMNS
from nianbao.testing.render import Document, Para, Table, TCell, grid

BLANK = "—"
SHAPES: dict[str, Callable[[Document], str]] = {}


def _shape(fn: Callable[[Document], str]) -> Callable[[Document], str]:
    SHAPES[fn.__name__] = fn
    return fn


def _is_value(s: str) -> bool:
    t = s.strip().replace(".", "", 1).lstrip("-")
    return t.isdigit() or t in ("", BLANK)


def _split_row(row: list[TCell]) -> tuple[list[str], list[str]]:
    """(label texts, value texts) of a printed row (merged cells once): the values are the cells
    after the last label."""
    last = max((i for i, c in enumerate(row) if c.text.strip() and not _is_value(c.text)), default=-1)
    labels = [c.text.strip() for c in row[: last + 1] if c.text.strip()]
    values = [c.text.strip() or BLANK for c in row[last + 1 :]]
    return labels, values


def _pieces(label: str, width: int = 2) -> list[str]:
    """A header label wrapped as a narrow cell prints it: pieces of ``width`` characters."""
    if len(label) <= 3:
        return [label]
    return [label[i : i + width] for i in range(0, len(label), width)]


def _wrapped_header(labels: list[str]) -> list[str]:
    pieces = [_pieces(x) for x in labels]
    return [" ".join(p[k] for p in pieces if k < len(p)) for k in range(max(len(p) for p in pieces))]


def _t3_lines(t: Table) -> list[str]:
    g = grid(t)
    out = ["申请人情况", "法人或其他组织", "（本列数据的勾稽关系为：第一项加第二项之和，", "等于第三项加第四项之和）"]
    heads = [g[1][3], *(c for c in g[2][4:9]), g[1][9]]  # 自然人, the five legal persons, 总计
    out += _wrapped_header([h.strip() for h in heads])
    above: list[str] | None = None  # numbers printed above their label (vertical centring)
    for k, row in enumerate(t.rows[3:]):
        labels, values = _split_row(row)
        label = " ".join(labels)
        nums = " ".join(values)
        if label.startswith("（二）部分公开") and len(label) > 20:
            out += [f"{label[:18]} {nums}", label[18:]]  # wrapped, its numbers on the first line
            above = None
            continue
        if above is None and k > 0 and labels and labels[-1].startswith("1.") and "属于国家秘密" in labels[-1]:
            out += [nums, label]  # the numbers on a line of their own, above the label
            continue
        out.append(f"{label} {nums}")
    return out


def _t4_lines(t: Table) -> list[str]:
    g = grid(t)
    heads = [c.strip() for c in g[1][:5]]
    pieces = [["总 计"] if h == "总计" else _pieces(h) for h in heads]
    lines = ["行政复议 行政诉讼", "未经复议直接起诉 复议后起诉"]
    for k in range(max(len(p) for p in pieces)):
        lines.append(" ".join(p[k] for p in pieces * 3 if k < len(p)))
    values = [c.strip() or BLANK for c in g[-1]]
    return [*lines, " ".join(values)]


def _plain_rows(t: Table) -> list[str]:
    out = []
    for row in t.rows:
        labels, values = _split_row(row)
        out.append(" ".join([*labels, *values]))
    return out


@_shape
def single_space(doc: Document) -> str:
    out: list[str] = []
    for b in doc.blocks:
        if isinstance(b, Para):
            out.append(b.text)
        elif b.kind == "3":
            out += _t3_lines(b)
        elif b.kind == "4":
            out += _t4_lines(b)
        else:
            out += _plain_rows(b)
    return "\n".join(out) + "\n"


@_shape
def one_per_line(doc: Document) -> str:
    out: list[str] = []
    for b in doc.blocks:
        if isinstance(b, Para):
            out += [b.text, ""]
            continue
        for row in b.rows:
            labels, values = _split_row(row)
            out += labels
            out += values
        out.append("")
    return "\n".join(out)


def _md_table(rows: list[list[str]], header: list[str], blank: str = BLANK) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(c or blank for c in r) + " |" for r in rows]
    return [*out, ""]


_GROUPS = {"（三）不予公开", "（四）无法提供", "（五）不予处理", "（六）其他处理"}


@_shape
def markdown_subtables(doc: Document) -> str:
    header = ["项目", *(f"数据{k}" for k in range(1, len(T3_COLUMNS))), "总计"]
    out: list[str] = []
    for b in doc.blocks:
        if isinstance(b, Para):
            prefix = "# " if b.style == "title" else "## " if b.style == "heading" else ""
            out += [prefix + b.text, ""]
            continue
        g = grid(b)
        if b.kind != "3":
            out += _md_table(g[1:], [c or " " for c in g[0]], blank=" ")  # merged cells: empty
            continue
        block: list[list[str]] = []
        for row in b.rows[3:]:
            labels, values = _split_row(row)
            group = next((x for x in labels if x in _GROUPS), None)
            if group is not None and len(labels) > 1:  # the first sub-row of a group: a new sub-table
                if block:
                    out += _md_table(block, header)
                out += [f"### {group}", ""]
                block = []
            if labels[-1].startswith("（七）") and block:  # the rows after the groups: a table of their own
                out += _md_table(block, header)
                block = []
            block.append([labels[-1], *values])
        out += _md_table(block, header)
    return "\n".join(out)


def title_year_first(doc: Document) -> Document:
    """The title with the year first (“2023年度××镇政府信息公开工作年度报告”)."""
    return _retitled(doc, lambda agency, year: [f"{year}年度{agency}政府信息公开工作年度报告"])


def title_agency_above(doc: Document) -> Document:
    """The agency on a line of its own above a title that starts with the year, as both official
    PDFs print it (“××区人民政府” / “2023 年政府信息公开工作年度报告”)."""
    return _retitled(doc, lambda agency, year: [agency, f"{year} 年政府信息公开工作年度报告"])


def _retitled(doc: Document, title: Callable[[str, str], list[str]]) -> Document:
    import re

    m = re.match(r"^(.*?)((?:19|20)\d{2})年", doc.title)
    if m is None:
        return doc
    lines = title(m.group(1).strip(), m.group(2))
    blocks: list[Para | Table] = []
    for b in doc.blocks:
        if isinstance(b, Para) and b.style == "title":
            blocks += [Para(t, "title" if k == 0 else "body") for k, t in enumerate(lines)]
        else:
            blocks.append(b)
    return Document(blocks)


# one character wrong in a column label of table 二 (2021: 现行有效件数; 2019: 本年新制作数量)
LABEL_TYPOS = {"现行有效件数": "先行有效件数", "本年新制作数量": "本年新制做数量"}


def label_typo(text: str) -> str:
    for right, wrong in LABEL_TYPOS.items():
        text = text.replace(right, wrong)
    return text


@_shape
def pipes_between(doc: Document) -> str:
    """A web table copied with its cells between pipes and no leading pipe (``规章 | 0 | 0 | 0 |``),
    merged cells once, half-width brackets, the two-line column labels with a space (``商业 企业``)."""
    out: list[str] = []
    for b in doc.blocks:
        if isinstance(b, Para):
            out.append(b.text)
            continue
        for row in b.rows:
            texts = [c.text.strip().replace("（", "(").replace("）", ")") for c in row]
            texts = [_SPACED.get(t, t) for t in texts]
            out.append(" | ".join(texts) + " |")
    return "\n".join(out) + "\n"


_SPACED = {"商业企业": "商业 企业", "科研机构": "科研 机构"}


@cache
def _s2t() -> object:
    import opencc

    return opencc.OpenCC("s2t")


def traditional(text: str) -> str:
    """The text in traditional characters (OpenCC s2t), as a site's 繁體 switch serves it."""
    return str(_s2t().convert(text))  # type: ignore[attr-defined]


__all__ = [
    "BLANK",
    "SHAPES",
    "label_typo",
    "markdown_subtables",
    "one_per_line",
    "pipes_between",
    "single_space",
    "title_agency_above",
    "title_year_first",
    "traditional",
]
