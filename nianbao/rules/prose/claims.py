"""The claims table: every kind of statement the prose makes, its pattern, its rule and its table cells.

Precision over recall: a claim is read only from a clause that matches one of the patterns below,
and a clause that also mentions a change from last year, a single applicant type, a share, a
review/lawsuit (for application counts) or a cumulative period is skipped — a sentence the
extractor does not understand produces nothing.  Patterns are Rust regex syntax (polars): no
look-around.
"""

from __future__ import annotations

from dataclasses import dataclass

from nianbao.rules.prose.numerals import CASE_UNIT, GAP, NUM, UNIT

# clauses mentioning these are not about the year's own count of applications
_NOT_A_COUNT = (
    r"较上年|比上年|同比|上年同期|环比|增长|减少|下降|增加|上升|多于|少于|以来|历年|近[三五十\d]年"
    r"|自然人|商业企业|科研机构|社会公益组织|法律服务机构|平均|%|率"
)
_APPLICATION_BLOCK = _NOT_A_COUNT + r"|复议|诉讼|其中|含上年|包括上年|含结转"
_CATEGORY_BLOCK = _NOT_A_COUNT + r"|复议|诉讼"
_CASE_BLOCK = _NOT_A_COUNT + r"|纠正|维持|撤销|确认违法|败诉|胜诉|审结|其中|驳回|终止"
NEGATIVE_BLOCK = r"纠正|纠错|败诉|撤销|确认违法|维持|责任追究|投诉|举报|逾期|超期|收费|费用|无需|无须|\d+(?:件|起)"


@dataclass(frozen=True)
class ClaimKind:
    """One kind of statement the prose makes, the table cells it is checked against, and its rule.

    ``cells`` is a regex over canonical cell ids (summed); ``check`` is ``equal`` (the stated number
    equals the cells' sum) or ``zero`` (a statement without a number that the cells' sum is 0).
    """

    kind: str
    rule: str
    label: str  # 中文, for messages about the prose's own arithmetic
    cells: str
    patterns: tuple[str, ...]
    block: str
    check: str = "equal"
    # only read in a sentence mentioning 信息公开 or in section 四 (review/lawsuit counts)
    needs_context: bool = False
    # a sentence matching this is skipped as a whole (e.g. "上年结转的申请均已办结" is not about 结转下年度)
    sentence_block: str | None = None


CLAIMS: tuple[ClaimKind, ...] = (
    ClaimKind(
        "received",
        "H01",
        "本年收到",
        r"^3:1:total$",
        (
            rf"(?:新收|收到|受理|接收|接到|收悉|登记){GAP}{{0,24}}?申请(?:公开)?(?:事项|件数|件|数量|数)?"
            rf"(?:共计|合计|总计|共|为|达|计)?{NUM}{UNIT}",
        ),
        _APPLICATION_BLOCK,
    ),
    ClaimKind(
        "carried",
        "H02",
        "上年结转",
        r"^3:2:total$",
        (rf"(?:上一?年度?结转|结转上一?年度?){GAP}{{0,16}}?{NUM}{UNIT}",),
        _APPLICATION_BLOCK.replace("|含上年|包括上年|含结转", "") + r"|下一?年",
    ),
    ClaimKind(
        "handled",
        "H03",
        "办结",
        r"^3:3\.7:total$",
        (rf"(?:办结|已答复|答复完毕|作出答复|予以答复|完成答复|办理完毕|处理完毕){GAP}{{0,16}}?{NUM}{UNIT}",),
        _APPLICATION_BLOCK.replace("|其中", "") + r"|结转",
    ),
    ClaimKind(
        "open",
        "H04",
        "予以公开",
        r"^3:3\.1:total$",
        (rf"(?:予以公开|同意公开){GAP}{{0,6}}?{NUM}{UNIT}",),
        _CATEGORY_BLOCK,
    ),
    ClaimKind(
        "partial",
        "H05",
        "部分公开",
        r"^3:3\.2:total$",
        (rf"部分公开{GAP}{{0,6}}?{NUM}{UNIT}",),
        _CATEGORY_BLOCK,
    ),
    ClaimKind(
        "refused",
        "H06",
        "不予公开",
        r"^3:3\.3\.\d:total$",
        (rf"不予公开{GAP}{{0,6}}?{NUM}{UNIT}",),
        _CATEGORY_BLOCK,
    ),
    ClaimKind(
        "unable",
        "H07",
        "无法提供",
        r"^3:3\.4\.\d:total$",
        (rf"无法提供{GAP}{{0,6}}?{NUM}{UNIT}",),
        _CATEGORY_BLOCK,
    ),
    ClaimKind(
        "not_processed",
        "H08",
        "不予处理",
        r"^3:3\.5\.\d:total$",
        (rf"不予处理{GAP}{{0,6}}?{NUM}{UNIT}",),
        _CATEGORY_BLOCK,
    ),
    ClaimKind(
        "other_processing",
        "H09",
        "其他处理",
        r"^3:3\.6(?:\.\d)?:total$",
        (rf"其他处理{GAP}{{0,6}}?{NUM}{UNIT}",),
        _CATEGORY_BLOCK,
    ),
    ClaimKind(
        "forwarded",
        "H10",
        "结转下年度",
        r"^3:4:total$",
        (
            rf"(?:结转(?:至|到)?下一?年度?|转入下一?年度?|结转(?:至|到)?20\d\d年度?)(?:继续)?(?:办理)?{GAP}{{0,6}}?{NUM}{UNIT}",
        ),
        _NOT_A_COUNT + r"|复议|诉讼",
    ),
    ClaimKind(
        "none_received",
        "H11",
        "未收到申请",
        r"^3:1:total$",
        (
            r"(?:未|没有|无)(?:收到|受理|接到|发生|出现|产生)[^\d%]{0,20}?(?:信息公开申请|依申请公开|公开申请)",
            r"(?:未|没有)(?:收到|受理|接到)[^\d%]{0,12}?申请",
            r"(?:无|没有)(?:政府信息公开申请|依申请公开(?:事项|件|申请)?)",
        ),
        NEGATIVE_BLOCK + r"|复议|诉讼|未予|未按|无法|无正当",
        check="zero",
    ),
    ClaimKind(
        "all_handled",
        "H12",
        "全部办结",
        r"^3:4:total$",
        (r"(?:均已|全部|均|皆已|已全部)(?:按时|按期|依法|及时)?(?:办结|答复完毕|办理完毕|办理完成)",),
        _NOT_A_COUNT + r"|结转|复议|诉讼|未",
        check="zero",
        sentence_block=r"结转|除",
    ),
    ClaimKind(
        "review",
        "H15",
        "行政复议",
        r"^4:review:total$",
        (
            rf"行政复议(?:案件|申请)?{GAP}{{0,6}}?{NUM}{CASE_UNIT}",
            rf"行政复议(?:和|、|及|与)行政诉讼(?:案件)?(?:各|均为|均){NUM}{CASE_UNIT}",
        ),
        _CASE_BLOCK,
        needs_context=True,
    ),
    ClaimKind(
        "suits",
        "H16",
        "行政诉讼",
        r"^4:suit_(?:direct|after_review):total$",
        (
            rf"行政诉讼(?:案件)?{GAP}{{0,6}}?{NUM}{CASE_UNIT}",
            rf"行政复议(?:和|、|及|与)行政诉讼(?:案件)?(?:各|均为|均){NUM}{CASE_UNIT}",
        ),
        _CASE_BLOCK,
        needs_context=True,
    ),
)
CLAIM = {c.kind: c for c in CLAIMS}
CATEGORIES = ("open", "partial", "refused", "unable", "not_processed", "other_processing")

# statements about table 四 without a number; the groups they cover are read from the clause
UPHELD = r"(?:均|全部|皆)(?:获得?|被|予以|得到|为)?(?:依法)?维持|结果均为维持"
NO_CASES = (
    r"(?:未|没有|无)(?:发生|出现|收到|产生|涉及|被提起|被申请|提起)[^\d%]{0,20}?(?:行政复议|行政诉讼)"
    r"|(?:无|没有)(?:政府信息公开)?(?:行政复议|行政诉讼)"
)
FEE = r"信息处理费|处理费|收取[^。]{0,12}?费用|收费"

# table targets of the number-less table-四 claims
T4_TARGETS = {
    "upheld_review": r"^4:review:(?:corrected|other|pending)$",
    "upheld_suits": r"^4:suit_(?:direct|after_review):(?:corrected|other|pending)$",
    "no_review": r"^4:review:total$",
    "no_suits": r"^4:suit_(?:direct|after_review):total$",
}
T4_RULE = {"upheld_review": "H17", "upheld_suits": "H17", "no_review": "H18", "no_suits": "H18"}
# the rule codes of the claims: one check each in the claims schema
CLAIM_RULES: tuple[str, ...] = tuple(sorted({c.rule for c in CLAIMS} | set(T4_RULE.values())))
# kind → rule code, and kind → how it is checked ("equal" or "zero")
RULE_OF: dict[str, str] = {c.kind: c.rule for c in CLAIMS} | T4_RULE
CHECK_OF: dict[str, str] = {c.kind: c.check for c in CLAIMS} | {k: "zero" for k in T4_TARGETS}


def cell_targets() -> dict[str, str]:
    """kind → the regex over canonical cell ids whose sum the claim is checked against."""
    return {c.kind: c.cells for c in CLAIMS} | T4_TARGETS
