"""The plan's check of an unchanged rerun over whole lists (``steps.unchanged_names``): it takes
every file from the store only when each is the store's row of its position, unchanged; any
changed, added, removed, renamed or unread file sends the plan to its file-by-file look-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from nianbao.run.inputs import SYMLINK, InboxFile, Scope, inbox_file
from nianbao.run.steps import Inventory, plan_stage, unchanged_names
from nianbao.run.store import Store

NAMES = ["2023/甲县/一乡_2023.txt", "2023/甲县/二乡_2023.txt", "2023/乙县/三乡_2023.txt"]
SHAS = ["a" * 64, "b" * 64, "c" * 64]
SIZES = [100, 200, 300]
MTIMES = [1_000, 2_000, 3_000]


def listing(names: list[str] = NAMES, stats: list[tuple[int, int] | None] | None = None) -> list[InboxFile]:
    stats = stats if stats is not None else list(zip(SIZES, MTIMES, strict=True))
    return [
        inbox_file("/in/" + n, n, None if st else SYMLINK, n.split("/")[1], 2023, st)
        for n, st in zip(names, stats, strict=True)
    ]


def test_unchanged_listing_gives_every_name_in_order() -> None:
    assert unchanged_names(listing(), NAMES, SHAS, SIZES, MTIMES) == NAMES


@pytest.mark.parametrize(
    "files",
    [
        listing(stats=[(100, 1_000), (201, 2_000), (300, 3_000)]),  # a size changed
        listing(stats=[(100, 1_000), (200, 2_001), (300, 3_000)]),  # a modification time changed
        listing(stats=[(100, 1_000), None, (300, 3_000)]),  # now a symlink (not read: no stat)
        listing([NAMES[0], "2023/甲县/二乡_2023 (1).txt", NAMES[2]]),  # renamed
        listing(NAMES[:2], [(100, 1_000), (200, 2_000)]),  # removed
        listing([*NAMES, "2023/乙县/四乡_2023.txt"], [(100, 1_000), (200, 2_000), (300, 3_000), (1, 1)]),  # added
        listing([NAMES[1], NAMES[0], NAMES[2]], [(200, 2_000), (100, 1_000), (300, 3_000)]),  # another order
    ],
)
def test_any_change_sends_the_plan_file_by_file(files: list[InboxFile]) -> None:
    assert unchanged_names(files, NAMES, SHAS, SIZES, MTIMES) is None


def test_a_row_without_hash_or_time_is_never_taken_whole() -> None:
    assert unchanged_names(listing(), NAMES, [SHAS[0], None, SHAS[2]], SIZES, MTIMES) is None
    assert unchanged_names(listing(), NAMES, [SHAS[0], "", SHAS[2]], SIZES, MTIMES) is None
    assert unchanged_names(listing(), NAMES, SHAS, SIZES, [1_000, None, 3_000]) is None


def test_plan_of_an_empty_store_parses_everything(tmp_path: Path) -> None:
    inv = Inventory(str(tmp_path), listing(), None, {}, None)
    Store(tmp_path / "store")  # (nothing saved)
    plan = plan_stage(inv, tmp_path / "store", Scope())
    assert (plan.reused, plan.kept, plan.partitions) == (0, 0, [[0, 1, 2]])


def test_an_unchanged_plan_drops_nothing_and_a_removed_file_is_dropped(tmp_path: Path) -> None:
    """The plan knows an unchanged inbox lists every stored row (``all_listed``: the store is left
    as it is); a removed or renamed file falls back to the file-by-file look-up and the save drops
    the rows of files no longer listed."""
    from nianbao.report.views import REPORT_VIEWS
    from nianbao.run.steps import RunSettings, discover_stage, run_direct, save_stage
    from tests.helpers import copy_sample_inbox

    inbox = copy_sample_inbox(tmp_path)
    store = tmp_path / "store"
    run_direct(RunSettings(inbox, tmp_path / "out", store, workers=1), REPORT_VIEWS)
    inv = discover_stage(inbox)
    plan = plan_stage(inv, store, Scope())
    assert (plan.all_listed, plan.reused, plan.partitions, plan.stored) == (True, 25, [], [])
    assert save_stage(store, inv, plan, []) == 0
    assert Store(store).read(columns=("rel",)).height == 25
    gone, old_name = Path(inv.files[3].sub.location), inv.files[3].sub.name
    gone.rename(gone.with_name("改名_" + gone.name))  # a file renamed: one row gone, one file new
    inv = discover_stage(inbox)
    plan = plan_stage(inv, store, Scope())
    assert not plan.all_listed and (plan.reused, len(plan.stored)) == (24, 25)
    assert [inv.files[i].sub.name for part in plan.partitions for i in part] == [
        f.sub.name for f in inv.files if Path(f.sub.location).name.startswith("改名_")
    ]
    result = run_direct(RunSettings(inbox, tmp_path / "out", store, workers=1), REPORT_VIEWS)
    assert result.plan == {"reused": 24, "kept": 0, "parsed": 1}
    rels = Store(store).read(columns=("rel",)).get_column("rel").to_list()
    assert old_name not in rels and len(rels) == 25
    assert sorted(rels) == sorted(f.sub.name for f in inv.files)
