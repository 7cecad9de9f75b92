"""Alerts as lines for people at a console: ``maritime watch`` without ``--json``."""

from __future__ import annotations

import threading
from typing import TextIO

from maritime.detectors.base import latlon_phrase
from maritime.models import Alert, iso

#: ANSI colours by severity (used only when the stream is a terminal)
_COLOUR = {"critical": "\x1b[1;97;41m", "high": "\x1b[1;31m", "medium": "\x1b[33m", "low": "\x1b[36m", "info": ""}
_RESET = "\x1b[0m"


def alert_line(alert: Alert) -> str:
    """One readable line: event time, severity, type and status, vessel, place, summary.

    ``2025-05-14 08:59Z  HIGH      dark gap (open)   SEA BREEZE 376000500  14.500°N 66.000°W  <summary>``
    """
    t = iso(alert.time_s) or "?"
    when = t[:10] + " " + t[11:16] + "Z" if len(t) >= 16 else t
    v = alert.vessels[0] if alert.vessels else None
    who = "" if v is None else (f"{v.name} {v.mmsi}" if v.name else f"MMSI {v.mmsi}")
    if len(alert.vessels) > 1:
        who += f" +{len(alert.vessels) - 1}"
    where = latlon_phrase(alert.lat, alert.lon) if alert.lat is not None and alert.lon is not None else "-"
    what = f"{alert.type.replace('_', ' ')} ({alert.status})"
    # control characters from a vessel's broadcast name never reach the terminal
    text = f"{when}  {alert.severity.upper():<8}  {what:<26}  {who:<28}  {where:<20}  {alert.summary}"
    return "".join(ch if ch.isprintable() else "?" for ch in text)


class ConsoleSink:
    """Writes :func:`alert_line` for each alert to a text stream (coloured by severity on a terminal)."""

    def __init__(self, stream: TextIO, colour: bool | None = None) -> None:
        self.stream = stream
        self.colour = stream.isatty() if colour is None else colour
        self._lock = threading.Lock()

    def write(self, alert: Alert) -> None:
        """Print one alert."""
        line = alert_line(alert)
        if self.colour and _COLOUR.get(alert.severity):
            line = f"{_COLOUR[alert.severity]}{line}{_RESET}"
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        """Flush the stream (it is not ours to close)."""
        self.stream.flush()
