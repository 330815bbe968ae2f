#!/usr/bin/env python3
"""Accuracy of the error localisation on synthetic reports with one planted wrong cell.

    .venv/bin/python benchmarks/localise_accuracy.py [--reports 1000] [--seed 1]
        [--kinds digit_typo,transposed,sign,blank_total]

Generates clean synthetic township reports (nianbao.testing.synth), plants ONE wrong cell of table 三 or 四
into every second report (the kind chosen at random among ``--kinds``), parses and validates them
all together (localisation included) and counts, per kind, whether the planted cell is

- ``unique``: the only suspect (and whether the suggested value is the original one),
- ``tied``: in one of several equally small alternative sets (an honest "ambiguous: X or Y"),
- ``wrong``: suspects were given, none of them the planted cell,
- ``missed``: no suspect at all (unknown);

(a blank is planted as "—" in the 总计 column: an empty tab-separated cell can make the text parser
shift the row, which is a reading problem, not a localisation one)

and how many clean reports got any suspect (false alarms).  Prints a table on stderr and one JSON
object on the last line of stdout.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = ("digit_typo", "transposed", "sign", "blank_total")


def _digit_typo(v: int, rng: random.Random) -> int:
    s = str(v)
    op = rng.choice(("change", "insert", "drop")) if len(s) > 1 else rng.choice(("change", "insert"))
    i = rng.randrange(len(s))
    if op == "change":
        choices = [c for c in "0123456789" if c != s[i] and not (i == 0 and c == "0" and len(s) > 1)]
        return int(s[:i] + rng.choice(choices) + s[i + 1 :])
    if op == "insert":
        j = rng.randrange(len(s) + 1)
        d = rng.choice("123456789" if j == 0 else "0123456789")
        return int(s[:j] + d + s[j:])
    return int(s[:i] + s[i + 1 :] or "0")


def plant(d, kind: str, rng: random.Random) -> tuple[str, int] | None:  # type: ignore[no-untyped-def]
    """Change one cell of tables 三/四 of ``d`` in place; (cell, original value), or None if no cell fits."""
    from nianbao.domain.spec import Fmt, tables

    cells = list(tables(Fmt.F2021)["3"].cells()) + list(tables(Fmt.F2021)["4"].cells())
    v = d.values
    if kind == "digit_typo":
        cands = cells
    elif kind == "transposed":
        cands = [c for c in cells if v[c] >= 10 and str(int(v[c]))[0] != str(int(v[c]))[1]]
    elif kind == "sign":
        cands = [c for c in cells if v[c] > 0]
    elif kind == "blank_total":
        cands = [c for c in cells if v[c] > 0 and c.endswith(":total")]
    else:
        raise ValueError(kind)
    if not cands:
        return None
    cell = rng.choice(cands)
    old = int(v[cell])
    if kind == "digit_typo":
        new = _digit_typo(old, rng)
        if new == old:
            return None
        v[cell] = float(new)
    elif kind == "transposed":
        s = str(old)
        v[cell] = float(int(s[1] + s[0] + s[2:]))
    elif kind == "sign":
        v[cell] = float(-old)
    else:
        # printed as a dash: an empty cell in a tab-separated row can shift the row when it is read
        # (the parser's business, not the localiser's)
        d.raw[cell] = "—"
    return cell, old


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kinds", default=",".join(KINDS))
    args = ap.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]

    from nianbao.read.load import load_bytes
    from nianbao.testing.synth import SynthConfig, generate, render_text
    from nianbao.validate.batch import validate_batch

    per_county = 50
    cfg = SynthConfig(
        counties=max(1, (args.reports + per_county - 1) // per_county),
        townships=min(per_county, args.reports),
        years=(2023,),
        defect_rate=0.0,
        seed=args.seed,
        mixed_encodings=False,
    )
    ds, _ = generate(cfg)
    ds = ds[: args.reports]
    rng = random.Random(args.seed)
    planted: dict[int, tuple[str, str, int]] = {}  # report index -> (kind, cell, original)
    for i, d in enumerate(ds):
        if i % 2:
            continue
        for _attempt in range(10):
            kind = rng.choice(kinds)
            got = plant(d, kind, rng)
            if got is not None:
                planted[i] = (kind, *got)
                break
    reports = [load_bytes(d.file_name, render_text(d).encode("utf-8")) for d in ds]
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    findings = validate_batch(reports, timings=timings)
    elapsed = time.perf_counter() - t0
    suspects: dict[int, list] = {}
    for f in findings:
        if f.suspects is not None and f.report not in suspects:
            suspects[f.report] = f.suspects
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for i, (kind, cell, original) in planted.items():
        ss = suspects.get(i) or []
        alts: dict[int, list] = defaultdict(list)
        for s in ss:
            alts[s.alternative].append(s)
        if not ss:
            outcome = "missed"
        elif len(alts) == 1 and [s.cell for s in alts[0]] == [cell]:
            outcome = "unique"
            counts[kind]["unique_right_value"] += alts[0][0].suggested == original
        elif any(any(s.cell == cell for s in a) for a in alts.values()):
            outcome = "tied"
            # a single wrong cell of table 四 is as well explained by its group's other cells
            counts[kind]["tied_in_table_4"] += cell.startswith("4:")
        else:
            outcome = "wrong"
        counts[kind][outcome] += 1
        counts[kind]["planted"] += 1
    false_alarms = sum(1 for i in range(len(reports)) if i not in planted and suspects.get(i))
    total: Counter[str] = Counter()
    for c in counts.values():
        total.update(c)
    print(
        f"{'kind':<12} {'planted':>7} {'unique':>7} {'(value ok)':>10} {'tied':>6} {'wrong':>6} {'missed':>6}",
        file=sys.stderr,
    )
    for kind, c in [*sorted(counts.items()), ("all", total)]:
        print(
            f"{kind:<12} {c['planted']:>7} {c['unique']:>7} {c['unique_right_value']:>10} {c['tied']:>6} "
            f"{c['wrong']:>6} {c['missed']:>6}",
            file=sys.stderr,
        )
    print(
        f"tied cells of table 四: {total['tied_in_table_4']} of {total['tied']}; "
        f"clean reports with suspects: {false_alarms}; validate+localise {elapsed:.2f} s",
        file=sys.stderr,
    )
    print(
        json.dumps(
            {
                "reports": len(reports),
                "planted": len(planted),
                "by_kind": {k: dict(c) for k, c in sorted(counts.items())},
                "all": dict(total),
                "clean_with_suspects": false_alarms,
                "validate_s": round(elapsed, 3),
                "localise_s": round(timings.get("localise", 0.0), 3),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
