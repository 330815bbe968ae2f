"""Hostile and broken inputs (issue 8, point 2): each gets an exact status and Chinese reason (a
U-rule of the catalogue) or an exact finding, within its limits, and the run goes on.

The inputs are generated here: zip bombs, XML bombs, packages of thousands of members, a 10 MB
line, a 5,000-column table, hundreds of digits, deep nesting, binary garbage, NUL bytes, invalid
UTF-8 anywhere, scanned PDFs, old Office files, images, time-outs and a crashing worker.
"""

from __future__ import annotations

import io
import random
import struct
import sys
import time
import zipfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from nianbao.domain.model import ParsedReport
from nianbao.io import guard
from nianbao.io.limits import Limits
from nianbao.read.load import load_bytes, load_file
from nianbao.testing.render import content_from_report, document_from_content, render
from nianbao.validate.batch import validate_batch
from tests import rule_registry
from tests.helpers import parse, seed_text, set_cells

rule_registry.COVERED.update({f"U0{i}" for i in range(1, 10)})

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
    )
    + b']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
    b"<w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
)


@cache
def seed_as(fmt: str) -> bytes:
    return render(document_from_content(content_from_report(parse(seed_text()))), fmt)


def rezip(data: bytes, replace: dict[str, bytes] | None = None, add: int = 0, big: int = 0) -> bytes:
    """The package with members replaced, ``add`` tiny members added, or a ``big``-MB member of zeros."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, (replace or {}).get(info.filename, src.read(info.filename)))
        for i in range(add):
            z.writestr(f"word/media/pad{i}.txt", b"x")
        if big:
            with z.open("word/media/image1.bin", "w", force_zip64=True) as fh:
                chunk = bytes(1 << 20)
                for _ in range(big):
                    fh.write(chunk)
    return out.getvalue()


def lying_size(data: bytes, member: str) -> bytes:
    """The package with the central directory claiming a tiny size for ``member``."""
    buf = bytearray(data)
    name = member.encode()
    pos = buf.find(b"PK\x01\x02" + b"", 0)
    while pos != -1:
        n = struct.unpack_from("<H", buf, pos + 28)[0]
        if bytes(buf[pos + 46 : pos + 46 + n]) == name:
            struct.pack_into("<I", buf, pos + 24, 100)  # uncompressed size
            return bytes(buf)
        pos = buf.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(member)


def html_table(rows: int, cols: int, attrs: str = "") -> bytes:
    cells = "".join(f"<td{attrs}>{j}</td>" for j in range(cols))
    return (
        f"<html><body><h1>某镇2023年政府信息公开工作年度报告</h1><table>{('<tr>' + cells + '</tr>') * rows}</table>"
    ).encode()


def xlsx_wide(cols: int) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Sheet1")
    ws.write_string(0, 0, "某镇2023年政府信息公开工作年度报告")
    for j in range(cols):
        ws.write_number(1, j, j)
    wb.close()
    return buf.getvalue()


def image_pdf() -> bytes:
    from fpdf import FPDF
    from PIL import Image

    img = Image.new("RGB", (400, 300), "white")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(img, x=10, y=10, w=180)
    return bytes(pdf.output())


def encrypted_pdf() -> bytes:
    from fpdf import FPDF
    from fpdf.enums import EncryptionMethod

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "2023 report")
    pdf.set_encryption(owner_password="owner", user_password="secret", encryption_method=EncryptionMethod.RC4)
    return bytes(pdf.output())


def png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buf, "PNG")
    return buf.getvalue()


def ole2(stream: str) -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + stream.encode("utf-16-le") + bytes(2000)


SEED = seed_text().encode("utf-8")

# name, bytes, status, U-code (None: validated), the exact reason (None: validated)
CASES: list[tuple[str, Callable[[], bytes], str | None, str | None]] = [
    ("empty.txt", lambda: b"", "U01", "无法读取文件：文件为空。"),
    (
        "truncated.docx",
        lambda: seed_as("docx")[:4000],
        "U01",
        "无法读取文件：Word 文件已损坏（压缩包结构不完整，无法打开）。",
    ),
    (
        "lying-size.docx",
        lambda: lying_size(seed_as("docx"), "word/document.xml"),
        "U01",
        "无法读取文件：Word 文件已损坏（其中的 word/document.xml 无法解压）。",
    ),
    # issue 14.5: a .docx/.xlsx that is no package at all, or a broken one: damaged, not an encoding problem
    (
        "not-a-package.docx",
        lambda: bytes(range(256)) * 10,
        "U01",
        "无法读取文件：Word 文件已损坏（内容不是有效的 Word 文件格式）。",
    ),
    (
        "broken-package.xlsx",
        lambda: b"PK\x03\x04" + bytes(50) + b"garbage" * 100,
        "U01",
        "无法读取文件：Excel 文件已损坏（压缩包结构不完整，无法打开）。",
    ),
    (
        "zip-bomb.docx",
        lambda: rezip(seed_as("docx"), big=210),
        "U05",
        None,  # exact reason in test_zip_bomb_reason
    ),
    (
        "many-members.docx",
        lambda: rezip(seed_as("docx"), add=2100),
        "U05",
        None,  # "Word 文件包含 N 个成员，超过上限 2000 个" (N depends on python-docx's package)
    ),
    (
        "billion-laughs.docx",
        lambda: rezip(seed_as("docx"), {"word/document.xml": LAUGHS}),
        "U05",
        "Word 文件的 word/document.xml 含有 XML 文档类型或实体声明（疑似 XML 炸弹），为安全起见未解析。",
    ),
    (
        "external-entity.xlsx",
        lambda: rezip(
            seed_as("xlsx"),
            {
                "xl/sharedStrings.xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&e;</t></si></sst>'
            },
        ),
        "U05",
        "Excel 文件的 xl/sharedStrings.xml 含有 XML 文档类型或实体声明（疑似 XML 炸弹），为安全起见未解析。",
    ),
    (
        "one-line.txt",
        lambda: b"x" * (10 * 1024 * 1024),
        "U05",
        "第 1 行长达 10485760 个字符，超过上限 200000 个，为安全起见未解析。",
    ),
    (
        "wide.txt",
        lambda: SEED + b"\n" + b"\t".join(b"0" for _ in range(5000)),
        "U05",
        f"第 {seed_text().count(chr(10)) + 2} 行有 5000 个单元格，超过上限 300 个，为安全起见未解析。",
    ),
    (
        "wide.html",
        lambda: html_table(2, 5000),
        "U05",
        "表格1 第1行有 5000 个单元格，超过上限 300 个，为安全起见未解析。",
    ),
    (
        "colspan-bomb.html",
        lambda: html_table(1, 2, ' colspan="1000" rowspan="65534"'),
        "U05",
        "表格1 第1行有 1000 个单元格，超过上限 300 个，为安全起见未解析。",
    ),
    (
        "rowspan-bomb.html",
        lambda: html_table(2000, 1, ' colspan="200"'),
        "U05",
        "表格1展开合并单元格后超过 200000 个单元格，为安全起见未解析。",
    ),
    (
        "wide.xlsx",
        lambda: xlsx_wide(5000),
        "U05",
        "工作表“Sheet1”第 2 行有 5000 个单元格，超过上限 300 个，为安全起见未解析。",
    ),
    (
        "many-lines.txt",
        lambda: SEED + b"\n" + b"0\n" * 300_000,
        "U05",
        f"文件有 {seed_text().count(chr(10)) + 1 + 300_000} 行（段落和表格行），超过上限 200000 行，为安全起见未解析。",
    ),
    (
        "deep.html",
        lambda: b"<html><body>" + b"<div>" * 100_000 + b"<p>x</p>" + b"</div>" * 100_000 + b"</body></html>",
        "U05",
        "网页元素嵌套超过 2000 层，为安全起见未解析。",
    ),
    (
        "gigantic.html",
        lambda: b"<html><body>" + "<p>段落文字</p>".encode() * 800_000 + b"</body></html>",
        "U05",
        "文件有 200001 行（段落和表格行），超过上限 200000 行，为安全起见未解析。",
    ),
    (
        "garbage.bin",
        lambda: random.Random(7).randbytes(20_000),
        "U07",
        None,  # "无法识别文件编码：…" (where UTF-8 decoding fails depends on the bytes)
    ),
    (
        "controls.txt",
        lambda: bytes(range(1, 9)) * 3000,
        "U07",
        "无法识别文件编码：文件是二进制数据（24000 个字符中有 24000 个控制字符），不是文本，也不是可识别的文档格式。",
    ),
    (
        "scan.pdf",
        image_pdf,
        "U04",
        "PDF 文件共 1 页、1 张图片，没有可提取的文字（可能是扫描件或图片），请提交 .docx 或文字版 PDF。",
    ),
    (
        "locked.pdf",
        encrypted_pdf,
        "U04",
        "PDF 文件已加密（需要密码才能打开），无法提取其中的文字，请提交 .docx 或文字版 PDF。",
    ),
    ("broken.pdf", lambda: b"%PDF-1.4\n" + b"garbage " * 50, "U01", None),
    (
        "report.doc",
        lambda: ole2("WordDocument"),
        "U03",
        "文件是旧版 Word 文档（.doc/.wps 二进制格式），无法识读其中的报告文字，"
        "请另存为 .docx 或导出为文字版 PDF 后重新提交。",
    ),
    (
        "table.xls",
        lambda: ole2("Workbook"),
        "U03",
        "文件是旧版 Excel 工作簿（.xls/.et 二进制格式），无法识读其中的报告文字，请另存为 .xlsx 后重新提交。",
    ),
    (
        "photo.txt",
        png,
        "U03",
        "文件是 PNG 图片，无法识读其中的报告文字，请另存为 .docx 或导出为文字版 PDF 后重新提交。",
    ),
    (
        "bundle.zip",
        lambda: _zip({"a.txt": b"x"}),
        "U03",
        "文件是压缩包（或已损坏的 Office 文档），无法识读其中的报告文字，"
        "请解压后分别提交其中的报告文件（.docx、.xlsx、文字版 PDF、.html 或 .txt）。",
    ),
    (
        "minutes.txt",
        lambda: "会议纪要\n今天开会。\n".encode(),
        "U08",
        "文件中没有找到年度报告的标题、章节或统计表，不是政府信息公开工作年度报告。",
    ),
]


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for k, v in members.items():
            z.writestr(k, v)
    return out.getvalue()


@pytest.mark.parametrize(("name", "make", "code", "reason"), CASES, ids=[c[0] for c in CASES])
def test_hostile_input_is_unreadable_with_its_reason(
    name: str, make: Callable[[], bytes], code: str, reason: str | None
) -> None:
    data = make()
    t = time.perf_counter()
    rep = load_bytes(name, data)
    elapsed = time.perf_counter() - t
    assert (rep.status, rep.reason_code) == ("unreadable", code), rep.reason
    if reason is not None:
        assert rep.reason == reason
    assert rep.reason and rep.sha256 and rep.size == len(data)
    assert elapsed < 20, f"{name} took {elapsed:.1f} s"


def test_zip_bomb_reason() -> None:
    data = rezip(seed_as("docx"), big=210)
    declared = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert len(data) < 2 * 1024 * 1024 < 210 * 1024 * 1024 < declared
    rep = load_bytes("bomb.docx", data)
    assert rep.reason == (
        f"Word 文件解压后共 {declared / 1024 / 1024:.0f} MB，超过上限 200 MB（疑似压缩炸弹），为安全起见未解析。"
    )


def test_many_members_reason() -> None:
    rep = load_bytes("m.docx", rezip(seed_as("docx"), add=2100))
    n = len(zipfile.ZipFile(io.BytesIO(seed_as("docx"))).infolist()) + 2100
    assert rep.reason == f"Word 文件包含 {n} 个成员，超过上限 2000 个，为安全起见未解析。"


def test_garbage_reason_names_the_encoding() -> None:
    rep = load_bytes("g.bin", random.Random(7).randbytes(20_000))
    assert rep.reason is not None and rep.reason.startswith("无法识别文件编码：")


def test_limits_are_configurable() -> None:
    small = Limits(max_unzipped_mb=1, max_cells_per_row=10, max_line_chars=100)
    assert load_bytes("z.docx", rezip(seed_as("docx"), big=2), small).reason_code == "U05"
    assert load_bytes("w.txt", b"\t".join([b"1"] * 11), small).reason == (
        "第 1 行有 11 个单元格，超过上限 10 个，为安全起见未解析。"
    )
    assert Limits.from_env({"NIANBAO_MAX_FILE_MB": "2.5", "NIANBAO_PARSE_TIMEOUT": "x"}) == Limits(max_file_mb=2.5)


def test_size_limit_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "big.txt"
    p.write_bytes(SEED + b" " * 30_000)
    monkeypatch.setenv("NIANBAO_MAX_FILE_MB", "0.02")
    rep = load_file(p)
    assert (rep.status, rep.reason_code, rep.size) == ("unreadable", "U02", p.stat().st_size)
    assert rep.reason == f"文件大小 {p.stat().st_size / 1024 / 1024:.3f} MB，超过上限 0.02 MB，未解析。"
    assert load_bytes("s.txt", SEED).reason_code is None  # the seed is well under any sane limit


def test_cli_limit_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    # the CLI passes its limits to the loaders (and their worker processes) through the environment;
    # an empty value is the default, and monkeypatch restores the variables after the test
    monkeypatch.setenv("NIANBAO_MAX_FILE_MB", "")
    monkeypatch.setenv("NIANBAO_PARSE_TIMEOUT", "")

    from typer.testing import CliRunner

    from nianbao.cli.app import app

    src = tmp_path / "in"
    src.mkdir()
    (src / "seed.txt").write_bytes(SEED)
    (src / "padded.txt").write_bytes(SEED + b" " * 40_000)
    r = CliRunner().invoke(app, ["validate", str(src), "--out", str(tmp_path / "o"), "--max-file-mb", "0.03"])
    assert r.exit_code == 1, r.output
    subs = {Path(s["file"]).name: s for s in json.loads((tmp_path / "o" / "submissions.json").read_text())}
    assert subs["seed.txt"]["status"] == "validated"
    assert subs["padded.txt"]["status"] == "unreadable" and "超过上限 0.03 MB" in subs["padded.txt"]["reason"]
    bad = CliRunner().invoke(app, ["validate", str(src), "--out", str(tmp_path / "o2"), "--parse-timeout", "0"])
    assert bad.exit_code == 2 and "--parse-timeout 必须大于 0" in bad.output


# ------------------------------------------------------------------ findings, not unreadable


def test_number_with_hundreds_of_digits_is_a_g05_finding() -> None:
    rep = parse(set_cells(seed_text(), {"3:3.3.4:natural": "9" * 500}))
    assert rep.status == "validated"
    g05 = [f for f in validate_batch([rep]) if f.rule == "G05"]
    assert [(f.cells, f.actual) for f in g05] == [(["3:3.3.4:natural"], "9" * 500)]


def test_nul_bytes_are_dropped_with_a_warning() -> None:
    data = SEED.replace("扎实有效推进".encode(), b"\x00\x00" + "扎实有效推进".encode() + b"\x00", 1)
    rep = load_bytes("nul.txt", data)
    assert rep.status == "validated"
    u09 = [f for f in validate_batch([rep]) if f.rule == "U09"]
    first = seed_text().index("扎实有效推进")
    assert [(f.severity, f.expected, f.actual) for f in u09] == [("warning", 0, 3)]
    assert u09[0].message == f"文件中有3 个控制字符（如 NUL），第一个在第 {first} 个字符处，已替换为“�”或忽略。"
    assert {k: c.value for k, c in rep.cells.items()} == {k: c.value for k, c in parse(seed_text()).cells.items()}


@pytest.mark.parametrize("where", ["start", "title", "number", "mid-character", "end"])
def test_invalid_utf8_anywhere(where: str) -> None:
    text = seed_text()
    raw = text.encode("utf-8")
    at = {
        "start": 0,
        "title": raw.index("镇罗镇".encode()),
        "number": raw.index(b"\t106\t") + 2,
        "mid-character": raw.index("政府信息主动公开".encode()) + 1,
        "end": len(raw),
    }[where]
    data = raw[:at] + b"\xff" + raw[at:]
    rep = load_bytes("bad-byte.txt", data)
    assert (rep.status, rep.encoding) == ("validated", "utf-8")
    fs = validate_batch([rep])
    u09 = [f for f in fs if f.rule == "U09"]
    # a byte inside a character breaks the character too: its lead and continuation bytes are invalid
    assert [(f.actual, f.severity) for f in u09] == [(1 if where != "mid-character" else 4, "warning")]
    g01 = [(f.cells, f.actual) for f in fs if f.rule == "G01"]
    assert g01 == ([(["2:penalty:decisions"], "1\ufffd06")] if where == "number" else [])
    assert rep.agency is not None and rep.agency.endswith("镇罗镇" if where != "title" else "\ufffd镇罗镇")


def test_thousands_of_junk_rows_leave_the_report_intact() -> None:
    junk = "\n".join("\t".join(str((i * 7 + j) % 10) for j in range(12)) for i in range(5000))
    text = seed_text().replace("五、存在的主要问题及改进情况\n", f"五、存在的主要问题及改进情况\n{junk}\n", 1)
    rep = parse(text)
    assert {k: c.value for k, c in rep.cells.items()} == {k: c.value for k, c in parse(seed_text()).cells.items()}


# ------------------------------------------------------------------ time limits, crashes


def test_soft_time_limit_in_process() -> None:
    page = b"<html><body>" + "<p>段落文字，没有数字。</p>".encode() * 150_000 + b"</body></html>"
    rep = load_bytes("slow.html", page, Limits(parse_timeout=0.05))
    assert (rep.status, rep.reason_code, rep.reason) == ("unreadable", "U06", "解析用时超过上限 0.05 秒，已中止。")


def test_hard_time_limit_kills_the_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.docx").write_bytes(seed_as("docx"))
    guard._shutdown()
    monkeypatch.setattr(guard, "WORKER_CMD", [sys.executable, "-c", "import time; time.sleep(60)"])
    monkeypatch.setattr(guard, "GRACE_S", 0.2)
    monkeypatch.setenv("NIANBAO_PARSE_TIMEOUT", "0.3")
    t = time.perf_counter()
    rep = load_file(tmp_path / "a.docx")
    assert time.perf_counter() - t < 10
    assert (rep.status, rep.reason_code, rep.reason) == ("unreadable", "U06", "解析用时超过上限 0.3 秒，已中止。")
    assert guard._worker is None  # killed; the next heavy file gets a fresh worker
    monkeypatch.undo()
    assert load_file(tmp_path / "a.docx").status == "validated"


def test_crashing_worker_is_contained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4\n" + b"x" * 100)
    guard._shutdown()
    monkeypatch.setattr(guard, "WORKER_CMD", [sys.executable, "-c", "import os; os.read(0, 8); os._exit(11)"])
    rep = load_file(tmp_path / "a.pdf")
    assert (rep.status, rep.reason_code, rep.source_type) == ("unreadable", "U05", "pdf")
    assert rep.reason == "解析进程异常退出（文件可能被恶意构造或已损坏），为安全起见未解析。"
    guard._shutdown()


def test_worker_answers_are_unpickled_with_an_allow_list() -> None:
    import pickle

    evil = pickle.dumps(print)  # a worker subverted by a file could send any object
    with pytest.raises(pickle.UnpicklingError):
        guard._loads(evil)
    rep = load_bytes("s.txt", SEED)
    assert isinstance(guard._loads(pickle.dumps(rep)), ParsedReport)


# ------------------------------------------------------------------ the run goes on


def test_every_hostile_file_is_accounted_for_and_the_run_goes_on(tmp_path: Path) -> None:
    from nianbao.run.steps import validate_paths

    src = tmp_path / "in"
    src.mkdir()
    (src / "seed.txt").write_bytes(SEED)
    (src / "seed.docx").write_bytes(seed_as("docx"))
    small = {"empty.txt", "truncated.docx", "billion-laughs.docx", "wide.html", "deep.html", "garbage.bin",
             "scan.pdf", "report.doc", "photo.txt", "bundle.zip", "minutes.txt", "lying-size.docx"}  # fmt: skip
    want: dict[str, str | None] = {"seed.txt": None, "seed.docx": None}
    for name, make, code, _reason in CASES:
        if name in small:
            (src / name).write_bytes(make())
            want[name] = code
    outcome = validate_paths([src], workers=1)
    got = {Path(f.file).name: f for f in outcome.files}
    assert set(got) == set(want)
    for name, code in want.items():
        f = got[name]
        assert (f.status, f.reason_code) == (("validated", None) if code is None else ("unreadable", code)), (
            name,
            f.reason,
        )
    assert outcome.reports[[Path(f.file).name for f in outcome.files].index("seed.docx")].source_type == "docx"
    assert outcome.n_unreadable == len(small)
