"""Error localisation: the right cell, the right value, ties reported as ties, the B-only case."""

from __future__ import annotations

import random

import pytest

from nianbao.engine import validate_batch
from nianbao.localise import SUM_RULES, Localisation, _milp, _reduced, describe, localise, problem, reduce
from nianbao.model import ParsedReport
from nianbao.outcome import Finding
from tests.helpers import busy_seed, parse, set_cells
from tests.test_beyond import as_year, last_year_of_busy

Suspects = list[tuple[str, float | None, float, str, int]]


def suspects_of(edits: dict[str, str]) -> tuple[list[Finding], Suspects]:
    fs = validate_batch([parse(set_cells(busy_seed(), edits))])
    sums = [f for f in fs if f.rule in SUM_RULES]
    assert sums, "the edit must break a sum rule"
    first = sums[0].suspects
    assert first is not None
    for f in sums:  # every sum-rule finding of the report carries the same suspects
        assert f.suspects == first
    return fs, [(s.cell, s.reported, s.suggested, s.cause, s.alternative) for s in first]


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        ({"3:3.1:natural": "16"}, [("3:3.1:natural", 16, 6, "digit_typo", 0)]),
        ({"3:3.1:natural": "0"}, [("3:3.1:natural", 0, 6, "wrong_value", 0)]),
        ({"3:1:natural": "100"}, [("3:1:natural", 100, 10, "digit_typo", 0)]),  # a digit inserted
        ({"3:1:total": "31"}, [("3:1:total", 31, 13, "transposed", 0)]),
        ({"3:3.1:natural": "-6"}, [("3:3.1:natural", -6, 6, "sign", 0)]),
        ({"3:1:total": ""}, [("3:1:total", None, 13, "blank_total", 0)]),
    ],
    ids=["typo", "wrong", "inserted", "transposed", "sign", "blank-total"],
)
def test_single_cell(edits: dict[str, str], expected: Suspects) -> None:
    fs, got = suspects_of(edits)
    assert got == expected
    a01 = next(f for f in fs if f.rule == "A01")
    assert a01.fix.startswith("最可能的改法：把表三")
    assert a01.to_json()["suspects"][0] == {
        "cell": expected[0][0],
        "reported": expected[0][1],
        "suggested": expected[0][2],
        "cause": expected[0][3],
        "alternative": 0,
    }


def test_two_cells() -> None:
    _fs, got = suspects_of({"3:3.1:natural": "9", "3:3.3.4:commercial": "4"})
    assert got == [("3:3.1:natural", 9, 6, "wrong_value", 0), ("3:3.3.4:commercial", 4, 1, "wrong_value", 0)]


def test_value_in_the_wrong_column() -> None:
    """予以公开 自然人 6 and 商业企业 2 swapped: both cells, each the other's value."""
    _fs, got = suspects_of({"3:3.1:natural": "2", "3:3.1:commercial": "6"})
    assert got == [("3:3.1:natural", 2, 6, "misplaced", 0), ("3:3.1:commercial", 6, 2, "misplaced", 0)]


def test_three_cells_by_milp() -> None:
    _fs, got = suspects_of({"3:3.1:natural": "9", "3:3.3.4:commercial": "4", "3:3.5.2:natural": "5"})
    assert got == [
        ("3:3.1:natural", 9, 6, "wrong_value", 0),
        ("3:3.3.4:commercial", 4, 1, "wrong_value", 0),
        ("3:3.5.2:natural", 5, 2, "wrong_value", 0),
    ]


def test_tie_is_reported_as_a_tie() -> None:
    """表四: a 结果维持 typo is fixed as well by changing 结果维持 as by changing 总计 — say both."""
    fs, got = suspects_of({"4:review:upheld": "5"})
    assert got == [("4:review:upheld", 5, 2, "wrong_value", 0), ("4:review:total", 3, 6, "wrong_value", 1)]
    d01 = next(f for f in fs if f.rule == "D01")
    assert d01.fix.startswith("无法唯一确定错误的单元格（改动同样少的方案有 2 种，每种改 1 个单元格）：①")
    assert "；或②把表四“行政复议 · 总计”由 3 改为 6" in d01.fix


def test_b_only_is_localised_among_the_outcome_rows() -> None:
    """An outcome cell and its row total both +1: 一+二 = 三(七)+四 still holds, only rule B breaks.
    Not 三(七) alone: every outcome row that could absorb the difference is an equal alternative."""
    fs, got = suspects_of({"3:3.5.2:natural": "3", "3:3.5.2:total": "3"})
    assert sorted({f.rule for f in fs if f.severity == "error"}) == ["B01"]
    sets: dict[int, list[tuple[str, float | None, float]]] = {}
    for cell, rep, sug, _cause, alt in got:
        sets.setdefault(alt, []).append((cell, rep, sug))
    assert list(sets.values()) == [
        [("3:3.1:natural", 6, 5), ("3:3.1:total", 8, 7)],
        [("3:3.2:natural", 2, 1), ("3:3.2:total", 2, 1)],
        [("3:3.4.1:natural", 1, 0), ("3:3.4.1:total", 1, 0)],
        [("3:3.5.2:natural", 3, 2), ("3:3.5.2:total", 3, 2)],  # the planted one, among them
    ]
    assert not any(c.startswith("3:3.7:") for c, *_ in got)


def test_carry_over_with_last_year() -> None:
    """E01 with last year known: 上年结转 must be last year's 结转下年度, and the report must add up."""
    bad = set_cells(busy_seed(), {"3:2:natural": "3", "3:2:total": "3", "3:1:natural": "9", "3:1:total": "12"})
    fs = validate_batch([parse(last_year_of_busy(), "a_2022.txt"), parse(bad, "a_2023.txt")])
    e01 = [f for f in fs if f.rule == "E01"]
    assert len(e01) == 2
    got = {(s.cell, s.reported, s.suggested, s.alternative) for s in e01[0].suspects or []}
    # 上年结转 back to last year's 2 in both; then either 新收 was 1 too low, or 结转下年度 1 too high
    assert got == {
        ("3:1:natural", 9, 10, 0),
        ("3:1:total", 12, 13, 0),
        ("3:2:natural", 3, 2, 0),
        ("3:2:total", 3, 2, 0),
        ("3:2:natural", 3, 2, 1),
        ("3:2:total", 3, 2, 1),
        ("3:4:natural", 1, 0, 1),
        ("3:4:total", 1, 0, 1),
    }
    assert "改动同样少的方案有 2 种，每种改 4 个单元格" in e01[0].fix


def test_last_year_inconsistent_gives_no_suspects_for_e01() -> None:
    """Last year's 结转下年度 自然人 disagrees with its own 总计: this year cannot match both."""
    last = set_cells(last_year_of_busy(), {"3:4:natural": "5"})
    fs = validate_batch([parse(last, "a_2022.txt"), parse(busy_seed(), "a_2023.txt")])
    e01 = [f for f in fs if f.rule == "E01" and f.file == "a_2023.txt"]
    assert [(f.cells, f.expected, f.actual, f.suspects) for f in e01] == [(["3:2:natural"], 5, 2, [])]


def _problem(text: str) -> tuple[ParsedReport, object]:
    rep = parse(text)
    p = problem(0, rep)
    assert p is not None
    return rep, p


def test_closed_form_agrees_with_the_milp() -> None:
    """Sizes 1–2 are solved in closed form; the MILP over the same reduced problem finds the same sets."""
    rng = random.Random(7)
    cells = [f"3:{r}:{c}" for r in ("1", "2", "3.1", "3.2", "3.4.1", "3.5.2", "3.7", "4") for c in ("natural", "total")]
    cells += ["4:review:upheld", "4:review:pending", "3:3.3.4:commercial"]
    base = parse(busy_seed())
    checked = 0
    for _ in range(30):
        k = rng.choice((1, 2))
        edits = {}
        for c in rng.sample(cells, k):
            v = base.cells[c].value or 0
            edits[c] = str(int(max(0, v + rng.choice((-3, -1, 1, 2, 7)))))
        rep = parse(set_cells(busy_seed(), edits))
        p = problem(0, rep)
        assert p is not None
        locs = localise([p])
        if 0 not in locs or not locs[0].sets or len(locs[0].sets) > 8:
            continue
        q = problem(0, rep)
        assert q is not None
        reduce(q)
        sets, status = _milp(_reduced(q), time_limit=5.0, max_solutions=10)
        assert status == "ok"
        closed = {frozenset((s.cell, s.suggested) for s in st) for st in locs[0].sets}
        milp = {
            frozenset(
                [(q_cell, round(v)) for q_cell, v in ((rep_cells(q, j), v) for j, v in st)]
                + [(rep_cells(q, j), round(v)) for j, v in q.fixed.items()]
            )
            for st in sets
        }
        assert closed == milp, edits
        checked += 1
    assert checked >= 20


def rep_cells(p: object, j: int) -> str:
    from nianbao.localise import system

    return system(p.fmt).cells[j]  # type: ignore[attr-defined]


def test_time_box() -> None:
    """A MILP that runs out of time gives no suspects ("unknown"), never a guess."""
    rep = parse(set_cells(busy_seed(), {"3:3.1:natural": "9", "3:3.3.4:commercial": "4", "3:3.5.2:natural": "5"}))
    p = problem(0, rep)
    assert p is not None
    locs = localise([p], time_limit=1e-9)
    assert locs[0] == Localisation(0, 0, [], "unknown", cross_year=False)
    assert describe(locs[0], rep.fmt) == ""  # type: ignore[arg-type]


def test_only_sum_rule_findings_get_suspects() -> None:
    fs = validate_batch([parse(set_cells(busy_seed(), {"3:3.1:natural": "16", "2:penalty:decisions": "-5"}))])
    assert {f.rule for f in fs if f.suspects is not None} == {"A01", "B01"}
    g02 = next(f for f in fs if f.rule == "G02")
    assert "suspects" not in g02.to_json()
    clean = validate_batch([parse(as_year(busy_seed(), 2023))])
    assert [f for f in clean if f.suspects is not None] == []
