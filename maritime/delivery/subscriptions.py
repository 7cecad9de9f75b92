"""Which centre gets which alert."""

from __future__ import annotations

from maritime.config import Subscription
from maritime.models import SEVERITIES, Alert


def matches(alert: Alert, sub: Subscription) -> bool:
    """True when the alert passes every filter of the subscription."""
    f = sub.filters
    if f.types and alert.type not in f.types:
        return False
    if SEVERITIES.index(alert.severity) < SEVERITIES.index(f.min_severity):
        return False
    if f.zones and (alert.zone is None or alert.zone.id not in f.zones):
        return False
    if f.authorities and not alert.authorities() & set(f.authorities):
        # the zone that raised it, or the waters it lies in (a rendezvous in a centre's EEZ is its business)
        return False
    if f.bbox is not None:
        if alert.lat is None or alert.lon is None:
            return False
        lon0, lat0, lon1, lat1 = f.bbox
        if not (lon0 <= alert.lon <= lon1 and lat0 <= alert.lat <= lat1):
            return False
    return True


def stream_key(centre: str | None = None) -> str:
    """Redis stream of all alerts, or of one centre."""
    return "mda:alerts" if centre is None else f"mda:alerts:{centre}"


def channel(centre: str | None = None) -> str:
    """Pub/sub channel for live displays: all alerts, or one centre's."""
    return "mda:live" if centre is None else f"mda:live:{centre}"
