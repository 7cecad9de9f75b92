"""Stage 1, decode: each source's lines through its own decoder and reorder window, out as rows to the vessel
partitions (with watermark ticks to all).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from maritime.config import Settings
from maritime.ingest.ais import AisDecoder
from maritime.ingest.decoders import ClockedDecoder, source_decoder
from maritime.ingest.errors import DecodeStats, Reason, Rejected
from maritime.ingest.eventtime import reorder_window
from maritime.models import BaseStationReport, Position, Record, VesselInfo
from maritime.runtime.partitioned.rows import (
    ProgressRow,
    Row,
    TickRow,
    lane_key,
    position_row,
    static_row,
    vessel_partition,
)

logger = logging.getLogger(__name__)

# -- stage 1: decode --------------------------------------------------------------------


class _Source:
    __slots__ = ("clocked", "decoder", "last_time", "next_tick", "reorder")

    def __init__(self, decoder: AisDecoder, reorder: Any, clocked: ClockedDecoder) -> None:
        self.decoder = decoder
        self.clocked = clocked
        self.reorder = reorder
        self.next_tick: float | None = None
        self.last_time: float | None = None


class DecodeRunner:
    """Decodes the sources of one raw partition; output rows per vessel partition."""

    def __init__(self, settings: Settings, partitions: int) -> None:
        self.s = settings
        self.partitions = partitions
        self.stats = DecodeStats()
        self.rejected: list[Rejected] = []
        self._sources: dict[str, _Source] = {}
        self._late_rows: dict[int, list[Row]] = {}
        self.late_positions = 0

    def _source(self, key: str, name: str, default_time_s: float | None) -> _Source:
        src = self._sources.get(key)
        if src is None:
            ing = self.s.ingest
            dec = source_decoder(self.s, name, default_time_s, self.rejected.append, self.stats)
            reorder = reorder_window(ing.reorder_window_of(name), on_late=lambda t, item: self._late(name, t, item))
            src = self._sources[key] = _Source(dec, reorder, ClockedDecoder(dec, self.s))
        return src

    def _late(self, name: str, time_s: float, item: Any) -> None:
        payload, records, order = item
        positions = [r for r in records if isinstance(r, Position)]
        if positions:
            # real, only late: forwarded to its vessel partition, where it may revise a dark gap
            text = payload.decode("ascii", "replace") if payload is not None else None
            for p in positions:
                row = position_row(p, text, order, late=True)
                self._late_rows.setdefault(vessel_partition(p.mmsi, self.partitions), []).append(row)
            self.late_positions += len(positions)
            return
        self.stats.rejected[Reason.LATE] += 1
        self.rejected.append(Rejected(Reason.LATE, "older than the reorder window allows", name,
                                      (payload or b"").decode("ascii", "replace"), time_s))

    def feed(self, source: str, lines: Sequence[bytes], recv_times: Sequence[float | None] | None = None,
             default_time_s: float | None = None, lane: int = 0, first_order: float | None = None,
             assigned_times: Sequence[float | None] | None = None) -> dict[int, list[Row]]:
        """Decode lines of one source; return released rows per vessel partition (ticks in every one).

        ``lane`` > 0: these lines are one lane of a source that the ingest split (see :func:`lane_key`); each
        lane has a decoder and a reorder window of its own and reports its own progress, and its records
        keep the source's name. ``first_order``: the order key of the first line (the source's rank in the
        replay × 1e12 + its line number), so that the vessel stage puts messages of the same time from
        different lanes back in the replay's order.
        """
        key = lane_key(source, lane)
        src = self._source(key, source, default_time_s)
        out: dict[int, list[Row]] = {}
        push = src.reorder.push
        if assigned_times is not None:
            # a recording, in event-time order (its sources' clocks judged at the ingest): decoded as it comes
            decode_line = src.decoder.decode_line
            for i, line in enumerate(lines):
                got = decode_line(line, None, assigned_times[i])
                if got is not None and got[1]:
                    released = push(got[1][0].time_s, (got[0], got[1], None if first_order is None
                                                       else first_order + i))
                    if released:
                        self._emit(src, released, out)
        else:
            # a live feed: each message judged against its source's clock first
            decode = src.clocked.decode
            for i, line in enumerate(lines):
                for t, _key, (payload, records) in decode(line, recv_times[i] if recv_times is not None else None):
                    released = push(t, (payload, records, None if first_order is None else first_order + i))
                    if released:
                        self._emit(src, released, out)
        self._take_late(out)
        # how far this source has got: the vessel stage merges several sources up to the slowest one
        for q in range(self.partitions):
            out.setdefault(q, []).append(ProgressRow(src.reorder.released_s, key))
        return out

    def horizon(self, source: str) -> float:
        """Newest event time of ``source`` (a :func:`lane_key`) decoded so far (every message up to it is in
        the reorder window)."""
        src = self._sources.get(source)
        return src.reorder.max_time_s if src is not None else float("-inf")

    def released(self, source: str, up_to_s: float) -> bool:
        """True when every message of ``source`` (a :func:`lane_key`) up to ``up_to_s`` has left this runner: the
        reorder window has passed it, and no multipart message is half read and no source clock holds a message
        back (those would be lost if the lines were acknowledged and a restarted runner began after them)."""
        src = self._sources.get(source)
        if src is None:
            return True
        if src.decoder.pending_fragments or src.clocked.clocks.held():
            return False
        return len(src.reorder) == 0 or src.reorder.released_s >= up_to_s

    def _take_late(self, out: dict[int, list[Row]]) -> None:
        for q, rows in self._late_rows.items():
            out.setdefault(q, []).extend(rows)
        self._late_rows = {}

    def end(self) -> tuple[dict[int, list[Row]], float | None]:
        """End of input: release everything held; return the rows and the last event time."""
        out: dict[int, list[Row]] = {}
        last: float | None = None
        for src in self._sources.values():
            for t, _key, (payload, records) in src.clocked.close():  # closes the decoder too
                self._emit(src, src.reorder.push(t, (payload, records, None)), out)
            self._emit(src, src.reorder.flush(), out)
            if src.last_time is not None and (last is None or src.last_time > last):
                last = src.last_time
        return out, last

    def _emit(self, src: _Source,
              released: Iterable[tuple[float, tuple[bytes | None, list[Record], float | None]]],
              out: dict[int, list[Row]]) -> None:
        n = self.partitions
        tick_s = self.s.tick_s
        for t, (payload, records, order) in released:
            src.last_time = t
            if src.next_tick is None:
                src.next_tick = t + tick_s
            elif t >= src.next_tick:
                src.next_tick = t + tick_s
                tick_order = None if order is None else order - 0.5  # just before the message that made it due
                for q in range(n):
                    out.setdefault(q, []).append(TickRow(t, tick_order))
            text = payload.decode("ascii", "replace") if payload is not None else None
            for rec in records:
                if isinstance(rec, Position):
                    out.setdefault(vessel_partition(rec.mmsi, n), []).append(position_row(rec, text, order))
                elif isinstance(rec, VesselInfo):
                    out.setdefault(vessel_partition(rec.mmsi, n), []).append(static_row(rec, text, order))
                elif isinstance(rec, BaseStationReport):
                    pass  # base stations are kept apart from vessels, as in the embedded run


