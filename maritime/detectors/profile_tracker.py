"""Vessel histories as they happen: identity changes, an IMO under a new MMSI, port calls and zone visits.

:class:`ProfileTracker` records into a profile store (SQLite or Redis, see
:mod:`maritime.enrich.profile_store`) every change of a vessel's identity (name,
call sign, IMO, ship type, flag), its zone visits (checked every few minutes
per vessel) and the time it spends near an EEZ boundary. An IMO reported
under a new MMSI, or an MMSI whose name, call sign, IMO, type or flag
changes, raises ``identity_anomaly`` with both identities, and the new MMSI
is linked to the old one for the watchlist.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import msgspec
import shapely
from shapely.geometry import box

from maritime.destination import clean_destination
from maritime.detectors.base import AlertBuilder, DetectorBase, vessel_phrase
from maritime.detectors.tracker import Tracker, VesselState
from maritime.geo import M_PER_DEG_LAT
from maritime.models import Alert, Position, VesselInfo, iso
from maritime.zones.index import ZoneIndex


class HistoryStore(Protocol):
    """What the profile tracker writes to (both profile stores keep it)."""

    def add_identity(self, mmsi: int, time_s: float, ident: tuple[Any, ...]) -> None: ...
    def add_link(self, mmsi: int, earlier: int, why: str, time_s: float) -> None: ...
    def add_visit(self, mmsi: int, zone_id: str, name: str, kind: str, since: float, until: float | None
                  ) -> None: ...
    def add_edge_time(self, mmsi: int, seconds: float, time_s: float) -> None: ...
    def add_declaration(self, mmsi: int, time_s: float, text: str, eta_s: float | None) -> None: ...
    def put_alert(self, alert: Alert) -> None: ...
    def last_identity(self, mmsi: int) -> tuple[Any, ...] | None: ...
    def mmsis_of_imo(self, imo: int) -> list[int]: ...
    def commit(self) -> None: ...


class ZoneStay(msgspec.Struct, array_like=True, gc=False):
    """A zone a vessel is in, written to its profile when it leaves (since: event time s)."""

    zone_id: str
    name: str
    kind: str
    since: float


class ProfileState(msgspec.Struct, gc=False):
    """The zone-check state of one vessel: when the next check is due (s) and the zones it is in."""

    next: float = 0.0
    inside: dict[str, ZoneStay] = msgspec.field(default_factory=dict)


class ProfileTracker(DetectorBase):
    """Records identities, port calls, zone visits and alerts (a detector and an alert sink)."""

    name = "profiles"
    #: how a table entry of ``state`` is read back
    state_type = ProfileState

    def __init__(self, store: HistoryStore, tracker: Tracker, zones: ZoneIndex | None = None,
                 check_every_s: float = 300.0, watchlist: Any = None) -> None:
        self.store = store
        self.tracker = tracker
        self.zones = zones
        self.check_every_s = check_every_s
        self.watchlist = watchlist
        self.alerts = AlertBuilder(tracker)
        #: per MMSI: the next zone check and the zones it is in (the distributed runtime keeps it in its table)
        self.state: dict[int, ProfileState] = {}
        self._ident: dict[int, tuple[Any, ...]] = {}
        #: the last declared destination recorded per vessel (cleaned text), and a new one seen once
        self._declared: dict[int, str] = {}
        self._new_text: dict[int, str] = {}
        self._pending = 0
        eez = [z.geometry.boundary for z in (zones.zones if zones is not None else []) if z.kind == "eez"]
        self._edges = eez
        self._edge_tree = shapely.STRtree(eez) if eez else None
        self._edge_cells: dict[tuple[int, int], tuple[int, ...]] = {}

    def _identity(self, pos: Position, v: VesselState) -> list[Alert]:
        ident = (v.name, v.callsign, v.imo, v.ship_type, v.flag)
        prev = self._ident.get(v.mmsi)
        if prev is None:
            prev = self.store.last_identity(v.mmsi)
        if prev == ident:
            self._ident[v.mmsi] = ident
            return []
        self._ident[v.mmsi] = ident
        out: list[Alert] = []
        if prev is not None:
            fields = ("name", "callsign", "imo", "ship_type", "flag")
            before = dict(zip(fields, prev, strict=True))
            after = dict(zip(fields, ident, strict=True))
            changed = [f for f in fields if before[f] is not None and after[f] is not None and before[f] != after[f]]
            if changed:
                text = "changed " + ", ".join(f"{f} from {before[f]!r} to {after[f]!r}" for f in changed)
                out.append(self._anomaly(pos, v, "identity_change", text, {"before": before, "after": after}))
        if v.imo is not None and (prev is None or prev[2] != v.imo):
            others = [m for m in self.store.mmsis_of_imo(v.imo) if m != v.mmsi]
            if others:
                old = others[0]
                self.store.add_link(v.mmsi, old, f"IMO {v.imo}", pos.time_s)
                if self.watchlist is not None:
                    self.watchlist.link(v.mmsi, old)
                out.append(self._anomaly(pos, v, "imo_new_mmsi",
                                         f"IMO {v.imo} earlier reported by MMSI {old} now by MMSI {v.mmsi}",
                                         {"imo": v.imo, "previous_mmsi": old,
                                          "previous_identity": self.store.last_identity(old)}))
        self.store.add_identity(v.mmsi, pos.time_s, ident)
        return out

    def _anomaly(self, pos: Position, v: VesselState, kind: str, text: str, extra: dict[str, Any]) -> Alert:
        return self.alerts.make(
            type="identity_anomaly", key=f"{v.mmsi}:{kind}:{iso(pos.time_s)}", status="open", severity="medium",
            time_s=pos.time_s, start_s=pos.time_s, end_s=None, mmsis=[v.mmsi], lat=pos.lat, lon=pos.lon,
            summary=f"{vessel_phrase(v)}: {text}", details={"anomaly": kind, **extra})

    def on_static(self, info: VesselInfo, vessel: VesselState) -> list[Alert]:
        """A declared destination that differs from the last one goes to the declaration history."""
        if info.destination is None:
            return []
        text = clean_destination(info.destination)
        if not text or self._declared.get(info.mmsi) == text:
            self._new_text.pop(info.mmsi, None)
            return []
        if self._new_text.get(info.mmsi) != text:  # kept once two reports in a row carry it (not a damaged one)
            self._new_text[info.mmsi] = text
            return []
        del self._new_text[info.mmsi]
        self._declared[info.mmsi] = text
        self.store.add_declaration(info.mmsi, info.time_s, text, info.eta_s)
        return []

    def on_position(self, pos: Position, vessel: VesselState) -> list[Alert]:
        out = self._identity(pos, vessel)
        st = self.state.get(pos.mmsi)
        if self.zones is not None and (st is None or pos.time_s >= st.next):
            if st is None:
                st = self.state[pos.mmsi] = ProfileState()
            st.next = pos.time_s + self.check_every_s
            self._visits(pos, st.inside)
        self._pending += 1
        if self._pending >= 5000:
            self.store.commit()
            self._pending = 0
        return out

    def _near_edge(self, lat: float, lon: float, dist_m: float = 12 * 1852.0) -> bool:
        """True when the point is within ``dist_m`` of an EEZ boundary (candidates cached per 0.1° cell)."""
        if self._edge_tree is None:
            return False
        key = (math.floor(lat * 10), math.floor(lon * 10))
        cand = self._edge_cells.get(key)
        deg = dist_m / M_PER_DEG_LAT / max(0.2, math.cos(math.radians(lat)))
        if cand is None:
            cell = box(key[1] / 10 - deg, key[0] / 10 - deg, (key[1] + 1) / 10 + deg, (key[0] + 1) / 10 + deg)
            cand = tuple(int(i) for i in self._edge_tree.query(cell))
            self._edge_cells[key] = cand
        if not cand:
            return False
        pt = shapely.Point(lon, lat)
        return any(shapely.dwithin(self._edges[i], pt, dist_m / M_PER_DEG_LAT) for i in cand)

    def _visits(self, pos: Position, inside: dict[str, ZoneStay]) -> None:
        assert self.zones is not None
        if self._near_edge(pos.lat, pos.lon):
            self.store.add_edge_time(pos.mmsi, self.check_every_s, pos.time_s)
        now = {z.id: z for z in self.zones.containing(pos.lat, pos.lon) if z.kind != "eez"}
        for zid, z in now.items():
            if zid not in inside:
                inside[zid] = ZoneStay(zid, z.name, z.kind, pos.time_s)
        for zid in [k for k in inside if k not in now]:
            stay = inside.pop(zid)
            self.store.add_visit(pos.mmsi, zid, stay.name, stay.kind, stay.since, pos.time_s)

    def forget(self, mmsi: int) -> None:
        """Drop the zone-check state of an evicted vessel; an identity it gave is kept, to judge a change."""
        self.state.pop(mmsi, None)
        self._declared.pop(mmsi, None)
        self._new_text.pop(mmsi, None)
        ident = self._ident.get(mmsi)
        if ident is not None and not any(x is not None for x in ident[:4]):
            del self._ident[mmsi]

    def finish(self, end_s: float) -> list[Alert]:
        """Visits still going on are written open-ended."""
        for mmsi, st in self.state.items():
            for stay in st.inside.values():
                self.store.add_visit(mmsi, stay.zone_id, stay.name, stay.kind, stay.since, None)
            st.inside = {}
        self.store.commit()
        return []
