"""Who is coming to a port: the arrivals board, from declared voyages and real tracks, with an explained risk.

:class:`ArrivalsBoard` follows a run (a pipeline listener and alert sink). For one port it lists the vessels
expected within ``hours``:

- its track leads there: under way (at least ``min_sog_kn``) on a course that agrees with its remaining water
  route to the port (the simulator's water grid: around islands, not over them), and able to be there within
  the window at its speed. The course must agree within ``course_tol_deg`` when the vessel declares the port;
  without that declaration the bound narrows with distance, so that the course line passes within
  ``approach_nm`` of the port (a vessel 60 nm off must point within 8°): a ship on a lane that passes the
  port 12 nm off is not coming. A vessel that declares another port and whose course agrees with the route
  to that port is passing, and is not listed; one that turns toward this port is, as a risk;
- or it declares the port and waits nearby (stopped within ``wait_nm``, its declared ETA not yet past).

A declaration alone is not an arrival: a vessel that declares the port but whose declared ETA has passed, or
whose track leads away, or which cannot be there within the window, goes to the "declared, not coming" list
(:meth:`ArrivalsBoard.not_coming`) with the reason. Every row says why it is on the board (``reason``),
with both ETAs (declared, and from the track: route distance over speed) and how far they disagree.
Every arrival is scored with every factor shown: dark gaps, rendezvous, loitering, identity anomalies,
destination changes at sea and watchlist hits since the vessel last left a port (or in the run so far), a
declared ETA the track cannot make, heading to the port while declaring another (or nothing), and the
vessel's profile risk when a profile store is given. Vessels already in the port are not expected: they
have arrived.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from maritime.destination import clean_destination
from maritime.detectors.tracker import vessel_category
from maritime.geo import M_PER_NM, haversine_m
from maritime.models import Alert, Position, Record, VesselInfo, iso
from maritime.zones.ports import Port, PortIndex

logger = logging.getLogger(__name__)

#: points each factor adds (count × weight), as the vessels-of-interest score does
WEIGHTS: dict[str, float] = {
    "dark_gap": 3.0, "rendezvous": 4.0, "loitering": 2.0, "identity_anomaly": 2.0, "position_jump": 1.0,
    "destination_change": 3.0, "arrival_undeclared": 3.0, "watchlist_hit": 5.0, "eta_unreachable": 2.0,
    "declared_elsewhere": 2.0, "undeclared": 1.0,
}
_WHY = {
    "dark_gap": "dark gaps in the input", "rendezvous": "rendezvous at sea", "loitering": "loitering at sea",
    "identity_anomaly": "identity anomalies", "position_jump": "position jumps",
    "destination_change": "destination changed at sea", "arrival_undeclared": "earlier undeclared arrivals",
    "watchlist_hit": "on a watchlist", "eta_unreachable": "the declared ETA is earlier than the track can make",
    "declared_elsewhere": "heading here while declaring another port", "undeclared": "heading here, nothing declared",
}


@dataclass
class Arrival:
    """One expected arrival (times ISO 8601 UTC, distances nm, speeds kn)."""

    mmsi: int
    name: str | None
    callsign: str | None
    imo: int | None
    category: str
    basis: str
    declared_text: str | None
    declared_port: str | None
    declared_confidence: float
    #: why the vessel is on the board (or on the "declared, not coming" list), in words
    reason: str
    eta_declared: str | None
    eta_track: str | None
    eta_disagreement_h: float | None
    distance_nm: float | None
    sog_kn: float | None
    last_heard: str | None
    risk: float
    factors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Followed:
    """What the board keeps about one vessel: its last position, identity and declaration."""

    pos: Position | None = None
    name: str | None = None
    callsign: str | None = None
    imo: int | None = None
    ship_type: int | None = None
    text: str = ""
    eta_s: float | None = None
    #: the gazetteer port it is in (stopped within ``harbour_km``), and when it last left one (event s)
    in_port: str | None = None
    left_s: float | None = None


class ArrivalsBoard:
    """Follows vessels and their alerts; :meth:`board` lists a port's expected arrivals."""

    def __init__(self, ports: PortIndex | None = None, *, grid: Any = None, profiles: Any = None,
                 risk_weights: dict[str, float] | None = None, min_sog_kn: float = 3.0,
                 course_tol_deg: float = 25.0, eta_slack_h: float = 3.0, harbour_km: float = 3.0,
                 approach_nm: float = 5.0, min_course_tol_deg: float = 8.0, wait_nm: float = 20.0) -> None:
        self.ports = ports if ports is not None else PortIndex.load()
        self._grid = grid
        self.profiles = profiles
        self.risk_weights = risk_weights
        self.min_sog_kn = min_sog_kn
        self.course_tol_deg = course_tol_deg
        self.eta_slack_s = eta_slack_h * 3600
        self.harbour_m = harbour_km * 1000
        #: without a declaration of the port, the course line must pass within this of it (nm) ...
        self.approach_m = approach_nm * M_PER_NM
        #: ... with a tolerance of at least this (deg: COG wanders with sea and current)
        self.min_course_tol_deg = min_course_tol_deg
        #: a vessel declaring the port and stopped this close to it is waiting to come in (nm)
        self.wait_m = wait_nm * M_PER_NM
        #: alert id -> its latest summary, per vessel, so that a risk factor can say what happened
        self.summaries: dict[str, str] = {}
        self._cells: dict[tuple[int, int], tuple[Port, ...]] = {}
        #: (port id, the vessel's grid cell) -> the route's points after that cell and their length (m)
        self._legs: dict[tuple[str, int], tuple[list[tuple[float, float]], float]] = {}
        self.vessels: dict[int, Followed] = defaultdict(Followed)
        self.events: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.now_s = 0.0
        self._matches: dict[str, Any] = {}  # destination text -> what it names (read once per text)

    # -- fed by the run ---------------------------------------------------------------

    def __call__(self, rec: Record) -> None:
        if isinstance(rec, Position):
            v = self.vessels[rec.mmsi]
            v.pos = rec
            self._port_call(rec.mmsi, v, rec)
            self.now_s = max(self.now_s, rec.time_s)
        elif isinstance(rec, VesselInfo):
            v = self.vessels[rec.mmsi]
            v.name = rec.name or v.name
            v.callsign = rec.callsign or v.callsign
            v.imo = rec.imo or v.imo
            v.ship_type = rec.ship_type or v.ship_type
            if rec.destination is not None:
                v.text = clean_destination(rec.destination)
                v.eta_s = rec.eta_s

    def write(self, alert: Alert) -> None:
        """Sink interface: remember which events each vessel was in (once per alert id)."""
        if alert.status == "cancelled":
            return
        for ref in alert.vessels:
            self.events[ref.mmsi][alert.type].add(alert.id)
        self.summaries[alert.id] = alert.summary

    def close(self) -> None:
        """Sink interface."""

    # -- the board ----------------------------------------------------------------------

    @property
    def grid(self) -> Any:
        """The water grid for route distances (built once per process, on first use: a second or two)."""
        if self._grid is None:
            from maritime.geo.routing import shared_grid

            self._grid = shared_grid()
        return self._grid

    def find_port(self, query: str) -> Port | None:
        """A port by gazetteer id, LOCODE or name (as a crew would write it)."""
        q = query.strip()
        got = self.ports.by_id.get(q) or self.ports.by_locode.get(q.upper().replace(" ", ""))
        if got is not None:
            return got
        return self.ports.match(q).port

    def why_no_port(self, query: str) -> str:
        """Why :meth:`find_port` found no port for ``query``, naming the candidates when there are some."""
        m = self.ports.match(query)
        if m.method == "ambiguous" and m.candidates:
            names = ", ".join(f"{self.ports.by_id[c].name} ({c})" for c in m.candidates if c in self.ports.by_id)
            return f"{query!r} may be any of {names}: give one of those codes"
        if m.method == "country" and m.place:
            names = ", ".join(f"{self.ports.by_id[c].name} ({c})" for c in m.candidates[:8])
            return f"{query!r} is {m.place}, not one port" + (f": its ports are {names}" if names else "")
        return f"{query!r}: no port of the gazetteer is called that (a UN/LOCODE such as LCCAS, or a name)"

    def _route(self, port: Port, pos: Position) -> tuple[float, float, float] | None:
        """Water route distance (m) from a position to the port, the bearing of the farthest route point in
        sight along it (deg: the heading the route asks for), and the bearing of its first 5 km (deg)."""
        assert port.lat is not None and port.lon is not None
        g = self.grid
        try:
            dst = g.nearest_water(pos.lat, pos.lon)
        except (ValueError, IndexError):
            return None
        key = (port.id, dst)
        rest = self._legs.get(key)
        if rest is None:
            try:
                src = g.nearest_water(port.lat, port.lon)
                pts = g.path(src, dst)  # from the port: one shortest-path tree per port, cheap per vessel
            except (ValueError, IndexError):
                return None
            # the vessel's own grid cell is where it is: the route goes from the vessel to the next cell
            legs = [*list(reversed(pts))[1:], (port.lat, port.lon)]
            rest = self._legs[key] = (legs, sum(haversine_m(a[0], a[1], b[0], b[1])
                                               for a, b in itertools.pairwise(legs)))
        legs, length = rest
        dist = haversine_m(pos.lat, pos.lon, legs[0][0], legs[0][1]) + length
        nxt = _sight_point(pos.lat, pos.lon, legs)
        first = next((p for p in legs if haversine_m(pos.lat, pos.lon, p[0], p[1]) > 5000), legs[-1])
        return dist, bearing(pos.lat, pos.lon, nxt[0], nxt[1]), bearing(pos.lat, pos.lon, first[0], first[1])

    def board(self, port: Port, now_s: float | None = None, hours: float = 48.0) -> list[Arrival]:
        """The vessels expected at ``port`` within ``hours`` of ``now_s`` (default: the latest event time),
        riskiest first, then soonest."""
        return self._rows(port, now_s, hours, "expected")

    def not_coming(self, port: Port, now_s: float | None = None, hours: float = 48.0) -> list[Arrival]:
        """The vessels that declare ``port`` but are not coming within ``hours``: their declared ETA has passed,
        their track leads away, or they cannot make it in the window (``reason`` says which)."""
        return self._rows(port, now_s, hours, "not_coming")

    def _rows(self, port: Port, now_s: float | None, hours: float, which: str) -> list[Arrival]:
        now = self.now_s if now_s is None else now_s
        if port.lat is None or port.lon is None:
            raise ValueError(f"{port.name}: the gazetteer has no position for it")
        out = []
        for mmsi, v in self.vessels.items():
            got = self.assess(port, mmsi, v, now, now + hours * 3600)
            if got is not None and got[0] == which:
                out.append(got[1])
        out.sort(key=lambda a: (-a.risk, a.eta_track or a.eta_declared or "~"))
        return out

    def expect(self, port: Port, mmsi: int, v: Followed, now: float, horizon: float) -> Arrival | None:
        """The vessel as an expected arrival at ``port`` before ``horizon`` (event s), or None."""
        got = self.assess(port, mmsi, v, now, horizon)
        return got[1] if got is not None and got[0] == "expected" else None

    def _course_tol(self, dist_m: float, declared_here: bool) -> float:
        """How far (deg) the course may differ from the route's bearing: ``course_tol_deg`` for a vessel that
        declares the port; otherwise the angle at which the course line passes ``approach_nm`` off at this
        distance, at least ``min_course_tol_deg``."""
        if declared_here:
            return self.course_tol_deg
        wide = math.degrees(math.asin(min(1.0, self.approach_m / max(dist_m, 1.0))))
        return max(self.min_course_tol_deg, min(self.course_tol_deg, wide))

    def assess(self, port: Port, mmsi: int, v: Followed, now: float, horizon: float
               ) -> tuple[str, Arrival] | None:
        """Whether the vessel is ``expected`` at ``port`` before ``horizon`` (event s), or declares it but is
        ``not_coming``, with its row; None when it has nothing to do with the port."""
        pos = v.pos
        assert port.lat is not None and port.lon is not None
        if pos is None or now - pos.time_s > 6 * 3600:
            return None  # not heard for six hours: not followed
        m = self._match(v.text) if v.text else None
        declared_here = m is not None and m.covers(port)
        far = haversine_m(pos.lat, pos.lon, port.lat, port.lon)
        if far < self.harbour_m:
            return None  # in port: arrived
        sog = pos.sog_kn
        moving = sog is not None and sog >= self.min_sog_kn and pos.cog_deg is not None
        reach_m = (sog or 0.0) * 1852 * (horizon - pos.time_s) / 3600
        if not declared_here and (not moving or far > reach_m * 1.05):
            return None  # cannot be there in time on its own way: not worth a route
        route = self._route(port, pos)
        decl_eta = v.eta_s if declared_here else None
        track_eta = None
        leads = False
        course_note = ""
        if route is not None and moving:
            assert sog is not None and pos.cog_deg is not None
            dist, brg, first = route
            diff = abs((pos.cog_deg - brg + 180) % 360 - 180)
            tol = self._course_tol(dist, declared_here)
            # the course agrees with the route, or its straight line passes within approach_nm of the port
            straight = abs((pos.cog_deg - bearing(pos.lat, pos.lon, port.lat, port.lon) + 180) % 360 - 180)
            leads = diff <= tol or (straight < 90.0 and far * math.sin(math.radians(straight)) <= self.approach_m)
            if declared_here and not leads:
                # a vessel that says it is going there may take its own line: toward the port, or along the
                # route's first leg, within the same tolerance
                leads = min(straight, abs((pos.cog_deg - first + 180) % 360 - 180)) <= tol
            course_note = f"course {pos.cog_deg:03.0f}°, the route to {port.name} bears {brg:03.0f}°"
            if leads:
                track_eta = pos.time_s + dist / (sog * 1852 / 3600)
        dist_nm = route[0] / M_PER_NM if route is not None else far / M_PER_NM
        kind = "expected"
        if declared_here:
            eta_past = decl_eta is not None and decl_eta < now
            if leads and track_eta is not None and track_eta <= horizon:
                reason = f"declares {port.name} and its track leads here ({course_note}, {dist_nm:.0f} nm)"
                if eta_past:
                    reason += f"; its declared ETA {iso(decl_eta)} has passed"
            elif not moving and dist_nm * M_PER_NM <= self.wait_m and not eta_past:
                reason = f"declares {port.name} and waits {dist_nm:.0f} nm off (stopped)"
            else:
                kind = "not_coming"
                if leads and track_eta is not None:
                    reason = (f"declares {port.name}, but at {sog:g} kn the route ({dist_nm:.0f} nm) takes until "
                              f"{iso(track_eta)}, after the window")
                elif moving:
                    reason = f"declares {port.name}, but its track leads away ({course_note})"
                elif eta_past:
                    reason = (f"declares {port.name}, but its declared ETA {iso(decl_eta)} has passed and it is "
                              f"stopped {dist_nm:.0f} nm off")
                else:
                    reason = f"declares {port.name}, but is stopped {dist_nm:.0f} nm off"
                if eta_past and "has passed" not in reason:
                    reason += f"; its declared ETA {iso(decl_eta)} has passed"
        else:
            if not leads or track_eta is None or track_eta > horizon:
                return None
            other = m.port if m is not None else None
            if other is not None and other.lat is not None and other.id != port.id and sog is not None:
                oroute = self._route(other, pos)
                if oroute is not None and pos.cog_deg is not None:
                    odiff = abs((pos.cog_deg - oroute[1] + 180) % 360 - 180)
                    if odiff <= self.course_tol_deg:
                        return None  # on its way to the port it declares: passing
                reason = (f"turned toward {port.name} while declaring {other.name} ({course_note}, "
                          f"{dist_nm:.0f} nm)")
            elif m is not None and m.method == "country" and m.place:
                reason = f"heading here ({course_note}, {dist_nm:.0f} nm) while declaring {m.place}"
            else:
                reason = f"heading here ({course_note}, {dist_nm:.0f} nm), no port declared"
        if decl_eta is not None and not (now - 6 * 3600 <= decl_eta <= horizon) and kind == "expected" \
                and track_eta is None:
            kind = "not_coming"
            reason = f"declares {port.name} with an ETA of {iso(decl_eta)}, outside the window"
        basis = ("declared and track" if declared_here and track_eta is not None else
                 "declared" if declared_here else "track")
        factors = self._factors(mmsi, v, m, declared_here, decl_eta, track_eta)
        return kind, Arrival(
            mmsi=mmsi, name=v.name, callsign=v.callsign, imo=v.imo, category=vessel_category(v.ship_type),
            basis=basis, declared_text=v.text or None, declared_port=m.port.id if m and m.port else None,
            declared_confidence=round(m.confidence, 2) if m else 0.0, reason=reason,
            eta_declared=iso(decl_eta) if decl_eta else None,
            eta_track=iso(track_eta) if track_eta else None,
            eta_disagreement_h=round((decl_eta - track_eta) / 3600, 1) if decl_eta and track_eta else None,
            distance_nm=round(route[0] / M_PER_NM, 1) if route else None, sog_kn=sog,
            last_heard=iso(pos.time_s), risk=round(sum(f["points"] for f in factors), 1), factors=factors)

    def port_at(self, lat: float, lon: float) -> Port | None:
        """The gazetteer port within ``harbour_km`` of a point, if any (ports cached per 0.1° cell)."""
        key = (math.floor(lat * 10), math.floor(lon * 10))
        near = self._cells.get(key)
        if near is None:
            clat, clon = (key[0] + 0.5) / 10, (key[1] + 0.5) / 10
            reach = self.harbour_m + 8000.0  # the cell's half diagonal is under 8 km
            near = self._cells[key] = tuple(
                p for p in self.ports.main_ports if p.lat is not None and p.lon is not None
                and haversine_m(clat, clon, p.lat, p.lon) <= reach)
        for p in near:
            assert p.lat is not None and p.lon is not None
            if haversine_m(lat, lon, p.lat, p.lon) <= self.harbour_m:
                return p
        return None

    def _port_call(self, mmsi: int, v: Followed, pos: Position) -> None:
        """A vessel stopped at a port is in it; when it leaves, a new voyage begins and only its events count."""
        port = self.port_at(pos.lat, pos.lon) if pos.sog_kn is None or pos.sog_kn <= 3.0 or v.in_port else None
        if port is not None:
            v.in_port = port.id
        elif v.in_port is not None:
            v.in_port = None
            v.left_s = pos.time_s
            self.events.pop(mmsi, None)

    def _match(self, text: str) -> Any:
        got = self._matches.get(text)
        if got is None:
            got = self._matches[text] = self.ports.match(text)
        return got

    def _factors(self, mmsi: int, v: Followed, m: Any, declared_here: bool, decl_eta: float | None,
                 track_eta: float | None) -> list[dict[str, Any]]:
        w = {**WEIGHTS, **(self.risk_weights or {})}
        out: list[dict[str, Any]] = []

        def add(name: str, count: float, why: str | None = None) -> None:
            if count:
                out.append({"factor": name, "count": count, "weight": w[name], "points": round(count * w[name], 1),
                            "why": why or _WHY[name]})

        for typ in ("dark_gap", "rendezvous", "loitering", "identity_anomaly", "position_jump", "destination_change",
                    "arrival_undeclared", "watchlist_hit"):
            ids = sorted(self.events.get(mmsi, {}).get(typ, ()))
            said = [self.summaries[i] for i in ids if i in self.summaries]
            add(typ, len(ids), f"{_WHY[typ]}: {' | '.join(said[-3:])}" if said else None)
        if decl_eta is not None and track_eta is not None and decl_eta < track_eta - self.eta_slack_s:
            add("eta_unreachable", 1, f"declared {iso(decl_eta)}, the track makes {iso(track_eta)}")
        if not declared_here:
            if m is not None and m.port is not None:
                add("declared_elsewhere", 1, f"declares {m.port.name} ({v.text})")
            elif m is not None and m.method == "country" and m.place:
                add("declared_elsewhere", 1, f"declares {m.place} ({v.text})")
            elif m is not None and m.method == "ambiguous":
                add("undeclared", 1, f"declares {v.text}, which may be {', '.join(m.candidates)}")
            else:
                add("undeclared", 1, ("declares " + v.text + ", not read as a port") if v.text
                    else "declares no destination")
        if self.profiles is not None:
            from maritime.enrich.profile_store import risk

            prof = self.profiles.profile(mmsi)
            if prof is not None:
                r = risk(prof, self.risk_weights)
                if r["score"]:
                    out.append({"factor": "profile", "count": 1, "weight": r["score"], "points": r["score"],
                                "why": "; ".join(f["why"] for f in r["factors"][:4])})
        return out


#: a route point is in sight along the route while every point before it lies this close to the straight
#: line from the vessel (m): the grid's steps (45° apart) are smoothed into the route's real heading
SIGHT_M = 3000.0


def _sight_point(lat: float, lon: float, legs: list[tuple[float, float]]) -> tuple[float, float]:
    """The farthest point of the route (from the vessel on) that the route reaches without bending more than
    :data:`SIGHT_M` off the straight line to it: the direction the vessel must steer now."""
    kx = math.cos(math.radians(lat)) * 111_320.0
    ky = 110_574.0
    pts = [((q[1] - lon) * kx, (q[0] - lat) * ky) for q in legs]
    best = legs[-1] if len(legs) == 1 else legs[0]
    for k in range(len(pts)):
        x, y = pts[k]
        n = math.hypot(x, y)
        if n < 1.0:
            continue
        if all(abs(px * y - py * x) / n <= SIGHT_M and (px * x + py * y) >= -SIGHT_M * n for px, py in pts[:k]):
            best = legs[k]
        elif n > 20_000.0:
            break
    return best


def bearing(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    """Initial great-circle bearing from one point to another (degrees true)."""
    p0, p1 = math.radians(lat0), math.radians(lat1)
    dl = math.radians(lon1 - lon0)
    y = math.sin(dl) * math.cos(p1)
    x = math.cos(p0) * math.sin(p1) - math.sin(p0) * math.cos(p1) * math.cos(dl)
    return (math.degrees(math.atan2(y, x)) + 360) % 360


def board_csv(rows: list[Arrival]) -> str:
    """The board as CSV (factors as ``factor×count`` joined by ``;``)."""
    buf = io.StringIO()
    cols = [k for k in Arrival.__dataclass_fields__ if k != "factors"] + ["factors"]
    w = csv.writer(buf)
    w.writerow(cols)
    for a in rows:
        d = a.as_dict()
        d["factors"] = "; ".join(f"{f['factor']}×{f['count']}={f['points']}" for f in a.factors)
        w.writerow([d[c] for c in cols])
    return buf.getvalue()


def publish_board(url: str, centre: str, doc: dict[str, Any], maxlen: int = 1000) -> str:
    """Add a board (the JSON of ``maritime arrivals``) to the centre's Redis stream ``mda:arrivals:<centre>``
    (field ``board``, the newest ``maxlen`` kept); the entry id. A centre reads it as it reads its alerts."""
    import json

    import redis

    r = redis.Redis.from_url(url, socket_timeout=10.0, socket_connect_timeout=10.0)
    try:
        got = r.xadd(f"mda:arrivals:{centre}", {"board": json.dumps(doc, ensure_ascii=False)}, maxlen=maxlen,
                     approximate=True)
        return got.decode() if isinstance(got, bytes) else str(got)
    finally:
        r.close()


def board_document(port: Port, as_of_s: float | None, hours: float, rows: list[Arrival],
                   centre: str | None = None, not_coming: list[Arrival] | None = None) -> dict[str, Any]:
    """The board as one JSON document: the port, the time it is reckoned at, the hours ahead (h), the
    arrivals, the vessels that declare the port but are not coming (when given), and the centre it is for
    (when it is for one)."""
    doc: dict[str, Any] = {"port": port.as_dict(), "as_of": iso(as_of_s) if as_of_s else None, "hours": hours}
    if centre is not None:
        doc["centre"] = centre
    doc["arrivals"] = [a.as_dict() for a in rows]
    if not_coming is not None:
        doc["declared_not_coming"] = [a.as_dict() for a in not_coming]
    return doc


def write_board(path: Path, doc: dict[str, Any], rows: list[Arrival]) -> None:
    """Write a board for analysts: CSV when ``path`` ends in ``.csv``, else the JSON document."""
    import json

    text = board_csv(rows) if path.suffix.lower() == ".csv" else json.dumps(doc, indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
