"""Geofences: entry, exit, dwell and speed rules per zone.

Hysteresis keeps a vessel running along a boundary from flapping: it enters
when a fix is inside, and it exits only once it has been outside for
``exit_after_min`` or is ``exit_margin_m`` beyond the boundary. The first fix
of a vessel already inside a zone is not an entry. Per-zone ``vessel_types``
filters use the vessel category from its AIS ship type (static data joined
to positions); a vessel whose type is not known yet is judged when it is.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import shapely
from shapely.geometry.base import BaseGeometry

from maritime.config import GeofenceSettings
from maritime.detectors.base import AlertBuilder, DetectorBase, latlon_phrase, vessel_phrase
from maritime.detectors.state import Overspeed, Visit
from maritime.detectors.tracker import Tracker, VesselState
from maritime.geo import M_PER_DEG_LAT, format_duration, haversine_m
from maritime.models import Alert, Position, Severity, Status, iso
from maritime.zones.index import FINE, Zone, ZoneIndex

_DEFAULT_SEVERITY: dict[str, Severity] = {
    "restricted": "high", "mpa": "medium", "territorial_sea": "medium", "contiguous_zone": "low",
    "eez": "low", "port": "info", "anchorage": "info", "custom": "medium",
}


def _quiet_path(state: dict[int, dict[str, Visit]], index: ZoneIndex, dwell_rule: list[bool],
                speed_rule: list[bool], default_dwell_min: float, unique: bool) -> Any:
    """The typed core's ``GeofenceQuiet`` on the detector's state and its zone index's cells, or None: each ruled
    zone's id, dwell limit as :meth:`GeofenceDetector.on_position` works it out (s, None without a dwell rule),
    speed rule and vessel types."""
    from maritime.core import quiet_path

    core = quiet_path()
    if core is None:
        return None
    ruled = index.zones
    dwell_s = [float((z.dwell_min if z.dwell_min is not None else default_dwell_min) * 60) if rule else None
               for z, rule in zip(ruled, dwell_rule, strict=True)]
    return core.GeofenceQuiet(state, index.cells, index.cell_deg, FINE, [z.id for z in ruled], dwell_s,
                              list(speed_rule), [z.vessel_types for z in ruled], unique)


class GeofenceDetector(DetectorBase):
    """Zone visits per vessel in ``state`` keyed by MMSI: ``{zone_id: visit}``."""

    name = "geofence"
    #: how a table entry of ``state`` is read back: the vessel's visits by zone id
    state_type: ClassVar[Any] = dict[str, Visit]

    def __init__(self, settings: GeofenceSettings, tracker: Tracker, zones: ZoneIndex,
                 state: dict[int, dict[str, Visit]] | None = None) -> None:
        self.s = settings
        self.alerts = AlertBuilder(tracker)
        self.tracker = tracker
        # only zones with rules take part, in an index of their own (the big rule-less EEZs
        # would otherwise put most of the sea in cells whose points need an exact test)
        self.zones = zones.ruled()
        self.state: dict[int, dict[str, Visit]] = state if state is not None else {}
        self.exit_after_s = settings.exit_after_min * 60
        self._ruled = set(range(len(self.zones.zones)))
        ruled = self.zones.zones
        #: each ruled zone's rules by index, read once (the per-position loop tests flags, not strings)
        self._entry_rule = [("entry" in z.alert_on) for z in ruled]
        self._dwell_rule = [("dwell" in z.alert_on) for z in ruled]
        self._speed_rule = [("speed" in z.alert_on and z.max_speed_kn is not None) for z in ruled]
        #: with unique ids, a vessel with as many visits as zones it is inside has left none of them
        self._unique_ids = len({z.id for z in ruled}) == len(ruled)
        #: the typed core's quiet path (a fix in a cell no boundary crosses, inside exactly the zones it was
        #: visiting, nothing falling due), None when not built
        self.quiet = _quiet_path(self.state, self.zones, self._dwell_rule, self._speed_rule, settings.default_dwell_min,
                                 self._unique_ids)
        self._quiet: Any = self.quiet.take if self.quiet is not None else None
        #: each zone's boundary by zone id, made when a vessel first leaves the zone (:meth:`_outside_by_m`)
        self._boundaries: dict[str, BaseGeometry] = {}
        #: by vessel and zone id, the point of the zone's boundary nearest to the vessel's last measured fix
        #: outside it (lat, lon): what :meth:`_gone` bounds the next fixes' distances with
        self._edge_near: dict[int, dict[str, tuple[float, float]]] = {}

    def _severity(self, z: Zone) -> Severity:
        return z.severity or _DEFAULT_SEVERITY.get(z.kind, "medium")

    def _outside_by_m(self, z: Zone, lat: float, lon: float) -> float:
        """How far (m) the point is from the zone's boundary: to the boundary's nearest point in degrees (shapely's
        ``nearest_points``), the boundary made once per zone."""
        return self._nearest_edge(z, lat, lon)[0]

    def _nearest_edge(self, z: Zone, lat: float, lon: float) -> tuple[float, float, float]:
        """:meth:`_outside_by_m` (m), and the boundary's nearest point (lat, lon)."""
        edge = self._boundaries.get(z.id)
        if edge is None:
            edge = self._boundaries[z.id] = z.geometry.boundary
        near = shapely.get_coordinates(shapely.shortest_line(edge, shapely.Point(lon, lat)))
        qlat, qlon = float(near[0, 1]), float(near[0, 0])
        return haversine_m(lat, lon, qlat, qlon), qlat, qlon

    def _gone(self, z: Zone, mmsi: int, lat: float, lon: float) -> bool:
        """Whether the point is ``exit_margin_m`` or more outside the zone (``_outside_by_m(...) >= margin``),
        measured only when a bound cannot tell: a territorial sea's boundary has thousands of vertices, and a
        vessel just outside one was measured at every fix (32 µs each).

        The bound: the boundary point ``q`` nearest to an earlier fix of the vessel is a boundary point, so the
        point's distance to the boundary in degrees is at most its distance to ``q``; and a great-circle distance
        is at most :data:`~maritime.geo.M_PER_DEG_LAT` times the distance in degrees of latitude and longitude
        (the straight line between them in those degrees is a path on the sphere no longer than that, a degree
        of longitude being at most a degree of latitude). The metres to the nearest point in degrees, which
        :meth:`_outside_by_m` measures, are then under the margin when that bound, less a margin for rounding,
        is."""
        margin = self.s.exit_margin_m
        near = self._edge_near.get(mmsi)
        if near is not None:
            q = near.get(z.id)
            if q is not None and M_PER_DEG_LAT * math.hypot(lat - q[0], lon - q[1]) < margin * (1 - 1e-9) - 1e-6:
                return False
        d, qlat, qlon = self._nearest_edge(z, lat, lon)
        if near is None:
            near = self._edge_near[mmsi] = {}
        near[z.id] = (qlat, qlon)
        return d >= margin

    def on_position(self, pos: Position, vessel: VesselState) -> list[Alert]:
        if not self._ruled:
            return []
        quiet = self._quiet
        if quiet is not None and quiet(pos, vessel):
            return []  # taken in C, as below (maritime.core.quiet.GeofenceQuiet)
        mmsi = pos.mmsi
        visits = self.state.get(mmsi)
        first_fix = visits is None
        if visits is None:
            visits = {}
        category = vessel.category
        inside_now = self.zones.containing_idx(pos.lat, pos.lon)
        if not inside_now and not visits:
            if first_fix:
                self.state[mmsi] = visits
            return []
        out: list[Alert] = []
        zones = self.zones.zones
        for i in inside_now:
            z = zones[i]
            v = visits.get(z.id)
            if v is None:
                v = Visit(pos.time_s, pos.lat, pos.lon, entered=not first_fix, typed=category != "unknown")
                visits[z.id] = v
                if not first_fix and self._entry_rule[i] and z.applies_to(category):
                    v.entry_alerted = True
                    out.append(self._entry(z, mmsi, vessel, v, pos))
            elif v.out_since is not None:
                v.out_since = None
            # vessel type learnt after the entry: judge the entry now
            if not v.typed and category != "unknown":
                v.typed = True
                if v.entered and not v.entry_alerted and self._entry_rule[i] and z.applies_to(category):
                    v.entry_alerted = True
                    out.append(self._entry(z, mmsi, vessel, v, pos))
            if not z.applies_to(category):
                continue
            if self._dwell_rule[i] and not v.dwell:
                limit = (z.dwell_min if z.dwell_min is not None else self.s.default_dwell_min) * 60
                if pos.time_s - v.since >= limit:
                    v.dwell = True
                    out.append(self._dwell(z, mmsi, vessel, v, pos))
            if self._speed_rule[i] and pos.sog_kn is not None:
                out.extend(self._speed(z, mmsi, vessel, v, pos))
        if len(visits) != len(inside_now) or not self._unique_ids:
            # a zone the vessel was in and is not now (every zone it is in has its visit by now)
            now_ids = {zones[i].id for i in inside_now}
            for zid in [zid for zid in visits if zid not in now_ids]:
                v = visits[zid]
                gz = self.zones.by_id.get(zid)
                if gz is None:
                    del visits[zid]
                    continue
                z = gz
                if v.out_since is None:
                    v.out_since = pos.time_s
                    v.out_lat, v.out_lon = pos.lat, pos.lon
                gone = pos.time_s - v.out_since >= self.exit_after_s or self._gone(z, mmsi, pos.lat, pos.lon)
                if gone:
                    del visits[zid]
                    near = self._edge_near.get(mmsi)
                    if near is not None:
                        near.pop(zid, None)
                        if not near:
                            del self._edge_near[mmsi]
                    out.extend(self._exit(z, mmsi, vessel, v, pos))
        if first_fix:
            self.state[mmsi] = visits
        return out

    # -- alerts -----------------------------------------------------------------------

    def _key(self, z: Zone, mmsi: int, v: Visit) -> str:
        return f"{z.id}:{mmsi}:{iso(v.since)}"

    def _details(self, z: Zone, pos: Position, vessel: VesselState) -> dict[str, Any]:
        return {"zone_kind": z.kind, "vessel_category": vessel.category, "sog_kn": pos.sog_kn,
                "rule_vessel_types": list(z.vessel_types) if z.vessel_types else None}

    def _entry(self, z: Zone, mmsi: int, vessel: VesselState, v: Visit, pos: Position) -> Alert:
        who = f"{vessel.category} vessel " if vessel.category != "unknown" else ""
        return self.alerts.make(
            type="geofence_entry", key=self._key(z, mmsi, v), status="open", severity=self._severity(z),
            time_s=pos.time_s, start_s=v.since, end_s=None, mmsis=[mmsi], lat=pos.lat, lon=pos.lon,
            zone=z.ref,
            summary=f"{who}{vessel_phrase(vessel)} entered {z.name} ({z.kind.replace('_', ' ')}) at "
                    f"{latlon_phrase(pos.lat, pos.lon)}" + (f", {pos.sog_kn:.1f} kn" if pos.sog_kn is not None else ""),
            details=self._details(z, pos, vessel),
        )

    def _exit(self, z: Zone, mmsi: int, vessel: VesselState, v: Visit, pos: Position) -> list[Alert]:
        out: list[Alert] = []
        left = v.out_since if v.out_since is not None else pos.time_s
        stay = format_duration(left - v.since)
        out_lat = v.out_lat if v.out_lat is not None else pos.lat
        out_lon = v.out_lon if v.out_lon is not None else pos.lon
        if v.entry_alerted:
            out.append(self.alerts.make(
                type="geofence_entry", key=self._key(z, mmsi, v), status="closed", severity=self._severity(z),
                time_s=pos.time_s, start_s=v.since, end_s=left, mmsis=[mmsi], lat=out_lat,
                lon=out_lon, zone=z.ref,
                summary=f"{vessel_phrase(vessel)} left {z.name} after {stay}",
                details=self._details(z, pos, vessel),
            ))
        if v.speed is not None:
            out.append(self._speed_alert(z, mmsi, vessel, v, pos, "closed"))
        if "exit" in z.alert_on and z.applies_to(vessel.category) and v.entered:
            out.append(self.alerts.make(
                type="geofence_exit", key=f"{z.id}:{mmsi}:{iso(left)}", status="open", severity=self._severity(z),
                time_s=pos.time_s, start_s=left, end_s=left, mmsis=[mmsi], lat=out_lat, lon=out_lon,
                zone=z.ref, summary=f"{vessel_phrase(vessel)} left {z.name} after {stay}",
                details=self._details(z, pos, vessel),
            ))
        return out

    def _dwell(self, z: Zone, mmsi: int, vessel: VesselState, v: Visit, pos: Position) -> Alert:
        return self.alerts.make(
            type="geofence_dwell", key=self._key(z, mmsi, v), status="open", severity=self._severity(z),
            time_s=pos.time_s, start_s=v.since, end_s=None, mmsis=[mmsi], lat=pos.lat, lon=pos.lon, zone=z.ref,
            summary=f"{vessel_phrase(vessel)} has stayed in {z.name} for {format_duration(pos.time_s - v.since)}",
            details={**self._details(z, pos, vessel), "dwell_min": round((pos.time_s - v.since) / 60)},
        )

    def _speed(self, z: Zone, mmsi: int, vessel: VesselState, v: Visit, pos: Position) -> list[Alert]:
        assert z.max_speed_kn is not None and pos.sog_kn is not None
        sp = v.speed
        if pos.sog_kn > z.max_speed_kn:
            if sp is None:
                v.speed = Overspeed(pos.time_s, pos.sog_kn, pos.lat, pos.lon)
                return [self._speed_alert(z, mmsi, vessel, v, pos, "open")]
            sp.max = max(sp.max, pos.sog_kn)
            return []
        if sp is not None and pos.sog_kn <= z.max_speed_kn * 0.95:
            alert = self._speed_alert(z, mmsi, vessel, v, pos, "closed")
            v.speed = None
            return [alert]
        return []

    def _speed_alert(self, z: Zone, mmsi: int, vessel: VesselState, v: Visit, pos: Position, status: Status
                     ) -> Alert:
        sp = v.speed
        assert sp is not None
        return self.alerts.make(
            type="speed_violation", key=f"{z.id}:{mmsi}:{iso(sp.start)}", status=status,
            severity=self._severity(z), time_s=pos.time_s, start_s=sp.start,
            end_s=pos.time_s if status == "closed" else None, mmsis=[mmsi], lat=sp.lat, lon=sp.lon, zone=z.ref,
            summary=f"{vessel_phrase(vessel)} at {sp.max:.1f} kn in {z.name}, limit {z.max_speed_kn:g} kn",
            details={**self._details(z, pos, vessel), "max_sog_kn": sp.max, "limit_kn": z.max_speed_kn},
        )

    def holds(self, mmsi: int) -> bool:
        """Whether ``mmsi`` is inside a ruled zone (its visit is kept until it is seen outside)."""
        return bool(self.state.get(mmsi))

    def forget(self, mmsi: int) -> None:
        """Drop the state of an evicted vessel."""
        self.state.pop(mmsi, None)
        self._edge_near.pop(mmsi, None)

