"""What a report says about itself: title (agency, year), statistical period, sections, format.

Titles are read in every form agencies print them (all matched on the text without spaces):

- ``××镇2023年政府信息公开工作年度报告`` and year first, ``2022年度××镇政府信息公开工作年度报告``;
- ending ``年度报告``, ``工作报告``, ``年报`` or ``报告`` (``工作`` and ``年度`` optional), the year
  before or after ``政府信息公开``, ``2023 年`` with a space;
- split over two or three lines (``××镇2023年政府信息公开`` / ``工作年度报告``), the agency on a line
  of its own above (``洪泽区人民政府`` / ``2023 年政府信息公开工作年度报告``);
- under page chrome: breadcrumbs (``首页 > 政务公开 > …``), ``来源：``, ``发布时间：``, ``字号``,
  ``索引号`` … lines are skipped, never taken for the agency;
- no title line at all, but the report named in the first lines (``现发布《××镇2023年……年度报告》``).

When no agency can be read, it is taken from the file name (:func:`agency_from_file`) and, in the
validation step, from the registry entry the file name names (:func:`agencies_from_registry`); the
report then says where it came from (P04).

The statistical period is read in all its common wordings (``统计数据从…至…``, ``统计期限自…起至…止``,
``统计时限``, ``数据时限``, ``统计期限为2025年1月1日至12月31日`` without a year at the end).

The format (2019 or 2021) is read from the layout the report prints (:func:`detect_format`), in any
shape of table (tabs, single spaces, one cell per line, Markdown): the labels of 表二 and the rows of
表三 that only one format has.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath

from nianbao.domain.model import LayoutFact, ParsedReport
from nianbao.domain.normalize import nfkc, norm_label, squash
from nianbao.domain.registry import Agency, normalise_agency
from nianbao.domain.spec import SECTIONS, Fmt
from nianbao.read.labels import LineLike, squashed

TITLE_LINES = 25  # non-empty lines at the top searched for the title
TITLE_WRAP = 3  # a title is printed over at most this many lines
PERIOD_LINES = 80  # lines at the top searched for the statistical period

# ------------------------------------------------------------------ title

_YEAR = r"(?P<year>(?:19|20)\d{2})"
_REPORT = r"(?:工作)?的?(?:年度报告|年度工作报告|工作年度报告|工作报告|年报|报告)"
_TITLE_PATTERNS = (
    # 《××镇2023年政府信息公开工作年度报告》, year first: 2022年度××镇政府信息公开工作年度报告
    re.compile(rf"^(?P<pre>.*?){_YEAR}年度?(?P<mid>.*?)政府信息公开{_REPORT}$"),
    # ××镇政府信息公开2023年度工作报告
    re.compile(rf"^(?P<pre>.*?)政府信息公开(?:工作)?{_YEAR}年度?{_REPORT}$"),
)
_TRAILER = re.compile(r"(?:[（(][^（()）]{0,20}[)）]|\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|[。.》”\"])+$")
# the last character of any _TRAILER match, or a digit (\d: any decimal digit, str.isdecimal); and
# the line break its $ may stand before
_TRAILER_ENDS = frozenset('()）日。.》”"\n')
_AGENCY_PREFIX = re.compile(r"^(?:关于|《|“|\"|标题[:：]|题目[:：])+")
_AGENCY_SUFFIX = re.compile(r"(?:关于|的|》)+$")
# page chrome printed above a title on web pages
_CHROME = re.compile(
    r"^(?:来源|信息来源|文章来源|发布时间|发布日期|发文日期|成文日期|生效日期|更新时间|发布机构|发布单位|发文机关|"
    r"字号|字体|浏览次数|浏览量|点击数|点击量|访问量|阅读次数|作者|编辑|责任编辑|索引号|文号|主题分类|公开方式|"
    r"公开范围|公开时限|信息分类|所属机构|当前位置|您当前的位置|您的位置|您现在的位置|位置|分享到|打印|关闭|"
    r"【|\[|首页|网站首页|扫一扫|简体|繁体|繁體|无障碍|长者模式|政务公开|信息公开|主办单位)"
)
_BREADCRUMB = re.compile(r"[>＞»›→]")
_AGENCY_LIKE = re.compile(r"^[\u4e00-\u9fff（）()·]{2,30}$")
# a line above a title that names a site or a column of it, not the agency
_SITE = re.compile(r"(?:网站|门户|网|平台|专栏|栏目|频道|目录|专题|信息公开|政务公开|年报|年度报告)$")


@dataclass(frozen=True, slots=True)
class Title:
    agency: str | None
    year: int | None
    text: str | None
    line: int | None


def _squash(text: str) -> str:
    """:func:`~nianbao.domain.normalize.squash` (NFKC without any whitespace), cheaper on a text
    whose only whitespace once normalised is the space (most printed lines): the spaces replaced,
    then ``str.isprintable`` proves no other whitespace is left (every whitespace character but the
    space is unprintable: tests/read/test_read_meta.py checks every code point); else split."""
    n = nfkc(text)
    if " " in n:
        n = n.replace(" ", "")
    return n if n.isprintable() else "".join(n.split())


def _plain(ln: LineLike) -> str:
    return " ".join(c.strip() for c in ln.cells if c.strip())


def _is_chrome(s: str) -> bool:
    """Page chrome (breadcrumbs, source, dates, font size …), never a title or an agency."""
    return bool(_CHROME.match(s)) or (bool(_BREADCRUMB.search(s)) and ("首页" in s or "位置" in s))


_PREFIX_STARTS = frozenset('关《“"标题')  # the first characters of _AGENCY_PREFIX's alternatives
_SUFFIX_ENDS = frozenset("于的》")  # the last characters of _AGENCY_SUFFIX's alternatives


def _clean_agency(a: str) -> str | None:
    if a[:1] in _PREFIX_STARTS:  # (else _AGENCY_PREFIX cannot match)
        a = _AGENCY_PREFIX.sub("", a)
    if a[-1:] in _SUFFIX_ENDS:  # (else _AGENCY_SUFFIX cannot match)
        a = _AGENCY_SUFFIX.sub("", a)
    a = a.strip("《》 ")
    return a or None


def _match_title(s: str) -> tuple[str | None, int] | None:
    """(agency or None, year) when ``s`` (squashed) is a whole title."""
    if s[-1:] in _TRAILER_ENDS or s[-1:].isdecimal():  # else _TRAILER cannot match: most titles
        s = _TRAILER.sub("", s)
    if "政府信息公开" not in s:
        return None
    for pat in _TITLE_PATTERNS:
        m = pat.match(s)
        if m:
            groups = m.groupdict()
            agency = _clean_agency(groups.get("pre") or "") or _clean_agency(groups.get("mid") or "")
            return agency, int(m.group("year"))
    return None


_QUOTED = re.compile(r"《([^《》]{6,60}?报告)》")


def _title_ending_at(top: list[tuple[int, str, str]], j: int) -> Title | None:
    """The title whose last line is ``top[j]`` (it starts there, or up to TITLE_WRAP - 1 lines above)."""
    text = top[j][1]
    for k in range(TITLE_WRAP):
        i = j - k
        if i < 0:
            break
        part = top[i : j + 1]
        if k and any(_is_chrome(p[2]) or len(p[2]) > 40 or "。" in p[2] for p in part[:-1]):
            break
        got = _match_title("".join([p[2] for p in part]) if k else top[j][2])
        if got is None:
            continue
        agency, year = got
        printed = "".join(p[1] for p in part) if k else text
        if agency is None and i > 0:
            # the agency on a line of its own above the title
            above_no, above_text, above = top[i - 1]
            if _AGENCY_LIKE.match(above) and not _is_chrome(above) and not _SITE.search(above):
                return Title(above, year, f"{above_text} {printed}", above_no)
        return Title(agency, year, printed, part[0][0])
    return None


def read_title(lines: Sequence[LineLike]) -> Title:
    """Agency, year, printed title and its first line, from the lines at the top of a report."""
    return title_of_texts((ln.no, _plain(ln)) for ln in lines)


def title_of_texts(texts: Iterable[tuple[int, str]]) -> Title:
    """:func:`read_title` of the lines given as (line number, printed text: its cells stripped, the
    non-blank ones joined by a space), read as far as needed."""
    top: list[tuple[int, str, str]] = []  # (line no, printed text, squashed text)
    fallback: Title | None = None
    for no, text in texts:
        if not text:
            continue
        s = _squash(text) if len(text) <= 100 else text  # a long line is prose, never (part of) a title
        top.append((no, text, s))
        if "报" in text and len(s) <= 80 and ("报告" in s or s.endswith("年报")) and not _is_chrome(s):
            got = _title_ending_at(top, len(top) - 1)
            if got is not None:
                return got
            if fallback is None and "政府信息公开" in s:
                fallback = Title(None, None, text, no)
        if len(top) >= TITLE_LINES:
            break
    if fallback is not None:
        return fallback  # a title without year or agency (P03), not made up from the text below
    # no title line: a first paragraph that names the report (现发布《××镇2023年……年度报告》)
    for no, text, _s in top[:10]:
        if "《" not in text:
            continue
        for q in _QUOTED.findall(squash(text)):
            named = _match_title(q)
            if named is not None and named[0] is not None:
                return Title(named[0], named[1], q, no)
    return Title(None, None, None, None)


_FILE_NOISE = re.compile(
    r"(?:19|20)\d{2}年?度?|政府信息公开|信息公开|工作|年度报告|年报|报告|年度|[_\-—–.·\s\d（）()\[\]【】]+"
)


def agency_from_file(file: str) -> str | None:
    """The agency a file name names (``示例县南川镇_2023.txt`` → ``示例县南川镇``), if any."""
    stem = PurePath(file.replace("\\", "/")).stem
    a = _FILE_NOISE.sub("", stem)
    return a if _AGENCY_LIKE.match(a) and not _SITE.search(a) else None


def fill_agency(rep: ParsedReport) -> None:
    """A report whose title names no agency: the agency from its file name (P04 says so)."""
    if rep.agency is not None:
        return
    a = agency_from_file(rep.file)
    if a is not None:
        rep.agency, rep.agency_source = a, "file"


def agencies_from_registry(reports: Iterable[ParsedReport], registry: Sequence[Agency] | None) -> None:
    """Reports whose agency came from the file name: the registry's agency the file name names.

    The registry entry is the one whose name (normalised) is the file name's, or else the longest one
    the file name contains (unique); the registry's spelling is taken."""
    if not registry:
        return
    by_key: dict[str, str] = {}
    for a in registry:
        by_key.setdefault(a.key, a.agency)
    keys = sorted(by_key, key=len, reverse=True)
    for rep in reports:
        if not rep.readable or rep.agency_source != "file":
            continue
        stem = normalise_agency(PurePath(rep.file.replace("\\", "/")).stem)
        key = normalise_agency(rep.agency)
        name = by_key.get(key)
        if name is None:
            # the registry name within the file name (示例县南川镇_2023), or the file name's the end of
            # exactly one registry name (南川镇_2023 → 示例县南川镇)
            hits = [k for k in keys if len(k) >= 2 and k in stem]
            if hits and (len(hits) == 1 or len(hits[0]) > len(hits[1])):
                name = by_key[hits[0]]
            else:
                ends = [k for k in keys if len(key) >= 2 and k.endswith(key)]
                if len(ends) == 1:
                    name = by_key[ends[0]]
        if name is not None:
            rep.agency, rep.agency_source = name, "registry"


# ------------------------------------------------------------------ period

_D = r"(\d{1,2})"
_PERIOD = re.compile(
    r"(?:统计|数据|时限|期限|时段|时间范围|起止时间|报告期)[^。；;,，\d]{0,14}?"
    rf"((?:19|20)\d{{2}})年{_D}月{_D}日起?(?:至|到|~|-|—|–|－|―)"
    rf"(?:((?:19|20)\d{{2}})年)?{_D}月{_D}日"
)
_PAGE_NO = re.compile(r"^(?:[-—–－\s]*\d{1,4}[-—–－\s]*|第\d+页(?:共\d+页)?|\d+/\d+)$")


def read_period(rep: ParsedReport, lines: Sequence[LineLike]) -> None:
    """The statistical period: on one line, or a sentence broken over lines (page breaks, wraps)."""
    head = lines[:PERIOD_LINES]
    if period_on_a_line(rep, head):
        return
    # the sentence may be cut by a line or page break (page numbers in between are dropped)
    joined = ""
    starts: list[tuple[int, int]] = []  # (offset in joined, line no)
    for ln in head:
        if len(ln.cells) > 1:
            continue
        s = squash(_plain(ln))
        if not s or _PAGE_NO.match(s):
            continue
        starts.append((len(joined), ln.no))
        joined += s
    m = _PERIOD.search(joined)
    if m:
        line = max((no for off, no in starts if off <= m.start()), default=None)
        _set_period(rep, m, line)


def period_on_a_line(rep: ParsedReport, lines: Iterable[LineLike]) -> bool:
    """The period read from the first of ``lines`` that prints it whole (True), else nothing (False).

    Only a line whose text has 年, 月 and 日 (or a character NFKC may turn into one) can print it:
    the bulk reader (:mod:`nianbao.read.bulk`) passes only those lines of the head."""
    return period_in_texts(rep, ((ln.no, _plain(ln)) for ln in lines))


def period_in_texts(rep: ParsedReport, texts: Iterable[tuple[int, str]]) -> bool:
    """:func:`period_on_a_line` of lines given as (line number, printed text, as :func:`title_of_texts`)."""
    for no, text in texts:
        m = _PERIOD.search(_squash(text))
        if m:
            _set_period(rep, m, no)
            return True
    return False


def _set_period(rep: ParsedReport, m: re.Match[str], line: int | None) -> None:
    rep.period_start_year, rep.period_end_year, rep.period_full_year, rep.period_text = _period_of(m.groups())
    rep.period_line = line


@lru_cache(maxsize=1 << 10)  # the same period in most reports of a year
def _period_of(groups: tuple[str, ...]) -> tuple[int, int, bool, str]:
    """(start year, end year, a full calendar year, the period as printed back) of _PERIOD's groups."""
    y1, m1, d1, y2s, m2, d2 = groups
    start, end = int(y1), int(y2s) if y2s else int(y1)  # "2025年1月1日至12月31日": the same year
    a, b, c, d = int(m1), int(d1), int(m2), int(d2)
    return start, end, (a, b, c, d) == (1, 1, 12, 31) and start == end, f"{start}年{a}月{b}日至{end}年{c}月{d}日"


# ------------------------------------------------------------------ sections

HEADING = re.compile(r"^([一二三四五六七八九十])[、.．]\s*(.+)$")
# what a heading says, whatever its number: section -> phrases (any one) of its heading
_SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "一": ("总体情况", "基本情况", "概述"),
    "二": ("主动公开",),
    "三": ("收到和处理", "依申请公开", "公开申请"),
    "四": ("复议",),  # … and 诉讼 (below)
    "五": ("存在的主要问题", "问题及改进", "存在问题", "主要问题", "不足及改进"),
    "六": ("其他需要报告", "其他需报告", "其他报告事项", "其他事项"),
}
_HEAD_NUMS = frozenset("一二三四五六七八九十")
_MARKUP = re.compile(r"^[#*\s>]+|[*\s]+$")


def _nfkc_stable(ch: str) -> bool:
    """Whether NFKC leaves this character as it is, for sure: ASCII and the CJK unified ideographs
    (compatibility ideographs and Kangxi radicals are not: ⼀ becomes 一)."""
    return ch.isascii() or "\u4e00" <= ch <= "\u9fff"


def _fits(sec: str, rest: str) -> bool:
    """Whether a heading's words (without its number) name section ``sec``."""
    if sec == "四":
        return "复议" in rest and "诉讼" in rest
    return any(k in rest for k in _SECTION_KEYS[sec])


def find_sections(lines: Sequence[LineLike]) -> dict[str, tuple[int, int, str]]:
    """Section number -> (index in lines, line no, printed heading).

    A heading whose words fit its own number's section is that section (the first such heading of
    each number wins).  A section still not found then takes the first heading numbered otherwise
    whose words fit it alone and that does not stand before a section that comes earlier: a section
    left out or added moves the numbers of the later ones (五 printed as 四), while a sub-item of 一
    numbered "二、依申请公开情况" is never taken for section 三."""
    return choose_sections(section_candidates(enumerate(lines)))


Candidate = tuple[int, int, str, str, str]  # (index, line no, printed, number, words)


def section_candidates(indexed: Iterable[tuple[int, LineLike]]) -> list[Candidate]:
    """The lines that print a numbered heading, with their index: ``find_sections``' first pass.

    A line is a candidate only when its first non-blank character (leading spaces and tabs left
    out) is a heading number, a Markdown mark, or a character NFKC may change (the bulk reader
    passes only such lines)."""
    candidates: list[Candidate] = []
    for i, ln in indexed:
        cells = ln.cells
        printed = cells[0]
        if len(cells) > 1 and (not printed or printed.isspace()):
            printed = next((c for c in cells if c and not c.isspace()), "")
        cell = printed.lstrip()
        start = cell[:1]
        # (_nfkc_stable inline: a call a line was most of this loop)
        if not start or (
            start not in _HEAD_NUMS and start not in "#*" and (start.isascii() or "\u4e00" <= start <= "\u9fff")
        ):
            continue  # a heading starts with its number: most lines stop here
        if len(cells) > 1 and sum(1 for c in cells if c and not c.isspace()) != 1:
            continue  # a heading is alone on its line (or in its table row)
        if start in "#*":
            cell = _MARKUP.sub("", cell)  # Markdown: "## 一、总体情况", "**一、总体情况**"
        if len(cell) > 80:
            continue  # a paragraph ("一是……"), not a heading (40 characters at most without spaces)
        head = squashed(cell[:6])
        if head and head[0] not in _HEAD_NUMS:
            continue
        s = squashed(cell)
        if len(s) > 40:
            continue
        m = HEADING.match(s)
        if m:
            candidates.append((i, ln.no, _MARKUP.sub("", printed.strip()), m.group(1), m.group(2)))
    return candidates


def choose_sections(candidates: Sequence[Candidate]) -> dict[str, tuple[int, int, str]]:
    """``find_sections``' second pass: the section each heading candidate is, if any."""
    found: dict[str, tuple[int, int, str]] = {}
    for i, no, printed, num, rest in candidates:
        if num in _SECTION_KEYS and num not in found and _fits(num, rest):
            found[num] = (i, no, printed)
    order = list(_SECTION_KEYS)
    for i, no, printed, num, rest in candidates:
        if num in found and found[num][0] == i:
            continue
        hits = [sec for sec in order if _fits(sec, rest)]
        if len(hits) != 1 or hits[0] in found:
            continue
        sec = hits[0]
        before = [found[x][0] for x in order[: order.index(sec)] if x in found]
        if before and i < max(before):
            continue  # before a section that comes earlier: a sub-item (of 一), not the section
        found[sec] = (i, no, printed)  # after a later one: the section, out of order (I02)
    return found


@lru_cache(maxsize=1 << 12)  # the same few headings in every report
def heading_alias(number: str, printed: str, statutory: str) -> str | None:
    """The printed heading when it differs from the statutory one (its words, or its number)."""
    m = HEADING.match(squash(printed))
    if m is None:
        return printed
    rest = m.group(2)
    if norm_label(rest) != norm_label(statutory):
        return rest if m.group(1) == number else printed
    return None if m.group(1) == number else printed


# ------------------------------------------------------------------ format (2019 or 2021)

# Labels only one format prints (searched in the text of label lines without spaces; pieces short
# enough to survive a header wrapped over lines): 表二's columns and rows, 表三's （六） sub-rows.
_F2019_MARKS: dict[str, str] = {
    "新制作数量": "表二列“本年新制作数量”",
    "新公开数量": "表二列“本年新公开数量”",
    "对外公开总数": "表二列“对外公开总数量”",
    "上一年项目数量": "表二列“上一年项目数量”",
    "本年增/减": "表二列“本年增/减”",
    "本年增／减": "表二列“本年增/减”",
    "其他对外管理服务事项": "表二行“其他对外管理服务事项”",
    "政府集中采购": "表二行“政府集中采购”",
    "采购项目数量": "表二列“采购项目数量”",
    "采购总金额": "表二列“采购总金额”",
}
_F2021_MARKS: dict[str, str] = {
    "制发件数": "本年制发件数",
    "废止件数": "本年废止件数",
    "现行有效件数": "现行有效件数",
    "本年收费金额": "本年收费金额",
    "逾期不补正": "（六）1.申请人无正当理由逾期不补正",
    "缴纳费用": "（六）2.申请人逾期未按收费通知要求缴纳费用",
}
_MARKS = re.compile("|".join(re.escape(k) for k in sorted({**_F2019_MARKS, **_F2021_MARKS}, key=len, reverse=True)))
_LABEL_LINE_MAX = 120  # longer lines are prose: their words are no evidence of a layout
LABEL_LINE_MAX = _LABEL_LINE_MAX


@dataclass(frozen=True, slots=True)
class FormatEvidence:
    fmt: Fmt
    evidence_2019: tuple[str, ...]  # what the report prints of the 2019 layout (R01 names it)
    evidence_2021: tuple[str, ...]
    merged_other: bool  # 表三（六）其他处理 printed as one row (no sub-row labels)


_SPACES = " \t\u3000\xa0\r\f\v"  # the spaces a label text is read without (not its newlines)
_NUMBERING = re.compile(r"(?:^|\n)[\d０-９]*[.、．]?$")  # what may precede a row label on its line
_GROUP_NUMBER = re.compile(r"(?:^|\n|[)）])$")  # （六）其他处理 / 其他处理 at the start of a line


def _starts_label(text: str, label: str, before: re.Pattern[str]) -> bool:
    """Whether ``label`` occurs in ``text`` where ``before`` matches the few characters before it
    (2019's 规范性文件 as a row label, not 行政规范性文件; （六）其他处理 as a row, not in a sentence)."""
    i = text.find(label)
    while i >= 0:
        if before.search(text, max(0, i - 4), i):
            return True
        i = text.find(label, i + 1)
    return False


def detect_format(lines: Iterable[LineLike], year: int | None) -> FormatEvidence:
    """2019 or 2021, from what the report prints: the labels only one format has (表二's columns
    and rows, 表三's （六） sub-rows).  The format with more distinct marks wins; with none (or as
    many of each), a （六）其他处理 printed without its sub-rows is the 2019 layout for a report of
    2020 or before; otherwise the year decides (2021 format from 2021 on).

    One pass: the label lines (prose paragraphs left out) joined, normalised once, searched once."""
    parts: list[str] = []
    for ln in lines:
        cells = ln.cells
        if len(cells) == 1:
            text = cells[0]
            if len(text) > _LABEL_LINE_MAX or text.endswith("。"):
                continue
            parts.append(text)
        else:
            parts.append("".join(cells))
    return format_of_label_text("\n".join(parts), year)


def format_of_label_text(label_text: str, year: int | None) -> FormatEvidence:
    """``detect_format`` from the label lines already joined by newlines."""
    # without spaces (labels wrapped or spaced: 本年新 制作数量); no NFKC (slow on CJK): the marks are
    # plain ideographs, their full-width variants are spelled out below
    joined = label_text
    for ch in _SPACES:  # str.replace a character (a C scan): a sixth of a regex sub of their class
        if ch in joined:
            joined = joined.replace(ch, "")
    return format_of_marks(
        _MARKS.findall(joined),
        _starts_label(joined, "规范性文件", _NUMBERING),
        _starts_label(joined, "其他处理", _GROUP_NUMBER),
        year,
    )


# What format_of_label_text searches, line by line (a mark never spans a line): the marks, the 2019
# row 规范性文件 (at a line's start, after at most 3 characters of numbering) and the row （六）其他处理
# (at a line's start or after a closing parenthesis) — in the label text of one line without its
# spaces and tabs, as regular expressions nianbao.read.bulk runs on each such line (bulk._marks_of).
MARKS_PATTERN = _MARKS.pattern
MARK_TEXTS = tuple({**_F2019_MARKS, **_F2021_MARKS})
ROW_2019_PATTERN = "^(?:[0-9]{0,3}|[0-9]{0,2}[.、．])规范性文件"
OTHER_ROW_PATTERN = "(?:^|[)）])其他处理"


def format_of_marks(marks: Iterable[str], row_2019: bool, other_row: bool, year: int | None) -> FormatEvidence:
    """``format_of_label_text`` from what it found: the marks in order, whether 规范性文件 starts a row
    label and whether 其他处理 does."""
    e19: dict[str, None] = {}
    e21: dict[str, None] = {}
    for k in marks:
        if k in _F2019_MARKS:
            e19[_F2019_MARKS[k]] = None
        else:
            e21[_F2021_MARKS[k]] = None
    if row_2019:
        e19["表二行“规范性文件”"] = None
    merged = other_row and not any(k.startswith("（六）") for k in e21)
    if merged:
        e19["表三“（六）其他处理”为单独一行"] = None
    strong19 = sum(1 for k in e19 if not k.startswith("表三"))
    strong21 = len(e21)
    if strong19 != strong21:
        fmt = Fmt.F2019 if strong19 > strong21 else Fmt.F2021
    elif merged and (year is None or year <= 2020):
        fmt = Fmt.F2019
    else:
        fmt = Fmt.F2019 if year is not None and year <= 2020 and not e21 else Fmt.F2021
    return FormatEvidence(fmt, tuple(e19), tuple(e21), merged)


# ------------------------------------------------------------------ sections and their prose

BLOCK_HEADER = re.compile(r"第二十条第\(?([一二三四五六七八九十]+)\)?项")
"""A block header of table 二 (第二十条第（一）项): part of the table, not prose."""
PROSE_SECTIONS = frozenset("一五六")
_STARTS_BLOCK = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+[、.]|[（(][一二三四五六七八九十]+[)）]|\d+[、.](?!\d)|第[一二三四五六七八九十]+[章节条])"
)
_SENTENCE_END = ("。", "：", ":", "；", "！", "？", "”", "）", ")")
SENTENCE_END = _SENTENCE_END  # what ends a sentence (a line ending so was not wrapped)
# _STARTS_BLOCK for polars (no look-ahead): the same lines, in a text with ASCII digits only
STARTS_BLOCK_PATTERN = (
    r"^\s*(?:[一二三四五六七八九十]+[、.]|[（(][一二三四五六七八九十]+[)）]|\d+[、.](?:[^\d]|$)"
    r"|第[一二三四五六七八九十]+[章节条])"
)
WRAP_MIN_WIDTH = 48  # prose narrower than this (UTF-8 bytes) was not hard-wrapped
WRAP_FULL = 0.85  # a line this share of the widest ran to the margin


def section_layout(rep: ParsedReport, sections: dict[str, tuple[int, int, str]]) -> None:
    """The sections' layout facts (presence, order, printed heading) in statutory order, and an empty
    text per section found; shared by the tolerant and the fast reader."""
    prev_num: str | None = None
    prev_idx = -1
    for s in SECTIONS:
        if s.number not in sections:
            rep.layout.append(LayoutFact(f"sec:{s.number}", "section", False, s.heading))
            continue
        idx, line_no, printed = sections[s.number]
        in_order = idx > prev_idx
        rep.layout.append(
            LayoutFact(
                f"sec:{s.number}",
                "section",
                True,
                s.heading,
                printed=heading_alias(s.number, printed, s.heading),
                line=line_no,
                in_order=in_order,
                previous=prev_num if not in_order else None,
            )
        )
        if in_order:
            prev_idx, prev_num = idx, s.number
        rep.sections[s.number] = []


Texts = list[tuple[int, str]]  # (line number, text)


def fill_sections(
    rep: ParsedReport,
    detected: FormatEvidence,
    sections: dict[str, tuple[int, int, str]],
    n_lines: int,
    prose: Callable[[int, int], Texts],
    intro: Callable[[int], Texts],
) -> None:
    """The format found, the sections' layout facts and every section's prose, shared by the
    tolerant, the fast and the bulk reader: ``prose(start, end)`` gives the non-blank text lines
    (no table rows) of lines ``start`` to ``end - 1`` of the report's ``n_lines``, ``intro(end)``
    the non-blank lines before ``end`` (引言, the text above the first heading).  Table block headers
    of section 二 (第二十条第（一）项) are not prose."""
    rep.fmt = detected.fmt
    rep.fmt_evidence_2019 = list(detected.evidence_2019)
    section_layout(rep, sections)  # presence, order, aliases
    ordered = sorted(sections.items(), key=lambda kv: kv[1][0])
    for k, (num, (idx, _l, _h)) in enumerate(ordered):
        end = ordered[k + 1][1][0] if k + 1 < len(ordered) else n_lines
        texts = prose(idx + 1, end)
        if num == "二":
            texts = [(no, t) for no, t in texts if not BLOCK_HEADER.search(squashed(t))]
        rep.sections[num] = section_prose(num, texts)
    if ordered:
        rep.sections["引言"] = intro(ordered[0][1][0])
    rep.sections.pack()


def section_prose(num: str, items: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """A section's prose lines as kept: hard-wrapped paragraphs joined in sections 一, 五 and 六."""
    return unwrapped(items) if num in PROSE_SECTIONS else items


def unwrapped(items: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Prose hard-wrapped by a text extraction (``pdftotext``: one printed line per line) joined back
    into paragraphs, so that a sentence cut by a line break is read whole: a line as long as the
    longest lines of the section (it ran to the margin) continues on the next, unless that starts a
    heading or a numbered item after a finished sentence.  Prose of one paragraph per line (the usual
    case) has no such lines and is left as it is; the paragraph keeps its first line's number."""
    if len(items) < 2 or all(t.rstrip().endswith(_SENTENCE_END) for _no, t in items[:-1]):
        return items  # every line ends a sentence: nothing was wrapped
    # the printed width of a line: its UTF-8 length (a Chinese character 3, a digit or space 1)
    stripped = [t.strip() for _no, t in items]
    widths = [len(t.encode()) for t in stripped]  # each line's, encoded once
    width = max(widths)
    if width < WRAP_MIN_WIDTH:
        return items
    full = WRAP_FULL * width
    out: list[tuple[int, str]] = []
    for k, (no, _text) in enumerate(items):
        t = stripped[k]
        if out and widths[k - 1] >= full:  # the line before ran to the margin: continued, unless a heading
            pno, prev = out[-1]
            if not (prev.endswith(_SENTENCE_END) and _STARTS_BLOCK.match(t)):
                out[-1] = (pno, prev + t)
                continue
        out.append((no, t))
    return out
