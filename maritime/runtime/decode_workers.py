"""Decoding in worker processes: a replay's files decoded beside the detectors, with the same results.

The embedded replay spends about two fifths of its time decoding and putting
each file in event-time order, and the rest in the detectors. With
``workers`` > 1 each NMEA file is decoded in one of ``workers - 1`` worker
processes (:class:`DecodePool`), exactly as :meth:`Pipeline._ordered` does
it in one process: one decoder and one reorder window per file, the same
settings, the same first timestamp and default time. The worker sends back,
chunk by chunk, everything that happened in the order it happened: lines
rejected (for the dead-letter file), messages released in event-time order,
and late messages (which may revise a dark gap). The main process replays
those events in that order, at the point of the merge where the one-process
replay would meet them, so alerts, statuses, dead letters and the summary
are the same as with ``workers`` = 1; only the wall-clock time differs.

The common event, a released message that is one position report, travels
as a fixed-width binary record (:data:`POSITION_RECORD`, its payload beside
it), a run of them as one bytes object: the main process makes each
Position from the record's fields in C, with no intermediate objects. The
rest (static reports, late and rejected lines, counters) is msgpack. On the
simulated 24 h day this took the worker from 4.1 to 3.0 s and the main
process's unpacking from 0.43 to 0.31 s.

Each file's chunks come back in order (one worker owns a file, and a worker
runs its requests in order); the main process keeps at most two chunks of a
file in flight or waiting (bounded memory), asking for the next one as soon
as it starts on the last.

Live feeds (:class:`LiveDecodePool`, ``maritime watch --workers``) work the
same way batch by batch: each feed's batches go to one worker, in order, and
the main process handles what each batch gave as it would have decoded it.

A worker that dies loses nothing in a replay: its files are decoded again in
the main process from their start, the chunks already replayed skipped. In a
watch its feeds are decoded in the main process from then on, the batches
already sent to it included.

Why not the partitioned core (vessel and tile partitions) in processes: on
400,000 lines of a simulated Caribbean day, one process of it did 21,600
lines/s without its table exports, against 32,000–40,000 for the embedded
run (each position goes through a vessel stage and, with the tile halos, 1.7
times through a tile stage, as rows), so two of them on two cores are no
faster than the embedded run; and it is not exact (feed outages are judged
per vessel partition, lanes judge lateness each on its own lines).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import signal
import struct
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import msgspec

from maritime.config import Settings
from maritime.ingest.decoders import ClockedDecoder, first_timestamp, source_decoder
from maritime.ingest.errors import DecodeStats, Rejected
from maritime.ingest.eventtime import reorder_window
from maritime.ingest.messages import new_position
from maritime.ingest.ordering import env_run_items, ordered_lines
from maritime.ingest.sources import ReadProgress, SourceError, SourceSpec
from maritime.models import BaseStationReport, OtherMessage, Position, Record, VesselInfo

logger = logging.getLogger(__name__)

#: lines a worker decodes per request (about 0.1 s of work)
CHUNK_LINES = 16_384

# the kinds of event a worker sends, in the order they happened
_RELEASED = 0
_LATE = 1
_REJECT = 2
_POSITIONS = 3  # a run of released positions as fixed-width records: (_POSITIONS, records, payloads)

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder()


def default_workers() -> int:
    """The cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


# -- records on the wire ------------------------------------------------------------------
# A record travels as a list of its fields without the source (every record of a file carries the file's
# name); the four kinds have different lengths.


def _pack(rec: Record) -> tuple[Any, ...]:
    if isinstance(rec, Position):
        return (rec.mmsi, rec.time_s, rec.lat, rec.lon, rec.sog_kn, rec.cog_deg, rec.heading_deg, rec.nav_status,
                rec.msg_type, rec.time_err_s)
    if isinstance(rec, VesselInfo):
        return (rec.mmsi, rec.time_s, rec.name, rec.callsign, rec.imo, rec.ship_type, rec.to_bow_m, rec.to_stern_m,
                rec.to_port_m, rec.to_starboard_m, rec.draught_m, rec.destination, rec.msg_type, rec.eta_s)
    if isinstance(rec, BaseStationReport):
        return (rec.mmsi, rec.time_s, rec.lat, rec.lon, rec.station_utc_s, rec.msg_type)
    return (rec.mmsi, rec.time_s, rec.msg_type)


def _unpack(f: list[Any], source: str) -> Record:
    n = len(f)
    if n == 10:
        return new_position(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], source, f[9])
    if n == 14:
        return VesselInfo(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12], source,
                          f[13])
    if n == 6:
        return BaseStationReport(f[0], f[1], f[2], f[3], f[4], f[5], source)
    return OtherMessage(f[0], f[1], f[2], source)


#: one released position between processes (:class:`PositionPacker`): the release time, ``time_s``, ``lat``,
#: ``lon``, ``sog_kn``, ``cog_deg``, ``time_err_s`` (float64), then ``mmsi``, ``heading_deg``, ``nav_status``,
#: ``msg_type``, the payload's length (-1: None) and the flags of the fields that are None (int64); native byte
#: order without padding (a worker and its main process run one build on one machine). 104 bytes.
POSITION_RECORD = struct.Struct("=7d6q")
_NO_SOG, _NO_COG, _NO_HEADING, _NO_STATUS = 1, 2, 4, 8
_INT64 = (-(2**63), 2**63 - 1)


def _int64(x: object) -> bool:
    return type(x) is int and _INT64[0] <= x <= _INT64[1]


class PositionPacker:
    """Released messages that are one :class:`Position` of the decoder's own types (float times and
    coordinates, int identifiers), kept as :data:`POSITION_RECORD` records and their payloads: what a decode
    worker sends for its common message instead of msgpack lists (the main process makes each Position from
    the record's fields: :func:`positions_run`). The typed core's ``PositionPacker`` is this, in C."""

    def __init__(self) -> None:
        self.recs = bytearray()
        self.payloads = bytearray()
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def add(self, t: object, payload: object, records: object) -> bool:
        """Keep ``(t, (payload, records))`` when it is one Position of the expected types (True); anything else is
        left to the caller (False) and nothing is kept."""
        if type(t) is not float or type(records) is not list or len(records) != 1:
            return False
        rec = records[0]
        if type(rec) is not Position or not (payload is None or type(payload) is bytes):
            return False
        if not all(type(v) is float for v in (rec.time_s, rec.lat, rec.lon, rec.time_err_s)):
            return False
        sog, cog, heading, status = rec.sog_kn, rec.cog_deg, rec.heading_deg, rec.nav_status
        if not ((sog is None or type(sog) is float) and (cog is None or type(cog) is float)
                and (heading is None or _int64(heading)) and (status is None or _int64(status))
                and _int64(rec.mmsi) and _int64(rec.msg_type)):
            return False
        flags = ((_NO_SOG if sog is None else 0) | (_NO_COG if cog is None else 0)
                 | (_NO_HEADING if heading is None else 0) | (_NO_STATUS if status is None else 0))
        self.recs += POSITION_RECORD.pack(
            t, rec.time_s, rec.lat, rec.lon, 0.0 if sog is None else sog, 0.0 if cog is None else cog,
            rec.time_err_s, rec.mmsi, 0 if heading is None else heading, 0 if status is None else status,
            rec.msg_type, -1 if payload is None else len(payload), flags)
        if payload:
            self.payloads += payload
        self.n += 1
        return True

    def take(self) -> tuple[bytes, bytes]:
        """The records kept and their payloads; the packer is then empty."""
        got = (bytes(self.recs), bytes(self.payloads))
        self.recs, self.payloads, self.n = bytearray(), bytearray(), 0
        return got


def positions_run(recs: bytes, payloads: bytes, source: str) -> list[tuple[float, Any]]:
    """The messages a :class:`PositionPacker` kept, each as ``(t, (payload, [Position]))``, ``source`` their
    source (the typed core's ``positions_run`` is this, in C)."""
    if len(recs) % POSITION_RECORD.size:
        raise ValueError(f"position records of {len(recs)} bytes: not a whole number of records")
    out: list[tuple[float, Any]] = []
    at = 0
    for (t, time_s, lat, lon, sog, cog, err, mmsi, heading, status, msg_type, n,
         flags) in POSITION_RECORD.iter_unpack(recs):
        payload = None
        if n >= 0:
            if at + n > len(payloads):
                raise ValueError("position records longer than their payloads")
            payload, at = payloads[at:at + n], at + n
        made = new_position(mmsi, time_s, lat, lon, None if flags & _NO_SOG else sog,
                            None if flags & _NO_COG else cog, None if flags & _NO_HEADING else heading,
                            None if flags & _NO_STATUS else status, msg_type, source, err)
        out.append((t, (payload, [made])))
    if at != len(payloads):
        raise ValueError("payloads left over after the position records")
    return out


def position_packer() -> Any:
    """A packer for a worker: the typed core's when it is built, else :class:`PositionPacker`."""
    from maritime.core import load

    core = load("lines")
    return core.PositionPacker() if core is not None else PositionPacker()


def _released_run(events: list[Any], start: int, source: str, unpack: Callable[[list[Any], str], Record]
                  ) -> tuple[list[tuple[float, Any]], int]:
    """The released messages from ``events[start]`` up to the first event of another kind, each as ``(time,
    (payload, records))``, and the index of the first event not taken (the typed core's ``released_run`` is
    this, in C)."""
    out = []
    i = start
    while i < len(events) and events[i][0] == _RELEASED:
        ev = events[i]
        recs = ev[3]
        f = recs[0] if recs else None
        if f is not None and len(recs) == 1 and len(f) == 10:  # one position: the common case, inline
            made = [new_position(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], source, f[9])]
        else:
            made = [unpack(f, source) for f in recs]
        out.append((ev[1], (ev[2], made)))
        i += 1
    return out, i


def _stats_of(v: list[Any]) -> DecodeStats:
    out = DecodeStats(v[0], v[1], duplicates=v[5])
    out.messages_by_type.update({int(k): n for k, n in v[2].items()})
    out.rejected.update(v[3])
    out.warnings.update(v[4])
    return out


def _since(s: DecodeStats, sent: DecodeStats) -> list[Any]:
    """The counters added to ``s`` since ``sent`` (a copy of them when last sent), and ``sent`` brought up to
    date. The decoder's own counters are never reset: its line count tells fragments of one message from
    fragments of another."""
    out = [s.lines - sent.lines, s.messages - sent.messages, dict(s.messages_by_type - sent.messages_by_type),
           dict(s.rejected - sent.rejected), dict(s.warnings - sent.warnings), s.duplicates - sent.duplicates]
    sent.lines, sent.messages, sent.duplicates = s.lines, s.messages, s.duplicates
    sent.messages_by_type = s.messages_by_type.copy()
    sent.rejected = s.rejected.copy()
    sent.warnings = s.warnings.copy()
    return out


def _pools(settings: Settings, default_time_s: float, specs: list[SourceSpec], processes: int
           ) -> list[ProcessPoolExecutor]:
    """One single-process pool per worker (a worker runs its requests in the order they were made)."""
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads and sockets
    level = logging.getLogger().getEffectiveLevel()
    return [ProcessPoolExecutor(1, mp_context=ctx, initializer=_init_worker,
                                initargs=(settings, default_time_s, specs, level))
            for _ in range(max(1, processes))]


# -- in the worker --------------------------------------------------------------------------


class _FileDecode:
    """One file being decoded in a worker: its decoder, reorder window and the events not yet sent."""

    def __init__(self, spec: SourceSpec, settings: Settings, default_time_s: float) -> None:

        ing = settings.ingest
        self.events: list[Any] = []
        self.stats = DecodeStats()
        self.sent = DecodeStats()  # the counters as last sent
        self.dec = source_decoder(settings, spec.name, default_time_s, self._reject, self.stats)
        if not ing.start_time:
            first = first_timestamp(spec)
            if first is not None:
                self.dec.default_time_s = first
        self.packer = position_packer()
        self.reorder = reorder_window(ing.reorder_window_of(spec.name), on_late=self._late)
        self.where = ReadProgress()
        # a bounded input is read in event-time order (its sources' clocks judged on the way)
        self.lines = ordered_lines(spec, settings, self.dec.default_time_s, self._reject, self.stats, self.where,
                                   env_run_items())

    def _positions(self) -> None:
        """The positions packed so far, as one event (before any other event, so the order is kept)."""
        if len(self.packer):
            self.events.append((_POSITIONS, *self.packer.take()))

    def _released(self, t: float, payload: bytes | None, records: list[Record]) -> None:
        """A released message the packer did not take, as msgpack fields (after the positions packed before it)."""
        self._positions()
        self.events.append((_RELEASED, t, payload, [_pack(r) for r in records]))

    def _reject(self, rej: Rejected) -> None:
        self._positions()
        self.events.append((_REJECT, rej.reason, rej.message, rej.line, rej.time_s))

    def _late(self, time_s: float, item: tuple[bytes | None, list[Record]]) -> None:
        self._positions()
        payload, records = item
        self.events.append((_LATE, time_s, payload, [_pack(r) for r in records]))

    def chunk(self, size: int) -> tuple[bytes, bool]:
        """Decode up to ``size`` more lines; the events, the counters since the last chunk, the bytes read and
        whether the file is done, packed; and whether it is done."""
        decode = self.dec.decode_line
        push = self.reorder.push
        pack = self.packer.add
        n = 0
        error: str | None = None
        try:
            for _t, line, assigned in itertools.islice(self.lines, size):
                n += 1
                out = decode(line, None, assigned)
                if out is None:
                    continue
                recs = out[1]
                if recs:
                    for t, (payload, records) in push(recs[0].time_s, out):
                        if not pack(t, payload, records):
                            self._released(t, payload, records)
        except SourceError as err:  # a damaged file: what came before is sent, then the reason
            error = str(err)
        done = n < size or error is not None
        if done and error is None:
            self.dec.close()
            for t, (payload, records) in self.reorder.flush():
                if not pack(t, payload, records):
                    self._released(t, payload, records)
        self._positions()
        ev, self.events = self.events, []
        stats = _since(self.stats, self.sent)
        return _encoder.encode((ev, stats, self.where.done_bytes(), self.where.total_bytes, done, error)), done


_FILES: dict[int, _FileDecode] = {}
_CONTEXT: dict[str, Any] = {}


def _init_worker(settings: Settings, default_time_s: float, specs: list[SourceSpec], log_level: int) -> None:
    # Ctrl-C is the main process's to handle: it stops the workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s")
    _CONTEXT.update(settings=settings, default_time_s=default_time_s, specs=specs)


def _decode_chunk(index: int, size: int) -> bytes:
    """In a worker: the next chunk of file ``index`` (opened on its first chunk)."""
    f = _FILES.get(index)
    if f is None:
        f = _FILES[index] = _FileDecode(_CONTEXT["specs"][index], _CONTEXT["settings"], _CONTEXT["default_time_s"])
    got, done = f.chunk(size)
    if done:
        del _FILES[index]
    return got


# -- in the main process ----------------------------------------------------------------------


def worker_dead(pool: ProcessPoolExecutor) -> bool:
    """Whether a worker process of ``pool`` has died."""
    procs = getattr(pool, "_processes", None) or {}  # the executor's own map of its processes
    return any(not p.is_alive() for p in list(procs.values()))


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Shut a worker pool down; one whose worker died is not waited for.

    A worker killed while it wrote a result leaves the executor's thread reading the rest of a message that
    never comes (this process holds the other end of the pipe open): the pipe's write end is closed here, so
    the read ends and the thread with it, instead of the shutdown waiting for it forever.

    And the executor's own clean-up of a broken pool can stop half-way: on Python 3.11 it raises
    ``InvalidStateError`` at a future that was cancelled (as a watch cancels what it waited for from a dead
    worker) before it closes its call queue's pipe, and that queue's feeder thread then blocks for ever writing to
    the dead worker, with the interpreter waiting for it at exit (a test process hung so in CI). So the other
    workers are stopped here, and the call queue is told that exit does not wait for its thread."""
    if not worker_dead(pool):
        pool.shutdown(wait=True, cancel_futures=True)
        return
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            proc.terminate()
    call_queue = getattr(pool, "_call_queue", None)  # the executor's own queue of calls to its workers
    if call_queue is not None:
        call_queue.cancel_join_thread()
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)  # the executor's own result pipe
    if writer is not None:
        writer.close()
    pool.shutdown(wait=False, cancel_futures=True)


def worker_result(fut: Future[bytes], pool: ProcessPoolExecutor, poll_s: float = 2.0) -> bytes:
    """``fut.result()``, or :class:`BrokenProcessPool` once the worker is found dead.

    A worker killed while it writes a large result can leave the executor waiting on the half-written message
    forever, never failing the futures; so the result is awaited in steps, and the worker checked between."""
    while True:
        try:
            return fut.result(timeout=poll_s)
        except TimeoutError:
            if worker_dead(pool):
                raise BrokenProcessPool("its worker process died") from None


@dataclass(slots=True)
class _Progress:
    done: int = 0
    total: int | None = None


class DecodePool:
    """Worker processes decoding a replay's NMEA files; :meth:`stream` gives one file's messages in
    event-time order, as :meth:`Pipeline._ordered` would."""

    def __init__(self, settings: Settings, specs: Sequence[SourceSpec], processes: int, default_time_s: float,
                 on_reject: Callable[[Rejected], None], on_late: Callable[[float, Any], None],
                 stats: DecodeStats, chunk_lines: int | None = None) -> None:
        self.specs = list(specs)
        self.settings = settings
        self.default_time_s = default_time_s
        self.on_reject = on_reject
        self.on_late = on_late
        self.stats = stats
        self.chunk_lines = chunk_lines or CHUNK_LINES
        self.progress = [_Progress() for _ in self.specs]
        self.pools = _pools(settings, default_time_s, self.specs, processes)
        # biggest files first, each to the worker with the fewest bytes so far
        sizes = [file_size(s) for s in self.specs]
        load = [0] * len(self.pools)
        self.owner = [0] * len(self.specs)
        for i in sorted(range(len(self.specs)), key=lambda i: -sizes[i]):
            w = min(range(len(load)), key=lambda k: load[k])
            self.owner[i] = w
            load[w] += sizes[i]
        self._inflight: list[deque[Future[bytes]]] = [deque() for _ in self.specs]

    def _ask(self, index: int) -> None:
        try:
            fut = self.pools[self.owner[index]].submit(_decode_chunk, index, self.chunk_lines)
        except BrokenProcessPool:
            return  # the worker is gone: the next chunk is decoded here (see :meth:`_next`)
        self._inflight[index].append(fut)

    def _next(self, index: int, taken: int, local: _FileDecode | None) -> tuple[bytes, _FileDecode | None]:
        """Chunk ``taken`` of file ``index``: from its worker, or, once the worker has died, decoded here. A
        file whose worker died is decoded again from its start in this process, the ``taken`` chunks already
        replayed skipped (decoding is deterministic: the same chunks come out), so nothing is lost or doubled."""
        queue = self._inflight[index]
        if local is None:
            try:
                if not queue:
                    raise BrokenProcessPool("no request could be sent to it")
                return worker_result(queue.popleft(), self.pools[self.owner[index]]), None
            except BrokenProcessPool as err:
                spec = self.specs[index]
                logger.error("%s: its decode worker stopped (%s); decoding it in this process from its start, "
                             "the %d chunks already replayed skipped", spec.name, err, taken)
                queue.clear()
                local = _FileDecode(spec, self.settings, self.default_time_s)
                for _ in range(taken):
                    local.chunk(self.chunk_lines)
        return local.chunk(self.chunk_lines)[0], local

    def stream(self, index: int, on_chunk: Callable[[], None] | None = None) -> Iterator[tuple[float, Any]]:
        """File ``index``'s messages in event-time order; rejected and late lines are handed to ``on_reject``
        and ``on_late`` where the one-process replay would meet them; ``on_chunk`` after each chunk."""
        source = self.specs[index].name
        if not self._inflight[index]:
            self._ask(index)
        on_reject = self.on_reject
        on_late = self.on_late
        local: _FileDecode | None = None  # the file decoded here (its worker died)
        taken = 0
        from maritime.core import load

        core = load("lines")
        released_run = core.released_run if core is not None else _released_run
        run_of_positions = core.positions_run if core is not None else positions_run
        while True:
            packed, local = self._next(index, taken, local)
            taken += 1
            events, stats, done_bytes, total, done, error = _decoder.decode(packed)
            if not done and local is None:
                self._ask(index)  # decoded while this one is worked through
            self.stats.merge(_stats_of(stats))
            prog = self.progress[index]
            prog.done, prog.total = done_bytes, total
            i = 0
            while i < len(events):
                made, i = released_run(events, i, source, _unpack)  # the released messages, up to another kind
                yield from made
                if i == len(events):
                    break
                ev = events[i]
                i += 1
                kind = ev[0]
                if kind == _POSITIONS:
                    yield from run_of_positions(ev[1], ev[2], source)
                elif kind == _RELEASED:  # (one the C run left, of a shape it does not take)
                    yield ev[1], (ev[2], [_unpack(f, source) for f in ev[3]])
                elif kind == _LATE:
                    on_late(ev[1], (ev[2], [_unpack(f, source) for f in ev[3]]))
                else:
                    on_reject(Rejected(ev[1], ev[2], source, ev[3], ev[4]))
            if error is not None:
                raise SourceError(error)
            if on_chunk is not None:
                on_chunk()
            if done:
                return

    def start(self) -> None:
        """Ask for every file's first chunk (the merge needs each file's first message)."""
        for i, q in enumerate(self._inflight):
            if not q:
                self._ask(i)

    def close(self) -> None:
        """Stop the workers (work still queued is dropped)."""
        for p in self.pools:
            stop_pool(p)



# -- live feeds ---------------------------------------------------------------------------------


class _LiveDecode:
    """One live source's decoder in a worker."""

    def __init__(self, name: str, settings: Settings, default_time_s: float) -> None:
        self.events: list[Any] = []
        self.stats = DecodeStats()
        self.sent = DecodeStats()  # the counters as last sent
        self.dec = ClockedDecoder(source_decoder(settings, name, default_time_s, self._reject, self.stats), settings)

    def _reject(self, rej: Rejected) -> None:
        self.events.append((_REJECT, rej.reason, rej.message, rej.line, rej.time_s))

    def _add(self, released: list[tuple[float, str, tuple[bytes, list[Record]]]]) -> None:
        for t, key, (payload, records) in released:
            self.events.append((_RELEASED, t, payload, [_pack(r) for r in records], key))

    def batch(self, lines: list[bytes], recv: list[float]) -> bytes:
        decode = self.dec.decode
        for line, t in zip(lines, recv, strict=True):
            self._add(decode(line, t))
        return self._take()

    def flush(self) -> bytes:
        self._add(self.dec.flush())
        return self._take()

    def close(self) -> bytes:
        self._add(self.dec.close())
        return self._take()

    def _take(self) -> bytes:
        got = _encoder.encode((self.events, _since(self.stats, self.sent)))
        self.events = []
        return got


_LIVE: dict[int, _LiveDecode] = {}


def _live_source(index: int) -> _LiveDecode:
    got = _LIVE.get(index)
    if got is None:
        got = _LIVE[index] = _LiveDecode(_CONTEXT["specs"][index].name, _CONTEXT["settings"],
                                         _CONTEXT["default_time_s"])
    return got


def _live_batch(index: int, lines: list[bytes], recv: list[float]) -> bytes:
    """In a worker: decode one batch of live source ``index``."""
    return _live_source(index).batch(lines, recv)


def _live_flush(index: int) -> bytes:
    """In a worker: live source ``index`` is quiet (what its clocks hold is judged)."""
    return _live_source(index).flush()


def _live_close(index: int) -> bytes:
    """In a worker: live source ``index`` ended (its waiting fragments are orphans)."""
    got = _live_source(index).close()
    del _LIVE[index]
    return got


class LiveDecodePool:
    """Worker processes decoding live feeds: each source's batches go to one worker, in order; the main process
    gets, per batch, the decoded messages and the rejected lines in the order the one-process loop meets them."""

    def __init__(self, settings: Settings, specs: Sequence[SourceSpec], processes: int, default_time_s: float,
                 on_reject: Callable[[Rejected], None], stats: DecodeStats) -> None:
        self.names = [s.name for s in specs]
        self.on_reject = on_reject
        self.stats = stats
        self.pools = _pools(settings, default_time_s, list(specs), processes)
        #: False once a worker has died: every feed is then decoded in the main process
        self.alive = True

    def _send(self, index: int, fn: Callable[..., bytes], *args: Any) -> Future[bytes] | None:
        """Run ``fn(index, *args)`` in the worker of source ``index`` (None: the workers are gone)."""
        if not self.alive:
            return None
        try:
            return self.pools[index % len(self.pools)].submit(fn, index, *args)
        except BrokenProcessPool:
            return None

    def submit(self, index: int, batch: list[tuple[bytes, float]]) -> Future[bytes] | None:
        """Decode a batch of ``(line, receive_time_s)`` of source ``index`` (None: the workers are gone, decode
        it here)."""
        return self._send(index, _live_batch, [b[0] for b in batch], [b[1] for b in batch])

    def flush_source(self, index: int) -> Future[bytes] | None:
        """Source ``index`` is quiet: what its clocks hold, judged (None: the workers are gone)."""
        return self._send(index, _live_flush)

    def close_source(self, index: int) -> Future[bytes] | None:
        """Source ``index`` has ended (None: the workers are gone, close it here)."""
        return self._send(index, _live_close)

    def messages(self, index: int, packed: bytes) -> Iterator[tuple[str, tuple[bytes, list[Record]]]]:
        """A decoded batch: its ``(source, (payload, records))``; rejected lines handed to ``on_reject`` on the
        way."""
        events, stats = _decoder.decode(packed)
        self.stats.merge(_stats_of(stats))
        source = self.names[index]
        for ev in events:
            if ev[0] == _RELEASED:
                yield ev[4], (ev[2], [_unpack(f, source) for f in ev[3]])
            else:
                self.on_reject(Rejected(ev[1], ev[2], source, ev[3], ev[4]))

    def close(self) -> None:
        """Stop the workers."""
        for p in self.pools:
            stop_pool(p)


def file_size(spec: SourceSpec) -> int:
    """The size of a file source in bytes (0 when it cannot be read: the replay will say why)."""
    try:
        return os.path.getsize(spec.target)
    except OSError:
        return 0
