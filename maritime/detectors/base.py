"""What the detectors share: the defaults of their hooks (compiled, and subclassed by every detector), alert
building, severities, land checks. Their Protocols are in :mod:`maritime.detectors.protocols`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import shapely
from mypy_extensions import mypyc_attr

from maritime.detectors.tracker import Tracker, VesselState
from maritime.models import Alert, AlertType, Position, Severity, Status, VesselInfo, VesselRef, ZoneRef

#: Navigational status values (ITU-R M.1371) that mean the vessel is not under way.
AT_ANCHOR = 1
MOORED = 5
STATIONARY_STATUSES = frozenset((AT_ANCHOR, MOORED))


@mypyc_attr(allow_interpreted_subclasses=True)
class VesselHooks:
    """The per-vessel hooks every gate and detector has; by default it holds nothing open and keeps nothing."""

    #: its quiet path in the typed core (:class:`maritime.core.quiet.Quiet`), which the chain calls first; None:
    #: every position goes to its Python code
    quiet: Any = None

    def holds(self, mmsi: int) -> bool:
        """Nothing open about any vessel."""
        return False

    def forget(self, mmsi: int) -> None:
        """Nothing kept per vessel."""
        return None


@mypyc_attr(allow_interpreted_subclasses=True)
class DetectorBase(VesselHooks):
    """The defaults of :class:`Detector`: every hook a detector does not need does nothing."""

    def on_position(self, pos: Position, vessel: VesselState) -> list[Alert]:
        """Nothing to say about a position."""
        return []

    def on_static(self, info: VesselInfo, vessel: VesselState) -> list[Alert]:
        """Static reports are not read."""
        return []

    def on_late(self, pos: Position, vessel: VesselState) -> list[Alert]:
        """Late positions revise nothing."""
        return []

    def on_watermark(self, watermark_s: float) -> list[Alert]:
        """Nothing falls due with event time."""
        return []

    def finish(self, end_s: float) -> list[Alert]:
        """Open events stay open at the end of the input."""
        return []


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
        type: AlertType,
        key: str,
        status: Status,
        severity: Severity,
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
    """Land test for vessel positions: Natural Earth 10 m land, with a margin, less the region's inland waters.

    A fix counts as on land only when it and a ring of points ``margin_m``
    around it are all land, so a vessel at a berth, in a river mouth or where
    coastline datasets differ is not called 'on land'.
    """

    def __init__(self, margin_m: float = 2000.0, region: Sequence[float] | None = None) -> None:
        from maritime.zones.geodata import inland_waters, land_index

        self.index = land_index()
        self.margin_m = margin_m
        self.region = tuple(region) if region else None
        self.waters = inland_waters()

    def on_land(self, lat: float, lon: float) -> bool:
        """True when the point is well inside land where no vessel can be.

        Judged inside ``region`` (lon0, lat0, lon1, lat1), whose navigable rivers, canals and lakes are
        known, and anywhere south of 60°S (Antarctica has no inland waters); elsewhere Natural Earth 10 m
        covers too many rivers and canals (the Rhine, the Mississippi, the Yangtze, ...) to judge.
        """
        if lat >= -60.0:
            r = self.region
            if r is not None and not (r[0] <= lon <= r[2] and r[1] <= lat <= r[3]):
                return False
            if not self.index.may_be_land(lat, lon):
                return False  # no land in the point's cell (the common case, from the cell cache)
            if self.index.at_sea_nearby(lat, lon):
                return False  # no land in the point's sub-cell (near a coast, from the sub-cell cache)
            if shapely.contains_xy(self.waters, lon, lat):
                return False
        return self.index.on_land(lat, lon, self.margin_m)
