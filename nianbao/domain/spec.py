"""The statutory format as data: sections, tables, rows, columns and canonical cell ids.

Source: 国办公开办函〔2021〕30号 (2021 format) and 国办公开办函〔2019〕60号 (2019 trial format).
Every number in the three tables is addressed by ``TABLE:ROW:COLUMN`` (e.g. ``3:3.3.4:natural``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache


class Fmt(StrEnum):
    F2021 = "2021"
    F2019 = "2019"


class Kind(StrEnum):
    """What a cell may hold."""

    COUNT = "count"  # non-negative integer
    AMOUNT = "amount"  # non-negative decimal (万元)
    DELTA = "delta"  # signed integer (2019 本年增/减)


@dataclass(frozen=True)
class Column:
    id: str
    label: str
    aliases: tuple[str, ...] = ()
    kind: Kind = Kind.COUNT


@dataclass(frozen=True)
class Row:
    id: str
    label: str
    # Phrases a printed label is matched on (after normalisation); the first is the statutory one.
    keys: tuple[str, ...]
    group: str | None = None  # for table 三 detail rows: the group row id prefix ("3.3" …)
    block: str | None = None  # for table 二: the 第二十条 block ("一", "五", …)
    columns: tuple[str, ...] = ()  # table 二: the columns of this row's block


@dataclass(frozen=True)
class Table:
    id: str  # "2", "3", "4"
    title: str
    rows: tuple[Row, ...]
    columns: tuple[Column, ...]
    # table 二 has a different column set per block; for tables 三/四 every row has every column.
    row_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def cells(self) -> list[str]:
        out: list[str] = []
        for r in self.rows:
            for c in self.row_columns.get(r.id, tuple(col.id for col in self.columns)):
                out.append(f"{self.id}:{r.id}:{c}")
        return out

    def row(self, row_id: str) -> Row:
        for r in self.rows:
            if r.id == row_id:
                return r
        raise KeyError(row_id)

    def column(self, col_id: str) -> Column:
        for c in self.columns:
            if c.id == col_id:
                return c
        raise KeyError(col_id)


@dataclass(frozen=True)
class Section:
    number: str  # 一 … 六
    heading: str
    variants: tuple[str, ...] = ()


SECTIONS: tuple[Section, ...] = (
    Section("一", "总体情况"),
    Section("二", "主动公开政府信息情况"),
    Section("三", "收到和处理政府信息公开申请情况"),
    Section(
        "四",
        "政府信息公开行政复议、行政诉讼情况",
        ("因政府信息公开申请行政复议、提起行政诉讼的情况", "政府信息公开行政法复议、行政诉讼情况"),
    ),
    Section("五", "存在的主要问题及改进情况", ("政府信息公开工作存在的主要问题及改进情况",)),
    Section("六", "其他需要报告的事项"),
)
SECTION_NUMBERS = tuple(s.number for s in SECTIONS)

# ---------------------------------------------------------------- table 二 (主动公开)

_T2_2021_ROWS = (
    Row("rules", "规章", ("规章",), block="一", columns=("issued", "repealed", "in_force")),
    Row(
        "normative",
        "行政规范性文件",
        ("行政规范性文件",),
        block="一",
        columns=("issued", "repealed", "in_force"),
    ),
    Row("licensing", "行政许可", ("行政许可",), block="五", columns=("decisions",)),
    Row("penalty", "行政处罚", ("行政处罚",), block="六", columns=("decisions",)),
    Row("coercion", "行政强制", ("行政强制",), block="六", columns=("decisions",)),
    Row("fees", "行政事业性收费", ("行政事业性收费",), block="八", columns=("amount",)),
)
_T2_2021_COLS = (
    Column("issued", "本年制发件数"),
    Column("repealed", "本年废止件数"),
    Column("in_force", "现行有效件数"),
    Column("decisions", "本年处理决定数量", ("处理决定数量",)),
    Column("amount", "本年收费金额（单位：万元）", ("本年收费金额",), kind=Kind.AMOUNT),
)

_T2_2019_ROWS = (
    Row("rules", "规章", ("规章",), block="一", columns=("new_made", "new_published", "total_published")),
    Row(
        "normative",
        "规范性文件",
        ("规范性文件", "行政规范性文件"),
        block="一",
        columns=("new_made", "new_published", "total_published"),
    ),
    Row("licensing", "行政许可", ("行政许可",), block="五", columns=("prev_items", "change", "decisions")),
    Row(
        "other_services",
        "其他对外管理服务事项",
        ("其他对外管理服务事项",),
        block="五",
        columns=("prev_items", "change", "decisions"),
    ),
    Row("penalty", "行政处罚", ("行政处罚",), block="六", columns=("prev_items", "change", "decisions")),
    Row("coercion", "行政强制", ("行政强制",), block="六", columns=("prev_items", "change", "decisions")),
    Row("fees", "行政事业性收费", ("行政事业性收费",), block="八", columns=("prev_items", "change")),
    Row("procurement", "政府集中采购", ("政府集中采购",), block="九", columns=("items", "amount")),
)
_T2_2019_COLS = (
    Column("new_made", "本年新制作数量"),
    Column("new_published", "本年新公开数量"),
    Column("total_published", "对外公开总数量"),
    Column("prev_items", "上一年项目数量"),
    Column("change", "本年增/减", ("本年增减",), kind=Kind.DELTA),
    Column("decisions", "处理决定数量", ("本年处理决定数量",)),
    Column("items", "采购项目数量"),
    Column("amount", "采购总金额", kind=Kind.AMOUNT),
)

# ---------------------------------------------------------------- table 三 (依申请)

T3_COLUMNS = (
    Column("natural", "自然人"),
    Column("commercial", "商业企业"),
    Column("research", "科研机构"),
    Column("social", "社会公益组织", ("社会组织",)),
    Column("legal", "法律服务机构"),
    Column("other", "其他"),
    Column("total", "总计"),
)
T3_PARTS = tuple(c.id for c in T3_COLUMNS[:-1])

# group rows of 三 (they carry no numbers in the 2021 format)
T3_GROUPS: dict[str, tuple[str, ...]] = {
    "3": ("本年度办理结果",),
    "3.3": ("不予公开",),
    "3.4": ("无法提供",),
    "3.5": ("不予处理",),
    "3.6": ("其他处理",),
}


def _t3_rows(fmt: Fmt) -> tuple[Row, ...]:
    rows = [
        Row("1", "一、本年新收政府信息公开申请数量", ("本年新收政府信息公开申请数量", "本年新收")),
        Row("2", "二、上年结转政府信息公开申请数量", ("上年结转政府信息公开申请数量", "上年结转")),
        Row("3.1", "（一）予以公开", ("予以公开",), group="3"),
        Row(
            "3.2",
            "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
            ("部分公开",),
            group="3",
        ),
    ]
    sub33 = (
        "属于国家秘密",
        "其他法律行政法规禁止公开",
        "危及三安全一稳定",
        "保护第三方合法权益",
        "属于三类内部事务信息",
        "属于四类过程性信息",
        "属于行政执法案卷",
        "属于行政查询事项",
    )
    sub34 = ("本机关不掌握相关政府信息", "没有现成信息需要另行制作", "补正后申请内容仍不明确")
    sub35 = (
        "信访举报投诉类申请",
        "重复申请",
        "要求提供公开出版物",
        "无正当理由大量反复申请",
        "要求行政机关确认或重新出具已获取信息",
    )
    sub36 = (
        "申请人无正当理由逾期不补正行政机关不再处理其政府信息公开申请",
        "申请人逾期未按收费通知要求缴纳费用行政机关不再处理其政府信息公开申请",
        "其他",
    )
    labels33 = (
        "1.属于国家秘密",
        "2.其他法律行政法规禁止公开",
        "3.危及“三安全一稳定”",
        "4.保护第三方合法权益",
        "5.属于三类内部事务信息",
        "6.属于四类过程性信息",
        "7.属于行政执法案卷",
        "8.属于行政查询事项",
    )
    for i, (k, lab) in enumerate(zip(sub33, labels33, strict=True), 1):
        rows.append(Row(f"3.3.{i}", f"（三）不予公开 {lab}", (k,), group="3.3"))
    for i, k in enumerate(sub34, 1):
        rows.append(Row(f"3.4.{i}", f"（四）无法提供 {i}.{k}", (k,), group="3.4"))
    for i, k in enumerate(sub35, 1):
        rows.append(Row(f"3.5.{i}", f"（五）不予处理 {i}.{k}", (k,), group="3.5"))
    if fmt is Fmt.F2021:
        keys36 = (
            ("申请人无正当理由逾期不补正",),
            ("申请人逾期未按收费通知要求缴纳费用",),
            ("其他",),
        )
        for i, (k, keys) in enumerate(zip(sub36, keys36, strict=True), 1):
            rows.append(Row(f"3.6.{i}", f"（六）其他处理 {i}.{k}", keys, group="3.6"))
    else:
        rows.append(Row("3.6", "（六）其他处理", ("其他处理",), group="3"))
    rows.append(Row("3.7", "（七）总计", ("总计",), group="3"))
    rows.append(Row("4", "四、结转下年度继续办理", ("结转下年度继续办理", "结转下年度")))
    return tuple(rows)


# ---------------------------------------------------------------- table 四 (复议诉讼)

T4_ROWS = (
    Row("review", "行政复议", ("行政复议",)),
    Row("suit_direct", "行政诉讼·未经复议直接起诉", ("未经复议直接起诉",)),
    Row("suit_after_review", "行政诉讼·复议后起诉", ("复议后起诉",)),
)
T4_COLUMNS = (
    Column("upheld", "结果维持"),
    Column("corrected", "结果纠正"),
    Column("other", "其他结果"),
    Column("pending", "尚未审结"),
    Column("total", "总计"),
)
T4_PARTS = ("upheld", "corrected", "other", "pending")


@cache
def tables(fmt: Fmt) -> dict[str, Table]:
    t2_rows: tuple[Row, ...]
    t2_cols: tuple[Column, ...]
    if fmt is Fmt.F2021:
        t2_rows, t2_cols = _T2_2021_ROWS, _T2_2021_COLS
    else:
        t2_rows, t2_cols = _T2_2019_ROWS, _T2_2019_COLS
    t2 = Table(
        "2",
        "主动公开政府信息情况",
        t2_rows,
        t2_cols,
        row_columns={r.id: r.columns for r in t2_rows},
    )
    t3 = Table("3", "收到和处理政府信息公开申请情况", _t3_rows(fmt), T3_COLUMNS)
    t4 = Table("4", "政府信息公开行政复议、行政诉讼情况", T4_ROWS, T4_COLUMNS)
    return {"2": t2, "3": t3, "4": t4}


@cache
def all_cells(fmt: Fmt) -> tuple[str, ...]:
    """Canonical cell ids of a format, in printed order."""
    out: list[str] = []
    for t in tables(fmt).values():
        out.extend(t.cells())
    return tuple(out)


@cache
def cell_kind(fmt: Fmt, cell: str) -> Kind:
    table, _row, col = cell.split(":")
    return tables(fmt)[table].column(col).kind


@cache
def cell_label(fmt: Fmt, cell: str) -> str:
    """Human (Chinese) label of a cell: row label · column label."""
    table, row, col = cell.split(":")
    t = tables(fmt)[table]
    if row == "*" and col == "*":
        return f"表{'二三四'[int(table) - 2]}"
    rlab = t.row(row).label if row != "*" else "（各行）"
    clab = t.column(col).label if col != "*" else "（各列）"
    return f"{rlab} · {clab}"


_TABLE_ZH = {"2": "表二", "3": "表三", "4": "表四"}


@cache
def cell_words(cell: str, fmt: Fmt | None = None) -> str:
    """A cell (or the row, column or table a structural id names) in the auditor's words — the one
    place a canonical id becomes text on a page or in the workbook: ``3:3.3.7:other`` →
    表三“（三）不予公开 7.属于行政执法案卷”行“其他”列, ``3:*:social`` → 表三“社会公益组织”列,
    ``3:3.3.2:*`` → 表三“（三）不予公开 2.其他法律行政法规禁止公开”行, ``4:*:*`` → 表四.  The format
    given is tried first, then the other (a 2019 id on a 2021 page still reads)."""
    parts = cell.split(":")
    if len(parts) != 3 or parts[0] not in _TABLE_ZH:
        return "统计表中的一格"
    table, row, col = parts
    name = _TABLE_ZH[table]
    order = [fmt] if fmt is not None else []
    for f in [*order, *(x for x in Fmt if x is not fmt)]:
        t = tables(f)[table]
        try:
            rlab = t.row(row).label if row != "*" else None
            clab = t.column(col).label if col != "*" else None
        except KeyError:
            continue
        if rlab and clab:
            return f"{name}“{rlab}”行“{clab}”列"
        if rlab:
            return f"{name}“{rlab}”行"
        if clab:
            return f"{name}“{clab}”列"
        return name
    return f"{name}中的一格"


def table_name(table: str) -> str:
    return {
        "2": "表二（主动公开政府信息情况）",
        "3": "表三（收到和处理政府信息公开申请情况）",
        "4": "表四（行政复议、行政诉讼情况）",
    }[table]


def is_valid_cell_id(cell: str) -> bool:
    """A canonical id of either format, or a structural id with ``*`` in the missing part."""
    parts = cell.split(":")
    if len(parts) != 3:
        return False
    table, row, col = parts
    for fmt in Fmt:
        ts = tables(fmt)
        if table not in ts:
            continue
        t = ts[table]
        rows = {r.id for r in t.rows} | {"*"}
        cols = {c.id for c in t.columns} | {"*"}
        if row in rows and col in cols:
            return True
    return False
