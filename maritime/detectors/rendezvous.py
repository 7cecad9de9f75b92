"""Rendezvous: two vessels close together, both slow, for a long time, away from port.

Defaults follow Global Fishing Watch encounters (within 500 m, both under
2 kn, for at least 2 h, at least 10 km from a port or anchorage); the
``watch_floor`` profile follows Skylight (250 m for 30 min).

Candidate pairs come from a spatial grid of slow vessels (cells a little
larger than the distance, neighbours checked; the columns go round at 180°).
Two vessels report at different moments, so each new fix of vessel A is
compared with vessel B's last fix at B's time, with A interpolated between its
previous and new fix; a fix of A far from a partner it was close to parts the
pair, wherever the grid puts it. The duration is judged on one closeness
without a break (GFW's raw encounters); closenesses of one pair less than
``merge_gap_h`` apart are then one event (GFW merges raw encounters less than
24 h apart): *open* once the duration is reached, *update* every hour while
it lasts, *closed* when they part (re-issued as *update* if they meet again
within the merge gap).

Partners whose work is alongside others (pilots, authorities anywhere; tugs,
tenders and small craft only in and near ports) are ordinary life; far from
port, a tug or a pleasure craft alongside a reefer for hours is exactly the
transshipment a watch officer wants to see, and the alert names its type.
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
from maritime.geo import (
    KN_TO_MS,
    bearing_deg,
    cell_size_deg,
    fast_distance_m,
    format_duration,
    interpolate,
    lon_delta,
    wrap_lon,
)
from maritime.models import Alert, Position, Severity, Status, iso
from maritime.zones.index import ZoneIndex

PORT_KIND = frozenset(("port",))
_NEIGHBOURS = [(di, dj) for di in (-1, 0, 1) for dj in (-1, 0, 1)]
#: AIS ship types (ITU-R M.1371) of vessels whose work is alongside others anywhere: military 35, SAR 51, law
#: enforcement 55
AUTHORITY_TYPES = frozenset((35, 51, 55))
#: pilot vessel 50 (boards and leaves ships at the pilot station, sometimes well offshore)
PILOT_TYPES = frozenset((50,))
#: vessels that work alongside ships in and near ports: towing 31/32, dredging 33, diving 34, sailing 36,
#: pleasure 37, tug 52, port tender 53, anti-pollution 54
SERVICE_TYPES = frozenset((31, 32, 33, 34, 36, 37, 52, 53, 54))
#: how the explanation names a partner's AIS ship type
TYPE_WORDS = {30: "fishing vessel", 31: "towing vessel", 32: "towing vessel", 33: "dredger", 34: "diving vessel",
              35: "military vessel", 36: "sailing vessel", 37: "pleasure craft", 50: "pilot vessel",
              51: "search and rescue vessel", 52: "tug", 53: "port tender", 54: "anti-pollution vessel",
              55: "law enforcement vessel", 58: "medical transport"}
CATEGORY_WORDS = {"cargo": "cargo ship", "tanker": "tanker", "passenger": "passenger ship", "fishing": "fishing vessel",
                  "high_speed": "high-speed craft"}
#: explanations name the nearest port zone within this distance (m)
NEAREST_PORT_M = 300_000.0
_COMPASS = ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")
#: a passenger ship this long is a cruise ship; a craft shorter than ``TENDER_MAX_LENGTH_M`` can be its tender (m)
CRUISE_MIN_LENGTH_M = 100
TENDER_MAX_LENGTH_M = 30


def _quiet_path(det: RendezvousDetector) -> Any:
    """The typed core's ``RendezvousQuiet`` on the detector's grid, pairs and episodes, or None."""
    from maritime.core import quiet_path

    core = quiet_path()
    return core.RendezvousQuiet(det, KN_TO_MS) if core is not None else None


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
        # a cell size that divides 360° exactly, so that the grid's columns go round at the antimeridian
        self._ncols = math.ceil(360.0 / cell_size_deg(self.p.max_distance_m))
        self.cell_deg = 360.0 / self._ncols
        self._cells: dict[tuple[int, int], set[int]] = {}
        self._where: dict[int, tuple[tuple[int, int], float, float, float, float | None]] = {}
        self._prev: dict[int, tuple[float, float, float]] = {}
        self._pairs: dict[int, set[tuple[int, int]]] = {}
        #: when an MMSI shared by several transmitters was last heard elsewhere (s): its fixes before that no
        #: longer say where it is, and no line is drawn across that moment
        self._elsewhere: dict[int, float] = {}
        self.max_gap_s = settings.max_interp_gap_min * 60
        self.min_dur_s = self.p.min_duration_min * 60
        self.merge_s = self.p.merge_gap_h * 3600
        self.apart_m = self.p.max_distance_m * 1.5  # hysteresis: parted only when clearly apart
        #: the typed core's quiet path (a vessel under way whose pairs have parted; a slow one that only adds to
        #: closenesses going on), None when not built
        self.quiet = _quiet_path(self)
        self._quiet: Any = self.quiet.take if self.quiet is not None else None

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        s = self.cell_deg
        return math.floor(lat / s), math.floor(wrap_lon(lon) / s)

    def _col(self, j: int) -> int:
        """A grid column brought round at 180° (columns run from -n/2 to n/2 - 1)."""
        n = self._ncols
        half = n // 2
        return j if -half <= j < n - half else (j + half) % n - half

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
            if ep.alerted or ep.last - self._run_first(ep) >= self.min_dur_s:
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
        learned = self.learned
        quiet = self._quiet
        if quiet is not None and quiet(pos, vessel):
            return []  # taken in C, as below (maritime.core.quiet.RendezvousQuiet)
        mmsi = pos.mmsi
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
        ci, cj = self._cell(pos.lat, pos.lon)
        out: list[Alert] = []
        compared: set[int] = set()
        for di, dj in _NEIGHBOURS:
            members = self._cells.get((ci + di, self._col(cj + dj)))
            if not members:
                continue
            for other in members:
                _cell, tb, lat_b, lon_b, _sog = self._where[other]
                if pos.time_s - tb > self.max_gap_s or self._elsewhere.get(other, -1.0) > tb:
                    continue  # B not heard for long, or heard elsewhere since its fix here
                # compare at B's time: A interpolated between its previous and new fix
                if (prev is not None and prev[0] <= tb <= pos.time_s and pos.time_s - prev[0] <= self.max_gap_s
                        and not prev[0] < self._elsewhere.get(mmsi, -1.0) < pos.time_s):
                    lat_a, lon_a = interpolate(prev[1], prev[2], prev[0], pos.lat, pos.lon, pos.time_s, tb)
                    t_cmp = tb
                else:
                    lat_a, lon_a, t_cmp = pos.lat, pos.lon, pos.time_s
                d = fast_distance_m(lat_a, lon_a, lat_b, lon_b)
                key = (mmsi, other) if mmsi < other else (other, mmsi)
                compared.add(other)
                if d <= self.p.max_distance_m:
                    mid_lon = wrap_lon(lon_a + lon_delta(lon_a, lon_b) / 2)
                    out.extend(self._close(key, t_cmp, d, (lat_a + lat_b) / 2, mid_lon, pos.sog_kn))
                elif d - self._reach_m(t_cmp - tb) > self.apart_m:
                    out.extend(self._apart(key, t_cmp))
        out.extend(self._apart_from_far(mmsi, pos.lat, pos.lon, pos.time_s, compared))
        cell = (ci, cj)
        self._where[mmsi] = (cell, pos.time_s, pos.lat, pos.lon, pos.sog_kn)
        self._cells.setdefault(cell, set()).add(mmsi)
        return out

    def _reach_m(self, dt_s: float) -> float:
        """How far a slow partner may have moved in ``dt_s`` (m): a fix this much further than the apart
        distance from its last one is apart whatever it did since."""
        return self.p.max_sog_kn * KN_TO_MS * (dt_s if dt_s > 0.0 else -dt_s)

    def _apart_from_far(self, mmsi: int, lat: float, lon: float, t: float, skip: set[int] | None = None
                        ) -> list[Alert]:
        """Part the pairs of ``mmsi`` whose partner is clearly far from (lat, lon) at ``t``: a partner the grid
        did not offer (a vessel that jumped away, or that said 0 kn while it was elsewhere)."""
        out: list[Alert] = []
        for key in list(self._pairs.get(mmsi, ())):
            other = key[1] if key[0] == mmsi else key[0]
            if skip is not None and other in skip:
                continue
            w = self._where.get(other)
            if w is not None and fast_distance_m(lat, lon, w[2], w[3]) - self._reach_m(t - w[1]) > self.apart_m:
                out.extend(self._apart(key, t))
        return out

    def on_withheld(self, pos: Position, vessel: VesselState) -> list[Alert]:
        """A fix the identity gate withheld because another transmitter shares this MMSI: the MMSI was heard
        at (lat, lon) too, so a pair it is in is not together while that place is far from the partner (GFW's
        "fast separation" case: a vessel that says 0 kn beside another and, between, 600 nm away)."""
        if pos.time_s > self._elsewhere.get(pos.mmsi, -1.0):
            self._elsewhere[pos.mmsi] = pos.time_s
        return self._apart_from_far(pos.mmsi, pos.lat, pos.lon, pos.time_s)

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

    def _run_first(self, ep: Meeting) -> float:
        return ep.first if ep.run_first is None else ep.run_first

    def _close(self, key: tuple[int, int], t: float, d: float, lat: float, lon: float, sog: float | None
               ) -> list[Alert]:
        ep = self.state.get(key)
        out: list[Alert] = []
        if ep is not None and ((t - ep.last > self.merge_s)
                               or (ep.parted is not None and not ep.alerted and ep.suppressed is None)):
            # beyond the merge gap, or a closeness that ended short of the duration: this one starts afresh
            self._forget(key)
            ep = None
        if ep is None:
            for m in key:
                self._pairs.setdefault(m, set()).add(key)
            ep = self.state[key] = Meeting(t, t, lat, lon, d, run_first=t)
        resumed = ep.parted is not None
        if resumed:
            ep.together_s += max(0.0, ep.last - self._run_first(ep))
            ep.run_first = t
        ep.parted = None
        ep.last = max(ep.last, t)
        ep.min_d = min(ep.min_d, d)
        ep.n += 1
        ep.sum_lat += lat
        ep.sum_lon += ep.lon0 + lon_delta(ep.lon0, lon)  # unwrapped about where they met: a mean across 180°
        if len(ep.dists) < 2000:
            ep.dists.append(d)
        if sog is not None and len(ep.sogs) < 2000:
            ep.sogs.append(sog)
        if not ep.alerted and ep.last - self._run_first(ep) >= self.min_dur_s:
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
        if not ep.alerted and ep.suppressed is None:
            self._forget(key)  # together for less than the duration: nothing to remember
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
        if self.learned is not None and self.learned.anchorage_at(*self._mean(ep)) is not None:
            return "learned_anchorage"
        partner = self._exempt_partner(key, ep)
        if partner is not None:
            return partner
        if self._group_size(key, ep, t) >= 3:
            return "group_at_rest"
        return None

    def _exempt_partner(self, key: tuple[int, int], ep: Meeting) -> str | None:
        rules = set(self.s.exempt_partners)
        if "pilot_or_tug_near_port" in rules:
            rules |= {"pilot", "service_near_port"}
        va, vb = self.tracker.get(key[0]), self.tracker.get(key[1])
        types = {va.ship_type, vb.ship_type}
        if "authority" in rules and types & AUTHORITY_TYPES:
            return "authority"
        if "pilot" in rules and types & PILOT_TYPES:
            return "pilot"
        if "fishing_pair" in rules and va.category == vb.category == "fishing":
            return "fishing_pair"
        if "service_near_port" in rules and types & SERVICE_TYPES and self.zones is not None:
            lat, lon = self._mean(ep)
            if (self.zones.in_harbour(lat, lon) is not None
                    or self.zones.harbour_within(lat, lon, self.s.service_port_km * 1000,
                                                 kinds=PORT_KIND) is not None):
                return "service_near_port"
        if "cruise_tender" in rules:
            for ship, craft in ((va, vb), (vb, va)):
                anchored = ship.last is not None and ship.last.nav_status == AT_ANCHOR
                if (ship.category == "passenger" and anchored and (ship.length_m or 0) >= CRUISE_MIN_LENGTH_M
                        and (craft.length_m is None or craft.length_m < TENDER_MAX_LENGTH_M)):
                    return "cruise_tender"
        return None

    @staticmethod
    def _mean(ep: Meeting) -> tuple[float, float]:
        """Where the pair lay on average (degrees; the longitude brought back into [-180, 180))."""
        return ep.sum_lat / ep.n, wrap_lon(ep.sum_lon / ep.n)

    def _group_size(self, key: tuple[int, int], ep: Meeting, t: float) -> int:
        """The pair and every other slow vessel heard within ``group_radius_m`` of where they lie."""
        lat, lon = self._mean(ep)
        radius = self.s.group_radius_m
        s = self.cell_deg
        reach = math.ceil(radius / (s * 111_000.0 * max(math.cos(math.radians(lat)), 0.2))) + 1
        ci, cj = self._cell(lat, lon)
        n = 2
        cols = {self._col(cj + dj) for dj in range(-reach, reach + 1)}
        for di in range(-reach, reach + 1):
            for col in cols:
                for other in self._cells.get((ci + di, col), ()):
                    if other in key:
                        continue
                    _cell, tb, lat_b, lon_b, _sog = self._where[other]
                    if abs(t - tb) <= self.max_gap_s and fast_distance_m(lat, lon, lat_b, lon_b) <= radius:
                        n += 1
        return n

    def _near_harbour(self, ep: Meeting) -> bool:
        if self.zones is None:
            return False
        lat, lon = self._mean(ep)
        return self.zones.harbour_within(lat, lon, self.p.min_port_distance_km * 1000) is not None

    def _alert(self, key: tuple[int, int], ep: Meeting, status: Status, now_s: float) -> Alert:
        a, b = key
        va, vb = self.tracker.get(a), self.tracker.get(b)
        lat, lon = self._mean(ep)
        span = ep.last - ep.first
        together = ep.together_s + max(0.0, ep.last - self._run_first(ep))
        sogs = sorted(ep.sogs)
        median = sogs[len(sogs) // 2] if sogs else None
        dists = sorted(ep.dists)
        kept = dists[len(dists) // 2] if dists else ep.min_d
        risky = {va.category, vb.category} & {"fishing", "tanker"} or together >= 4 * 3600
        severity: Severity = "high" if risky else "medium"
        verb = "parted after" if status == "closed" else "for"
        spread = f" over {format_duration(span)}" if span - together >= 600 else ""
        port = self._nearest_port(lat, lon)
        where = latlon_phrase(lat, lon)
        if port is not None:
            where += f", {port['distance_km']:.0f} km {port['direction']} of {port['name']}"
        summary = (f"{vessel_phrase(va)}{_kind(va)} and {vessel_phrase(vb)}{_kind(vb)} kept {kept:.0f} m apart "
                   f"(closest {ep.min_d:.0f} m), both under {self.p.max_sog_kn:g} kn, {verb} "
                   f"{format_duration(together)} together{spread} at {where}")
        return self.alerts.make(
            type="rendezvous", key=f"{a}-{b}:{iso(ep.first)}", status=status, severity=severity,
            time_s=now_s, start_s=ep.first, end_s=ep.parted if status == "closed" else None,
            mmsis=[a, b], lat=lat, lon=lon, summary=summary,
            details={"min_distance_m": round(ep.min_d), "median_distance_m": round(kept), "median_sog_kn": median,
                     "duration_min": round(span / 60), "together_min": round(together / 60),
                     "observations": ep.n, "profile": self.s.profile,
                     "partners": {str(v.mmsi): _type_word(v) for v in (va, vb)}, "nearest_port": port},
        )

    def _nearest_port(self, lat: float, lon: float) -> dict[str, Any] | None:
        if self.zones is None:
            return None
        got = self.zones.nearest_harbour(lat, lon, NEAREST_PORT_M)
        if got is None:
            return None
        zone, dist_m = got
        c = zone.geometry.representative_point() if dist_m > 0 else None
        direction = "" if c is None else _COMPASS[round(bearing_deg(c.y, c.x, lat, lon) / 22.5) % 16]
        return {"id": zone.id, "name": zone.name, "distance_km": round(dist_m / 1000, 1), "direction": direction}

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
        for m in [m for m, t in self._elsewhere.items() if watermark_s - t > self.max_gap_s]:
            del self._elsewhere[m]
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
                "elsewhere": [[m, t] for m, t in self._elsewhere.items()],
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
        for m, t in snap.get("elsewhere", ()):
            self._elsewhere[int(m)] = float(t)
        if self.learned is not None and snap.get("learned"):
            self.learned.restore(snap["learned"])


def _type_word(v: Any) -> str:
    """What a vessel is, in words: its AIS ship type when that says more than the category."""
    word = TYPE_WORDS.get(v.ship_type) if v.ship_type is not None else None
    if word is None:
        word = CATEGORY_WORDS.get(v.category, "vessel of unknown type" if v.category == "unknown" else v.category)
    return word


def _kind(v: Any) -> str:
    return f" [{_type_word(v)}]"
