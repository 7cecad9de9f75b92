"""Who is coming to a port: the arrivals board, from declared voyages and real tracks, with an explained risk.

:class:`ArrivalsBoard` follows a run (a pipeline listener and alert sink). For one port it lists the vessels
expected within ``hours``:

- declared: the destination text names the port (:mod:`maritime.zones.ports`), with the declared ETA;
- tracked: the vessel is under way (at least ``min_sog_kn``) on a course within ``course_tol_deg`` of its
  water route to the port (the simulator's water grid: around islands, not over them), and can be there
  within the window at its speed;

each with both ETAs (declared, and from the track: route distance over speed) and how far they disagree.
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
                 course_tol_deg: float = 25.0, eta_slack_h: float = 3.0, harbour_km: float = 3.0) -> None:
        self.ports = ports if ports is not None else PortIndex.load()
        self._grid = grid
        self.profiles = profiles
        self.risk_weights = risk_weights
        self.min_sog_kn = min_sog_kn
        self.course_tol_deg = course_tol_deg
        self.eta_slack_s = eta_slack_h * 3600
        self.harbour_m = harbour_km * 1000
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

    def close(self) -> None:
        """Sink interface."""

    # -- the board ----------------------------------------------------------------------

    @property
    def grid(self) -> Any:
        """The water grid for route distances (built once, on first use: a few seconds)."""
        if self._grid is None:
            from maritime.geo.routing import WaterGrid

            self._grid = WaterGrid()
        return self._grid

    def find_port(self, query: str) -> Port | None:
        """A port by gazetteer id, LOCODE or name (as a crew would write it)."""
        q = query.strip()
        got = self.ports.by_id.get(q) or self.ports.by_locode.get(q.upper().replace(" ", ""))
        if got is not None:
            return got
        return self.ports.match(q).port

    def _route(self, port: Port, pos: Position) -> tuple[float, float] | None:
        """Water route distance (m) from a position to the port, and the bearing of its first leg (deg)."""
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
        nxt = next((p for p in legs if haversine_m(pos.lat, pos.lon, p[0], p[1]) > 5000), legs[-1])
        return dist, bearing(pos.lat, pos.lon, nxt[0], nxt[1])

    def board(self, port: Port, now_s: float | None = None, hours: float = 48.0) -> list[Arrival]:
        """The vessels expected at ``port`` within ``hours`` of ``now_s`` (default: the latest event time),
        riskiest first, then soonest."""
        now = self.now_s if now_s is None else now_s
        if port.lat is None or port.lon is None:
            raise ValueError(f"{port.name}: the gazetteer has no position for it")
        out = [a for a in (self.expect(port, mmsi, v, now, now + hours * 3600) for mmsi, v in self.vessels.items())
               if a is not None]
        out.sort(key=lambda a: (-a.risk, a.eta_track or a.eta_declared or "~"))
        return out

    def expect(self, port: Port, mmsi: int, v: Followed, now: float, horizon: float) -> Arrival | None:
        """The vessel as an expected arrival at ``port`` before ``horizon`` (event s), or None."""
        pos = v.pos
        assert port.lat is not None and port.lon is not None
        if pos is None or now - pos.time_s > 6 * 3600:
            return None  # not heard for six hours: not followed
        m = self._match(v.text) if v.text else None
        declared_here = m is not None and m.port is not None and (m.port.id == port.id or (
            m.method == "alias" and m.port.country == port.country))
        far = haversine_m(pos.lat, pos.lon, port.lat, port.lon)
        if far < self.harbour_m:
            return None  # in port: arrived
        sog = pos.sog_kn
        reach_m = (sog or 0.0) * 1852 * (horizon - pos.time_s) / 3600
        if not declared_here and (sog is None or sog < self.min_sog_kn or far > reach_m * 1.05):
            return None  # cannot be there in time on its own way: not worth a route
        route = self._route(port, pos)
        track_eta = None
        if route is not None and sog is not None and sog >= self.min_sog_kn and pos.cog_deg is not None:
            dist, bearing = route
            if abs((pos.cog_deg - bearing + 180) % 360 - 180) <= self.course_tol_deg:
                track_eta = pos.time_s + dist / (sog * 1852 / 3600)
        decl_eta = v.eta_s if declared_here else None
        in_window_decl = declared_here and (decl_eta is None or now - 6 * 3600 <= decl_eta <= horizon)
        in_window_track = track_eta is not None and track_eta <= horizon
        if not (in_window_decl or in_window_track):
            return None
        basis = "declared and track" if declared_here and in_window_track else \
            "declared" if declared_here else "track"
        factors = self._factors(mmsi, v, m, declared_here, decl_eta, track_eta)
        return Arrival(
            mmsi=mmsi, name=v.name, callsign=v.callsign, imo=v.imo, category=vessel_category(v.ship_type),
            basis=basis, declared_text=v.text or None, declared_port=m.port.id if m and m.port else None,
            declared_confidence=round(m.confidence, 2) if m else 0.0,
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
                p for p in self.ports.ports if p.lat is not None and p.lon is not None
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
            add(typ, len(self.events.get(mmsi, {}).get(typ, ())))
        if decl_eta is not None and track_eta is not None and decl_eta < track_eta - self.eta_slack_s:
            add("eta_unreachable", 1, f"declared {iso(decl_eta)}, the track makes {iso(track_eta)}")
        if not declared_here:
            if m is not None and m.port is not None:
                add("declared_elsewhere", 1, f"declares {m.port.name} ({v.text})")
            else:
                add("undeclared", 1, "declares nothing readable" + (f" ({v.text})" if v.text else ""))
        if self.profiles is not None:
            from maritime.enrich.profile_store import risk

            prof = self.profiles.profile(mmsi)
            if prof is not None:
                r = risk(prof, self.risk_weights)
                if r["score"]:
                    out.append({"factor": "profile", "count": 1, "weight": r["score"], "points": r["score"],
                                "why": "; ".join(f["why"] for f in r["factors"][:4])})
        return out


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
                   centre: str | None = None) -> dict[str, Any]:
    """The board as one JSON document: the port, the time it is reckoned at, the hours ahead (h), the
    arrivals, and the centre it is for (when it is for one)."""
    doc: dict[str, Any] = {"port": port.as_dict(), "as_of": iso(as_of_s) if as_of_s else None, "hours": hours}
    if centre is not None:
        doc["centre"] = centre
    doc["arrivals"] = [a.as_dict() for a in rows]
    return doc


def write_board(path: Path, doc: dict[str, Any], rows: list[Arrival]) -> None:
    """Write a board for analysts: CSV when ``path`` ends in ``.csv``, else the JSON document."""
    import json

    text = board_csv(rows) if path.suffix.lower() == ".csv" else json.dumps(doc, indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
