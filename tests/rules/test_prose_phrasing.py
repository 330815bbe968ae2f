"""The prose extractor on the seed's phrasing and on phrasing variants from real reports.

Each sentence is read as one line of section 一; the test asserts exactly which claims (kind,
number) it yields — and that sentences the extractor must not guess at yield nothing."""

from __future__ import annotations

import pytest

from nianbao.domain.model import ParsedReport
from nianbao.rules import prose
from nianbao.rules.prose import CN_NUMERALS, normalise_text, parse_percentages, parse_publication_sum, percent_ok

VARIANTS: list[tuple[str, list[tuple[str, int]]]] = [
    # the seed's and the generator's own phrasing
    ("2023 年未收到政府信息依申请公开件。", [("none_received", 0)]),
    (
        "2023 年共收到政府信息公开申请 13 件，上年结转 2 件；办结 14 件，其中予以公开 6 件，部分公开 2 件，"
        "不予公开 1 件，无法提供 1 件，不予处理 2 件，其他处理 2 件；结转下年度继续办理 1 件。",
        [("received", 13), ("carried", 2), ("handled", 14), ("open", 6), ("partial", 2), ("refused", 1),
         ("unable", 1), ("not_processed", 2), ("other_processing", 2), ("forwarded", 1)],
    ),
    ("全年发生政府信息公开行政复议 3 件、行政诉讼 1 件。", [("review", 3), ("suits", 1)]),
    # variants from real reports
    ("2023年，本机关共收到政府信息公开申请13件，上年结转2件，办结14件，结转下年度继续办理1件。",
     [("received", 13), ("carried", 2), ("handled", 14), ("forwarded", 1)]),
    ("全年共受理依申请公开事项２８件，均已按时办结。", [("received", 28), ("all_handled", 0)]),
    ("本年度新收政府信息公开申请数量为13件，其中自然人申请10件、法人或其他组织申请3件。", [("received", 13)]),
    ("2023年度我局收到公民、法人和其他组织提出的政府信息公开申请 13 件，较上年增加 3 件。", [("received", 13)]),
    ("本年度办结政府信息公开申请26件，其中：予以公开18件，部分公开3件，不予公开2件，无法提供2件，不予处理1件。",
     [("handled", 26), ("open", 18), ("partial", 3), ("refused", 2), ("unable", 2), ("not_processed", 1)]),
    ("予以公开8件，占办结总数的57.1%。", [("open", 8)]),
    ("本年度未收到政府信息公开申请。", [("none_received", 0)]),
    ("全年无依申请公开事项。", [("none_received", 0)]),
    ("因政府信息公开被申请行政复议3件，其中维持原行政行为2件，尚未审结1件。", [("review", 3)]),
    ("本年度发生政府信息公开行政诉讼1件，已审结，结果维持。", [("suits", 1)]),
    ("全年未发生因政府信息公开申请引起的行政复议、行政诉讼情况。", [("no_review", 0), ("no_suits", 0)]),
    ("涉及政府信息公开的行政复议和行政诉讼案件均获维持。", [("upheld_review", 0), ("upheld_suits", 0)]),
    ("2023年，我镇共收到依申请公开件两件，已全部按期答复。", [("received", 2)]),
    ("全年共计收到政府信息公开申请十二件。", [("received", 12)]),
    ("上年度结转政府信息公开申请2件，已于本年度全部办结。", [("carried", 2)]),
    ("结转至2024年度继续办理的申请1件。", [("forwarded", 1)]),
    ("全年发生政府信息公开行政复议0件、行政诉讼1件。", [("review", 0), ("suits", 1)]),
    ("2023年，区教育局共新收政府信息公开申请25件，加上上年结转的3件，共需办理28件。",
     [("received", 25), ("carried", 3)]),
    ("本年度共收到政府信息公开申请１，０２３件。", [("received", 1023)]),
    ("因政府信息公开被提起行政诉讼 2 起，被申请行政复议 1 起。", [("review", 1), ("suits", 2)]),
    # sentences the extractor must not guess at
    ("比上年多收到申请3件。", []),
    ("自条例施行以来累计收到申请200件。", []),
    ("接收自然人申请10件。", []),
    ("受理行政复议申请3件。", []),
    ("依申请公开按时答复率100%。", []),
    ("对无法提供的依申请公开事项，均依法告知申请人。", []),
    ("共受理政府信息公开申请 5 件（其中上年结转 1 件）。", []),
    ("截至2023年12月31日，尚有2件申请结转至2024年继续办理。", []),
    ("行政复议案件1起，结果为维持。", []),
    ("未收到行政复议申请。", []),
    ("行政复议、行政诉讼各1件。", []),
    ("本机关全年未收取任何信息处理费。", []),
    ("办理人大代表建议和政协委员提案共23件，办结率100%。", []),
]  # fmt: skip


def claims_of(sentence: str) -> list[tuple[str, int]]:
    rep = ParsedReport(file="x.txt", sha256="", size=0, sections={"一": [(1, sentence)]})
    c = prose.extract_claims(prose.clauses(prose.sentences(prose.prose_lines([rep]))))
    return [(k, v) for k, v in c.sort("pos", "kind").select("kind", "value").rows()]


@pytest.mark.parametrize(("sentence", "expected"), VARIANTS, ids=[f"v{k:02d}" for k in range(len(VARIANTS))])
def test_phrasing(sentence: str, expected: list[tuple[str, int]]) -> None:
    assert sorted(claims_of(sentence)) == sorted(expected)


def test_at_least_fifteen_real_variants() -> None:
    understood = [s for s, e in VARIANTS[3:] if e]
    assert len(understood) >= 15


def test_chinese_numerals() -> None:
    assert [CN_NUMERALS[k] for k in ("两", "十", "十二", "二十", "九十九")] == [2, 10, 12, 20, 99]


def test_publication_sum_parts_and_parentheses() -> None:
    s = normalise_text(
        "主动公开各类信息共 1065 条。其中政府网站发布政府信息 60 条, 微信公众号发布政府信息 437 条, "
        "微博转载发布信息 512 条, 视频号发布 10 期(浏览量达 18612 次), 公示栏公开政府信息 46 条。"
    )
    ps = parse_publication_sum(s)
    assert ps is not None and ps.total == 1065 and [n for n, _u in ps.parts] == [60, 437, 512, 10, 46]
    assert parse_publication_sum(normalise_text("共发布信息 30 条，其中政府网站 10 条（其中政策解读 2 条）。")) is None
    assert parse_publication_sum(normalise_text("全年主动公开信息共 30 条。")) is None


def test_percentages() -> None:
    (p,) = parse_percentages(normalise_text("其中予以公开 8 件，占办结总数的 57.1%。"))
    assert (p.part, str(p.stated), p.base_kind) == (8, "57.1", "handled")
    assert percent_ok(8, 14, p.stated)[0]
    ok, expected = percent_ok(2, 3, p.stated.__class__("66.6"))
    assert not ok and str(expected) == "66.7"  # truncated instead of rounded
    assert parse_percentages(normalise_text("予以公开 8 件，占全市的 5%。")) == []  # an unknown base


def test_normalise_removes_exactly_regex_whitespace() -> None:
    """normalise() removes whitespace with one replace_many pass: its character set is the one
    regex ``\\s`` matches (Unicode White_Space), and the result equals ``replace_all(r"\\s+", "")``."""
    import polars as pl

    from nianbao.rules.prose.numerals import WHITESPACE, normalise

    chars = pl.Series([chr(i) for i in range(0x3100) if not 0xD800 <= i < 0xE000])
    assert set(chars.filter(chars.str.contains(r"^\s$")).to_list()) == set(WHITESPACE)
    texts = pl.Series(["共 1, 234\u3000件（２）", "a\u2009b\u200bc\x85d\x1c", "公民、法人 和其他组织"])
    assert pl.select(normalise(pl.lit(texts))).to_series().to_list() == [
        "共1234件(2)",
        "ab\u200bcd\x1c",
        "公民法人其他组织",
    ]


def test_normalise_text_removes_python_whitespace_and_groups() -> None:
    """normalise_text() (the Python side) removes what Python's ``\\s`` matches (str.isspace: the
    separators \\x1c-\\x1f too), digits' thousands separators and the 公民、法人…其他组织 list."""
    from nianbao.rules.prose.numerals import normalise_text

    text = "共 1, 234\u3000件（２）\x1c\u2009公民、法人 或者其他组织，1,2345"
    assert normalise_text(text) == "共1234件(2)公民法人其他组织,12345"
    assert normalise_text("公民、法人和个人 1,23") == "公民、法人和个人1,23"
    assert normalise_text("") == ""


def test_sentences_normalised_from_their_lines_normalised_text() -> None:
    """sentences() cuts a line's normalised text as it cuts the line: each sentence's ``norm`` is
    the sentence normalised on its own (whitespace around and after the last 。, full-width digits,
    grouped thousands, the 公民、法人…其他组织 list)."""
    import polars as pl

    lines = pl.DataFrame(
        {
            "tid": pl.Series([0, 1, 2, 3, 4, 5, 6], dtype=pl.UInt32),
            "section": ["一"] * 7,
            "text": [
                "共 1, 234 件。 ",
                "未收到。\u3000",
                "无 。 。 ",
                "收到 1,234件，公民、法人 和其他组织。结转 3 件",
                "。。未",
                "５件。 \t",
                "本年度工作情况。",
            ],
        }
    )
    got = prose.sentences(lines)
    assert got.columns == ["tid", "section", "sentence", "sent", "norm"]
    assert got.sort("tid", "sent").select("tid", "sent", "norm").rows() == [
        (0, 0, "共1234件。"),
        (1, 0, "未收到。"),
        (2, 0, "无。"),
        (3, 0, "收到1234件,公民法人其他组织。"),
        (3, 1, "结转3件"),
        (4, 2, "未"),
        (5, 0, "5件。"),
    ]


def test_distinct_texts_one_id_per_section_and_text_even_when_hashes_collide() -> None:
    import polars as pl

    from nianbao.rules.prose.text import distinct_texts

    lines = pl.DataFrame(
        {
            "report": [0, 0, 1, 1, 2, 2],
            "section": ["一", "四", "一", "四", "一", "四"],
            "line": [1, 2, 1, 2, 1, 2],
            "text": ["甲", "乙", "甲", "乙", "乙", "甲"],
        },
        schema={"report": pl.UInt32, "section": pl.String, "line": pl.UInt32, "text": pl.String},
    )
    with_ids, texts = distinct_texts(lines)
    assert texts.rows() == [(0, "一", "甲"), (1, "四", "乙"), (2, "一", "乙"), (3, "四", "甲")]
    assert with_ids.get_column("tid").to_list() == [0, 1, 0, 1, 2, 3]
    assert with_ids.drop("tid").equals(lines)
    # every text with the same hash: the collision is seen and the texts are matched as strings
    collided = distinct_texts(lines, key=pl.lit(0, dtype=pl.UInt64))
    assert collided[0].equals(with_ids) and collided[1].equals(texts)


def test_claims_of_distinct_texts_joined_back_equal_claims_read_line_by_line() -> None:
    """The batch path (each distinct text read once, its claims joined back to every line with it)
    gives exactly the claims of reading every line on its own, on a synthetic county with defects."""
    from nianbao.read.load import load_bytes
    from nianbao.rules.prose.extract import line_claims
    from nianbao.rules.prose.text import distinct_texts
    from nianbao.testing.synth import SynthConfig, generate, render_text

    docs, _ = generate(SynthConfig(counties=1, townships=40, years=(2022, 2023), defect_rate=0.5, seed=7))
    reports = [load_bytes(f"{d.year}/{d.file_name}", render_text(d).encode("utf-8")) for d in docs]
    lines = prose.prose_lines(reports)
    per_line = prose.extract_claims(prose.clauses(prose.sentences(lines)))
    with_ids, texts = distinct_texts(lines)
    assert texts.height < lines.height / 2  # the reports share most of their wording
    batch = line_claims(with_ids, prose.extract_claims(prose.clauses(prose.sentences(texts))))
    assert per_line.height > 100 and batch.equals(per_line)
