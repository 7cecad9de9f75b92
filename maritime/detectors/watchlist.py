"""Vessels of interest: ``watchlist_hit`` when a listed vessel is heard, and the entries matching an alert.

A listed vessel raises ``watchlist_hit`` when it is first heard, and again
after it has been silent for ``absence_h``; every other alert involving a
listed vessel carries the matching entries in ``details.watchlist`` and a
severity raised by one step (:meth:`Watchlist.enrich`). Reading and writing
the lists (CSV, JSON, Redis) is :mod:`maritime.enrich.watchlist_store`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import msgspec

from maritime.detectors.base import AlertBuilder, DetectorBase, latlon_phrase, vessel_phrase
from maritime.detectors.tracker import Tracker, VesselState
from maritime.geo import format_duration
from maritime.models import SEVERITIES, Alert, Position, Severity, iso

KINDS = ("mmsi", "imo", "callsign", "name")


class Heard(msgspec.Struct, gc=False):
    """When a vessel was last heard (s): a listed vessel raises again only after ``absence_h`` unheard."""

    last: float


@dataclass(frozen=True, slots=True)
class WatchEntry:
    """One vessel of interest."""

    kind: str
    value: str
    reason: str
    source: str = ""
    severity: Severity = "high"
    expires_s: float | None = None

    def matches(self, v: VesselState) -> bool:
        """True when the vessel's identity matches this entry."""
        if self.kind == "mmsi":
            return str(v.mmsi) == self.value
        if self.kind == "imo":
            return v.imo is not None and str(v.imo) == self.value
        if self.kind == "callsign":
            return v.callsign is not None and v.callsign.upper() == self.value.upper()
        return v.name is not None and fnmatch.fnmatchcase(v.name.upper(), self.value.upper())

    def active(self, t: float) -> bool:
        """Not expired at event time ``t``."""
        return self.expires_s is None or t < self.expires_s

    def as_dict(self) -> dict[str, Any]:
        """As carried in alert details."""
        return {"kind": self.kind, "value": self.value, "reason": self.reason, "source": self.source,
                "severity": self.severity, "expires": iso(self.expires_s)}



class Watchlist(DetectorBase):
    """Entries indexed for matching; a detector of ``watchlist_hit`` and an alert enricher."""

    name = "watchlist"
    #: how a table entry of ``state`` is read back
    state_type = Heard

    def __init__(self, entries: Iterable[WatchEntry], tracker: Tracker, absence_h: float = 24.0,
                 state: dict[int, Heard] | None = None) -> None:
        self.tracker = tracker
        self.alerts = AlertBuilder(tracker)
        self.absence_s = absence_h * 3600
        self.state: dict[int, Heard] = state if state is not None else {}
        self._links: dict[int, int] = {}
        self.replace_entries(entries)

    def replace_entries(self, entries: Iterable[WatchEntry]) -> None:
        """Use a new list (a centre updated the shared watchlist)."""
        self.entries = list(entries)
        self._by_mmsi = {e.value: e for e in self.entries if e.kind == "mmsi"}
        self._others = [e for e in self.entries if e.kind != "mmsi"]
        self._cache: dict[int, tuple[tuple[Any, ...], list[WatchEntry]]] = {}

    def link(self, mmsi: int, earlier_mmsi: int) -> None:
        """Treat ``mmsi`` as the same vessel as ``earlier_mmsi`` (e.g. its IMO moved to a new MMSI)."""
        self._links[mmsi] = earlier_mmsi
        self._cache.pop(mmsi, None)

    def matching(self, v: VesselState, t: float) -> list[WatchEntry]:
        """Active entries matching the vessel (cached until its identity changes)."""
        key = (v.name, v.imo, v.callsign)
        got = self._cache.get(v.mmsi)
        if got is None or got[0] != key:
            found = [e for e in self._others if e.matches(v)]
            for m in (v.mmsi, self._links.get(v.mmsi)):
                e = self._by_mmsi.get(str(m)) if m is not None else None
                if e is not None:
                    found.insert(0, e)
            got = (key, found)
            self._cache[v.mmsi] = got
        return [e for e in got[1] if e.active(t)]

    # -- detector ----------------------------------------------------------------------

    def on_position(self, pos: Position, vessel: VesselState) -> list[Alert]:
        entries = self.matching(vessel, pos.time_s)
        st = self.state.get(pos.mmsi)
        if not entries:
            if st is not None:
                st.last = pos.time_s
            return []
        if st is not None and pos.time_s - st.last < self.absence_s:
            st.last = pos.time_s
            return []
        absent = None if st is None else pos.time_s - st.last
        self.state[pos.mmsi] = Heard(pos.time_s)
        sev = max((e.severity for e in entries), key=SEVERITIES.index)
        why = "; ".join(f"{e.reason}" + (f" ({e.source})" if e.source else "") for e in entries)
        again = f" again after {format_duration(absent)} unheard" if absent is not None else ""
        return [self.alerts.make(
            type="watchlist_hit", key=f"{pos.mmsi}:{iso(pos.time_s)}", status="open", severity=sev,
            time_s=pos.time_s, start_s=pos.time_s, end_s=None, mmsis=[pos.mmsi], lat=pos.lat, lon=pos.lon,
            summary=f"Vessel of interest {vessel_phrase(vessel)} heard{again} at "
                    f"{latlon_phrase(pos.lat, pos.lon)}: {why}",
            details={"watchlist": [e.as_dict() for e in entries]},
        )]

    def forget(self, mmsi: int) -> None:
        """Drop what is cached for an evicted vessel."""
        self._cache.pop(mmsi, None)

    # -- enrichment ---------------------------------------------------------------------

    def enrich(self, alert: Alert) -> Alert:
        """The alert with matching entries in ``details.watchlist`` and severity raised one step."""
        if alert.type == "watchlist_hit" or not self.entries:
            return alert
        hits = []
        for ref in alert.vessels:
            v = self.tracker.vessels.get(ref.mmsi)
            if v is not None:
                hits += self.matching(v, alert.time_s)
        if not hits:
            return alert
        sev = SEVERITIES[min(len(SEVERITIES) - 1, SEVERITIES.index(alert.severity) + 1)]
        details = {**alert.details, "watchlist": [e.as_dict() for e in hits]}
        return replace(alert, severity=sev, details=details,
                       summary=alert.summary + f" — vessel of interest: {hits[0].reason}")
