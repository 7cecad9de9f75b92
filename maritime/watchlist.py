"""Vessels of interest: shared watchlists, ``watchlist_hit`` alerts, and enrichment of other alerts.

A watchlist is a CSV (header ``kind,value,reason,source,severity,expires``)
or a JSON list of objects with the same keys. ``kind`` is ``mmsi``, ``imo``,
``callsign`` or ``name`` (a case-insensitive shell-style pattern such as
``*DRAGON*``); ``expires`` is an ISO date or time (empty: never).

A listed vessel raises ``watchlist_hit`` when it is first heard, and again
after it has been silent for ``absence_h``; every other alert involving a
listed vessel carries the matching entries in ``details.watchlist`` and a
severity raised by one step.
"""

from __future__ import annotations

import csv
import fnmatch
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from maritime.detectors.base import AlertBuilder, State, latlon_phrase, vessel_phrase
from maritime.geo import format_duration
from maritime.models import SEVERITIES, Alert, Position, iso, parse_iso
from maritime.tracker import Tracker, VesselState

logger = logging.getLogger(__name__)

KINDS = ("mmsi", "imo", "callsign", "name")


class WatchlistError(Exception):
    """A watchlist file that cannot be used; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class WatchEntry:
    """One vessel of interest."""

    kind: str
    value: str
    reason: str
    source: str = ""
    severity: str = "high"
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


def _entry(row: dict[str, Any], where: str) -> WatchEntry:
    kind = str(row.get("kind") or "").strip().lower()
    value = str(row.get("value") or "").strip()
    if kind not in KINDS:
        raise WatchlistError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if not value:
        raise WatchlistError(f"{where}: empty value")
    if kind in ("mmsi", "imo") and not value.isdigit():
        raise WatchlistError(f"{where}: {kind} must be digits, not {value!r}")
    reason = str(row.get("reason") or "").strip()
    if not reason:
        raise WatchlistError(f"{where}: a reason is needed (why the vessel is of interest)")
    severity = str(row.get("severity") or "high").strip().lower()
    if severity not in SEVERITIES:
        raise WatchlistError(f"{where}: severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    expires = str(row.get("expires") or "").strip()
    try:
        expires_s = parse_iso(expires) if expires else None
    except ValueError:
        raise WatchlistError(f"{where}: expires is not an ISO date or time: {expires!r}") from None
    return WatchEntry(kind, value, reason, str(row.get("source") or "").strip(), severity, expires_s)


def load_watchlist(path: str | Path) -> list[WatchEntry]:
    """Entries of a CSV or JSON watchlist; raises :class:`WatchlistError` naming the file and line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise WatchlistError(f"{p}: cannot be read ({err.strerror})") from None
    if p.suffix.lower() == ".json":
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as err:
            raise WatchlistError(f"{p}:{err.lineno}: not valid JSON ({err.msg})") from None
        if not isinstance(rows, list):
            raise WatchlistError(f"{p}: a JSON watchlist is a list of entries")
        return [_entry(r if isinstance(r, dict) else {}, f"{p}: entry {i}") for i, r in enumerate(rows)]
    reader = csv.DictReader(text.splitlines())
    missing = {"kind", "value", "reason"} - set(reader.fieldnames or [])
    if missing:
        raise WatchlistError(f"{p}:1: header lacks {', '.join(sorted(missing))} (kind,value,reason,source,severity,"
                             "expires)")
    return [_entry(row, f"{p}:{n}") for n, row in enumerate(reader, start=2) if any((v or "").strip()
                                                                                     for v in row.values())]


def save_watchlist(path: str | Path, entries: Iterable[WatchEntry]) -> None:
    """Write entries as CSV."""
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["kind", "value", "reason", "source", "severity", "expires"])
        for e in entries:
            w.writerow([e.kind, e.value, e.reason, e.source, e.severity, iso(e.expires_s) or ""])


REDIS_KEY = "mda:watchlist"


def redis_entries(url: str) -> list[WatchEntry]:
    """The shared watchlist centres keep in Redis (hash ``mda:watchlist``: ``kind:value`` → entry JSON)."""
    import redis

    client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)
    try:
        rows: dict[str, str] = client.hgetall(REDIS_KEY)  # type: ignore[assignment]
    finally:
        client.close()
    return [_entry(json.loads(v), f"redis {REDIS_KEY} {k}") for k, v in sorted(rows.items())]


def redis_put(url: str, entry: WatchEntry) -> None:
    """Add or replace an entry of the shared Redis watchlist."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        d = entry.as_dict()
        d["expires"] = d["expires"] or ""
        client.hset(REDIS_KEY, f"{entry.kind}:{entry.value}", json.dumps(d))
    finally:
        client.close()


def redis_remove(url: str, kind: str, value: str) -> bool:
    """Remove an entry of the shared Redis watchlist; False when it was not there."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        return bool(client.hdel(REDIS_KEY, f"{kind}:{value}"))
    finally:
        client.close()


class Watchlist:
    """Entries indexed for matching; a detector of ``watchlist_hit`` and an alert enricher."""

    name = "watchlist"

    def __init__(self, entries: Iterable[WatchEntry], tracker: Tracker, absence_h: float = 24.0,
                 state: State | None = None) -> None:
        self.tracker = tracker
        self.alerts = AlertBuilder(tracker)
        self.absence_s = absence_h * 3600
        self.state: State = state if state is not None else {}
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
                st["last"] = pos.time_s
            return []
        if st is not None and pos.time_s - st["last"] < self.absence_s:
            st["last"] = pos.time_s
            return []
        absent = None if st is None else pos.time_s - st["last"]
        self.state[pos.mmsi] = {"last": pos.time_s}
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

    def on_watermark(self, watermark_s: float) -> list[Alert]:
        """Nothing is due on time alone."""
        return []

    def finish(self, end_s: float) -> list[Alert]:
        """Nothing to close."""
        return []

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
