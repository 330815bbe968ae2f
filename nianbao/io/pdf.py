"""Text PDFs: the report's paragraphs and its tables as laid out on the page (pdfplumber).

On each page the ruled tables are found from their cell borders (pdfplumber's lattice detection) and
read row by row (a merged cell's text in its top-left cell); the text outside the tables is read as
visual lines and joined back into paragraphs — a line that runs to the right margin continues on the
next line, also across a page break, unless the next line starts a heading.  Page numbers in the
header/footer band are dropped.  Cell text wrapped over several lines is joined (no space between
Chinese characters).  A PDF without extractable text — a scan, images only, or fonts without a
character map — is ``unreadable`` (U04), with the advice to send a .docx or a text PDF.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any, cast

from nianbao.io.limits import Limits, Unreadable, check_cells, check_line_chars, check_lines
from nianbao.io.lines import Line, table_row

_PAGE_NO = re.compile(r"^(?:[-—–－\s]*\d{1,4}[-—–－\s]*|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+)$")
_STARTS_BLOCK = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.]|[（(][一二三四五六七八九十]+[)）]|\d+[、.](?!\d)|第[一二三四五六七八九十]+[章节条])"
)
_SENTENCE_END = ("。", "：", ":", "；", "！", "？", "”", "）", ")")
_CID = re.compile(r"\(cid:\d+\)")


@dataclass(slots=True)
class _TLine:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    page: int
    lead: float  # width of the line's first word (one character for Chinese text)


def _join(a: str, b: str) -> str:
    """Join two pieces of wrapped text: a space only between two Latin letters or digits."""
    if a and b and a[-1].isascii() and a[-1].isalnum() and b[0].isascii() and b[0].isalpha():
        return a + " " + b
    return a + b


def _cell(s: str | None) -> str:
    if not s:
        return ""
    parts = [p.strip() for p in s.split("\n")]
    out = ""
    for p in parts:
        out = _join(out, p) if out else p
    return out


def _lead(chars: list[dict[str, Any]]) -> float:
    if not chars:
        return 0.0
    first = chars[0]
    end = float(first["x1"])
    if str(first.get("text", "")).isascii():
        for ch in chars[1:]:
            t = str(ch.get("text", ""))
            if not t.strip() or not t.isascii():
                break
            end = float(ch["x1"])
    return end - float(first["x0"])


def _outside_of(boxes: list[tuple[float, float, float, float]]) -> Any:
    def keep(o: dict[str, Any]) -> bool:
        return o.get("object_type") != "char" or not _inside(o, boxes)

    return keep


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    cx = (obj["x0"] + obj["x1"]) / 2
    cy = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= cx <= x1 and t <= cy <= b for x0, t, x1, b in boxes)


def _row_top(t: Any, i: int, default: float) -> float:
    rows = getattr(t, "rows", None) or []
    return float(rows[i].bbox[1]) if i < len(rows) else default


def _row_bottom(t: Any, i: int, default: float) -> float:
    rows = getattr(t, "rows", None) or []
    return float(rows[i].bbox[3]) if i < len(rows) else default


def pdf_lines(data: bytes, limits: Limits) -> list[Line]:
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except (PdfminerException, PDFPasswordIncorrect, PDFEncryptionError, PDFSyntaxError, PSException) as e:
        cause = e.args[0] if isinstance(e, PdfminerException) and e.args else e
        if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
            raise Unreadable("U04", detail="已加密（需要密码才能打开），无法提取其中的文字") from e
        raise Unreadable("U01", detail=f"PDF 文件已损坏（{type(cause).__name__}）") from e
    except (ValueError, KeyError, TypeError) as e:
        raise Unreadable("U01", detail=f"PDF 文件已损坏（{type(e).__name__}）") from e
    with pdf:
        pages = pdf.pages
        if len(pages) > limits.max_pdf_pages:
            raise Unreadable("U05", detail=f"PDF 共 {len(pages)} 页，超过上限 {limits.max_pdf_pages} 页")
        items: list[tuple[int, float, int, object]] = []  # (page, top, order, _TLine | table rows)
        n_chars = n_cid = n_images = 0
        right_edge = 0.0
        n_tables = 0
        for pno, page in enumerate(pages, 1):
            n_images += len(page.images)
            chars = page.chars
            n_chars += len(chars)
            if not chars:
                continue
            n_cid += sum(1 for c in chars if c.get("text", "").startswith("(cid:"))
            boxes: list[tuple[float, float, float, float]] = []
            for t in page.find_tables():
                rows = [[_cell(c) for c in row] for row in t.extract()]
                for r, row in enumerate(rows, 1):
                    if len(row) > limits.max_cells_per_row:
                        check_cells(len(row), f"第{pno}页 表格{n_tables + 1} 第{r}行", limits)
                # ruling around prose (a page border, a text grid) makes pdfplumber see a "table" of
                # one-cell rows: only the rows from the first to the last with two or more filled
                # cells are the table; the text above and below is read as paragraphs
                multi = [i for i, row in enumerate(rows) if sum(1 for c in row if c) >= 2]
                if not multi:
                    continue
                a, b = multi[0], multi[-1]
                top, bottom = _row_top(t, a, t.bbox[1]), _row_bottom(t, b, t.bbox[3])
                boxes.append((t.bbox[0], top, t.bbox[2], bottom))
                n_tables += 1
                items.append((pno, top, len(items), (n_tables, rows[a : b + 1])))
            outside = page.filter(_outside_of(boxes)) if boxes else page
            h = float(page.height)
            for tl in outside.extract_text_lines(strip=True, return_chars=True):
                text = tl["text"]
                if not text:
                    continue
                if _PAGE_NO.match(text) and (tl["top"] > h * 0.9 or tl["bottom"] < h * 0.1):
                    continue  # page number in the footer/header band
                right_edge = max(right_edge, float(tl["x1"]))
                line = _TLine(text, tl["x0"], tl["x1"], tl["top"], tl["bottom"], pno, _lead(tl.get("chars") or []))
                items.append((pno, float(tl["top"]), len(items), line))
        if n_chars == 0:
            extra = f"共 {len(pages)} 页" + (f"、{n_images} 张图片" if n_images else "")
            raise Unreadable("U04", detail=f"{extra}，没有可提取的文字（可能是扫描件或图片）")
        if n_cid * 3 > n_chars:
            raise Unreadable("U04", detail="使用的字体缺少字符编码信息，文字无法正确提取")
    items.sort(key=lambda x: (x[0], x[1], x[2]))
    return _to_lines(items, right_edge, limits)


def _to_lines(items: list[tuple[int, float, int, object]], right_edge: float, limits: Limits) -> list[Line]:
    lines: list[Line] = []
    para: _TLine | None = None
    buf = ""

    def flush() -> None:
        nonlocal para, buf
        if para is not None and buf:
            check_line_chars(len(buf), f"第{para.page}页", limits)
            lines.append(Line([buf], len(lines) + 1, where=f"第{para.page}页"))
        para, buf = None, ""

    prev: _TLine | None = None
    for pno, _top, _k, obj in items:
        if not isinstance(obj, _TLine):
            flush()
            prev = None
            k, rows = cast(tuple[int, list[list[str]]], obj)
            for r, row in enumerate(rows, 1):
                if not any(row):
                    continue
                where = f"第{pno}页 表格{k} 第{r}行"
                lines.append(table_row(row, len(lines) + 1, where))
            check_lines(len(lines), limits)
            continue
        height = obj.bottom - obj.top
        cont = False
        if prev is not None and para is not None:
            # the previous line wrapped: the next line's first word would not have fitted on it
            full = prev.x1 + obj.lead + 0.5 * max(height, 6.0) >= right_edge
            same_page_gap = obj.page == prev.page and obj.top - prev.bottom <= 0.9 * max(height, 6.0)
            next_page = obj.page == prev.page + 1
            heading_next = bool(_STARTS_BLOCK.match(obj.text)) and prev.text.endswith(_SENTENCE_END)
            cont = full and (same_page_gap or next_page) and not heading_next
        if cont:
            buf = _join(buf, obj.text)
        else:
            flush()
            para, buf = obj, obj.text
        prev = obj
    flush()
    check_lines(len(lines), limits)
    return lines
