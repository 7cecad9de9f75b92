"""Live feeds: one clock per source, a poisoned feed that moves nothing, a quiet feed that is not held back."""

from __future__ import annotations

import asyncio
import logging
import random

from pyais import encode_dict

from maritime.config import Settings
from maritime.geo import KN_TO_MS, destination
from maritime.ingest.eventtime import SourceMerge
from maritime.ingest.sources import SourceSpec
from maritime.sim.encode import tag_block
from tests.conftest import Collect, assembled_pipeline

T0 = 1_747_180_800
QUICK = Settings.model_validate({"identity": {"land_check": False}})


def fleet_lines(ships: int = 25, minutes: int = 60, step_s: int = 15) -> list[bytes]:
    """A fleet reporting every ``step_s`` for ``minutes``, as tag-blocked lines of one receiver, in time order."""
    out = []
    for k in range(minutes * 60 // step_s):
        t = T0 + k * step_s
        for s in range(ships):
            lat, lon = destination(12.0 + s * 0.2, -62.0, 90.0, 10 * KN_TO_MS * k * step_s)
            for sentence in encode_dict({"msg_type": 1, "mmsi": 538_000_100 + s, "lat": lat, "lon": lon,
                                         "speed": 10.0, "course": 90.0, "heading": 90, "second": t % 60}):
                out.append(tag_block(f"c:{t}") + sentence.encode())
    return out


async def serve_and_watch(lines: list[bytes], settings: Settings = QUICK) -> tuple[list, dict]:
    """The lines sent over TCP (then the connection kept open, quiet), watched until they are all decoded."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for k in range(0, len(lines), 500):
            writer.write(b"".join(ln + b"\r\n" for ln in lines[k:k + 500]))
            await writer.drain()
        await asyncio.sleep(30)  # quiet, connected

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sink = Collect()
    pipe = assembled_pipeline(settings, [sink])
    stop = asyncio.Event()
    async with server:
        task = asyncio.create_task(pipe.run_live([SourceSpec("tcp", f"tcp://127.0.0.1:{port}", "127.0.0.1", port)],
                                                 stop))
        for _ in range(400):
            await asyncio.sleep(0.05)
            if pipe.stats.decode.lines >= len(lines):
                break
        await asyncio.sleep(0.2)
        stop.set()
        summary = await asyncio.wait_for(task, timeout=30)
    return sink.alerts, summary


def test_a_poisoned_live_feed_moves_no_clock_and_raises_no_false_outage():
    """1,000 lines stamped 2096 among 10,000 good ones (and lines with no time between): each quarantined,
    no clock jump, no feed outage, nothing evicted; the alerts those of the clean feed."""
    good = fleet_lines()[:10_000]
    rng = random.Random(4)
    poisoned = list(good)
    for _ in range(1000):
        k = rng.randrange(len(poisoned))
        poisoned.insert(k, tag_block("c:4000000000") + good[k % len(good)].split(b"\\")[2])
    for _ in range(200):  # lines with no time of their own
        k = rng.randrange(len(poisoned))
        poisoned.insert(k, good[k % len(good)].split(b"\\")[2])
    clean_alerts, _ = asyncio.run(serve_and_watch(good))
    alerts, summary = asyncio.run(serve_and_watch(poisoned))
    assert summary["rejected"].get("time_outlier") == 1000
    assert not [a for a in alerts if a.type == "feed_outage"]
    assert summary["last_time"] < "2026"
    assert [(a.id, a.status) for a in alerts] == [(a.id, a.status) for a in clean_alerts]


def test_a_quiet_feed_hands_on_what_it_holds_without_new_lines():
    """The last minute of a feed that stays connected but quiet reaches the detectors (the reorder window is
    flushed on a wall-clock idle timeout), not only when new lines come."""
    lines = fleet_lines(ships=3, minutes=3)
    settings = Settings.model_validate({"identity": {"land_check": False}, "ingest": {"live_idle_flush_s": 0.5}})

    async def run() -> int:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"".join(ln + b"\r\n" for ln in lines))
            await writer.drain()
            await asyncio.sleep(30)

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        seen: list = []
        pipe = assembled_pipeline(settings, [Collect()])
        pipe.add_listener(seen.append)
        stop = asyncio.Event()
        async with server:
            task = asyncio.create_task(pipe.run_live(
                [SourceSpec("tcp", f"tcp://127.0.0.1:{port}", "127.0.0.1", port)], stop))
            for _ in range(100):
                await asyncio.sleep(0.05)
                if len(seen) == len(lines):
                    break
            n = len(seen)
            stop.set()
            await asyncio.wait_for(task, timeout=30)
        return n

    assert asyncio.run(run()) == len(lines)


def test_receivers_hours_apart_never_make_each_others_lines_late():
    merge = SourceMerge(60.0, idle_s=300.0, clock=lambda: 0.0)
    late: list = []
    merge.on_late = lambda t, it: late.append(it)
    out = []
    for k in range(600):
        out += merge.push("recA", T0 + k, ("A", k))
        out += merge.push("recB", T0 + 8 * 3600 + k, ("B", k))
    out += merge.flush()
    assert late == [] and len(out) == 1200
    assert [t for t, _ in out] == sorted(t for t, _ in out)


def test_a_quiet_source_leaves_the_watermark_and_says_so(caplog):
    caplog.set_level(logging.INFO, logger="maritime.ingest.eventtime")
    now = [0.0]
    merge = SourceMerge(60.0, idle_s=300.0, clock=lambda: now[0])
    merge.push("quiet", T0, "q")
    got = []
    for k in range(1, 200):
        now[0] = k * 2.0  # two wall-clock seconds a line
        got += merge.push("busy", T0 + 3600 + k * 10, k)
    assert got, "the busy source's lines are handed on once the quiet one has left the watermark"
    assert "quiet for" in caplog.text
