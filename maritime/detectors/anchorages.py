"""Learned anchorages: the places where many distinct vessels rest, learned from the stream.

Global Fishing Watch built its anchorage list from where vessels stop: a
vessel is stationary while it stays within 0.8 km of where it stopped, and a
grid cell (S2 level 13, about 1.1 km across) is an anchorage when enough
distinct vessels were stationary in it. The same idea, scaled to a live
stream: a vessel *rests* when it stays under ``rest_max_sog_kn`` within
``rest_radius_m`` for ``rest_min_h``; the cell of its mean position (a
``cell_deg`` grid, 0.01°, about 1.1 km) remembers it; a cell that ``min_vessels``
distinct vessels have rested in, or any cell next to it, is a learned
anchorage. A bay nobody drew stops producing meetings once it has been seen.

A vessel resting while it is part of a rendezvous that was alerted does not
teach the place (a meeting point at sea must not become an "anchorage").
The cells are plain data: a Faust table keeps them with the rendezvous
state, and a profile store (SQLite or Redis) keeps them across restarts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import msgspec

from maritime.config import AnchorageSettings
from maritime.geo import fast_distance_m
from maritime.models import Position

Cell = tuple[int, int]
#: at most this many vessels are remembered per cell (enough to know it is busy)
MAX_PER_CELL = 64


class RestStore(Protocol):
    """Where learned rests are kept across restarts (both profile stores keep them)."""

    def add_rest(self, cell: Cell, mmsi: int, time_s: float) -> None: ...
    def rests(self) -> list[tuple[Cell, int, float]]: ...


class Rest(msgspec.Struct, array_like=True, gc=False):
    """One vessel's rest in progress: where and when it began (s, degrees), its last fix (s), the sums for
    its mean position, and whether it has been counted (or judged not to count)."""

    t0: float
    lat0: float
    lon0: float
    last: float
    sum_lat: float
    sum_lon: float
    n: int = 1
    counted: bool = False


class LearnedAnchorages:
    """Rest periods per vessel and the vessels that rested in each cell."""

    def __init__(self, settings: AnchorageSettings, store: RestStore | None = None) -> None:
        self.s = settings
        self.store = store
        self.cell_deg = settings.cell_deg
        self.rest_s = settings.rest_min_h * 3600
        #: per MMSI: its rest in progress
        self.resting: dict[int, Rest] = {}
        #: per cell: {mmsi: event time of its first rest there}
        self.cells: dict[Cell, dict[int, float]] = {}
        if store is not None:
            for cell, mmsi, t in store.rests():
                self._remember(cell, mmsi, t, persist=False)

    def cell_of(self, lat: float, lon: float) -> Cell:
        """The grid cell of a point."""
        s = self.cell_deg
        return math.floor(lat / s), math.floor(lon / s)

    def _remember(self, cell: Cell, mmsi: int, t: float, persist: bool = True) -> None:
        members = self.cells.setdefault(cell, {})
        if mmsi in members or len(members) >= MAX_PER_CELL:
            return
        members[mmsi] = t
        if persist and self.store is not None:
            self.store.add_rest(cell, mmsi, t)

    def observe(self, pos: Position, excluded: Callable[[int], bool | None]) -> None:
        """Follow one vessel's rest; ``excluded(mmsi)`` says whether it is in an alerted meeting now
        (True: the rest does not count; None: not known yet, asked again at the next fix)."""
        sog = pos.sog_kn
        slow = sog is not None and sog < self.s.rest_max_sog_kn
        r = self.resting.get(pos.mmsi)
        if r is not None and (not slow or fast_distance_m(r.lat0, r.lon0, pos.lat, pos.lon) > self.s.rest_radius_m
                              or pos.time_s - r.last > self.rest_s):
            r = None
        if not slow:
            self.resting.pop(pos.mmsi, None)
            return
        if r is None:
            self.resting[pos.mmsi] = Rest(pos.time_s, pos.lat, pos.lon, pos.time_s, pos.lat, pos.lon)
            return
        r.last = pos.time_s
        r.sum_lat += pos.lat
        r.sum_lon += pos.lon
        r.n += 1
        if not r.counted and r.last - r.t0 >= self.rest_s:
            verdict = excluded(pos.mmsi)
            if verdict is not None:
                r.counted = True
                if not verdict:
                    self._remember(self.cell_of(r.sum_lat / r.n, r.sum_lon / r.n), pos.mmsi, pos.time_s)

    def forget_vessel(self, mmsi: int) -> None:
        """Drop a vessel's rest in progress (the stage no longer holds it)."""
        self.resting.pop(mmsi, None)

    def anchorage_at(self, lat: float, lon: float) -> tuple[Cell, int] | None:
        """The busiest learned cell at or next to a point, with its number of vessels; None if none."""
        ci, cj = self.cell_of(lat, lon)
        best: tuple[Cell, int] | None = None
        need = self.s.min_vessels
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                members = self.cells.get((ci + di, cj + dj))
                if members is not None and len(members) >= need and (best is None or len(members) > best[1]):
                    best = ((ci + di, cj + dj), len(members))
        return best

    def learned(self) -> list[dict[str, Any]]:
        """The learned anchorages: each cell with enough vessels, its bounds (deg) and its vessels."""
        s = self.cell_deg
        out = []
        for (i, j), members in sorted(self.cells.items()):
            if len(members) >= self.s.min_vessels:
                out.append({"cell": [i, j], "south": i * s, "west": j * s, "north": (i + 1) * s,
                            "east": (j + 1) * s, "vessels": sorted(members), "first_s": min(members.values())})
        return out

    # -- plain data for tables ------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything held, as plain data."""
        return {"resting": [[m, *msgspec.to_builtins(r)] for m, r in self.resting.items()],
                "cells": [[list(c), [[m, t] for m, t in members.items()]] for c, members in self.cells.items()]}

    def restore(self, snap: dict[str, Any]) -> None:
        """Take back what :meth:`snapshot` gave (cells merge with those already known)."""
        for m, *r in snap.get("resting", []):
            self.resting[int(m)] = msgspec.convert(r, Rest)
        for c, members in snap.get("cells", []):
            cell = (int(c[0]), int(c[1]))
            for m, t in members:
                self._remember(cell, int(m), float(t), persist=False)


def zone_features(cells: Iterable[dict[str, Any]], settings: AnchorageSettings) -> list[dict[str, Any]]:
    """Learned anchorages as zone GeoJSON features (``kind: anchorage``), neighbouring cells joined."""
    import shapely
    from shapely.geometry import box, mapping

    items = list(cells)
    if not items:
        return []
    blobs = shapely.union_all([box(c["west"], c["south"], c["east"], c["north"]).buffer(1e-9) for c in items])
    out = []
    for k, poly in enumerate(getattr(blobs, "geoms", [blobs])):
        inside = [c for c in items if poly.intersects(box(c["west"], c["south"], c["east"], c["north"]))]
        vessels = sorted({m for c in inside for m in c["vessels"]})
        cen = poly.centroid
        out.append({"type": "Feature", "geometry": mapping(shapely.simplify(poly, 1e-6)), "properties": {
            "id": f"learned-{k + 1:03d}", "name": f"Learned anchorage near {cen.y:.3f}, {cen.x:.3f}",
            "kind": "anchorage", "alert_on": [], "approximate": True, "vessels_seen": len(vessels),
            "source": (f"learned by maritime zones learn: {len(vessels)} distinct vessels rested here (under "
                       f"{settings.rest_max_sog_kn:g} kn within {settings.rest_radius_m:g} m for "
                       f"{settings.rest_min_h:g} h); review before use"),
        }})
    return out
