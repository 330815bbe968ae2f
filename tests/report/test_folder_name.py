"""quality.folder_name (the folder a file is in, the county of a file without one) is
``PurePath(file).parent.name`` for every shape of path, hand-split or not."""

from __future__ import annotations

import itertools
from pathlib import PurePath

from nianbao.report.quality import folder_name

PARTS = ("", ".", "..", "示例县", "a b", "2023", "x.txt", " ", "c\\d")


def test_folder_name_is_purepaths_parent_name() -> None:
    compared = 0
    for n in range(1, 5):
        for parts in itertools.product(PARTS, repeat=n):
            for sep in ("/", "\\"):
                path = sep.join(parts)
                assert folder_name(path) == PurePath(path.replace("\\", "/")).parent.name, repr(path)
                compared += 1
    assert compared > 10000
    assert folder_name("/tmp/inbox/2023/示例县/示例县青山镇_2023.txt") == "示例县"


def test_county_of_files_by_folder_is_each_files_folder_name() -> None:
    """quality.county_of_files, which names each folder once, gives every file of every shape of
    path the county its own folder_name gives (NO_COUNTY when it has none), in any order."""
    from types import SimpleNamespace

    from nianbao.report.quality import NO_COUNTY, county_of_files

    paths = ["/".join(p) for n in range(1, 4) for p in itertools.product(PARTS, repeat=n)]
    paths += ["\\".join(p) for p in itertools.product(PARTS, repeat=3)]
    paths += list(reversed(paths))  # each folder met again after others
    files = [SimpleNamespace(county=None, agency=None, file=p) for p in paths]
    outcome = SimpleNamespace(registry=None, files=files)
    expected = [folder_name(p) or NO_COUNTY for p in paths]
    assert county_of_files(outcome) == expected  # type: ignore[arg-type]
