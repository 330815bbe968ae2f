"""Mutations of valid reports for fuzzing (used by tests/test_fuzz.py and scripts/fuzz_campaign.py)."""

from __future__ import annotations

import random

ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "big5", "latin-1", "shift_jis")


def byte_flips(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        if b:
            b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _lines(data: bytes, rng: random.Random, op: str) -> bytes:
    lines = data.split(b"\n")
    if not lines:
        return data
    if op == "delete":
        for _ in range(rng.randint(1, 10)):
            if lines:
                del lines[rng.randrange(len(lines))]
    elif op == "duplicate":
        for _ in range(rng.randint(1, 10)):
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
    elif len(lines) >= 2:
        k = rng.randint(2, min(30, len(lines)))
        i = rng.randrange(len(lines) - k + 1)
        part = lines[i : i + k]
        rng.shuffle(part)
        lines[i : i + k] = part
    return b"\n".join(lines)


def random_unicode(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", errors="replace")
    chars = list(text)
    for _ in range(rng.randint(1, 30)):
        cp = rng.choice((rng.randrange(0x20, 0x7F), rng.randrange(0x4E00, 0x9FFF), rng.randrange(0, 0x110000)))
        if 0xD800 <= cp <= 0xDFFF:
            cp = 0xFFFD
        pos = rng.randrange(len(chars) + 1)
        chars.insert(pos, chr(cp))
    return "".join(chars).encode("utf-8", errors="surrogatepass")


def swap_encoding(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", errors="replace")
    enc = rng.choice(ENCODINGS)
    return text.encode(enc, errors="replace")


def cell_garbage(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", errors="replace")
    parts = text.split("\t")
    for _ in range(rng.randint(1, 15)):
        i = rng.randrange(len(parts))
        parts[i] = rng.choice(
            ("", "—", "-1", "1.5", "9" * rng.randint(13, 300), "若干", "=1+1", "<b>x</b>", "1,2,3", "\x00", "\t\t\t")
        )
    return "\t".join(parts).encode("utf-8")


MUTATORS = {
    "byte_flips": byte_flips,
    "truncate": truncate,
    "delete_lines": lambda d, r: _lines(d, r, "delete"),
    "duplicate_lines": lambda d, r: _lines(d, r, "duplicate"),
    "shuffle_lines": lambda d, r: _lines(d, r, "shuffle"),
    "random_unicode": random_unicode,
    "swap_encoding": swap_encoding,
    "cell_garbage": cell_garbage,
}


def mutate(data: bytes, rng: random.Random, rounds: int = 1) -> tuple[bytes, list[str]]:
    applied = []
    for _ in range(rounds):
        name = rng.choice(sorted(MUTATORS))
        data = MUTATORS[name](data, rng)
        applied.append(name)
    return data, applied


def garble_digits(data: bytes, rng: random.Random, most: int = 15) -> bytes:
    """Replace 1..``most`` digits of the table rows (tab-separated lines) by random digits: a bad
    export or a careless re-keying, the damage that breaks several sum rules at once."""
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    spots = [
        (i, j) for i, ln in enumerate(lines) if "\t" in ln for j, ch in enumerate(ln) if ch.isascii() and ch.isdigit()
    ]
    if not spots:
        return data
    k = min(len(spots), rng.choice((1, 1, 2, 2, 3, 4, 5, 6, 8, 10, most)))
    for i, j in rng.sample(spots, k):
        ln = lines[i]
        lines[i] = ln[:j] + rng.choice("0123456789") + ln[j + 1 :]
    return "\n".join(lines).encode("utf-8")
