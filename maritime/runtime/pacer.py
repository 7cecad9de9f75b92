"""A recording fed at a chosen pace: event time runs at ``rate`` × wall time (``watch FILE --rate 10``), for
training and briefings on the live map, with pause, a new rate and a seek forward.

The pace is judged on event time (the records' own times), never on lines: an hour of a recording takes six
minutes at ×10 whatever its density. A seek forward runs at full speed until the recording reaches the time
asked for; the past cannot be sought (a stream is not rewound): replay the file again for that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from maritime.models import iso

logger = logging.getLogger(__name__)


class PacerError(ValueError):
    """A pace that cannot be set (a one-line reason)."""


class Pacer:
    """Holds the feed back until its event time is due at ``rate`` × wall time."""

    def __init__(self, rate: float) -> None:
        self.rate = self._check(rate)
        self.paused = False
        self.seek_to_s: float | None = None
        self.event_s: float | None = None
        self._anchor: tuple[float, float] | None = None  # (wall s, event s) the pace is measured from
        self._changed = asyncio.Event()

    @staticmethod
    def _check(rate: float) -> float:
        if not rate > 0 or rate > 1e6:
            raise PacerError(f"rate {rate}: a number above 0 (1: real time, 60: an hour a minute)")
        return float(rate)

    def _reanchor(self) -> None:
        self._anchor = (time.monotonic(), self.event_s) if self.event_s is not None else None

    def set_rate(self, rate: float) -> None:
        """A new pace from now on."""
        self.rate = self._check(rate)
        self._reanchor()
        self._changed.set()

    def pause(self) -> None:
        self.paused = True
        self._changed.set()

    def play(self) -> None:
        self.paused = False
        self._reanchor()
        self._changed.set()

    def seek(self, to_s: float) -> None:
        """Run at full speed until event time ``to_s`` (PacerError for a time already passed)."""
        if self.event_s is not None and to_s <= self.event_s:
            raise PacerError(f"{iso(to_s)} has passed (the recording is at {iso(self.event_s)}): a stream "
                             "cannot go back; replay the file again")
        self.seek_to_s = to_s
        self._changed.set()

    def state(self) -> dict[str, Any]:
        """For the page: rate, paused, the event time reached and a seek under way."""
        return {"rate": self.rate, "paused": self.paused, "event_time": iso(self.event_s) if self.event_s else None,
                "seeking_to": iso(self.seek_to_s) if self.seek_to_s else None}

    async def wait(self, event_s: float | None, stop: asyncio.Event | None = None) -> None:
        """Return once event time ``event_s`` (the latest processed) is due, or ``stop`` is set."""
        if event_s is None:
            return
        self.event_s = event_s
        if self.seek_to_s is not None:
            if event_s < self.seek_to_s:
                return  # full speed to the time asked for
            self.seek_to_s = None
            self._reanchor()
        if self._anchor is None:
            self._reanchor()
        while stop is None or not stop.is_set():
            self._changed.clear()
            if self.paused:
                ahead = 0.25  # look at the stop again now and then
            else:
                assert self._anchor is not None
                wall0, ev0 = self._anchor
                ahead = wall0 + (event_s - ev0) / self.rate - time.monotonic()
                if ahead <= 0 or self.seek_to_s is not None:
                    return
            with contextlib.suppress(TimeoutError):  # a pause, a new rate or a seek wakes it at once
                await asyncio.wait_for(self._changed.wait(), timeout=min(ahead, 0.25))
