"""Text vs tables (rules H, J): the numbers the prose states, checked against the tables and themselves.

The package, in the order a batch goes through it:

- :mod:`.numerals` — the normalisation of prose text and the numbers it writes (digits, 十二);
- :mod:`.claims` — the claims table: each kind of statement, its patterns, rule and table cells;
- :mod:`.text` — the prose lines of every report as one frame, their distinct texts,
  sentences and clauses;
- :mod:`.extract` — the claims read out of the clauses (vectorised), and the few sentences parsed
  in Python (H19 publication sums, H20 percentages);
- :mod:`.checks` — the frames the pandera schemas of :mod:`schemas.prose` validate;
- :mod:`.findings` — failing rows (and the Python-parsed errors) to findings.

All reports are handled together and no Python runs per line: the lines become one polars frame,
each distinct (section, text) is split into sentences and clauses and matched once against every
claim pattern (one vectorised regular expression each), and what it states is joined back to
every line with that text.  Only the few sentences with a 主动公开 total and its parts (H19) or a
percentage (H20) are parsed in Python — once per distinct text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import polars as pl

from nianbao.domain.model import ParsedReport
from nianbao.domain.spec import Fmt
from nianbao.outcome import Finding
from nianbao.rules.ahead import Registered, registered
from nianbao.rules.base import failing_rows
from nianbao.rules.frames import FmtArrays
from nianbao.rules.prose.checks import claim_checks, fee_frame, paragraph_sums, table_targets
from nianbao.rules.prose.chunks import ChunkProse, ahead, analyse, joined
from nianbao.rules.prose.claims import CLAIM_RULES, CLAIMS, ClaimKind
from nianbao.rules.prose.extract import (
    extract_claims,
    line_claims,
    parse_percentages,
    parse_publication_sum,
    percent_ok,
    publication_sums,
)
from nianbao.rules.prose.findings import (
    claim_findings,
    fee_findings,
    percent_findings,
    publication_findings,
    sum_findings,
)
from nianbao.rules.prose.numerals import CN_NUMERALS, normalise_text
from nianbao.rules.prose.text import clauses, prose_lines, sentences
from schemas.prose import fee_schema, prose_schema, prose_sums_schema

# The text rules are rules of each report on its own: a large batch is read in chunks of this many
# reports (each chunk validated at once), so the frames of the whole batch's prose — lines, claims —
# never have to be held together.
PROSE_CHUNK = 10_000


def prose_findings(
    reports: Sequence[ParsedReport],
    arrays: Mapping[Fmt, FmtArrays] | Callable[[], Mapping[Fmt, FmtArrays]],
    chunk: int | None = None,
    registrations: Registered | None = None,
) -> list[Finding]:
    """Every H and J finding of the batch (``arrays``: the batch's cell arrays, for the tables'
    side of each claim — or a function giving them, called once every rule that reads only the
    texts has run: beside the other families, the arrays are built meanwhile; ``chunk``: reports
    read at a time, :data:`PROSE_CHUNK` by default; ``registrations``: what the parse workers made
    for the reports, when already looked up).

    The texts are read chunk by chunk (each chunk's distinct texts analysed once: claims, H19 and
    H20 candidates, fee statements); what is kept of a chunk is its lines as numbers only (report,
    section, line, text id) and what its texts state (:mod:`.chunks`).  The reports the parse
    workers analysed ahead are not read again (unless ``chunk`` is given): only the others' texts
    are, with the same result.  The checks then run once on
    the whole batch: one frame per schema, one validation each."""
    reg = registrations if registrations is not None else registered(reports, look=chunk is None)
    parts: list[tuple[ChunkProse, np.ndarray | None]] = []
    todo: Sequence[int] = range(len(reports))
    if chunk is None:  # the analyses the parse workers made; the other reports' texts read here
        made, missing = ahead(reg)
        if made:
            parts.extend(made)
            todo = missing
    size = max(1, chunk or PROSE_CHUNK)
    for start in range(0, len(todo), size):
        a = analyse(reports, todo[start : start + size])
        if a is not None:
            parts.append((a, None))
    got = joined(parts)
    del parts
    lines = got.lines if got is not None else _NO_LINES
    claims = line_claims(lines, got.stated) if got is not None else _NO_CLAIMS
    # the rules of the texts alone first, then the claims against the tables (in the findings'
    # order: claims, sums, publications, percentages, fee)
    sums = sum_findings(reports, failing_rows(prose_sums_schema(), paragraph_sums(claims)))
    pubs = publication_findings(reports, lines, got.pub if got is not None else {})
    pcts = percent_findings(reports, lines, got.pct if got is not None else {})
    fee_lines = lines.filter(pl.col("tid").is_in(got.fee.implode())) if got is not None else lines.clear()
    fees = fee_findings(reports, failing_rows(fee_schema(), fee_frame(reg, fee_lines)))
    checked = claim_checks(claims, table_targets(arrays() if callable(arrays) else arrays))
    del claims
    return [*claim_findings(reports, failing_rows(prose_schema(CLAIM_RULES), checked)), *sums, *pubs, *pcts, *fees]


_NO_LINES = pl.DataFrame(schema={"report": pl.UInt32, "section": pl.String, "line": pl.UInt32, "tid": pl.UInt32})
# the columns of the claims frame (line_claims): one row per number a sentence states
CLAIM_SCHEMA = {
    "report": pl.UInt32,
    "section": pl.String,
    "line": pl.UInt32,
    "sent": pl.Int64,
    "pos": pl.Int64,
    "kind": pl.String,
    "value": pl.Int64,
}
_NO_CLAIMS = pl.DataFrame(schema=CLAIM_SCHEMA)


__all__ = [
    "CLAIMS",
    "CLAIM_SCHEMA",
    "CN_NUMERALS",
    "PROSE_CHUNK",
    "ClaimKind",
    "clauses",
    "extract_claims",
    "normalise_text",
    "parse_percentages",
    "parse_publication_sum",
    "percent_ok",
    "prose_findings",
    "prose_lines",
    "publication_sums",
    "sentences",
]
