"""Error localisation: the right cell, the right value, ties reported as ties, the B-only case;
bounded work (the screen, the report's bound, the run's budget), the same answer under any timing."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nianbao.catalogue import sum_rule_codes
from nianbao.domain.model import ParsedReport
from nianbao.localise import (
    STATUS_ZH,
    Localisation,
    Work,
    describe,
    localise,
    problem,
    reduce,
    search,
)
from nianbao.localise.exact import Search
from nianbao.localise.problems import reduced
from nianbao.outcome import Finding
from nianbao.validate.batch import validate_batch
from tests.helpers import busy_seed, parse, set_cells
from tests.rules.test_beyond import as_year, last_year_of_busy

Suspects = list[tuple[str, float | None, float, str, int]]


def suspects_of(edits: dict[str, str]) -> tuple[list[Finding], Suspects]:
    fs = validate_batch([parse(set_cells(busy_seed(), edits))])
    sums = [f for f in fs if f.rule in sum_rule_codes()]
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
    assert "；或②把表四“行政复议”行“总计”列由 3 改为 6" in d01.fix


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


def test_closed_form_agrees_with_the_search() -> None:
    """Sizes 1–2 are solved in closed form; the search over the same reduced problem, started at
    size 1, finds the same sets."""
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
        sets, status = search(reduced(q), Work(10**6), start=1)
        assert status == "ok"
        closed = {frozenset((s.cell, s.suggested) for s in st) for st in locs[0].sets}
        searched = {
            frozenset(
                [(q_cell, round(v)) for q_cell, v in ((rep_cells(q, j), v) for j, v in st)]
                + [(rep_cells(q, j), round(v)) for j, v in q.fixed.items()]
            )
            for st in sets
        }
        assert closed == searched, edits
        checked += 1
    assert checked >= 20


def rep_cells(p: object, j: int) -> str:
    from nianbao.localise import system

    return system(p.fmt).cells[j]  # type: ignore[attr-defined]


THREE = {"3:3.1:natural": "9", "3:3.3.4:commercial": "4", "3:3.5.2:natural": "5"}
THREE_SUSPECTS = [
    ("3:3.1:natural", 9, 6, "wrong_value", 0),
    ("3:3.3.4:commercial", 4, 1, "wrong_value", 0),
    ("3:3.5.2:natural", 5, 2, "wrong_value", 0),
]
# seven wrong cells, each in a row of its own: seven broken row rules (A01) with no cell in common
SEVEN = {
    "3:1:research": "5",
    "3:2:social": "4",
    "3:3.1:legal": "3",
    "3:3.2:other": "7",
    "3:3.3.1:research": "2",
    "3:3.3.2:social": "9",
    "3:4:legal": "8",
}


def test_search_limit() -> None:
    """A search that reaches the report's work bound before any answer gives no suspects
    ("search_limit"), never a guess; one that found a smallest set but could not finish the
    enumeration of its ties says so ("ambiguous_partial"), never "the likely fix"."""
    rep = parse(set_cells(busy_seed(), THREE))
    p = problem(0, rep)
    assert p is not None
    locs = localise([p], report_work=20)
    assert locs[0] == Localisation(0, 0, [], "search_limit", cross_year=False)
    assert locs[0].outcome == "search_limit"
    assert describe(locs[0], rep.fmt) == STATUS_ZH["search_limit"]  # type: ignore[arg-type]
    assert describe(locs[0], rep.fmt) == "此报告的错误定位已达计算上限，未能定位错误单元格，请逐项核对表格数字。"  # type: ignore[arg-type]
    # the work of the whole search, counted: 154 units find the three cells and prove there is no
    # other set of three; from 38 units on the set is found, but not shown as the unique answer
    q = problem(0, rep)
    assert q is not None
    reduce(q)
    w = Work(10**6)
    assert search(reduced(q), w, start=3)[1] == "ok"
    assert w.used == 154
    assert search(reduced(q), Work(154), start=3)[1] == "ok"
    assert search(reduced(q), Work(153), start=3)[1] == "ties_cut"
    assert search(reduced(q), Work(38), start=3)[1] == "ties_cut"
    assert search(reduced(q), Work(37), start=3) == ([], "search_limit")
    p = problem(0, rep)
    assert p is not None
    part = localise([p], report_work=100)[0]
    assert (part.outcome, [s.cell for s in part.suspects()]) == (
        "ambiguous_partial",
        ["3:3.1:natural", "3:3.3.4:commercial", "3:3.5.2:natural"],
    )
    assert describe(part, rep.fmt).startswith(  # type: ignore[arg-type]
        "无法唯一确定错误的单元格（改动同样少的方案可能不止所列 1 种，每种改 3 个单元格）：①把表三"
    )


def test_too_many_inconsistencies_at_once() -> None:
    """Seven broken rules with no cell in common need seven changed cells: more than MAX_SIZE (6), so
    the screen says so before any search (no unit of work spent), on every sum-rule finding."""
    rep = parse(set_cells(busy_seed(), SEVEN))
    p = problem(0, rep)
    assert p is not None
    reduce(p)
    rd = reduced(p)
    assert Search(rd, Work(0)).lower_bound() == 7
    w = Work(10**6)
    assert search(rd, w, start=3) == ([], "too_many_inconsistencies")
    assert w.used == 0
    t0 = time.process_time()
    fs = validate_batch([rep])
    assert time.process_time() - t0 < 5.0  # the whole validation; the localisation itself does no search
    sums = [f for f in fs if f.rule in sum_rule_codes()]
    assert sorted({f.rule for f in sums}) == ["A01", "B01", "C01"]
    assert len([f for f in sums if f.rule == "A01"]) == 7
    text = "不一致之处过多，无法定位错误单元格：要使各项勾稽关系都成立，至少需改动 7 个单元格，请逐项核对表格数字。"
    for f in sums:
        assert (f.suspects, f.localisation) == ([], "too_many_inconsistencies")
        assert f.fix.startswith(text)
        j = f.to_json()
        assert (j["suspects"], j["localisation"]) == ([], "too_many_inconsistencies")


def test_statuses_in_findings() -> None:
    fs = validate_batch([parse(set_cells(busy_seed(), THREE))])
    a01 = next(f for f in fs if f.rule == "A01")
    assert a01.to_json()["localisation"] == "located"
    fs = validate_batch([parse(set_cells(busy_seed(), {"4:review:upheld": "5"}))])
    assert next(f for f in fs if f.rule == "D01").to_json()["localisation"] == "ambiguous"
    g = next(
        f for f in validate_batch([parse(set_cells(busy_seed(), {"2:penalty:decisions": "-5"}))]) if f.rule == "G02"
    )
    assert "localisation" not in g.to_json()


def _batch_inbox(tmp_path: Path) -> Path:
    """Four reports in file order: three that need the search (three wrong cells each), then one
    with a single wrong cell (closed form, no search)."""
    src = tmp_path / "in"
    src.mkdir(parents=True)
    three_b = {"3:3.1:commercial": "5", "3:3.2:natural": "6", "3:3.4.1:natural": "4"}
    texts = [set_cells(busy_seed(), THREE), set_cells(busy_seed(), three_b), set_cells(busy_seed(), THREE)]
    texts.append(set_cells(busy_seed(), {"3:3.1:natural": "16"}))
    for k, text in enumerate(texts):
        (src / f"r{k}_2023.txt").write_text(text.replace("沙坡头区镇罗镇", f"沙坡头区镇罗{k}镇"), encoding="utf-8")
    return src


def test_run_budget_marks_the_rest_not_localised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NIANBAO_LOCALISE_BUDGET=50 units per report (× at least 1,000 reports: 50,000 units, one
    report's whole bound): the first report needing the search is localised, the next two are not
    admitted ("not_localised"); the closed-form report after them still is.  run.json counts them
    and the CLI summary says it once."""
    from nianbao.report.jsonout import write_json_outputs
    from nianbao.report.summary import summary_lines
    from nianbao.run.steps import validate_paths

    monkeypatch.setenv("NIANBAO_LOCALISE_BUDGET", "50")
    outcome = validate_paths([_batch_inbox(tmp_path)], workers=1)
    status = {}
    for f in outcome.findings:
        if f.rule in sum_rule_codes():
            status.setdefault(Path(f.file).name, (f.localisation, len(f.suspects or [])))
    assert status == {
        "r0_2023.txt": ("located", 3),
        "r1_2023.txt": ("not_localised", 0),
        "r2_2023.txt": ("not_localised", 0),
        "r3_2023.txt": ("located", 1),
    }
    r1 = next(f for f in outcome.findings if f.rule == "A01" and f.file.endswith("r1_2023.txt"))
    assert r1.fix.startswith("本次运行的错误定位工作量已用完，此报告未定位错误单元格。")
    write_json_outputs(outcome, tmp_path / "out")
    run = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert run["localisation"] == {
        "reports": 4,
        "located": 2,
        "ambiguous": 0,
        "ambiguous_partial": 0,
        "too_many_inconsistencies": 0,
        "search_limit": 0,
        "not_localised": 2,
        "no_solution": 0,
        "work_per_report": 50_000,
        "budget_per_report": 50,
    }
    lines = [ln for ln in summary_lines(outcome) if "定位" in ln]
    assert lines == [
        "错误单元格定位：2 份因本次运行的定位工作量已用完而未定位（可用环境变量 NIANBAO_LOCALISE_BUDGET 调大）"
        "（这些报告的勾稽关系错误照常列出，只是没有“最可能的改法”）。"
    ]
    # the default budget localises them all, and the summary says nothing about localisation
    monkeypatch.delenv("NIANBAO_LOCALISE_BUDGET")
    outcome = validate_paths([_batch_inbox(tmp_path / "again")], workers=1)
    assert outcome.info.localisation is not None and outcome.info.localisation["located"] == 4
    assert not [ln for ln in summary_lines(outcome) if "定位" in ln]


def test_same_answer_under_any_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock that jumps an hour at every reading (a machine under heavy load) changes nothing: the
    bounds are counted in work, never timed — neither the suspects nor where the bounds fall."""
    texts = [
        set_cells(busy_seed(), THREE),
        set_cells(busy_seed(), SEVEN),
        set_cells(busy_seed(), {"4:review:upheld": "5"}),
    ]

    def run() -> list[object]:
        reps = [parse(t, f"r{k}.txt") for k, t in enumerate(texts)]
        probs = [p for k, r in enumerate(reps) if (p := problem(k, r)) is not None]
        locs = localise(probs, report_work=10_000, batch_work=10_000)
        short = localise([p for k, r in enumerate(reps) if (p := problem(k, r)) is not None], report_work=20)
        return [locs, short]

    calm = run()
    assert [calm[0][k].status for k in range(3)] == ["ok", "too_many_inconsistencies", "ok"]  # type: ignore[index]
    assert [calm[1][k].status for k in range(3)] == ["search_limit", "too_many_inconsistencies", "ok"]  # type: ignore[index]
    clock = [0.0]

    def slow() -> float:
        clock[0] += 3600.0
        return clock[0]

    for name in ("perf_counter", "process_time", "monotonic", "time"):
        monkeypatch.setattr(time, name, slow)
    assert run() == calm


def test_only_sum_rule_findings_get_suspects() -> None:
    fs = validate_batch([parse(set_cells(busy_seed(), {"3:3.1:natural": "16", "2:penalty:decisions": "-5"}))])
    assert {f.rule for f in fs if f.suspects is not None} == {"A01", "B01"}
    g02 = next(f for f in fs if f.rule == "G02")
    assert "suspects" not in g02.to_json()
    clean = validate_batch([parse(as_year(busy_seed(), 2023))])
    assert [f for f in clean if f.suspects is not None] == []


def test_dependent_set_takes_the_exact_point_on_its_line() -> None:
    """Two cells that only appear together (a + b must grow by 4): the changes form a line; the new
    values must be counts that both differ from the printed ones, moving them least."""
    import numpy as np

    from nianbao.localise.integral import point_on_line

    one_rule = np.array([[1.0, 1.0]])
    assert point_on_line(one_rule, np.array([4.0]), np.array([0.0, 0.0])).tolist() == [2.0, 2.0]
    assert point_on_line(one_rule, np.array([1.0]), np.array([3.0, 0.0])).tolist() == [2.0, 2.0]
    assert point_on_line(one_rule, np.array([1.0]), np.array([0.0, 0.0])) is None  # 1 + 0 or 0 + 1: one cell kept
    assert point_on_line(one_rule, np.array([0.5]), np.array([0.0, 0.0])) is None  # no integral point
    assert point_on_line(np.eye(2), np.array([1.0, 1.0]), np.array([0.0, 0.0])) is NotImplemented  # not dependent


def _closed_form_every_pair(group: list[tuple[Any, Any]]) -> dict[int, list[list[tuple[int, float]]] | None]:
    """The pairs of :func:`nianbao.localise.closed_form.closed_form` computed over every pair at
    once (its earlier form): the reference of the pairs it keeps."""
    from nianbao.localise.problems import EPS

    out: dict[int, list[list[tuple[int, float]]] | None] = {}
    A = group[0][1].A
    g = (A * A).sum(axis=0)
    X = np.vstack([rd.x0 for _p, rd in group])
    B = np.vstack([rd.b for _p, rd in group])
    R = X @ A.T - B
    C = R @ A
    rr = (R * R).sum(axis=1)
    used = np.flatnonzero(g > 0)
    Au = A[:, used]
    Gu = Au.T @ Au
    gu = g[used]
    for k, (p, rd) in enumerate(group):
        broken = np.abs(R[k]) > EPS
        inv = np.flatnonzero(np.abs(A[broken]).sum(axis=0)[used] > 0)
        c, x = C[k, used], X[k, used]
        gi, gj = gu[inv][:, None], gu[None, :]
        Gij = Gu[inv]
        ci, cj = c[inv][:, None], c[None, :]
        det = gi * gj - Gij * Gij
        with np.errstate(divide="ignore", invalid="ignore"):
            di = -(gj * ci - Gij * cj) / det
            dj = -(gi * cj - Gij * ci) / det
        res = rr[k] + 2 * di * ci + 2 * dj * cj + di * di * gi + 2 * di * dj * Gij + dj * dj * gj
        ni = x[inv][:, None] + di
        nj = x[None, :] + dj
        ok = (np.abs(det) > EPS) & (np.abs(res) < EPS) & (np.abs(di) > EPS) & (np.abs(dj) > EPS)
        ok &= (ni > -EPS) & (nj > -EPS)
        ok &= (np.abs(ni - np.round(ni)) < EPS) & (np.abs(nj - np.round(nj)) < EPS)
        ok &= inv[:, None] != np.arange(len(used))[None, :]
        seen: set[tuple[int, int]] = set()
        sets = []
        for a, bb in zip(*np.nonzero(ok), strict=True):
            ia, ib = int(used[inv[a]]), int(used[bb])
            if (min(ia, ib), max(ia, ib)) not in seen:
                seen.add((min(ia, ib), max(ia, ib)))
                sets.append([(int(rd.free[ia]), float(ni[a, bb])), (int(rd.free[ib]), float(nj[a, bb]))])
        out[p.report] = sets or None
    return out


def test_closed_form_pairs_are_those_of_every_pair_at_once() -> None:
    """The closed form tests a pair's second cell only when its first can change (a whole figure
    ≥ 0): the same pairs, with the same values, as every pair tested at once — for reports with 1–3
    wrong cells, whole figures and fractions, small and huge ones."""
    from nianbao.localise.closed_form import closed_form

    rng = random.Random(11)
    base = parse(busy_seed())
    cells = [c for c in base.cells if c.startswith(("3:", "4:")) and base.cells[c].value is not None]
    groups: dict[tuple[object, ...], list[tuple[Any, Any]]] = {}
    for i in range(400):
        edits = {}
        for c in rng.sample(cells, rng.choice((1, 2, 2, 3))):
            v = base.cells[c].value or 0
            edits[c] = rng.choice(
                (str(int(max(0, v + rng.choice((-3, -1, 1, 2, 7))))), f"{v + 0.5:g}", "1e13", "0", str(int(v) * 10))
            )
        p = problem(i, parse(set_cells(busy_seed(), edits)))
        assert p is not None
        reduce(p)
        rd = reduced(p)
        groups.setdefault(rd.key or (), []).append((p, rd))
    pairs = compared = 0
    for group in groups.values():
        got, want = closed_form(group), _closed_form_every_pair(group)
        for report, sets in got.items():
            if sets == [[]] or (sets and len(sets[0]) == 1):
                continue  # the fixed cells alone, or a single cell: no pair tested
            assert sets == want[report], report
            compared += 1
            pairs += len(sets or [])
    assert compared >= 60 and pairs >= 20
