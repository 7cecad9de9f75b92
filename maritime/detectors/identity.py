"""Identity and kinematics: position jumps, one MMSI in two places, invalid MMSIs, fixes on land.

This is a *gate*: it runs before the other detectors, and a position it
rejects (a jump, a second vessel using the same MMSI) is not fed to them as
if it were real. A fix well inside land is reported once per vessel but kept
(Natural Earth land covers rivers and canals, where inland vessels are).

Each MMSI's fixes are split into tracks, as Global Fishing Watch's segmenter
does: a fix joins the track it can have come from (within the type's
maximum speed over the time apart, widened by the time uncertainty of a
satellite or aggregator report), else it opens a new track.

- ``position_jump``: a fix that fits no track, at an implied speed above a
  plausible limit (50 kn, lower by ship type) over more than ``min_jump_nm``.
  Two consecutive fixes that agree with each other but not with the track
  re-anchor it when the old track has gone quiet (the old track was wrong).
- ``identity_anomaly`` ``shared_mmsi``: two tracks alive at once (several
  transmitters on one MMSI, typically a factory default such as 1193046):
  one alert per episode (``open``, ``update`` as more names and places are
  seen, ``closed`` after ``track_quiet_s`` with one track), and no jumps;
  only the first track reaches the detectors.
- ``identity_anomaly``: an MMSI that is not a ship's (a factory default, MID
  outside 201–775, wrong length); AIS-SART / MOB / EPIRB devices
  (970/972/974), reported as distress devices; positions well inside Natural
  Earth 10 m land.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pyais.constants import COUNTRY_MAPPING

from maritime.config import IdentitySettings
from maritime.detectors.base import AlertBuilder, LandMask, VesselHooks, latlon_phrase, vessel_phrase
from maritime.detectors.state import IdentityState, SharedEpisode, Track
from maritime.detectors.tracker import Tracker, VesselState
from maritime.geo import KN_TO_MS, M_PER_NM, fast_distance_m, format_duration, implied_speed_kn
from maritime.models import DISTRESS_PREFIXES, Alert, Position, Severity, Status, iso

#: MMSIs that transponders leave the factory with or that installers type in: many transmitters share them
#: (1193046 is 0x123456)
DEFAULT_MMSIS: frozenset[int] = frozenset(
    {0, 1193046, 1234567, 12345678, 123456789, 987654321, 100000000, 200000000}
    | {int(str(d) * 9) for d in range(1, 10)})


def mmsi_problem(mmsi: int) -> tuple[str, str] | None:
    """``(kind, explanation)`` when an MMSI sending positions is not a valid ship MMSI, else None."""
    if mmsi in DEFAULT_MMSIS:
        return "default_mmsi", (f"MMSI {mmsi} is a factory or placeholder number that many transmitters share; "
                                f"its reports are split into one track per transmitter")
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


def _quiet_path(state: dict[int, IdentityState], by_type: dict[str, float], default_limit: float, min_jump_m: float,
                slack_s: float, land: LandMask | None) -> Any:
    """The typed core's ``IdentityQuiet`` on the gate's state, or None; with the land mask's region and cells, so
    that a fix due a land check is judged in C when it is surely at sea."""
    from maritime.core import quiet_path

    core = quiet_path()
    if core is None:
        return None
    if land is None:
        return core.IdentityQuiet(state, by_type, default_limit, min_jump_m, slack_s, False, KN_TO_MS)
    return core.IdentityQuiet(state, by_type, default_limit, min_jump_m, slack_s, True, KN_TO_MS, land.region,
                              land.index.cells, land.index.cell_deg, land.index.sub_cells, land.index.sub_deg)


class IdentityGate(VesselHooks):
    """Per-vessel kinematic state in ``state`` keyed by MMSI."""

    name = "identity"
    #: how a table entry of ``state`` is read back
    state_type: ClassVar[Any] = IdentityState

    def __init__(self, settings: IdentitySettings, tracker: Tracker, state: dict[int, IdentityState] | None = None,
                 land: LandMask | None = None) -> None:
        self.s = settings
        self.alerts = AlertBuilder(tracker)
        self.tracker = tracker
        self.state: dict[int, IdentityState] = state if state is not None else {}
        self.land = land if land is not None else (
            LandMask(settings.land_margin_m, settings.land_region) if settings.land_check else None)
        self.min_jump_m = settings.min_jump_nm * M_PER_NM
        self._slack_s = settings.time_slack_s
        self._by_type = settings.max_speed_by_type_kn
        self._default_limit = settings.max_speed_kn
        #: the typed core's quiet path (a fix that fits the MMSI's one track), None when not built
        self.quiet = _quiet_path(self.state, self._by_type, self._default_limit, self.min_jump_m, self._slack_s,
                                 self.land)
        self._quiet: Any = self.quiet.take if self.quiet is not None else None

    def _land_due(self, st: IdentityState, pos: Position) -> bool:
        """Land is checked at most every 10 min of event time or 5 km moved per vessel (it cannot change faster)."""
        last = st.land_check
        if last is not None and pos.time_s - last[0] < 600 and fast_distance_m(last[1], last[2], pos.lat,
                                                                               pos.lon) < 5000:
            return False
        st.land_check = (pos.time_s, pos.lat, pos.lon)
        return True

    def holds(self, mmsi: int) -> bool:
        """Whether ``mmsi`` has an open shared-MMSI episode (kept until it closes)."""
        st = self.state.get(mmsi)
        return st is not None and st.shared is not None

    def forget(self, mmsi: int) -> None:
        """Drop the tracks of an evicted vessel."""
        self.state.pop(mmsi, None)

    def check(self, pos: Position, vessel: VesselState) -> tuple[bool, list[Alert]]:
        quiet = self._quiet
        if quiet is not None and quiet(pos, vessel):
            return True, []  # taken in C, as below (maritime.core.quiet.IdentityQuiet)
        st = self.state.get(pos.mmsi)
        out: list[Alert] = []
        if st is None:
            st = self.state[pos.mmsi] = IdentityState()
            problem = mmsi_problem(pos.mmsi)
            if problem is not None:
                out.append(self._identity(pos, vessel, problem[0], problem[1],
                                          "critical" if problem[0] == "distress_device" else "medium"))
                if problem[0] == "default_mmsi":
                    # the sharing seen later is the same event: it updates this alert
                    st.default_key = out[-1].id.split(":", 1)[1]
        if (self.land is not None and st.land_s is None and self._land_due(st, pos)
                and self.land.on_land(pos.lat, pos.lon)):
            # reported once per vessel and not withheld: Natural Earth land covers rivers and
            # canals, where inland vessels really are (the jump check catches a spoofed relocation)
            st.land_s = pos.time_s
            out.append(self._identity(pos, vessel, "on_land",
                                      f"position {latlon_phrase(pos.lat, pos.lon)} is well inside land "
                                      f"(or on an inland waterway)", "low"))
        t = pos.time_s
        err = self._time_err(st, pos) if pos.time_err_s > 0.0 or st.uncertain else 0.0
        tracks = st.tracks
        if not tracks:
            tracks.append(Track(t, pos.lat, pos.lon, err, 1, t))
            return True, out
        limit = self._by_type.get(vessel.category, self._default_limit)
        if len(tracks) == 1 and st.shared is None:
            # the common case: one track, and the fix fits it
            tr = tracks[0]
            dt = t - tr.t
            e = err if err > tr.err else tr.err
            if (fast_distance_m(tr.lat, tr.lon, pos.lat, pos.lon)
                    <= self.min_jump_m + limit * KN_TO_MS * ((dt if dt > 0.0 else -dt) + self._slack_s + e)):
                tr.t = t
                tr.lat = pos.lat
                tr.lon = pos.lon
                tr.err = err
                tr.n += 1
                return True, out
        self._forget_quiet(st, t, vessel, out)
        slack = self.s.time_slack_s
        best = -1
        best_dist = float("inf")
        for i, tr in enumerate(tracks):
            dist = fast_distance_m(tr.lat, tr.lon, pos.lat, pos.lon)
            # a report may have been sent up to its uncertainty before its stamp (satellite batches)
            reach = self.min_jump_m + limit * KN_TO_MS * (abs(t - tr.t) + slack + max(err, tr.err))
            if dist <= reach and dist < best_dist:
                best, best_dist = i, dist
                if i == 0:
                    break  # the established track wins when the fix fits it
        if best >= 0:
            tr = tracks[best]
            tr.t, tr.lat, tr.lon, tr.err, tr.n = t, pos.lat, pos.lon, err, tr.n + 1
            if best == 0:
                return True, out
            main = tracks[0]
            if main.t > tr.first or st.shared is not None or st.default_key:
                # both places stay alive: several transmitters share this MMSI; each keeps its own
                # track and the later ones are withheld, so no detector sees a teleporting ship
                self._shared(st, pos, vessel, out)
                return False, out
            # the new place is consistent and the old one has gone quiet: re-anchor the track
            tracks.insert(0, tracks.pop(best))
            del tracks[1:]
            return True, out
        # fits no track: a jump, or one more transmitter on a shared MMSI
        if len(tracks) >= self.s.max_tracks:
            stalest = min(range(1, len(tracks)), key=lambda i: tracks[i].t)
            del tracks[stalest]
        tracks.append(Track(t, pos.lat, pos.lon, err, 1, t))
        if st.shared is not None or st.default_key:
            return False, out
        main = tracks[0]
        dist = fast_distance_m(main.lat, main.lon, pos.lat, pos.lon)
        dt = t - main.t
        speed = implied_speed_kn(dist, dt) if dt > 0 else float("inf")
        st.jumps += 1
        out.append(self._jump(pos, vessel, main, dist, dt, speed, limit, err))
        return False, out

    @staticmethod
    def _time_err(st: IdentityState, pos: Position) -> float:
        """The time uncertainty a fix is judged with (s): its own, or, once a vessel has sent two reports with
        uncertain times (a satellite or aggregator feed), the largest it has had, for each of its reports
        (in a delivered batch one report in six has a second that agrees with its stamp by chance)."""
        e = pos.time_err_s
        if e > 0.0:
            st.uncertain += 1
            if e > st.err:
                st.err = e
            return e
        return st.err if st.uncertain >= 2 else 0.0

    def _forget_quiet(self, st: IdentityState, t: float, vessel: VesselState, out: list[Alert]) -> None:
        """Drop second tracks unheard for ``track_quiet_s``; close a sharing episode quiet that long."""
        tracks = st.tracks
        quiet = self.s.track_quiet_s
        if len(tracks) > 1:
            keep = [tr for tr in tracks[1:] if t - tr.t <= quiet]
            if len(keep) != len(tracks) - 1:
                tracks[1:] = keep
        sh = st.shared
        if sh is not None and len(tracks) == 1 and t - sh.t > quiet:
            st.shared = None
            out.append(self._shared_alert(vessel, sh, "closed", sh.t))

    def _shared(self, st: IdentityState, pos: Position, vessel: VesselState, out: list[Alert]) -> None:
        """Open or extend the episode of one MMSI used by several transmitters (one alert per episode)."""
        sh = st.shared
        places = [(round(tr.lat, 3), round(tr.lon, 3)) for tr in st.tracks]
        names = list(vessel.names_seen) or ([vessel.name] if vessel.name else [])
        if sh is None:
            default_key = st.default_key
            st.shared = sh = SharedEpisode(pos.time_s, pos.time_s, places, names,
                                           default_key or f"{pos.mmsi}:shared_mmsi:{iso(pos.time_s)}")
            out.append(self._shared_alert(vessel, sh, "update" if default_key else "open", pos.time_s))
            return
        sh.t = pos.time_s
        new_names = [n for n in names if n not in sh.names]
        if (len(places) > len(sh.places) or new_names) and len(sh.names) < 8:
            # one more transmitter or one more name: the event is updated (not a new one)
            sh.places = places if len(places) > len(sh.places) else sh.places
            sh.names = sh.names + new_names
            out.append(self._shared_alert(vessel, sh, "update", pos.time_s))

    def _shared_alert(self, vessel: VesselState, sh: SharedEpisode, status: Status, time_s: float) -> Alert:
        names = ", ".join(sh.names) or "no names given"
        where = "; ".join(latlon_phrase(lat, lon) for lat, lon in sh.places)
        lat, lon = sh.places[0]
        return self.alerts.make(
            type="identity_anomaly", key=sh.key, status=status, severity="high", time_s=time_s,
            start_s=sh.start, end_s=time_s if status == "closed" else None, mmsis=[vessel.mmsi],
            lat=lat, lon=lon,
            summary=(f"MMSI {vessel.mmsi}: several transmitters share this MMSI ({names}), heard at "
                     f"{len(sh.places)} places at once: {where}; each kept as its own track"),
            details={"anomaly": "shared_mmsi", "names": list(sh.names),
                     "places": [{"lat": a, "lon": b} for a, b in sh.places]},
        )

    def _jump(self, pos: Position, vessel: VesselState, main: Track, dist: float, dt: float,
              speed: float | None, limit: float, err: float) -> Alert:
        d_nm = dist / M_PER_NM
        sp = "instantly" if speed is None or speed == float("inf") else f"{speed:.0f} kn implied"
        return self.alerts.make(
            type="position_jump", key=f"{pos.mmsi}:{iso(pos.time_s)}", status="open", severity="medium",
            time_s=pos.time_s, start_s=main.t, end_s=pos.time_s, mmsis=[pos.mmsi], lat=pos.lat, lon=pos.lon,
            summary=(f"{vessel_phrase(vessel)} jumped {d_nm:.1f} nm in {format_duration(max(dt, 0))} ({sp}, "
                     f"limit {limit:g} kn) from {latlon_phrase(main.lat, main.lon)}; position not used"),
            details={"distance_nm": round(d_nm, 2), "dt_s": round(dt, 1),
                     "implied_speed_kn": None if speed in (None, float("inf")) else round(speed, 1),
                     "limit_kn": limit, "from": {"lat": round(main.lat, 5), "lon": round(main.lon, 5)},
                     "time_uncertainty_s": max(err, main.err)},
        )

    def _identity(self, pos: Position, vessel: VesselState, kind: str, text: str, severity: Severity,
                  extra: dict[str, Any] | None = None) -> Alert:
        return self.alerts.make(
            type="identity_anomaly", key=f"{pos.mmsi}:{kind}:{iso(pos.time_s)}", status="open", severity=severity,
            time_s=pos.time_s, start_s=pos.time_s, end_s=None, mmsis=[pos.mmsi], lat=pos.lat, lon=pos.lon,
            summary=f"{vessel_phrase(vessel)}: {text}",
            details={"anomaly": kind, "source": pos.source, **(extra or {})},
        )
