"""The embedded runner: source → decode → event-time order → vessel state → detectors → sinks.

Replays run synchronously, as fast as the CPU allows: each file is decoded
and put in event-time order through a bounded reorder window, files are
merged by event time (so two receivers' logs of one day interleave), exact
duplicates are dropped, and records go through the tracker and the
detectors. Live feeds (:meth:`Pipeline.run_live`) run the same steps in one
asyncio loop. Detectors see only event time: "now" is the time of the
record being processed, and the watermark trails it by the reorder window.
"""

from __future__ import annotations

import asyncio
import gc
import heapq
import itertools
import logging
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from maritime.config import Settings
from maritime.delivery.base import Sink
from maritime.detectors.protocols import Detector, Gate
from maritime.detectors.tracker import Tracker
from maritime.detectors.watchlist import Watchlist
from maritime.ingest.ais import AisDecoder
from maritime.ingest.decoders import ClockedDecoder, first_timestamp, source_decoder
from maritime.ingest.errors import DecodeStats, Reason, Rejected
from maritime.ingest.eventtime import Deduplicator, SourceMerge, reorder_window
from maritime.ingest.formats import resolve
from maritime.ingest.ordering import decoded_items, env_run_items, ordered_lines, ordered_records
from maritime.ingest.sources import (
    LineSplitter,
    ReadProgress,
    SourceSpec,
    iter_lines,
    tcp_lines,
    udp_lines,
)
from maritime.models import Alert, Position, Record, iso, parse_iso
from maritime.runtime.assembly import Assembly, Chain, Enrichment, Feed
from maritime.runtime.decode_workers import DecodePool, LiveDecodePool, file_size, worker_dead, worker_result
from maritime.runtime.flood import FloodGate

logger = logging.getLogger(__name__)


# -- run statistics ---------------------------------------------------------------------


@dataclass(slots=True)
class RunStats:
    """Everything the run summary reports (``summary.schema.json``)."""

    decode: DecodeStats = field(default_factory=DecodeStats)
    duplicates: int = 0
    positions: int = 0
    late_positions: int = 0
    static_reports: int = 0
    alert_ids: dict[str, str] = field(default_factory=dict)  # id -> type
    alert_records: int = 0
    first_time_s: float | None = None
    last_time_s: float | None = None
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0
    #: a live run stopped (signal, duration) rather than reaching the end of its input
    stopped: bool = False
    #: lines received but not yet decoded when a live run stopped
    unprocessed_at_stop: int = 0
    #: alert records sent, by (type, status)
    records_by: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: live feeds: lines read per feed, when each was last heard (wall s), its latest event time (s) per source
    feed_lines: Counter[str] = field(default_factory=Counter)
    feed_heard: dict[str, float] = field(default_factory=dict)
    source_event_s: dict[str, float] = field(default_factory=dict)

    def summary(self, vessels: int) -> dict[str, Any]:
        """The summary JSON object (contract names)."""
        by_type = Counter(self.alert_ids.values())
        return {
            "lines": self.decode.lines,
            "messages": self.decode.messages,
            "messages_by_type": {str(k): v for k, v in sorted(self.decode.messages_by_type.items())},
            "rejected": dict(sorted(self.decode.rejected.items())),
            "duplicates": self.duplicates + self.decode.duplicates,
            "vessels": vessels,
            "positions": self.positions,
            "late_positions": self.late_positions,
            "alerts_by_type": dict(sorted(by_type.items())),
            "first_time": iso(self.first_time_s),
            "last_time": iso(self.last_time_s),
            "seconds": round(self.seconds, 3),
            "warnings": dict(sorted(self.decode.warnings.items())),
            "alert_records": self.alert_records,
            **({"stopped": True, "unprocessed_at_stop": self.unprocessed_at_stop} if self.stopped else {}),
        }


# -- the pipeline ---------------------------------------------------------------------


_Item = tuple[bytes | None, list[Record]]


@dataclass(frozen=True, slots=True)
class ReplayProgress:
    """How far a replay has got: lines and bytes read (of ``bytes_total``; None for stdin), event time reached."""

    lines: int
    bytes_done: int
    bytes_total: int | None
    event_time_s: float | None


class Pipeline:
    """The embedded runtime: one process, detectors and sinks in it."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        assembly: Assembly | None = None,
        sinks: Sequence[Sink] = (),
        on_reject: Callable[[Rejected], None] | None = None,
    ) -> None:
        """``assembly``: the stages to run (None: decode and track only, no detector)."""
        self.settings = settings or (assembly.settings if assembly is not None else Settings())
        self.assembly = assembly
        self.sinks = list(sinks)
        self.on_reject = on_reject
        self.tracker = Tracker()
        self.stats = RunStats()
        self._dedup = Deduplicator(self.settings.ingest.dedup_window_s)
        gates: list[Gate] = []
        detectors: list[Detector] = []
        #: what is added to an alert before it reaches the sinks (watchlist, risk), then kept in profiles
        self.enrichment = Enrichment()
        #: the watchlist, when one is used
        self.watchlist: Any = None
        if assembly is not None:
            gates, detectors = assembly.vessel_stage(self.tracker, with_tiles=True)
            self.watchlist = next((d for d in detectors if isinstance(d, Watchlist)), None)
            self.enrichment = assembly.enrichment(self.tracker, self.watchlist)
        #: the one per-position sequence: gates, tracker, detectors, listeners
        self.chain = Chain(self.tracker, gates, detectors, self.emit,
                           evict_after_s=self.settings.evict_after_h * 3600)
        #: the per-message step (compiled with the chain): de-duplication across streams, the watermark, the chain
        self.feed = Feed(self.chain, self.stats, self._dedup, self.settings.tick_s, self.advance)
        #: the arrivals stage (``arrival_risk``, the daily boards): fed the accepted records and every alert
        self.arrivals: Any = None
        if assembly is not None and self.settings.arrivals.enabled:
            from maritime.runtime.arrival_watch import ArrivalWatch

            self.arrivals = ArrivalWatch(self.settings, assembly)
            self.chain.listeners.append(self.arrivals.listener())
            self.arrivals.board_sinks.extend(k for k in self.sinks if hasattr(k, "write_board"))
        #: floods of new events held back (per type and source, event time)
        self.flood: FloodGate | None = (
            FloodGate(self.settings.flood_max_new, self.settings.flood_window_min * 60, self._source_of)
            if self.settings.flood_max_new > 0 else None)
        #: where a live run keeps its state to resume (:class:`~maritime.runtime.checkpoint.Checkpoint`), if anywhere
        self.checkpoint: Any = None
        #: holds a recording to a chosen pace (:class:`~maritime.runtime.pacer.Pacer`, ``watch --rate``); None: at once
        self.pacer: Any = None
        #: the vessel-profile store, when profiles are kept
        self.profile_store: Any = assembly.profile_store if assembly is not None else None
        ing = self.settings.ingest
        self.default_time_s = parse_iso(ing.start_time) if ing.start_time else datetime.now(UTC).timestamp()

    @property
    def detectors(self) -> list[Detector]:
        """The detectors, in the order they see each position."""
        return self.chain.detectors

    @property
    def gates(self) -> list[Gate]:
        """The gates that may withhold a position from the detectors."""
        return self.chain.gates

    def add_listener(self, fn: Callable[[Record], None]) -> None:
        """Call ``fn`` with every accepted record (the live map uses this)."""
        self.chain.listeners.append(fn)

    # -- accounting ---------------------------------------------------------------

    def _reject(self, rej: Rejected) -> None:
        if self.on_reject is not None:
            self.on_reject(rej)

    def _late(self, time_s: float, item: Any) -> None:
        payload, records = item
        positions = [r for r in records if isinstance(r, Position)]
        if positions:
            # real, only late (a satellite batch): kept, and it may revise a dark gap
            self.stats.late_positions += len(positions)
            for p in positions:
                self.chain.late(p)
            return
        self.stats.decode.rejected[Reason.LATE] += 1
        src = records[0].source if records else ""
        self._reject(Rejected(Reason.LATE, "older than the reorder window allows", src,
                              (payload or b"").decode("ascii", "replace"), time_s))

    def decoder(self, source: str) -> AisDecoder:
        """A decoder for one input stream, counting into this run's statistics."""
        return source_decoder(self.settings, source, self.default_time_s, self._reject, self.stats.decode)

    # -- records in event-time order ---------------------------------------------------

    def process(self, time_s: float, item: _Item) -> None:
        """Handle one decoded message released in event-time order (:meth:`Feed.process`)."""
        self.feed.process(time_s, item)

    @property
    def _next_tick_s(self) -> float | None:
        """When (event time, s) the watermark next moves (kept in a checkpoint)."""
        return self.feed.next_tick_s

    @_next_tick_s.setter
    def _next_tick_s(self, value: float | None) -> None:
        self.feed.next_tick_s = value

    def advance(self, watermark_s: float) -> None:
        """Tell the detectors that event time has reached ``watermark_s``."""
        feed = self.feed
        feed.next_tick_s = watermark_s + self.settings.tick_s
        feed.current = None
        self.chain.watermark(watermark_s)
        if self.arrivals is not None:
            self.emit(self.arrivals.advance(watermark_s), enriched=True)
        if self.flood is not None:
            self.emit(self.flood.watermark(watermark_s))

    def _source_of(self, alert: Alert) -> str:
        """Where an alert's vessel was heard: the alert's own ``details.source``, else the report being judged,
        else the vessel's last position."""
        if alert.details.get("source"):
            return str(alert.details["source"])
        if alert.vessels:
            m = alert.vessels[0].mmsi
            cur = self.feed.current
            if cur is not None and cur.mmsi == m:
                return cur.source
            v = self.tracker.vessels.get(m)
            if v is not None and v.last is not None:
                return v.last.source
        return "all sources"

    def emit(self, alerts: Iterable[Alert], enriched: bool = False) -> None:
        """Send alerts to every sink and count them (a flood of new events held back first); the arrivals
        stage hears of each as the partitioned runtime's does, before the flood gate (``enriched``: alerts
        of that stage, enriched there)."""
        alerts = list(alerts)
        if self.arrivals is not None and not enriched:
            for a in alerts:
                self.arrivals.write(a)
        if self.flood is not None:
            alerts = self.flood.filter(alerts)
        for a in alerts:
            if not enriched:
                a = self.enrichment(a)
            self.stats.alert_ids[a.id] = a.type
            self.stats.alert_records += 1
            self.stats.records_by[(a.type, a.status)] += 1
            for sink in self.sinks:
                try:
                    sink.write(a)
                except Exception:  # one broken sink must not stop the others
                    logger.exception("sink %s failed on alert %s", type(sink).__name__, a.id)

    def finish(self, stopping: bool = False) -> dict[str, Any]:
        """End of input: final watermark, detectors' last word, sinks closed; the summary.

        ``stopping``: a live run is being stopped (a signal, ``--duration``), not at the end of its input: the
        arrivals stage does not judge every vessel once more (the next run's first check does), and the
        spooled sinks get :data:`STOP_SINK_S` to deliver what waits; the rest stays in their spools on disk."""
        end = self.stats.last_time_s
        self.stats.stopped = stopping
        kept = self.checkpoint is not None  # the run will be resumed: no end-of-input sweep, as at a stop
        if end is not None:
            self.advance(end)
            if kept:
                self.checkpoint.save(self)
            self.chain.finish(end)
            if self.arrivals is not None and not stopping and not kept:
                self.emit(self.arrivals.finish(end), enriched=True)
        if stopping:
            by = time.monotonic() + STOP_SINK_S
            for sink in self.sinks:
                if hasattr(sink, "close_by"):
                    sink.close_by = by
        for sink in self.sinks:
            try:
                sink.close()
            except Exception:
                logger.exception("closing sink %s failed", type(sink).__name__)
        if self.profile_store is not None:
            self.profile_store.commit()
        self.stats.seconds = time.perf_counter() - self.stats.started
        return self.summary()

    def summary(self) -> dict[str, Any]:
        """The run summary so far."""
        vessels = sum(1 for v in self.tracker if v.positions or v.name or v.ship_type)
        out = self.stats.summary(vessels)
        voyage = [d for d in self.chain.detectors if d.name == "voyage"]
        if voyage:
            # destination texts with nothing readable (control characters only), and empty ones
            out["destinations"] = {"malformed": sum(getattr(d, "malformed", 0) for d in voyage),
                                   "blank": sum(getattr(d, "blank", 0) for d in voyage)}
        return out

    # -- replay -------------------------------------------------------------------------

    def _ordered(self, spec: SourceSpec, progress: Callable[[], None] | None = None,
                 where: ReadProgress | None = None) -> Iterator[tuple[float, _Item]]:
        """One source's messages in event-time order."""
        window = self.settings.ingest.reorder_window_of(spec.name)
        reorder = reorder_window(window, on_late=self._late)  # the typed core's when built
        if spec.kind == "csv":  # a decoded table or JSON: its rows in event-time order
            for records in ordered_records(spec, self.settings, self.default_time_s, self._reject,
                                           self.stats.decode, env_run_items()):
                yield from reorder.push(records[0].time_s, (None, records))
            yield from reorder.flush()
            return
        dec = self.decoder(spec.name)
        if spec.kind == "file" and not self.settings.ingest.start_time:
            first = first_timestamp(spec)
            if first is not None:
                dec.default_time_s = first
        # a bounded input is read in event-time order (its sources' clocks judged on the way)
        yield from decoded_items(ordered_lines(spec, self.settings, dec.default_time_s, self._reject,
                                               self.stats.decode, where, env_run_items()),
                                 dec.decode_line, reorder.push, progress)
        dec.close()
        if progress is not None:
            progress()
        yield from reorder.flush()

    def _keep_zone_cells(self) -> None:
        """The zone cells earlier runs worked out, read from the cache folder as they are needed
        (:meth:`~maritime.zones.index.ZoneIndex.keep_cells`); :meth:`_save_zone_cells` at the run's end."""
        if self.assembly is not None and self.assembly.zones is not None:
            self.assembly.zones.keep_cells()

    def _save_zone_cells(self) -> None:
        if self.assembly is not None and self.assembly.zones is not None:
            self.assembly.zones.save_cells()

    def replay(self, specs: Sequence[SourceSpec], progress: Callable[[ReplayProgress], None] | None = None,
               workers: int = 1) -> dict[str, Any]:
        """Run recordings through the pipeline (merged by event time); return the summary.

        ``progress`` is called every 16,384 lines of a source and at the end of each, with the lines and
        bytes read so far over all sources, their total size, and the event time reached. ``workers`` > 1:
        NMEA files are decoded in ``workers - 1`` worker processes beside the detectors
        (:mod:`~maritime.runtime.decode_workers`), with the same results; inputs smaller than
        :data:`PARALLEL_MIN_BYTES` in all, standard input and CSV tables are read in this process."""
        specs = [resolve(s) for s in specs]  # each file's format, from its first lines unless given
        wheres = [ReadProgress() for _ in specs]
        pool = None
        pooled = [i for i, s in enumerate(specs) if s.kind == "file"]
        if workers > 1 and pooled and sum(file_size(specs[i]) for i in pooled) >= PARALLEL_MIN_BYTES:
            pool = DecodePool(self.settings, [specs[i] for i in pooled], workers - 1, self.default_time_s,
                              self._reject, self._late, self.stats.decode)
        slot = {i: k for k, i in enumerate(pooled)} if pool is not None else {}

        def bytes_of(i: int) -> tuple[int, int | None]:
            if i in slot and pool is not None:
                got = pool.progress[slot[i]]
                return got.done, got.total if got.total is not None else file_size(specs[i])
            return wheres[i].done_bytes(), wheres[i].total_bytes

        report = None
        if progress is not None:
            def report() -> None:
                done = [bytes_of(i) for i in range(len(specs))]
                totals = [t for _d, t in done]
                progress(ReplayProgress(
                    lines=self.stats.decode.lines,
                    bytes_done=sum(d for d, _t in done),
                    bytes_total=None if any(t is None for t in totals) else sum(t or 0 for t in totals),
                    event_time_s=self.stats.last_time_s))
        streams = [pool.stream(slot[i], report) if i in slot and pool is not None else self._ordered(s, report, w)
                   for i, (s, w) in enumerate(zip(specs, wheres, strict=True))]
        self.feed.dedup_across = len(specs) > 1
        self._keep_zone_cells()
        try:
            if pool is not None:
                pool.start()
            merged: Iterable[tuple[float, _Item]] = (
                streams[0] if len(streams) == 1 else heapq.merge(*streams, key=lambda x: x[0])
            )
            self.feed.run(merged)
        finally:
            if pool is not None:
                pool.close()
        summary = self.finish()
        self._save_zone_cells()
        return summary

    # -- live ---------------------------------------------------------------------------

    async def run_live(self, specs: Sequence[SourceSpec], stop: asyncio.Event | None = None, workers: int = 1
                       ) -> dict[str, Any]:
        """Run live feeds (TCP, UDP, or files/stdin) until ``stop`` is set or they end.

        ``workers`` > 1: the feeds are decoded in ``workers - 1`` worker processes (each feed in one, its
        batches in order) while this process runs the detectors on the batches before; what each batch gives
        is handled exactly as when it is decoded here. A worker that dies does not stop the watch: its feeds'
        batches, those already sent to it included, are decoded in this process from then on (the fragments
        it held waiting for the rest of their message are lost with it)."""
        stop = stop or asyncio.Event()
        ing = self.settings.ingest
        self._keep_zone_cells()
        # one reorder window and lateness per source; a quiet source leaves the watermark
        merge = SourceMerge(ing.reorder_window_s, ing.live_quiet_source_s, on_late=self._late)
        pool = (LiveDecodePool(self.settings, specs, workers - 1, self.default_time_s, self._reject,
                               self.stats.decode) if workers > 1 else None)
        here: dict[int, ClockedDecoder] = {}  # the feeds decoded in this process
        closed: set[int] = set()  # the feeds that ended
        # (feed, its worker's answer or None, the batch; None: the feed has ended)
        queue: asyncio.Queue[tuple[int, Future[bytes] | None, list[tuple[bytes, float]] | None] | None] = (
            asyncio.Queue(1000))

        resume = self.stats.feed_lines  # a resumed run: the lines of each file it has read already

        async def pump(index: int, spec: SourceSpec) -> None:
            # paced: small batches, so that what is shown never runs far ahead of its time
            async for batch in live_batches(spec, stop, resume.get(spec.name, 0), 20 if self.pacer else 2000):
                await queue.put((index, pool.submit(index, batch) if pool is not None else None, batch))
            # closed after its last batch is decoded: what still waits is an orphan
            await queue.put((index, pool.close_source(index) if pool is not None else None, None))

        tasks = [asyncio.create_task(pump(i, s)) for i, s in enumerate(specs)]

        async def closer() -> None:
            await asyncio.gather(*tasks, return_exceptions=True)
            await queue.put(None)

        event_s = self.stats.source_event_s

        def push(source: str, out: tuple[bytes, list[Record]]) -> None:
            t0 = out[1][0].time_s
            if t0 > event_s.get(source, float("-inf")):
                event_s[source] = t0
            for t, item in merge.push(source, t0, out):
                self.process(t, item)

        async def from_worker(index: int, fut: Future[bytes]) -> bool:
            assert pool is not None
            try:
                waiting = asyncio.wrap_future(fut)
                while True:  # a worker killed mid-write can leave the future pending forever: it is checked
                    done, _ = await asyncio.wait({waiting}, timeout=2.0)
                    if done:
                        packed = waiting.result()
                        break
                    if any(worker_dead(p) for p in pool.pools):
                        waiting.cancel()
                        raise BrokenProcessPool("its worker process died")
            except BrokenProcessPool as err:
                if pool.alive:
                    logger.error("a decode worker stopped (%s); its feeds are decoded in this process from now on",
                                 err)
                pool.alive = False
                return False
            for source, out in pool.messages(index, packed):
                push(source, out)
            return True

        closing = asyncio.create_task(closer())
        quiet_since = time.monotonic()
        try:
            while not stop.is_set():
                try:
                    got = await asyncio.wait_for(queue.get(), timeout=min(ing.live_idle_flush_s, 1.0))
                    quiet_since = time.monotonic()
                except TimeoutError:
                    if time.monotonic() - quiet_since < ing.live_idle_flush_s:
                        continue  # the feeds are quiet: what the clocks and reorder windows hold is handed on
                    for index in range(len(specs)):
                        if index in here:
                            for _t, source, decoded in here[index].flush():
                                push(source, decoded)
                        elif pool is not None and (fut := pool.flush_source(index)) is not None:
                            await from_worker(index, fut)
                    for t, item in merge.flush():
                        self.process(t, item)
                    continue
                if got is None:
                    break
                index, fut, batch = got
                if batch:
                    name = specs[index].name
                    self.stats.feed_lines[name] += len(batch)
                    self.stats.feed_heard[name] = time.time()
                if fut is not None and await from_worker(index, fut):
                    if batch is None:
                        closed.add(index)
                    continue
                dec = here.get(index)
                if dec is None:
                    dec = here[index] = ClockedDecoder(self.decoder(specs[index].name), self.settings)
                if batch is None:
                    closed.add(index)
                    for _t, source, decoded in dec.close():
                        push(source, decoded)
                    continue
                for line, recv in batch:
                    for _t, source, decoded in dec.decode(line, recv):
                        push(source, decoded)
                if self.pacer is not None:  # a recording at a chosen pace (watch --rate)
                    await self.pacer.wait(self.stats.last_time_s, stop)
                if self.checkpoint is not None and self.checkpoint.due():
                    self.checkpoint.save(self)
                if stop.is_set():
                    break
        finally:
            stopped = stop.is_set() and len(closed) < len(specs)
            stop.set()
            for task in tasks:
                task.cancel()
            closing.cancel()
            await asyncio.gather(*tasks, closing, return_exceptions=True)
        # batches received but not yet decoded when the run stopped: not decoded now (a backlog can take
        # longer than a stop may), counted and logged; a worker's queued batches are cancelled likewise
        backlog = 0
        while not queue.empty():
            item = queue.get_nowait()
            if item is None:
                continue
            _index, fut, batch = item
            if fut is not None:
                fut.cancel()
            backlog += len(batch or ())
        if backlog:
            self.stats.unprocessed_at_stop = backlog
            logger.warning("stopped with %d received lines not yet decoded: not processed", backlog)
        # the feeds still open when the run stops: what their clocks hold is judged, their fragments orphaned
        for index in range(len(specs)):
            if index in closed:
                continue
            if index in here:
                for _t, source, decoded in here[index].close():
                    push(source, decoded)
            elif pool is not None and pool.alive and (fut := pool.close_source(index)) is not None:
                try:
                    packed = worker_result(fut, pool.pools[index % len(pool.pools)])
                    for source, decoded in pool.messages(index, packed):
                        push(source, decoded)
                except BrokenProcessPool:
                    pass
        if pool is not None:
            pool.close()
        for t, item in merge.flush():
            self.process(t, item)
        summary = self.finish(stopping=stopped)
        self._save_zone_cells()
        return summary


#: how long a stopping live run lets its spooled sinks deliver before leaving the rest on disk (s)
STOP_SINK_S = 2.0


@contextmanager
def replay_gc() -> Iterator[None]:
    """Garbage collection tuned for a replay or a long run (used by ``maritime replay``, ``maritime watch`` and the
    Faust worker; it changes the process's settings while it lasts): what is loaded before it (zones, land mask,
    settings) is kept out of every collection, and the youngest generation is collected every 100,000
    allocations instead of 700 (each position makes short-lived records; the default threshold spends time
    scanning the detectors' long-lived state). Cycles are still collected, later. Measured: 4-6 % faster on a
    simulated day; 13 % of a Faust worker's samples were in the collector before it."""
    gc.collect()
    gc.freeze()
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


#: inputs smaller than this (bytes, all files together) are decoded in the replaying process whatever
#: ``workers`` says: starting a worker costs more than it saves
PARALLEL_MIN_BYTES = 8_000_000


def live_batches(spec: SourceSpec, stop: asyncio.Event, skip: int = 0, size: int = 2000
                 ) -> AsyncIterator[list[tuple[bytes, float]]]:
    """Batches of ``(line, receive_time_s)`` from a TCP or UDP feed, or a file or stdin read as one (a file's
    first ``skip`` lines are passed over: a resumed run has read them)."""
    if spec.kind == "tcp":
        return tcp_lines(spec.host, spec.port, stop=stop)
    if spec.kind == "udp":
        return udp_lines(spec.host, spec.port, stop=stop)
    return file_batches(spec, size=size, skip=skip if spec.kind == "file" else 0)


async def file_batches(spec: SourceSpec, size: int = 2000, max_waiting: int = 50_000, skip: int = 0
                       ) -> AsyncIterator[list[tuple[bytes, float]]]:
    """A file or stdin as batches for the live loop (receive time = now).

    A regular file never keeps a read waiting: it is read here, ``size`` lines a batch, each batch handing the
    loop back (several files interleave the same way every run). Stdin, a pipe or a FIFO may stay open and
    quiet: it is read in a thread so that the event loop never waits on it (``(cat day.nmea; sleep 1500) |
    maritime watch -`` leaves the map, the signals and the stop answering), and what it sent is handed on at
    once, not when a batch fills; at most ``max_waiting`` lines wait to be taken."""
    import stat

    if spec.kind == "file":
        try:
            regular = stat.S_ISREG(os.stat(spec.target).st_mode)
        except OSError:
            regular = True  # opening it says what is wrong
        if regular:
            batch: list[tuple[bytes, float]] = []
            lines = iter_lines(spec)
            if skip:
                passed = sum(1 for _ in itertools.islice(lines, skip))
                logger.info("%s: resuming after line %d", spec.name, passed)
            for line in lines:
                batch.append((line, time.time()))
                if len(batch) >= size:
                    yield batch
                    batch = []
                    await asyncio.sleep(0)
            if batch:
                yield batch
            return
    async for got in _threaded_batches(spec, size, max_waiting, skip):
        yield got


async def _threaded_batches(spec: SourceSpec, size: int, max_waiting: int, skip: int
                            ) -> AsyncIterator[list[tuple[bytes, float]]]:
    """Stdin, a pipe or a FIFO read in a thread (see :func:`file_batches`)."""
    import collections
    import threading

    loop = asyncio.get_running_loop()
    waiting: collections.deque[tuple[bytes, float] | BaseException | None] = collections.deque()
    cond = threading.Condition()
    ready = asyncio.Event()
    done = threading.Event()

    def stdin_lines() -> Iterator[bytes]:
        # the raw descriptor, not sys.stdin.buffer: a reader thread still waiting at exit must not hold the
        # buffered reader's lock (the interpreter would abort)
        import os
        import sys

        fd = sys.stdin.fileno()
        splitter = LineSplitter()
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                rest = splitter.reset()
                if rest.strip():
                    yield rest
                return
            yield from splitter.feed(chunk)

    def produce() -> None:
        item: BaseException | None = None
        try:
            lines = stdin_lines() if spec.kind == "stdin" else iter_lines(spec)
            if skip:
                passed = sum(1 for _ in itertools.islice(lines, skip))
                logger.info("%s: resuming after line %d", spec.name, passed)
            for line in lines:
                with cond:
                    while len(waiting) >= max_waiting and not done.is_set():
                        cond.wait(0.5)
                    if done.is_set():
                        return
                    waiting.append((line, time.time()))
                    first = len(waiting) == 1
                if first:
                    loop.call_soon_threadsafe(ready.set)
        except BaseException as err:  # handed to the reader (a damaged gzip file, a read error)
            item = err
        with cond:
            waiting.append(item)
        loop.call_soon_threadsafe(ready.set)

    reader = threading.Thread(target=produce, name=f"read-{spec.name}", daemon=True)
    reader.start()
    try:
        while True:
            await ready.wait()
            with cond:
                ready.clear()
                take = min(len(waiting), size)
                batch = [waiting.popleft() for _ in range(take)]
                if waiting:
                    ready.set()
                cond.notify()
            lines: list[tuple[bytes, float]] = []
            for item in batch:
                if item is None:
                    if lines:
                        yield lines
                    return
                if isinstance(item, BaseException):
                    raise item
                lines.append(item)
            if lines:
                yield lines
    finally:
        done.set()
        with cond:
            cond.notify_all()
