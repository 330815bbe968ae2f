"""The batch's agency keys and peer groups, made for every report at once (polars), are those of
the one-name functions they replace: :func:`nianbao.domain.registry.normalise_agency` and
:func:`nianbao.rules.plausibility.infer_county_level` (or the registry's entry)."""

from __future__ import annotations

import polars as pl

from nianbao.domain.registry import Agency, normalise_agency
from nianbao.rules.plausibility import county_level, infer_county_level
from nianbao.rules.years import agency_key, agency_keys

EDGES = [
    None,
    "",
    " ",
    "人民政府",
    "X政府",
    "XY政府",
    "X人民政府",
    "XY人民政府",
    "镇人民政府办公室",
    "AB人民政府办公室",
    "示例县南川镇人民政府办公室",
    " 示例县　南川镇（人民政府）\t",
    "示例县\x1c南川镇",  # an information separator: a space to Python's str.isspace
    "ｆｕｌｌ－ｗｉｄｔｈ县镇",
    "示例县南川镇",
    "示例县南川镇人民政府",
    "示例自治县某某街道办事处",
    "示例县",
    "示例县X",
    "示例县XY",
    "某某市林业局",
    "无县名的机关",
    "\ua7f1县某镇",  # assigned after Python 3.11's Unicode 14: polars' NFKC maps it, Python's does not
    "𝐀𝐁县某镇",  # (outside the blocks polars normalises: Python's NFKC)
]


def test_agency_keys_are_normalise_agency_for_every_character() -> None:
    # every code point within a name, and the edge cases of the suffixes, spaces and None
    names: list[str | None] = [f"示例县{chr(cp)}镇人民政府" for cp in range(0x110000) if not 0xD800 <= cp < 0xE000]
    names += EDGES
    got = agency_keys(names).to_list()
    want = [normalise_agency(n) for n in names]
    assert [(n, g, w) for n, g, w in zip(names, got, want, strict=True) if g != w] == []
    assert got[-len(EDGES) :][:5] == ["", "", "", "人民", "X政府"]  # (a suffix leaves two characters)


def test_agency_keys_follow_the_rename_table_as_agency_key_does() -> None:
    # a chain (乡 → 镇 → 街道), a cycle, and names the table does not name
    renames = {"示例县南川乡": "示例县南川镇", "示例县南川镇": "示例县南川街道", "甲": "乙", "乙": "甲"}
    names: list[str | None] = ["示例县南川乡人民政府", "示例县南川镇", "甲", "乙", "示例县北山镇", None, ""]
    got = agency_keys(names, renames).to_list()
    assert got == [agency_key(n, renames) for n in names]
    assert got[:2] == ["示例县南川街道", "示例县南川街道"] and got[-2:] == ["", ""]


def test_county_level_infers_as_one_name_at_a_time_and_takes_the_registrys_entry() -> None:
    keys = [normalise_agency(n) for n in EDGES] + ["示例县南川镇", "示例县农业局"]
    got = county_level(pl.Series(keys, dtype=pl.String), None)
    want = [infer_county_level(k) if k else (None, None) for k in keys]
    assert list(zip(got["county"].to_list(), got["level"].to_list(), strict=True)) == want
    assert ("示例县", "township") in want and ("示例县", "department") in want and (None, None) in want

    registry = [Agency("登记县", "示例县南川镇人民政府", "department"), Agency("甲县", "某某市林业局", "township")]
    got = county_level(pl.Series(keys, dtype=pl.String), registry)
    known = {a.key: (a.county, a.level) for a in registry}
    want = [known.get(k) or (infer_county_level(k) if k else (None, None)) for k in keys]
    assert list(zip(got["county"].to_list(), got["level"].to_list(), strict=True)) == want
    assert ("登记县", "department") in want and ("甲县", "township") in want
