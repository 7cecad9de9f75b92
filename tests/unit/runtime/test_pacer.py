"""A recording at a chosen pace: event time at rate × wall time, pause, a new rate, a seek forward."""

from __future__ import annotations

import asyncio
import time

import pytest

from maritime.runtime.pacer import Pacer, PacerError

T0 = 1_747_209_600.0


async def test_event_time_runs_at_the_rate():
    p = Pacer(600.0)  # ten minutes of event time a second
    await p.wait(T0)
    start = time.monotonic()
    await p.wait(T0 + 120)  # two event minutes: 0.2 s of wall time at the least
    assert time.monotonic() - start >= 0.19
    assert p.state()["event_time"] == "2025-05-14T08:02:00Z"


async def test_pause_holds_and_play_goes_on_and_a_seek_runs_ahead():
    p = Pacer(1.0)
    await p.wait(T0)
    p.pause()
    waiter = asyncio.create_task(p.wait(T0 + 0.001))
    await asyncio.sleep(0.2)
    assert not waiter.done()  # held while paused, however little is due
    p.play()
    await asyncio.wait_for(waiter, 2)
    p.seek(T0 + 3600)  # an hour ahead at ×1: at once
    start = time.monotonic()
    await asyncio.wait_for(p.wait(T0 + 1800), 1)
    assert time.monotonic() - start < 1
    with pytest.raises(PacerError, match="cannot go back"):
        p.seek(T0)
    p.set_rate(3600.0)
    assert p.state()["rate"] == 3600.0
    with pytest.raises(PacerError):
        p.set_rate(0)


async def test_a_stop_ends_a_paused_wait():
    p = Pacer(1.0)
    await p.wait(T0)
    p.pause()
    stop = asyncio.Event()
    waiter = asyncio.create_task(p.wait(T0 + 10, stop))
    await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(waiter, 2)  # a SIGTERM on a paused briefing still stops within the 5 s
