"""Keys, partitions, lanes, tiles and the compact rows between the stages; the barrier that merges upstream batches in
event-time order.
"""

from __future__ import annotations

import heapq
import logging
import math
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import msgspec

from maritime.config import Settings
from maritime.detectors.tracker import VesselState
from maritime.ingest.messages import new_position
from maritime.models import Position, VesselInfo

logger = logging.getLogger(__name__)


#: Row kinds, as they are tagged on the wire (the first element of each row's JSON array).
POS, STATIC, TICK, END, PROGRESS = "p", "s", "w", "e", "m"
#: a position that came after its source's reorder window (laid out as a position row): kept, it may revise
LATE = "l"
#: a position forwarded by the vessel stage to a tile, with the vessel's identity and the tile's key
TILE_POS = "t"
#: one vessel's part in an alert, forwarded by the detector stages to the arrivals stage
EVENT = "a"


# -- keys and partitions ----------------------------------------------------------------


def vessel_partition(mmsi: int, partitions: int) -> int:
    """The vessel partition of an MMSI (stable across processes and Python versions)."""
    return mmsi % partitions


def source_partition(source: str, partitions: int) -> int:
    """The raw partition a source's lines go to (all of one source in one place: multipart needs it)."""
    return zlib.crc32(source.encode("utf-8")) % partitions


def tile_of(lat: float, lon: float, tile_deg: float) -> tuple[int, int]:
    """The tile (row, column) containing a point."""
    return math.floor(lat / tile_deg), math.floor(lon / tile_deg)


def tile_key(tile: tuple[int, int]) -> str:
    """A tile as a table key: ``"row:col"``."""
    return f"{tile[0]}:{tile[1]}"


_TAG_TIME = re.compile(rb"(?:^\\|,)c:(\d{9,13})")
_TRAILING_EPOCH = re.compile(rb",(\d{10})(?:\.\d+)?\s*$")
_FRAGMENT = re.compile(rb"[!$][A-Z]{2}VD[MO],(\d),(\d),")


def line_time(line: bytes) -> float | None:
    """The event time a line carries (tag block ``c:``, s or ms; or an epoch after the checksum), if any.

    Only for pacing, merging recordings and cutting lanes; the decoder decides the real time.
    """
    m = _TAG_TIME.search(line, 0, 120) if line[:1] == b"\\" else None
    if m is None:
        m = _TRAILING_EPOCH.search(line)
    if m is None:
        return None
    v = int(m.group(1))
    return v / 1000.0 if v > 10_000_000_000 else float(v)


def lane_may_start(prev: bytes, line: bytes, timed: bool = False) -> bool:
    """True when a new lane may begin at ``line`` and decode it as it would after ``prev``.

    It must carry its own time (``timed``: the feed gives each line a receive time) because a line
    without one takes the time of the line before it; it must not be a later fragment of a multipart
    message; and it must not follow a ``$PGHP`` line, which times the line after it.
    """
    if b"$PGHP" in prev[:200]:
        return False
    if not timed and line_time(line) is None:
        return False
    m = _FRAGMENT.search(line, 0, 250)
    return m is None or m.group(2) == b"1"


class Lanes:
    """Splits one source's consecutive batches over ``lanes`` lanes, round robin, so that one busy feed
    is decoded by several workers (each lane has its own decoder, see :meth:`DecodeRunner.feed`).

    A batch ends only where the next lane may start (:func:`lane_may_start`); the lines after that
    point wait for the next batch. Where a batch has no such point (a feed without times) it stays in
    the lane it is in, which is always right.
    """

    def __init__(self, lanes: int) -> None:
        self.lanes = max(1, lanes)
        self.lane = 0
        self._carry: list[Any] = []

    def cut(self, items: list[Any], line_of: Callable[[Any], bytes] = lambda x: x,
            timed: bool = False) -> list[tuple[int, list[Any]]]:
        """The batch to send now as ``[(lane, items)]`` (empty when everything waits)."""
        if self.lanes == 1:
            return [(0, items)] if items else []
        items = self._carry + items
        self._carry = []
        if not items:
            return []
        for i in range(len(items) - 1, 0, -1):
            if lane_may_start(line_of(items[i - 1]), line_of(items[i]), timed):
                self._carry = items[i:]
                out = [(self.lane, items[:i])]
                self.lane = (self.lane + 1) % self.lanes
                return out
        return [(self.lane, items)]  # nowhere to switch lanes safely: stay in this one

    def rest(self) -> list[tuple[int, list[Any]]]:
        """What still waits (end of input), in the lane it starts."""
        items, self._carry = self._carry, []
        return [(self.lane, items)] if items else []


def order_key(rank: int, line: int) -> float:
    """The replay order of line ``line`` of the ``rank``-th source (sources merged by time, ties by rank)."""
    return rank * 1e12 + line


def lane_partition(source: str, lane: int, partitions: int) -> int:
    """The raw partition of a lane: the source's own, then the next ones, so that lanes land on different
    partitions (and Faust's round-robin assignment puts neighbouring partitions on different workers)."""
    return (source_partition(source, partitions) + lane) % partitions


def lane_key(source: str, lane: int) -> str:
    """The name a lane of a source goes by in progress and acknowledgements: ``source`` for lane 0, ``source#k``."""
    return source if lane == 0 else f"{source}#{lane}"


def lane_source(key: str) -> str:
    """The source of a :func:`lane_key`."""
    base, sep, k = key.rpartition("#")
    return base if sep and k.isdigit() else key


def tile_partition(tile: tuple[int, int], partitions: int) -> int:
    """The tile partition of a tile."""
    return zlib.crc32(tile_key(tile).encode("ascii")) % partitions


def halo_tiles(lat: float, lon: float, tile_deg: float, halo_km: float) -> list[tuple[int, int]]:
    """The tile of a point and every neighbouring tile within ``halo_km`` of it (home tile first)."""
    home = tile_of(lat, lon, tile_deg)
    dlat = halo_km / 111.2
    dlon = halo_km / (111.32 * max(math.cos(math.radians(lat)), 0.2))
    r0, r1 = math.floor((lat - dlat) / tile_deg), math.floor((lat + dlat) / tile_deg)
    c0, c1 = math.floor((lon - dlon) / tile_deg), math.floor((lon + dlon) / tile_deg)
    if r0 == r1 and c0 == c1:  # far from every edge (most positions): its own tile only
        return [home]
    # across 180° the columns go round: the tile east of the last is the first (tiles that divide 360°)
    n = round(360.0 / tile_deg)
    wrap = abs(n * tile_deg - 360.0) < 1e-9
    out = [home]
    for r in range(r0, r1 + 1):
        for c in range(c0, c1 + 1):
            cc = (c + n // 2) % n - n // 2 if wrap and not -n // 2 <= c < n // 2 else c
            if (r, cc) not in out:
                out.append((r, cc))
    return out


def default_halo_km(settings: Settings) -> float:
    """How far beyond its edge a tile must see so that its episodes are seen whole (km).

    A loitering vessel stays within ``max_radius_km`` of where it slowed
    down; a vessel it meets is within the rendezvous distance of it.
    """
    rdv = settings.rendezvous.active
    return settings.loitering.max_radius_km + 1.5 * rdv.max_distance_m / 1000 + 2.0


# -- compact rows -----------------------------------------------------------------------
#
# Each row is a msgspec Struct laid out as a JSON array whose first element is its kind (``array_like`` with a
# tag): as compact on the wire as a bare list, with named fields in the code. ``encode_rows`` / ``decode_rows``
# turn them into JSON-ready lists and back (a Faust record carries them as such).


class _Fix(msgspec.Struct, array_like=True, gc=False):
    """The fields of a position every position row begins with (as :class:`~maritime.models.Position`)."""

    mmsi: int
    time_s: float
    lat: float
    lon: float
    sog_kn: float | None
    cog_deg: float | None
    heading_deg: int | None
    nav_status: int | None
    msg_type: int
    source: str


class _PositionFields(_Fix, array_like=True, gc=False):
    #: the AIS payload it came in (de-duplication across sources), None for table input
    payload: str | None
    #: where it stands among rows of the same time (see :func:`row_order`)
    order: float | None = None
    #: how far before ``time_s`` it may really have been sent (s)
    time_err_s: float = 0.0


class PosRow(_PositionFields, tag=POS):
    """A decoded position, decode stage → vessel stage."""


class LateRow(_PositionFields, tag=LATE):
    """A position older than its source's reorder window, decode stage → vessel stage (it may revise a gap)."""


class StaticRow(msgspec.Struct, array_like=True, gc=False, tag=STATIC):
    """A static and voyage report, decode stage → vessel stage (dimensions m, draught m)."""

    mmsi: int
    time_s: float
    name: str | None
    callsign: str | None
    imo: int | None
    ship_type: int | None
    to_bow_m: int | None
    to_stern_m: int | None
    to_port_m: int | None
    to_starboard_m: int | None
    draught_m: float | None
    destination: str | None
    msg_type: int
    source: str
    payload: str | None
    order: float | None = None
    #: the declared ETA (UNIX s)
    eta_s: float | None = None


class TilePosRow(_Fix, array_like=True, gc=False, tag=TILE_POS):
    """A position accepted by the vessel stage, forwarded to a tile with the vessel's identity."""

    #: (name, call sign, IMO, ship type) as the vessel stage knows them
    ident: tuple[str | None, str | None, int | None, int | None]
    #: the tile's :func:`tile_key`
    tile: str
    time_err_s: float = 0.0
    #: withheld by the identity gate (another transmitter on a shared MMSI): not a fix of the vessel, only where
    #: the MMSI was also heard, sent to the tiles of the vessel's last accepted fix
    withheld: bool = False


class TickRow(msgspec.Struct, array_like=True, gc=False, tag=TICK):
    """Event time reached ``time_s`` (a watermark tick)."""

    time_s: float
    order: float | None = None


class EndRow(msgspec.Struct, array_like=True, gc=False, tag=END):
    """The end of a replay, at the last event time."""

    time_s: float


class ProgressRow(msgspec.Struct, array_like=True, gc=False, tag=PROGRESS):
    """That source (a :func:`lane_key`) will send nothing older than ``time_s`` again."""

    time_s: float
    source: str


class EventRow(msgspec.Struct, array_like=True, gc=False, tag=EVENT):
    """An alert one vessel is in (``time_s`` the alert record's event time), detector stages → arrivals stage."""

    time_s: float
    mmsi: int
    alert_type: str
    id: str
    status: str


def event_rows(alerts: list[Any]) -> list[Row]:
    """The rows the arrivals stage reads from alerts: one per vessel of each."""
    return [EventRow(a.time_s, v.mmsi, a.type, a.id, a.status) for a in alerts for v in a.vessels]


Row = PosRow | LateRow | StaticRow | TilePosRow | TickRow | EndRow | ProgressRow | EventRow
_ROWS = list[Row]


def encode_rows(rows: list[Row]) -> list[Any]:
    """Rows as JSON-ready lists (``["p", mmsi, time_s, ...]``)."""
    return msgspec.to_builtins(rows)


def decode_rows(data: Any) -> list[Row]:
    """Rows back from :func:`encode_rows` (a clear :class:`msgspec.ValidationError` for a malformed one)."""
    return msgspec.convert(data, _ROWS)


def position_row(p: Position, payload: str | None, order: float | None = None, late: bool = False) -> Row:
    """A position as a row (``order``: see :func:`row_order`; ``late``: a :class:`LateRow`)."""
    cls = LateRow if late else PosRow
    return cls(p.mmsi, p.time_s, p.lat, p.lon, p.sog_kn, p.cog_deg, p.heading_deg, p.nav_status, p.msg_type,
               p.source, payload, order, p.time_err_s)


def static_row(v: VesselInfo, payload: str | None, order: float | None = None) -> StaticRow:
    """A static report as a row (``order``: see :func:`row_order`)."""
    return StaticRow(v.mmsi, v.time_s, v.name, v.callsign, v.imo, v.ship_type, v.to_bow_m, v.to_stern_m,
                     v.to_port_m, v.to_starboard_m, v.draught_m, v.destination, v.msg_type, v.source, payload, order,
                     v.eta_s)


def row_position(r: PosRow | LateRow | TilePosRow) -> Position:
    """The :class:`Position` of a position row."""
    return new_position(r.mmsi, r.time_s, r.lat, r.lon, r.sog_kn, r.cog_deg, r.heading_deg, r.nav_status,
                        r.msg_type, r.source, r.time_err_s)


def row_static(r: StaticRow) -> VesselInfo:
    """The :class:`VesselInfo` of a static row."""
    return VesselInfo(r.mmsi, r.time_s, r.name, r.callsign, r.imo, r.ship_type, r.to_bow_m, r.to_stern_m,
                      r.to_port_m, r.to_starboard_m, r.draught_m, r.destination, r.msg_type, r.source, r.eta_s)


# -- the barrier ------------------------------------------------------------------------


@dataclass(slots=True)
class Barrier:
    """Collects one batch per upstream partition for each sequence number; releases whole sequences in order.

    ``add`` returns the sequences now complete, each with the rows of all its
    batches merged by event time (ties: upstream partition order, then the
    order within the batch) and the tokens (Faust events) to acknowledge.

    A batch that is not to be applied goes to :attr:`skipped` (its token, to be
    acknowledged at once, see :meth:`take_skipped`): one of a sequence already
    released (a restarted stage reading its uncommitted input again), or a
    second batch of the same upstream partition and sequence while the first
    still waits for the others (a restarted upstream stage sending again what
    it had sent: the first one wins, and the sequence is not released before
    every upstream partition has sent it).
    """

    origins: int
    done_seq: int = -1
    pending: dict[int, dict[int, tuple[list[Row], Any]]] = field(default_factory=dict)
    skipped: list[Any] = field(default_factory=list)

    def add(self, origin: int, seq: int, rows: list[Row], token: Any = None
            ) -> list[tuple[int, list[Row], list[Any]]]:
        """Add a batch; ``token`` is handed back when its sequence is released (or put in :attr:`skipped`)."""
        if seq <= self.done_seq:
            self.skipped.append(token)  # processed before a restart: acknowledge, do not apply again
            logger.debug("sequence %d from upstream partition %d: already applied", seq, origin)
            return []
        got = self.pending.setdefault(seq, {})
        if origin in got:
            self.skipped.append(token)  # the same batch again (an upstream restart or retry): first one wins
            logger.info("sequence %d from upstream partition %d came again while it waits: the first one is kept",
                        seq, origin)
            return []
        got[origin] = (rows, token)
        out = []
        while self.pending:
            first = min(self.pending)
            batches = self.pending[first]
            if len(batches) < self.origins:
                break
            del self.pending[first]
            self.done_seq = first
            parts = [batches[o][0] for o in sorted(batches)]
            merged = parts[0] if len(parts) == 1 else list(heapq.merge(*parts, key=row_time))
            out.append((first, merged, [batches[o][1] for o in sorted(batches)]))
        return out

    def take_skipped(self) -> list[Any]:
        """The tokens of the batches not applied since the last call."""
        got, self.skipped = self.skipped, []
        return got


def row_time(r: Row) -> float:
    """The event time of a row (s)."""
    return r.time_s


_ORDERED = (PosRow, LateRow, StaticRow, TickRow)


def row_order(r: Row) -> float:
    """Where a row stands among rows of the same time: the replay's order of its message (the source's rank
    in the replay, then the line it came from), when the ingest gave one; else 0 (arrival order decides)."""
    order = r.order if isinstance(r, _ORDERED) else None
    return 0.0 if order is None else float(order)


# -- shared by the detector stages ------------------------------------------------------


_VESSEL_FIELDS = tuple(f.name for f in fields(VesselState) if f.name != "last")
_POSITION_FIELDS = tuple(f.name for f in fields(Position))


def vessel_dump(v: VesselState) -> dict[str, Any]:
    # every field is a scalar or a tuple (``last`` a frozen Position): no deep copy needed, unlike asdict()
    d = {k: getattr(v, k) for k in _VESSEL_FIELDS}
    last = v.last
    d["last"] = [getattr(last, k) for k in _POSITION_FIELDS] if last is not None else None
    return d


def vessel_load(d: dict[str, Any]) -> VesselState:
    d = dict(d)
    last = d.pop("last")
    d["names_seen"] = tuple(d.get("names_seen") or ())  # a JSON table gives a list (the compiled class checks)
    v = VesselState(**d)
    v.last = Position(*last) if last is not None else None
    return v


