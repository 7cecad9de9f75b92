"""The simulator's scripted events with their truth (dark gaps, rendezvous, loitering, fishing-zone entries,
position jumps, undeclared arrivals), the hard negatives, and ordinary life that must raise nothing (yachts at
anchor, a fish aggregating device, a cruise ship with tenders, tugs and pilots alongside, a shared MMSI,
satellite batches)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import shapely

from maritime.geo import KN_TO_MS, M_PER_DEG_LAT, destination, haversine_m
from maritime.models import iso
from maritime.sim.fleet import BERTH_CLEARANCE_M, STATIC_INTERVAL_S, Vessel
from maritime.sim.planning import VoyagePlanner
from maritime.zones.caribbean import ANCHORAGES, Anchorage


class ScriptedEvents(VoyagePlanner):
    """Scripts the events of the day and the ordinary scenes beside them (truth and negatives)."""

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
