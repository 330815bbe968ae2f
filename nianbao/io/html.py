"""Saved web pages (.html/.htm): the report text plus its tables, without the page around it.

Parsed with selectolax (the lexbor engine: a real HTML5 parser, fast, tolerant of the broken markup
of CMS pages).  Navigation, scripts, styles, forms, headers and footers are dropped, and so are
paragraphs made only of links (menus, "related reports" lists).  Block elements become paragraphs;
a data table (one without tables inside — an outer table that holds other tables is page layout)
becomes its rows, with rowspan/colspan expanded into a grid: a merged cell's text in its top-left
position, empty cells where it spans, exactly as a copy from Word prints it.  The tree is walked
iteratively (no recursion), so deep nesting cannot overflow the stack; the grid size is checked
against the limits before it is built.
"""

from __future__ import annotations

import re
from typing import Any

from nianbao.io.limits import Limits, Unreadable, check_cells, check_line_chars, check_lines
from nianbao.io.lines import Line, table_row

_SKIP = frozenset(
    {
        "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "iframe", "object",
        "embed", "select", "option", "button", "form", "head", "svg", "canvas", "map", "audio", "video",
        "input", "textarea", "title", "meta", "link",
    }
)  # fmt: skip
_BLOCK = frozenset(
    {
        "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4",
        "h5", "h6", "blockquote", "pre", "center", "address", "figure", "figcaption", "hr", "body", "td", "th",
        "tr", "table", "caption", "fieldset", "details", "summary",
    }
)  # fmt: skip
_SKIP_CLASS = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|menu|breadcrumb|crumbs?|footer|sidebar|share|toolbar)(?:$|[\s_-])", re.I
)
_WS = re.compile(r"[ \t\r\n\f\u00a0\u3000]+")
_SEPARATORS = " \t\r\n\u00a0\u3000|｜·•/>»›-—:："
MAX_SPAN = 1000  # HTML caps colspan at 1000 and rowspan at 65534; no statutory table needs more
MAX_DEPTH = 2000


def _clean(s: str) -> str:
    return _WS.sub(" ", s).strip()


def _skipped(node: Any) -> bool:
    if node.tag in _SKIP:
        return True
    attrs = node.attributes
    cls = (attrs.get("class") or "") + " " + (attrs.get("id") or "")
    if cls.strip() and _SKIP_CLASS.search(cls):
        return True
    style = (attrs.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "hidden" in attrs


def _int_attr(node: Any, name: str) -> int:
    raw = node.attributes.get(name) or "1"
    m = re.match(r"\s*(\d+)", raw)
    return max(1, min(int(m.group(1)), MAX_SPAN)) if m else 1


def _cell_text(cell: Any) -> str:
    """A cell's text: its paragraphs and line breaks joined by spaces."""
    parts: list[str] = []
    stack = [cell]
    while stack:
        node = stack.pop()
        tag = node.tag
        if tag == "-text":
            parts.append(node.text_content or "")
            continue
        if tag in _SKIP and tag not in ("header", "footer", "nav"):
            continue
        if tag == "br" or tag in _BLOCK:
            parts.append(" ")
        children = list(node.iter(include_text=True))
        stack.extend(reversed(children))
    return _clean("".join(parts))


def _has_table_inside(table: Any) -> bool:
    return len(table.css("table")) > 1  # css() matches the node itself too


class _Walker:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.lines: list[Line] = []
        self.buf: list[str] = []
        self.buf_links: list[bool] = []  # per text piece: inside a link
        self.n_tables = 0

    def flush(self) -> None:
        if not self.buf:
            return
        text = _clean("".join(self.buf))
        only_links = all(self.buf_links[i] or not self.buf[i].strip(_SEPARATORS) for i in range(len(self.buf)))
        self.buf, self.buf_links = [], []
        if not text or (only_links and len(text) < 80):
            return  # a menu item or a list of links, not report text
        check_line_chars(len(text), f"第 {len(self.lines) + 1} 段", self.limits)
        self.lines.append(Line([text], len(self.lines) + 1))
        check_lines(len(self.lines), self.limits)

    def table(self, node: Any) -> None:
        self.flush()
        self.n_tables += 1
        k = self.n_tables
        trs = [tr for tr in node.css("tr")]
        grid: list[list[str | None]] = []
        cells_total = 0
        for r, tr in enumerate(trs):
            while len(grid) <= r:
                grid.append([])
            c = 0
            tds = [x for x in tr.iter() if x.tag in ("td", "th")]
            check_cells(len(tds), f"表格{k} 第{r + 1}行", self.limits)
            for td in tds:
                row = grid[r]
                while c < len(row) and row[c] is not None:
                    c += 1
                cs = _int_attr(td, "colspan")
                rs = min(_int_attr(td, "rowspan"), max(1, len(trs) - r))
                if c + cs > self.limits.max_cells_per_row:
                    check_cells(c + cs, f"表格{k} 第{r + 1}行", self.limits)
                cells_total += cs * rs
                if cells_total > self.limits.max_table_cells:
                    raise Unreadable(
                        "U05",
                        detail=f"表格{k}展开合并单元格后超过 {self.limits.max_table_cells} 个单元格",
                    )
                text = _cell_text(td)
                check_line_chars(len(text), f"表格{k} 第{r + 1}行", self.limits)
                for dr in range(rs):
                    while len(grid) <= r + dr:
                        grid.append([])
                    target = grid[r + dr]
                    while len(target) < c + cs:
                        target.append(None)
                    for dc in range(cs):
                        target[c + dc] = text if (dr, dc) == (0, 0) else ""
                c += cs
        for r, row in enumerate(grid):
            cells = [x or "" for x in row]
            if not any(cells):
                continue
            where = f"表格{k} 第{r + 1}行"
            self.lines.append(table_row(cells, len(self.lines) + 1, where))
        check_lines(len(self.lines), self.limits)

    def walk(self, root: Any) -> list[Line]:
        # (node, depth, inside a link); None marks the end of a block element
        stack: list[tuple[Any, int, bool] | None] = [(root, 0, False)]
        while stack:
            item = stack.pop()
            if item is None:
                self.flush()
                continue
            node, depth, in_link = item
            tag = node.tag
            if tag == "-text":
                self.buf.append(node.text_content or "")
                self.buf_links.append(in_link)
                continue
            if tag in ("-comment", "!doctype") or _skipped(node):
                continue
            if depth > MAX_DEPTH:
                raise Unreadable("U05", detail=f"网页元素嵌套超过 {MAX_DEPTH} 层")
            if tag == "table" and not _has_table_inside(node):
                self.table(node)
                continue
            if tag == "br":
                self.flush()
                continue
            block = tag in _BLOCK
            if block:
                self.flush()
                stack.append(None)
            link = in_link or tag == "a"
            children = list(node.iter(include_text=True))
            stack.extend((ch, depth + 1, link) for ch in reversed(children))
        self.flush()
        return self.lines


_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
# elements without an end tag, or whose end tag may be left out: they do not nest deeper
_FLAT = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
        "wbr", "p", "li", "td", "th", "tr", "dt", "dd", "option", "thead", "tbody", "tfoot", "colgroup", "caption",
        "optgroup", "rb", "rt", "rp", "html", "head", "body",
    }
)  # fmt: skip


def _check_depth(text: str) -> None:
    """Refuse absurd nesting before the HTML parser sees it (its tree building slows down with depth)."""
    depth = 0
    for m in _TAG.finditer(text):
        tag = m.group(2).lower()
        if tag in _FLAT or m.group(3):
            continue
        if m.group(1):
            depth = max(0, depth - 1)
            continue
        depth += 1
        if depth > MAX_DEPTH:
            raise Unreadable("U05", detail=f"网页元素嵌套超过 {MAX_DEPTH} 层")


def html_lines(text: str, limits: Limits) -> list[Line]:
    from selectolax.lexbor import LexborHTMLParser

    _check_depth(text)
    tree = LexborHTMLParser(text)
    root = tree.body or tree.root
    if root is None:
        return []
    return _Walker(limits).walk(root)
