"""A validation does not import Hypothesis (nor what it pulls in: trio, pytest) through pandera's
data-synthesis registry (nianbao.rules.base): nianbao never synthesises data with pandera."""

from __future__ import annotations

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
