"""What the detectors share: alert building, severities, land checks."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

from maritime.models import Alert, VesselRef, ZoneRef
from maritime.tracker import Tracker, VesselState

State = MutableMapping[Any, Any]

#: Navigational status values (ITU-R M.1371) that mean the vessel is not under way.
AT_ANCHOR = 1
MOORED = 5
STATIONARY_STATUSES = frozenset((AT_ANCHOR, MOORED))


def vessel_phrase(v: VesselState | VesselRef) -> str:
    """``SEA BREEZE (MMSI 376000500, VC)`` for summaries."""
    flag = v.flag
    inner = f"MMSI {v.mmsi}" + (f", {flag}" if flag else "")
    return f"{v.name} ({inner})" if v.name else inner


def latlon_phrase(lat: float, lon: float) -> str:
    """``12.750°N 61.600°W``."""
    return f"{abs(lat):.3f}°{'N' if lat >= 0 else 'S'} {abs(lon):.3f}°{'E' if lon >= 0 else 'W'}"


class AlertBuilder:
    """Builds contract alerts with vessel identities joined from the tracker."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    def make(
        self,
        *,
        type: str,
        key: str,
        status: str,
        severity: str,
        time_s: float,
        start_s: float,
        end_s: float | None,
        mmsis: Sequence[int],
        lat: float | None,
        lon: float | None,
        summary: str,
        zone: ZoneRef | None = None,
        details: dict[str, Any] | None = None,
    ) -> Alert:
        """One alert; its id is ``type:key`` and stays the same across status changes."""
        return Alert(
            id=f"{type}:{key}",
            type=type,
            status=status,
            severity=severity,
            time_s=time_s,
            start_s=start_s,
            end_s=end_s,
            vessels=tuple(self.tracker.ref(m) for m in mmsis),
            lat=lat,
            lon=lon,
            summary=summary,
            zone=zone,
            details=details or {},
        )


class LandMask:
    """Land test for vessel positions: Natural Earth 10 m land, with a margin.

    A fix counts as on land only when it and a ring of points ``margin_m``
    around it are all land, so a vessel at a berth, in a river mouth or where
    coastline datasets differ is not called 'on land'.
    """

    def __init__(self, margin_m: float = 2000.0) -> None:
        from maritime.geodata import land_index

        self.index = land_index()
        self.margin_m = margin_m

    def on_land(self, lat: float, lon: float) -> bool:
        """True when the point is well inside land."""
        return self.index.on_land(lat, lon, self.margin_m)
