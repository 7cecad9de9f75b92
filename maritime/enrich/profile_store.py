"""Vessel profiles: identity history, port calls, zone history and alerts in SQLite, and a risk score.

:class:`~maritime.detectors.profile_tracker.ProfileTracker` runs in the pipeline: it records every change of a
vessel's identity (name, call sign, IMO, ship type, flag), port calls
(arrival and departure at ``port``/``anchorage`` zones) and zone visits
(checked every few minutes per vessel), and the alerts that involve it. An
IMO reported under a new MMSI, or an MMSI whose name, flag or type changes,
raises ``identity_anomaly`` with both identities, and the new MMSI is linked
to the old one for the watchlist. Everything is in a SQLite file, so nothing
is lost when the pipeline restarts.

The risk score is additive and explained: each factor with its count, weight
and points (weights in the settings, rationale in the README).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from maritime.models import Alert, iso
from maritime.zones.index import HARBOUR_KINDS

#: Flags of the large open registries (MID countries), a risk factor on their own only weakly.
OPEN_REGISTRIES = frozenset(("PA", "LR", "MH", "BS", "MT", "AG", "VC", "BZ", "KM", "TG", "SL", "CK", "MN", "BO"))

DEFAULT_WEIGHTS: dict[str, float] = {
    "dark_gap": 10.0, "dark_gap_per_12h": 5.0, "rendezvous": 15.0, "loitering": 5.0,
    "identity_change": 10.0, "invalid_or_reused_mmsi": 20.0, "open_registry_flag": 3.0, "unknown_flag": 5.0,
    "watchlist": 30.0, "no_static_data": 5.0, "port_call_without_identity": 5.0, "near_eez_edge_per_6h": 3.0,
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS identity (mmsi INTEGER, time_s REAL, name TEXT, callsign TEXT, imo INTEGER,
  ship_type INTEGER, flag TEXT);
CREATE TABLE IF NOT EXISTS port_call (mmsi INTEGER, zone_id TEXT, zone_name TEXT, arrive_s REAL, depart_s REAL);
CREATE TABLE IF NOT EXISTS zone_visit (mmsi INTEGER, zone_id TEXT, kind TEXT, enter_s REAL, exit_s REAL);
CREATE TABLE IF NOT EXISTS alert (id TEXT, mmsi INTEGER, type TEXT, status TEXT, severity TEXT, time_s REAL,
  start_s REAL, end_s REAL, summary TEXT, details TEXT, PRIMARY KEY (id, mmsi));
CREATE TABLE IF NOT EXISTS link (mmsi INTEGER PRIMARY KEY, linked_to INTEGER, why TEXT, time_s REAL);
CREATE TABLE IF NOT EXISTS edge_time (mmsi INTEGER PRIMARY KEY, seconds REAL);
CREATE TABLE IF NOT EXISTS edge_check (mmsi INTEGER, time_s REAL, seconds REAL);
CREATE INDEX IF NOT EXISTS edge_check_mmsi ON edge_check (mmsi, time_s);
CREATE INDEX IF NOT EXISTS identity_mmsi ON identity (mmsi);
CREATE INDEX IF NOT EXISTS identity_imo ON identity (imo);
CREATE INDEX IF NOT EXISTS port_call_mmsi ON port_call (mmsi);
CREATE INDEX IF NOT EXISTS zone_visit_mmsi ON zone_visit (mmsi);
CREATE TABLE IF NOT EXISTS declaration (mmsi INTEGER, time_s REAL, text TEXT, eta_s REAL);
CREATE INDEX IF NOT EXISTS declaration_mmsi ON declaration (mmsi, time_s);
CREATE TABLE IF NOT EXISTS anchorage_rest (cell_i INTEGER, cell_j INTEGER, mmsi INTEGER, time_s REAL,
  PRIMARY KEY (cell_i, cell_j, mmsi));
"""


class ProfileStore:
    """The SQLite file of profiles."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db = sqlite3.connect(str(self.path))
        self.db.executescript(_SCHEMA)
        # files written before edge time was kept per check: their totals count from the start of time
        if self.db.execute("SELECT 1 FROM edge_time LIMIT 1").fetchone():
            self.db.execute("INSERT INTO edge_check SELECT mmsi, 0.0, seconds FROM edge_time")
            self.db.execute("DELETE FROM edge_time")
            self.db.commit()

    def close(self) -> None:
        """Commit and close."""
        self.db.commit()
        self.db.close()

    def commit(self) -> None:
        """Make what was written durable."""
        self.db.commit()

    def add_identity(self, mmsi: int, time_s: float, ident: tuple[Any, ...]) -> None:
        """Record an identity (name, callsign, imo, ship_type, flag) seen from ``time_s``."""
        self.db.execute("INSERT INTO identity VALUES (?, ?, ?, ?, ?, ?, ?)", (mmsi, time_s, *ident))

    def add_link(self, mmsi: int, earlier: int, why: str, time_s: float) -> None:
        """Record that ``mmsi`` is the same vessel as ``earlier``."""
        self.db.execute("INSERT OR REPLACE INTO link VALUES (?, ?, ?, ?)", (mmsi, earlier, why, time_s))

    def add_declaration(self, mmsi: int, time_s: float, text: str, eta_s: float | None) -> None:
        """Record a declared destination (as typed, cleaned) and ETA (s), from ``time_s``."""
        self.db.execute("INSERT INTO declaration VALUES (?, ?, ?, ?)", (mmsi, time_s, text, eta_s))

    def add_visit(self, mmsi: int, zone_id: str, name: str, kind: str, since: float, until: float | None) -> None:
        """Record a zone visit (and a port call for port and anchorage zones)."""
        if kind in HARBOUR_KINDS:
            self.db.execute("INSERT INTO port_call VALUES (?, ?, ?, ?, ?)", (mmsi, zone_id, name, since, until))
        self.db.execute("INSERT INTO zone_visit VALUES (?, ?, ?, ?, ?)", (mmsi, zone_id, kind, since, until))

    def add_edge_time(self, mmsi: int, seconds: float, time_s: float) -> None:
        """Add ``seconds`` spent near an EEZ boundary, as seen at event time ``time_s``."""
        self.db.execute("INSERT INTO edge_check VALUES (?, ?, ?)", (mmsi, time_s, seconds))

    def add_rest(self, cell: tuple[int, int], mmsi: int, time_s: float) -> None:
        """Remember that ``mmsi`` rested in grid ``cell`` (learned anchorages) at event time ``time_s``."""
        self.db.execute("INSERT OR IGNORE INTO anchorage_rest VALUES (?, ?, ?, ?)", (*cell, mmsi, time_s))

    def rests(self) -> list[tuple[tuple[int, int], int, float]]:
        """Every remembered rest: ``(cell, mmsi, time_s)``, oldest first."""
        rows = self.db.execute("SELECT cell_i, cell_j, mmsi, time_s FROM anchorage_rest ORDER BY time_s, mmsi")
        return [((i, j), m, t) for i, j, m, t in rows]

    def put_alert(self, alert: Alert) -> None:
        """Keep the latest record of an alert in each involved vessel's profile."""
        for v in alert.vessels:
            self.db.execute(
                "INSERT OR REPLACE INTO alert VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (alert.id, v.mmsi, alert.type, alert.status, alert.severity, alert.time_s, alert.start_s, alert.end_s,
                 alert.summary, json.dumps(alert.details)))

    def last_identity(self, mmsi: int) -> tuple[Any, ...] | None:
        """(name, callsign, imo, ship_type, flag) last recorded for the MMSI."""
        return self.db.execute("SELECT name, callsign, imo, ship_type, flag FROM identity WHERE mmsi = ? "
                               "ORDER BY time_s DESC, rowid DESC LIMIT 1", (mmsi,)).fetchone()

    def mmsis_of_imo(self, imo: int) -> list[int]:
        """Every MMSI that reported this IMO."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT mmsi FROM identity WHERE imo = ?", (imo,))]

    def profile(self, key: int, as_of: float | None = None) -> dict[str, Any] | None:
        """Everything about a vessel by MMSI, or by IMO (all its MMSIs); None when unknown.

        ``as_of``: only what was recorded for event times before it (s), so that a score given to an alert
        does not depend on how far another stage has read ahead.
        """
        cut = float("inf") if as_of is None else as_of
        found = set(self.mmsis_of_imo(key) or [key])
        for _ in range(2):  # links either way, and every MMSI that reported the same IMO
            q = ",".join("?" * len(found))
            found |= {r[0] for r in self.db.execute(
                f"SELECT mmsi FROM link WHERE linked_to IN ({q}) UNION SELECT linked_to FROM link WHERE mmsi IN ({q}) "
                f"UNION SELECT DISTINCT b.mmsi FROM identity a JOIN identity b ON a.imo = b.imo "
                f"WHERE a.mmsi IN ({q}) AND a.imo IS NOT NULL", [*found, *found, *found])}
        mmsis = sorted(found)
        q = ",".join("?" * len(mmsis))
        ident = [dict(zip(("mmsi", "time", "name", "callsign", "imo", "ship_type", "flag"),
                          (r[0], iso(r[1]), *r[2:]), strict=True))
                 for r in self.db.execute(f"SELECT mmsi, time_s, name, callsign, imo, ship_type, flag FROM identity "
                                          f"WHERE mmsi IN ({q}) AND time_s < ? ORDER BY time_s", [*mmsis, cut])]
        if not ident:
            return None
        calls = [{"mmsi": r[0], "zone": r[1], "name": r[2], "arrive": iso(r[3]), "depart": iso(r[4]),
                  "hours": round((r[4] - r[3]) / 3600, 1) if r[4] else None}
                 for r in self.db.execute(f"SELECT mmsi, zone_id, zone_name, arrive_s, depart_s FROM port_call "
                                          f"WHERE mmsi IN ({q}) AND arrive_s < ? ORDER BY arrive_s", [*mmsis, cut])]
        zones = [{"mmsi": r[0], "zone": r[1], "kind": r[2], "enter": iso(r[3]), "exit": iso(r[4])}
                 for r in self.db.execute(f"SELECT mmsi, zone_id, kind, enter_s, exit_s FROM zone_visit "
                                          f"WHERE mmsi IN ({q}) AND enter_s < ? ORDER BY enter_s", [*mmsis, cut])]
        alerts = [{"id": r[0], "type": r[1], "status": r[2], "severity": r[3], "time": iso(r[4]), "start": iso(r[5]),
                   "end": iso(r[6]), "summary": r[7], "details": json.loads(r[8])}
                  for r in self.db.execute(f"SELECT id, type, status, severity, time_s, start_s, end_s, summary, "
                                           f"details FROM alert WHERE mmsi IN ({q}) AND time_s < ? ORDER BY time_s",
                                           [*mmsis, cut])]
        edge = self.db.execute(f"SELECT COALESCE(SUM(seconds), 0) FROM edge_check WHERE mmsi IN ({q}) AND time_s < ?",
                               [*mmsis, cut]).fetchone()[0]
        decl = declarations((r[0], r[1], r[2], r[3]) for r in self.db.execute(
            f"SELECT mmsi, time_s, text, eta_s FROM declaration WHERE mmsi IN ({q}) AND time_s < ? ORDER BY time_s",
            [*mmsis, cut]))
        return {"mmsis": mmsis, "identity_history": ident, "port_calls": calls, "zone_history": zones,
                "alerts": alerts, "declarations": decl, "eez_edge_hours": round(edge / 3600, 2)}


def declarations(rows: Iterable[tuple[int, float, str, float | None]]) -> list[dict[str, Any]]:
    """A vessel's declaration history, each with the port its text names (or none): ``mmsi``, ``time``,
    ``text``, ``eta``, ``port``, ``port_name``, ``confidence``."""
    from maritime.zones.ports import PortIndex

    index = _port_index()
    out = []
    for mmsi, t, text, eta in rows:
        m = index.match(text) if isinstance(index, PortIndex) else None
        out.append({"mmsi": mmsi, "time": iso(t), "text": text, "eta": iso(eta) if eta else None,
                    "port": m.port.id if m and m.port else None, "port_name": m.port.name if m and m.port else None,
                    "confidence": round(m.confidence, 2) if m else 0.0})
    return out


@functools.cache
def _port_index() -> Any:
    """The bundled port gazetteer, loaded once."""
    from maritime.zones.ports import PortIndex

    return PortIndex.load()


def risk(profile: dict[str, Any], weights: dict[str, float] | None = None) -> dict[str, Any]:
    """Additive risk score with every factor explained (count × weight = points)."""
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    latest: dict[str, dict[str, Any]] = {}
    for a in profile["alerts"]:
        latest[a["id"]] = a
    alerts = list(latest.values())
    factors: list[dict[str, Any]] = []

    def add(name: str, count: float, why: str, weight: str | None = None) -> None:
        if count:
            pts = round(count * w[weight or name], 1)
            factors.append({"factor": name, "count": count, "weight": w[weight or name], "points": pts, "why": why})

    gaps = [a for a in alerts if a["type"] == "dark_gap"]
    add("dark_gap", len(gaps), "AIS switched off or out of reach for ≥ 6 h")
    gap_h = sum(a["details"].get("gap_h") or 0 for a in gaps)
    add("dark_gap_per_12h", round(gap_h / 12, 1), f"{gap_h:.0f} h dark in all")
    add("rendezvous", sum(1 for a in alerts if a["type"] == "rendezvous"), "ship-to-ship meetings at sea")
    add("loitering", sum(1 for a in alerts if a["type"] == "loitering"), "hours slow at sea, away from port")
    kinds = [a["details"].get("anomaly") for a in alerts if a["type"] == "identity_anomaly"]
    add("identity_change", sum(1 for k in kinds if k in ("identity_change", "imo_new_mmsi")),
        "name, flag, type or MMSI changed")
    add("invalid_or_reused_mmsi", sum(1 for k in kinds if k in ("invalid_mmsi", "default_mmsi", "shared_mmsi")),
        "MMSI invalid or used by two transmitters")
    flags = {i.get("flag") for i in profile["identity_history"]}
    if None in flags or not flags:
        add("unknown_flag", 1, "no flag from the MMSI")
    elif flags & OPEN_REGISTRIES:
        add("open_registry_flag", 1, f"open registry: {', '.join(sorted(f for f in flags if f))}")
    if any(a["details"].get("watchlist") for a in alerts) or any(a["type"] == "watchlist_hit" for a in alerts):
        add("watchlist", 1, "on a shared watchlist")
    hist = profile["identity_history"]
    if not any(i.get("name") or i.get("ship_type") for i in hist):
        add("no_static_data", 1, "never sent its name or type")
    first_static = min((i["time"] for i in hist if i.get("name") or i.get("ship_type")), default=None)
    add("port_call_without_identity",
        sum(1 for c in profile["port_calls"] if first_static is None or (c["arrive"] or "") < first_static),
        "called at a port before sending any static data")
    edge_h = profile.get("eez_edge_hours") or 0.0
    add("near_eez_edge_per_6h", round(edge_h / 6, 1), f"{edge_h:.1f} h within 12 nm of an EEZ boundary")
    factors.sort(key=lambda f: -f["points"])
    return {"score": round(sum(f["points"] for f in factors), 1), "factors": factors}


class RedisProfileStore:
    """The same profiles in Redis (when configured), for several workers and the live map to share.

    Keys: ``mda:profile:<mmsi>:identity|port_calls|zones`` (lists of JSON rows), ``…:alerts`` (hash id → JSON),
    ``mda:imo:<imo>`` (set of MMSIs), ``mda:link:<mmsi>`` (the earlier MMSI) and ``mda:linked:<mmsi>`` (set).
    """

    _FIELDS = ("name", "callsign", "imo", "ship_type", "flag")

    def __init__(self, url: str) -> None:
        import redis

        self.r: Any = redis.Redis.from_url(url, decode_responses=True)

    def commit(self) -> None:
        """Every write is already durable in Redis."""

    def close(self) -> None:
        """Disconnect."""
        self.r.close()

    def _k(self, mmsi: int, part: str) -> str:
        return f"mda:profile:{mmsi}:{part}"

    def add_identity(self, mmsi: int, time_s: float, ident: tuple[Any, ...]) -> None:
        """Record an identity seen from ``time_s``."""
        self.r.rpush(self._k(mmsi, "identity"), json.dumps([time_s, *ident]))
        if ident[2] is not None:
            self.r.sadd(f"mda:imo:{ident[2]}", mmsi)

    def add_link(self, mmsi: int, earlier: int, why: str, time_s: float) -> None:
        """Record that ``mmsi`` is the same vessel as ``earlier``."""
        self.r.set(f"mda:link:{mmsi}", earlier)
        self.r.sadd(f"mda:linked:{earlier}", mmsi)

    def add_declaration(self, mmsi: int, time_s: float, text: str, eta_s: float | None) -> None:
        """Record a declared destination and ETA (s), from ``time_s``."""
        self.r.rpush(self._k(mmsi, "declarations"), json.dumps([time_s, text, eta_s]))

    def add_visit(self, mmsi: int, zone_id: str, name: str, kind: str, since: float, until: float | None) -> None:
        """Record a zone visit (and a port call for port and anchorage zones)."""
        if kind in HARBOUR_KINDS:
            self.r.rpush(self._k(mmsi, "port_calls"), json.dumps([zone_id, name, since, until]))
        self.r.rpush(self._k(mmsi, "zones"), json.dumps([zone_id, kind, since, until]))

    def add_edge_time(self, mmsi: int, seconds: float, time_s: float) -> None:
        """Add ``seconds`` spent near an EEZ boundary, as seen at event time ``time_s``."""
        self.r.zadd(self._k(mmsi, "edge"), {f"{time_s!r}:{seconds!r}": time_s})

    def add_rest(self, cell: tuple[int, int], mmsi: int, time_s: float) -> None:
        """Remember that ``mmsi`` rested in grid ``cell`` (learned anchorages) at event time ``time_s``."""
        self.r.hsetnx("mda:anchorage:rests", f"{cell[0]}:{cell[1]}:{mmsi}", repr(time_s))

    def rests(self) -> list[tuple[tuple[int, int], int, float]]:
        """Every remembered rest: ``(cell, mmsi, time_s)``, oldest first."""
        out = []
        for k, t in self.r.hgetall("mda:anchorage:rests").items():
            i, j, m = (int(x) for x in k.split(":"))
            out.append(((i, j), m, float(t)))
        return sorted(out, key=lambda r: (r[2], r[1]))

    def put_alert(self, alert: Alert) -> None:
        """Keep the latest record of an alert in each involved vessel's profile."""
        row = json.dumps([alert.type, alert.status, alert.severity, alert.time_s, alert.start_s, alert.end_s,
                          alert.summary, alert.details])
        for v in alert.vessels:
            self.r.hset(self._k(v.mmsi, "alerts"), alert.id, row)

    def last_identity(self, mmsi: int) -> tuple[Any, ...] | None:
        """The identity last recorded for the MMSI."""
        raw = self.r.lindex(self._k(mmsi, "identity"), -1)
        return tuple(json.loads(raw)[1:]) if raw else None

    def mmsis_of_imo(self, imo: int) -> list[int]:
        """Every MMSI that reported this IMO."""
        return sorted(int(m) for m in self.r.smembers(f"mda:imo:{imo}"))

    def profile(self, key: int, as_of: float | None = None) -> dict[str, Any] | None:
        """Everything about a vessel by MMSI or IMO, as :meth:`ProfileStore.profile` (``as_of`` too)."""
        cut = float("inf") if as_of is None else as_of
        found = set(self.mmsis_of_imo(key) or [key])
        for _ in range(2):
            for m in list(found):
                earlier = self.r.get(f"mda:link:{m}")
                if earlier:
                    found.add(int(earlier))
                found |= {int(x) for x in self.r.smembers(f"mda:linked:{m}")}
                last = self.last_identity(m)
                if last and last[2] is not None:
                    found |= set(self.mmsis_of_imo(last[2]))
        mmsis = sorted(found)
        ident, calls, zones, alerts = [], [], [], []
        decl_rows: list[tuple[int, float, str, float | None]] = []
        for m in mmsis:
            for raw in self.r.lrange(self._k(m, "declarations"), 0, -1):
                t, text, eta = json.loads(raw)
                if t < cut:
                    decl_rows.append((m, t, text, eta))
            for raw in self.r.lrange(self._k(m, "identity"), 0, -1):
                t, *rest = json.loads(raw)
                if t >= cut:
                    continue
                ident.append({"mmsi": m, "time": iso(t), **dict(zip(self._FIELDS, rest, strict=True))})
            for raw in self.r.lrange(self._k(m, "port_calls"), 0, -1):
                zid, name, a, d = json.loads(raw)
                if a >= cut:
                    continue
                calls.append({"mmsi": m, "zone": zid, "name": name, "arrive": iso(a), "depart": iso(d),
                              "hours": round((d - a) / 3600, 1) if d else None})
            for raw in self.r.lrange(self._k(m, "zones"), 0, -1):
                zid, kind, a, d = json.loads(raw)
                if a >= cut:
                    continue
                zones.append({"mmsi": m, "zone": zid, "kind": kind, "enter": iso(a), "exit": iso(d)})
            for aid, raw in self.r.hgetall(self._k(m, "alerts")).items():
                typ, status, sev, t, st, en, summary, details = json.loads(raw)
                if t >= cut:
                    continue
                alerts.append({"id": aid, "type": typ, "status": status, "severity": sev, "time": iso(t),
                               "start": iso(st), "end": iso(en), "summary": summary, "details": details, "_t": t})
        if not ident:
            return None
        ident.sort(key=lambda i: i["time"])
        calls.sort(key=lambda c: c["arrive"] or "")
        zones.sort(key=lambda z: z["enter"] or "")
        alerts.sort(key=lambda a: a.pop("_t"))
        edge = sum(float(member.split(":")[1]) for m in mmsis
                   for member in self.r.zrangebyscore(self._k(m, "edge"), "-inf", f"({cut}" if as_of is not None
                                                      else "+inf"))
        return {"mmsis": mmsis, "identity_history": ident, "port_calls": calls, "zone_history": zones,
                "alerts": alerts, "declarations": declarations(sorted(decl_rows, key=lambda r: r[1])),
                "eez_edge_hours": round(edge / 3600, 2)}
