"""The bulk reading path (nianbao.read.bulk) gives exactly the tolerant reader's report, or leaves it.

The whole corpus of ``tests/read/test_fast_read.py`` — the synthetic reports (every planted defect,
several seeds, two years, mixed encodings and CRLF), their 2019-layout twins, the seed, and every
shape of the real-shape corpus of ``tests/read/test_real_shapes.py`` — is written to files and read
as one batch by :func:`nianbao.read.bulk.load_files`; each report is compared field by field with
the tolerant reader's (fast paths off).  The bulk reader must read the well-formed reports and
leave every other shape to the per-report path: the counts are exact.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nianbao.domain.model import ParsedReport
from nianbao.domain.normalize import State
from nianbao.io.limits import ENV as LIMIT_ENV
from nianbao.io.textio import decode_text
from nianbao.read import bulk, fast
from nianbao.read.load import load_bytes, load_file
from tests.helpers import busy_seed, seed_text
from tests.read.test_fast_read import BLANK_TOTALS, _blank_totals, _corpus, _fast_reads, differences
from tests.read.test_real_shapes import REPORTS, SHAPE_TEXTS, _content


def _bulk_reads(named: list[tuple[str, bytes]]) -> list[bool]:
    """Which of these texts the bulk reader reads (rather than leaving to the per-report path)."""
    reps = [ParsedReport(file=n, sha256="", size=len(d), source_type="text") for n, d in named]
    return bulk.read_texts([(r, decode_text(d).text) for r, (_n, d) in zip(reps, named, strict=True)])


def _write(tmp: Path, named: list[tuple[str, bytes]]) -> list[tuple[Path, str]]:
    out = []
    for k, (name, data) in enumerate(named):
        p = tmp / f"{k:04d}.txt"
        p.write_bytes(data)
        out.append((p, name))
    return out


def _fresh_bulk_read(tmp: Path, named: list[tuple[str, bytes]]) -> list[ParsedReport]:
    """These files read by the bulk path with no plan kept from before; every one read in bulk."""
    for kept in (fast._PLANS, fast._PARTS, bulk._COMPILED, bulk._PARTS, bulk._CHOSEN):
        kept.clear()
    got = list(bulk.load_files(_write(tmp, named)))
    assert _bulk_reads(named) == [True] * len(named)
    return got


def _as_tolerant(named: list[tuple[str, bytes]], got: list[ParsedReport], monkeypatch: pytest.MonkeyPatch) -> None:
    """Each report read in bulk is the tolerant reader's reading of its file."""
    with monkeypatch.context() as m:
        m.setenv(fast.ENV, "0")
        for (name, data), rep in zip(named, got, strict=True):
            assert _same(load_bytes(name, data), rep) == [], name


def _same(a: ParsedReport, b: ParsedReport) -> list[str]:
    return [d for d in differences(a, b) if not d.startswith("mtime_ns")]


def test_bulk_gives_the_tolerant_readers_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    named = list(_corpus())
    files = _write(tmp_path, named)
    got = bulk.load_files(files)
    read = _bulk_reads(named)
    monkeypatch.setenv(fast.ENV, "0")
    for (name, data), rep in zip(named, got, strict=True):
        assert _same(load_bytes(name, data), rep) == [], name
    # exact counts: the bulk reader reads exactly the reports the fast path reads (the 147 others,
    # every real shape but a title in another form included, go to the per-report path; 13 of the
    # 303 leave 表三's 总计 blank: the synthetic total_blank defect, or last year's report copied)
    monkeypatch.setenv(fast.ENV, "1")
    quick = [_fast_reads(n, d) for n, d in named]
    assert (len(named), sum(quick), sum(read)) == (450, 303, 303)
    assert read == quick


def test_other_shapes_go_to_the_per_report_path() -> None:
    for report in REPORTS:
        for fmt in ("2021", "2019"):
            c = _content(report, fmt)
            shapes = sorted(SHAPE_TEXTS)
            read = _bulk_reads([(s, SHAPE_TEXTS[s](c).encode("utf-8")) for s in shapes])
            # a title in another form is read in bulk; no other shape is
            assert [s for s, r in zip(shapes, read, strict=True) if r] == ["title-year-first"], (report, fmt)


def test_doubtful_texts_are_left_untouched() -> None:
    seed = seed_text()
    lines = seed.split("\n")
    row = next(i for i, ln in enumerate(lines) if ln.startswith("(七) 总计\t"))
    short = [*lines[:row], "(七) 总计\t0\t0\t0\t0\t0\t0", *lines[row + 1 :]]  # six cells for seven columns
    texts = {
        "seed": seed,
        "blank cell not printed": "\n".join(short),
        "row twice": "\n".join([*lines[: row + 1], lines[row], *lines[row + 1 :]]),
        "row missing": "\n".join([*lines[:row], *lines[row + 1 :]]),
        "pipe": seed.replace("一、总体情况", "一、总体情况 | 概述"),
        "line separator": seed.replace("一、总体情况", "一、总体\u2028情况"),
        "full-width digit": seed.replace("\t0\t", "\t０\t", 1),
        "ideographic space": seed.replace("一、总体情况", "一、总体\u3000情况"),
        "markdown heading": seed.replace("一、总体情况", "## 一、总体情况"),
        "double space": seed.replace("一、总体情况", "一、总体  情况"),
        "NFKC risky": seed.replace("一、总体情况", "⼀、总体情况"),  # a Kangxi radical: 一 once NFKC'd
        "over the size": seed + "\n" + "。" * bulk.MAX_CHARS,
    }
    reps = {k: ParsedReport(file=f"{k}.txt", sha256="", size=0) for k in texts}
    read = bulk.read_texts([(reps[k], t) for k, t in texts.items()])
    assert dict(zip(texts, read, strict=True)) == {k: k == "seed" for k in texts}
    for k, rep in reps.items():
        if k != "seed":
            assert not rep.layout and not rep.cells.keys() and rep.title is None and not rep.sections  # untouched


def test_format_marks_and_wrapped_prose_as_the_tolerant_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The decisions the frame makes line by line give the tolerant reader's report: the format's
    marks (spaced, in a short paragraph, 规范性文件 after 3 or 4 characters of numbering, 其他处理
    after a parenthesis) and hard-wrapped prose joined back (a line that ran to the margin, a
    numbered item after a finished sentence, a narrow section)."""
    seed = seed_text()
    six = "六、其他需要报告的事项"
    wide = "按照相关规定严格落实政务公开工作要点围绕高质量发展民生改善政府自身建设强化信息公开" * 4  # the widest
    variants = {
        "spaced mark": seed.replace(six, f"{six}\n\n本年新 制作 数量"),
        "2019 row after 3": seed.replace(six, f"{six}\n\n12.规范性文件"),
        "2019 row after 4": seed.replace(six, f"{six}\n\n123.规范性文件"),
        "other row": seed.replace(six, f"{six}\n\n（六）其他处理"),
        "other row in a sentence": seed.replace(six, f"{six}\n\n其他的其他处理"),
        "wrapped": seed.replace(six, f"{six}\n\n{wide}\n{wide}\n接上一行。\n1.第一项\n{wide}。\n2.第二项"),
        "wrapped after a sentence": seed.replace(six, f"{six}\n\n{wide}。\n（一）一项\n{wide}\n完。"),
        "narrow": seed.replace(six, f"{six}\n\n短的一行\n又一行\n完。"),
        # rows of number cells the scan leaves None (no reader of a line's text picks them) where a
        # reader does read them: above the title, in the 引言
        "numbers above the title": "2023\t1\n" + seed,
        "numbers in the intro": seed.replace("一、总体情况", "统计\t1\t2\n一、总体情况", 1),
        # numbers read one by one (fast.read_code): a leading zero, too many digits, a decimal
        "odd numbers": seed.replace("行政处罚\t106", "行政处罚\t0106")
        .replace("行政强制\t10", "行政强制\t1234567890123")
        .replace("行政事业性收费\t0", "行政事业性收费\t1.50"),
    }
    named = [(f"{k}.txt", t.encode("utf-8")) for k, t in variants.items()]
    assert _bulk_reads(named) == [True] * len(variants)
    reps = dict(zip(variants, bulk.load_files(_write(tmp_path, named)), strict=True))
    monkeypatch.setenv(fast.ENV, "0")
    for name, data in named:
        assert _same(load_bytes(name, data), reps[name[:-4]]) == [], name
    # what the variants are about: evidence of the 2019 layout, paragraphs joined
    assert reps["spaced mark"].fmt_evidence_2019 == ["表二列“本年新制作数量”"]
    assert reps["2019 row after 3"].fmt_evidence_2019 == ["表二行“规范性文件”"]
    assert reps["2019 row after 4"].fmt_evidence_2019 == []
    assert reps["wrapped"].sections["六"][:4] == [
        (96, wide + wide + "接上一行。"),
        (99, "1.第一项"),
        (100, wide + "。"),
        (101, "2.第二项"),
    ]
    assert reps["wrapped after a sentence"].sections["六"][:3] == [
        (96, wide + "。"),
        (97, "（一）一项"),
        (98, wide + "完。"),
    ]
    assert reps["narrow"].sections["六"][:3] == [(96, "短的一行"), (97, "又一行"), (98, "完。")]
    odd = reps["odd numbers"].cells
    assert [
        (odd[c].value, odd[c].raw, odd[c].state)
        for c in ("2:penalty:decisions", "2:coercion:decisions", "2:fees:amount")
    ] == [
        (106.0, "0106", State.VALUE),
        (None, "1234567890123", State.TOO_LARGE),
        (1.5, "1.50", State.VALUE),
    ]


def test_control_characters_as_the_per_file_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """load_files decodes keeping C0 controls (the frame rejects such a text; it is read again, one
    file by one, controls removed and counted): the same reports as the per-file reader, in UTF-8,
    GB18030 and UTF-16, with a DEL (then removed at once), and a file of mostly controls."""
    seed = seed_text()
    six = "六、其他需要报告的事项"
    variants = {
        "nul": seed.replace(six, six + "\x00").encode("utf-8"),
        "bell and escape": seed.replace(six, "\x07" + six + "\x1b").encode("utf-8"),
        "del": seed.replace(six, six + "\x7f").encode("utf-8"),
        "del and nul": seed.replace(six, six + "\x7f\x00").encode("utf-8"),
        "gb18030 nul": seed.replace(six, six + "\x00").encode("gb18030"),
        "utf-16 nul": seed.replace(six, six + "\x00").encode("utf-16"),
        "binary": b"\x01\x02\x03" * 400 + seed.encode("utf-8")[:100],
        "clean": seed.encode("utf-8"),
    }
    named = [(f"{k}.txt", d) for k, d in variants.items()]
    reps = dict(zip(variants, bulk.load_files(_write(tmp_path, named)), strict=True))
    for name, data in named:
        assert _same(load_bytes(name, data), reps[name[:-4]]) == [], name
    monkeypatch.setenv(fast.ENV, "0")
    for name, data in named:
        assert _same(load_bytes(name, data), reps[name[:-4]]) == [], name
    # what the variants are about: the controls removed and counted (U09), the binary file unreadable
    assert [reps[k].bad_bytes for k in ("nul", "bell and escape", "del", "del and nul", "clean")] == [1, 2, 1, 2, 0]
    assert reps["binary"].status == "unreadable"


def test_plans_made_from_the_tables_parts_of_other_skeletons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A skeleton new in one table takes the other tables' parts from the skeletons seen before
    (fast._PARTS, bulk._PARTS): every report as the tolerant reader reads it, whatever the order."""
    seed = seed_text()
    new3 = "一、本年新收政府信息公开申请数量\t\t0\t0\t0\t0\t0\t0\t0\t"
    long3 = new3.replace("\t0\t0\t0\t0\t0\t0\t0", "\t12345\t0\t0\t0\t0\t0\t12345")
    variants = {
        "seed": seed,
        "long in 表三": seed.replace(new3, long3),
        "long in 表二": seed.replace("行政处罚\t106", "行政处罚\t123456"),
        "decimal in 表四": seed.replace("\n0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0", "\n0\t1.5" + "\t0" * 13),
        "long in 表二 and 表三": seed.replace("行政处罚\t106", "行政处罚\t123456").replace(new3, long3),
    }
    assert len(set(variants.values())) == len(variants)
    named = [(f"{k}.txt", t.encode("utf-8")) for k, t in variants.items()]
    for order in (named, named[::-1]):
        got = _fresh_bulk_read(tmp_path, order)
        # five plans of six parts: two skeletons of each table
        assert (len(fast._PLANS), len(fast._PARTS), len(bulk._COMPILED), len(bulk._PARTS)) == (5, 6, 5, 6)
        _as_tolerant(order, got, monkeypatch)


def test_blank_cells_in_bulk_as_the_tolerant_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """表三 with its 总计 left blank, the row 3.其他 in the windows its numbers choose, read in one
    batch (twice each, in two orders): every report read in bulk as the tolerant reader reads it;
    one compiled plan per choice of windows (bulk._CHOSEN), none kept by skeleton alone."""
    seed = busy_seed()
    named = [(f"{k}.txt", _blank_totals(seed, v).encode("utf-8")) for k, v in BLANK_TOTALS.items()]
    for order in ([*named, *named], [*named[::-1], *named]):
        got = _fresh_bulk_read(tmp_path, order)
        assert (len(fast._PLANS), len(bulk._COMPILED), len(bulk._CHOSEN)) == (0, 0, 2)
        _as_tolerant(order, got, monkeypatch)


def test_limits_and_unreadable_files_as_the_per_file_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file over a limit, empty, binary or not a report gets the per-file reader's status and
    message; the well-formed files of the same batch are still read in bulk."""
    seed = seed_text().encode("utf-8")
    monkeypatch.setenv(LIMIT_ENV["max_lines"], "300")
    monkeypatch.setenv(LIMIT_ENV["max_line_chars"], "5000")
    named = [
        ("seed.txt", seed),
        ("many-lines.txt", seed + b"\n" * 400),
        ("long-line.txt", seed + b"\n" + "。".join(["很长"] * 3000).encode("utf-8")),
        ("empty.txt", b"  \n"),
        ("nothing.txt", b""),
        ("binary.txt", bytes(range(256)) * 8),
        ("not-a-report.txt", "今天天气很好。\n".encode()),
        ("gb.txt", seed.decode("utf-8").encode("gb18030")),
    ]
    files = _write(tmp_path, named)
    got = bulk.load_files(files)
    for (path, name), rep in zip(files, got, strict=True):
        assert _same(load_file(path, name), rep) == [], name
    assert [r.reason_code for r in got] == [None, "U05", "U05", "U01", "U01", "U07", "U08", None]
    assert _bulk_reads([named[0], named[-1]]) == [True, True]


def test_the_switch_turns_the_bulk_path_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _write(tmp_path, [("seed.txt", seed_text().encode("utf-8"))])
    monkeypatch.setenv(fast.ENV, "0")
    assert not bulk.enabled()
    assert _same(bulk.load_files(files)[0], load_file(*files[0])) == []


def test_the_nfkc_risky_characters_are_all_of_them() -> None:
    """Every character NFKC turns into 年, 月, 日, a heading number, or nothing but spaces is in
    ``NFKC_RISKY`` (a text with one is read by the per-report path): the line filters of the bulk
    reader (年月日 for the period, a heading number first for a heading) then miss no line."""
    import re
    import sys
    import unicodedata

    from nianbao.domain.normalize import squash

    risky = re.compile(f"[{bulk.NFKC_RISKY}]")
    heads = set("一二三四五六七八九十")
    missed = []
    for c in range(0x80, sys.maxunicode + 1):
        ch = chr(c)
        if 0xD800 <= c <= 0xDFFF or unicodedata.is_normalized("NFKC", ch) or ch.isspace():
            continue  # NFKC leaves it alone; a text with whitespace other than space, tab, LF is not read
        s = squash(ch)
        if (any(x in s for x in "年月日") or not s or (s[0] in heads and ch not in heads)) and not risky.match(ch):
            missed.append(hex(c))
    assert missed == []


def test_squash_removes_the_whitespace_a_regex_would() -> None:
    """normalize.squash drops whitespace by ``str.split()`` (4× quicker than ``re.sub(r"\\s+", "", …)`` on
    CJK prose): both cut at the same characters, for every code point, alone or in runs."""
    import re
    import sys

    from nianbao.domain.normalize import squash

    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    text = "a".join(chars) + "a" + "".join(c for c in chars if c.isspace()) + "b"
    assert "".join(text.split()) == re.sub(r"\s+", "", text)
    assert [c for c in chars if c.isspace()] == [c for c in chars if re.fullmatch(r"\s", c)]
    assert squash(" 本年\u3000新收\t申请 \n") == "本年新收申请"


def test_heading_lines_picked_in_two_steps_as_by_the_whole_pattern() -> None:
    """The frame picks the lines that may print a heading by _HEADING_START, then by no tab left once
    the line is stripped of spaces and tabs: exactly the lines _HEADING matches."""
    import itertools

    import polars as pl

    parts = ["", " ", "\t", "一", "#", "*", "、总体情况", "甲", "\t5", " \t", "二", "（一）"]
    lines = ["".join(p) for n in range(1, 5) for p in itertools.product(parts, repeat=n)]
    raw = pl.col("raw")
    got = pl.DataFrame({"raw": lines}).select(
        whole=raw.str.contains(bulk._HEADING),
        steps=raw.str.contains(bulk._HEADING_START) & ~raw.str.strip_chars(" \t").str.contains("\t", literal=True),
    )
    assert got["whole"].sum() > 1000
    assert got["whole"].to_list() == got["steps"].to_list()


def test_sections_chosen_by_rank_as_by_line() -> None:
    """The bulk reader caches meta.choose_sections by the headings' texts in order (bulk._chosen):
    the same sections as from their lines, with a sub-item of 一 numbered 二, a section left out
    (五 printed as 四) and one printed out of order."""
    from nianbao.read.meta import choose_sections

    cases = [
        [
            (3, "一、总体情况"),
            (9, "二、依申请公开情况"),
            (20, "二、主动公开政府信息情况"),
            (40, "三、收到和处理政府信息公开申请情况"),
        ],
        [
            (1, "一、总体情况"),
            (5, "二、主动公开政府信息情况"),
            (30, "四、存在的主要问题及改进情况"),
            (50, "五、其他需要报告的事项"),
        ],
        [
            (2, "一、总体情况"),
            (8, "三、收到和处理政府信息公开申请情况"),
            (15, "二、主动公开政府信息情况"),
            (70, "四、政府信息公开行政复议、行政诉讼情况"),
        ],
    ]
    for case in cases:
        cands = [(i, i + 1, *got) for i, text in case if (got := bulk._heading(text)) is not None]
        ranked, _skey = bulk._chosen(tuple(c[2:] for c in cands))
        by_rank = {num: (cands[k][0], cands[k][1], cands[k][2]) for num, k in ranked}
        assert by_rank == choose_sections(cands) and list(by_rank) == list(choose_sections(cands))
        assert len(by_rank) >= 3


def test_a_batch_travels_between_processes_unchanged(tmp_path: Path) -> None:
    """A ReportBatch (what a parse worker returns) pickles column-wise and comes back report for
    report: bulk-read, tolerant-read (row issues, printed texts) and unreadable reports alike."""
    import pickle

    named = [*list(_corpus())[::7], ("empty.txt", b" "), ("binary.txt", bytes(range(256)) * 8)]
    got = bulk.load_files(_write(tmp_path, named))
    assert isinstance(got, bulk.ReportBatch)
    back = pickle.loads(pickle.dumps(got))
    assert isinstance(back, bulk.ReportBatch) and len(back) == len(got) == len(named)
    for a, b in zip(got, back, strict=True):
        assert differences(a, b) == [], a.file
        assert (a.mtime_ns, a.reason_code, a.cells.sparse(), a.layout.arrays()) == (
            b.mtime_ns,
            b.reason_code,
            b.cells.sparse(),
            b.layout.arrays(),
        )
    assert (sum(bool(r.row_issues) for r in back), sum(not r.readable for r in back)) == (4, 2)


def test_a_batch_carries_any_prose_text_exactly() -> None:
    """The prose travels as UTF-16: a lone surrogate (which UTF-16 cannot carry) comes back as it
    was, beside characters of two code units and empty texts; the section names are shared."""
    import pickle

    texts = ["引言：本年度", "a\ud800b", "𠀀字\U0001f600", ""]
    reps = [
        ParsedReport(file=f"{i}.txt", sha256="0", size=1, sections={"一": [(i + 2, t)]}) for i, t in enumerate(texts)
    ]
    reps.append(ParsedReport(file="none.txt", sha256="0", size=1))
    back = pickle.loads(pickle.dumps(bulk.ReportBatch(reps)))
    assert [dict(r.sections) for r in back] == [{"一": [(i + 2, t)]} for i, t in enumerate(texts)] + [{}]
    assert [r.sections.joined() for r in back] == [*texts, ""]
    assert back[0].sections.packed()[0] is back[3].sections.packed()[0]


def _child_reads(path: str) -> tuple[bool, str | None]:
    rep = bulk.load_files([(Path(path), "seed.txt")])[0]
    return bulk.enabled(), rep.title


def test_a_worker_forked_from_a_running_polars_pool_reads_one_by_one(tmp_path: Path) -> None:
    """A process forked while polars' thread pool runs would wait for ever on its first polars
    operation: there the bulk path is off (the files read one by one), never hung."""
    import multiprocessing

    import polars as pl

    pl.DataFrame({"a": list(range(100_000))}).group_by(pl.col("a") % 7).len()  # the pool runs now
    assert bulk.polars_pool_running()
    files = _write(tmp_path, [("seed.txt", seed_text().encode("utf-8"))])
    with multiprocessing.get_context("fork").Pool(1) as pool:
        enabled, title = pool.apply_async(_child_reads, (str(files[0][0]),)).get(timeout=120)
    assert (enabled, title) == (False, load_file(*files[0]).title)
    assert bulk.enabled()  # in this process it stays on
