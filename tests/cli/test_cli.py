"""The ``nianbao validate`` command end to end: exit codes, JSON contract, unreadable files."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nianbao.cli.app import app
from tests.helpers import SEED, seed_text, set_cells

runner = CliRunner()

SUBMISSION_KEYS = {"file", "sha256", "status", "reason", "agency", "year", "format", "errors", "warnings"}
FINDING_KEYS = {"file", "agency", "year", "rule", "severity", "cells", "expected", "actual", "message"}


def run(*args: str) -> tuple[int, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.output


def load(out: Path) -> tuple[list[dict], list[dict]]:
    subs = json.loads((out / "submissions.json").read_text(encoding="utf-8"))
    finds = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    return subs, finds


def test_seed_validates_clean(tmp_path: Path) -> None:
    code, output = run("validate", str(SEED.parent), "--out", str(tmp_path))
    assert code == 0, output
    subs, finds = load(tmp_path)
    assert len(subs) == 1 and subs[0].keys() >= SUBMISSION_KEYS
    assert subs[0]["status"] == "validated" and subs[0]["errors"] == 0
    assert (subs[0]["agency"], subs[0]["year"], subs[0]["format"]) == ("沙坡头区镇罗镇", 2023, "2021")
    assert [f for f in finds if f["severity"] == "error"] == []
    assert all(f.keys() >= FINDING_KEYS for f in finds)
    assert "校验完成" in output


@pytest.mark.parametrize(
    ("cell", "raw", "rule"),
    [
        ("3:3.3.4:natural", "1", "A01"),
        ("3:3.7:commercial", "2", "A01"),
        ("3:1:total", "5", "A01"),
        ("3:4:legal", "3", "C01"),
    ],
)
def test_one_changed_cell_is_found(tmp_path: Path, cell: str, raw: str, rule: str) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "r.txt").write_text(set_cells(seed_text(), {cell: raw}), encoding="utf-8")
    code, _ = run("validate", str(tmp_path / "in"), "--out", str(tmp_path / "out"))
    assert code == 1
    _, finds = load(tmp_path / "out")
    hits = [f for f in finds if f["rule"] == rule]
    assert hits and any(cell in f["cells"] for f in hits)


def test_every_table3_cell_change_is_caught() -> None:
    """Changing any one of the 175 cells of table 三 is reported with that cell among the cells."""
    from nianbao.domain.spec import Fmt, tables
    from tests.helpers import validate_texts

    texts = {cid: set_cells(seed_text(), {cid: "7"}) for cid in tables(Fmt.F2021)["3"].cells()}
    findings = validate_texts(texts)
    by_file: dict[str, set[str]] = {}
    for f in findings:
        if f.severity == "error":
            by_file.setdefault(f.file, set()).update(f.cells)
    for cid in texts:
        assert cid in by_file.get(cid, set()), cid


def test_unreadable_files_do_not_stop_the_run(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SEED, src / "seed.txt")
    (src / "empty.txt").write_bytes(b"")
    (src / "garbage.bin").write_bytes(os.urandom(3000))
    (src / "minutes.txt").write_text("会议纪要\n今天开会。\n", encoding="utf-8")
    code, output = run("validate", str(src), "--out", str(tmp_path / "out"))
    assert code == 1
    subs, _ = load(tmp_path / "out")
    status = {Path(s["file"]).name: (s["status"], s["reason"]) for s in subs}
    assert set(status) == {"seed.txt", "empty.txt", "garbage.bin", "minutes.txt"}
    assert status["seed.txt"] == ("validated", None)
    for name in ("empty.txt", "garbage.bin", "minutes.txt"):
        assert status[name][0] == "unreadable" and status[name][1]
    assert "无法读取 3 个" in output


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    assert run("validate", str(tmp_path / "nope"), "--out", str(tmp_path / "o"))[0] == 2
    assert run("validate")[0] == 2
    assert run("validate", str(SEED), "--bogus")[0] == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output_exit_2(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    assert run("validate", str(SEED), "--out", str(ro / "x"))[0] == 2


def test_output_is_a_file_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    code, output = run("validate", str(SEED), "--out", str(f / "sub"))
    assert code == 2 and "不可写" in output


def test_rule_reference_is_up_to_date() -> None:
    """docs/rules.md is generated from the catalogue; regenerate with `nianbao rules --out docs/rules.md`."""
    from nianbao.report.rulesdoc import rules_markdown
    from tests.helpers import ROOT

    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == rules_markdown() + "\n"


def test_every_file_accounted_for(tmp_path: Path) -> None:
    """Duplicates, symlinks, other file types: each listed once with a status; count in == count out."""
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    shutil.copy(SEED, src / "a.txt")
    shutil.copy(SEED, src / "sub" / "a-copy.txt")
    (src / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(500))
    (src / "link.txt").symlink_to(src / "a.txt")
    (src / "dirlink").symlink_to(src / "sub")
    code, output = run("validate", str(src), "--out", str(tmp_path / "out"))
    subs, _ = load(tmp_path / "out")
    names = sorted(Path(s["file"]).name for s in subs)
    assert names == ["a-copy.txt", "a.txt", "dirlink", "link.txt", "photo.jpg"]
    by = {Path(s["file"]).name: s for s in subs}
    assert by["a-copy.txt"]["status"] == "validated"
    assert by["a-copy.txt"]["duplicate_of"] == str(src / "a.txt")
    assert by["a.txt"]["duplicate_of"] is None
    for name in ("link.txt", "dirlink"):
        assert by[name]["status"] == "unreadable" and "符号链接" in by[name]["reason"]
    assert by["photo.jpg"]["status"] == "unreadable" and by["photo.jpg"]["reason"]
    assert "共发现 5 个文件，输出 5 条文件记录" in output
    assert "1 个与其他文件内容完全相同" in output
    assert code == 1
