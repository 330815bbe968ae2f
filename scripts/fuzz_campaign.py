#!/usr/bin/env python3
"""Long fuzz campaign over the whole run (parse, validate, every output view), outside CI.

    .venv/bin/python scripts/fuzz_campaign.py --inputs 10000 [--batch 500] [--seed 1] [--out DIR]

Mutates valid reports (the seed and synthetic ones: byte flips, truncation, deleted / duplicated /
shuffled lines, random Unicode, swapped encodings, garbage cells, hostile agency names), writes each
batch as files, runs `validate_paths` + every registered output view on it, and checks:
no exception escapes, every file is listed once in submissions.json, every finding names valid cell
ids, the HTML pages (when the HTML view is installed) parse and contain no injected <script>.
Crashing inputs are saved under OUT/crashes/. The last stdout line is a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nianbao.domain.spec import is_valid_cell_id  # noqa: E402
from nianbao.report.writer import write_all  # noqa: E402
from nianbao.run.steps import validate_paths  # noqa: E402
from nianbao.testing.synth import SynthConfig, encode, generate, render_text  # noqa: E402
from tests.mutators import mutate  # noqa: E402

HOSTILE_NAMES = ("<script>alert(1)</script>镇", "../../etc/passwd镇", '=HYPERLINK("x")镇', "镇\x00罗", "a" * 300)


def bases(seed: int) -> list[bytes]:
    out = [(ROOT / "data" / "seed" / "沙坡头区镇罗镇_2023.txt").read_bytes()]
    reports, _ = generate(SynthConfig(townships=20, years=(2023,), defect_rate=0.3, seed=seed))
    out += [encode(d, render_text(d)) for d in reports]
    return out


def check_html(out: Path) -> list[str]:
    problems: list[str] = []
    pages = [p for p in out.rglob("*.html") if "gx" not in p.parts]
    if not pages:
        return problems
    from lxml import etree, html

    for p in pages:
        text = p.read_text(encoding="utf-8")
        try:
            doc = html.document_fromstring(text)
        except (etree.ParserError, ValueError) as e:
            problems.append(f"{p.name}: not parseable: {e}")
            continue
        for s in doc.iter("script"):
            if "alert(1)" in (s.text or ""):
                problems.append(f"{p.name}: injected script")
    return problems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    out_root = args.out or Path(tempfile.mkdtemp(prefix="nianbao-fuzz-"))
    out_root.mkdir(parents=True, exist_ok=True)
    crashes_dir = out_root / "crashes"
    base = bases(args.seed)
    stats = {"inputs": 0, "batches": 0, "crashes": 0, "unaccounted": 0, "bad_cell_ids": 0, "html_problems": 0}
    by_status: dict[str, int] = {}
    t0 = time.perf_counter()
    done = 0
    while done < args.inputs:
        n = min(args.batch, args.inputs - done)
        work = Path(tempfile.mkdtemp(prefix="batch-", dir=out_root))
        inbox = work / "in"
        inbox.mkdir()
        for i in range(n):
            data, _ = mutate(rng.choice(base), rng, rng.randint(1, 4))
            if rng.random() < 0.05:
                name = rng.choice(HOSTILE_NAMES)
                data = data.replace("沙坡头区镇罗镇".encode(), name.encode("utf-8", errors="replace"))
            (inbox / f"in{i:05d}.txt").write_bytes(data)
        try:
            outcome = validate_paths([inbox], workers=1)
            write_all(outcome, work / "out")
            subs = json.loads((work / "out" / "submissions.json").read_text(encoding="utf-8"))
            listed = {s["file"] for s in subs}
            stats["unaccounted"] += sum(1 for p in inbox.iterdir() if str(p) not in listed)
            for s in subs:
                by_status[s["status"]] = by_status.get(s["status"], 0) + 1
            for f in outcome.findings:
                stats["bad_cell_ids"] += sum(1 for c in f.cells if not is_valid_cell_id(c))
            probs = check_html(work / "out")
            stats["html_problems"] += len(probs)
            for p in probs[:5]:
                print(p, file=sys.stderr)
            shutil.rmtree(work)
        except Exception:  # a crash is what we count
            stats["crashes"] += 1
            crashes_dir.mkdir(parents=True, exist_ok=True)
            dst = crashes_dir / work.name
            shutil.move(str(inbox), dst)
            (dst / "traceback.txt").write_text(traceback.format_exc(), encoding="utf-8")
            print(f"CRASH in batch {stats['batches']}: saved {dst}", file=sys.stderr)
            shutil.rmtree(work, ignore_errors=True)
        done += n
        stats["inputs"] = done
        stats["batches"] += 1
        print(f"{done}/{args.inputs} inputs, {stats['crashes']} crashes", file=sys.stderr)
    stats["seconds"] = round(time.perf_counter() - t0, 1)
    stats["by_status"] = by_status  # type: ignore[assignment]
    if args.out is None and stats["crashes"] == 0:
        shutil.rmtree(out_root, ignore_errors=True)
    print(json.dumps(stats, ensure_ascii=False))
    sys.exit(1 if stats["crashes"] or stats["unaccounted"] or stats["bad_cell_ids"] or stats["html_problems"] else 0)


if __name__ == "__main__":
    main()
