"""The contract every alert sink keeps."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from maritime.models import Alert


@runtime_checkable
class Sink(Protocol):
    """Where alerts go (JSON lines, Redis, webhooks, the live map)."""

    def write(self, alert: Alert) -> None:
        """Deliver (or queue) one alert."""
        ...

    def close(self) -> None:
        """Flush and release resources."""
        ...
