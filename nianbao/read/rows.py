"""The rows of a table region whatever its shape (single spaces, one value per line, a header one
label per line, values before their labels): the label matchers of tables 二 and 三 and the
rebuilt rows they give (:mod:`nianbao.read.grid` pairs labels and values)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from nianbao.domain.model import ParsedReport, RowIssue
from nianbao.domain.normalize import is_value_like, nfkc
from nianbao.domain.spec import Fmt, tables
from nianbao.io.lines import Line
from nianbao.read import grid
from nianbao.read.labels import match_t2_row, match_t3, near_t3, squashed

_HEADER_WORDS = frozenset({"总计", "其他", "合计"})  # a column header word, unnumbered


@lru_cache(maxsize=1 << 14)
def t3_label(text: str) -> tuple[str, str] | None:
    """(row id, the text naming it) for a line's label text in table 三; None for a group label, a
    header or other text.  Pieces of a vertical group label printed before the row label
    (“年 3.危及…”) and a group label on the same line (“（四）无法提供 1.本机关…”) are skipped."""
    toks = text.split()
    for exact in (True, False):  # a label printed exactly after a stray piece beats a near match of all
        for k in range(min(len(toks), grid.MAX_LABEL_TOKENS + 1)):
            if k and not _row_prefix(tuple(toks[:k])):
                continue  # only characters of a vertical label and a group label go before a row label
            rest = " ".join(toks[k:])
            m = match_t3(rest)
            if m is None or not (m[0] == "row" or m[1] == "3.6") or (exact and near_t3(rest) is not None):
                continue
            if m[1] == "3.6" and k + 1 < len(toks):
                # “（六）其他处理 1.申请人…”: the group label before its first sub-row
                sub = t3_label(" ".join(toks[k + 1 :]))
                if sub is not None and sub[0] != "3.6":
                    return sub
            return m[1], rest
    return None


def _row_prefix(dropped: tuple[str, ...]) -> bool:
    """Whether tokens printed before a row label are pieces of a vertical label (single characters)
    followed by nothing or by a group label, which may itself be split at a space (“(三) 不予公开”)."""
    j = 0
    while j < len(dropped) and len(dropped[j]) <= 1:
        j += 1
    return j == len(dropped) or (match_t3(" ".join(dropped[j:])) or ("", ""))[0] == "group"


def t2_label(text: str) -> tuple[str, str] | None:
    rid = match_t2_row(text)
    return None if rid is None else (rid, text)


# how many values a row of table 二 prints (both formats)
_T2_COUNTS: dict[str, frozenset[int]] = {}
for _fmt in Fmt:
    for _r in tables(_fmt)["2"].rows:
        _T2_COUNTS[_r.id] = _T2_COUNTS.get(_r.id, frozenset()) | {len(tables(_fmt)["2"].row_columns[_r.id])}


@dataclass(slots=True)
class TableRows:
    lines: list[Line]
    header: list[list[str]]  # tokens of each header line (before the first row)
    uncertain: list[tuple[str | None, str, int, str]]  # (row id or None, printed, line no, why)


_VALUE_END = frozenset("0123456789０１２３４５６７８９—-－/／无")


def _needs_grid(window: Sequence[Line], rows_of_cells: bool = True) -> bool:
    """Whether a table region has a shape other than one row per line with its cells separated: a
    line that is one cell ending with a number (a single-space row, a number on its own line), a row
    aligned by spaces (its header may be wrapped), or — ``rows_of_cells`` — a row of cells that
    starts with a number (numbers on a line of their own).  Prose ends with punctuation: a test of
    its last character."""
    for ln in window:
        cells = ln.cells
        if len(cells) == 1 and not ln.table:
            c = cells[0].rstrip()
            if c and c[-1] in _VALUE_END:
                return True
            continue
        if ln.spans is not None:
            return True
        if rows_of_cells:
            for c in cells:
                if c and not c.isspace():
                    first = c.strip()
                    if first[0] in _VALUE_END and grid.is_value_token(first):
                        return True
                    break
    return False


def _merged(a: Line, b: Line) -> Line:
    """A label line and the line of its values as one row."""
    spans = None
    if b.spans is not None:
        spans = (a.spans or [(0, 0)] * len(a.cells)) + b.spans
    where = None
    if a.cell_where is not None or b.cell_where is not None:
        where = (a.cell_where or [a.where or ""] * len(a.cells)) + (b.cell_where or [b.where or ""] * len(b.cells))
    return Line([*a.cells, *b.cells], b.no, b.where or a.where, True, spans, where, b.loose)


def rebuild(
    window: Sequence[Line],
    label_of: Callable[[str], tuple[str, str] | None],
    fits_count: Callable[[str, int, bool], bool],
    header_start: Callable[[str], bool] | None = None,
    attach: bool = True,
) -> TableRows:
    """The rows of a table region whatever its shape (see :mod:`nianbao.read.grid`)."""
    if not _needs_grid(window, attach) and (
        header_start is None
        or not any(len(ln.cells) == 1 and not ln.table and header_start(ln.cells[0].strip()) for ln in window)
    ):
        return TableRows(list(window), [], [])
    # 1. single-space lines split into cells; one value per line gathered into one line of values
    lines: list[Line] = []
    pieces: list[grid.Piece] = []
    run: list[Line] = []

    def flush() -> None:
        if run:
            vals = [r.cells[0] for r in run]
            ln = Line(vals, run[0].no, run[0].where, True, None, None, True)
            lines.append(ln)
            pieces.append(grid.Piece("", [(k + 1, v) for k, v in enumerate(vals)], len(pieces), True))
            run.clear()

    for ln in window:
        p, new = grid.pieces_of(ln.cells, ln.table, 0)
        if new is not None:
            ln = Line(new, ln.no, ln.where, True, None, ln.cell_where, True)
            if not p.text and len(new) == 1:
                run.append(ln)
                continue
        elif not p.text and not p.values:
            continue  # a blank line: it does not break a column of one value per line
        if header_start is not None and len(ln.cells) == 1 and header_start(p.text):
            flush()
            ln = Line(grid.tokens(ln.cells), ln.no, ln.where, True)
            p = grid.Piece(" ".join(ln.cells), [], 0, False)
        flush()
        p.index = len(pieces)
        lines.append(ln)
        pieces.append(p)
    flush()
    # a header printed one label per line after its first label ("信息内容" / "本年制发件数" / …)
    kinds: list[str] = []
    labels: list[str | None] = []
    seen_row = False
    for p in pieces:
        hit = label_of(p.text) if p.text else None
        if hit is not None and not p.values and not seen_row and squashed(p.text) in _HEADER_WORDS:
            hit = None  # “总计” above the rows: the column header, not the row （七）总计
        lab = None
        if hit is not None:
            lab, named = hit
            seen_row = True
            ln = lines[len(labels)]
            if named != p.text and (ln.loose or len(ln.cells) == 1) and ln.cells[0].strip() == p.text:
                # the label without the pieces of a vertical group label printed before it
                lines[len(labels)] = Line(
                    [named, *ln.cells[1:]], ln.no, ln.where, ln.table, None, ln.cell_where, ln.loose
                )
        labels.append(lab)
        if p.values:
            kinds.append("F" if p.text else "V")
        else:
            kinds.append("L" if lab is not None else "T")
    for i, lab in enumerate(labels):
        if lab == "3.6" and kinds[i] == "L":
            # “（六）其他处理” followed by its own sub-rows: the group's label, not a row of the 2019 format
            nxt = next((j for j in range(i + 1, len(kinds)) if kinds[j] != "T"), None)
            if nxt is not None and (labels[nxt] or "").startswith("3.6."):
                kinds[i], labels[i] = "T", None
    if label_of is t3_label:
        # a misprinted numbered sub-row alone on its line (“2.其他法律行政止公开”): the row its number
        # names when its labelled neighbours are that row's (it then takes numbers like any label)
        for i, rid in _by_number(
            [p.text if k in "TF" else "" for p, k in zip(pieces, kinds, strict=True)], labels
        ).items():
            labels[i] = rid
            if kinds[i] == "T":
                kinds[i] = "L"
    first_row = next((i for i, k in enumerate(kinds) if k in "LF"), len(kinds))
    header = [grid.tokens(lines[i].cells) for i in range(first_row) if kinds[i] == "T"]
    if not attach:
        return TableRows(lines, header, [])
    counts = [sum(1 for _p, c in p.values if c.strip()) for p in pieces]

    def fits(lab: int, v: int) -> bool:
        rid = labels[lab]
        return rid is not None and fits_count(rid, counts[v], pieces[v].loose)

    def placeable(v: int) -> bool:
        return any(fits_count(rid, counts[v], pieces[v].loose) for rid in set(labels) if rid is not None)

    res = grid.attach(kinds, counts, fits, lambda lab: labels[lab] == "3.6", placeable, _doubtful(kinds, labels))
    out: list[Line] = []
    uncertain: list[tuple[str | None, str, int, str]] = []
    paired = set(res.pairs.values())
    for i, ln in enumerate(lines):
        if i in res.pairs:
            out.append(_merged(ln, lines[res.pairs[i]]))
        elif i in res.uncertain:
            uncertain.append((labels[i], pieces[i].text, ln.no, res.uncertain[i]))
        elif kinds[i] == "V" and i not in paired:
            continue  # values that no row takes for certain: never guessed
        elif kinds[i] != "V":
            out.append(ln)
    if res.orphans:
        # numbers that no row takes for certain: a label left without numbers may be theirs
        for i, ln in enumerate(lines):
            single_six = labels[i] == "3.6" and not any((x or "").startswith("3.6.") for x in labels)
            if kinds[i] == "L" and i not in res.pairs and i not in res.uncertain and (labels[i] != "3.6" or single_six):
                res.uncertain[i] = "表中有无法确定归属的数字，该行的数字可能在其中"
                uncertain.append((labels[i], pieces[i].text, ln.no, res.uncertain[i]))
                out.remove(ln)
    flagged = set(res.uncertain)
    for v, why in res.orphans:
        near = [lab for lab in range(max(0, v - 3), min(len(kinds), v + 4)) if lab in flagged]
        if not near:
            uncertain.append((None, "\t".join(c for _p, c in pieces[v].values), lines[v].no, why))
    return TableRows(out, header, uncertain)


def no_label(_text: str) -> tuple[str, str] | None:
    return None


_SUB_NO = re.compile(r"^(?:\S\s+)?(\d+)\s*[.、．]")
_T3_IDS = frozenset(r.id for fmt in Fmt for r in tables(fmt)["3"].rows)


def _by_number(texts: Sequence[str], labels: Sequence[str | None]) -> dict[int, str]:
    """Index -> row id for the unlabelled texts that start with a sub-row number (“2.…”) whose
    nearest labelled neighbours are that row's statutory neighbours (“3.3.1” before or “3.3.3”
    after) — one candidate, a row not printed elsewhere."""
    out: dict[int, str] = {}
    printed = {rid for rid in labels if rid}
    for j, text in enumerate(texts):
        if labels[j] is not None or not text:
            continue
        m = _SUB_NO.match(nfkc(text))
        if m is None:
            continue
        num = int(m.group(1))
        prev = next((r for r in reversed(labels[:j]) if r), None)
        nxt = next((r for r in labels[j + 1 :] if r), None)
        guesses = set()
        for near, step in ((prev, -1), (nxt, 1)):
            if near is not None and near.count(".") == 2 and near.rsplit(".", 1)[1] == str(num + step):
                guesses.add(f"{near.rsplit('.', 1)[0]}.{num}")
        if len(guesses) == 1 and (target := guesses.pop()) in _T3_IDS and target not in printed:
            out[j] = target
            printed.add(target)
    return out


T3_ROW_SETS = tuple(frozenset(r.id for r in tables(fmt)["3"].rows) for fmt in Fmt)


def numbered_in_place(lines: list[Line], rep: ParsedReport, issues_before: int) -> list[Line]:
    """A numbered sub-row of table 三 whose label is misprinted beyond near matching (“2.其他法律行政
    止公开”, three characters lost) is read as the row its number names when the labelled rows just
    before and after it are that row's neighbours in the statutory order; an I12 names the printed
    and the statutory label.  Only rows with values, only one candidate, only a row not printed
    elsewhere."""
    found: list[tuple[int, str | None, int]] = []  # (line index, row id, index of the label cell)
    for i, ln in enumerate(lines):
        k = next(
            (j for j in range(len(ln.cells) - 1, -1, -1) if ln.cells[j].strip() and not is_value_like(ln.cells[j])), -1
        )
        if k < 0:
            continue
        hit = t3_label(ln.cells[k].strip())
        found.append((i, hit[0] if hit else None, k))
    if all(rid is not None for _i, rid, _k in found):
        return lines
    placed = _by_number(
        [lines[i].cells[k].strip() if any(c.strip() for c in lines[i].cells[k + 1 :]) else "" for i, _r, k in found],
        [rid for _i, rid, _k in found],
    )
    if not placed:
        return lines
    del rep.row_issues[issues_before:]  # the rows are read again: the first reading's issues go
    out = list(lines)
    for j, target in placed.items():
        i, _rid, k = found[j]
        ln = lines[i]
        num = int(_SUB_NO.match(nfkc(ln.cells[k].strip())).group(1))  # type: ignore[union-attr]
        statutory = tables(Fmt.F2021 if target in {r.id for r in tables(Fmt.F2021)["3"].rows} else Fmt.F2019)["3"]
        key = statutory.row(target).keys[0]
        cells = list(ln.cells)
        cells[k] = f"{num}.{key}"
        out[i] = Line(cells, ln.no, ln.where, ln.table, ln.spans, ln.cell_where, ln.loose)
        printed = ln.cells[k].strip()
        if len(parts := printed.split()) > 1 and len(parts[0]) == 1:
            printed = " ".join(parts[1:])  # a character of a vertical group label glued before it
        rep.row_issues.append(RowIssue("I12", f"3:{target}:*", printed, ln.no, detail=key))
    return out


_T3_ORDER = {r.id: k for k, r in enumerate(tables(Fmt.F2021)["3"].rows)}


def _doubtful(kinds: Sequence[str], labels: Sequence[str | None]) -> set[int]:
    """Lines of values before the first label of table 三 whose earlier rows are not printed before
    that label (“总计 / 21 0 … / 二、上年结转 …”, 一 printed far below): they may be that row's."""
    out: set[int] = set()
    seen: set[str] = set()
    before_any = True
    pending: list[int] = []
    for i, k in enumerate(kinds):
        if k == "V" and before_any:
            pending.append(i)
        elif k in "LF":
            rid = labels[i]
            if pending and rid in _T3_ORDER:
                earlier = {r for r, o in _T3_ORDER.items() if o < _T3_ORDER[rid] and not r.startswith("3.6.")}
                if not earlier <= seen:
                    out.update(pending)
            pending = []
            before_any = False
            if rid is not None:
                seen.add(rid)
    return out


def t3_fits(n: int) -> Callable[[str, int, bool], bool]:
    def fits(_rid: str, count: int, loose: bool) -> bool:
        return count == n if loose else 1 <= count <= n

    return fits


def t2_fits(rid: str, count: int, loose: bool) -> bool:
    allowed = _T2_COUNTS.get(rid, frozenset())
    return count in allowed if loose else 1 <= count <= max(allowed, default=0)


def t2_header(text: str) -> bool:
    return text.startswith("信息内容") and len(text) > 4
