"""The simulated fleet: the regional vessel mix, names, and what each vessel does when (its segments)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from maritime.detectors.tracker import vessel_category
from maritime.geo import haversine_m

#: MMSIs the ordinary-life day gives to more than one transmitter
SHARED_MMSIS = frozenset({1193046})

STATIC_INTERVAL_S = 360.0
#: Moored and drifting vessels keep at least this far off Natural Earth land, so that a finer
#: coastline does not put them ashore (m).
BERTH_CLEARANCE_M = 800.0

NAMES = ("CARIB", "ISLAND", "ANTILLES", "TRADE WIND", "CORAL", "PELICAN", "MARLIN", "BLUE", "SEA", "SUN",
          "STAR", "OCEAN", "WINDWARD", "LEEWARD", "REEF", "GULF", "BAY", "PEARL", "MANGO", "HIBISCUS")
NAMES2 = ("TRADER", "SPIRIT", "EXPRESS", "QUEEN", "PRIDE", "VENTURE", "BREEZE", "CARRIER", "HOPE", "GLORY",
           "RUNNER", "DAWN", "NAVIGATOR", "SPIRIT II", "MERCHANT", "STAR", "PRINCESS", "LADY", "KING", "WAVE")

# vessel kinds: (share, AIS ship type, class B?, cruise speed range kn, length range m)
MIX: dict[str, tuple[float, int, bool, tuple[float, float], tuple[int, int]]] = {
    "cargo": (0.26, 70, False, (11.0, 17.0), (90, 220)),
    "tanker": (0.13, 80, False, (10.0, 14.0), (100, 250)),
    "cruise": (0.05, 60, False, (15.0, 20.0), (200, 330)),
    "ferry": (0.07, 60, False, (14.0, 24.0), (30, 90)),
    "fishing": (0.18, 30, False, (7.0, 10.0), (12, 40)),
    "fishing_b": (0.08, 30, True, (6.0, 9.0), (8, 15)),
    "yacht": (0.14, 37, True, (5.0, 8.0), (10, 30)),
    "tug": (0.05, 52, False, (6.0, 10.0), (20, 35)),
    "patrol": (0.04, 55, False, (12.0, 20.0), (20, 60)),
}



@dataclass
class Segment:
    """What a vessel does from ``t0`` to ``t1``: sail a polyline, or stay (moored, drifting, fishing)."""

    t0: float
    t1: float
    kind: str  # move / stay
    lats: np.ndarray
    lons: np.ndarray
    speed_kn: float = 0.0
    status: int = 0
    drift_kn: float = 0.0
    drift_deg: float = 0.0
    wobble_m: float = 5.0
    ref_t: float | None = None
    cum_m: np.ndarray = field(default_factory=lambda: np.zeros(1))

    def __post_init__(self) -> None:
        if self.kind == "move":
            d = [0.0]
            for i in range(1, len(self.lats)):
                d.append(d[-1] + haversine_m(self.lats[i - 1], self.lons[i - 1], self.lats[i], self.lons[i]))
            self.cum_m = np.array(d)


@dataclass
class Vessel:
    """A simulated vessel and its day."""

    mmsi: int
    kind: str
    name: str
    callsign: str
    imo: int
    ship_type: int
    class_b: bool
    length_m: int
    beam_m: int
    speed_kn: float
    home: int
    segments: list[Segment] = field(default_factory=list)
    silent: list[tuple[float, float]] = field(default_factory=list)
    jumps: list[float] = field(default_factory=list)
    jumped_at: list[float] = field(default_factory=list)
    phase: float = 0.0
    sends_static: bool = True  #: many small craft never send static data
    #: also heard by a satellite service that stamps its reports with their delivery time (batches)
    sat_batch: bool = False
    #: the destinations it declares: (from event time s, AIS destination text, declared ETA s or None)
    voyages: list[tuple[float, str, float | None]] = field(default_factory=list)

    @property
    def category(self) -> str:
        """Vessel category (as the detectors see it)."""
        return vessel_category(self.ship_type)
