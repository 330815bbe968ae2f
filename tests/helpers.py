"""Shared test helpers: the seed, cell-level edits of a report text, batch validation of texts."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

from nianbao.domain.model import ParsedReport
from nianbao.outcome import Finding
from nianbao.read.load import load_bytes
from nianbao.validate.batch import validate_batch

ROOT = Path(__file__).resolve().parent.parent


def copy_sample_inbox(base: Path) -> Path:
    """A copy of the bundled inbox at ``base/data/submissions`` (without a demo run's local state),
    its registry beside it as ``data/registry.csv`` is; returns the inbox."""
    root = base / "data" / "submissions"
    shutil.copytree(ROOT / "data" / "submissions", root, ignore=shutil.ignore_patterns(".nianbao"))
    shutil.copy(ROOT / "data" / "registry.csv", base / "data" / "registry.csv")
    return root


SEED = ROOT / "data" / "seed" / "沙坡头区镇罗镇_2023.txt"


@cache
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def parse(text: str, name: str = "test.txt", encoding: str = "utf-8") -> ParsedReport:
    return load_bytes(name, text.encode(encoding))


@cache
def _positions(text: str) -> dict[str, tuple[int, int]]:
    rep = parse(text)
    return {cid: (c.line, c.col) for cid, c in rep.cells.items() if c.line and c.col}


def set_cells(text: str, edits: dict[str, str]) -> str:
    """Replace the printed text of the given cells (by canonical id) in a report text."""
    pos = _positions(text)
    lines = text.split("\n")
    for cid, raw in edits.items():
        line, col = pos[cid]
        cells = lines[line - 1].split("\t")
        cells[col - 1] = raw
        lines[line - 1] = "\t".join(cells)
    return "\n".join(lines)


def validate_texts(texts: dict[str, str]) -> list[Finding]:
    reports = [parse(t, name) for name, t in texts.items()]
    return validate_batch(reports)


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def busy_seed() -> str:
    """The seed with non-trivial, consistent figures in every table (every sum rule holds)."""
    e: dict[str, str] = {}
    # table 三, column natural: 1 + 2 = 3.7 + 4  ->  10 + 2 = 11 + 1;  3.7 = 6 + 2 + 1 + 2
    nat = {"1": 10, "2": 2, "3.1": 6, "3.2": 2, "3.4.1": 1, "3.5.2": 2, "3.7": 11, "4": 1}
    com = {"1": 3, "3.1": 2, "3.3.4": 1, "3.7": 3}
    for row, v in nat.items():
        e[f"3:{row}:natural"] = str(v)
    for row, v in com.items():
        e[f"3:{row}:commercial"] = str(v)
    totals = {r: nat.get(r, 0) + com.get(r, 0) for r in set(nat) | set(com)}
    for row, v in totals.items():
        e[f"3:{row}:total"] = str(v)
    e |= {"4:review:upheld": "2", "4:review:pending": "1", "4:review:total": "3"}
    e |= {"4:suit_direct:corrected": "1", "4:suit_direct:total": "1"}
    e |= {"2:normative:issued": "3", "2:normative:repealed": "1", "2:normative:in_force": "12"}
    e |= {"2:fees:amount": "24252.311082"}
    text = set_cells(seed_text(), e)
    return text.replace(
        "2023 年未收到政府信息依申请公开件。", "2023 年共收到政府信息公开申请 13 件，上年结转 2 件，办结 14 件。"
    )


SCRIPT_AGENCY = "<script>alert(1)</script>"
TRAVERSAL_AGENCY = "../../etc/x"
FORMULA_AGENCY = '=HYPERLINK("http://example.invalid","x")'


def write_hostile_reports(folder: Path) -> dict[str, Path]:
    """Three reports whose titles carry hostile agency names (HTML injection, path traversal, an
    Excel formula), each with a planted finding, written into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "script.txt": set_cells(seed_text(), {"3:3.3.4:natural": "1"}).replace("沙坡头区镇罗镇", SCRIPT_AGENCY, 1),
        "traversal.txt": set_cells(seed_text(), {"3:4:legal": "3"}).replace("沙坡头区镇罗镇", TRAVERSAL_AGENCY, 1),
        "formula.txt": set_cells(seed_text(), {"3:3.1:natural": "=1+2"}).replace("沙坡头区镇罗镇", FORMULA_AGENCY, 1),
    }
    out = {}
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
        out[name] = folder / name
    return out
