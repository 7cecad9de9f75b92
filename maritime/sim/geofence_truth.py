"""Geofence truth from the true tracks: every entry, dwell, exit and speed violation the detector's rules give.

The simulator hands each vessel's true positions (about every 30 s) to :meth:`GeofenceTruth.step`, chunk by chunk
in time order, so no track is kept in memory; ``truth`` collects the events in the alert shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from maritime.config import GeofenceSettings
from maritime.models import iso
from maritime.zones.index import ZoneIndex

#: The geofence detector's default exit hysteresis (s) and dwell time (min), used for the truth.
EXIT_AFTER_S = GeofenceSettings().exit_after_min * 60
DWELL_MIN = GeofenceSettings().default_dwell_min


class TrueVessel(Protocol):
    """What the truth needs of a simulated vessel."""

    mmsi: int

    @property
    def category(self) -> str: ...


@dataclass(slots=True)
class Visit:
    """A vessel's stay in a zone on its true track: since when (s), since when outside (s), what was raised."""

    since: float
    entered: bool
    left: float | None = None
    dwelt: bool = False
    speeding: dict[str, Any] | None = None  # the open speed_violation truth event


class GeofenceTruth:
    """The geofence events of the true tracks, with the detector's rules (``truth``: alert-shaped dicts)."""

    def __init__(self, zones: ZoneIndex | None, shared_mmsis: frozenset[int] = frozenset()) -> None:
        self.zones = zones
        self.shared_mmsis = shared_mmsis
        self.truth: list[dict[str, Any]] = []
        self._inside: dict[int, dict[str, Visit]] = {}
        self._by_category: dict[str, list[Any]] = {}  # the zones with geofence rules for a vessel category

    def step(self, v: TrueVessel, ts: np.ndarray, lats: np.ndarray, lons: np.ndarray, sogs: np.ndarray) -> None:
        """Geofence entries, dwells, exits and speed violations on the true track (every ~30 s), with the
        detector's rules: no entry for a vessel first seen inside, exit after ``EXIT_AFTER_S`` outside, dwell
        after the zone's ``dwell_min`` (``DWELL_MIN`` by default) inside, speeding above the zone's
        ``max_speed_kn`` until back under 95 % of it or out of the zone.

        Run chunk by chunk in time order, so no track is kept in memory. A vessel sharing its MMSI with
        another transmitter has no geofence truth: the detectors follow one of the two, and which one
        is not the truth's to say."""
        if self.zones is None or v.mmsi in self.shared_mmsis:
            return
        category = v.category
        zones = self._by_category.get(category)
        if zones is None:
            zones = self._by_category[category] = [
                z for z in self.zones.zones
                if {"entry", "exit", "dwell", "speed"} & set(z.alert_on) and z.applies_to(category)]
        if not zones:
            return
        first = v.mmsi not in self._inside
        inside = self._inside.setdefault(v.mmsi, {})
        for t, lat, lon, sog in zip(ts.tolist(), lats.tolist(), lons.tolist(), sogs.tolist(), strict=True):
            now = {self.zones.zones[i].id for i in self.zones.containing_idx(lat, lon)}
            for z in zones:
                visit = inside.get(z.id)
                if z.id in now:
                    if visit is None:
                        visit = inside[z.id] = Visit(since=t, entered=not first)
                        if visit.entered and "entry" in z.alert_on:
                            self._event("geofence_entry", v, z, t, None)
                    visit.left = None
                    limit = (z.dwell_min if z.dwell_min is not None else DWELL_MIN) * 60
                    if "dwell" in z.alert_on and not visit.dwelt and t - visit.since >= limit:
                        visit.dwelt = True
                        self._event("geofence_dwell", v, z, visit.since, None)
                    if "speed" in z.alert_on and z.max_speed_kn is not None:
                        if visit.speeding is None and sog > z.max_speed_kn:
                            visit.speeding = self._event("speed_violation", v, z, t, None)
                        elif visit.speeding is not None and sog <= 0.95 * z.max_speed_kn:
                            visit.speeding["end"] = iso(t)
                            visit.speeding = None
                elif visit is not None:
                    if visit.left is None:
                        visit.left = t
                    elif t - visit.left >= EXIT_AFTER_S:  # the same hysteresis as the detector's default
                        del inside[z.id]
                        if visit.speeding is not None:
                            visit.speeding["end"] = iso(t)
                        if visit.entered and "exit" in z.alert_on:
                            self._event("geofence_exit", v, z, visit.left, visit.left)
            first = False

    def _event(self, kind: str, v: TrueVessel, z: Any, start: float, end: float | None) -> dict[str, Any]:
        ev = {"type": kind, "vessels": [{"mmsi": v.mmsi}], "start": iso(start),
              "end": iso(end) if end is not None else None, "zone": {"id": z.id, "kind": z.kind}}
        self.truth.append(ev)
        return ev
