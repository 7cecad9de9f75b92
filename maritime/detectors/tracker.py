"""Per-vessel state: static data joined to positions, keyed by MMSI."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from maritime.models import Position, VesselInfo, VesselRef, flag_of

#: AIS ship type (ITU-R M.1371 table 53) → the vessel categories used by zones and maps.
_TYPE_RANGES: tuple[tuple[int, int, str], ...] = (
    (30, 30, "fishing"),
    (31, 32, "tug"),
    (33, 34, "other"),
    (35, 35, "military"),
    (36, 36, "sailing"),
    (37, 37, "pleasure"),
    (40, 49, "high_speed"),
    (50, 50, "other"),  # pilot vessel
    (51, 51, "other"),  # search and rescue
    (52, 52, "tug"),
    (53, 54, "other"),
    (55, 55, "law_enforcement"),
    (56, 59, "other"),
    (60, 69, "passenger"),
    (70, 79, "cargo"),
    (80, 89, "tanker"),
    (90, 99, "other"),
)


def vessel_category(ship_type: int | None) -> str:
    """Category (fishing, cargo, tanker, passenger, …) of an AIS ship type; ``unknown`` when absent."""
    if ship_type is None:
        return "unknown"
    for lo, hi, name in _TYPE_RANGES:
        if lo <= ship_type <= hi:
            return name
    return "other"


@dataclass(slots=True)
class VesselState:
    """What we know of one vessel: identity (merged static reports) and its last position."""

    mmsi: int
    name: str | None = None
    callsign: str | None = None
    imo: int | None = None
    ship_type: int | None = None
    length_m: int | None = None
    beam_m: int | None = None
    destination: str | None = None
    #: the declared ETA that came with the destination (UNIX s)
    eta_s: float | None = None
    last: Position | None = None
    first_seen_s: float | None = None
    last_seen_s: float | None = None
    #: event time of the last report of any kind, position or static (s): what eviction goes by
    heard_s: float | None = None
    positions: int = 0
    class_b: bool = False
    category: str = "unknown"
    #: the distinct names this MMSI has given (at most 8; several mean several transmitters or a rename)
    names_seen: tuple[str, ...] = ()

    @property
    def flag(self) -> str | None:
        """Flag state from the MMSI's MID."""
        return flag_of(self.mmsi)

    def ref(self) -> VesselRef:
        """Identity as carried on alerts."""
        return VesselRef(mmsi=self.mmsi, name=self.name, imo=self.imo, callsign=self.callsign,
                         ship_type=self.ship_type, flag=self.flag)

    def label(self) -> str:
        """Readable one-word identity: the name, else ``MMSI n``."""
        return self.name or f"MMSI {self.mmsi}"


class Tracker:
    """The vessel-state table: one :class:`VesselState` per MMSI."""

    def __init__(self) -> None:
        self.vessels: dict[int, VesselState] = {}

    def __len__(self) -> int:
        return len(self.vessels)

    def __iter__(self) -> Iterator[VesselState]:
        return iter(self.vessels.values())

    def get(self, mmsi: int) -> VesselState:
        """The state of ``mmsi``, created empty on first use."""
        v = self.vessels.get(mmsi)
        if v is None:
            v = self.vessels[mmsi] = VesselState(mmsi)
        return v

    def forget(self, mmsi: int) -> None:
        """Drop a vessel's state (eviction: not heard for long, nothing open about it)."""
        self.vessels.pop(mmsi, None)

    def ref(self, mmsi: int) -> VesselRef:
        """Alert identity of ``mmsi`` (just the MMSI and flag if never described)."""
        v = self.vessels.get(mmsi)
        return v.ref() if v is not None else VesselRef(mmsi=mmsi, flag=flag_of(mmsi))

    def on_position(self, pos: Position) -> VesselState:
        """Record a position; return the vessel's state (``last`` is still the previous fix)."""
        v = self.get(pos.mmsi)
        if v.first_seen_s is None:
            v.first_seen_s = pos.time_s
        v.last_seen_s = pos.time_s
        if v.heard_s is None or pos.time_s > v.heard_s:
            v.heard_s = pos.time_s
        v.positions += 1
        if pos.msg_type in (18, 19):
            v.class_b = True
        return v

    def on_static(self, info: VesselInfo) -> VesselState:
        """Merge a static report: fields it carries replace what we had."""
        v = self.get(info.mmsi)
        if v.heard_s is None or info.time_s > v.heard_s:
            v.heard_s = info.time_s
        if info.name is not None:
            v.name = info.name
            seen = v.names_seen
            if info.name not in seen and len(seen) < 8:
                v.names_seen = (*seen, info.name)
        if info.callsign is not None:
            v.callsign = info.callsign
        if info.imo is not None:
            v.imo = info.imo
        if info.ship_type is not None:
            v.ship_type = info.ship_type
            v.category = vessel_category(info.ship_type)
        if info.length_m is not None:
            v.length_m = info.length_m
        if info.beam_m is not None:
            v.beam_m = info.beam_m
        if info.destination is not None:
            v.destination = info.destination
            v.eta_s = info.eta_s
        if info.msg_type in (18, 19, 24):
            v.class_b = True
        return v
