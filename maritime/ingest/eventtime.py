"""Event time: a bounded reorder window, duplicate detection by payload, and what a source's stamps are (received
or delivered times). Which source's clock a line is judged against: :mod:`maritime.ingest.clocks`."""

from __future__ import annotations

import heapq
import itertools
import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Final

from maritime.config import IngestSettings

logger = logging.getLogger(__name__)


class Reorder:
    """Bounded reorder buffer: releases items in event-time order once they are
    ``window_s`` older than the newest time seen. Items older than what was
    already released are late: handed to ``on_late`` and not released.

    Items that come in time order (a replay's sorted lines, most of a live feed) wait in a queue; the first
    one out of order turns what waits into a heap (a sorted queue is one already), which serves until it is
    empty. The order of release is the same either way: by time, then by arrival.
    """

    def __init__(self, window_s: float, on_late: Callable[[float, Any], None] | None = None) -> None:
        self.window_s = window_s
        self.on_late = on_late
        self._heap: list[tuple[float, int, Any]] = []
        #: items in time order while the heap is empty, and the newest time among them
        self._queue: deque[tuple[float, int, Any]] = deque()
        self._queue_s = float("-inf")
        self._seq = itertools.count()
        self.max_time_s = float("-inf")
        self.released_s = float("-inf")

    def push(self, time_s: float, item: Any) -> Sequence[tuple[float, Any]]:
        """Add one item; return those now released, oldest first."""
        if time_s < self.released_s:
            if self.on_late is not None:
                self.on_late(time_s, item)
            return ()
        heap = self._heap
        entry = (time_s, next(self._seq), item)
        if heap:
            heapq.heappush(heap, entry)
        elif time_s >= self._queue_s:
            self._queue.append(entry)
            self._queue_s = time_s
        else:  # out of order: what waits (sorted, so a heap as it is) and this one go to the heap
            heap.extend(self._queue)
            self._queue.clear()
            self._queue_s = float("-inf")
            heapq.heappush(heap, entry)
        if time_s > self.max_time_s:
            self.max_time_s = time_s
        limit = self.max_time_s - self.window_s
        out = []
        if heap:
            if heap[0][0] > limit:
                return ()
            pop = heapq.heappop
            while heap and heap[0][0] <= limit:
                t, _, it = pop(heap)
                out.append((t, it))
        else:
            queue = self._queue
            if queue[0][0] > limit:
                return ()
            popleft = queue.popleft
            while queue and queue[0][0] <= limit:
                t, _, it = popleft()
                out.append((t, it))
        self.released_s = out[-1][0]
        return out

    def flush(self) -> list[tuple[float, Any]]:
        """Release everything held (end of input)."""
        out = [(t, it) for t, _, it in (sorted(self._heap) if self._heap else self._queue)]
        self._heap.clear()
        self._queue.clear()
        self._queue_s = float("-inf")
        if out:
            self.released_s = out[-1][0]
        return out

    def __len__(self) -> int:
        return len(self._heap) + len(self._queue)


class PayloadWindow:
    """Payloads seen in the last ``window_s`` seconds of (roughly ordered) event time."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._seen: dict[bytes, float] = {}
        self._order: deque[tuple[float, bytes]] = deque()

    def seen(self, payload: bytes, time_s: float) -> bool:
        """True when ``payload`` was remembered within ``window_s`` of ``time_s`` (either side: a receiver
        whose clock runs behind stamps its copy earlier)."""
        t = self._seen.get(payload)
        return t is not None and -self.window_s <= time_s - t <= self.window_s

    def remember(self, payload: bytes, time_s: float) -> None:
        """Remember a decoded payload; forget those that left the window."""
        order = self._order
        seen = self._seen
        cutoff = time_s - self.window_s
        while order and order[0][0] < cutoff:
            t, p = order.popleft()
            if seen.get(p) == t:
                del seen[p]
        if payload not in seen:
            seen[payload] = time_s
            order.append((time_s, payload))


def reorder_window(window_s: float, on_late: Callable[[float, Any], None] | None = None) -> Any:
    """A :class:`Reorder`: the typed core's (:class:`maritime.core.lines.Reorder`, the same releases with its loop
    in C) when it is built, else this module's (the reference)."""
    from maritime.core import reorder as typed

    got = typed(window_s, on_late)
    return got if got is not None else Reorder(window_s, on_late)


def payload_window(window_s: float) -> Any:
    """A :class:`PayloadWindow`: the typed core's (:class:`maritime.core.lines.PayloadWindow`, the same answers
    and state with its loop in C) when it is built, else this module's (the reference)."""
    from maritime.core import payload_window as typed

    got = typed(window_s)
    return got if got is not None else PayloadWindow(window_s)


class Deduplicator:
    """Drops a message whose payload was already seen within ``window_s`` of event time
    (the same transmission heard by several receivers). Input must be in time order.
    """

    def __init__(self, window_s: float) -> None:
        #: a :class:`PayloadWindow` (the typed core's when built)
        self.window: Any = payload_window(window_s)
        self.duplicates = 0

    def is_duplicate(self, payload: bytes, time_s: float) -> bool:
        """True (and counted) when ``payload`` was seen in the last ``window_s``."""
        if self.window.seen(payload, time_s):
            self.duplicates += 1
            return True
        self.window.remember(payload, time_s)
        return False

    def snapshot(self) -> list[list[Any]]:
        """The payloads in the window, as ``[[time_s, payload text], ...]``."""
        return [[t, p.decode("latin-1")] for t, p in self.window._order if self.window._seen.get(p) == t]

    def restore(self, snap: list[list[Any]]) -> None:
        """Take back what :meth:`snapshot` gave."""
        for t, p in snap:
            self.window.remember(p.encode("latin-1"), t)


#: how a source's timestamps relate to when each report was sent
TIME_QUALITIES = ("auto", "sent", "received", "delivered")


class SourceClock:
    """Judges one source's timestamps: the time each report was received, or the time a batch was delivered.

    Terrestrial receivers stamp a report as it arrives, so the report's own
    UTC second (AIS field "time stamp", 0-59) matches the stamp's second
    within a few seconds. Satellite and aggregator feeds stamp batches with
    their delivery time: the seconds then disagree for most reports, and a
    report may have been sent up to ``delivered_err_s`` before its stamp.

    With ``quality`` ``auto`` each report is judged on its own: one whose
    second disagrees with its stamp carries ``delivered_err_s`` of
    uncertainty. That is a function of the report alone, so one feed split
    over several decoders (lanes, workers) is judged the same. The source as
    a whole is also judged once, from its first ``min_reports`` reports, and
    the verdict logged. ``sent`` and ``received`` trust every stamp;
    ``delivered`` gives every report the uncertainty. Times are never
    changed here: the stamp stays the event time, the uncertainty travels
    with the position (``Position.time_err_s``).
    """

    AGREE_S: Final = 5  #: a stamp up to this many seconds after the report's second agrees (receiver latency)
    AHEAD_S: Final = 2  #: … or this many before it (a receiver clock running slightly behind)

    def __init__(self, source: str, quality: str = "auto", delivered_err_s: float = 3600.0,
                 min_reports: int = 30) -> None:
        if quality not in TIME_QUALITIES:
            raise ValueError(f"time quality {quality!r} is not one of {', '.join(TIME_QUALITIES)}")
        self.source = source
        self.quality = quality
        self.verdict: str | None = None if quality == "auto" else quality
        self.delivered_err_s = delivered_err_s
        self.min_reports = min_reports
        self.reports = 0
        self.disagree = 0

    def judge(self, time_s: float, second: int) -> tuple[float, float]:
        """``(time_s, uncertainty_s)`` for a report stamped ``time_s`` that gives ``second`` as its own."""
        q = self.quality
        if q == "sent" or q == "received":
            return time_s, 0.0
        if q == "delivered":
            return time_s, self.delivered_err_s
        if second >= 60:
            return time_s, 0.0
        offset = (int(time_s) - second) % 60
        late = self.AGREE_S < offset < 60 - self.AHEAD_S
        if self.verdict is None:
            self.reports += 1
            self.disagree += late
            if self.reports >= self.min_reports:
                self.verdict = "delivered" if self.disagree * 2 > self.reports else "received"
                logger.info("source %s: %d of %d reports' own UTC seconds disagree with their stamps: "
                            "timestamps look like %s times%s", self.source, self.disagree, self.reports,
                            self.verdict, f" (such reports are taken as sent up to {self.delivered_err_s:g} s "
                            "earlier)" if self.verdict == "delivered" else "")
        return time_s, self.delivered_err_s if late else 0.0


def source_clock(ingest: IngestSettings, source: str) -> SourceClock:
    """The clock judge for ``source`` as the settings say (its own time quality, else the default)."""
    return SourceClock(source, ingest.time_quality_of(source), ingest.delivered_uncertainty_s)


class SourceMerge:
    """Live feeds in event-time order with one clock and lateness per source (:mod:`maritime.ingest.clocks`).

    Each source has its own reorder window: what it releases is late only against its own clock, so a
    receiver hours behind another never makes the other's lines late, nor they its. The feed's watermark is
    the oldest release frontier of the sources heard within ``idle_s`` (wall clock): a source that goes
    quiet leaves it (said in the log) and rejoins when heard again. What the sources released is handed on
    once the watermark has passed it; an item older than what was handed on is late (``on_late``).
    """

    def __init__(self, window_s: float, idle_s: float = 300.0, on_late: Callable[[float, Any], None] | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        import time

        self.window_s = window_s
        self.idle_s = idle_s
        self.on_late = on_late
        self.now = clock or time.monotonic
        self.sources: dict[Any, Reorder] = {}
        self.heard: dict[Any, float] = {}
        self.quiet: set[Any] = set()
        self._heap: list[tuple[float, int, Any]] = []
        self._seq = itertools.count()
        self.released_s = float("-inf")

    def push(self, source: Any, time_s: float, item: Any) -> list[tuple[float, Any]]:
        """Add one item of ``source``; return what is handed on now, oldest first."""
        self.heard[source] = self.now()
        if source in self.quiet:
            self.quiet.discard(source)
            logger.info("source %s is heard again: it holds the watermark again", source)
        order = self.sources.get(source)
        if order is None:
            order = self.sources[source] = Reorder(self.window_s)
        if time_s < self.released_s:
            self._late(time_s, item)
            return []
        for t, it in order.push(time_s, item):
            heapq.heappush(self._heap, (t, next(self._seq), it))
        return self._release()

    def _late(self, time_s: float, item: Any) -> None:
        if self.on_late is not None:
            self.on_late(time_s, item)

    def watermark(self) -> float:
        """The oldest release frontier of the sources still heard (``inf`` when none holds it)."""
        now = self.now()
        frontier = float("inf")
        for source, order in self.sources.items():
            if now - self.heard.get(source, now) > self.idle_s:
                if source not in self.quiet:
                    self.quiet.add(source)
                    logger.info("source %s quiet for %.0f s: it no longer holds the watermark back", source,
                                now - self.heard[source])
                continue
            frontier = min(frontier, order.released_s)
        return frontier

    def _release(self) -> list[tuple[float, Any]]:
        heap = self._heap
        if not heap:
            return []
        mark = self.watermark()
        out = []
        while heap and heap[0][0] <= mark:
            t, _, it = heapq.heappop(heap)
            out.append((t, it))
        if out:
            self.released_s = out[-1][0]
        return out

    def flush(self) -> list[tuple[float, Any]]:
        """Hand on everything held (the end of the input, or a feed quiet for a while)."""
        for order in self.sources.values():
            for t, it in order.flush():
                heapq.heappush(self._heap, (t, next(self._seq), it))
        out = [(t, it) for t, _, it in sorted(self._heap)]
        self._heap.clear()
        if out:
            self.released_s = max(self.released_s, out[-1][0])
        return out

    def __len__(self) -> int:
        return len(self._heap) + sum(len(o) for o in self.sources.values())
