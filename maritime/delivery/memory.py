"""Sinks that keep alerts in memory: every record (:class:`MemorySink`), or the newest record of each event
(:class:`LatestSink`), for replay maps, tables and tests."""

from __future__ import annotations

from typing import Any

from maritime.models import Alert


class MemorySink:
    """Keeps every alert record it is given, in order, in ``alerts``."""

    def __init__(self, into: list[Any] | None = None) -> None:
        self.alerts: list[Any] = into if into is not None else []

    def write(self, alert: Alert) -> None:
        """Keep the record."""
        self.alerts.append(alert)

    def close(self) -> None:
        """Nothing to release."""


class LatestSink:
    """Keeps the newest record of each event, as contract JSON, by alert id."""

    def __init__(self) -> None:
        self.latest: dict[str, dict[str, Any]] = {}

    def write(self, alert: Alert) -> None:
        """Keep the record in place of the event's older ones."""
        self.latest[alert.id] = alert.as_dict()

    def close(self) -> None:
        """Nothing to release."""
