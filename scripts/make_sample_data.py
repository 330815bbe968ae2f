#!/usr/bin/env python3
"""Regenerate the bundled sample data under data/ (deterministic: same output every time).

    python scripts/make_sample_data.py

- data/seed/                      the real seed report (copied in once; never regenerated)
- data/submissions/<year>/<county>/<agency>_<year>.txt
                                  a synthetic county of 12 townships for 2022 and 2023, with a few
                                  planted defects, plus the seed filed under its own county
- data/registry.csv               the agencies each county is expected to submit
- data/ground_truth.json          the planted defects (file, defect, rules, cells)
- data/renames.csv                an example rename table (old,new): an agency renamed since its
                                  earlier reports keeps its history across years
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from nianbao.testing.synth import SynthConfig, write_county_tree

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SEED = DATA / "seed" / "沙坡头区镇罗镇_2023.txt"

# A small set of defects, chosen so the sample shows each family an auditor meets.
PLAN = (
    (0, 2023, "digit_typo"),
    (1, 2023, "b_only"),
    (2, 2023, "total_blank"),
    (3, 2023, "t4_total"),
    (4, 2023, "carry_over"),
    (5, 2023, "prose_received"),
    (6, 2023, "period_year"),
    (7, 2023, "non_numeric"),
    (8, 2023, "missing_row"),
    (9, 2022, "negative"),
    (9, 2023, "copy_last_year"),
    (11, 2023, "stock_break"),
)
SAMPLE = SynthConfig(counties=1, townships=12, years=(2022, 2023), seed=7, plan=PLAN)


def main() -> None:
    sub = DATA / "submissions"
    if sub.exists():
        shutil.rmtree(sub)
    write_county_tree(sub, SAMPLE, beside=DATA)  # registry.csv, ground_truth.json beside the inbox
    # the seed, filed under its own county
    seed_dst = sub / "2023" / "沙坡头区" / SEED.name
    seed_dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SEED, seed_dst)
    with (DATA / "registry.csv").open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow(["沙坡头区", "沙坡头区镇罗镇", "township"])
    # an example rename table (撤乡设镇): matches no report of the sample, shows the format
    (DATA / "renames.csv").write_text("old,new\n示例县通昌乡,示例县通昌镇\n", encoding="utf-8")
    gt = json.loads((DATA / "ground_truth.json").read_text(encoding="utf-8"))
    print(f"wrote {sum(1 for _ in sub.rglob('*.txt'))} reports, {len(gt)} planted defects")
    for g in gt:
        print(f"  {g['path']}: {g['defect']} {g['rules']} {g['cells'][:3]}")


if __name__ == "__main__":
    main()
