"""The simulator's ground: the region's ports, berths and water routes, the fleet's vessels, and the ordinary
days they sail (transits between ports with their declared destinations, fishing, yachts, local work)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from maritime.geo import KN_TO_MS, M_PER_DEG_LAT, bearing_deg, destination, haversine_m, landmask
from maritime.geo.routing import WaterGrid, shared_grid, wet_leg
from maritime.sim.fleet import BERTH_CLEARANCE_M, MIX, NAMES, NAMES2, Segment, Vessel
from maritime.zones.caribbean import FLAG_MIDS, PORTS, Port
from maritime.zones.index import ZoneIndex

#: the simulated day begins at 2025-05-14T00:00:00Z unless told otherwise (POSIX s)
DEFAULT_START = 1_747_180_800.0


class VoyagePlanner:
    """The simulator's state, its geography (berths, water routes) and the ordinary voyages of the fleet."""

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
        self.grid = grid or shared_grid()
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
        _share, ship_type, class_b, speeds, lengths = MIX[kind]
        length = int(self.rng.integers(*lengths))
        name = f"{NAMES[int(self.rng.integers(len(NAMES)))]} {NAMES2[int(self.rng.integers(len(NAMES2)))]}"
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
