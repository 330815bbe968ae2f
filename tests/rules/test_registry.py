from __future__ import annotations

from pathlib import Path

import pytest

from nianbao.domain.registry import Agency, RegistryError, load_registry, load_renames, normalise_agency
from tests.helpers import ROOT


def test_normalise_agency() -> None:
    assert normalise_agency("沙坡头区镇罗镇人民政府") == "沙坡头区镇罗镇"
    assert normalise_agency(" 沙坡头区 镇罗镇 ") == "沙坡头区镇罗镇"
    assert normalise_agency("（沙坡头区）镇罗镇") == "沙坡头区镇罗镇"
    assert normalise_agency(None) == ""


def test_bundled_registry() -> None:
    reg = load_registry(ROOT / "data" / "registry.csv")
    assert len(reg) == 13
    assert {a.county for a in reg} == {"示例县", "沙坡头区"}


def test_malformed_registry_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("county,agency,level\n示例县,甲镇,township\n示例县\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="第 3 行"):
        load_registry(p)


def test_renames(tmp_path: Path) -> None:
    p = tmp_path / "renames.csv"
    p.write_text("old,new\n示例县老镇人民政府,示例县新镇\n", encoding="utf-8")
    assert load_renames(p) == {"示例县老镇": "示例县新镇"}
    assert load_renames(tmp_path / "none.csv") == {}


def test_registry_and_renames_share_header_and_blank_row_handling(tmp_path: Path) -> None:
    reg = tmp_path / "r.csv"
    reg.write_text("\ufeffcounty,agency,level\n\n , \n示例县,甲镇,\n", encoding="utf-8")
    assert load_registry(reg) == [Agency("示例县", "甲镇", "township")]  # blank rows skipped, BOM read
    ren = tmp_path / "renames.csv"
    ren.write_text("old,new\n\n,\n甲镇人民政府,乙镇\n", encoding="utf-8")
    assert load_renames(ren) == {"甲镇": "乙镇"}
    reg.write_text("county,agency\n示例县,甲镇\n", encoding="utf-8")
    with pytest.raises(RegistryError) as e:
        load_registry(reg)
    assert str(e.value) == f"{reg}：第 1 行应为表头 county,agency,level"
    ren.write_text("old,neu\n甲镇,乙镇\n", encoding="utf-8")
    with pytest.raises(RegistryError) as e:
        load_renames(ren)
    assert str(e.value) == f"{ren}：第 1 行应为表头 old,new"
    ren.write_text("", encoding="utf-8")
    with pytest.raises(RegistryError) as e:
        load_renames(ren)
    assert str(e.value) == f"{ren}：第 1 行应为表头 old,new"
