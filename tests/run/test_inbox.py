"""The submission inbox layout, the rerun scope and the registry's missing agencies."""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath

import pytest

from nianbao.domain.registry import Agency
from nianbao.run.inputs import InboxFile, Scope, Submission, discover, find_registry, layout_of, missing_agencies
from tests.helpers import ROOT


def test_layout_of() -> None:
    assert layout_of(PurePosixPath("2023/示例县/示例县南川镇_2023.txt")) == ("示例县", 2023)
    assert layout_of(PurePosixPath("2023/示例县/补报/x.docx")) == ("示例县", 2023)  # deeper: same county
    assert layout_of(PurePosixPath("2023/x.txt")) == (None, None)
    assert layout_of(PurePosixPath("misc/示例县/x.txt")) == (None, None)
    assert layout_of(PurePosixPath("x.txt")) == (None, None)


def test_discover_lists_every_file_and_skips_only_nianbao_state(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    for rel in ("2023/示例县/a_2023.txt", "2023/b.txt", "notes/c.txt", "d.txt", "registry.csv", "x/registry.csv"):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x", encoding="utf-8")
    (root / ".nianbao" / "store").mkdir(parents=True)
    (root / ".nianbao" / "store" / "data.parquet").write_bytes(b"PAR1")
    (root / "2023" / "示例县" / "link.txt").symlink_to(root / "d.txt")
    files = {f.rel: f for f in discover([root], inbox=root)}
    assert sorted(files) == [
        "2023/b.txt",
        "2023/示例县/a_2023.txt",
        "2023/示例县/link.txt",
        "d.txt",
        "notes/c.txt",
        "x/registry.csv",
    ]
    assert (files["2023/示例县/a_2023.txt"].county, files["2023/示例县/a_2023.txt"].year) == ("示例县", 2023)
    assert not files["2023/b.txt"].in_layout and files["2023/b.txt"].county is None
    assert files["2023/示例县/link.txt"].sub.problem  # listed, never followed
    assert files["2023/示例县/a_2023.txt"].agency_hint == "a"


def test_paths_given_twice_or_inside_another_are_listed_once(tmp_path: Path) -> None:
    """One folder walked lists each path once by construction; several paths given may overlap
    (a folder and a file or folder inside it, the same folder twice): each file listed once."""
    for rel in ("a/1.txt", "a/b/2.txt", "c.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x", encoding="utf-8")
    a = tmp_path / "a"
    one = [f.rel for f in discover([a])]
    assert one == [f"{a}/1.txt", f"{a}/b/2.txt"]
    assert [f.rel for f in discover([a, a / "b", a / "1.txt", a])] == one
    assert [f.rel for f in discover([a / "1.txt", a])] == [f"{a}/1.txt", f"{a}/b/2.txt"]
    assert [f.rel for f in discover([tmp_path / "c.txt", tmp_path / "c.txt"])] == [f"{tmp_path}/c.txt"]
    assert all(f.stat == (1, (tmp_path / f.rel).stat().st_mtime_ns) for f in discover([a, a]))


def test_bundled_inbox() -> None:
    files = discover([ROOT / "data" / "submissions"], inbox=ROOT / "data" / "submissions")
    assert len(files) == 25 and all(f.in_layout for f in files)
    assert {f.county for f in files} == {"示例县", "沙坡头区"}
    assert find_registry(ROOT / "data" / "submissions") == ROOT / "data" / "registry.csv"


def _f(rel: str) -> InboxFile:
    county, year = layout_of(PurePosixPath(rel))
    return InboxFile(Submission(Path(rel), rel), county, year)


def test_scope() -> None:
    a = _f("2023/示例县/示例县南川镇_2023.txt")
    b = _f("2022/示例县/示例县南川镇_2022.txt")
    c = _f("2023/沙坡头区/沙坡头区镇罗镇_2023.txt")
    odd = _f("inbox/scan.txt")
    assert Scope().everything and Scope().covers(odd)
    assert [Scope(year=2023).covers(x) for x in (a, b, c)] == [True, False, True]
    assert [Scope(county="示例县").covers(x) for x in (a, b, c)] == [True, True, False]
    assert [Scope(agency="南川镇").covers(x) for x in (a, b, c)] == [True, True, False]
    assert [Scope(agency="示例县南川镇人民政府").covers(x) for x in (a, b, c)] == [True, True, False]
    assert not Scope(agency="川镇南").covers(a)
    assert Scope(year=2023, agency="镇罗镇").covers(c) and not Scope(year=2022, agency="镇罗镇").covers(c)
    # outside the layout: what the last run read in the file decides
    assert not Scope(agency="镇罗镇").covers(odd)
    assert Scope(agency="镇罗镇").covers(odd, known_agency="沙坡头区镇罗镇人民政府")
    assert Scope(year=2023).covers(odd, known_year=2023) and not Scope(county="示例县").covers(odd)
    assert Scope(2023, "示例县", "南川镇").describe() == "2023 年度、示例县、南川镇"


def test_missing_agencies() -> None:
    reg = [
        Agency("甲县", "甲县一镇", "township"),
        Agency("甲县", "甲县二镇", "township"),
        Agency("乙县", "乙县三乡", "township"),
    ]
    submitted = [
        ("甲县", 2023, ["甲县一镇"]),
        (None, 2023, ["", "乙县三乡"]),  # outside the layout, found by its file name
        ("甲县", 2022, ["甲县一镇", "甲县一镇"]),
        ("甲县", 2022, ["甲县旧名镇"]),  # renamed since
    ]
    miss = missing_agencies(reg, [2022, 2023], submitted, {"甲县旧名镇": "甲县二镇"})
    assert {k: [a.agency for a in v] for k, v in miss.items()} == {
        ("甲县", 2023): ["甲县二镇"],
        ("乙县", 2022): ["乙县三乡"],
    }


def _plant_non_utf8(root: Path) -> bytes:
    """A county folder named in GB18030 (as a Chinese Windows machine writes it) holding a bundled
    report under its UTF-8 name, a copy under a GB18030 name and a file whose name neither reads."""
    county = os.fsencode(root) + b"/2023/" + "示例县".encode("gb18030")
    os.makedirs(county)
    text = (ROOT / "data" / "submissions" / "2023" / "示例县" / "示例县南川镇_2023.txt").read_bytes()
    for name in ("示例县南川镇_2023.txt".encode(), "示例县南川镇_2023副本.txt".encode("gb18030"), b"\xff\xfe_2023.txt"):
        with open(county + b"/" + name, "wb") as fh:
            fh.write(text if name[0] != 0xFF else b"\x00junk")
    return county


def test_discover_shows_names_that_are_not_utf8(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    _plant_non_utf8(root)
    files = discover([root], inbox=root)
    assert sorted((f.rel, f.county, f.year) for f in files) == [
        ("2023/示例县/示例县南川镇_2023.txt", "示例县", 2023),
        ("2023/示例县/示例县南川镇_2023副本.txt", "示例县", 2023),
        ("2023/示例县/\ufffd\ufffd_2023.txt", "示例县", 2023),
    ]
    # each still opened by its own path (the bytes the file system has)
    assert all(os.path.isfile(f.sub.location) for f in files)
    # outside an inbox the whole path is shown, each part read on its own
    shown = sorted(f.rel for f in discover([root / "2023"]))
    assert shown[0] == f"{root}/2023/示例县/示例县南川镇_2023.txt"
    assert shown[-1] == f"{root}/2023/示例县/\ufffd\ufffd_2023.txt"


def test_a_run_over_names_that_are_not_utf8_writes_every_file(tmp_path: Path) -> None:
    from nianbao.report.views import REPORT_VIEWS
    from nianbao.run import steps

    root = tmp_path / "inbox"
    _plant_non_utf8(root)
    for _ in range(2):  # the first run, then a rerun taking every report from the store
        r = steps.run_direct(steps.RunSettings(root, tmp_path / "out", tmp_path / "store", workers=1), REPORT_VIEWS)
        rows = json.loads((r.run_dir / "submissions.json").read_text(encoding="utf-8"))
        assert sorted((x["file"], x["county"], x["status"]) for x in rows) == [
            ("2023/示例县/示例县南川镇_2023.txt", "示例县", "validated"),
            ("2023/示例县/示例县南川镇_2023副本.txt", "示例县", "validated"),
            ("2023/示例县/\ufffd\ufffd_2023.txt", "示例县", "unreadable"),
        ]


def test_inbox_file_is_the_dataclasses_built_field_by_field() -> None:
    """inbox_file sets the slots of Submission and InboxFile as they are: equal to the dataclasses'
    own construction (every field; a field added to either must be set there too)."""
    from dataclasses import fields

    from nianbao.run.inputs import InboxFile, Submission, inbox_file

    assert [f.name for f in fields(Submission)] == ["location", "name", "problem"]
    assert [f.name for f in fields(InboxFile)] == ["sub", "county", "year", "stat"]
    for args in [
        ("/in/2023/甲县/a.txt", "2023/甲县/a.txt", None, "甲县", 2023, (12, 34)),
        ("x", "x", "SPECIAL", None, None, None),
    ]:
        got = inbox_file(*args)
        want = InboxFile(Submission(*args[:3]), *args[3:5], stat=args[5])
        assert got == want and hash(got) == hash(want)
        assert (got.sub.location, got.sub.name, got.sub.problem, got.county, got.year, got.stat) == args


def test_a_folder_lists_as_its_subfolders_given_one_by_one_with_the_same_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One folder given: its own files, then its subfolders' in order — the same entries as the
    subfolders given one by one; an unreadable folder lists nothing, a symlink and a special file
    are reported, an unexpected error is raised (a pin for any listing made faster)."""
    root = tmp_path / "inbox"
    for county in ("甲县", "乙县", "丙县", "丁县", "戊县"):
        for year in (2024, 2025):
            d = root / county / str(year)
            d.mkdir(parents=True)
            for name in ("b_2025.txt", "a_2025.txt"):
                (d / name).write_text("x", encoding="utf-8")
    (root / "top.txt").write_text("x", encoding="utf-8")
    (root / "甲县" / "2025" / "link.txt").symlink_to(root / "top.txt")
    os.mkfifo(root / "戊县" / "2024" / "pipe.txt")
    unreadable = str(root / "乙县" / "2025")
    real_scandir = os.scandir
    failing: dict[str, Exception] = {unreadable: PermissionError(13, "Permission denied", unreadable)}

    def scandir(d: int | str) -> object:  # (the folder's descriptor or its path)
        error = failing.get(os.readlink(f"/proc/self/fd/{d}") if isinstance(d, int) else d)
        if error is not None:
            raise error
        return real_scandir(d)

    monkeypatch.setattr(os, "scandir", scandir)
    got = [(f.rel, f.county, f.year, f.sub.problem) for f in discover([root], inbox=root)]
    counties = sorted(p for p in root.iterdir() if p.is_dir())
    alone = [(f.rel, f.county, f.year, f.sub.problem) for f in discover(counties, inbox=root)]
    assert got == [("top.txt", None, None, None), *alone]
    assert [rel for rel, *_ in got] == [
        "top.txt",
        "丁县/2024/a_2025.txt",
        "丁县/2024/b_2025.txt",
        "丁县/2025/a_2025.txt",
        "丁县/2025/b_2025.txt",
        "丙县/2024/a_2025.txt",
        "丙县/2024/b_2025.txt",
        "丙县/2025/a_2025.txt",
        "丙县/2025/b_2025.txt",
        "乙县/2024/a_2025.txt",
        "乙县/2024/b_2025.txt",
        "戊县/2024/a_2025.txt",
        "戊县/2024/b_2025.txt",
        "戊县/2024/pipe.txt",
        "戊县/2025/a_2025.txt",
        "戊县/2025/b_2025.txt",
        "甲县/2024/a_2025.txt",
        "甲县/2024/b_2025.txt",
        "甲县/2025/a_2025.txt",
        "甲县/2025/b_2025.txt",
        "甲县/2025/link.txt",
    ]
    problems = {rel: problem for rel, _, _, problem in got if problem}
    assert set(problems) == {"戊县/2024/pipe.txt", "甲县/2025/link.txt"}

    # an unexpected error, in the first subfolder or the last, is raised
    for county in ("丁县", "甲县"):
        failing[str(root / county)] = RuntimeError(county)
        with pytest.raises(RuntimeError, match=county):
            discover([root], inbox=root)
        del failing[str(root / county)]


def test_the_compiled_stats_list_what_each_entrys_stat_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder's files stat-ed by one compiled call (``decode.stat_all``) or each by its entry's
    stat: the same sizes, times and problems (a symlink, a special file, a name not UTF-8)."""
    from nianbao.run import inputs

    if inputs._stat_all is None:
        pytest.skip("nianbao.io.decode not built")
    d = _odd_folder(tmp_path)
    root = tmp_path / "inbox"

    def listing() -> list[tuple[str, str | None, tuple[int, int] | None]]:
        return [(f.rel, f.sub.problem, f.stat) for f in discover([root], inbox=root)]

    compiled = listing()
    monkeypatch.setattr(inputs, "_stat_all", None)
    assert listing() == compiled
    stats = {rel.rpartition("/")[2]: (problem, stat) for rel, problem, stat in compiled}
    assert stats["a_2025.txt"] == (None, (1, (d / "a_2025.txt").stat().st_mtime_ns))
    assert stats["空.txt"] == (None, (2, (d / "空.txt").stat().st_mtime_ns))
    assert stats["link.txt"][1] is None and stats["pipe.txt"][1] is None
    assert stats["link.txt"][0] and stats["pipe.txt"][0] and stats["link.txt"][0] != stats["pipe.txt"][0]
    assert len(compiled) == 6


def test_a_listing_without_stats_lists_the_same_files_and_problems(tmp_path: Path) -> None:
    """``discover(stat=False)`` (a run without a store): the same files, names and problems (a
    symlink, a special file, a name not UTF-8) as the listing with stats, told apart by the
    listing's file types; no size and time."""
    _odd_folder(tmp_path)
    root = tmp_path / "inbox"
    for inbox in (root, None):
        with_stats = discover([root], inbox=inbox)
        without = discover([root], inbox=inbox, stat=False)
        assert [(f.sub, f.county, f.year) for f in without] == [(f.sub, f.county, f.year) for f in with_stats]
        assert all(f.stat is None for f in without)
        problems = {f.sub.name.rpartition("/")[2]: f.sub.problem for f in without if f.sub.problem}
        assert set(problems) == {"link.txt", "pipe.txt"}
        assert problems["link.txt"] != problems["pipe.txt"]
    assert len(without) == 6


def _odd_folder(tmp_path: Path) -> Path:
    """``inbox/2025/甲县`` under ``tmp_path`` with three files (0, 1 and 2 bytes), a symlink, a FIFO
    and a file whose name is not UTF-8; the folder."""
    d = tmp_path / "inbox" / "2025" / "甲县"
    d.mkdir(parents=True)
    for i, name in enumerate(["b_2025.txt", "a_2025.txt", "空.txt"]):
        (d / name).write_bytes(b"x" * i)
    (d / "link.txt").symlink_to(d / "a_2025.txt")
    os.mkfifo(d / "pipe.txt")
    (d / os.fsdecode(b"\xff_2025.txt")).write_bytes(b"y")
    return d
