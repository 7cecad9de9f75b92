"""The declared voyage against the real one: destinations changed at sea, arrivals never declared.

A vessel's AIS destination (type 5) is read as a port of the region (:mod:`maritime.zones.ports`), and its
port calls are followed in the bundled ``port`` zones (a call begins when the vessel is inside a port zone
under ``port_call_max_sog_kn``; the first fix of a vessel already in port is no arrival).

- ``destination_change``: the declared destination names another port while the vessel is at sea (away
  from every port and anchorage) and both texts name a port; rewording the same port ("CASTRIES" ->
  "LC CAS"), blanking it, a text that names no port ("FOR ORDERS" -> "KINGSTON") or replacing the port it
  has just left or passed (set late by the crew) is not a change; nor is anything on an MMSI several
  transmitters share (a factory default, or several names heard). *High* when a dark gap of the vessel ended within
  ``recent_h`` before it (rendezvous and loitering are seen by another stage: with a profile store, the
  assembly's enricher raises those the same way).
- ``arrival_undeclared``: a port call begins at a port the vessel did not declare on this voyage (since its
  last port call). Only vessels that declared a port are judged: a destination that names no known port, or
  none at all, says nothing either way (most small craft never set one). A declaration that names only an
  island or a country ("ST LUCIA") covers every port of it, and the port it left, still declared, counts
  for nothing (crews often update the destination late). *High* when the destination was changed at sea on
  the way.

A destination counts once ``confirm_reports`` of the last ``confirm_window`` static reports carry it: damaged
reports (a multipart message joined from two transmissions, a flipped character) must not change it back and
forth. Malformed destination texts (control characters only) are counted in :attr:`VoyageDetector.malformed`,
empty ones (nothing, or the twenty ``@`` of "not available") in :attr:`VoyageDetector.blank`.
"""

from __future__ import annotations

import logging
import math
from typing import Any, ClassVar

from maritime.config import VoyageSettings
from maritime.destination import clean_destination
from maritime.detectors.base import AlertBuilder, DetectorBase, latlon_phrase, vessel_phrase
from maritime.detectors.gaps import GapDetector
from maritime.detectors.identity import DEFAULT_MMSIS
from maritime.detectors.state import VoyageState
from maritime.detectors.tracker import Tracker, VesselState
from maritime.geo import M_PER_DEG_LAT, fast_distance_m, format_duration
from maritime.models import Alert, Position, Severity, VesselInfo, iso
from maritime.zones.index import FINE, Zone, ZoneIndex
from maritime.zones.ports import Port, PortIndex

logger = logging.getLogger(__name__)

#: the grid the port look-up is cached on (degrees, about 5.5 km)
_CELL_DEG = 0.05


def _last(items: list[str], item: str, n: int) -> list[str]:
    """``items`` with ``item`` added, the last ``n`` kept."""
    return [*items, item][-n:]


def _quiet_path(state: dict[int, VoyageState], cells: dict[tuple[int, int], Any], in_port: ZoneIndex,
                settings: VoyageSettings) -> Any:
    """The typed core's ``VoyageQuiet`` on the detector's state, its cells of ports near and the cells of its index
    of port zones, or None."""
    from maritime.core import quiet_path

    core = quiet_path()
    if core is None:
        return None
    return core.VoyageQuiet(state, cells, settings.check_every_s, _CELL_DEG, in_port.cells, in_port.cell_deg, FINE,
                            settings.near_port_km * 1000, settings.port_call_max_sog_kn)


class VoyageDetector(DetectorBase):
    """``destination_change`` and ``arrival_undeclared`` (per-vessel state in ``state``, keyed by MMSI)."""

    name = "voyage"
    #: how a table entry of ``state`` is read back
    state_type: ClassVar[Any] = VoyageState

    def __init__(self, settings: VoyageSettings, tracker: Tracker, zones: ZoneIndex, ports: PortIndex,
                 gaps: GapDetector | None = None) -> None:
        self.s = settings
        self.tracker = tracker
        self.zones = zones
        self.ports = ports
        self.gaps = gaps
        self.alerts = AlertBuilder(tracker)
        self.state: dict[int, VoyageState] = {}
        #: destination texts that carried nothing readable (control characters only), and empty ones (nothing,
        #: or the 20 ``@`` of "not available")
        self.malformed = 0
        self.blank = 0
        self.recent_s = settings.recent_h * 3600
        self.near_m = settings.near_port_km * 1000
        self._port_zones = [(z, z.geometry.bounds) for z in zones.zones if z.kind == "port"]
        #: the port zones in an index of their own (0.02° cells, ~280 m sub-cells where a harbour's edge runs): which
        #: hold a point, as ``contains_xy`` says, mostly without testing it (and without the ~10 m answer cache)
        self._in_port = zones.subset([i for i, z in enumerate(zones.zones) if z.kind == "port"], cell_deg=0.02,
                                     point_cache=False)
        #: per 0.05° cell, the port zones near it, each with its port and its index in ``_in_port``
        self._cells: dict[tuple[int, int], tuple[tuple[Zone, Port | None, int], ...]] = {}
        #: the typed core's quiet path (between port look-ups, look-ups far from ports, and look-ups near them that
        #: change nothing but the next look-up's time and the last port near), None when not built
        self.quiet = _quiet_path(self.state, self._cells, self._in_port, settings)
        self._quiet: Any = self.quiet.take if self.quiet is not None else None

    # -- declarations -------------------------------------------------------------------

    def on_static(self, info: VesselInfo, vessel: VesselState) -> list[Alert]:
        """A static report: a new declaration when its destination text changed."""
        if info.destination is None:
            return []
        text = clean_destination(info.destination)
        if not text:
            if info.destination.strip("@ "):
                self.malformed += 1
            else:
                self.blank += 1
        st = self.state.get(info.mmsi)
        if st is None:
            st = self.state[info.mmsi] = VoyageState()
        if text == st.text:
            st.eta_s = info.eta_s if info.eta_s is not None else st.eta_s
            if info.time_s - st.pending_s >= 30.0:
                st.recent = _last(st.recent, text, self.s.confirm_window)
                st.pending_s = info.time_s
            return []
        # the declaration is what most recent reports say: a damaged report (a fragment of another message,
        # a flipped character), even a few of them, neither makes a change nor undoes one
        if info.time_s - st.pending_s >= 30.0 or not st.recent:  # not one report heard by two receivers
            st.recent = _last(st.recent, text, self.s.confirm_window)
            st.pending_s = info.time_s
        if st.recent.count(text) < self.s.confirm_reports:
            return []
        m = self.ports.match(text) if text else None
        prev_text, prev_port = st.text, st.port
        st.text, st.eta_s, st.since_s = text, info.eta_s, info.time_s
        st.port = m.port.id if m is not None and m.port is not None else None
        st.confidence = m.confidence if m is not None else 0.0
        if text:
            st.texts = [*st.texts[-7:], text]
        if m is not None and m.port is not None:
            if m.port.id not in st.declared:
                st.declared.append(m.port.id)
            if m.method == "alias" and m.port.country not in st.countries:
                st.countries.append(m.port.country)
        elif m is not None and m.method == "country" and m.country and m.country not in st.countries:
            st.countries.append(m.country)  # "MONTSERRAT", "TOBAGO": any port of it is declared
        if not prev_text or not text or prev_port is None or st.port is None or st.port == prev_port:
            # a first declaration, a blanked one, the same port reworded, or a text that names no port
            # before or after ("FOR ORDERS" -> "KINGSTON" is a tanker getting its orders): not a change
            return []
        if prev_port in (st.last_call, st.recent_port):
            return []  # the port it just left (or passed), still set: the crew updating it at sea is ordinary
        if info.mmsi in DEFAULT_MMSIS or len(vessel.names_seen) > 1:
            return []  # several transmitters on one MMSI, each with its own voyage: no one voyage to judge
        last = vessel.last
        if last is None or st.in_port is not None:
            return []
        if self.zones.harbour_within(last.lat, last.lon, self.s.harbour_km * 1000) is not None:
            return []  # changed in port or at anchor: the ordinary way to start a voyage
        st.changes += 1
        return [self._change(info, vessel, st, prev_text, prev_port, last)]

    def _recent_gap(self, mmsi: int, t: float) -> float | None:
        """When a dark gap of the vessel ended within ``recent_h`` before ``t`` (or it is in one now)."""
        if self.gaps is None:
            return None
        gs = self.gaps.state.get(mmsi)
        if gs is None:
            return None
        if gs.open:
            return t
        ends = [g.end for g in gs.gaps if 0 <= t - g.end <= self.recent_s]
        return max(ends) if ends else None

    def _change(self, info: VesselInfo, vessel: VesselState, st: VoyageState, prev_text: str,
                prev_port: str | None, last: Position) -> Alert:
        gap_end = self._recent_gap(info.mmsi, info.time_s)
        severity: Severity = "high" if gap_end is not None else "medium"
        to_port = self.ports.by_id.get(st.port) if st.port else None
        from_port = self.ports.by_id.get(prev_port) if prev_port else None
        before = f" {format_duration(info.time_s - gap_end)} after a dark gap" if gap_end is not None else ""
        summary = (f"{vessel_phrase(vessel)} changed its declared destination at sea{before}, from "
                   f"{from_port.name if from_port else repr(prev_text)} to "
                   f"{to_port.name if to_port else repr(st.text)} at {latlon_phrase(last.lat, last.lon)}")
        details = {"from": prev_text, "from_port": prev_port, "to": st.text, "to_port": st.port,
                   "to_confidence": round(st.confidence, 2), "declared_eta": iso(st.eta_s) if st.eta_s else None,
                   "preceded_by": [{"type": "dark_gap", "end": iso(gap_end)}] if gap_end is not None else []}
        return self.alerts.make(
            type="destination_change", key=f"{info.mmsi}:{iso(info.time_s)}", status="open", severity=severity,
            time_s=info.time_s, start_s=info.time_s, end_s=None, mmsis=[info.mmsi], lat=last.lat, lon=last.lon,
            summary=summary, details=details)

    # -- port calls ---------------------------------------------------------------------

    def _ports_near(self, lat: float, lon: float) -> tuple[tuple[Zone, Port | None, int], ...]:
        """The port zones within ``near_port_km`` of the 0.05° cell of a point (cached per cell)."""
        key = (math.floor(lat / _CELL_DEG), math.floor(lon / _CELL_DEG))
        got = self._cells.get(key)
        if got is None:
            pad = self.near_m / M_PER_DEG_LAT / max(0.2, math.cos(math.radians(lat)))
            lat0, lon0 = key[0] * _CELL_DEG - pad, key[1] * _CELL_DEG - pad
            lat1, lon1 = (key[0] + 1) * _CELL_DEG + pad, (key[1] + 1) * _CELL_DEG + pad
            got = tuple((z, self.ports.by_zone.get(z.id), i) for i, (z, (x0, y0, x1, y1)) in enumerate(self._port_zones)
                        if x0 <= lon1 and x1 >= lon0 and y0 <= lat1 and y1 >= lat0)
            self._cells[key] = got
        return got

    def on_position(self, pos: Position, vessel: VesselState) -> list[Alert]:
        quiet = self._quiet
        if quiet is not None and quiet(pos, vessel):
            return []  # taken in C, as below (maritime.core.quiet.VoyageQuiet)
        st = self.state.get(pos.mmsi)
        if st is None:
            st = self.state[pos.mmsi] = VoyageState()
        elif pos.time_s < st.next_check_s:
            return []
        st.next_check_s = pos.time_s + self.s.check_every_s
        zone = None
        cands = self._ports_near(pos.lat, pos.lon)
        if cands:  # near a port (most of the sea is not: one dictionary look-up)
            held = self._in_port.containing_idx(pos.lat, pos.lon)  # the port zones holding the point
            for z, port, i in cands:
                if port is not None and port.lat is not None and port.lon is not None and \
                        fast_distance_m(pos.lat, pos.lon, port.lat, port.lon) <= self.near_m:
                    st.recent_port = port.id
                if zone is None and i in held:
                    zone = z
        first = not st.seen
        st.seen = True
        out: list[Alert] = []
        if zone is None:
            if st.in_port is not None:
                if st.called:  # it left its port: a new voyage begins, with what it declares on leaving
                    call = self.ports.by_zone.get(st.in_port)
                    st.last_call = call.id if call is not None else st.in_port
                    st.left_s = pos.time_s
                    st.declared = [st.port] if st.port else []
                    st.countries = []
                    st.texts = [st.text] if st.text else []
                    st.changes = 0
                st.in_port, st.called = None, False
            return out
        if st.in_port != zone.id:
            st.in_port, st.called = zone.id, first  # already in port at its first fix: no arrival
        slow = pos.sog_kn is not None and pos.sog_kn <= self.s.port_call_max_sog_kn
        if not st.called and slow:
            st.called = True
            got = self._arrival(pos, vessel, st, zone.id)
            if got is not None:
                out.append(got)
        return out

    def _arrival(self, pos: Position, vessel: VesselState, st: VoyageState, zone_id: str) -> Alert | None:
        port = self.ports.by_zone.get(zone_id)
        # the port it left, still declared, says nothing about where it goes (crews update it late)
        declared_ports = [p for p in st.declared if p != st.last_call]
        if port is None or not declared_ports:
            return None  # a port the gazetteer does not know, or nothing declared: nothing to judge
        if pos.mmsi in DEFAULT_MMSIS or len(vessel.names_seen) > 1:
            return None  # an MMSI several transmitters share: whose declaration was it?
        if port.id in st.declared or port.country in st.countries:
            return None
        declared = [self.ports.by_id[p].name for p in declared_ports if p in self.ports.by_id]
        severity: Severity = "high" if st.changes else "medium"
        since = (f", {format_duration(pos.time_s - st.left_s)} after leaving "
                 f"{self.ports.by_id[st.last_call].name if st.last_call in self.ports.by_id else st.last_call}"
                 if st.left_s is not None and st.last_call else "")
        summary = (f"{vessel_phrase(vessel)} arrived at {port.name} ({port.locode or port.country}), which it "
                   f"never declared: it declared {', '.join(declared)}{since}"
                   + (f"; its destination was changed at sea {st.changes} time(s)" if st.changes else ""))
        return self.alerts.make(
            type="arrival_undeclared", key=f"{pos.mmsi}:{port.id}:{iso(pos.time_s)}", status="open",
            severity=severity, time_s=pos.time_s, start_s=pos.time_s, end_s=None, mmsis=[pos.mmsi], lat=pos.lat,
            lon=pos.lon, summary=summary,
            details={"port": port.id, "port_name": port.name, "locode": port.locode, "declared_ports": st.declared,
                     "declared_texts": st.texts, "destination_changes": st.changes, "last_call": st.last_call,
                     "left_last_call": iso(st.left_s) if st.left_s else None})

    # -- the rest of the detector protocol -------------------------------------------------

    def forget(self, mmsi: int) -> None:
        """Drop the state of an evicted vessel."""
        self.state.pop(mmsi, None)

