"""The synthetic generator: deterministic, consistent when clean, and its planted defects are found."""

from __future__ import annotations

import hashlib
from pathlib import Path

from nianbao.read.load import load_bytes
from nianbao.testing.synth import SynthConfig, generate, render_text, write_county_tree
from nianbao.validate.batch import validate_batch

IMPLEMENTED_FAMILIES = set("ABCDEFGHILP")


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_deterministic(tmp_path: Path) -> None:
    cfg = SynthConfig(townships=5, defect_rate=0.5, seed=3)
    write_county_tree(tmp_path / "a" / "in", cfg)
    write_county_tree(tmp_path / "b" / "in", cfg)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert (tmp_path / "a" / "registry.csv").read_text(encoding="utf-8").startswith("county,agency,level\n")


def test_clean_reports_have_no_error() -> None:
    reports, planted = generate(SynthConfig(counties=2, townships=30, defect_rate=0.0, seed=11))
    assert planted == []
    parsed = [load_bytes(d.file_name, render_text(d).encode(d.encoding)) for d in reports]
    findings = validate_batch(parsed)
    assert [f for f in findings if f.severity == "error"] == []


def test_planted_defects_are_found_with_their_cells() -> None:
    reports, planted = generate(SynthConfig(counties=2, townships=40, defect_rate=0.5, seed=5))
    parsed = [load_bytes(d.file_name, render_text(d).encode(d.encoding)) for d in reports]
    findings = validate_batch(parsed)
    by_file: dict[str, list] = {}
    for f in findings:
        by_file.setdefault(f.file, []).append(f)
    checked = 0
    for p in planted:
        if p.rules[0][0] not in IMPLEMENTED_FAMILIES:
            continue
        checked += 1
        hits = [f for f in by_file.get(p.file, []) if f.rule in p.rules]
        assert hits, (p.defect, p.file)
        for cell in p.cells:
            if not cell.endswith("*"):
                assert any(cell in f.cells for f in hits), (p.defect, cell)
    assert checked > 20
    # no error in a report without a planted defect
    dirty = {p.file for p in planted}
    assert [f.file for f in findings if f.severity == "error" and f.file not in dirty] == []


def test_synth_writes_the_answer_key_beside_the_inbox_and_run_lists_only_reports(tmp_path: Path) -> None:
    """Issue 14.10: ``synth --out DIR`` writes the inbox DIR/submissions and, beside it, registry.csv
    and ground_truth.json; ``run`` over that inbox lists the reports only (and finds the registry)."""
    import json

    from typer.testing import CliRunner

    from nianbao.cli.app import app

    runner = CliRunner()
    r = runner.invoke(app, ["synth", "--out", str(tmp_path / "s"), "--townships", "3", "--years", "2023"])
    assert r.exit_code == 0, r.output
    inbox = tmp_path / "s" / "submissions"
    inside = sorted(p.relative_to(inbox).as_posix() for p in inbox.rglob("*") if p.is_file())
    assert len(inside) == 3 and all(p.startswith("2023/") and p.endswith("_2023.txt") for p in inside), inside
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["ground_truth.json", "registry.csv", "submissions"]
    assert f"植入缺陷的真值：{tmp_path / 's' / 'ground_truth.json'}" in r.output.replace("\n", "")
    # an older sample folder with the answer key inside the inbox: still never read as a report
    (inbox / "ground_truth.json").write_text("[]", encoding="utf-8")
    r = runner.invoke(app, ["run", "--root", str(inbox), "--out", str(tmp_path / "reports"), "--no-prefect"])
    assert r.exit_code in (0, 1), r.output
    subs = json.loads((tmp_path / "reports" / "latest" / "submissions.json").read_text(encoding="utf-8"))
    assert sorted(Path(s["file"]).name for s in subs) == sorted(Path(p).name for p in inside)
    run = json.loads((tmp_path / "reports" / "latest" / "run.json").read_text(encoding="utf-8"))
    assert run["batch_checks"]["expected"] == 3  # the registry beside the inbox was read
