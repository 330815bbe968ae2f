"""A validation does not import Hypothesis (nor what it pulls in: trio, pytest) through pandera's
data-synthesis registry (nianbao.rules.base): nianbao never synthesises data with pandera; nor
pandas through pandera's pandas API (schemas._pandera): every schema is a polars schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import sys
from pathlib import Path
from nianbao.read.load import load_file
from nianbao.validate.batch import validate_batch
seed = sorted(p for p in Path("data/seed").iterdir() if p.is_file())[0]
findings = validate_batch([load_file(seed, seed.name)])
print(len(findings) > 0, sorted(m for m in ("hypothesis", "trio", "pytest") if m in sys.modules))
import hypothesis  # still importable for whoever wants it
print(hypothesis.__name__)
"""


def test_validation_without_hypothesis_imports() -> None:
    p = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, check=True)
    assert p.stdout.split("\n")[:2] == ["True []", "hypothesis"]


_FINDINGS_OF_THE_INBOX = """
import json, sys
from pathlib import Path
if sys.argv[1] == "pandas-first":
    import pandas  # noqa: F401  (pandera then loads its pandas API too)
from nianbao.read.load import load_bytes
from nianbao.validate.batch import validate_batch
files = sorted(p for p in Path("data/submissions").rglob("*") if p.is_file())
reports = [load_bytes(str(p), p.read_bytes()) for p in files]
found = [[f.rule, f.file, f.cells, str(f.expected), str(f.actual), f.message] for f in validate_batch(reports)]
print(json.dumps({"pandas": "pandas" in sys.modules, "pandera": "pandera" in sys.modules, "findings": found}))
"""


def test_pandera_loads_without_pandas_and_validates_as_with_it() -> None:
    """A run loads pandera as a polars-only install (schemas._pandera): pandas is not imported by
    the validation, and the bundled inbox's findings are those of pandera loaded with pandas."""

    def run(mode: str) -> dict[str, object]:
        p = subprocess.run(
            [sys.executable, "-c", _FINDINGS_OF_THE_INBOX, mode], cwd=ROOT, capture_output=True, text=True, check=True
        )
        assert p.stderr == ""
        got: dict[str, object] = json.loads(p.stdout)
        return got

    alone, with_pandas = run("alone"), run("pandas-first")
    assert (alone["pandas"], alone["pandera"]) == (False, True)
    assert with_pandas["pandas"] is True
    assert alone["findings"] == with_pandas["findings"]
    assert len(alone["findings"]) == 63  # type: ignore[arg-type]
