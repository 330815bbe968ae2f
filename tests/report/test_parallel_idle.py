"""Whether a second core is free: measured over the views' first work after a mark (no sleep), with
this process's own CPU time in the interval counted as idle — the measure a sleeping sample gives."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nianbao.report import parallel


class Clock:
    def __init__(self) -> None:
        self.now, self.cpu, self.slept = 100.0, 10.0, 0.0
        self.stat: Iterator[tuple[int, int]] = iter(())

    def sleep(self, s: float) -> None:
        self.slept += s
        self.now += s


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(parallel.time, "monotonic", lambda: c.now)
    monkeypatch.setattr(parallel.time, "process_time", lambda: c.cpu)
    monkeypatch.setattr(parallel.time, "sleep", c.sleep)
    monkeypatch.setattr(parallel, "_read_stat", lambda: next(c.stat))
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(parallel, "_mark", None)
    return c


def test_after_a_mark_the_interval_is_the_sample_and_nothing_sleeps(clock: Clock) -> None:
    # two cores; over 0.2 s, 40 ticks of which 20 idle: one core busy — this process, all the time
    clock.stat = iter([(1000, 500), (1040, 520)])
    parallel.mark_idle()
    clock.now += 0.2
    clock.cpu += 0.2
    assert parallel.idle_cores() == pytest.approx(2.0)  # the other core idle, and this one is ours
    assert clock.slept == 0.0


def test_a_busy_other_core_is_not_free(clock: Clock) -> None:
    # both cores busy over the interval, this process on one of them half the time
    clock.stat = iter([(1000, 500), (1040, 500)])
    parallel.mark_idle()
    clock.now += 0.2
    clock.cpu += 0.1
    assert parallel.idle_cores() == pytest.approx(0.5)  # < FREE_CORE: no helper
    assert clock.slept == 0.0


def test_without_a_mark_or_with_too_short_an_interval_it_sleeps_for_the_sample(clock: Clock) -> None:
    clock.stat = iter([(1000, 500), (1040, 540)])
    assert parallel.idle_cores(0.1) == pytest.approx(2.0)
    assert clock.slept == pytest.approx(0.1)
    clock.stat = iter([(0, 0), (2000, 1000), (2040, 1020)])
    parallel.mark_idle()
    clock.now += 0.01  # too short a sample: the mark is dropped, a sample is taken
    assert parallel.idle_cores(0.1) == pytest.approx(1.0)
    assert clock.slept == pytest.approx(0.2)
    assert parallel._mark is None  # a mark is used once
