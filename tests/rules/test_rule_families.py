"""The rule families and the catalogue agree: every active code is implemented by exactly one family
and has its passing and failing fixtures; each family emits only its own codes; the Batch builds
each frame once."""

from __future__ import annotations

import dataclasses
import importlib
import threading
from collections.abc import Iterator, Sequence
from functools import cache
from importlib import resources
from pathlib import Path

import pytest

import nianbao.rules.family
import nianbao.validate.batch as vb
from nianbao import catalogue
from nianbao.domain.model import ParsedReport
from nianbao.domain.registry import load_registry, load_renames
from nianbao.outcome import Finding, InfoSummary
from nianbao.read.load import load_bytes
from nianbao.rules.families import FAMILIES, claims, families, family_of, family_problems
from nianbao.rules.family import BATCH_CHECKS, FRAMES, READ, VALIDATE, Batch, Family, fixed_codes
from nianbao.validate.batch import run_families
from tests import rule_registry

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"

EXTRA_RULE = """
[[rule]]
code = "Z99"
family = "Z"
severity = "warning"
title = "a rule no family implements"
citation = "—"
checks = "—"
why = "—"
message = "—"
fix = "—"
"""

# a second sum rule (the terms of A01 under another code): the sums family implements it from the catalogue
EXTRA_SUM_RULE = """
[[rule]]
code = "A99"
family = "A"
severity = "error"
title = "a second row total"
citation = "—"
checks = "—"
why = "—"
message = "{row_label}：合计 {actual}，应为 {expected}"
fix = "—"

[rule.sum]
table = "3"
each = "row"
printed = ["total"]
parts = ["natural", "commercial", "research", "social", "legal", "other"]
role = "row_total"
"""


@pytest.fixture
def temporary_catalogue() -> Iterator[None]:
    yield
    catalogue.use_catalogue(None)


def _packaged() -> str:
    return resources.files("nianbao.catalogue").joinpath("catalogue.toml").read_text(encoding="utf-8")


def fixture_codes() -> set[str]:
    """The codes with passing and failing fixtures: each test module that has them registers them
    in tests/rule_registry.py at import, so every such module is imported here."""
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if "rule_registry" in path.read_text(encoding="utf-8"):
            importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return set(rule_registry.COVERED)


def codes_without_fixtures() -> list[str]:
    active = {code for code, r in catalogue.catalogue().items() if not r.retired}
    return sorted(active - fixture_codes())


def test_every_active_code_is_implemented_by_exactly_one_family() -> None:
    assert family_problems() == []
    assert family_of("A01").name == "sums" and family_of("M01").name == "batch" and family_of("H20").name == "prose"


def test_a_code_without_a_family_and_a_retired_code_with_one_are_reported(temporary_catalogue: None) -> None:
    toml = _packaged().replace('code = "G01"\n', 'code = "G01"\nretired = true\n', 1) + EXTRA_RULE
    catalogue.use_catalogue(toml.encode("utf-8"))
    assert family_problems() == [
        "Z99: no rule family implements it",
        "G01: claimed by cells, but retired",
    ]


def test_a_new_sum_rule_is_implemented_by_the_sums_family(temporary_catalogue: None) -> None:
    catalogue.use_catalogue((_packaged() + EXTRA_SUM_RULE).encode("utf-8"))
    assert family_problems() == []
    assert family_of("A99").name == "sums"


def test_two_families_claiming_a_code_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    twin = Family("twin", fixed_codes("G01"), lambda batch: [])
    monkeypatch.setattr(nianbao.rules.families, "FAMILIES", (*FAMILIES, twin))
    assert family_problems() == ["G01: claimed by cells, twin"]


def test_every_active_code_has_fixtures() -> None:
    """A rule without a passing and a failing fixture cannot land."""
    assert codes_without_fixtures() == []


def test_a_code_without_fixtures_is_reported(temporary_catalogue: None) -> None:
    catalogue.use_catalogue((_packaged() + EXTRA_RULE).encode("utf-8"))
    assert codes_without_fixtures() == ["Z99"]


def test_the_families_in_order_and_where_they_run() -> None:
    assert [(f.name, f.stage) for f in FAMILIES] == [
        ("unreadable", READ),
        ("cells", VALIDATE),
        ("sums", VALIDATE),
        ("layout", VALIDATE),
        ("meta", VALIDATE),
        ("crossyear", VALIDATE),
        ("plausibility", VALIDATE),
        ("copies", VALIDATE),
        ("prose", VALIDATE),
        ("batch", BATCH_CHECKS),
    ]
    assert claims()["U01"] == ["unreadable"] and claims()["U09"] == ["meta"] and claims()["R01"] == ["meta"]
    assert all(f.reads <= FRAMES for f in FAMILIES)


def test_a_family_declaration_is_checked() -> None:
    with pytest.raises(ValueError, match="a check exactly when"):
        Family("x", fixed_codes("G01"), None)
    with pytest.raises(ValueError, match="not frames of the Batch"):
        Family("x", fixed_codes("G01"), lambda batch: [], reads=frozenset({"sheets"}))
    with pytest.raises(ValueError, match="stage 'later'"):
        Family("x", fixed_codes("G01"), None, stage="later")


@cache
def _bundled() -> tuple[list[ParsedReport], list[ParsedReport]]:
    """The bundled inbox's reports of 2023 and of 2022 (last year), as read."""
    files = sorted((DATA / "submissions").rglob("*.txt"))
    read = [load_bytes(str(p.relative_to(ROOT)), p.read_bytes()) for p in files]
    return [r for r in read if r.year == 2023], [r for r in read if r.year == 2022]


def _batch(previous: bool = True) -> Batch:
    this, last = _bundled()
    return Batch(
        this,
        last if previous else (),
        load_renames(DATA / "renames.csv"),
        load_registry(DATA / "registry.csv"),
    )


def test_each_family_emits_only_its_own_codes() -> None:
    batch = _batch()
    emitted: dict[str, set[str]] = {}
    for family in families():
        assert family.check is not None
        emitted[family.name] = {f.rule for f in family.check(batch)}
        assert emitted[family.name] <= family.codes(), family.name
    # the bundled inbox breaks rules of every family of the validate stage
    assert {name for name, codes in emitted.items() if codes} == {f.name for f in families()}


def test_the_batch_builds_each_frame_once_and_frees_it_after_its_last_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[str] = []
    for name in ("batch_arrays", "cells_frame", "layout_suspects", "meta_frame", "pair_years", "registered"):
        real = getattr(nianbao.rules.family, name)
        monkeypatch.setattr(
            nianbao.rules.family, name, lambda *a, _n=name, _f=real, **k: built.append(_n) or _f(*a, **k)
        )
    batch = _batch()
    run_families(batch)
    # this year's and last year's cells as arrays once each; the long frame of this year's once
    assert sorted(built) == sorted(
        ["batch_arrays", "batch_arrays", "cells_frame", "layout_suspects", "meta_frame", "pair_years", "registered"]
    )
    assert set(vars(batch)) & FRAMES == {"year_pairs"}  # kept for the localisation; every frame freed


def test_a_frame_two_threads_ask_for_at_once_is_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A family beside the others and a family here may need the same frame at the same moment
    (the cell arrays): one thread builds it, the other waits and reads the same frame."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    built: list[str] = []
    real = nianbao.rules.family.batch_arrays

    def slow(reports: Sequence[ParsedReport]) -> object:
        built.append(threading.current_thread().name)
        time.sleep(0.3)  # (the other thread asks meanwhile)
        return real(reports)

    monkeypatch.setattr(nianbao.rules.family, "batch_arrays", slow)
    batch = _batch()
    with ThreadPoolExecutor(2) as ex:
        first, second = ex.map(lambda _i: batch.arrays, range(2))
    assert first is second and len(built) == 1
    assert batch.arrays is first and len(built) == 1  # (kept)
    batch.release()
    assert batch.arrays is not first and len(built) == 2  # (built again once released)


Made = Sequence[Finding | InfoSummary]


def _traced(f: Family, seen: list[tuple[str, str]], fail: bool = False) -> Family:
    """Family ``f`` noting (its name, the thread it ran in) in ``seen`` when it runs; ``fail``: raising then."""
    check = f.check
    assert check is not None

    def run(batch: Batch) -> Made:
        seen.append((f.name, threading.current_thread().name))
        if fail:
            raise RuntimeError(f"{f.name} broke")
        return check(batch)

    return dataclasses.replace(f, check=run)


def test_a_family_beside_the_others_gives_what_running_them_in_order_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plausibility and text rules run in a thread of their own beside the other families
    (Family.beside); the findings and summaries, in order, are those of every family run one after
    the other here."""
    assert [f.name for f in families() if f.beside] == ["plausibility", "prose"]
    seen: list[tuple[str, str]] = []
    beside = tuple(_traced(f, seen) for f in families())
    monkeypatch.setattr(vb, "families", lambda: beside)
    got = run_families(_batch())
    here = threading.current_thread().name
    assert [name for name, thread in seen if thread != here] == ["plausibility", "prose"]
    assert dict(seen)["prose"].startswith("nianbao-family") and len(seen) == len(families())
    in_order = tuple(dataclasses.replace(f, beside=False) for f in families())
    monkeypatch.setattr(vb, "families", lambda: in_order)
    want = run_families(_batch())
    assert {f.rule for f in want[0]} >= {"H01", "A01", "E01", "K02"} and len(want[1]) > 0
    assert got == want


def test_a_family_failing_beside_the_others_fails_the_run_once_they_are_done(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str]] = []
    # (the last family beside: the others beside ran before it, in its thread)
    monkeypatch.setattr(vb, "families", lambda: tuple(_traced(f, seen, fail=f.name == "prose") for f in families()))
    with pytest.raises(RuntimeError, match="prose broke"):
        run_families(_batch())
    assert sorted(name for name, _t in seen) == sorted(f.name for f in families())


def test_an_alias_printed_by_many_reports_is_one_summary_of_exactly_those_reports() -> None:
    from nianbao.testing.synth import SynthConfig, generate, render_text
    from nianbao.validate.batch import validate_summarised
    from tests.helpers import parse

    ds, _ = generate(SynthConfig(counties=1, townships=5, years=(2023,), defect_rate=0.0, seed=3))
    texts = [render_text(d) for d in ds]
    assert all("社会组织" in t for t in texts)
    texts[2] = texts[2].replace("社会组织", "社会公益组织")  # the statutory label: no I06
    _findings, summaries = validate_summarised([parse(t, d.file_name) for t, d in zip(texts, ds, strict=True)])
    (i06,) = [s for s in summaries if s.rule == "I06"]
    assert i06.reports == [0, 1, 3, 4] and len(i06.lines) == 4
    assert (i06.cells, i06.expected, i06.actual) == (["3:*:social"], "社会公益组织", "社会组织")
    assert i06.params["printed"] == "社会组织" and i06.params["col_label"] == "社会公益组织"
