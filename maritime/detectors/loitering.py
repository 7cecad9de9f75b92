"""Loitering: one vessel slow for hours at sea (GFW loitering: under 2 kn for at least 4 h).

Not raised inside or near a port or anchorage zone or a learned anchorage
(:mod:`maritime.detectors.anchorages`), nor for a vessel that reports no
navigational status (Class B) but lies within ``anchored_radius_m`` of one
spot for the whole time (at anchor by its behaviour), nor for a vessel that
reports itself at anchor or moored (nav status 1 or 5), nor for a vessel that
was meeting another one during the interval (the rendezvous alert covers it).
A slow vessel that drifts further than ``max_radius_km`` from where it slowed
down is moving, not loitering.
"""

from __future__ import annotations

from typing import Any, ClassVar

from maritime.config import LoiteringSettings
from maritime.detectors.base import STATIONARY_STATUSES, AlertBuilder, DetectorBase, latlon_phrase, vessel_phrase
from maritime.detectors.rendezvous import RendezvousDetector
from maritime.detectors.state import Loiter
from maritime.detectors.tracker import Tracker, VesselState
from maritime.geo import fast_distance_m, format_duration
from maritime.models import Alert, Position, Severity, Status, iso
from maritime.zones.index import ZoneIndex


def _quiet_path(state: dict[int, Loiter], settings: LoiteringSettings) -> Any:
    """The typed core's ``LoiteringQuiet`` on the detector's state, or None."""
    from maritime.core import quiet_path

    core = quiet_path()
    if core is None:
        return None
    return core.LoiteringQuiet(state, settings.max_sog_kn, settings.exclude_categories,
                               settings.max_radius_km * 1000, settings.anchored_radius_m,
                               settings.min_duration_h * 3600)


class LoiteringDetector(DetectorBase):
    """Per-vessel slow episodes in ``state`` keyed by MMSI."""

    name = "loitering"
    #: how a table entry of ``state`` is read back
    state_type: ClassVar[Any] = Loiter

    def __init__(self, settings: LoiteringSettings, tracker: Tracker, zones: ZoneIndex | None = None,
                 rendezvous: RendezvousDetector | None = None, state: dict[int, Loiter] | None = None,
                 harbour_distance_km: float = 10.0) -> None:
        self.s = settings
        self.alerts = AlertBuilder(tracker)
        self.tracker = tracker
        self.zones = zones
        self.rendezvous = rendezvous
        self.state: dict[int, Loiter] = state if state is not None else {}
        self.min_dur_s = settings.min_duration_h * 3600
        self.radius_m = settings.max_radius_km * 1000
        self.harbour_m = harbour_distance_km * 1000
        #: the typed core's quiet path (a vessel in no slow episode that does not begin one, and an episode that goes
        #: on with nothing to judge), None when not built
        self.quiet = _quiet_path(self.state, settings)
        self._quiet: Any = self.quiet.take if self.quiet is not None else None

    def on_position(self, pos: Position, vessel: VesselState) -> list[Alert]:
        quiet = self._quiet
        if quiet is not None and quiet(pos, vessel):
            return []  # taken in C, as below (maritime.core.quiet.LoiteringQuiet)
        ep = self.state.get(pos.mmsi)
        slow = pos.sog_kn is not None and pos.sog_kn < self.s.max_sog_kn
        excused = pos.nav_status in STATIONARY_STATUSES or vessel.category in self.s.exclude_categories
        if ep is not None:
            moved = fast_distance_m(ep.lat0, ep.lon0, pos.lat, pos.lon) > self.radius_m
            if not slow or excused or moved:
                return self._end(pos.mmsi, ep, pos.time_s)
        if not slow or excused:
            return []
        if ep is None:
            harbour = (self.zones.harbour_within(pos.lat, pos.lon, self.harbour_m) is not None
                       if self.zones is not None else False)
            ep = self.state[pos.mmsi] = Loiter(pos.time_s, pos.time_s, pos.lat, pos.lon, harbour)
        elif ep.max_d <= self.s.anchored_radius_m:  # past it once is enough to know
            d = fast_distance_m(ep.lat0, ep.lon0, pos.lat, pos.lon)
            if d > ep.max_d:
                ep.max_d = d
        if pos.nav_status is not None:
            ep.status_seen = True
        ep.last = pos.time_s
        ep.n += 1
        ep.sum_lat += pos.lat
        ep.sum_lon += pos.lon
        ep.max_sog = max(ep.max_sog, pos.sog_kn or 0.0)
        out: list[Alert] = []
        dur = ep.last - ep.start
        if not ep.alerted and not ep.harbour and dur >= self.min_dur_s:
            met = self.rendezvous.meeting(pos.mmsi, ep.start, pos.time_s) if self.rendezvous is not None else None
            learned = self.rendezvous.learned if self.rendezvous is not None else None
            if learned is not None and learned.anchorage_at(ep.sum_lat / ep.n, ep.sum_lon / ep.n):
                ep.harbour = True  # resting where many vessels rest: an anchorage nobody drew
            elif not ep.status_seen and ep.max_d <= self.s.anchored_radius_m:
                ep.harbour = True  # no status to say so, but it lies in one spot for hours: at anchor
            elif met == "met":
                ep.harbour = True  # covered by a rendezvous: do not raise it for this episode
            elif met is None:  # ("meeting": wait, the closeness may still become a rendezvous)
                ep.alerted = True
                ep.next_update = pos.time_s + 3600.0
                out.append(self._alert(pos.mmsi, ep, "open", pos.time_s))
        elif ep.alerted and ep.next_update is not None and pos.time_s >= ep.next_update:
            ep.next_update = pos.time_s + 3600.0
            out.append(self._alert(pos.mmsi, ep, "update", pos.time_s))
        return out

    def _end(self, mmsi: int, ep: Loiter, t: float) -> list[Alert]:
        del self.state[mmsi]
        if ep.alerted:
            ep.end = t
            return [self._alert(mmsi, ep, "closed", t)]
        return []

    def _alert(self, mmsi: int, ep: Loiter, status: Status, now_s: float) -> Alert:
        v = self.tracker.get(mmsi)
        lat = ep.sum_lat / ep.n
        lon = ep.sum_lon / ep.n
        end = ep.end
        dur = (end if end is not None else ep.last) - ep.start
        severity: Severity = "medium" if v.category in ("fishing", "tanker", "unknown", "other") else "low"
        summary = (f"{vessel_phrase(v)} under {self.s.max_sog_kn:g} kn for {format_duration(dur)} at "
                   f"{latlon_phrase(lat, lon)}, away from any port or anchorage")
        return self.alerts.make(
            type="loitering", key=f"{mmsi}:{iso(ep.start)}", status=status, severity=severity, time_s=now_s,
            start_s=ep.start, end_s=end if status == "closed" else None, mmsis=[mmsi], lat=lat, lon=lon,
            summary=summary,
            details={"duration_min": round(dur / 60), "max_sog_kn": round(ep.max_sog, 1),
                     "positions": ep.n},
        )

    def on_watermark(self, watermark_s: float) -> list[Alert]:
        """A slow vessel not heard for two hours has ended its episode (it may be dark: the gap detector says)."""
        out: list[Alert] = []
        for mmsi in [m for m, ep in self.state.items() if watermark_s - ep.last > 7200]:
            ep = self.state[mmsi]
            out.extend(self._end(mmsi, ep, ep.last))
        return out

    def episode_start(self, alert: Alert) -> tuple[float, float] | None:
        """Where the episode an alert of this detector reports began (lat, lon), while it is held."""
        ep = self.state.get(min(v.mmsi for v in alert.vessels)) if alert.vessels else None
        return None if ep is None else (ep.lat0, ep.lon0)
