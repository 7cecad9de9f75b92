"""Identity and kinematics: position jumps, one MMSI in two places, invalid MMSIs, fixes on land.

This is a *gate*: it runs before the other detectors, and a position it
rejects (a jump, a second vessel using the same MMSI) is not fed to them as
if it were real. A fix well inside land is reported once per vessel but kept
(Natural Earth land covers rivers and canals, where inland vessels are).

- ``position_jump``: the implied speed from the last accepted fix exceeds a
  plausible limit (50 kn, lower by ship type) over more than ``min_jump_nm``.
  Two consecutive fixes that agree with each other but not with the track
  re-anchor it (the old track was the wrong one).
- ``identity_anomaly``: fixes alternating between two places (two
  transmitters sharing an MMSI); an MMSI that is not a ship's (MID outside
  201–775, wrong length); AIS-SART / MOB / EPIRB devices (970/972/974),
  reported as distress devices; positions well inside Natural Earth 10 m land.
"""

from __future__ import annotations

from typing import Any

from pyais.constants import COUNTRY_MAPPING

from maritime.config import IdentitySettings
from maritime.detectors.base import AlertBuilder, LandMask, State, latlon_phrase, vessel_phrase
from maritime.detectors.tracker import Tracker, VesselState
from maritime.geo import KN_TO_MS, M_PER_NM, fast_distance_m, format_duration, implied_speed_kn
from maritime.models import DISTRESS_PREFIXES, Alert, Position, iso


def mmsi_problem(mmsi: int) -> tuple[str, str] | None:
    """``(kind, explanation)`` when an MMSI sending positions is not a valid ship MMSI, else None."""
    s = str(mmsi)
    if len(s) == 9 and s[:3] in DISTRESS_PREFIXES:
        return "distress_device", f"{DISTRESS_PREFIXES[s[:3]]} (distress device) transmitting"
    if s.startswith("111") and len(s) == 9:
        return None  # SAR aircraft
    if len(s) == 9 and s.startswith(("98", "99")):
        return None  # craft associated with a parent ship, aids to navigation
    if len(s) != 9:
        return "invalid_mmsi", f"MMSI {mmsi} does not have nine digits"
    mid = int(s[:3])
    if not 201 <= mid <= 775:
        return "invalid_mmsi", f"MMSI {mmsi} has no ship MID (first three digits {mid} outside 201–775)"
    if mid not in COUNTRY_MAPPING:
        return "invalid_mmsi", f"MMSI {mmsi}: MID {mid} is not allocated to any country"
    return None


class IdentityGate:
    """Per-vessel kinematic state in ``state`` keyed by MMSI."""

    name = "identity"

    def __init__(self, settings: IdentitySettings, tracker: Tracker, state: State | None = None,
                 land: LandMask | None = None) -> None:
        self.s = settings
        self.alerts = AlertBuilder(tracker)
        self.tracker = tracker
        self.state: State = state if state is not None else {}
        self.land = land if land is not None else (LandMask(settings.land_margin_m) if settings.land_check else None)
        self.min_jump_m = settings.min_jump_nm * M_PER_NM
        self._by_type = settings.max_speed_by_type_kn
        self._default_limit = settings.max_speed_kn

    def _land_due(self, st: dict[str, Any], pos: Position) -> bool:
        """Land is checked at most every 10 min of event time or 5 km moved per vessel (it cannot change faster)."""
        last = st.get("land_check")
        if last is not None and pos.time_s - last[0] < 600 and fast_distance_m(last[1], last[2], pos.lat,
                                                                               pos.lon) < 5000:
            return False
        st["land_check"] = (pos.time_s, pos.lat, pos.lon)
        return True

    def _limit_kn(self, vessel: VesselState) -> float:
        return self._by_type.get(vessel.category, self._default_limit)

    def check(self, pos: Position, vessel: VesselState) -> tuple[bool, list[Alert]]:
        st: dict[str, Any] | None = self.state.get(pos.mmsi)
        out: list[Alert] = []
        if st is None:
            st = {"t": None, "lat": None, "lon": None, "alt": None, "flags": {}, "jumps": 0}
            problem = mmsi_problem(pos.mmsi)
            if problem is not None:
                out.append(self._identity(pos, vessel, problem[0], problem[1],
                                          "critical" if problem[0] == "distress_device" else "medium"))
        if (self.land is not None and not st["flags"].get("land") and self._land_due(st, pos)
                and self.land.on_land(pos.lat, pos.lon)):
            # reported once per vessel and not withheld: Natural Earth land covers rivers and
            # canals, where inland vessels really are (the jump check catches a spoofed relocation)
            st["flags"]["land"] = pos.time_s
            out.append(self._identity(pos, vessel, "on_land",
                                      f"position {latlon_phrase(pos.lat, pos.lon)} is well inside land "
                                      f"(or on an inland waterway)", "low"))
        t = pos.time_s
        if st["t"] is None:
            st["t"], st["lat"], st["lon"] = t, pos.lat, pos.lon
            self.state[pos.mmsi] = st
            return True, out
        dt = t - st["t"]
        dist = fast_distance_m(st["lat"], st["lon"], pos.lat, pos.lon)
        limit = self._limit_kn(vessel)
        # timestamps can be off by a minute or two (satellite batches, receiver clocks): allow for it
        reach_m = self.min_jump_m + limit * KN_TO_MS * ((dt if dt > 0.0 else 0.0) + self.s.time_slack_s)
        speed = None
        if dist > reach_m:
            speed = implied_speed_kn(dist, dt) if dt > 0 else (float("inf") if dist > self.min_jump_m else 0.0)
        if dist <= reach_m or speed is None or speed <= limit:
            st["t"], st["lat"], st["lon"] = t, pos.lat, pos.lon
            alt = st.get("alt")
            if alt is not None:
                if pos.time_s - alt["t"] > 3600:
                    st["alt"] = None  # the other place went quiet an hour ago: it was a one-off jump
                else:
                    st["main_seen_since_alt"] = True
            self.state[pos.mmsi] = st
            return True, out
        # a jump: does it agree with an earlier rejected fix (a second track)?
        alt = st.get("alt")
        if alt is not None:
            adt = pos.time_s - alt["t"]
            adist = fast_distance_m(alt["lat"], alt["lon"], pos.lat, pos.lon)
            areach = self.min_jump_m + limit * KN_TO_MS * (max(adt, 0.0) + self.s.time_slack_s)
            if adist <= areach:
                alt["n"] += 1
                alt.update(t=pos.time_s, lat=pos.lat, lon=pos.lon)
                if alt["n"] >= 2 and st.get("main_seen_since_alt"):
                    # two tracks both alive: one MMSI, two transmitters
                    if not st["flags"].get("two_places"):
                        st["flags"]["two_places"] = pos.time_s
                        d_nm = dist / M_PER_NM
                        out.append(self._identity(
                            pos, vessel, "same_mmsi_two_places",
                            f"the same MMSI is reported in two places {d_nm:.0f} nm apart at once "
                            f"({latlon_phrase(st['lat'], st['lon'])} and {latlon_phrase(pos.lat, pos.lon)})", "high",
                            extra={"other_position": {"lat": round(st["lat"], 5), "lon": round(st["lon"], 5)},
                                   "distance_nm": round(d_nm, 1)}))
                    self.state[pos.mmsi] = st
                    return False, out
                if alt["n"] >= 2:
                    # the new place is consistent and the old one has gone quiet: re-anchor the track
                    st.update(t=pos.time_s, lat=pos.lat, lon=pos.lon, alt=None)
                    self.state[pos.mmsi] = st
                    return True, out
                self.state[pos.mmsi] = st
                return False, out
        st["alt"] = {"t": pos.time_s, "lat": pos.lat, "lon": pos.lon, "n": 1}
        st["main_seen_since_alt"] = False
        st["jumps"] += 1
        out.append(self._jump(pos, vessel, st, dist, dt, speed, limit))
        self.state[pos.mmsi] = st
        return False, out

    def _jump(self, pos: Position, vessel: VesselState, st: dict[str, Any], dist: float, dt: float,
              speed: float | None, limit: float) -> Alert:
        d_nm = dist / M_PER_NM
        sp = "instantly" if speed is None or speed == float("inf") else f"{speed:.0f} kn implied"
        return self.alerts.make(
            type="position_jump", key=f"{pos.mmsi}:{iso(pos.time_s)}", status="open", severity="medium",
            time_s=pos.time_s, start_s=st["t"], end_s=pos.time_s, mmsis=[pos.mmsi], lat=pos.lat, lon=pos.lon,
            summary=(f"{vessel_phrase(vessel)} jumped {d_nm:.1f} nm in {format_duration(max(dt, 0))} ({sp}, "
                     f"limit {limit:g} kn) from {latlon_phrase(st['lat'], st['lon'])}; position not used"),
            details={"distance_nm": round(d_nm, 2), "dt_s": round(dt, 1),
                     "implied_speed_kn": None if speed in (None, float("inf")) else round(speed, 1),
                     "limit_kn": limit, "from": {"lat": round(st["lat"], 5), "lon": round(st["lon"], 5)}},
        )

    def _identity(self, pos: Position, vessel: VesselState, kind: str, text: str, severity: str,
                  extra: dict[str, Any] | None = None) -> Alert:
        return self.alerts.make(
            type="identity_anomaly", key=f"{pos.mmsi}:{kind}:{iso(pos.time_s)}", status="open", severity=severity,
            time_s=pos.time_s, start_s=pos.time_s, end_s=None, mmsis=[pos.mmsi], lat=pos.lat, lon=pos.lon,
            summary=f"{vessel_phrase(vessel)}: {text}", details={"anomaly": kind, **(extra or {})},
        )
