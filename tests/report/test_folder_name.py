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
