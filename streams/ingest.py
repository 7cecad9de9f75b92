"""``maritime ingest``: sources → the ``raw`` topic, in batches, each with an ingest sequence number.

Recordings are replayed in event-time order (several files are merged by
the times written in them), as fast as possible or ``rate`` times real
time, and end with an *end of replay* batch so the workers close their
books as the embedded replay does. Live TCP/UDP feeds are sent as they
arrive, each line with its receive time. Every raw partition gets a batch
for every sequence number, empty or not, so downstream stages can wait for
all of them.

One ingest process feeds one deployment (it multiplexes all sources);
sequence numbers start from the wall-clock milliseconds at start, so a
restarted ingest continues above what the workers have applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from maritime.config import Settings
from maritime.ingest.decoders import first_timestamp
from maritime.ingest.errors import DecodeStats, Rejected
from maritime.ingest.ordering import ordered_lines
from maritime.ingest.sources import SourceSpec
from maritime.models import parse_iso
from maritime.runtime.partitioned import Lanes, lane_partition, order_key
from maritime.runtime.pipeline import live_batches
from streams.records import RawBatch, RawChunk
from streams.settings import StreamSettings
from streams.topics import create_topics

logger = logging.getLogger(__name__)

@dataclass
class IngestStats:
    """What the ingest sent."""

    lines: int = 0
    batches: int = 0
    first_seq: int = 0
    last_seq: int = -1
    by_source: dict[str, int] = field(default_factory=dict)
    #: messages of recordings left out because their times were far from their source's clock
    time_outliers: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"lines": self.lines, "sequences": self.batches, "first_seq": self.first_seq,
                "last_seq": self.last_seq, "lines_by_source": dict(sorted(self.by_source.items())),
                "time_outliers": self.time_outliers}


class Ingest:
    """Sends batches of lines to the raw topic."""

    def __init__(self, settings: StreamSettings, sources: int, lanes: int = 1) -> None:
        self.s = settings
        self.lanes = max(1, lanes)
        # what the workers de-duplicate across: every lane of every source
        self.sources = sources * self.lanes
        self.stats = IngestStats()
        #: what ordering the recordings counted (their time outliers)
        self.decode_stats = DecodeStats()
        self.seq = int(time.time() * 1000) * 1000
        self.stats.first_seq = self.seq
        self.topic = settings.topic("raw")
        self.producer: Any = None

    async def __aenter__(self) -> Ingest:
        from aiokafka import AIOKafkaProducer

        await create_topics(self.s)
        self.producer = AIOKafkaProducer(bootstrap_servers=self.s.bootstrap, linger_ms=5, acks="all",
                                         max_request_size=8_000_000, compression_type=None)
        await self.producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.producer is not None:
            await self.producer.stop()

    async def send(self, chunks: Sequence[RawChunk], end: bool = False) -> None:
        """One sequence number: each raw partition gets its sources' chunks (or none)."""
        n = self.s.partitions
        per: list[list[RawChunk]] = [[] for _ in range(n)]
        for c in chunks:
            per[lane_partition(c.source, c.lane, n)].append(c)
            self.stats.lines += len(c.lines)
            self.stats.by_source[c.source] = self.stats.by_source.get(c.source, 0) + len(c.lines)
        futs = []
        for p in range(n):
            batch = RawBatch(seq=self.seq, chunks=per[p], sources=self.sources, end=end)
            futs.append(await self.producer.send(self.topic, batch.dumps(serializer="json"), partition=p))
        await asyncio.gather(*futs)
        self.stats.last_seq = self.seq
        self.stats.batches += 1
        self.seq += 1


def _timed_lines(spec: SourceSpec, settings: Settings, default_time_s: float | None,
                 stats: DecodeStats | None = None) -> Iterator[tuple[float, int, str, bytes, float | None]]:
    """A recording's lines in event-time order, as a replay reads it (:func:`~maritime.ingest.ordering.
    ordered_lines`: its sources' clocks judged, outliers left out and counted in ``stats``), with the time of
    each, its place in that order, its source, and the time an untimed line takes."""
    start = default_time_s if default_time_s is not None else time.time()
    kept = stats if stats is not None else DecodeStats()

    def quarantined(rej: Rejected) -> None:
        logger.debug("%s: %s (%s)", rej.source, rej.message, rej.line[:80])

    for i, (t, line, assigned) in enumerate(ordered_lines(spec, settings, start, quarantined, kept)):
        yield t, i, spec.name, line, assigned


async def replay_files(ing: Ingest, specs: Sequence[SourceSpec], *, batch_lines: int = 2000,
                       rate: float | None = None, start_time: str | None = None,
                       stop: asyncio.Event | None = None) -> None:
    """Recordings in event-time order (merged), then the end-of-replay batch. ``stop`` set: what is read is
    sent and no end mark follows (the replay is not over; the workers keep their windows open)."""
    stop = stop or asyncio.Event()
    defaults = {s.name: (parse_iso(start_time) if start_time else first_timestamp(s)) for s in specs}
    rank = {s.name: k for k, s in enumerate(specs)}
    lanes = {s.name: Lanes(ing.lanes) for s in specs}
    detection = ing.s.detection
    if len(specs) == 1:
        merged: Iterator[tuple[float, int, str, bytes, float | None]] = _timed_lines(
            specs[0], detection, defaults[specs[0].name], ing.decode_stats)
    else:
        merged = heapq.merge(*(_timed_lines(s, detection, defaults[s.name], ing.decode_stats) for s in specs),
                             key=lambda x: x[0])
    wall0: float | None = None
    t0: float | None = None
    while not stop.is_set():
        # read in a thread: the first block waits for the time pass over the recordings, which must not keep
        # the loop (and the signals) waiting
        block = await asyncio.to_thread(lambda: list(itertools.islice(merged, batch_lines)))
        if not block:
            break
        if rate:
            t_last = block[-1][0]
            if t_last != float("-inf"):
                if t0 is None:
                    t0, wall0 = block[0][0] if block[0][0] != float("-inf") else t_last, time.monotonic()
                assert wall0 is not None
                delay = wall0 + (t_last - t0) / rate - time.monotonic()
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=delay)
        by_source: dict[str, list[tuple[float, int, str, bytes, float | None]]] = {}
        for item in block:
            by_source.setdefault(item[2], []).append(item)
        chunks = []
        for name, items in by_source.items():
            for lane, part in lanes[name].cut(items, line_of=_line_of):
                chunks.append(_file_chunk(name, lane, part, defaults[name], rank[name]))
        await ing.send(chunks)
    rest = [_file_chunk(name, lane, part, defaults[name], rank[name])
            for name, splitter in lanes.items() for lane, part in splitter.rest()]
    if rest:
        await ing.send(rest)
    if stop.is_set():
        logger.warning("ingest stopped after %d lines: no end-of-replay mark sent (the replay is not over)",
                       ing.stats.lines)
        return
    await ing.send([], end=True)


def _line_of(item: tuple[float, int, str, bytes, float | None]) -> bytes:
    return item[3]


def _file_chunk(name: str, lane: int, items: list[tuple[float, int, str, bytes, float | None]],
                default_time: float | None, rank: int) -> RawChunk:
    """A chunk of a recording: its lines in event-time order with the time each untimed one takes, and the
    replay order of the first (its place in the recording's event-time order)."""
    return RawChunk(source=name, lines=[it[3].rstrip(b"\r\n").decode("latin-1") for it in items],
                    assigned_times=[it[4] for it in items], default_time=default_time, lane=lane,
                    order=order_key(rank, items[0][1]))


async def stream_live(ing: Ingest, specs: Sequence[SourceSpec], *, batch_lines: int = 2000, flush_s: float = 0.5,
                      stop: asyncio.Event | None = None) -> None:
    """Live feeds (TCP, UDP, stdin): lines with their receive times, flushed every ``flush_s``."""
    stop = stop or asyncio.Event()
    queue: asyncio.Queue[tuple[str, list[tuple[bytes, float]]] | None] = asyncio.Queue(1000)

    async def pump(spec: SourceSpec) -> None:
        async for b in live_batches(spec, stop):
            await queue.put((spec.name, b))

    tasks = [asyncio.create_task(pump(s)) for s in specs]

    async def closer() -> None:
        await asyncio.gather(*tasks, return_exceptions=True)
        await queue.put(None)

    closing = asyncio.create_task(closer())
    pending: dict[str, list[tuple[bytes, float]]] = {}
    lanes: dict[str, Lanes] = {}

    def cut(pending: dict[str, list[tuple[bytes, float]]]) -> list[RawChunk]:
        """The chunks that can go now, each source's in its lane (see :class:`Lanes`)."""
        return [_live_chunk(n, lane, part) for n, ls in pending.items()
                for lane, part in lanes.setdefault(n, Lanes(ing.lanes)).cut(ls, _live_line, timed=True)]
    count = 0
    last_flush = time.monotonic()
    try:
        while not stop.is_set():
            try:
                got = await asyncio.wait_for(queue.get(), timeout=flush_s)
            except TimeoutError:
                got = ("", [])
            if got is None:
                break
            name, lines = got
            if lines:
                pending.setdefault(name, []).extend(lines)
                count += len(lines)
            if pending and (count >= batch_lines or time.monotonic() - last_flush >= flush_s):
                chunks = cut(pending)
                if chunks:
                    await ing.send(chunks)
                pending.clear()
                count = 0
                last_flush = time.monotonic()
    finally:
        stop.set()
        for t in tasks:
            t.cancel()
        closing.cancel()
        await asyncio.gather(*tasks, closing, return_exceptions=True)
    rest = cut(pending)
    rest += [_live_chunk(n, lane, part) for n, splitter in lanes.items() for lane, part in splitter.rest()]
    if rest:
        await ing.send(rest)


def _live_line(item: tuple[bytes, float]) -> bytes:
    return item[0]


def _live_chunk(name: str, lane: int, items: list[tuple[bytes, float]]) -> RawChunk:
    """A chunk of a live feed: its lines with their receive times."""
    return RawChunk(source=name, lines=[ln.rstrip(b"\r\n").decode("latin-1") for ln, _ in items],
                    recv_times=[t for _, t in items], lane=lane)


async def ingest(specs: Sequence[SourceSpec], settings: StreamSettings, *, rate: float | None = None,
                 batch_lines: int = 2000, stop: asyncio.Event | None = None, lanes: int = 1) -> IngestStats:
    """Send ``specs`` to the raw topic: recordings replayed (then ended), live feeds until ``stop``.

    ``lanes`` > 1 splits each source over that many lanes (raw partitions), so that one busy feed is
    decoded by several workers (:class:`maritime.runtime.partitioned.Lanes`). The alerts equal a single lane's as
    long as no line arrives later than the reorder window allows (each lane judges lateness by its own
    lines, so it may keep a straggler that one decoder drops).
    """
    live = [s for s in specs if s.kind in ("tcp", "udp", "stdin")]
    files = [s for s in specs if s.kind == "file"]
    if [s for s in specs if s.kind == "csv"]:
        raise ValueError("decoded tables (CSV) go through 'maritime replay'; ingest sends NMEA lines")
    async with Ingest(settings, len(specs), lanes) as ing:
        if files and not live:
            await replay_files(ing, files, batch_lines=batch_lines, rate=rate,
                               start_time=settings.detection.ingest.start_time, stop=stop)
        elif live:
            await stream_live(ing, live, batch_lines=batch_lines, stop=stop)
    ing.stats.time_outliers = ing.decode_stats.rejected.get("time_outlier", 0)
    logger.info("ingest sent %d lines in %d sequences", ing.stats.lines, ing.stats.batches)
    return ing.stats
