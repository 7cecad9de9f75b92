"""Stage 2, vessels: the identity gate, dark gaps and geofences per MMSI, with per-vessel state for a Faust table;
positions forwarded to their tiles.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from maritime.config import Settings
from maritime.detectors.gaps import GapDetector
from maritime.detectors.tracker import Tracker
from maritime.detectors.watchlist import Watchlist
from maritime.ingest.eventtime import Deduplicator
from maritime.models import Alert, Position, Record
from maritime.runtime.assembly import Assembly, Chain
from maritime.runtime.partitioned.rows import (
    EndRow,
    LateRow,
    PosRow,
    ProgressRow,
    Row,
    StaticRow,
    TickRow,
    TilePosRow,
    decode_rows,
    default_halo_km,
    encode_rows,
    event_rows,
    halo_tiles,
    lane_source,
    position_row,
    row_order,
    row_position,
    row_static,
    row_time,
    tile_key,
    tile_partition,
    vessel_dump,
    vessel_load,
)
from maritime.zones.index import ZoneIndex

logger = logging.getLogger(__name__)

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
        self.chain.forgotten = []  # evicted vessels leave the table too
        #: the stateful parts, by name (their per-MMSI state goes to the vessel table; each says how it is read
        #: back with ``state_type``)
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
        #: rows for the arrivals stage (:class:`~maritime.runtime.arrival_watch.ArrivalWatch`), in the order they
        #: came: the first accepted position of each vessel in each check bucket, static reports, the alerts'
        #: vessels, ticks and the end
        self.arrival_step = settings.arrivals.check_every_s if settings.arrivals.enabled else 0.0
        self.to_arrivals: list[Row] = []

    def _emit(self, alerts: list[Alert]) -> None:
        enrich = self.enrich
        for a in alerts:
            self.dirty.update(v.mmsi for v in a.vessels)
            self._alerts.append(enrich(a))
        if self.arrival_step:
            self.to_arrivals.extend(event_rows(alerts))

    def take_arrivals(self) -> list[Row]:
        """The rows for the arrivals stage since the last call."""
        got, self.to_arrivals = self.to_arrivals, []
        return got

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
            if isinstance(r, ProgressRow):
                if r.time_s > self._progress.get(r.source, float("-inf")):
                    self._progress[r.source] = r.time_s
            elif isinstance(r, EndRow):
                ended = r
            else:
                heapq.heappush(held, (row_time(r), row_order(r), self._arrival, r))
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
            if isinstance(r, PosRow):
                if dedup_across and r.payload is not None and self._duplicate(r.payload, r.time_s, r.order):
                    continue
                self._position(row_position(r), fwd)
            elif isinstance(r, StaticRow):
                if dedup_across and r.payload is not None and self._duplicate(r.payload, r.time_s, r.order):
                    continue
                self.chain.static(row_static(r))
                self.dirty.add(r.mmsi)
                if self.arrival_step:
                    self.to_arrivals.append(r)
            elif isinstance(r, LateRow):
                self.chain.late(row_position(r))
                self.dirty.add(r.mmsi)
            elif isinstance(r, TickRow):
                if self.next_tick is not None and r.time_s < self.next_tick:
                    continue  # several sources tick: the first one due moves the watermark
                self.advance(r.time_s)
                for q in range(n_tiles):
                    fwd.setdefault(q, []).append(r)
                if self.arrival_step:
                    self.to_arrivals.append(r)
            elif isinstance(r, EndRow):
                if r.time_s == self.ended_at:
                    continue  # every upstream partition says so
                self.ended_at = r.time_s
                self.advance(r.time_s)
                self.chain.finish(r.time_s)
                for q in range(n_tiles):
                    fwd.setdefault(q, []).append(r)
                if self.arrival_step:
                    self.to_arrivals.append(r)
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
        chain = self.chain
        chain.watermark(watermark_s)
        if chain.forgotten:
            self.dirty.update(chain.forgotten)
            chain.forgotten.clear()

    def _position(self, pos: Position, fwd: dict[int, list[Row]]) -> None:
        self.dirty.add(pos.mmsi)
        prev = self.tracker.vessels.get(pos.mmsi)
        prev_t = prev.last.time_s if prev is not None and prev.last is not None else None
        if not self.chain.position(pos):
            if self.chain.shared_withheld and prev is not None and prev.last is not None:
                # the tiles that hold this vessel's pairs learn where else its MMSI was heard
                vessel = self.tracker.get(pos.mmsi)
                ident = (vessel.name, vessel.callsign, vessel.imo, vessel.ship_type)
                for key, q in self._halo(prev.last.lat, prev.last.lon):
                    fwd.setdefault(q, []).append(TilePosRow(
                        pos.mmsi, pos.time_s, pos.lat, pos.lon, pos.sog_kn, pos.cog_deg, pos.heading_deg,
                        pos.nav_status, pos.msg_type, pos.source, ident, key, pos.time_err_s, True))
            return
        self.positions += 1
        step = self.arrival_step
        if step and (prev_t is None or int(prev_t // step) != int(pos.time_s // step)):
            self.to_arrivals.append(position_row(pos, None))
        vessel = self.tracker.get(pos.mmsi)
        ident = (vessel.name, vessel.callsign, vessel.imo, vessel.ship_type)
        for key, q in self._halo(pos.lat, pos.lon):
            row = TilePosRow(pos.mmsi, pos.time_s, pos.lat, pos.lon, pos.sog_kn, pos.cog_deg, pos.heading_deg,
                             pos.nav_status, pos.msg_type, pos.source, ident, key, pos.time_err_s)
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
        out: dict[str, Any] = {"vessel": vessel_dump(v)}
        for name, det in self._parts:
            st = det.state.get(mmsi)
            if st is not None:
                out[name] = msgspec.to_builtins(st)
        return out

    def take_dirty(self) -> dict[int, dict[str, Any] | None]:
        """The vessels changed since the last call, exported."""
        got = {m: self.export(m) for m in self.dirty}
        self.dirty.clear()
        return got

    def meta(self) -> dict[str, Any]:
        """Partition-wide state (the tick and the duplicate window)."""
        return {"next_tick": self.next_tick, "ended_at": self.ended_at, "next_evict": self.chain.next_evict_s,
                "dedup": self.dedup.snapshot(),
                "held": encode_rows([r for _t, _o, _a, r in sorted(self._held, key=lambda h: h[:3])]),
                "progress": self._progress}

    def restore(self, vessels: Iterable[tuple[int, dict[str, Any]]], meta: dict[str, Any] | None) -> None:
        """Rebuild from exported vessels (a Faust table recovered from its changelog)."""
        items = sorted(vessels, key=lambda kv: (kv[1]["vessel"].get("last_seen_s") or 0.0, kv[0]))
        for mmsi, d in items:
            self.tracker.vessels[mmsi] = vessel_load(d["vessel"])
            for name, det in self._parts:
                if name in d:
                    det.state[mmsi] = msgspec.convert(d[name], det.state_type)
        if self.gaps is not None:
            self.gaps.rebuild()
        if meta:
            self.next_tick = meta.get("next_tick")
            self.ended_at = meta.get("ended_at")
            self.chain.next_evict_s = meta.get("next_evict")
            if meta.get("dedup"):
                self.dedup.restore(meta["dedup"])
            self._progress = dict(meta.get("progress") or {})
            for r in decode_rows(meta.get("held") or []):
                heapq.heappush(self._held, (row_time(r), row_order(r), self._arrival, r))
                self._arrival += 1


