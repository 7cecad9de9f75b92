"""The time model: one clock per source, and lines judged against their own source's clock.

A **source** is what stamps times: a receiver or station (the tag block's ``s:``), else the input stream
itself (a TCP or UDP connection, a file, a CSV's source column). Receivers hours apart, or a satellite
provider delivering in batches, each keep their own clock: they never make each other's lines late or
outliers.

A source's **clock** is the newest time it has been seen to keep. No single line sets or moves it:

- **start**: the clock starts at the median of the source's first ``start_lines`` timed messages; those
  of them far from that median are outliers (a far-future stamp as the first line of a recording moves
  nothing);
- **running**: a timed message within ``max_jump_s`` after the clock, or ``max_behind_s`` before it (a
  late satellite report is real), is accepted and moves the clock forward;
- **jump**: a message farther away is held as a candidate. Each timed message after it votes: nearer the
  candidates than the clock, it joins them; nearer the clock, the candidates were outliers and are
  quarantined. The clock jumps only when ``confirm`` consecutive timed messages of the same source are
  candidates (a recording of another day appended; a sparse source after a long silence). A message with no
  time of its own in between ends the run. When the input ends on candidates that nothing contradicted
  (forward in time, in order, within ``max_gap_s``), they are accepted: a sparse source's last reports;
- **lone times**: a source with fewer than ``start_lines`` timed messages (a line whose tag block has no
  ``s:`` is a source of its own) has nothing of its own to judge them by. Its clock starts on them only when
  their median lies within ``max_gap_s`` of the span a confirmed clock (one started on ``start_lines``) has
  kept; farther, they are quarantined (one line stamped 2096 would otherwise move the watermark decades on,
  and eviction would empty the run). With no confirmed clock in the run they start it as before;
- **untimed** messages (no time of their own: a time borrowed from an earlier line) take their source's
  clock, never the time of an outlier before them.

A message that is not accepted is **quarantined**: counted, handed to ``on_quarantine`` (the dead-letter
file, reason ``time_outlier``), and never released, so it moves nothing downstream: not the watermark, not
the map's timeline, not eviction or outage detection.

The **watermark** of a feed is derived from the accepted messages only (replays read bounded inputs in
event-time order, :mod:`maritime.ingest.ordering`; live feeds release them through a bounded reorder window,
flushed when the feed is quiet). What is **late** is a message older than what the run already released.
"""

from __future__ import annotations

import itertools
import logging
import statistics
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

#: (time s, whether the time is the message's own, the message) as judged
Judged = tuple[float, bool, Any]


@dataclass(slots=True)
class _Clock:
    """One source's clock and the messages it holds back."""

    ref: float | None = None
    #: the oldest time it accepted (with ``ref``, the span of time the source is known to keep)
    low: float | None = None
    #: started on ``start_lines`` timed messages (a clock other sources' lone times are judged against)
    confirmed: bool = False
    #: messages seen before the clock started (held until ``start_lines`` timed ones are in)
    start: list[Judged] | None = field(default_factory=list)
    timed_at_start: int = 0
    #: far-away timed messages in a row, waiting to confirm a jump
    candidates: list[Judged] = field(default_factory=list)
    accepted: int = 0
    quarantined: int = 0


class SourceClocks:
    """Judges each message against its own source's clock (module docstring).

    ``push`` returns the messages it releases now, as ``(time_s, message)``: accepted ones, untimed ones with
    their source's clock as time; ``flush`` releases what is still held at the end of the input. The order of
    release can differ from the order of arrival (held messages come later): callers put them in event-time
    order afterwards.
    """

    def __init__(self, *, max_jump_s: float = 6 * 3600.0, max_behind_s: float = 48 * 3600.0, confirm: int = 5,
                 start_lines: int = 5, max_gap_s: float = 7 * 86_400.0, max_start_held: int = 200,
                 on_quarantine: Callable[[Hashable, float, Any, str], None] | None = None) -> None:
        self.max_jump_s = max_jump_s
        self.max_behind_s = max(max_behind_s, max_jump_s)
        self.confirm = max(1, confirm)
        self.start_lines = max(1, start_lines)
        self.max_gap_s = max_gap_s
        #: a clock that has held this many messages before ``start_lines`` timed ones came starts on what it has
        #: (a source with few or no times of its own: a busy feed of plain lines is not held until it falls quiet)
        self.max_start_held = max(self.start_lines, max_start_held)
        self.on_quarantine = on_quarantine
        self.clocks: dict[Hashable, _Clock] = {}

    # -- judging ----------------------------------------------------------------------------

    def push(self, source: Hashable, time_s: float, timed: bool, message: Any) -> list[tuple[float, Any]]:
        """Judge one message of ``source``; return the messages released now."""
        clock = self.clocks.get(source)
        if clock is None:
            clock = self.clocks[source] = _Clock()
        out: list[tuple[float, Any]] = []
        if clock.start is not None:
            clock.start.append((time_s, timed, message))
            if timed:
                clock.timed_at_start += 1
            if clock.timed_at_start >= self.start_lines or len(clock.start) >= self.max_start_held:
                self._start(source, clock, out)
            return out
        self._judge(source, clock, time_s, timed, message, out)
        return out

    def flush(self) -> list[tuple[float, Any]]:
        """End of input: clocks that never got their first lines start on what they have; unconfirmed
        candidates are quarantined."""
        out: list[tuple[float, Any]] = []
        for source, clock in self.clocks.items():
            if clock.start:  # (empty: a source whose lone times were quarantined waits for its next ones)
                self._start(source, clock, out)
            far = clock.candidates
            ref = clock.ref
            if far and ref is not None and far[0][0] > ref and far[-1][0] - ref <= self.max_gap_s \
                    and all(b[0] >= a[0] for a, b in itertools.pairwise(far)):
                # the input ended on a silence and what came after it, nothing contradicting: a sparse source
                self._accept_candidates(clock, out)
            self._drop_candidates(source, clock, "its clock never confirmed the jump")
        return out

    def held(self) -> int:
        """Messages held back now (before a clock started, or waiting to confirm a jump), over every source."""
        return sum(len(c.start or ()) + len(c.candidates) for c in self.clocks.values())

    def ref(self, source: Hashable) -> float | None:
        """The clock of ``source`` (its newest accepted time), or None before it started."""
        clock = self.clocks.get(source)
        return clock.ref if clock is not None else None

    @property
    def quarantined(self) -> int:
        """Messages quarantined so far, over every source."""
        return sum(c.quarantined for c in self.clocks.values())

    def _start(self, source: Hashable, clock: _Clock, out: list[tuple[float, Any]]) -> None:
        held = clock.start or []
        clock.start = None
        times = [t for t, timed, _m in held if timed]
        if times and len(times) < self.start_lines:
            far = self._far_from_every_clock(statistics.median_low(times))
            if far is not None:
                # a few times of a source of its own (a line with a tag block of its own, a stray
                # receiver), far from every source whose clock is known: a bad clock, not another day
                for t, timed, m in held:
                    if timed:
                        self._quarantine(source, clock, t, m, f"is a lone time of its source, {far}")
                    else:
                        clock.accepted += 1
                        out.append((t, m))
                clock.start = []  # the source starts again on the messages that follow, if any
                clock.timed_at_start = 0
                return
        if times:
            clock.confirmed = len(times) >= self.start_lines
            clock.ref = statistics.median_low(times)
            for t, timed, m in held:
                self._judge(source, clock, t, timed, m, out)
            return
        for t, _timed, m in held:  # a source with no time of its own: its lines keep what they were given
            clock.accepted += 1
            out.append((t, m))

    def _far_from_every_clock(self, time_s: float) -> str | None:
        """How far ``time_s`` lies from the nearest confirmed clock, when that is more than ``max_gap_s`` (the
        span each has kept, oldest to newest); None when it is nearer one, or no clock is confirmed."""
        nearest: float | None = None
        for c in self.clocks.values():
            if not c.confirmed or c.ref is None or c.low is None:
                continue
            d = c.low - time_s if time_s < c.low else time_s - c.ref if time_s > c.ref else 0.0
            if nearest is None or d < nearest:
                nearest = d
        if nearest is None or nearest <= self.max_gap_s:
            return None
        return f"{nearest / 86_400:,.0f} days from every other source's clock"

    def _judge(self, source: Hashable, clock: _Clock, time_s: float, timed: bool, message: Any,
               out: list[tuple[float, Any]]) -> None:
        ref = clock.ref
        if not timed:
            self._drop_candidates(source, clock, "a line with no time of its own came between")
            clock.accepted += 1
            out.append((ref if ref is not None else time_s, message))
            return
        far = clock.candidates
        if far and ref is not None and abs(time_s - far[-1][0]) >= abs(time_s - ref):
            self._drop_candidates(source, clock, "the next time of its source was back at its clock")
        if ref is None or (not far and -self.max_behind_s <= time_s - ref <= self.max_jump_s):
            if ref is None or time_s > ref:
                clock.ref = time_s
            if clock.low is None or time_s < clock.low:
                clock.low = time_s
            clock.accepted += 1
            out.append((time_s, message))
            return
        far.append((time_s, timed, message))
        if len(far) >= self.confirm:
            logger.info("source %s: its clock jumped from %s to %s (confirmed by %d consecutive timed messages)",
                        source, _iso(ref), _iso(far[-1][0]), len(far))
            self._accept_candidates(clock, out)

    def _accept_candidates(self, clock: _Clock, out: list[tuple[float, Any]]) -> None:
        for t, _timed, m in clock.candidates:
            clock.accepted += 1
            out.append((t, m))
            if clock.low is None or t < clock.low:
                clock.low = t
        clock.ref = clock.candidates[-1][0]
        clock.candidates = []

    def _drop_candidates(self, source: Hashable, clock: _Clock, why: str) -> None:
        if clock.candidates:
            for t, _timed, m in clock.candidates:
                self._quarantine(source, clock, t, m, f"far from its source's clock; {why}")
            clock.candidates.clear()

    def _quarantine(self, source: Hashable, clock: _Clock, time_s: float, message: Any, why: str) -> None:
        clock.quarantined += 1
        if self.on_quarantine is not None:
            self.on_quarantine(source, time_s, message, f"time {_iso(time_s)} {why} ({_iso(clock.ref)})")


def _iso(t: float | None) -> str:
    from maritime.models import iso

    return (iso(t) or "none") if t is not None else "not started"
