"""The detectors split across partitions, without a broker: the logic the Faust agents wrap.

The distributed runtime (``streams/``) moves data between three stages;
this module is what each stage does with a batch, so that it can be tested
and compared with the embedded :class:`~maritime.runtime.pipeline.Pipeline` without
Kafka, and so that the Faust agents stay thin.

1. **Decode** (:class:`DecodeRunner`, one per raw partition): the lines of
   each source through its own :class:`~maritime.ingest.ais.AisDecoder` and
   reorder window, exactly as the embedded replay does per file. Decoded
   records go out as compact rows to the vessel partition of their MMSI,
   with the watermark *ticks* of the source's event time (where the embedded
   pipeline would call ``on_watermark``) sent to every partition, so every
   partition sees the same event time whatever traffic it carries.
2. **Vessels** (:class:`VesselRunner`, one per vessel partition, keyed by
   MMSI): the identity gate, dark gaps and geofences, with their per-MMSI
   state exported per vessel for a Faust table. Accepted positions are
   forwarded, with the vessel's identity, to the spatial tile they are in and
   to the neighbouring tiles they are within ``halo_km`` of.
3. **Tiles** (:class:`TileRunner`, one per tile partition, keyed by tile):
   rendezvous and loitering, one detector pair per tile. A tile sees every
   position within its halo, so a meeting or a loitering episode that starts
   in the tile is seen whole by it; the tile where an episode *starts* owns
   it and is the only one to report it, so pairs across a tile edge are found
   once.

Every batch carries the ingest sequence number it came from. A stage with
several upstream partitions waits for a batch of the same sequence from
each of them (:class:`Barrier`) and merges them by event time, so the order
in which a partition sees records never depends on which worker ran faster.
Batches already processed (a restarted worker reading its uncommitted input
again) are recognised by their sequence and skipped.

Known difference from the embedded run: ``feed_outage`` is judged per vessel
partition (each sees its share of the active vessels), so an outage is
reported once per partition, with that partition's counts.
"""

from __future__ import annotations

import heapq
import json
import logging
import math
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from maritime.config import Settings
from maritime.detectors.gaps import GapDetector
from maritime.detectors.tracker import Tracker, VesselState
from maritime.detectors.watchlist import Watchlist
from maritime.ingest.ais import AisDecoder, DecodeStats, Reason, Rejected, new_position
from maritime.ingest.eventtime import Deduplicator, Reorder, source_clock, time_guard
from maritime.models import Alert, BaseStationReport, Position, Record, VesselInfo
from maritime.runtime.assembly import Assembly, Chain
from maritime.zones.index import ZoneIndex

logger = logging.getLogger(__name__)

Row = list[Any]
#: Row kinds: a position, a static report, a watermark tick, the end of a replay, a source's progress
#: (``["m", time_s, source]``: that source will send nothing older than ``time_s`` again).
POS, STATIC, TICK, END, PROGRESS = "p", "s", "w", "e", "m"
#: a position that came after its source's reorder window (laid out as a position row): kept, it may revise
LATE = "l"


# -- keys and partitions ----------------------------------------------------------------


def vessel_partition(mmsi: int, partitions: int) -> int:
    """The vessel partition of an MMSI (stable across processes and Python versions)."""
    return mmsi % partitions


def source_partition(source: str, partitions: int) -> int:
    """The raw partition a source's lines go to (all of one source in one place: multipart needs it)."""
    return zlib.crc32(source.encode("utf-8")) % partitions


def tile_of(lat: float, lon: float, tile_deg: float) -> tuple[int, int]:
    """The tile (row, column) containing a point."""
    return math.floor(lat / tile_deg), math.floor(lon / tile_deg)


def tile_key(tile: tuple[int, int]) -> str:
    """A tile as a table key: ``"row:col"``."""
    return f"{tile[0]}:{tile[1]}"


_TAG_TIME = re.compile(rb"(?:^\\|,)c:(\d{9,13})")
_TRAILING_EPOCH = re.compile(rb",(\d{10})(?:\.\d+)?\s*$")
_FRAGMENT = re.compile(rb"[!$][A-Z]{2}VD[MO],(\d),(\d),")


def line_time(line: bytes) -> float | None:
    """The event time a line carries (tag block ``c:``, s or ms; or an epoch after the checksum), if any.

    Only for pacing, merging recordings and cutting lanes; the decoder decides the real time.
    """
    m = _TAG_TIME.search(line, 0, 120) if line[:1] == b"\\" else None
    if m is None:
        m = _TRAILING_EPOCH.search(line)
    if m is None:
        return None
    v = int(m.group(1))
    return v / 1000.0 if v > 10_000_000_000 else float(v)


def lane_may_start(prev: bytes, line: bytes, timed: bool = False) -> bool:
    """True when a new lane may begin at ``line`` and decode it as it would after ``prev``.

    It must carry its own time (``timed``: the feed gives each line a receive time) because a line
    without one takes the time of the line before it; it must not be a later fragment of a multipart
    message; and it must not follow a ``$PGHP`` line, which times the line after it.
    """
    if b"$PGHP" in prev[:200]:
        return False
    if not timed and line_time(line) is None:
        return False
    m = _FRAGMENT.search(line, 0, 250)
    return m is None or m.group(2) == b"1"


class Lanes:
    """Splits one source's consecutive batches over ``lanes`` lanes, round robin, so that one busy feed
    is decoded by several workers (each lane has its own decoder, see :meth:`DecodeRunner.feed`).

    A batch ends only where the next lane may start (:func:`lane_may_start`); the lines after that
    point wait for the next batch. Where a batch has no such point (a feed without times) it stays in
    the lane it is in, which is always right.
    """

    def __init__(self, lanes: int) -> None:
        self.lanes = max(1, lanes)
        self.lane = 0
        self._carry: list[Any] = []

    def cut(self, items: list[Any], line_of: Callable[[Any], bytes] = lambda x: x,
            timed: bool = False) -> list[tuple[int, list[Any]]]:
        """The batch to send now as ``[(lane, items)]`` (empty when everything waits)."""
        if self.lanes == 1:
            return [(0, items)] if items else []
        items = self._carry + items
        self._carry = []
        if not items:
            return []
        for i in range(len(items) - 1, 0, -1):
            if lane_may_start(line_of(items[i - 1]), line_of(items[i]), timed):
                self._carry = items[i:]
                out = [(self.lane, items[:i])]
                self.lane = (self.lane + 1) % self.lanes
                return out
        return [(self.lane, items)]  # nowhere to switch lanes safely: stay in this one

    def rest(self) -> list[tuple[int, list[Any]]]:
        """What still waits (end of input), in the lane it starts."""
        items, self._carry = self._carry, []
        return [(self.lane, items)] if items else []


def order_key(rank: int, line: int) -> float:
    """The replay order of line ``line`` of the ``rank``-th source (sources merged by time, ties by rank)."""
    return rank * 1e12 + line


def lane_partition(source: str, lane: int, partitions: int) -> int:
    """The raw partition of a lane: the source's own, then the next ones, so that lanes land on different
    partitions (and Faust's round-robin assignment puts neighbouring partitions on different workers)."""
    return (source_partition(source, partitions) + lane) % partitions


def lane_key(source: str, lane: int) -> str:
    """The name a lane of a source goes by in progress and acknowledgements: ``source`` for lane 0, ``source#k``."""
    return source if lane == 0 else f"{source}#{lane}"


def lane_source(key: str) -> str:
    """The source of a :func:`lane_key`."""
    base, sep, k = key.rpartition("#")
    return base if sep and k.isdigit() else key


def tile_partition(tile: tuple[int, int], partitions: int) -> int:
    """The tile partition of a tile."""
    return zlib.crc32(tile_key(tile).encode("ascii")) % partitions


def halo_tiles(lat: float, lon: float, tile_deg: float, halo_km: float) -> list[tuple[int, int]]:
    """The tile of a point and every neighbouring tile within ``halo_km`` of it (home tile first)."""
    home = tile_of(lat, lon, tile_deg)
    dlat = halo_km / 111.2
    dlon = halo_km / (111.32 * max(math.cos(math.radians(lat)), 0.2))
    r0, r1 = math.floor((lat - dlat) / tile_deg), math.floor((lat + dlat) / tile_deg)
    c0, c1 = math.floor((lon - dlon) / tile_deg), math.floor((lon + dlon) / tile_deg)
    if r0 == r1 and c0 == c1:  # far from every edge (most positions): its own tile only
        return [home]
    return [home] + [(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1) if (r, c) != home]


def default_halo_km(settings: Settings) -> float:
    """How far beyond its edge a tile must see so that its episodes are seen whole (km).

    A loitering vessel stays within ``max_radius_km`` of where it slowed
    down; a vessel it meets is within the rendezvous distance of it.
    """
    rdv = settings.rendezvous.active
    return settings.loitering.max_radius_km + 1.5 * rdv.max_distance_m / 1000 + 2.0


# -- compact rows -----------------------------------------------------------------------


def position_row(p: Position, payload: str | None, order: float | None = None) -> Row:
    """A position as a JSON-friendly row (``order``: see :func:`_row_order`)."""
    return [POS, p.mmsi, p.time_s, p.lat, p.lon, p.sog_kn, p.cog_deg, p.heading_deg, p.nav_status, p.msg_type,
            p.source, payload, order, p.time_err_s]


def static_row(v: VesselInfo, payload: str | None, order: float | None = None) -> Row:
    """A static report as a JSON-friendly row (``order``: see :func:`_row_order`)."""
    return [STATIC, v.mmsi, v.time_s, v.name, v.callsign, v.imo, v.ship_type, v.to_bow_m, v.to_stern_m,
            v.to_port_m, v.to_starboard_m, v.draught_m, v.destination, v.msg_type, v.source, payload, order]


def row_position(r: Row) -> Position:
    """The :class:`Position` of a position row."""
    return new_position(r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[13] if len(r) > 13 else 0.0)


def row_static(r: Row) -> VesselInfo:
    """The :class:`VesselInfo` of a static row."""
    return VesselInfo(r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14])


# -- the barrier ------------------------------------------------------------------------


@dataclass(slots=True)
class Barrier:
    """Collects one batch per upstream partition for each sequence number; releases whole sequences in order.

    ``add`` returns the sequences now complete, each with the rows of all its
    batches merged by event time (ties: upstream partition order, then the
    order within the batch) and the tokens (Faust events) to acknowledge.
    """

    origins: int
    done_seq: int = -1
    pending: dict[int, dict[int, tuple[list[Row], Any]]] = field(default_factory=dict)

    def add(self, origin: int, seq: int, rows: list[Row], token: Any = None
            ) -> list[tuple[int, list[Row], list[Any]]]:
        """Add a batch; ``token`` is handed back when its sequence is released (or at once if stale)."""
        if seq <= self.done_seq:
            return [(seq, [], [token])]  # processed before a restart: acknowledge, do not apply again
        got = self.pending.setdefault(seq, {})
        if origin in got:
            return [(seq, [], [token])]  # the same batch again (an upstream retry): first one wins
        got[origin] = (rows, token)
        out = []
        while self.pending:
            first = min(self.pending)
            batches = self.pending[first]
            if len(batches) < self.origins:
                break
            del self.pending[first]
            self.done_seq = first
            parts = [batches[o][0] for o in sorted(batches)]
            merged = parts[0] if len(parts) == 1 else list(heapq.merge(*parts, key=_row_time))
            out.append((first, merged, [batches[o][1] for o in sorted(batches)]))
        return out


def _row_time(r: Row) -> float:
    return float(r[1]) if r[0] in (TICK, END, PROGRESS) else float(r[2])


#: where a row keeps its order key
_ORDER_AT = {POS: 12, STATIC: 16, TICK: 2, LATE: 12}


def _row_order(r: Row) -> float:
    """Where a row stands among rows of the same time: the replay's order of its message (the source's rank
    in the replay, then the line it came from), when the ingest gave one; else 0 (arrival order decides)."""
    i = _ORDER_AT.get(r[0])
    if i is None or len(r) <= i or r[i] is None:
        return 0.0
    return float(r[i])


# -- stage 1: decode --------------------------------------------------------------------


class _Source:
    __slots__ = ("decoder", "last_time", "next_tick", "reorder")

    def __init__(self, decoder: AisDecoder, reorder: Reorder) -> None:
        self.decoder = decoder
        self.reorder = reorder
        self.next_tick: float | None = None
        self.last_time: float | None = None


class DecodeRunner:
    """Decodes the sources of one raw partition; output rows per vessel partition."""

    def __init__(self, settings: Settings, partitions: int) -> None:
        self.s = settings
        self.partitions = partitions
        self.stats = DecodeStats()
        self.rejected: list[Rejected] = []
        self._sources: dict[str, _Source] = {}
        self._late_rows: dict[int, list[Row]] = {}
        self.late_positions = 0

    def _source(self, key: str, name: str, default_time_s: float | None) -> _Source:
        src = self._sources.get(key)
        if src is None:
            ing = self.s.ingest
            dec = AisDecoder(name, fragment_timeout_s=ing.fragment_timeout_s, default_time_s=default_time_s,
                             on_reject=self.rejected.append, stats=self.stats,
                             dedup_window_s=ing.dedup_window_s, clock=source_clock(ing, name),
                             guard=time_guard(ing))
            reorder = Reorder(ing.reorder_window_of(name), on_late=lambda t, item: self._late(name, t, item))
            src = self._sources[key] = _Source(dec, reorder)
        return src

    def _late(self, name: str, time_s: float, item: Any) -> None:
        payload, records, order = item
        positions = [r for r in records if isinstance(r, Position)]
        if positions:
            # real, only late: forwarded to its vessel partition, where it may revise a dark gap
            text = payload.decode("ascii", "replace") if payload is not None else None
            for p in positions:
                row = position_row(p, text, order)
                row[0] = LATE
                self._late_rows.setdefault(vessel_partition(p.mmsi, self.partitions), []).append(row)
            self.late_positions += len(positions)
            return
        self.stats.rejected[Reason.LATE] += 1
        self.rejected.append(Rejected(Reason.LATE, "older than the reorder window allows", name,
                                      (payload or b"").decode("ascii", "replace"), time_s))

    def feed(self, source: str, lines: Sequence[bytes], recv_times: Sequence[float | None] | None = None,
             default_time_s: float | None = None, lane: int = 0, first_order: float | None = None
             ) -> dict[int, list[Row]]:
        """Decode lines of one source; return released rows per vessel partition (ticks in every one).

        ``lane`` > 0: these lines are one lane of a source that the ingest split (see :func:`lane_key`); each
        lane has a decoder and a reorder window of its own and reports its own progress, and its records
        keep the source's name. ``first_order``: the order key of the first line (the source's rank in the
        replay × 1e12 + its line number), so that the vessel stage puts messages of the same time from
        different lanes back in the replay's order.
        """
        key = lane_key(source, lane)
        src = self._source(key, source, default_time_s)
        out: dict[int, list[Row]] = {}
        decode = src.decoder.decode_line
        push = src.reorder.push
        for i, line in enumerate(lines):
            got = decode(line, recv_times[i] if recv_times is not None else None)
            if got is None or not got[1]:
                continue
            item = (got[0], got[1], None if first_order is None else first_order + i)
            released = push(got[1][0].time_s, item)
            if released:
                self._emit(src, released, out)
        self._take_late(out)
        # how far this source has got: the vessel stage merges several sources up to the slowest one
        for q in range(self.partitions):
            out.setdefault(q, []).append([PROGRESS, src.reorder.released_s, key])
        return out

    def horizon(self, source: str) -> float:
        """Newest event time of ``source`` (a :func:`lane_key`) decoded so far (every message up to it is in
        the reorder window)."""
        src = self._sources.get(source)
        return src.reorder.max_time_s if src is not None else float("-inf")

    def released(self, source: str, up_to_s: float) -> bool:
        """True when every message of ``source`` (a :func:`lane_key`) up to ``up_to_s`` has left the reorder window."""
        src = self._sources.get(source)
        return src is None or len(src.reorder) == 0 or src.reorder.released_s >= up_to_s

    def _take_late(self, out: dict[int, list[Row]]) -> None:
        for q, rows in self._late_rows.items():
            out.setdefault(q, []).extend(rows)
        self._late_rows = {}

    def end(self) -> tuple[dict[int, list[Row]], float | None]:
        """End of input: release everything held; return the rows and the last event time."""
        out: dict[int, list[Row]] = {}
        last: float | None = None
        for src in self._sources.values():
            src.decoder.close()
            self._emit(src, src.reorder.flush(), out)
            if src.last_time is not None and (last is None or src.last_time > last):
                last = src.last_time
        return out, last

    def _emit(self, src: _Source,
              released: Iterable[tuple[float, tuple[bytes | None, list[Record], float | None]]],
              out: dict[int, list[Row]]) -> None:
        n = self.partitions
        tick_s = self.s.tick_s
        for t, (payload, records, order) in released:
            src.last_time = t
            if src.next_tick is None:
                src.next_tick = t + tick_s
            elif t >= src.next_tick:
                src.next_tick = t + tick_s
                tick_order = None if order is None else order - 0.5  # just before the message that made it due
                for q in range(n):
                    out.setdefault(q, []).append([TICK, t, tick_order])
            text = payload.decode("ascii", "replace") if payload is not None else None
            for rec in records:
                if isinstance(rec, Position):
                    out.setdefault(vessel_partition(rec.mmsi, n), []).append(position_row(rec, text, order))
                elif isinstance(rec, VesselInfo):
                    out.setdefault(vessel_partition(rec.mmsi, n), []).append(static_row(rec, text, order))
                elif isinstance(rec, BaseStationReport):
                    pass  # base stations are kept apart from vessels, as in the embedded run


# -- shared by the detector stages ------------------------------------------------------


_VESSEL_FIELDS = tuple(f.name for f in fields(VesselState) if f.name != "last")
_POSITION_FIELDS = tuple(f.name for f in fields(Position))


def _vessel_dump(v: VesselState) -> dict[str, Any]:
    # every field is a scalar or a tuple (``last`` a frozen Position): no deep copy needed, unlike asdict()
    d = {k: getattr(v, k) for k in _VESSEL_FIELDS}
    last = v.last
    d["last"] = [getattr(last, k) for k in _POSITION_FIELDS] if last is not None else None
    return d


def _vessel_load(d: dict[str, Any]) -> VesselState:
    d = dict(d)
    last = d.pop("last")
    v = VesselState(**d)
    v.names_seen = tuple(v.names_seen)
    v.last = Position(*last) if last is not None else None
    return v


# -- stage 2: vessels -------------------------------------------------------------------


class VesselRunner:
    """Per-vessel detectors (identity gate, dark gaps, geofences) for one vessel partition."""

    def __init__(self, settings: Settings, zones: ZoneIndex | None, partition: int, tile_partitions: int,
                 tile_deg: float = 2.0, halo_km: float | None = None, assembly: Assembly | None = None) -> None:
        self.s = settings
        self.partition = partition
        self.tile_partitions = tile_partitions
        self.tile_deg = tile_deg
        self.halo_km = default_halo_km(settings) if halo_km is None else halo_km
        self.tracker = Tracker()
        assembly = assembly if assembly is not None else Assembly(settings, zones)
        gates, dets = assembly.vessel_stage(self.tracker)
        wl = next((d for d in dets if isinstance(d, Watchlist)), None)
        self.enrich = assembly.enrichment(self.tracker, wl)
        #: called with every accepted position and static report (the live map's Redis positions use it)
        self.listeners: list[Callable[[Record], None]] = []
        self._alerts: list[Alert] = []
        self.chain = Chain(self.tracker, gates, dets, self._emit, self.listeners,
                           evict_after_s=settings.evict_after_h * 3600)
        #: the stateful parts, by name (their per-MMSI state goes to the vessel table)
        stages: list[Any] = [*gates, *dets]
        self._parts: list[tuple[str, Any]] = [(d.name, d) for d in stages
                                              if isinstance(getattr(d, "state", None), dict)]
        self.gaps = next((d for d in dets if isinstance(d, GapDetector)), None)
        self.dedup = Deduplicator(settings.ingest.dedup_window_s)
        self.next_tick: float | None = None
        self.ended_at: float | None = None
        self.dirty: set[int] = set()
        self.positions = 0
        # rows waiting until every source has passed their time: (time, order, arrival, row)
        self._held: list[tuple[float, float, int, Row]] = []
        self._arrival = 0
        self._progress: dict[str, float] = {}
        #: a source this far (event-time s) behind the newest one no longer holds the others back
        self.idle_source_s = settings.ingest.idle_source_s
        self._last_msg: tuple[str, float, float | None] | None = None
        self._last_verdict = False
        self._tiles_seen: dict[tuple[int, int], tuple[str, int]] = {}

    def _emit(self, alerts: list[Alert]) -> None:
        enrich = self.enrich
        for a in alerts:
            self.dirty.update(v.mmsi for v in a.vessels)
            self._alerts.append(enrich(a))

    def _halo(self, lat: float, lon: float) -> list[tuple[str, int]]:
        """(tile key, tile partition) of the tiles a position goes to: its own, and those within the halo."""
        return [self._tile_info(t) for t in halo_tiles(lat, lon, self.tile_deg, self.halo_km)]

    def _tile_info(self, tile: tuple[int, int]) -> tuple[str, int]:
        got = self._tiles_seen.get(tile)
        if got is None:
            got = self._tiles_seen[tile] = (tile_key(tile), tile_partition(tile, self.tile_partitions))
        return got

    def process(self, rows: Iterable[Row], dedup_across: bool = False) -> tuple[list[Alert], dict[int, list[Row]]]:
        """Take one sequence's rows; apply those every source has passed (in event-time order, as the
        embedded replay merges its files); return the alerts and the rows for each tile partition."""
        ended: Row | None = None
        held = self._held
        for r in rows:
            kind = r[0]
            if kind == PROGRESS:
                if r[1] > self._progress.get(r[2], float("-inf")):
                    self._progress[r[2]] = r[1]
            elif kind == END:
                ended = r
            else:
                heapq.heappush(held, (_row_time(r), _row_order(r), self._arrival, r))
                self._arrival += 1
        limit = float("inf") if ended is not None else self._limit()
        ready: list[Row] = []
        while held and held[0][0] < limit:
            ready.append(heapq.heappop(held)[3])
        if ended is not None:
            ready.append(ended)
        return self._apply(ready, dedup_across)

    def _limit(self) -> float:
        """Rows older than this may go: every source is past it, except sources that have fallen more than
        ``idle_source_s`` behind the newest (a receiver gone quiet must not hold the others' traffic)."""
        if not self._progress:
            return float("-inf")
        # the lanes of one source (``source#k``) take turns: one waiting for its turn is not idle, so a
        # source is judged by its newest lane and holds the others back by its slowest
        by_source: dict[str, list[float]] = {}
        for key, p in self._progress.items():
            by_source.setdefault(lane_source(key), []).append(p)
        newest = max(self._progress.values())
        lag = self.idle_source_s
        return min(min(ps) for ps in by_source.values()
                   if max(ps) == float("-inf") or max(ps) >= newest - lag)

    def _apply(self, rows: list[Row], dedup_across: bool) -> tuple[list[Alert], dict[int, list[Row]]]:
        alerts: list[Alert] = []
        self._alerts = alerts
        fwd: dict[int, list[Row]] = {}
        n_tiles = self.tile_partitions
        for r in rows:
            kind = r[0]
            if kind == POS:
                if dedup_across and r[11] is not None and self._duplicate(r[11], r[2], r[12]):
                    continue
                self._position(row_position(r), fwd)
            elif kind == STATIC:
                if dedup_across and r[15] is not None and self._duplicate(r[15], r[2], r[16]):
                    continue
                self.chain.static(row_static(r))
                self.dirty.add(r[1])
            elif kind == LATE:
                self.chain.late(row_position(r))
                self.dirty.add(r[1])
            elif kind == TICK:
                if self.next_tick is not None and r[1] < self.next_tick:
                    continue  # several sources tick: the first one due moves the watermark
                self.advance(r[1])
                for q in range(n_tiles):
                    fwd.setdefault(q, []).append(r)
            elif kind == END:
                if r[1] == self.ended_at:
                    continue  # every upstream partition says so
                self.ended_at = r[1]
                self.advance(r[1])
                self.chain.finish(r[1])
                for q in range(n_tiles):
                    fwd.setdefault(q, []).append(r)
        self._alerts = []
        return alerts, fwd

    def _duplicate(self, payload: str, time_s: float, order: float | None) -> bool:
        """The same transmission already came from another source (or lane). The rows of one message (type
        19 gives a static report and a position) share its verdict: they follow each other with the same
        payload, time and order."""
        msg = (payload, time_s, order)
        if msg == self._last_msg:
            return self._last_verdict
        self._last_msg = msg
        self._last_verdict = self.dedup.is_duplicate(payload.encode("ascii"), time_s)
        return self._last_verdict

    def advance(self, watermark_s: float) -> None:
        """Event time reached ``watermark_s``."""
        self.next_tick = watermark_s + self.s.tick_s
        self.chain.watermark(watermark_s)

    def _position(self, pos: Position, fwd: dict[int, list[Row]]) -> None:
        self.dirty.add(pos.mmsi)
        if not self.chain.position(pos):
            return
        self.positions += 1
        vessel = self.tracker.get(pos.mmsi)
        ident = [vessel.name, vessel.callsign, vessel.imo, vessel.ship_type]
        for key, q in self._halo(pos.lat, pos.lon):
            row: Row = [POS, pos.mmsi, pos.time_s, pos.lat, pos.lon, pos.sog_kn, pos.cog_deg, pos.heading_deg,
                        pos.nav_status, pos.msg_type, pos.source, ident, key, pos.time_err_s]
            rows = fwd.get(q)
            if rows is None:
                fwd[q] = [row]
            else:
                rows.append(row)

    # -- state for tables -----------------------------------------------------------

    def export(self, mmsi: int) -> dict[str, Any] | None:
        """Everything the partition keeps about one vessel (None: nothing)."""
        v = self.tracker.vessels.get(mmsi)
        if v is None:
            return None
        out: dict[str, Any] = {"vessel": _vessel_dump(v)}
        for name, det in self._parts:
            if mmsi in det.state:
                out[name] = det.state[mmsi]
        return out

    def take_dirty(self) -> dict[int, dict[str, Any] | None]:
        """The vessels changed since the last call, exported."""
        got = {m: self.export(m) for m in self.dirty}
        self.dirty.clear()
        return got

    def meta(self) -> dict[str, Any]:
        """Partition-wide state (the tick and the duplicate window)."""
        return {"next_tick": self.next_tick, "ended_at": self.ended_at, "dedup": self.dedup.snapshot(),
                "held": [r for _t, _o, _a, r in sorted(self._held)], "progress": self._progress}

    def restore(self, vessels: Iterable[tuple[int, dict[str, Any]]], meta: dict[str, Any] | None) -> None:
        """Rebuild from exported vessels (a Faust table recovered from its changelog)."""
        items = sorted(vessels, key=lambda kv: (kv[1]["vessel"].get("last_seen_s") or 0.0, kv[0]))
        for mmsi, d in items:
            self.tracker.vessels[mmsi] = _vessel_load(d["vessel"])
            for name, det in self._parts:
                if name in d:
                    det.state[mmsi] = d[name]
        if self.gaps is not None:
            self.gaps.rebuild()
        if meta:
            self.next_tick = meta.get("next_tick")
            self.ended_at = meta.get("ended_at")
            if meta.get("dedup"):
                self.dedup.restore(meta["dedup"])
            self._progress = dict(meta.get("progress") or {})
            for r in meta.get("held") or []:
                heapq.heappush(self._held, (_row_time(r), _row_order(r), self._arrival, r))
                self._arrival += 1


# -- stage 3: tiles ---------------------------------------------------------------------


class _Tile:
    __slots__ = ("bounds", "chain", "enrich", "key", "loitering", "owned", "raised", "rendezvous", "tracker")

    def __init__(self, key: str, assembly: Assembly, tile_deg: float) -> None:
        self.key = key
        r, c = (int(x) for x in key.split(":"))
        self.bounds = (r * tile_deg, c * tile_deg, (r + 1) * tile_deg, (c + 1) * tile_deg)
        self.tracker = Tracker()
        dets = assembly.tile_detectors(self.tracker)
        self.rendezvous: Any = next((d for d in dets if d.name == "rendezvous"), None)
        self.loitering: Any = next((d for d in dets if d.name == "loitering"), None)
        #: alerts raised by the detectors, before the tile keeps only its own (:meth:`TileRunner._mine`)
        self.raised: list[Alert] = []
        self.chain = Chain(self.tracker, (), dets, self.raised.extend,
                           evict_after_s=assembly.settings.evict_after_h * 3600)
        self.enrich = assembly.enrichment(self.tracker)
        self.owned: dict[str, bool] = {}

    def inside(self, lat: float, lon: float) -> bool:
        lat0, lon0, lat1, lon1 = self.bounds
        return lat0 <= lat < lat1 and lon0 <= lon < lon1

    def idle(self) -> bool:
        return not self.owned and not (self.rendezvous and self.rendezvous.state) and \
            not (self.loitering and self.loitering.state)

    def remembers(self) -> bool:
        """True while the tile holds learned anchorages (kept even when idle and empty)."""
        return bool(self.rendezvous and self.rendezvous.learned and self.rendezvous.learned.cells)


class TileRunner:
    """Rendezvous and loitering for the tiles of one tile partition."""

    def __init__(self, settings: Settings, zones: ZoneIndex | None, partition: int, tile_deg: float = 2.0,
                 assembly: Assembly | None = None) -> None:
        self.s = settings
        self.zones = zones
        self.assembly = assembly if assembly is not None else Assembly(settings, zones)
        self.partition = partition
        self.tile_deg = tile_deg
        self.tiles: dict[str, _Tile] = {}
        self.dirty: set[str] = set()
        self.next_tick: float | None = None
        self.ended_at: float | None = None

    def _tile(self, key: str) -> _Tile:
        t = self.tiles.get(key)
        if t is None:
            t = self.tiles[key] = _Tile(key, self.assembly, self.tile_deg)
        return t

    def process(self, rows: Iterable[Row]) -> list[Alert]:
        """Apply one sequence's rows (positions forwarded by the vessel stage, and ticks)."""
        alerts: list[Alert] = []
        for r in rows:
            kind = r[0]
            if kind == POS:
                self._position(r, alerts)
            elif kind == TICK:
                if self.next_tick is not None and r[1] < self.next_tick:
                    continue  # every vessel partition forwards the same tick
                self.next_tick = r[1] + self.s.tick_s
                for tile in list(self.tiles.values()):
                    self._watermark(tile, r[1], alerts, end=False)
            elif kind == END:
                if r[1] == self.ended_at:
                    continue
                self.ended_at = self.next_tick = r[1]
                for tile in list(self.tiles.values()):
                    self._watermark(tile, r[1], alerts, end=True)
        return alerts

    def _position(self, r: Row, alerts: list[Alert]) -> None:
        tile = self._tile(r[12])
        self.dirty.add(tile.key)
        pos = row_position(r)
        name, callsign, imo, ship_type = r[11]
        vessel = tile.tracker.get(pos.mmsi)
        if (vessel.name, vessel.callsign, vessel.imo, vessel.ship_type) != (name, callsign, imo, ship_type):
            tile.tracker.on_static(VesselInfo(pos.mmsi, pos.time_s, name, callsign, imo, ship_type))
        tile.chain.position(pos)
        if tile.raised:
            alerts.extend(self._mine(tile))

    def _watermark(self, tile: _Tile, w: float, alerts: list[Alert], end: bool) -> None:
        tile.chain.watermark(w)
        if end:
            tile.chain.finish(w)
        if tile.raised:
            self.dirty.add(tile.key)
            alerts.extend(self._mine(tile))
        # forget vessels the detectors no longer hold
        if tile.idle():
            horizon = self.s.rendezvous.max_interp_gap_min * 60
            stale = [m for m, v in tile.tracker.vessels.items() if (v.last_seen_s or 0.0) < w - horizon]
            for m in stale:
                del tile.tracker.vessels[m]
                self.dirty.add(tile.key)

    def _mine(self, tile: _Tile) -> list[Alert]:
        """Only the tile where an episode started reports it (enriched there)."""
        out = []
        for a in tile.raised:
            owned = tile.owned.get(a.id)
            if owned is None:
                lat, lon = self._start_point(tile, a)
                owned = tile.inside(lat, lon)
            if a.status == "closed":
                tile.owned.pop(a.id, None)
            else:
                tile.owned[a.id] = owned
            if owned:
                out.append(tile.enrich(a))
        tile.raised.clear()
        return out

    def _start_point(self, tile: _Tile, a: Alert) -> tuple[float, float]:
        det = tile.rendezvous if a.type == "rendezvous" else tile.loitering if a.type == "loitering" else None
        got = det.episode_start(a) if det is not None else None
        if got is not None:
            return got
        return (a.lat if a.lat is not None else 0.0), (a.lon if a.lon is not None else 0.0)

    # -- state for tables -----------------------------------------------------------

    def export(self, key: str) -> dict[str, Any] | None:
        """Everything one tile keeps (None: nothing worth keeping)."""
        tile = self.tiles.get(key)
        if tile is None:
            return None
        if tile.idle() and not tile.tracker.vessels and not tile.remembers():
            del self.tiles[key]
            return None
        return {
            "vessels": [_vessel_dump(v) for v in tile.tracker.vessels.values()],
            "rendezvous": tile.rendezvous.snapshot() if tile.rendezvous is not None else None,
            "loitering": [[m, ep] for m, ep in tile.loitering.state.items()] if tile.loitering is not None else None,
            "owned": dict(tile.owned),
        }

    def take_dirty(self) -> dict[str, dict[str, Any] | None]:
        """The tiles changed since the last call, exported."""
        got = {k: self.export(k) for k in sorted(self.dirty)}
        self.dirty.clear()
        return got

    def meta(self) -> dict[str, Any]:
        """Partition-wide state (the watermark tick)."""
        return {"next_tick": self.next_tick, "ended_at": self.ended_at}

    def restore(self, tiles: Iterable[tuple[str, dict[str, Any]]], meta: dict[str, Any] | None = None) -> None:
        """Rebuild from exported tiles."""
        if meta:
            self.next_tick = meta.get("next_tick")
            self.ended_at = meta.get("ended_at")
        for key, d in tiles:
            tile = self._tile(key)
            for vd in d["vessels"]:
                v = _vessel_load(vd)
                tile.tracker.vessels[v.mmsi] = v
            if tile.rendezvous is not None and d.get("rendezvous") is not None:
                tile.rendezvous.restore(d["rendezvous"])
            if tile.loitering is not None and d.get("loitering") is not None:
                tile.loitering.state.update((int(m), ep) for m, ep in d["loitering"])
            tile.owned.update(d.get("owned") or {})


# -- all three stages in one process ------------------------------------------------------


class LocalTopology:
    """The three stages in one process, with tables as dicts: the distributed data flow without a broker.

    Each :meth:`feed` is one ingest sequence number. :meth:`restart` throws
    the runners away and rebuilds them from the tables, as a Faust worker
    does from its changelogs. Used to test that partitioning and restarts
    change nothing, and as the reference the Faust runtime is compared with.
    """

    def __init__(self, settings: Settings, zones: ZoneIndex | None, partitions: int, tile_deg: float = 2.0,
                 assembly: Assembly | None = None) -> None:
        self.s = settings
        self.assembly = assembly if assembly is not None else Assembly(settings, zones)
        self.zones = zones
        self.partitions = partitions
        self.tile_deg = tile_deg
        self.alerts: list[Alert] = []
        self.sources: set[str] = set()
        self.seq = 0
        self.last_time: float | None = None
        self.vessel_table: dict[int, dict[str, Any]] = {}
        self.tile_table: dict[str, dict[str, Any]] = {}
        self.meta_table: dict[str, dict[str, Any]] = {}
        self.decoders = [DecodeRunner(settings, partitions) for _ in range(partitions)]
        self._build()

    def _build(self) -> None:
        n = self.partitions
        a = self.assembly
        self.vessels = [VesselRunner(self.s, self.zones, q, n, self.tile_deg, assembly=a) for q in range(n)]
        self.tiles = [TileRunner(self.s, self.zones, q, self.tile_deg, assembly=a) for q in range(n)]
        self.v_bar = [Barrier(n) for _ in range(n)]
        self.t_bar = [Barrier(n) for _ in range(n)]

    def restart(self) -> None:
        """Rebuild the detector stages from the tables (the decode stage keeps going)."""
        n = self.partitions
        self._build()
        for q in range(n):
            mine = [(m, d) for m, d in self.vessel_table.items() if vessel_partition(m, n) == q]
            self.vessels[q].restore(mine, self.meta_table.get(f"v{q}"))
            tiles = [(k, d) for k, d in self.tile_table.items()
                     if tile_partition(tuple(int(x) for x in k.split(":")), n) == q]  # type: ignore[arg-type]
            self.tiles[q].restore(tiles, self.meta_table.get(f"t{q}"))
            for bar, key in ((self.v_bar[q], f"v{q}"), (self.t_bar[q], f"t{q}")):
                bar.done_seq = self.meta_table.get(key, {}).get("seq", -1)

    def _step(self, per_raw: list[dict[int, list[Row]]]) -> None:
        n = self.partitions
        seq = self.seq
        fwd_all: list[dict[int, list[Row]]] = [{} for _ in range(n)]
        for q in range(n):
            for origin in range(n):
                for _seq, rows, _tok in self.v_bar[q].add(origin, seq, per_raw[origin].get(q, [])):
                    got, fwd_all[q] = self.vessels[q].process(rows, dedup_across=len(self.sources) > 1)
                    self.alerts.extend(got)
            for m, d in self.vessels[q].take_dirty().items():
                if d is None:
                    self.vessel_table.pop(m, None)
                else:
                    self.vessel_table[m] = json.loads(json.dumps(d))  # tables hold JSON
            self.meta_table[f"v{q}"] = json.loads(json.dumps({**self.vessels[q].meta(), "seq": seq}))
        for q in range(n):
            for origin in range(n):
                for _seq, rows, _tok in self.t_bar[q].add(origin, seq, fwd_all[origin].get(q, [])):
                    self.alerts.extend(self.tiles[q].process(rows))
            for k, d in self.tiles[q].take_dirty().items():
                if d is None:
                    self.tile_table.pop(k, None)
                else:
                    self.tile_table[k] = json.loads(json.dumps(d))
            self.meta_table[f"t{q}"] = {**self.tiles[q].meta(), "seq": seq}
        self.seq += 1

    def feed(self, source: str, lines: list[bytes], default_time_s: float | None = None, lane: int = 0,
             first_order: float | None = None) -> None:
        """One ingest batch of one source (of one lane of it)."""
        key = lane_key(source, lane)
        self.sources.add(key)
        per_raw: list[dict[int, list[Row]]] = [{} for _ in range(self.partitions)]
        p = lane_partition(source, lane, self.partitions)
        per_raw[p] = self.decoders[p].feed(source, lines, None, default_time_s, lane=lane, first_order=first_order)
        self._step(per_raw)

    def end(self) -> None:
        """End of the replay: release what the decoders hold, final watermark, detectors' last word."""
        per_raw = []
        last: float | None = None
        for d in self.decoders:
            rows, t = d.end()
            per_raw.append(rows)
            if t is not None and (last is None or t > last):
                last = t
        if last is not None:
            for rows in per_raw:
                for q in range(self.partitions):
                    rows.setdefault(q, []).append([END, last])
        self._step(per_raw)


def run_partitioned(batches: Iterable[tuple[str, list[bytes], float | None]], settings: Settings,
                    zones: ZoneIndex | None, partitions: int, tile_deg: float = 2.0,
                    restart_every: int = 0, lanes: int = 1, assembly: Assembly | None = None) -> list[Alert]:
    """Run ``(source, lines, default_time_s)`` batches through a :class:`LocalTopology`; the alerts.

    ``restart_every`` > 0 rebuilds the detector stages from their tables after that many batches;
    ``lanes`` > 1 splits each source over that many lanes as the ingest does (:class:`Lanes`);
    ``assembly``: the stages (watchlist, profiles) the embedded run would use with the same settings.
    """
    topo = LocalTopology(settings, zones, partitions, tile_deg, assembly)
    splitters: dict[str, Lanes] = {}
    defaults: dict[str, float | None] = {}
    rank: dict[str, int] = {}  # sources in the order they first come
    sent: dict[str, int] = {}  # lines of each source sent so far

    def send(source: str, lane: int, part: list[bytes]) -> None:
        topo.feed(source, part, defaults[source], lane, order_key(rank[source], sent[source]))
        sent[source] += len(part)

    for i, (source, lines, default_time) in enumerate(batches):
        defaults[source] = default_time
        rank.setdefault(source, len(rank))
        sent.setdefault(source, 0)
        for lane, part in splitters.setdefault(source, Lanes(lanes)).cut(list(lines)):
            send(source, lane, part)
        if restart_every and (i + 1) % restart_every == 0:
            topo.restart()
    for source, splitter in splitters.items():
        for lane, part in splitter.rest():
            send(source, lane, part)
    topo.end()
    return topo.alerts
