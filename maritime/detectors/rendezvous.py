"""Rendezvous: two vessels close together, both slow, for a long time, away from port.

Defaults follow Global Fishing Watch encounters (within 500 m, both under
2 kn, for at least 2 h, at least 10 km from a port or anchorage); the
``watch_floor`` profile follows Skylight (250 m for 30 min).

Candidate pairs come from a spatial grid of slow vessels (cells a little
larger than the distance, neighbours checked). Two vessels report at
different moments, so each new fix of vessel A is compared with vessel B's
last fix at B's time, with A interpolated between its previous and new fix.
Meetings of one pair less than ``merge_gap_h`` apart are one event: *open*
once the duration is reached, *update* every hour while it lasts, *closed*
when they part (re-issued as *update* if they meet again within the merge
gap).
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from maritime.config import RendezvousSettings
from maritime.detectors.anchorages import LearnedAnchorages
from maritime.detectors.base import AT_ANCHOR, AlertBuilder, DetectorBase, latlon_phrase, vessel_phrase
from maritime.detectors.state import Meeting
from maritime.detectors.tracker import Tracker, VesselState
from maritime.geo import cell_size_deg, fast_distance_m, format_duration, interpolate
from maritime.models import Alert, Position, Severity, Status, iso
from maritime.zones.index import ZoneIndex

_NEIGHBOURS = [(di, dj) for di in (-1, 0, 1) for dj in (-1, 0, 1)]
#: AIS ship types (ITU-R M.1371) of vessels whose work is alongside others: military 35, SAR 51, law enforcement 55
AUTHORITY_TYPES = frozenset((35, 51, 55))
#: pilot vessel 50, tugs 31/32 (towing) and 52
PILOT_TUG_TYPES = frozenset((31, 32, 50, 52))
#: a passenger ship this long is a cruise ship; a craft shorter than ``TENDER_MAX_LENGTH_M`` can be its tender (m)
CRUISE_MIN_LENGTH_M = 100
TENDER_MAX_LENGTH_M = 30


class RendezvousDetector(DetectorBase):
    """Ship-to-ship meetings. ``state`` holds pair episodes keyed ``(a, b)`` (MMSIs ascending)."""

    name = "rendezvous"

    def __init__(self, settings: RendezvousSettings, tracker: Tracker, zones: ZoneIndex | None = None,
                 state: dict[tuple[int, int], Meeting] | None = None, learned: LearnedAnchorages | None = None) -> None:
        self.s = settings
        #: where many distinct vessels have rested: a pair there is at an anchorage nobody drew
        self.learned = learned
        self.p = settings.active
        self.alerts = AlertBuilder(tracker)
        self.tracker = tracker
        self.zones = zones
        self.state: dict[tuple[int, int], Meeting] = state if state is not None else {}
        self.cell_deg = cell_size_deg(self.p.max_distance_m)
        self._cells: dict[tuple[int, int], set[int]] = {}
        self._where: dict[int, tuple[tuple[int, int], float, float, float, float | None]] = {}
        self._prev: dict[int, tuple[float, float, float]] = {}
        self._pairs: dict[int, set[tuple[int, int]]] = {}
        self.max_gap_s = settings.max_interp_gap_min * 60
        self.min_dur_s = self.p.min_duration_min * 60
        self.merge_s = self.p.merge_gap_h * 3600
        self.apart_m = self.p.max_distance_m * 1.5  # hysteresis: parted only when clearly apart

    # -- queries for other detectors ---------------------------------------------------

    def meeting(self, mmsi: int, t0: float, t1: float) -> str | None:
        """Whether ``mmsi`` met another slow vessel at some time in [t0, t1], so that loitering is not
        reported for it too: ``"met"`` when the two stayed close for the rendezvous duration (alerted or
        about to be), ``"meeting"`` while a closeness still going on is shorter than that, else None.

        A short close pass that ended (a pilot boat, a ship anchoring nearby for a while) is no meeting.
        """
        forming = False
        for key in self._pairs.get(mmsi, ()):
            ep = self.state.get(key)
            if ep is None:
                continue
            end = ep.parted if ep.parted is not None else max(ep.last, t1)
            if not (ep.first <= t1 and end >= t0):
                continue
            if ep.alerted or ep.last - ep.first >= self.min_dur_s:
                return "met"
            forming = forming or ep.parted is None
        return "meeting" if forming else None

    # -- positions ------------------------------------------------------------------

    def _slow(self, pos: Position) -> bool:
        return pos.sog_kn is not None and pos.sog_kn < self.p.max_sog_kn

    def _rest_excluded(self, mmsi: int) -> bool | None:
        """Whether a rest of ``mmsi`` must not teach its place: True in an alerted meeting, None while a
        closeness that may still become one goes on (ask again later), False otherwise (alone, or in a
        pair found to be ordinary life)."""
        wait = False
        for key in self._pairs.get(mmsi, ()):
            ep = self.state.get(key)
            if ep is None:
                continue
            if ep.alerted:
                return True
            if ep.suppressed is None and ep.parted is None:
                wait = True
        return None if wait else False

    def on_position(self, pos: Position, vessel: VesselState) -> list[Alert]:
        mmsi = pos.mmsi
        learned = self.learned
        if learned is not None:
            sog = pos.sog_kn
            if sog is not None and sog < learned.s.rest_max_sog_kn:
                learned.observe(pos, self._rest_excluded)
            elif mmsi in learned.resting:
                del learned.resting[mmsi]
        prev = self._prev.get(mmsi)
        self._prev[mmsi] = (pos.time_s, pos.lat, pos.lon)
        old = self._where.pop(mmsi, None)
        if old is not None:
            cell_set = self._cells.get(old[0])
            if cell_set is not None:
                cell_set.discard(mmsi)
                if not cell_set:
                    del self._cells[old[0]]
        if not self._slow(pos):
            return self._apart_all(mmsi, pos.time_s)
        s = self.cell_deg
        ci, cj = math.floor(pos.lat / s), math.floor(pos.lon / s)
        out: list[Alert] = []
        for di, dj in _NEIGHBOURS:
            members = self._cells.get((ci + di, cj + dj))
            if not members:
                continue
            for other in members:
                _cell, tb, lat_b, lon_b, _sog = self._where[other]
                if pos.time_s - tb > self.max_gap_s:
                    continue
                # compare at B's time: A interpolated between its previous and new fix
                if prev is not None and prev[0] <= tb <= pos.time_s and pos.time_s - prev[0] <= self.max_gap_s:
                    lat_a, lon_a = interpolate(prev[1], prev[2], prev[0], pos.lat, pos.lon, pos.time_s, tb)
                    t_cmp = tb
                else:
                    lat_a, lon_a, t_cmp = pos.lat, pos.lon, pos.time_s
                d = fast_distance_m(lat_a, lon_a, lat_b, lon_b)
                key = (mmsi, other) if mmsi < other else (other, mmsi)
                if d <= self.p.max_distance_m:
                    out.extend(self._close(key, t_cmp, d, (lat_a + lat_b) / 2, (lon_a + lon_b) / 2, pos.sog_kn))
                elif d > self.apart_m:
                    out.extend(self._apart(key, t_cmp))
        cell = (ci, cj)
        self._where[mmsi] = (cell, pos.time_s, pos.lat, pos.lon, pos.sog_kn)
        self._cells.setdefault(cell, set()).add(mmsi)
        return out

    def _apart_all(self, mmsi: int, t: float) -> list[Alert]:
        keys = self._pairs.get(mmsi)
        if not keys:
            return []
        out: list[Alert] = []
        for key in list(keys):
            out.extend(self._apart(key, t))
        return out

    def _forget(self, key: tuple[int, int]) -> None:
        self.state.pop(key, None)
        for m in key:
            keys = self._pairs.get(m)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._pairs[m]

    # -- episodes -------------------------------------------------------------------

    def _close(self, key: tuple[int, int], t: float, d: float, lat: float, lon: float, sog: float | None
               ) -> list[Alert]:
        ep = self.state.get(key)
        out: list[Alert] = []
        if ep is not None and (t - ep.last > self.merge_s):
            self._forget(key)
            ep = None
        if ep is None:
            for m in key:
                self._pairs.setdefault(m, set()).add(key)
            ep = self.state[key] = Meeting(t, t, lat, lon, d)
        ep.last = max(ep.last, t)
        ep.min_d = min(ep.min_d, d)
        ep.n += 1
        ep.sum_lat += lat
        ep.sum_lon += lon
        if sog is not None and len(ep.sogs) < 2000:
            ep.sogs.append(sog)
        resumed = ep.parted is not None
        ep.parted = None
        if not ep.alerted and ep.last - ep.first >= self.min_dur_s:
            if ep.suppressed is None:
                ep.suppressed = self._ordinary(key, ep, t) or False
            if not ep.suppressed:
                ep.alerted = True
                ep.next_update = ep.first + 2 * self.min_dur_s
                out.append(self._alert(key, ep, "open", t))
        elif ep.alerted and ((resumed and ep.closed)
                                or (ep.next_update is not None and t >= ep.next_update)):
            ep.closed = False
            ep.next_update = t + 3600.0
            out.append(self._alert(key, ep, "update", t))
        return out

    def _apart(self, key: tuple[int, int], t: float) -> list[Alert]:
        ep = self.state.get(key)
        if ep is None or ep.parted is not None or t < ep.last:
            return []
        ep.parted = t
        if ep.alerted and not ep.closed:
            ep.closed = True
            return [self._alert(key, ep, "closed", t)]
        return []

    def _ordinary(self, key: tuple[int, int], ep: Meeting, t: float) -> str | None:
        """Why a pair that stayed together is ordinary life, not a rendezvous (None: it is one).

        Decided once, when the pair reaches the rendezvous duration: near a port or anchorage; one of
        the partners that work alongside others (:attr:`RendezvousSettings.exempt_partners`); or a group
        at rest (a third slow vessel within ``group_radius_m``), which is an anchorage, a raft-up or a
        fleet at a fish aggregating device: a rendezvous is a pair that comes together apart from others.
        """
        if self._near_harbour(ep):
            return "near_harbour"
        if self.learned is not None and self.learned.anchorage_at(ep.sum_lat / ep.n,
                                                                  ep.sum_lon / ep.n) is not None:
            return "learned_anchorage"
        partner = self._exempt_partner(key, ep)
        if partner is not None:
            return partner
        if self._group_size(key, ep, t) >= 3:
            return "group_at_rest"
        return None

    def _exempt_partner(self, key: tuple[int, int], ep: Meeting) -> str | None:
        rules = self.s.exempt_partners
        va, vb = self.tracker.get(key[0]), self.tracker.get(key[1])
        types = {va.ship_type, vb.ship_type}
        if "authority" in rules and types & AUTHORITY_TYPES:
            return "authority"
        if "fishing_pair" in rules and va.category == vb.category == "fishing":
            return "fishing_pair"
        if "pilot_or_tug_near_port" in rules and types & PILOT_TUG_TYPES and self.zones is not None:
            lat, lon = ep.sum_lat / ep.n, ep.sum_lon / ep.n
            if self.zones.harbour_within(lat, lon, self.s.pilot_port_km * 1000) is not None:
                return "pilot_or_tug_near_port"
        if "cruise_tender" in rules:
            for ship, craft in ((va, vb), (vb, va)):
                anchored = ship.last is not None and ship.last.nav_status == AT_ANCHOR
                if (ship.category == "passenger" and anchored and (ship.length_m or 0) >= CRUISE_MIN_LENGTH_M
                        and (craft.length_m is None or craft.length_m < TENDER_MAX_LENGTH_M)):
                    return "cruise_tender"
        return None

    def _group_size(self, key: tuple[int, int], ep: Meeting, t: float) -> int:
        """The pair and every other slow vessel heard within ``group_radius_m`` of where they lie."""
        lat, lon = ep.sum_lat / ep.n, ep.sum_lon / ep.n
        radius = self.s.group_radius_m
        s = self.cell_deg
        reach = math.ceil(radius / (s * 111_000.0 * max(math.cos(math.radians(lat)), 0.2))) + 1
        ci, cj = math.floor(lat / s), math.floor(lon / s)
        n = 2
        for di in range(-reach, reach + 1):
            for dj in range(-reach, reach + 1):
                for other in self._cells.get((ci + di, cj + dj), ()):
                    if other in key:
                        continue
                    _cell, tb, lat_b, lon_b, _sog = self._where[other]
                    if abs(t - tb) <= self.max_gap_s and fast_distance_m(lat, lon, lat_b, lon_b) <= radius:
                        n += 1
        return n

    def _near_harbour(self, ep: Meeting) -> bool:
        if self.zones is None:
            return False
        lat = ep.sum_lat / ep.n
        lon = ep.sum_lon / ep.n
        return self.zones.harbour_within(lat, lon, self.p.min_port_distance_km * 1000) is not None

    def _alert(self, key: tuple[int, int], ep: Meeting, status: Status, now_s: float) -> Alert:
        a, b = key
        va, vb = self.tracker.get(a), self.tracker.get(b)
        lat = ep.sum_lat / ep.n
        lon = ep.sum_lon / ep.n
        dur = ep.last - ep.first
        sogs = sorted(ep.sogs)
        median = sogs[len(sogs) // 2] if sogs else None
        risky = {va.category, vb.category} & {"fishing", "tanker"} or dur >= 4 * 3600
        severity: Severity = "high" if risky else "medium"
        verb = "parted after" if status == "closed" else "for"
        summary = (f"{vessel_phrase(va)} and {vessel_phrase(vb)} within {self.p.max_distance_m:.0f} m of each "
                   f"other, both under {self.p.max_sog_kn:g} kn, {verb} {format_duration(dur)} at "
                   f"{latlon_phrase(lat, lon)}")
        return self.alerts.make(
            type="rendezvous", key=f"{a}-{b}:{iso(ep.first)}", status=status, severity=severity,
            time_s=now_s, start_s=ep.first, end_s=ep.parted if status == "closed" else None,
            mmsis=[a, b], lat=lat, lon=lon, summary=summary,
            details={"min_distance_m": round(ep.min_d), "median_sog_kn": median,
                     "duration_min": round(dur / 60), "observations": ep.n, "profile": self.s.profile},
        )

    # -- the watermark ---------------------------------------------------------------

    def on_watermark(self, watermark_s: float) -> list[Alert]:
        """Meetings whose vessels have not been compared for a while have ended."""
        out: list[Alert] = []
        for key in list(self.state):
            ep = self.state[key]
            if watermark_s - ep.last > self.max_gap_s and ep.parted is None:
                ep.parted = ep.last
                if ep.alerted and not ep.closed:
                    ep.closed = True
                    out.append(self._alert(key, ep, "closed", watermark_s))
            if ep.parted is not None and watermark_s - ep.parted > self.merge_s:
                self._forget(key)
        # forget grid entries of vessels not heard for a long time
        stale = [m for m, w in self._where.items() if watermark_s - w[1] > self.max_gap_s]
        for m in stale:
            if self.learned is not None:
                self.learned.forget_vessel(m)
            cell = self._where.pop(m)[0]
            self._prev.pop(m, None)
            members = self._cells.get(cell)
            if members is not None:
                members.discard(m)
                if not members:
                    del self._cells[cell]
        return out

    def episode_start(self, alert: Alert) -> tuple[float, float] | None:
        """Where the meeting an alert of this detector reports began (lat, lon), while it is held."""
        mmsis = sorted(v.mmsi for v in alert.vessels)
        ep = self.state.get((mmsis[0], mmsis[1])) if len(mmsis) >= 2 else None
        if ep is None:
            return None
        return ep.lat0, ep.lon0

    # -- state as plain data (the distributed runtime keeps it in a table) ----------

    def snapshot(self) -> dict[str, Any]:
        """Everything this detector holds, as plain data."""
        return {"episodes": [[list(k), msgspec.to_builtins(ep)] for k, ep in self.state.items()],
                "where": [[m, list(w[0]), *w[1:]] for m, w in self._where.items()],
                "prev": [[m, *p] for m, p in self._prev.items()],
                "learned": self.learned.snapshot() if self.learned is not None else None}

    def restore(self, snap: dict[str, Any]) -> None:
        """Take back what :meth:`snapshot` gave."""
        for k, ep in snap["episodes"]:
            key = (int(k[0]), int(k[1]))
            self.state[key] = msgspec.convert(ep, Meeting)
            for m in key:
                self._pairs.setdefault(m, set()).add(key)
        for m, cell, t, lat, lon, sog in snap["where"]:
            c = (int(cell[0]), int(cell[1]))
            self._where[m] = (c, t, lat, lon, sog)
            self._cells.setdefault(c, set()).add(m)
        for m, t, lat, lon in snap["prev"]:
            self._prev[m] = (t, lat, lon)
        if self.learned is not None and snap.get("learned"):
            self.learned.restore(snap["learned"])
