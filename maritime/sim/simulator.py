"""Caribbean AIS traffic simulator with ground truth.

Writes ``traffic.nmea`` (tag-blocked NMEA, in time order) and ``truth.json``
(the scripted events in the alert shape). Deterministic for a seed.

- Ships sail between real Caribbean ports on water routes (never within
  1.5 km of Natural Earth 10 m land; moored ships lie at least 500 m off it).
- The regional mix: cargo, tankers, cruise ships and inter-island ferries,
  fishing boats working grounds at low speed, Class B yachts, tugs, law
  enforcement; flags from Caribbean and open registries by MID.
- ITU-R M.1371 reporting intervals by class, speed and status; static data
  every 6 minutes (type 5 in two parts, or type 24 A and B).
- Reception: a shore receiver at each port (40 nm, loss growing with
  distance) and a thin satellite layer, so some messages arrive twice and
  some never; a small share of lines corrupted, cut short or garbage.
- Scripted events: dark gaps while moving, rendezvous at sea, loitering,
  fishing vessels entering fishing-restricted zones, position jumps; and hard
  negatives: short reception dropouts, ships passing close at speed, ships
  moored together in port, a cargo ship crossing a fishing-only zone.
- Ordinary life, with truth that says "nothing to alert" (hard negatives
  marked ``ordinary``): Class B yachts at anchor in the cruising anchorages
  (no navigational status, many without static data, 100-300 m apart,
  swinging at 0-0.5 kn), small boats fishing at a fish aggregating device
  offshore, a cruise ship at anchor with its tenders, a tug alongside a
  tanker off a port, a pilot boat alongside a ship at the pilot station,
  two transmitters sharing the default MMSI 1193046, and ships on passage
  also heard by a satellite service that stamps each report with the time
  of its delivery (batches every 20 minutes, the report's own UTC second
  intact), mixed with the shore receivers' honest times.
  Geofence entries are taken from the true tracks of every vessel, scripted
  or not, so the truth is complete for the zones given.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from maritime.detectors.tracker import vessel_category
from maritime.geo import KN_TO_MS, M_PER_DEG_LAT, bearing_deg, destination, haversine_m, landmask
from maritime.geo.routing import WaterGrid, wet_leg
from maritime.models import iso
from maritime.sim.encode import position_payloads, sentences, static_payloads
from maritime.sim.geofence_truth import GeofenceTruth
from maritime.sim.reception import Reception
from maritime.zones.caribbean import ANCHORAGES, FLAG_MIDS, PORTS, Anchorage, Port
from maritime.zones.index import ZoneIndex

logger = logging.getLogger(__name__)

#: MMSIs the ordinary-life day gives to more than one transmitter
_SHARED_MMSIS = frozenset({1193046})

DEFAULT_START = 1_747_180_800.0  # 2025-05-14T00:00:00Z
STATIC_INTERVAL_S = 360.0
#: Moored and drifting vessels keep at least this far off Natural Earth land, so that a finer
#: coastline does not put them ashore (m).
BERTH_CLEARANCE_M = 800.0

_NAMES = ("CARIB", "ISLAND", "ANTILLES", "TRADE WIND", "CORAL", "PELICAN", "MARLIN", "BLUE", "SEA", "SUN",
          "STAR", "OCEAN", "WINDWARD", "LEEWARD", "REEF", "GULF", "BAY", "PEARL", "MANGO", "HIBISCUS")
_NAMES2 = ("TRADER", "SPIRIT", "EXPRESS", "QUEEN", "PRIDE", "VENTURE", "BREEZE", "CARRIER", "HOPE", "GLORY",
           "RUNNER", "DAWN", "NAVIGATOR", "SPIRIT II", "MERCHANT", "STAR", "PRINCESS", "LADY", "KING", "WAVE")

# vessel kinds: (share, AIS ship type, class B?, cruise speed range kn, length range m)
_MIX: dict[str, tuple[float, int, bool, tuple[float, float], tuple[int, int]]] = {
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


class Simulator:
    """Builds a fleet, scripts events, samples reports and writes the files."""

    def __init__(self, hours: float, vessels: int, seed: int, zones: ZoneIndex | None = None,
                 events: str | Path = "default", start_s: float = DEFAULT_START, grid: WaterGrid | None = None) -> None:
        self.hours = hours
        self.n = vessels
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.zones = zones
        self.events_spec = events
        self.t0 = start_s
        self.t1 = start_s + hours * 3600
        self.grid = grid or WaterGrid()
        self.ports: list[Port] = list(PORTS)
        self.port_node = [self.grid.nearest_water(p.lat, p.lon) for p in self.ports]
        self.berths = [self._berth(p) for p in self.ports]
        self.vessels: list[Vessel] = []
        self.truth: list[dict[str, Any]] = []
        self.negatives: list[dict[str, Any]] = []
        self._used_mmsi: set[int] = set()
        self._routes: dict[tuple[int, int], list[tuple[float, float]]] = {}
        # destinations are drawn from a generator of their own: the traffic of a seed stays what it was
        self.voyage_rng = np.random.default_rng([seed, 0x5E5])
        self._locodes = [self._locode(p) for p in self.ports]

    # -- geography ------------------------------------------------------------------

    def _berth(self, p: Port) -> tuple[float, float]:
        """A mooring spot near the harbour: in water, off land, joined to the sea by a clear line.

        Searched within 2.7 km of the harbour position (inside its 3 km port zone), first for a spot that is
        water in both coastlines, Natural Earth 10 m (≥ 1000 m, then ≥ 800 m off) and the 1 km GLOBE mask
        (which fills small harbours in), then for one that is clear of Natural Earth only. For an enclosed
        harbour where neither exists, the spot is the point closest to the harbour on a clear line from
        open water (anchored off the port).
        """
        land = self.grid.land
        node = self.grid.node(self.port_node[self.ports.index(p)])
        searches = itertools.product((True, False), (1000.0, 800.0), np.arange(0, 2800, 150), range(0, 360, 15))
        for both_masks, min_m, r, a in searches:
            lat, lon = destination(p.lat, p.lon, a, float(r))
            if both_masks and landmask.on_land(lat, lon):
                continue
            if shapely.dwithin(land, shapely.Point(lon, lat), min_m / M_PER_DEG_LAT):
                continue
            if self.grid.leg_land_raw_intersects(lat, lon, node.lat, node.lon):
                continue
            if both_masks and not wet_leg(lat, lon, node.lat, node.lon):
                continue
            return lat, lon
        # walk from open water toward the harbour while the line stays clear
        best = (node.lat, node.lon)
        total = haversine_m(node.lat, node.lon, p.lat, p.lon)
        brg = bearing_deg(node.lat, node.lon, p.lat, p.lon)
        for d in np.arange(100.0, total, 100.0):
            lat, lon = destination(node.lat, node.lon, brg, float(d))
            if self.grid.leg_land_raw_intersects(node.lat, node.lon, lat, lon):
                break
            if not landmask.on_land(lat, lon):
                best = (lat, lon)
        return best

    def route(self, a: int, b: int) -> list[tuple[float, float]]:
        """Sea route from port ``a``'s berth to port ``b``'s berth."""
        key = (a, b)
        if key not in self._routes:
            mid = self.grid.path(self.port_node[a], self.port_node[b])
            self._routes[key] = [self.berths[a], *mid, self.berths[b]]
        return self._routes[key]

    def route_to_point(self, a: int, lat: float, lon: float) -> list[tuple[float, float]]:
        """Route from port ``a``'s berth to a water point (in a water cell)."""
        node = self.grid.nearest_water(lat, lon)
        mid = self.grid.path(self.port_node[a], node)
        return [self.berths[a], *mid, (lat, lon)]

    def route_point_to_port(self, lat: float, lon: float, b: int) -> list[tuple[float, float]]:
        """Route from a water point to port ``b``'s berth."""
        node = self.grid.nearest_water(lat, lon)
        # the grid is undirected: walk the (cached) tree of the port backwards
        mid = list(reversed(self.grid.path(self.port_node[b], node)))
        return [(lat, lon), *mid, self.berths[b]]

    def sea_point_near(self, lat: float, lon: float, min_km: float, max_km: float, far_from_ports_km: float = 0.0
                       ) -> tuple[float, float]:
        """A random open-water point between ``min_km`` and ``max_km`` from (lat, lon)."""
        for attempt in range(400):
            widen = 2 ** (attempt // 100)  # no open water that close: look further out
            d = self.rng.uniform(min_km, max_km * widen) * 1000
            a = self.rng.uniform(0, 360)
            plat, plon = destination(lat, lon, a, d)
            if not self.grid.is_open_water(plat, plon):
                continue
            if far_from_ports_km and min(haversine_m(plat, plon, p.lat, p.lon) for p in self.ports) < \
                    far_from_ports_km * 1000:
                continue
            return plat, plon
        raise RuntimeError(f"no open water {min_km}-{max_km} km from {lat}, {lon}")

    # -- the fleet ------------------------------------------------------------------

    def _mmsi(self, kind: str) -> int:
        flags = list(FLAG_MIDS)
        if kind in ("cargo", "tanker", "cruise"):
            weights = np.array([6 if f in ("PA", "LR", "MH", "BS", "AG", "MT", "SG") else 1 for f in flags], float)
        else:
            weights = np.array([1 if f in ("PA", "LR", "MH", "MT", "SG") else 4 for f in flags], float)
        while True:
            flag = flags[int(self.rng.choice(len(flags), p=weights / weights.sum()))]
            mid = int(self.rng.choice(FLAG_MIDS[flag]))
            mmsi = mid * 1_000_000 + int(self.rng.integers(0, 1_000_000))
            if mmsi not in self._used_mmsi:
                self._used_mmsi.add(mmsi)
                return mmsi

    def _vessel(self, kind: str, home: int | None = None) -> Vessel:
        _share, ship_type, class_b, speeds, lengths = _MIX[kind]
        length = int(self.rng.integers(*lengths))
        name = f"{_NAMES[int(self.rng.integers(len(_NAMES)))]} {_NAMES2[int(self.rng.integers(len(_NAMES2)))]}"
        if home is None:
            sizes = np.array([{"large": 4, "medium": 2, "small": 1}[p.size] for p in self.ports], float)
            home = int(self.rng.choice(len(self.ports), p=sizes / sizes.sum()))
        v = Vessel(
            mmsi=self._mmsi(kind), kind=kind, name=name, callsign=f"{chr(65 + int(self.rng.integers(26)))}"
            f"{int(self.rng.integers(1000, 9999))}", imo=int(self.rng.integers(9_000_000, 9_999_999)) if
            length > 60 else 0, ship_type=ship_type, class_b=class_b, length_m=length,
            beam_m=max(4, length // 6), speed_kn=float(self.rng.uniform(*speeds)), home=home,
            phase=float(self.rng.uniform(0, 10)),
        )
        self.vessels.append(v)
        return v

    def _move(self, v: Vessel, t: float, pts: Sequence[tuple[float, float]], speed: float | None = None,
              status: int = 0) -> float:
        lats = np.array([p[0] for p in pts])
        lons = np.array([p[1] for p in pts])
        sp = speed or v.speed_kn
        seg = Segment(t, t, "move", lats, lons, speed_kn=sp, status=status)
        seg.t1 = t + float(seg.cum_m[-1]) / (sp * KN_TO_MS)
        v.segments.append(seg)
        return seg.t1

    def _stay(self, v: Vessel, t0: float, t1: float, lat: float, lon: float, status: int = 5, drift_kn: float = 0.0,
              drift_deg: float = 0.0, wobble_m: float = 5.0, speed_kn: float = 0.0, ref_t: float | None = None
              ) -> float:
        v.segments.append(Segment(t0, t1, "stay", np.array([lat]), np.array([lon]), status=status,
                                  drift_kn=drift_kn, drift_deg=drift_deg, wobble_m=wobble_m, speed_kn=speed_kn,
                                  ref_t=ref_t))
        return t1

    def _nearby_port(self, a: int, max_km: float) -> int:
        cands = [i for i, p in enumerate(self.ports) if i != a and
                 haversine_m(p.lat, p.lon, self.ports[a].lat, self.ports[a].lon) < max_km * 1000]
        if not cands:
            cands = sorted((i for i in range(len(self.ports)) if i != a),
                           key=lambda i: haversine_m(self.ports[i].lat, self.ports[i].lon,
                                                     self.ports[a].lat, self.ports[a].lon))[:3]
        return int(cands[int(self.rng.integers(len(cands)))])

    def _plan_transit(self, v: Vessel, max_km: float | None = None) -> None:
        t = self.t0 - float(self.rng.uniform(0, 12 * 3600))  # started before the window
        here = v.home
        while t < self.t1:
            if self.rng.random() < 0.5 or t < self.t0 - 6 * 3600:
                stay = float(self.rng.uniform(2, 10) * 3600)
                t = self._stay(v, t, t + stay, *self._berth_spot(here), status=5)
            nxt = self._nearby_port(here, max_km) if max_km else self._far_port(here)
            depart = t
            t = self._move(v, t, self.route(here, nxt))
            self._declare(v, depart, here, nxt, t)
            here = nxt

    # -- declared voyages ----------------------------------------------------------------

    def _locode(self, p: Port) -> str | None:
        """The UN/LOCODE of a port of the simulator, from the gazetteer (None when it has none)."""
        from maritime.zones.ports import PortIndex

        if not hasattr(self, "_gazetteer"):
            self._gazetteer = PortIndex.load()
        near = self._gazetteer.near(p.lat, p.lon, 5.0)
        return next((q.locode for _d, q in near if q.locode), None)

    def destination_text(self, frm: int, to: int) -> str:
        """How a crew writes the destination: the name, the LOCODE (with or without its space), the voyage
        ``FROM>TO``, or the name with a letter dropped (from the voyage generator)."""
        name = self.ports[to].name.upper().replace("'", "").replace(".", "")
        code = self._locodes[to]
        forms = [name, name]
        if code:
            forms += [code, f"{code[:2]} {code[2:]}"]
            if self._locodes[frm]:
                forms.append(f"{self._locodes[frm]}>{code}")
        forms.append(f"{self.ports[frm].name.upper().replace(chr(39), '')}>{name}")
        if len(name) >= 9 and " " not in name:
            k = int(self.voyage_rng.integers(2, len(name) - 2))
            forms.append(name[:k] + name[k + 1:])
        # no crew writes another port's name: a form the gazetteer reads as another port is left out
        # (dropping a letter of KINGSTOWN gives KINGSTON, in Jamaica)
        meant = self._gazetteer.near(self.ports[to].lat, self.ports[to].lon, 5.0)
        meant_id = meant[0][1].id if meant else None
        ok = [f for f in forms if (got := self._gazetteer.match(f[:20]).port) is None or got.id == meant_id]
        return ok[int(self.voyage_rng.integers(len(ok)))][:20] if ok else name[:20]

    def _declare(self, v: Vessel, depart: float, frm: int, to: int, arrive: float) -> None:
        """The destination a Class A vessel declares for a voyage: at departure, or (one crew in five) a
        while after leaving, the old one still showing until then."""
        if v.class_b:
            return
        late = float(self.voyage_rng.uniform(1200, 5400)) if self.voyage_rng.random() < 0.2 else 0.0
        eta = arrive + float(self.voyage_rng.uniform(-1800, 3600))
        v.voyages.append((depart + min(late, max(0.0, arrive - depart) / 2), self.destination_text(frm, to), eta))

    def _declared_at(self, v: Vessel, t: float) -> tuple[int, str, float | None]:
        """The declaration in force at ``t``: its index (-1: none yet), text and ETA."""
        k = -1
        for i, (t0, _text, _eta) in enumerate(v.voyages):
            if t0 <= t:
                k = i
            else:
                break
        if k < 0:
            return -1, "", None
        return k, v.voyages[k][1], v.voyages[k][2]

    def _far_port(self, a: int) -> int:
        sizes = np.array([{"large": 4, "medium": 2, "small": 1}[p.size] for p in self.ports], float)
        sizes[a] = 0
        return int(self.rng.choice(len(self.ports), p=sizes / sizes.sum()))

    def _berth_spot(self, port: int, spread_m: float = 250.0) -> tuple[float, float]:
        lat, lon = self.berths[port]
        berth_dry = landmask.on_land(lat, lon)
        for _ in range(20):
            plat, plon = destination(lat, lon, float(self.rng.uniform(0, 360)), float(self.rng.uniform(0, spread_m)))
            if not berth_dry and landmask.on_land(plat, plon):
                continue
            if not shapely.dwithin(self.grid.land, shapely.Point(plon, plat), BERTH_CLEARANCE_M / M_PER_DEG_LAT):
                return plat, plon
        return lat, lon

    def _plan_fishing(self, v: Vessel) -> None:
        t = self.t0 - float(self.rng.uniform(0, 6 * 3600))
        here = v.home
        while t < self.t1:
            t = self._stay(v, t, t + float(self.rng.uniform(3, 12) * 3600), *self._berth_spot(here), status=5)
            p = self.ports[here]
            glat, glon = self.sea_point_near(p.lat, p.lon, 12, 35)
            t = self._move(v, t, self.route_to_point(here, glat, glon))
            t = self._fish(v, t, glat, glon, float(self.rng.uniform(4, 9) * 3600))
            t = self._move(v, t, self.route_point_to_port(glat, glon, here))

    def _fish(self, v: Vessel, t: float, lat: float, lon: float, dur: float) -> float:
        """Work a ground: short slow legs (2.5–4.5 kn) around a point, engaged in fishing (status 7)."""
        end = t + dur
        clat, clon = lat, lon
        while t < end:
            nlat, nlon = destination(lat, lon, float(self.rng.uniform(0, 360)), float(self.rng.uniform(300, 1800)))
            if not self.grid.is_open_water(nlat, nlon):
                nlat, nlon = lat, lon
            t = self._move(v, t, [(clat, clon), (nlat, nlon)], speed=float(self.rng.uniform(2.5, 4.5)), status=7)
            clat, clon = nlat, nlon
        if (clat, clon) != (lat, lon):
            t = self._move(v, t, [(clat, clon), (lat, lon)], speed=4.0, status=7)
        return t

    def _plan_yacht(self, v: Vessel) -> None:
        t = self.t0 - float(self.rng.uniform(0, 10 * 3600))
        here = v.home
        while t < self.t1:
            t = self._stay(v, t, t + float(self.rng.uniform(8, 30) * 3600), *self._berth_spot(here, 400), status=15)
            nxt = self._nearby_port(here, 150)
            t = self._move(v, t, self.route(here, nxt))
            here = nxt

    def _plan_local(self, v: Vessel, radius_km: float, stay_h: tuple[float, float]) -> None:
        t = self.t0 - float(self.rng.uniform(0, 4 * 3600))
        here = v.home
        p = self.ports[here]
        while t < self.t1:
            t = self._stay(v, t, t + float(self.rng.uniform(*stay_h) * 3600), *self._berth_spot(here), status=5)
            wlat, wlon = self.sea_point_near(p.lat, p.lon, radius_km / 3, radius_km)
            t = self._move(v, t, self.route_to_point(here, wlat, wlon))
            t = self._move(v, t, self.route_point_to_port(wlat, wlon, here))

    # -- events ---------------------------------------------------------------------

    def _event_time(self, before_end_h: float) -> float:
        lo = self.t0 + 0.5 * 3600
        hi = max(lo + 60, self.t1 - before_end_h * 3600)
        return float(self.rng.uniform(lo, hi))

    def _script(self) -> None:
        spec = self.events_spec
        if spec == "none":
            return
        if spec != "default":
            self._script_file(Path(spec))
            return
        scale = max(1, round(self.n / 100))
        for _ in range(scale):
            if self.hours >= 8:
                self._ev_dark_gap()
            self._ev_dropout()
            if self.hours >= 4:
                self._ev_rendezvous()
            if self.hours >= 6:
                self._ev_loitering()
            self._ev_fishing_entry()
            self._ev_jump()
            self._ev_pass_close()
        self._ev_moored_together()
        self._ev_cargo_through_fishing_zone()
        self._ordinary_life()
        if self.hours >= 10:
            self._ev_undeclared_arrival()

    def _script_file(self, path: Path) -> None:
        doc = json.loads(path.read_text())
        handlers = {"dark_gap": self._ev_dark_gap, "rendezvous": self._ev_rendezvous, "loitering": self._ev_loitering,
                    "geofence_entry": self._ev_fishing_entry, "position_jump": self._ev_jump,
                    "dropout": self._ev_dropout, "pass_close": self._ev_pass_close,
                    "moored_together": self._ev_moored_together,
                    "cargo_through_fishing_zone": self._ev_cargo_through_fishing_zone}
        for item in doc.get("events", []):
            fn = handlers.get(item.get("type"))
            if fn is None:
                raise ValueError(f"{path}: unknown event type {item.get('type')!r}")
            for _ in range(int(item.get("count", 1))):
                fn()

    def _ev_undeclared_arrival(self) -> None:
        """A ship leaves declaring one port and calls at another it never declared."""
        for _ in range(30):
            v = self._vessel(str(self.rng.choice(["cargo", "tanker"])))
            a = v.home
            declared = self._nearby_port(a, 300)
            actual = self._nearby_port(a, 300)
            route = self.route(a, actual) if actual not in (a, declared) and not v.class_b else []
            if route:
                depart = self._event_time(10)
                dist = sum(haversine_m(*route[i], *route[i + 1]) for i in range(len(route) - 1))
                if depart + dist / (v.speed_kn * KN_TO_MS) + 3 * 3600 < self.t1:
                    self._stay(v, self.t0 - 3600, depart, *self._berth_spot(a), status=5)
                    arrive = self._move(v, depart, route)
                    self._stay(v, arrive, arrive + 3 * 3600, *self._berth_spot(actual), status=5)
                    v.voyages.append((depart - 1800, self.destination_text(a, declared), arrive + 1800))
                    self.truth.append({"type": "arrival_undeclared", "vessels": [{"mmsi": v.mmsi}], "_t0": arrive,
                                       "_t1": arrive + 1800, "zone": None})
                    return
            self.vessels.remove(v)

    def _moving_at(self, v: Vessel, t: float, dur: float) -> bool:
        return any(s.kind == "move" and s.t0 <= t and t + dur <= s.t1 for s in v.segments)

    def _ev_dark_gap(self) -> None:
        for _ in range(50):
            v = self._vessel(str(self.rng.choice(["cargo", "tanker"])))
            self._plan_transit(v)
            dur = float(self.rng.uniform(6.5, 10) * 3600)
            t = self._event_time(dur / 3600 + 1)
            if t + dur < self.t1 - 1800 and self._moving_at(v, t, 1800):
                v.silent.append((t, t + dur))
                self.truth.append({"type": "dark_gap", "vessels": [{"mmsi": v.mmsi}], "_t0": t, "_t1": t + dur,
                                   "zone": None})
                return
            self.vessels.remove(v)

    def _ev_dropout(self) -> None:
        v = self._vessel(str(self.rng.choice(["cargo", "tanker", "ferry"])))
        self._plan_transit(v, 250 if v.kind == "ferry" else None)
        dur = float(self.rng.uniform(1, 3) * 3600)
        t = self._event_time(dur / 3600)
        v.silent.append((t, t + dur))
        self.negatives.append({"type": "short_dropout", "mmsi": v.mmsi, "start": iso(t), "end": iso(t + dur)})

    def _meeting_point(self) -> tuple[float, float, int, int]:
        a = int(self.rng.integers(len(self.ports)))
        p = self.ports[a]
        lat, lon = self.sea_point_near(p.lat, p.lon, 25, 90, far_from_ports_km=20)
        b = self._nearby_port(a, 300)
        return lat, lon, a, b

    def _ev_rendezvous(self) -> None:
        lat, lon, pa, pb = self._meeting_point()
        dur = float(self.rng.uniform(2.5, 4.0) * 3600)
        start = self._event_time(dur / 3600 + 0.5)
        kinds = [str(self.rng.choice(["fishing", "tanker", "cargo"])), str(self.rng.choice(["tanker", "cargo"]))]
        drift_kn = float(self.rng.uniform(0.2, 1.0))
        drift_deg = self._clear_drift(lat, lon, drift_kn * KN_TO_MS * dur + 500)
        if drift_deg is None:
            drift_kn, drift_deg = 0.0, 0.0
        mmsis = []
        declared_change = False
        for k, port in enumerate((pa, pb)):
            v = self._vessel(kinds[k], home=port)
            out = self.route_to_point(port, lat, lon)
            mlat, mlon = destination(lat, lon, 90.0, 120.0 * k)  # alongside, 120 m apart
            out[-1] = (mlat, mlon)
            dist = sum(haversine_m(*out[i], *out[i + 1]) for i in range(len(out) - 1))
            depart = start - dist / (v.speed_kn * KN_TO_MS) - 900 * (k + 1)
            if depart > self.t0:
                self._stay(v, self.t0 - 3600, depart, *self._berth_spot(port), status=5)
            t = self._move(v, depart, out)
            # both drift together from the start of the meeting
            self._stay(v, t, start + dur, mlat, mlon, status=0, drift_kn=drift_kn, drift_deg=drift_deg,
                       wobble_m=15, speed_kn=drift_kn, ref_t=start)
            elat, elon = destination(mlat, mlon, drift_deg, drift_kn * KN_TO_MS * dur)
            back = self._move(v, start + dur, self.route_point_to_port(elat, elon, port))
            mmsis.append(v.mmsi)
            if not v.class_b and not declared_change:
                # it sailed declaring the other's port, and after the meeting declares its own, where it goes
                other = (pb, pa)[k]
                v.voyages.append((depart, self.destination_text(port, other), start + dur + 6 * 3600))
                tc = start + dur + 600
                v.voyages.append((tc, self.destination_text(other, port), back))
                if tc < self.t1:
                    self.truth.append({"type": "destination_change", "vessels": [{"mmsi": v.mmsi}], "_t0": tc,
                                       "_t1": tc + STATIC_INTERVAL_S, "zone": None})
                declared_change = True
        self.truth.append({"type": "rendezvous", "vessels": [{"mmsi": m} for m in sorted(mmsis)], "_t0": start,
                           "_t1": start + dur, "zone": None})

    def _ev_loitering(self) -> None:
        lat, lon, pa, pb = self._meeting_point()
        dur = float(self.rng.uniform(5, 7) * 3600)
        start = self._event_time(dur / 3600 + 0.5)
        v = self._vessel(str(self.rng.choice(["tanker", "cargo"])), home=pa)
        out = self.route_to_point(pa, lat, lon)
        dist = sum(haversine_m(*out[i], *out[i + 1]) for i in range(len(out) - 1))
        depart = start - dist / (v.speed_kn * KN_TO_MS)
        if depart > self.t0:
            self._stay(v, self.t0 - 3600, depart, *self._berth_spot(pa), status=5)
        t = self._move(v, depart, out)
        drift_kn = float(self.rng.uniform(0.3, 1.2))
        drift_deg = self._clear_drift(lat, lon, drift_kn * KN_TO_MS * (start + dur - t))
        if drift_deg is None:
            drift_kn, drift_deg = 0.0, 0.0
        self._stay(v, t, start + dur, lat, lon, status=0, drift_kn=drift_kn, drift_deg=drift_deg, wobble_m=30,
                   speed_kn=max(drift_kn, 0.3))
        elat, elon = destination(lat, lon, drift_deg, drift_kn * KN_TO_MS * (start + dur - t))
        self._move(v, start + dur, self.route_point_to_port(elat, elon, pb))
        self.truth.append({"type": "loitering", "vessels": [{"mmsi": v.mmsi}], "_t0": t, "_t1": start + dur,
                           "zone": None})

    def _clear_drift(self, lat: float, lon: float, dist_m: float) -> float | None:
        """A drift direction (deg) whose whole drift of ``dist_m`` stays clear of land, or None."""
        start = float(self.rng.uniform(0, 360))
        for k in range(36):
            deg = (start + 10 * k) % 360
            elat, elon = destination(lat, lon, deg, dist_m)
            if self.grid.is_open_water(elat, elon) and self.grid.clear(lat, lon, elat, elon):
                return deg
        return None

    def _fishing_zones(self) -> list[Any]:
        if self.zones is None:
            return []
        return [z for z in self.zones.zones if z.vessel_types and "fishing" in z.vessel_types
                and "entry" in z.alert_on and z.kind in ("mpa", "restricted")]

    def _ev_fishing_entry(self) -> None:
        zones = self._fishing_zones()
        if not zones:
            return
        z = zones[int(self.rng.integers(len(zones)))]
        c = z.geometry.representative_point()
        home = min(range(len(self.ports)), key=lambda i: haversine_m(self.ports[i].lat, self.ports[i].lon, c.y, c.x))
        v = self._vessel("fishing", home=home)
        # a point inside the zone, in water
        pt = None
        for _ in range(200):
            minx, miny, maxx, maxy = z.geometry.bounds
            x, y = self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy)
            if shapely.contains_xy(z.geometry, x, y) and not shapely.dwithin(
                    self.grid.land, shapely.Point(x, y), BERTH_CLEARANCE_M / M_PER_DEG_LAT):
                pt = (float(y), float(x))
                break
        if pt is None:
            self.vessels.remove(v)
            return
        t = self._event_time(3)
        route_in = self._approach(home, pt)
        t0 = t - 600
        self._stay(v, self.t0 - 3600, t0, *self._berth_spot(home), status=5)
        t = self._move(v, t0, route_in)
        # working the spot: moving about it, not drifting away (coastal zones are narrow)
        t = self._stay(v, t, t + float(self.rng.uniform(1, 2) * 3600), pt[0], pt[1], status=7, wobble_m=150,
                       speed_kn=2.0)
        self._move(v, t, list(reversed(route_in)))

    def _approach(self, home: int, pt: tuple[float, float]) -> list[tuple[float, float]]:
        """Route from a port's berth to a point near the coast (through the grid when a straight leg is blocked)."""
        blat, blon = self.berths[home]
        if not self.grid.leg_land_raw_intersects(blat, blon, pt[0], pt[1]):
            return [(blat, blon), pt]
        node = self.grid.nearest_water(pt[0], pt[1])
        n = self.grid.node(node)
        mid = self.grid.path(self.port_node[home], node)
        return [(blat, blon), *mid, (n.lat, n.lon), pt]

    def _ev_jump(self) -> None:
        v = self._vessel(str(self.rng.choice(["cargo", "tanker"])))
        self._plan_transit(v)
        for _ in range(50):
            t = self._event_time(1)
            if self._moving_at(v, t, 600):
                v.jumps.append(t)
                self.truth.append({"type": "position_jump", "vessels": [{"mmsi": v.mmsi}], "_t0": t - 60,
                                   "_t1": t + 60, "zone": None})
                return

    def _ev_pass_close(self) -> None:
        lat, lon, pa, pb = self._meeting_point()
        t_meet = self._event_time(2)
        heading = float(self.rng.uniform(0, 180))
        for k, port in enumerate((pa, pb)):
            v = self._vessel("cargo", home=port)
            v.speed_kn = float(self.rng.uniform(11, 16))
            hd = heading if k == 0 else (heading + 180) % 360
            side_lat, side_lon = destination(lat, lon, (heading + 90) % 360, 150.0 * k)
            s_lat, s_lon = destination(side_lat, side_lon, (hd + 180) % 360, 15000)
            e_lat, e_lon = destination(side_lat, side_lon, hd, 15000)
            if not (self.grid.is_open_water(s_lat, s_lon) and self.grid.is_open_water(e_lat, e_lon)
                    and self.grid.clear(s_lat, s_lon, e_lat, e_lon)):
                self.vessels.remove(v)
                return
            t_start = t_meet - 15000 / (v.speed_kn * KN_TO_MS)
            self._move(v, t_start, [(s_lat, s_lon), (e_lat, e_lon)])
            self._move(v, t_start + 30000 / (v.speed_kn * KN_TO_MS), self.route_point_to_port(e_lat, e_lon, port))
            self.negatives.append({"type": "pass_close_at_speed", "mmsi": v.mmsi, "start": iso(t_meet - 900),
                                   "end": iso(t_meet + 900)})

    def _ev_moored_together(self) -> None:
        port = int(self.rng.integers(len(self.ports)))
        lat, lon = self.berths[port]
        for k in range(3):
            v = self._vessel(str(self.rng.choice(["cargo", "tanker", "tug"])), home=port)
            mlat, mlon = destination(lat, lon, 0, 45.0 * k)
            self._stay(v, self.t0 - 3600, self.t1 + 3600, mlat, mlon, status=5, wobble_m=3)
            self.negatives.append({"type": "moored_together_in_port", "mmsi": v.mmsi, "start": iso(self.t0),
                                   "end": iso(self.t1)})

    def _ev_cargo_through_fishing_zone(self) -> None:
        zones = [z for z in self._fishing_zones() if z.kind == "restricted"]
        if not zones:
            return
        z = zones[0]
        c = z.geometry.representative_point()
        ports = sorted(range(len(self.ports)), key=lambda i: haversine_m(self.ports[i].lat, self.ports[i].lon,
                                                                          c.y, c.x))[:2]
        v = self._vessel("cargo", home=ports[0])
        t = self._event_time(4)
        self._stay(v, self.t0 - 3600, t, *self._berth_spot(ports[0]), status=5)
        leg = self._approach(ports[0], (c.y, c.x))
        t = self._move(v, t, leg)
        back = [(c.y, c.x), *reversed(self._approach(ports[1], (c.y, c.x))[:-1])]
        self._move(v, t, back)
        self.negatives.append({"type": "cargo_through_fishing_only_zone", "mmsi": v.mmsi, "zone": z.id})

    # -- ordinary life (nothing to alert) ---------------------------------------------

    def _ordinary(self, kind: str, v: Vessel, **extra: Any) -> None:
        self.negatives.append({"type": kind, "mmsi": v.mmsi, "ordinary": True, "start": iso(self.t0),
                               "end": iso(self.t1), **extra})

    def _ordinary_life(self) -> None:
        """About 110 yachts in six anchorages and eight boats at a FAD for an 800-vessel day (scaled; days of
        fewer than 100 vessels have none, so that small test days keep their traffic)."""
        if self.n < 100:
            return
        yachts = max(18, round(110 * self.n / 800))
        names = ("Admiralty Bay, Bequia", "Tobago Cays", "Rodney Bay", "Deshaies", "Prickly Bay", "Falmouth Harbour")
        spots = [a for a in ANCHORAGES if a.name in names]
        for i, a in enumerate(spots):
            self._ev_anchorage(a, yachts // len(spots) + (1 if i < yachts % len(spots) else 0))
        self._ev_fad(max(3, min(8, self.n // 50)))
        self._ev_cruise_with_tenders()
        self._ev_tug_alongside()
        self._ev_pilot_boarding()
        self._ev_shared_mmsi()
        self._ev_satellite_batches(max(3, min(10, self.n // 80)))

    def _ev_anchorage(self, a: Anchorage, count: int) -> None:
        """``count`` Class B yachts swinging at anchor 100-300 m apart in anchorage ``a``."""
        home = min(range(len(self.ports)), key=lambda i: haversine_m(self.ports[i].lat, self.ports[i].lon,
                                                                     a.lat, a.lon))
        side = max(1, math.ceil(count ** 0.5))
        spacing = float(self.rng.uniform(100, 300))
        for k in range(count):
            v = self._vessel("yacht", home=home)
            v.sends_static = bool(self.rng.random() < 0.4)
            r, c = divmod(k, side)
            lat, lon = destination(*destination(a.lat, a.lon, 180, (r - side / 2) * spacing), 90,
                                   (c - side / 2) * spacing)
            self._stay(v, self.t0 - 3600, self.t1 + 3600, lat, lon, status=15,
                       wobble_m=float(self.rng.uniform(10, 30)), speed_kn=float(self.rng.uniform(0.0, 0.5)))
            self._ordinary("yacht_at_anchor", v, zone=a.name)

    def _ev_fad(self, count: int) -> None:
        """Small boats working one fish aggregating device offshore for the day, within a kilometre."""
        a = int(self.rng.integers(len(self.ports)))
        p = self.ports[a]
        lat, lon = self.sea_point_near(p.lat, p.lon, 15, 40, far_from_ports_km=12)
        for k in range(count):
            v = self._vessel("fishing_b", home=a)
            v.sends_static = bool(k % 2)
            blat, blon = destination(lat, lon, float(self.rng.uniform(0, 360)), float(self.rng.uniform(50, 600)))
            self._stay(v, self.t0 - 3600, self.t1 + 3600, blat, blon, status=15,
                       wobble_m=float(self.rng.uniform(80, 250)), speed_kn=float(self.rng.uniform(0.5, 1.8)))
            self._ordinary("fishing_at_fad", v)

    def _ev_cruise_with_tenders(self) -> None:
        """A cruise ship at anchor 2 km off a port all day, with two tenders alongside it in turns."""
        a = int(self.rng.integers(len(self.ports)))
        p = self.ports[a]
        lat, lon = self.sea_point_near(p.lat, p.lon, 1.5, 3.0)
        ship = self._vessel("cruise", home=a)
        self._stay(ship, self.t0 - 3600, self.t1 + 3600, lat, lon, status=1, wobble_m=40)
        self._ordinary("cruise_ship_at_anchor", ship)
        for k in range(2):
            tender = self._vessel("ferry", home=a)
            tender.length_m, tender.ship_type, tender.speed_kn = 12, 60, 8.0
            t = self.t0 - 3600 + 1800 * k
            tlat, tlon = destination(lat, lon, 90 + 180 * k, 60)
            while t < self.t1 + 3600:
                # alongside for 2.5 h (passengers boarding), then a round trip to the quay
                t = self._stay(tender, t, t + 9000, tlat, tlon, status=0, wobble_m=8, speed_kn=0.3)
                t = self._move(tender, t, [(tlat, tlon), self.berths[a]], speed=8.0)
                t = self._stay(tender, t, t + 1200, *self.berths[a], status=0, wobble_m=5)
                t = self._move(tender, t, [self.berths[a], (tlat, tlon)], speed=8.0)
            self._ordinary("cruise_tender", tender)

    def _ev_tug_alongside(self) -> None:
        """A tug alongside a tanker at anchor 5 km off a port for three hours."""
        a = int(self.rng.integers(len(self.ports)))
        p = self.ports[a]
        lat, lon = self.sea_point_near(p.lat, p.lon, 4, 6)
        tanker = self._vessel("tanker", home=a)
        self._stay(tanker, self.t0 - 3600, self.t1 + 3600, lat, lon, status=1, wobble_m=30)
        tug = self._vessel("tug", home=a)
        start = self._event_time(4)
        self._stay(tug, self.t0 - 3600, start - 1200, *self._berth_spot(a), status=5)
        tlat, tlon = destination(lat, lon, 90, 40)
        t = self._move(tug, start - 1200, [self.berths[a], (tlat, tlon)], speed=9.0)
        t = self._stay(tug, t, t + 3 * 3600, tlat, tlon, status=0, wobble_m=6, speed_kn=0.2)
        self._move(tug, t, [(tlat, tlon), self.berths[a]], speed=9.0)
        self._ordinary("tanker_at_anchor", tanker)
        self._ordinary("tug_alongside", tug)

    def _ev_pilot_boarding(self) -> None:
        """A pilot boat lying alongside a ship waiting at the pilot station 6 km off a port for 2.5 h."""
        a = int(self.rng.integers(len(self.ports)))
        p = self.ports[a]
        lat, lon = self.sea_point_near(p.lat, p.lon, 5, 7)
        ship = self._vessel("cargo", home=a)
        start = self._event_time(3)
        self._stay(ship, self.t0 - 3600, self.t1 + 3600, lat, lon, status=0, wobble_m=25, speed_kn=0.4)
        pilot = self._vessel("tug", home=a)
        pilot.ship_type, pilot.length_m = 50, 16
        self._stay(pilot, self.t0 - 3600, start - 900, *self._berth_spot(a), status=5)
        plat, plon = destination(lat, lon, 270, 50)
        t = self._move(pilot, start - 900, [self.berths[a], (plat, plon)], speed=12.0)
        t = self._stay(pilot, t, t + 2.5 * 3600, plat, plon, status=0, wobble_m=10, speed_kn=0.4)
        self._move(pilot, t, [(plat, plon), self.berths[a]], speed=12.0)
        self._ordinary("ship_at_pilot_station", ship)
        self._ordinary("pilot_alongside", pilot)

    def _ev_shared_mmsi(self) -> None:
        """Two vessels whose transponders both carry the factory-default MMSI 1193046."""
        for _ in range(2):
            v = self._vessel("cargo")
            v.mmsi = 1193046
            self._plan_transit(v)
            self._ordinary("shared_default_mmsi", v)
        # the one alert this scene should raise: several transmitters share the MMSI
        self.truth.append({"type": "identity_anomaly", "vessels": [{"mmsi": 1193046}], "_t0": self.t0,
                           "_t1": self.t1, "zone": None})

    def _ev_satellite_batches(self, count: int) -> None:
        """Ships on passage that a delivery-time satellite service hears as well as the shore receivers."""
        for k in range(count):
            v = self._vessel(("cargo", "tanker")[k % 2])
            v.sat_batch = True
            self._plan_transit(v)
            self._ordinary("satellite_batch_delivery", v)

    # -- building the day -------------------------------------------------------------

    def build(self, progress: Callable[[float], None] | None = None) -> None:
        """Plan every vessel's day and script the events (``progress``: called with the share done, 0-1)."""
        self._script()
        kinds = list(_MIX)
        shares = np.array([_MIX[k][0] for k in kinds])
        while len(self.vessels) < self.n:
            kind = kinds[int(self.rng.choice(len(kinds), p=shares / shares.sum()))]
            v = self._vessel(kind)
            if kind in ("fishing", "fishing_b"):
                self._plan_fishing(v)
            elif kind == "yacht":
                self._plan_yacht(v)
            elif kind == "ferry":
                self._plan_transit(v, max_km=250)
            elif kind == "tug":
                self._plan_local(v, 6, (2, 8))
            elif kind == "patrol":
                self._plan_local(v, 40, (4, 12))
            else:
                self._plan_transit(v)
            if progress is not None and len(self.vessels) % 20 == 0:
                progress(len(self.vessels) / self.n)
        for v in self.vessels:
            self._pad(v)

    def _pad(self, v: Vessel) -> None:
        """Keep every vessel transmitting to the end: moored where its last leg ended."""
        last = max(v.segments, key=lambda s: s.t1)
        if last.t1 < self.t1 + 3600:
            lat, lon = float(last.lats[-1]), float(last.lons[-1])
            if last.kind == "stay" and last.drift_kn:
                lat, lon = destination(lat, lon, last.drift_deg,
                                       last.drift_kn * KN_TO_MS * (last.t1 - (last.ref_t or last.t0)))
            self._stay(v, last.t1, self.t1 + 3600, lat, lon, status=5 if last.kind == "move" else last.status)

    # -- sampling -------------------------------------------------------------------

    def _interval(self, v: Vessel, seg: Segment) -> float:
        if v.class_b:
            return 180.0 if seg.kind == "stay" and seg.speed_kn < 2 else 30.0
        if seg.kind == "stay" and seg.status in (1, 5):
            return 180.0
        sp = seg.speed_kn
        return 10.0 if sp <= 14 else 6.0 if sp <= 23 else 2.0

    def sample(self, v: Vessel, w0: float, w1: float) -> dict[str, np.ndarray] | None:
        """The vessel's true reports in [w0, w1): times, positions, speeds, courses, statuses."""
        cols: dict[str, list[np.ndarray]] = {k: [] for k in ("t", "lat", "lon", "sog", "cog", "hdg", "status")}
        for seg in v.segments:
            if seg.t1 <= w0 or seg.t0 >= w1:
                continue
            step = self._interval(v, seg)
            first = math.ceil((max(seg.t0, w0) - v.phase) / step) * step + v.phase
            ts = np.arange(first, min(seg.t1, w1), step)
            if len(ts) == 0:
                continue
            if seg.kind == "move":
                d = (ts - seg.t0) * seg.speed_kn * KN_TO_MS
                lat = np.interp(d, seg.cum_m, seg.lats)
                lon = np.interp(d, seg.cum_m, seg.lons)
                k = np.clip(np.searchsorted(seg.cum_m, d, side="right") - 1, 0, max(0, len(seg.lats) - 2))
                if len(seg.lats) > 1:
                    cog = np.array([bearing_deg(seg.lats[i], seg.lons[i], seg.lats[i + 1], seg.lons[i + 1])
                                    for i in range(len(seg.lats) - 1)])[k]
                else:
                    cog = np.zeros(len(ts))
                sog = seg.speed_kn + self.rng.normal(0, 0.15, len(ts))
            else:
                el = ts - seg.t0
                dd = seg.drift_kn * KN_TO_MS * np.maximum(0.0, ts - (seg.ref_t if seg.ref_t is not None else seg.t0))
                wob = seg.wobble_m * np.sin(el / 900.0 + v.phase)
                north = dd * math.cos(math.radians(seg.drift_deg)) + wob
                east = dd * math.sin(math.radians(seg.drift_deg)) + seg.wobble_m * np.cos(el / 1300.0 + v.phase)
                lat = seg.lats[0] + north / M_PER_DEG_LAT
                lon = seg.lons[0] + east / (M_PER_DEG_LAT * math.cos(math.radians(seg.lats[0])))
                sog = np.abs(seg.speed_kn + self.rng.normal(0, 0.08, len(ts))) if seg.speed_kn else \
                    np.abs(self.rng.normal(0, 0.05, len(ts)))
                cog = np.full(len(ts), seg.drift_deg) if seg.drift_kn else self.rng.uniform(0, 360, len(ts))
            cols["t"].append(ts)
            cols["lat"].append(np.asarray(lat))
            cols["lon"].append(np.asarray(lon))
            cols["sog"].append(np.clip(sog, 0, 102.2))
            cols["cog"].append(np.asarray(cog) % 360)
            cols["hdg"].append(np.round(np.asarray(cog)) % 360)
            cols["status"].append(np.full(len(ts), 15 if v.class_b else seg.status))
        if not cols["t"]:
            return None
        out = {k: np.concatenate(vs) for k, vs in cols.items()}
        keep = np.ones(len(out["t"]), dtype=bool)
        for a, b in v.silent:
            keep &= ~((out["t"] >= a) & (out["t"] < b))
        out = {k: arr[keep] for k, arr in out.items()}
        for tj in v.jumps:
            i = np.searchsorted(out["t"], tj)
            if i < len(out["t"]) and w0 <= tj < w1:
                v.jumped_at.append(float(out["t"][i]))
                for _ in range(50):  # a spoofed or garbled fix, but still at sea
                    jlat, jlon = destination(float(out["lat"][i]), float(out["lon"][i]),
                                             float(self.rng.uniform(0, 360)), float(self.rng.uniform(60, 120)) * 1852)
                    if self.grid.is_open_water(jlat, jlon):
                        break
                out["lat"][i] = jlat
                out["lon"][i] = jlon
        return out

    # -- writing --------------------------------------------------------------------

    def write(self, out_dir: str | Path, chunk_s: float | None = None,
              progress: Callable[[float], None] | None = None) -> dict[str, Any]:
        """Write ``traffic.nmea`` and ``truth.json``; return counts (``progress``: called with the share of
        simulated time written, 0-1).

        Reports are made ``chunk_s`` of simulated time at a time (by default about
        200 vessel-hours a chunk), so memory stays flat however large the fleet.
        """
        if chunk_s is None:
            chunk_s = max(300.0, min(3600.0, 3600.0 * 200 / max(1, len(self.vessels))))
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        rx_names = [f"rx-{p.name.lower().replace(' ', '-').replace('.', '').replace(chr(39), '')}"
                    for p in self.ports]
        rx_lat = np.array([p.lat for p in self.ports])
        rx_lon = np.array([p.lon for p in self.ports])
        statics: dict[tuple[int, int], list[tuple[str, int]]] = {}

        def static_of(v: Vessel, ts: float) -> list[tuple[str, int]]:
            k, text, eta_s = self._declared_at(v, ts)
            got = statics.get((id(v), k))
            if got is None:
                eta = None
                if eta_s is not None:
                    d = datetime.fromtimestamp(eta_s, UTC)
                    eta = (d.month, d.day, d.hour, d.minute)
                got = statics[(id(v), k)] = static_payloads(
                    v.mmsi, class_b=v.class_b, name=v.name, callsign=v.callsign, imo=v.imo, ship_type=v.ship_type,
                    length_m=v.length_m, beam_m=v.beam_m, draught_m=round(v.length_m / 20, 1), destination=text,
                    eta=eta)
            return got
        watch = {t["vessels"][0]["mmsi"] for t in self.truth if t["type"] in ("dark_gap", "position_jump")}
        emitted: dict[int, list[float]] = {m: [] for m in watch}
        n_lines = n_msgs = n_corrupt = 0
        seq = 0
        reception = Reception(self.rng, rx_names, rx_lat, rx_lon,
                              frozenset(v.mmsi for v in self.vessels if v.sat_batch))
        self._geofence = GeofenceTruth(self.zones, _SHARED_MMSIS)
        with (out / "traffic.nmea").open("wb") as fh:
            w = self.t0
            while w < self.t1:
                w_end = min(self.t1, w + chunk_s)
                rows: list[tuple[float, int, bytes]] = []
                parts = []
                for v in self.vessels:
                    s = self.sample(v, w, w_end)
                    if s is None:
                        continue
                    n = len(s["t"])
                    s["mmsi"] = np.full(n, v.mmsi, dtype=np.int64)
                    s["b"] = np.full(n, v.class_b)
                    parts.append(s)
                    step = max(1, int(30 / max(1.0, float(np.median(np.diff(s["t"]))) if n > 1 else 30)))
                    self._geofence.step(v, s["t"][::step], s["lat"][::step], s["lon"][::step], s["sog"][::step])
                    # static reports every 6 minutes
                    for ts in np.arange(math.ceil((w - v.phase * 7) / STATIC_INTERVAL_S) * STATIC_INTERVAL_S
                                        + v.phase * 7, w_end, STATIC_INTERVAL_S):
                        if any(a <= ts < b for a, b in v.silent) or not self._alive(v, ts):
                            continue
                        i = int(np.searchsorted(s["t"], ts).clip(0, n - 1))
                        for payload, fill in (static_of(v, float(ts)) if v.sends_static else ()):
                            seq = (seq + 1) % 10
                            rows.append((float(ts), int(seq), self._static_lines(payload, fill, seq),
                                         float(s["lat"][i]), float(s["lon"][i])))  # type: ignore[arg-type]
                if parts:
                    msgs = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
                    payloads = position_payloads(msgs["mmsi"], msgs["lat"], msgs["lon"], msgs["sog"], msgs["cog"],
                                                 msgs["hdg"], msgs["status"],
                                                 np.floor(msgs["t"]).astype(np.int64) % 60, msgs["b"])
                    n_msgs += len(payloads)
                    for i in range(len(payloads)):
                        rows.append((float(msgs["t"][i]), -1, payloads[i].tobytes(), float(msgs["lat"][i]),
                                     float(msgs["lon"][i]), int(msgs["mmsi"][i])))  # type: ignore[arg-type]
                lines = reception.receive(rows, emitted)
                lines.sort(key=lambda x: x[0])
                for _t, line in lines:
                    if self.rng.random() < 0.002:
                        line = reception.corrupt(line)
                        n_corrupt += 1
                    fh.write(line + b"\n")
                    n_lines += 1 + line.count(b"\n")
                w = w_end
                if progress is not None:
                    progress((w - self.t0) / (self.t1 - self.t0))
        truth = self._finish_truth(emitted)
        doc = {"generator": "maritime simulate", "seed": self.seed, "start": iso(self.t0), "end": iso(self.t1),
               "vessels": len(self.vessels), "events": truth, "hard_negatives": self.negatives}
        (out / "truth.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        return {"lines": n_lines, "messages": n_msgs, "corrupted": n_corrupt, "vessels": len(self.vessels),
                "events": len(truth)}

    def _alive(self, v: Vessel, t: float) -> bool:
        return any(s.t0 <= t < s.t1 for s in v.segments)

    def _static_lines(self, payload: str, fill: int, seq: int) -> bytes:
        return b"\n".join(sentences(payload, fill, seq))

    def _finish_truth(self, emitted: dict[int, list[float]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for ev in self.truth:
            ev = dict(ev)
            t0, t1 = ev.pop("_t0"), ev.pop("_t1")
            m = ev["vessels"][0]["mmsi"]
            if ev["type"] == "dark_gap":
                ts = np.array(sorted(emitted.get(m, [])))
                before = ts[ts < t0]
                after = ts[ts >= t1]
                if len(before) < 3:
                    continue
                t0 = float(before[-1])
                t1 = float(after[0]) if len(after) else None
            elif ev["type"] == "position_jump":
                ts = np.array(sorted(emitted.get(m, [])))
                v = next(x for x in self.vessels if x.mmsi == m)
                received = [tj for tj in v.jumped_at if np.any(ts == tj)]
                if not received:
                    continue
                t0, t1 = received[0] - 60, received[0] + 60
            ev["start"] = iso(t0)
            ev["end"] = iso(t1) if t1 is not None else None
            out.append(ev)
        out.extend(self._geofence.truth)
        for ev in out:
            for vv in ev["vessels"]:
                v = next(x for x in self.vessels if x.mmsi == vv["mmsi"])
                vv.update(name=v.name, ship_type=v.ship_type, category=v.category)
        return sorted(out, key=lambda e: (e["start"] or "", e["type"]))
