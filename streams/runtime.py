"""What the agents of one worker share (:class:`Runtime`), made by :func:`streams.app.create_app`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from maritime.delivery.base import Sink
from maritime.runtime.assembly import Assembly
from maritime.zones.index import ZoneIndex
from streams.settings import StreamSettings
from streams.tables import Tables
from streams.topics import Topics


@dataclass
class Runtime:
    """What the agents share in one worker: settings, zones, sinks, topics, tables, counters."""

    settings: StreamSettings
    zones: ZoneIndex | None
    sinks: list[Sink]
    topics: Topics
    tables: Tables
    #: the stages of every runner in this worker (the same assembly the embedded run uses)
    assembly: Assembly
    listeners: list[Any] = field(default_factory=list)
    dead_letter: Any = None  # an open text file for rejected input lines, or None
    #: what the heartbeat reports: counts, and CPU seconds of the core's work per stage (``*_busy_s``)
    counts: dict[str, float] = field(default_factory=lambda: {
        "lines": 0, "rejected": 0, "alerts": 0, "positions": 0, "replays_ended": 0,
        "decode_busy_s": 0.0, "vessels_busy_s": 0.0, "tiles_busy_s": 0.0})
