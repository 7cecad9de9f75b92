"""The arrivals stage: ``arrival_risk`` raised ahead of arrival, and each centre's daily arrivals board.

:class:`ArrivalWatch` follows what both runtimes can give it in the same
form: the accepted positions of each vessel (the first of each
``check_every_s`` bucket), its static reports, and one row per vessel of
every alert the detector stages raise. Every ``check_every_s`` of event time
it judges the vessels at that time ``T``, on the rows stamped ``T`` or
earlier, once the watermark is ``lag_s`` past ``T`` (an alert about ``T``
raised a little later, such as a rendezvous confirmed at its end, is in
every runtime's judgement). The embedded run feeds it as a listener, the
partitioned runtime as a fourth stage after the vessel and tile stages; the
same input gives the same alerts and boards.

For each vessel it finds the port it is expected at within ``lead_h``: its
declared destination, or the port its track heads to over water, and scores
the arrival as the board does (:class:`~maritime.runtime.arrivals_board.ArrivalsBoard`,
events since the vessel last left a port). A score at or over ``threshold``
raises ``arrival_risk`` at the port's position (so it is routed to the
port's waters and authority), updated as the score, the ETA or the hours
left change, and closed when the vessel arrives or is no longer expected.

At ``daily_at`` (UTC, event time) each centre subscribed to ports gets its
board: the arrivals of the next ``arrivals_hours`` at each of its ports.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from maritime.config import Settings
from maritime.detectors.base import AlertBuilder, vessel_phrase
from maritime.detectors.tracker import Tracker
from maritime.geo import format_duration, haversine_m
from maritime.models import Alert, Position, Record, Severity, Status, VesselInfo, ZoneRef, iso, parse_iso
from maritime.runtime.arrivals_board import WEIGHTS, Arrival, ArrivalsBoard, Followed, bearing
from maritime.runtime.partitioned.rows import (
    EndRow,
    EventRow,
    PosRow,
    Row,
    StaticRow,
    TickRow,
    decode_rows,
    encode_rows,
    position_row,
    row_position,
    row_static,
    static_row,
    vessel_dump,
    vessel_load,
)
from maritime.zones.ports import Port

logger = logging.getLogger(__name__)

#: the hours-to-go bands an open arrival_risk is re-issued on entering (h)
_BANDS = (6.0, 2.0)
#: checks in a row a vessel must be no longer expected before its arrival_risk is closed (a yaw is not a turn)
_MISSES = 3
_KIND = {StaticRow: 0, PosRow: 1, EventRow: 2}


class Raised(msgspec.Struct, gc=False):
    """An open ``arrival_risk`` (times event s)."""

    id: str
    port: str
    start_s: float
    score: float
    factors: list[str]
    eta_s: float
    band: int
    misses: int = 0


class BoardDoc(msgspec.Struct, gc=False):
    """A centre's board (the JSON of ``maritime arrivals`` for each of its ports)."""

    centre: str
    generated: str
    hours: float
    ports: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"type": "arrivals_board", **msgspec.to_builtins(self)}


def _day_offset_s(daily_at: str) -> float:
    h, m = daily_at.split(":")
    return int(h) * 3600 + int(m) * 60


class ArrivalWatch(ArrivalsBoard):
    """Expected arrivals judged every ``check_every_s`` of event time: ``arrival_risk`` and the daily boards."""

    def __init__(self, settings: Settings, assembly: Any = None, *, grid: Any = None) -> None:
        a = settings.arrivals
        super().__init__(assembly.ports if assembly is not None else None, grid=grid,
                         risk_weights=settings.risk_weights, harbour_km=a.harbour_km)
        self.s = a
        self.zones = assembly.zones if assembly is not None else None
        self.step = a.check_every_s
        #: the vessels' identities as the stage heard them (alert references, watchlist matching)
        self.tracker = Tracker()
        self.builder = AlertBuilder(self.tracker)
        self.enrich: Callable[[Alert], Alert] = (assembly.enrichment(self.tracker) if assembly is not None
                                                 else (lambda x: x))
        self.subscriptions = [s for s in settings.subscriptions if s.arrivals]
        self._day_offset = _day_offset_s(a.daily_at)
        self._weights = {**WEIGHTS, **(settings.risk_weights or {})}
        #: rows not yet judged: (time, kind, mmsi, tie, arrival, row); the order they are taken in is fixed by
        #: the first four, whatever order the runtime brought them in (rows equal in all four are alike)
        self.pending: list[tuple[float, int, int, str, int, Row]] = []
        self._arrival = 0
        #: the same rows by vessel (each vessel's go to its table entry)
        self.waiting: dict[int, list[tuple[str, Row]]] = {}
        self.checked_s: float | None = None
        self.boards_day: int | None = None
        self.last_bucket: dict[int, int] = {}
        self.last_static: dict[int, str] = {}
        self.open: dict[int, Raised] = {}
        #: every board made (the partitioned runtime's are compared with the embedded run's)
        self.boards: list[BoardDoc] = []
        #: called with (subscription, board) for each daily board (the Redis and webhook sinks, board files)
        self.board_sinks: list[Any] = []
        self.dirty: set[int] = set()

    # -- input ------------------------------------------------------------------------

    def listener(self) -> Callable[[Record], None]:
        """What the chain calls with each accepted record: this stage, behind the typed core's filter of positions
        in a bucket already kept (:class:`maritime.core.quiet.ArrivalsListener`) when the core is built."""
        from maritime.core import quiet_path

        core = quiet_path()
        return core.ArrivalsListener(self, self.step, self.last_bucket) if core is not None else self

    def _push(self, row: Row, mmsi: int, tie: str) -> None:
        self._arrival += 1
        heapq.heappush(self.pending, (row.time_s, _KIND[type(row)], mmsi, tie, self._arrival, row))
        self.waiting.setdefault(mmsi, []).append((tie, row))
        self.dirty.add(mmsi)

    def __call__(self, rec: Record) -> None:
        """Listener interface: an accepted position (the first of its bucket is kept) or a static report (kept
        when it differs from the vessel's last)."""
        if type(rec) is Position:
            b = int(rec.time_s // self.step)
            mmsi = rec.mmsi
            if self.last_bucket.get(mmsi) != b:
                self.last_bucket[mmsi] = b
                self._push(position_row(rec, None), mmsi, "")
        elif isinstance(rec, VesselInfo):
            tie = f"{rec.destination}|{rec.name}|{rec.eta_s}|{rec.callsign}|{rec.imo}|{rec.ship_type}"
            if self.last_static.get(rec.mmsi) != tie:  # the same report again tells the stage nothing
                self.last_static[rec.mmsi] = tie
                self._push(static_row(rec, None), rec.mmsi, tie)

    def write(self, alert: Alert) -> None:
        """Sink interface: the vessels of an alert from the detector stages (not this stage's own)."""
        if alert.type == "arrival_risk":
            return
        for v in alert.vessels:
            self._push(EventRow(alert.time_s, v.mmsi, alert.type, alert.id, alert.status), v.mmsi, alert.id)

    def rows(self, rows: Iterable[Row]) -> list[Alert]:
        """One sequence of the partitioned runtime's input (positions, static reports, events, ticks, the end),
        all taken in before its newest tick is judged; the alerts."""
        tick: float | None = None
        end: float | None = None
        for r in rows:
            if isinstance(r, PosRow):
                self(row_position(r))
            elif isinstance(r, StaticRow):
                self(row_static(r))
            elif isinstance(r, EventRow):
                if r.alert_type != "arrival_risk":
                    self._push(r, r.mmsi, r.id)
            elif isinstance(r, TickRow):
                tick = r.time_s if tick is None else max(tick, r.time_s)
            elif isinstance(r, EndRow):
                end = r.time_s
        out = self.advance(tick) if tick is not None else []
        if end is not None:
            out += self.advance(end)
            out += self.finish(end)
        return out

    # -- judging --------------------------------------------------------------------------

    def _apply(self, upto: float) -> None:
        """Take in the rows stamped ``upto`` or earlier, in a fixed order."""
        pending = self.pending
        while pending and pending[0][0] <= upto:
            _t, _k, mmsi, tie, _a, r = heapq.heappop(pending)
            self.dirty.add(mmsi)
            mine = self.waiting[mmsi]
            mine.remove((tie, r))
            if not mine:
                del self.waiting[mmsi]
            if isinstance(r, PosRow):
                pos = row_position(r)
                self.tracker.on_position(pos)
                super().__call__(pos)
            elif isinstance(r, StaticRow):
                info = row_static(r)
                self.tracker.on_static(info)
                super().__call__(info)
            elif isinstance(r, EventRow) and r.status != "cancelled":
                self.events[mmsi][r.alert_type].add(r.id)

    def advance(self, watermark_s: float) -> list[Alert]:
        """Event time reached ``watermark_s``: the checks now due (their alerts, enriched)."""
        out: list[Alert] = []
        if self.checked_s is None:
            if not self.pending:
                return out
            self.checked_s = math.floor(self.pending[0][0] / self.step) * self.step
        due = watermark_s - self.s.lag_s
        step = self.step
        while self.checked_s + step <= due:
            t = self.checked_s + step
            if not self.open:
                # nothing open and no row before the next one: the checks in between would judge the same
                # vessels on the same rows (a quiet stretch, or a jump in event time): go to the last of them
                nxt = self.pending[0][0] if self.pending else float("inf")
                if nxt > t:
                    t = max(t, math.floor(min(nxt, due) / step) * step)
            self.checked_s = t
            self._apply(t)
            out += self.check(t)
        return out

    def finish(self, end_s: float) -> list[Alert]:
        """The input ended at ``end_s``: every row is taken in and judged once more (no daily board)."""
        self._apply(float("inf"))
        if self.checked_s is not None and end_s <= self.checked_s:
            return []
        self.checked_s = end_s
        return self.check(end_s, boards=False)

    def expected(self, mmsi: int, v: Followed, now: float) -> tuple[Port, Arrival, float] | None:
        """Where the vessel is expected within ``lead_h`` of ``now``: the port, the arrival, its ETA (event s).
        The declared port first; else the port its track heads to soonest."""
        horizon = now + self.s.lead_h * 3600
        pos = v.pos
        if pos is None:
            return None
        m = self._match(v.text) if v.text else None
        cands: list[Port] = []
        if m is not None and m.port is not None and m.port.lat is not None:
            cands.append(m.port)
        sog, cog = pos.sog_kn, pos.cog_deg
        moving = sog is not None and sog >= self.min_sog_kn and cog is not None
        if cands and moving and cog is not None:
            route = self._route(cands[0], pos)
            if route is not None and abs((cog - route[1] + 180) % 360 - 180) <= self.course_tol_deg:
                moving = False  # on its way to the declared port: the ports along the way are passed, not called at
        if moving:
            assert sog is not None and cog is not None
            reach = sog * 1852 * (horizon - pos.time_s) / 3600 * 1.05
            near = []
            for p in self.ports.main_ports:
                if p.lat is None or p.lon is None or (cands and p.id == cands[0].id):
                    continue
                d = haversine_m(pos.lat, pos.lon, p.lat, p.lon)
                # the route bends around islands: a port off the course by up to 60° may lie along it
                if d <= reach and abs((cog - bearing(pos.lat, pos.lon, p.lat, p.lon) + 180) % 360 - 180) <= 60:
                    near.append((d, p.id, p))
            cands += [p for _d, _i, p in sorted(near)[:3]]
        best: tuple[Port, Arrival, float] | None = None
        for port in cands:
            a = self.expect(port, mmsi, v, now, horizon)
            if a is None:
                continue
            eta = min(parse_iso(e) for e in (a.eta_track, a.eta_declared) if e is not None) \
                if (a.eta_track or a.eta_declared) else None
            if eta is None or eta > horizon or eta < now:
                continue
            if port is cands[0] and a.basis != "track":
                return port, a, eta  # the declared port, expected within the lead
            if best is None or eta < best[2]:
                best = (port, a, eta)
        return best

    def check(self, now: float, boards: bool = True) -> list[Alert]:
        """Judge every followed vessel at ``now`` (event s); the daily boards when their time came."""
        s = self.s
        w = self._weights
        extra = max(w["eta_unreachable"], w["declared_elsewhere"], w["undeclared"])
        out: list[Alert] = []
        for mmsi, v in self.vessels.items():
            op = self.open.get(mmsi)
            if op is None:
                ev = self.events.get(mmsi)
                pts = sum(len(ids) * w.get(t, 0.0) for t, ids in ev.items()) if ev else 0.0
                if pts + extra < s.threshold:
                    continue  # cannot reach the threshold: no route worth working out
            got = self.expected(mmsi, v, now)
            if op is not None:
                out += self._follow(mmsi, v, op, got, now)
                op = self.open.get(mmsi)
            if got is None or got[1].risk < s.threshold or (op is not None and op.port == got[0].id):
                continue
            port, arr, eta = got
            key = f"{mmsi}:{port.id}:{iso(now)}"
            raised = Raised(f"arrival_risk:{key}", port.id, now, arr.risk, _names(arr), eta, _band(eta - now))
            self.open[mmsi] = raised
            self.dirty.add(mmsi)
            out.append(self._alert(mmsi, raised, port, arr, eta, now, "open"))
        if boards and self.subscriptions:
            day = math.floor((now - self._day_offset) / 86400)
            if self.boards_day is None:
                self.boards_day = day
            elif day > self.boards_day:
                self.boards_day = day
                self._daily(now)
        return [self.enrich(a) for a in out]

    def _follow(self, mmsi: int, v: Followed, op: Raised, got: tuple[Port, Arrival, float] | None,
                now: float) -> list[Alert]:
        """An open arrival_risk at a later check: updated, or closed."""
        port = self.ports.by_id[op.port]
        self.dirty.add(mmsi)
        if got is not None and got[0].id == op.port and got[1].risk >= self.s.threshold:
            _p, arr, eta = got
            op.misses = 0
            names, band = _names(arr), _band(eta - now)
            if arr.risk == op.score and names == op.factors and band == op.band and \
                    abs(eta - op.eta_s) < self.s.update_eta_h * 3600:
                return []
            op.score, op.factors, op.band, op.eta_s = arr.risk, names, band, eta
            return [self._alert(mmsi, op, port, arr, eta, now, "update")]
        pos = v.pos
        assert port.lat is not None and port.lon is not None
        arrived = v.in_port == port.id or (pos is not None and
                                           haversine_m(pos.lat, pos.lon, port.lat, port.lon) < self.harbour_m)
        other = self.ports.by_id.get(v.in_port) if v.in_port is not None and v.in_port != port.id else None
        if arrived:
            why = f"arrived at {port.name}"
        elif other is not None:
            why = f"arrived at {other.name} instead"
        elif got is not None and got[0].id != op.port:
            why = f"now expected at {got[0].name} instead"
        elif pos is None or now - pos.time_s > 6 * 3600:
            why = "not heard for 6 h"
        else:
            op.misses += 1
            if op.misses < _MISSES:
                return []
            why = f"no longer expected at {port.name}"
        del self.open[mmsi]
        return [self._alert(mmsi, op, port, None, op.eta_s, now, "closed", why)]

    def _alert(self, mmsi: int, op: Raised, port: Port, arr: Arrival | None, eta: float, now: float,
               status: Status, why: str | None = None) -> Alert:
        assert port.lat is not None and port.lon is not None
        vessel = self.tracker.get(mmsi)
        where = f"{port.name} ({port.locode or port.country})"
        details: dict[str, Any] = {"port": port.id, "port_name": port.name, "locode": port.locode,
                                   "country": port.country, "eta": iso(eta), "threshold": self.s.threshold,
                                   "score": op.score}
        if arr is not None:
            details.update({"hours_to_arrival": round((eta - now) / 3600, 1), "basis": arr.basis,
                            "eta_track": arr.eta_track, "eta_declared": arr.eta_declared,
                            "eta_disagreement_h": arr.eta_disagreement_h, "declared_text": arr.declared_text,
                            "distance_nm": arr.distance_nm, "sog_kn": arr.sog_kn, "factors": arr.factors})
            top = "; ".join(f"{f['why']} ×{f['count']}" if f["count"] != 1 else f["why"] for f in arr.factors[:3])
            summary = (f"{vessel_phrase(vessel)} is expected at {where} in {format_duration(eta - now)}, risk "
                       f"{arr.risk:g} (threshold {self.s.threshold:g}): {top}")
        else:
            details["reason"] = why
            summary = f"{vessel_phrase(vessel)}: arrival risk at {where} closed, {why}"
        here = self.vessels[mmsi].pos
        if here is not None:
            details["vessel_position"] = {"lat": round(here.lat, 5), "lon": round(here.lon, 5),
                                          "time": iso(here.time_s)}
        watched = arr is not None and any(f["factor"] == "watchlist_hit" for f in arr.factors)
        severity: Severity = "high" if watched or op.score >= 2 * self.s.threshold else "medium"
        zone = self._zone(port)
        return self.builder.make(
            type="arrival_risk", key=op.id.split(":", 1)[1], status=status, severity=severity, time_s=now,
            start_s=op.start_s, end_s=now if status == "closed" else None, mmsis=[mmsi], lat=port.lat,
            lon=port.lon, summary=summary, zone=zone, details=details)

    def _zone(self, port: Port) -> ZoneRef | None:
        if port.zone_id is None or self.zones is None:
            return None
        z = self.zones.by_id.get(port.zone_id)
        return z.ref if z is not None else None

    # -- daily boards ---------------------------------------------------------------------

    def _daily(self, now: float) -> None:
        for sub in self.subscriptions:
            ports = []
            for q in sub.arrivals:
                port = self.find_port(q)
                if port is None or port.lat is None:
                    logger.warning("centre %s: arrivals port %r is not in the gazetteer (or has no position)",
                                   sub.id, q)
                    continue
                rows = self.board(port, now, sub.arrivals_hours)
                ports.append({"port": {"id": port.id, "name": port.name, "locode": port.locode,
                                       "country": port.country, "lat": round(port.lat, 5),
                                       "lon": round(port.lon or 0.0, 5)}, "arrivals": [a.as_dict() for a in rows]})
            doc = BoardDoc(sub.id, iso(now) or "", sub.arrivals_hours, ports)
            self.boards.append(doc)
            for sink in self.board_sinks:
                try:
                    sink.write_board(sub, doc.as_dict())
                except Exception:  # one broken channel must not stop the others (each keeps what it could not send)
                    logger.exception("board for centre %s: %s failed", sub.id, type(sink).__name__)

    # -- state for tables ---------------------------------------------------------------

    def export(self, mmsi: int) -> dict[str, Any] | None:
        """What the stage keeps about one vessel (None: nothing)."""
        v = self.vessels.get(mmsi)
        tv = self.tracker.vessels.get(mmsi)
        waiting = self.waiting.get(mmsi)
        if v is None and tv is None and not waiting:
            return None
        out: dict[str, Any] = {"bucket": self.last_bucket.get(mmsi), "static": self.last_static.get(mmsi)}
        if v is not None:
            out["board"] = {"pos": encode_rows([position_row(v.pos, None)])[0] if v.pos else None, "name": v.name,
                            "callsign": v.callsign, "imo": v.imo, "ship_type": v.ship_type, "text": v.text,
                            "eta_s": v.eta_s, "in_port": v.in_port, "left_s": v.left_s}
        if tv is not None:
            out["vessel"] = vessel_dump(tv)
        ev = self.events.get(mmsi)
        if ev:
            out["events"] = {t: sorted(ids) for t, ids in ev.items()}
        if mmsi in self.open:
            out["open"] = msgspec.to_builtins(self.open[mmsi])
        if waiting:
            out["waiting"] = {"ties": [t for t, _r in waiting], "rows": encode_rows([r for _t, r in waiting])}
        return out

    def take_dirty(self) -> dict[int, dict[str, Any] | None]:
        """The vessels changed since the last call, exported."""
        got = {m: self.export(m) for m in self.dirty}
        self.dirty.clear()
        return got

    def meta(self) -> dict[str, Any]:
        """Stage-wide state: the last check, the day of the last boards (the rows not yet judged are kept with
        their vessels)."""
        return {"checked_s": self.checked_s, "boards_day": self.boards_day, "now_s": self.now_s}

    def restore(self, vessels: Iterable[tuple[int, dict[str, Any]]], meta: dict[str, Any] | None) -> None:
        """Rebuild from exported vessels and the stage's meta (a Faust table recovered from its changelog)."""
        for mmsi, d in vessels:
            if d.get("bucket") is not None:
                self.last_bucket[mmsi] = d["bucket"]
            if d.get("static") is not None:
                self.last_static[mmsi] = d["static"]
            b = d.get("board")
            if b is not None:
                pos = decode_rows([b["pos"]])[0] if b.get("pos") else None
                self.vessels[mmsi] = Followed(
                    pos=row_position(pos) if isinstance(pos, PosRow) else None, name=b["name"],
                    callsign=b["callsign"], imo=b["imo"], ship_type=b["ship_type"], text=b["text"],
                    eta_s=b["eta_s"], in_port=b["in_port"], left_s=b["left_s"])
            if d.get("vessel") is not None:
                self.tracker.vessels[mmsi] = vessel_load(d["vessel"])
            for t, ids in (d.get("events") or {}).items():
                self.events[mmsi][t] = set(ids)
            if d.get("open") is not None:
                self.open[mmsi] = msgspec.convert(d["open"], Raised)
            w = d.get("waiting")
            if w:
                for tie, r in zip(w["ties"], decode_rows(w["rows"]), strict=True):
                    self._push(r, mmsi, tie)
        self.dirty.clear()
        if meta:
            self.checked_s = meta.get("checked_s")
            self.boards_day = meta.get("boards_day")
            self.now_s = meta.get("now_s") or 0.0


def _names(arr: Arrival) -> list[str]:
    return [f"{f['factor']}×{f['count']}" for f in arr.factors]


def _band(left_s: float) -> int:
    """Which of the hours-to-go bands an ETA ``left_s`` away is in (0: farther than the first)."""
    return sum(1 for b in _BANDS if left_s <= b * 3600)
