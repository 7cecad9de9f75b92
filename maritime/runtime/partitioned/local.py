"""All three stages in one process, without a broker: the reference the Faust runtime is tested against."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from maritime.config import Settings
from maritime.ingest.decoders import first_timestamp
from maritime.ingest.errors import DecodeStats, Rejected
from maritime.ingest.ordering import ordered_lines
from maritime.ingest.sources import SourceSpec
from maritime.models import Alert, parse_iso
from maritime.runtime.assembly import Assembly
from maritime.runtime.partitioned.decode import DecodeRunner
from maritime.runtime.partitioned.rows import (
    Barrier,
    EndRow,
    Lanes,
    Row,
    event_rows,
    lane_key,
    lane_partition,
    order_key,
    tile_partition,
    vessel_partition,
)
from maritime.runtime.partitioned.tiles import TileRunner
from maritime.runtime.partitioned.vessels import VesselRunner
from maritime.zones.index import ZoneIndex

logger = logging.getLogger(__name__)

# -- all three stages in one process ------------------------------------------------------


class LocalTopology:
    """The three stages in one process, with tables as dicts: the distributed data flow without a broker.

    Each :meth:`feed` is one ingest sequence number. :meth:`restart` throws
    the runners away and rebuilds them from the tables, as a Faust worker
    does from its changelogs. Used to test that partitioning and restarts
    change nothing, and as the reference the Faust runtime is compared with.
    """

    def __init__(self, settings: Settings, zones: ZoneIndex | None, partitions: int, tile_deg: float = 2.0,
                 assembly: Assembly | None = None) -> None:
        self.s = settings
        self.assembly = assembly if assembly is not None else Assembly(settings, zones)
        self.zones = zones
        self.partitions = partitions
        self.tile_deg = tile_deg
        self.alerts: list[Alert] = []
        self.sources: set[str] = set()
        self.seq = 0
        self.last_time: float | None = None
        self.vessel_table: dict[int, dict[str, Any]] = {}
        self.tile_table: dict[str, dict[str, Any]] = {}
        self.meta_table: dict[str, dict[str, Any]] = {}
        self.arrival_table: dict[int, dict[str, Any]] = {}
        self.decoders = [DecodeRunner(settings, partitions) for _ in range(partitions)]
        self._build()

    def _build(self) -> None:
        n = self.partitions
        a = self.assembly
        self.vessels = [VesselRunner(self.s, self.zones, q, n, self.tile_deg, assembly=a) for q in range(n)]
        self.tiles = [TileRunner(self.s, self.zones, q, self.tile_deg, assembly=a) for q in range(n)]
        self.v_bar = [Barrier(n) for _ in range(n)]
        self.t_bar = [Barrier(n) for _ in range(n)]
        # the arrivals stage: one partition, fed by every vessel partition (origins 0..n-1) and every tile
        # partition (n..2n-1)
        from maritime.runtime.arrival_watch import ArrivalWatch  # (it reads the rows this package defines)

        self.arrivals = ArrivalWatch(self.s, self.assembly) if self.s.arrivals.enabled else None
        self.a_bar = Barrier(2 * n)

    def restart(self) -> None:
        """Rebuild the detector stages from the tables (the decode stage keeps going)."""
        n = self.partitions
        self._build()
        for q in range(n):
            mine = [(m, d) for m, d in self.vessel_table.items() if vessel_partition(m, n) == q]
            self.vessels[q].restore(mine, self.meta_table.get(f"v{q}"))
            tiles = [(k, d) for k, d in self.tile_table.items()
                     if tile_partition(tuple(int(x) for x in k.split(":")), n) == q]  # type: ignore[arg-type]
            self.tiles[q].restore(tiles, self.meta_table.get(f"t{q}"))
            for bar, key in ((self.v_bar[q], f"v{q}"), (self.t_bar[q], f"t{q}")):
                bar.done_seq = self.meta_table.get(key, {}).get("seq", -1)
        if self.arrivals is not None:
            self.arrivals.restore(list(self.arrival_table.items()), self.meta_table.get("a"))
            self.a_bar.done_seq = self.meta_table.get("a", {}).get("seq", -1)

    def _step(self, per_raw: list[dict[int, list[Row]]]) -> None:
        n = self.partitions
        seq = self.seq
        fwd_all: list[dict[int, list[Row]]] = [{} for _ in range(n)]
        to_arrivals: list[list[Row]] = [[] for _ in range(2 * n)]
        for q in range(n):
            for origin in range(n):
                for _seq, rows, _tok in self.v_bar[q].add(origin, seq, per_raw[origin].get(q, [])):
                    got, fwd_all[q] = self.vessels[q].process(rows, dedup_across=len(self.sources) > 1)
                    self.alerts.extend(got)
            to_arrivals[q] = self.vessels[q].take_arrivals()
            for m, d in self.vessels[q].take_dirty().items():
                if d is None:
                    self.vessel_table.pop(m, None)
                else:
                    self.vessel_table[m] = json.loads(json.dumps(d))  # tables hold JSON
            self.meta_table[f"v{q}"] = json.loads(json.dumps({**self.vessels[q].meta(), "seq": seq}))
        for q in range(n):
            for origin in range(n):
                for _seq, rows, _tok in self.t_bar[q].add(origin, seq, fwd_all[origin].get(q, [])):
                    got = self.tiles[q].process(rows)
                    self.alerts.extend(got)
                    to_arrivals[n + q].extend(event_rows(got))
            for k, d in self.tiles[q].take_dirty().items():
                if d is None:
                    self.tile_table.pop(k, None)
                else:
                    self.tile_table[k] = json.loads(json.dumps(d))
            self.meta_table[f"t{q}"] = {**self.tiles[q].meta(), "seq": seq}
        if self.arrivals is not None:
            for origin in range(2 * n):
                for _seq, rows, _tok in self.a_bar.add(origin, seq, to_arrivals[origin]):
                    self.alerts.extend(self.arrivals.rows(rows))
            for m, d in self.arrivals.take_dirty().items():
                if d is None:
                    self.arrival_table.pop(m, None)
                else:
                    self.arrival_table[m] = json.loads(json.dumps(d))
            self.meta_table["a"] = json.loads(json.dumps({**self.arrivals.meta(), "seq": seq}))
        self.seq += 1

    def feed(self, source: str, lines: list[bytes], default_time_s: float | None = None, lane: int = 0,
             first_order: float | None = None, assigned_times: list[float | None] | None = None) -> None:
        """One ingest batch of one source (of one lane of it); ``assigned_times``: a recording's lines in
        event-time order, with the time each untimed line takes (:func:`maritime.ingest.ordering.ordered_lines`)."""
        key = lane_key(source, lane)
        self.sources.add(key)
        per_raw: list[dict[int, list[Row]]] = [{} for _ in range(self.partitions)]
        p = lane_partition(source, lane, self.partitions)
        per_raw[p] = self.decoders[p].feed(source, lines, None, default_time_s, lane=lane, first_order=first_order,
                                           assigned_times=assigned_times)
        self._step(per_raw)

    def end(self) -> None:
        """End of the replay: release what the decoders hold, final watermark, detectors' last word."""
        per_raw = []
        last: float | None = None
        for d in self.decoders:
            rows, t = d.end()
            per_raw.append(rows)
            if t is not None and (last is None or t > last):
                last = t
        if last is not None:
            for rows in per_raw:
                for q in range(self.partitions):
                    rows.setdefault(q, []).append(EndRow(last))
        self._step(per_raw)


def run_partitioned(batches: Iterable[tuple[str, list[Any], float | None]], settings: Settings,
                    zones: ZoneIndex | None, partitions: int, tile_deg: float = 2.0,
                    restart_every: int = 0, lanes: int = 1, assembly: Assembly | None = None) -> list[Alert]:
    """Run ``(source, lines, default_time_s)`` batches through a :class:`LocalTopology`; the alerts.

    ``lines``: raw lines as a live feed gives them, or ``(line, assigned_time_s)`` pairs of a recording in
    event-time order (:func:`recording_batches`).

    ``restart_every`` > 0 rebuilds the detector stages from their tables after that many batches;
    ``lanes`` > 1 splits each source over that many lanes as the ingest does (:class:`Lanes`);
    ``assembly``: the stages (watchlist, profiles) the embedded run would use with the same settings.
    """
    topo = LocalTopology(settings, zones, partitions, tile_deg, assembly)
    splitters: dict[str, Lanes] = {}
    defaults: dict[str, float | None] = {}
    rank: dict[str, int] = {}  # sources in the order they first come
    sent: dict[str, int] = {}  # lines of each source sent so far

    def send(source: str, lane: int, part: list[Any]) -> None:
        if part and isinstance(part[0], tuple):
            topo.feed(source, [ln for ln, _a in part], defaults[source], lane, order_key(rank[source], sent[source]),
                      [a for _ln, a in part])
        else:
            topo.feed(source, part, defaults[source], lane, order_key(rank[source], sent[source]))
        sent[source] += len(part)

    def line_of(item: Any) -> bytes:
        return item[0] if isinstance(item, tuple) else item

    for i, (source, lines, default_time) in enumerate(batches):
        defaults[source] = default_time
        rank.setdefault(source, len(rank))
        sent.setdefault(source, 0)
        for lane, part in splitters.setdefault(source, Lanes(lanes)).cut(list(lines), line_of=line_of):
            send(source, lane, part)
        if restart_every and (i + 1) % restart_every == 0:
            topo.restart()
    for source, splitter in splitters.items():
        for lane, part in splitter.rest():
            send(source, lane, part)
    topo.end()
    return topo.alerts


def recording_batches(spec: SourceSpec, settings: Settings, batch_lines: int = 2000,
                      stats: DecodeStats | None = None, on_reject: Callable[[Rejected], None] | None = None
                      ) -> Iterator[tuple[str, list[tuple[bytes, float | None]], float | None]]:
    """A recording as a replay reads it (in event-time order, its sources' clocks judged), in batches of
    ``(source, [(line, assigned_time_s)], default_time_s)`` for :func:`run_partitioned`."""
    ing = settings.ingest
    default = parse_iso(ing.start_time) if ing.start_time else first_timestamp(spec)
    start = default if default is not None else datetime.now(UTC).timestamp()
    lines = ((ln, a) for _t, ln, a in ordered_lines(spec, settings, start, on_reject or (lambda _r: None),
                                                    stats if stats is not None else DecodeStats()))
    while True:
        block = list(itertools.islice(lines, batch_lines))
        if not block:
            return
        yield spec.name, block, start
