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
import heapq
import itertools
import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from maritime.models import parse_iso
from maritime.partitioned import source_partition
from maritime.pipeline import first_timestamp, live_batches
from maritime.sources import SourceSpec, iter_lines
from streams.records import RawBatch, RawChunk
from streams.settings import StreamSettings
from streams.topics import create_topics

logger = logging.getLogger(__name__)

_TAG_TIME = re.compile(rb"(?:^\\|,)c:(\d{9,13})")
_TRAILING_EPOCH = re.compile(rb",(\d{10})(?:\.\d+)?\s*$")


def line_time(line: bytes) -> float | None:
    """The event time a line carries (tag block ``c:``, s or ms; or an epoch after the checksum), if any.

    Only for pacing and merging recordings; the decoder decides the real time.
    """
    m = _TAG_TIME.search(line, 0, 120) if line[:1] == b"\\" else None
    if m is None:
        m = _TRAILING_EPOCH.search(line)
    if m is None:
        return None
    v = int(m.group(1))
    return v / 1000.0 if v > 10_000_000_000 else float(v)


@dataclass
class IngestStats:
    """What the ingest sent."""

    lines: int = 0
    batches: int = 0
    first_seq: int = 0
    last_seq: int = -1
    by_source: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"lines": self.lines, "sequences": self.batches, "first_seq": self.first_seq,
                "last_seq": self.last_seq, "lines_by_source": dict(sorted(self.by_source.items()))}


class Ingest:
    """Sends batches of lines to the raw topic."""

    def __init__(self, settings: StreamSettings, sources: int) -> None:
        self.s = settings
        self.sources = sources
        self.stats = IngestStats()
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
            per[source_partition(c.source, n)].append(c)
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


def _timed_lines(spec: SourceSpec) -> Iterator[tuple[float, int, str, bytes]]:
    """A recording's lines with the time each carries (or the last one seen), for merging."""
    last = float("-inf")
    for i, line in enumerate(iter_lines(spec)):
        t = line_time(line)
        if t is not None:
            last = t
        yield last, i, spec.name, line


async def replay_files(ing: Ingest, specs: Sequence[SourceSpec], *, batch_lines: int = 2000,
                       rate: float | None = None, start_time: str | None = None) -> None:
    """Recordings in event-time order (merged), then the end-of-replay batch."""
    defaults = {s.name: (parse_iso(start_time) if start_time else first_timestamp(s)) for s in specs}
    if len(specs) == 1:
        merged: Iterator[tuple[float, int, str, bytes]] = _timed_lines(specs[0])
    else:
        merged = heapq.merge(*(_timed_lines(s) for s in specs), key=lambda x: x[0])
    wall0: float | None = None
    t0: float | None = None
    while True:
        block = list(itertools.islice(merged, batch_lines))
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
                    await asyncio.sleep(delay)
        by_source: dict[str, list[str]] = {}
        for _t, _i, name, line in block:
            by_source.setdefault(name, []).append(line.rstrip(b"\r\n").decode("latin-1"))
        await ing.send([RawChunk(source=name, lines=lines, default_time=defaults[name])
                        for name, lines in by_source.items()])
    await ing.send([], end=True)


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
                await ing.send([RawChunk(source=n, lines=[ln.rstrip(b"\r\n").decode("latin-1") for ln, _ in ls],
                                         recv_times=[t for _, t in ls]) for n, ls in pending.items()])
                pending.clear()
                count = 0
                last_flush = time.monotonic()
    finally:
        stop.set()
        for t in tasks:
            t.cancel()
        closing.cancel()
        await asyncio.gather(*tasks, closing, return_exceptions=True)
    if pending:
        await ing.send([RawChunk(source=n, lines=[ln.rstrip(b"\r\n").decode("latin-1") for ln, _ in ls],
                                 recv_times=[t for _, t in ls]) for n, ls in pending.items()])


async def ingest(specs: Sequence[SourceSpec], settings: StreamSettings, *, rate: float | None = None,
                 batch_lines: int = 2000, stop: asyncio.Event | None = None) -> IngestStats:
    """Send ``specs`` to the raw topic: recordings replayed (then ended), live feeds until ``stop``."""
    live = [s for s in specs if s.kind in ("tcp", "udp", "stdin")]
    files = [s for s in specs if s.kind == "file"]
    if [s for s in specs if s.kind == "csv"]:
        raise ValueError("decoded tables (CSV) go through 'maritime replay'; ingest sends NMEA lines")
    async with Ingest(settings, len(specs)) as ing:
        if files and not live:
            await replay_files(ing, files, batch_lines=batch_lines, rate=rate,
                               start_time=settings.detection.ingest.start_time)
        elif live:
            await stream_live(ing, live, batch_lines=batch_lines, stop=stop)
    logger.info("ingest sent %d lines in %d sequences", ing.stats.lines, ing.stats.batches)
    return ing.stats
