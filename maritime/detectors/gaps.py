"""Dark-vessel AIS gaps, and feed outages.

A vessel that was reporting (``min_positions_before`` fixes) and then is
silent for ``min_gap_h`` of event time raises ``dark_gap`` *open* while it is
still silent, judged against the watermark; when it is heard again the same
id is re-issued *closed* with the first fix after the silence, the duration,
the distance between the two fixes and the implied speed. A gap that passes
``suspect_gap_h`` is re-issued as an *update* with a higher severity
(Global Fishing Watch calls gaps ≥ 12 h far from shore "suspected disabling").
Lengths are measured from honest times: when the report that ends a gap
carries a delivery time (a satellite batch, ``Position.time_err_s``) and the
gap minus that uncertainty is shorter than ``min_gap_h``, the alert is
re-issued *cancelled* instead of *closed*.

When most of the active vessels fall silent within the same few minutes it is
the feed (a receiver or aggregator down), not the vessels: one
``feed_outage`` notice is raised and those silences do not become gap alerts.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import replace
from typing import Any, ClassVar

from maritime.config import GapSettings
from maritime.detectors.base import STATIONARY_STATUSES, AlertBuilder, DetectorBase, latlon_phrase, vessel_phrase
from maritime.detectors.state import ClosedGap, GapState
from maritime.detectors.tracker import Tracker, VesselState
from maritime.geo import M_PER_NM, format_duration, haversine_m, implied_speed_kn
from maritime.models import Alert, Position, Severity, Status, iso
from maritime.zones.index import HARBOUR_KINDS, ZoneIndex

logger = logging.getLogger(__name__)

#: how long a closed gap is kept to be revised by a late report (s)
LATE_HORIZON_S = 24 * 3600.0

_SENSITIVE_KINDS = ("restricted", "mpa", "territorial_sea")


def _quiet_path(min_gap_s: float, min_positions_before: int, state: dict[int, GapState],
                by_last: OrderedDict[int, float]) -> Any:
    """The typed core's ``GapsQuiet`` on the detector's state, or None."""
    from maritime.core import quiet_path

    core = quiet_path()
    return core.GapsQuiet(min_gap_s, min_positions_before, state, by_last) if core is not None else None


class GapDetector(DetectorBase):
    """Dark gaps and feed outages; per-vessel state in ``state`` keyed by MMSI."""

    name = "gaps"
    #: how a table entry of ``state`` is read back (:func:`msgspec.convert`)
    state_type: ClassVar[Any] = GapState

    def __init__(self, settings: GapSettings, tracker: Tracker, zones: ZoneIndex | None = None,
                 state: dict[int, GapState] | None = None) -> None:
        self.s = settings
        self.alerts = AlertBuilder(tracker)
        self.tracker = tracker
        self.zones = zones
        self.state: dict[int, GapState] = state if state is not None else {}
        # MMSIs in order of their last fix (oldest first): the sweep only looks at the front
        self._by_last: OrderedDict[int, float] = OrderedDict()
        self.min_gap_s = settings.min_gap_h * 3600
        self.suspect_s = settings.suspect_gap_h * 3600
        self.outages: list[dict[str, Any]] = []
        self._open_set: set[int] = set()
        self._watermark_s = float("-inf")
        #: the typed core's quiet path (a vessel heard again, no gap to raise or close), None when not built
        self.quiet = _quiet_path(self.min_gap_s, settings.min_positions_before, self.state, self._by_last)
        self._quiet: Any = self.quiet.take if self.quiet is not None else None

    # -- positions ------------------------------------------------------------------

    def _zone_context(self, lat: float, lon: float) -> tuple[str | None, dict[str, Any] | None]:
        if self.zones is None:
            return None, None
        best: tuple[int, Any] | None = None
        order = {"port": 0, "anchorage": 0, "restricted": 4, "mpa": 3, "territorial_sea": 2, "contiguous_zone": 1,
                 "eez": 1}
        for z in self.zones.containing(lat, lon):
            rank = order.get(z.kind, 1)
            if z.kind in HARBOUR_KINDS:
                return z.kind, z.ref.as_dict()
            if best is None or rank > best[0]:
                best = (rank, z)
        if best is None:
            return None, None
        return best[1].kind, best[1].ref.as_dict()

    def on_position(self, pos: Position, vessel: VesselState) -> list[Alert]:
        quiet = self._quiet
        if quiet is not None and quiet(pos, vessel):
            return []  # taken in C, as below (maritime.core.quiet.GapsQuiet)
        st = self.state.get(pos.mmsi)
        out: list[Alert] = []
        if st is not None:
            silent = pos.time_s - st.t
            if st.open:
                out.append(self._close(st, pos, vessel))
            elif (silent - pos.time_err_s >= self.min_gap_s and st.n >= self.s.min_positions_before
                  and not st.outage):
                # silence never seen by a sweep (the watermark jumped): raise and close at once
                out.append(self._open(st, pos.mmsi, pos.time_s, vessel))
                out.append(self._close(st, pos, vessel))
            st.t = pos.time_s
            st.lat = pos.lat
            st.lon = pos.lon
            st.sog = pos.sog_kn
            st.status = pos.nav_status
            st.n += 1
            st.kind = st.zone = st.key_t = None
            st.ctx = st.open = st.outage = st.suspect = False
        else:
            self.state[pos.mmsi] = GapState(pos.time_s, pos.lat, pos.lon, pos.sog_kn, pos.nav_status, 1)
        by_last = self._by_last
        by_last[pos.mmsi] = pos.time_s
        by_last.move_to_end(pos.mmsi)
        return out

    # -- the watermark sweep -----------------------------------------------------------

    def on_watermark(self, watermark_s: float) -> list[Alert]:
        out: list[Alert] = []
        self._watermark_s = max(self._watermark_s, watermark_s)
        cutoff = watermark_s - self.min_gap_s
        candidates: list[tuple[int, float]] = []
        by_last = self._by_last
        while by_last:
            mmsi, t = next(iter(by_last.items()))
            if t > cutoff:
                break
            by_last.popitem(last=False)
            st = self.state.get(mmsi)
            if st is None or st.open or st.n < self.s.min_positions_before:
                continue
            candidates.append((mmsi, t))
        if candidates:
            candidates = self._drop_outages(candidates, watermark_s, out)
        for mmsi, _t in candidates:
            st = self.state[mmsi]
            out.append(self._open(st, mmsi, watermark_s, self.tracker.get(mmsi)))
        # gaps that grow past the "suspected disabling" length
        for mmsi, st in self._open_gaps():
            if not st.suspect and watermark_s - st.t >= self.suspect_s:
                st.suspect = True
                out.append(self._alert(st, mmsi, "update", watermark_s, None, None))
        return out

    def holds(self, mmsi: int) -> bool:
        """Whether ``mmsi`` has an open gap (its state is kept however long it stays silent)."""
        st = self.state.get(mmsi)
        return st is not None and st.open

    def forget(self, mmsi: int) -> None:
        """Drop the state of a vessel evicted for silence (no gap open)."""
        self.state.pop(mmsi, None)
        self._by_last.pop(mmsi, None)
        self._open_set.discard(mmsi)

    def _open_gaps(self) -> list[tuple[int, GapState]]:
        return [(m, self.state[m]) for m in sorted(self._open_set)]

    def _drop_outages(self, cands: list[tuple[int, float]], now_s: float, out: list[Alert]) -> list[tuple[int, float]]:
        """Remove silences that are a feed outage (many vessels falling silent together)."""
        window = self.s.outage_window_min * 60
        cands.sort(key=lambda c: c[1])
        keep: list[tuple[int, float]] = []
        i = 0
        while i < len(cands):
            j = i
            while j + 1 < len(cands) and cands[j + 1][1] - cands[i][1] <= window:
                j += 1
            group = cands[i:j + 1]
            members = {m for m, _ in group}
            t0 = group[0][1]
            t1 = group[-1][1]
            # vessels that were active around then: silent ones plus those still heard after t1
            active = len(group) + sum(
                1 for m, st in self.state.items()
                if st.n >= self.s.min_positions_before and st.t > t1 and m not in members
            )
            if len(group) >= self.s.outage_min_vessels and len(group) >= self.s.outage_fraction * active:
                for m, _ in group:
                    self.state[m].outage = True
                out.append(self._outage_alert(group, t0, t1, active, now_s))
            else:
                keep.extend(group)
            i = j + 1
        return keep

    def _outage_alert(self, group: list[tuple[int, float]], t0: float, t1: float, active: int, now_s: float
                      ) -> Alert:
        n = len(group)
        self.outages.append({"start_s": t0, "end_s": t1, "vessels": n})
        # where the feed went quiet: the median of the silent vessels' last fixes (a point among them, even
        # for a global feed), and the box they span (degrees)
        lats = sorted(self.state[m].lat for m, _ in group)
        lons = sorted(self.state[m].lon for m, _ in group)
        return self.alerts.make(
            type="feed_outage", key=iso(t0) or "", status="open", severity="medium", time_s=now_s,
            start_s=t0, end_s=None, mmsis=[], lat=lats[n // 2], lon=lons[n // 2],
            summary=(f"Feed outage: {n} of {active} active vessels fell silent together around {iso(t1)}; "
                     f"their silence is not reported as dark gaps"),
            details={"vessels_silent": n, "vessels_active": active,
                     "silent_area": {"south": round(lats[0], 4), "west": round(lons[0], 4),
                                     "north": round(lats[-1], 4), "east": round(lons[-1], 4)},
                     "silent_mmsis": sorted(m for m, _ in group)[:200]},
        )

    # -- alerts -------------------------------------------------------------------------

    def _severity(self, st: GapState, dist_nm: float | None, speed_kn: float | None, gap_s: float) -> Severity:
        if st.status in STATIONARY_STATUSES or st.kind in HARBOUR_KINDS:
            return "low"
        if speed_kn is not None and speed_kn > self.s.max_plausible_kn and (dist_nm or 0) > 5:
            return "high"
        if st.kind in _SENSITIVE_KINDS:
            return "high"
        if gap_s >= self.suspect_s:
            return "high"
        return "medium"

    def _alert(self, st: GapState, mmsi: int, status: Status, now_s: float, end: Position | None,
               vessel: VesselState | None) -> Alert:
        vessel = vessel or self.tracker.get(mmsi)
        start = st.t
        details: dict[str, Any] = {
            "last_position": {"lat": round(st.lat, 5), "lon": round(st.lon, 5)},
            "last_sog_kn": st.sog, "last_nav_status": st.status,
            "started_in": st.kind,
        }
        dist_nm = speed = None
        if end is not None:
            gap_s = end.time_s - start
            dist_m = haversine_m(st.lat, st.lon, end.lat, end.lon)
            dist_nm = dist_m / M_PER_NM
            speed = implied_speed_kn(dist_m, gap_s)
            details.update(gap_h=round(gap_s / 3600, 2), distance_nm=round(dist_nm, 1),
                           implied_speed_kn=round(speed, 1) if speed is not None else None,
                           first_position_after={"lat": round(end.lat, 5), "lon": round(end.lon, 5)})
            summary = (f"{vessel_phrase(vessel)} was silent for {format_duration(gap_s)} and reappeared "
                       f"{dist_nm:.0f} nm away (implied {speed or 0:.1f} kn); last seen at "
                       f"{latlon_phrase(st.lat, st.lon)}")
        else:
            gap_s = now_s - start
            details.update(gap_h=round(gap_s / 3600, 2))
            where = f" in {st.zone['name'] or st.zone['id']}" if st.zone else ""
            moving = f" at {st.sog:.1f} kn" if st.sog is not None else ""
            summary = (f"{vessel_phrase(vessel)} silent for {format_duration(gap_s)}: last heard{moving} at "
                       f"{latlon_phrase(st.lat, st.lon)}{where}")
        return self.alerts.make(
            type="dark_gap", key=f"{mmsi}:{iso(st.key_t or start)}", status=status,
            severity=self._severity(st, dist_nm, speed, gap_s), time_s=now_s, start_s=start,
            end_s=end.time_s if end is not None else None, mmsis=[mmsi], lat=st.lat, lon=st.lon,
            summary=summary, zone=None, details=details,
        )

    def _open(self, st: GapState, mmsi: int, now_s: float, vessel: VesselState) -> Alert:
        if not st.ctx:  # where the silence began, looked up once, when it matters
            st.kind, st.zone = self._zone_context(st.lat, st.lon)
            st.ctx = True
        st.open = True
        self._open_set.add(mmsi)
        return self._alert(st, mmsi, "open", now_s, None, vessel)

    def _close(self, st: GapState, pos: Position, vessel: VesselState) -> Alert:
        self._open_set.discard(pos.mmsi)
        # kept for a while, so that a late report falling inside it can revise it
        hist = [g for g in st.gaps if pos.time_s - g.end <= LATE_HORIZON_S]
        hist.append(ClosedGap(st.key_t or st.t, st.t, st.lat, st.lon, st.sog, st.status, st.kind, st.zone,
                              pos.time_s, pos.lat, pos.lon))
        st.gaps = hist[-3:]
        honest_s = pos.time_s - st.t - pos.time_err_s
        if honest_s < self.min_gap_s:
            # the report that ends the gap carries a delivery time: it may have been sent up to
            # time_err_s earlier, so the silence is not known to have lasted min_gap_h
            alert = self._alert(st, pos.mmsi, "cancelled", pos.time_s, pos, vessel)
            alert = replace(alert, summary=(
                f"{alert.summary}; cancelled: that report may have been sent up to "
                f"{format_duration(pos.time_err_s)} before its delivery time, so the silence may have been "
                f"shorter than {format_duration(self.min_gap_s)}"),
                details={**alert.details, "time_uncertainty_s": pos.time_err_s})
        else:
            alert = self._alert(st, pos.mmsi, "closed", pos.time_s, pos, vessel)
        st.open = False
        return alert

    # -- late reports ------------------------------------------------------------------

    def on_late(self, pos: Position, vessel: VesselState) -> list[Alert]:
        """A report that arrived after the reorder window (a satellite batch hours late) is real: when it
        falls inside a gap of its vessel, the gap is revised (*update* with the shorter silence) or, when
        what is left is shorter than ``min_gap_h``, *cancelled*. Skylight removes events that late AIS
        disproves in the same way."""
        st = self.state.get(pos.mmsi)
        if st is None:
            return []
        t = pos.time_s
        if st.open and t > st.t:
            st.key_t = st.key_t or st.t
            st.t, st.lat, st.lon, st.sog, st.status = t, pos.lat, pos.lon, pos.sog_kn, pos.nav_status
            if self._watermark_s - t < self.min_gap_s:
                self._open_set.discard(pos.mmsi)
                st.open = False
                alert = self._alert(st, pos.mmsi, "cancelled", self._watermark_s, None, vessel)
                alert = replace(alert, summary=f"{alert.summary}; cancelled: a late report shows it was heard at "
                                f"{iso(t)}", details={**alert.details, "revised_by_late_report": iso(t)})
                st.key_t = None
                # back in the sweep, in order of last fix (rare: rebuilt)
                by_last = self._by_last
                by_last[pos.mmsi] = t
                ordered = sorted(by_last.items(), key=lambda kv: (kv[1], kv[0]))
                by_last.clear()  # in place: the typed core's quiet path holds this very dict
                by_last.update(ordered)
            else:
                alert = self._alert(st, pos.mmsi, "update", self._watermark_s, None, vessel)
                alert = replace(alert, summary=f"{alert.summary} (revised: a late report heard it at {iso(t)})",
                                details={**alert.details, "revised_by_late_report": iso(t)})
            return [alert]
        for g in reversed(st.gaps):
            if not g.start < t < g.end:
                continue
            before, after = t - g.start, g.end - t
            ctx = GapState(g.start, g.lat, g.lon, g.sog, g.status, kind=g.kind, zone=g.zone, ctx=True,
                           key_t=g.key_t)
            end = Position(pos.mmsi, g.end, g.end_lat, g.end_lon)
            if max(before, after) < self.min_gap_s:
                st.gaps = [x for x in st.gaps if x is not g]
                alert = self._alert(ctx, pos.mmsi, "cancelled", g.end, end, vessel)
                return [replace(alert, summary=f"{alert.summary}; cancelled: a late report shows it was heard at "
                                f"{iso(t)}", details={**alert.details, "revised_by_late_report": iso(t)})]
            if after >= before:  # the silence that is left began at the late report
                g.start, g.lat, g.lon, g.sog, g.status = t, pos.lat, pos.lon, pos.sog_kn, pos.nav_status
                ctx.t, ctx.lat, ctx.lon, ctx.sog, ctx.status = t, pos.lat, pos.lon, pos.sog_kn, pos.nav_status
            else:  # … or ended at it
                g.end, g.end_lat, g.end_lon = t, pos.lat, pos.lon
                end = pos
            alert = self._alert(ctx, pos.mmsi, "closed", g.end, end, vessel)
            return [replace(alert, summary=f"{alert.summary} (revised: a late report heard it at {iso(t)})",
                            details={**alert.details, "revised_by_late_report": iso(t)})]
        return []

    def rebuild(self) -> None:
        """Rebuild the sweep order from ``state`` (after it was restored from a table)."""
        by_last = self._by_last
        by_last.clear()  # in place: the typed core's quiet path holds this very dict
        by_last.update((m, st.t) for m, st in sorted(self.state.items(), key=lambda kv: (kv[1].t, kv[0]))
                       if not st.open and not st.outage)
        self._open_set = {m for m, st in self.state.items() if st.open}
