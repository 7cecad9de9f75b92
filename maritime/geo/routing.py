"""Sea routes: a water grid over the region and shortest paths on it (for the simulator's voyages and the
arrivals board's route distances).

Water cells are those at least ``clearance_m`` from Natural Earth 10 m land;
routes are shortest paths on the 8-connected grid (scipy's Dijkstra), then
straightened wherever a straight leg stays clear of land. Every leg of a
route is checked against land buffered by ``leg_clearance_m``, so simulated
ships never cross land.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, box
from shapely.geometry.base import BaseGeometry

from maritime.geo import M_PER_DEG_LAT, haversine_m, landmask
from maritime.paths import keep_arrays, used
from maritime.zones.caribbean import REGION
from maritime.zones.geodata import countries, countries_source

logger = logging.getLogger(__name__)

#: the water grid's method: a change to :meth:`WaterGrid._water_mask` bumps it (cached grids are then made again)
GRID_VERSION = 2
#: water grids kept in the cache folder (the most recently used), each with its shortest-path trees
CACHED_GRIDS = 4


def wet_leg(lat0: float, lon0: float, lat1: float, lon1: float, step_m: float = 200.0) -> bool:
    """True when the straight leg is water in the 1 km GLOBE mask at every ``step_m`` (m)."""
    n = max(2, int(haversine_m(lat0, lon0, lat1, lon1) / step_m) + 1)
    f = np.linspace(0.0, 1.0, n)
    return not landmask.is_land(lat0 + (lat1 - lat0) * f, lon0 + (lon1 - lon0) * f).any()



def _wkb(geom: BaseGeometry) -> np.ndarray:
    """A geometry's WKB as bytes in an array (``np.savez`` without pickle)."""
    return np.frombuffer(shapely.to_wkb(geom), dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class Node:
    """A grid node: row, column and its centre."""

    row: int
    col: int
    lat: float
    lon: float


class WaterGrid:
    """Grid of water cells with shortest-path routing between them."""

    def __init__(self, cell_deg: float = 0.05, clearance_m: float = 4000.0, leg_clearance_m: float = 1500.0,
                 region: tuple[float, float, float, float] = REGION) -> None:
        self.cell_deg = cell_deg
        self.lon0, self.lat0, self.lon1, self.lat1 = region
        self.ncol = round((self.lon1 - self.lon0) / cell_deg)
        self.nrow = round((self.lat1 - self.lat0) / cell_deg)
        self._cache_file = self._cache_path(clearance_m, leg_clearance_m)
        cached = self._from_cache(clearance_m, leg_clearance_m)
        if cached is None:
            self.land, self.leg_land, self.raw_land = self._land(leg_clearance_m)
            self.water = self._water_mask(clearance_m)
            self._to_cache(clearance_m, leg_clearance_m)
        else:
            self.land, self.leg_land, self.raw_land, self.water = cached
        for g in (self.land, self.leg_land, self.raw_land):
            shapely.prepare(g)
        #: the grid as a sparse graph, made when a shortest-path tree is first searched (not when every tree
        #: needed comes from the cache: making it takes about 0.09 s)
        self._graph: Any = None
        self._trees: dict[int, np.ndarray] = {}
        logger.info("water grid %d x %d, %d water cells", self.nrow, self.ncol, int(self.water.sum()))

    # -- grid -------------------------------------------------------------------------

    def _land(self, leg_clearance_m: float) -> tuple[BaseGeometry, BaseGeometry, BaseGeometry]:
        """Natural Earth land around the region, and the same buffered for legs (``leg_clearance_m``) and for
        harbour approaches (700 m)."""
        area = box(self.lon0 - 1, self.lat0 - 1, self.lon1 + 1, self.lat1 + 1)
        parts = [c.geometry.intersection(area) for c in countries() if c.geometry.intersects(area)]
        land = shapely.union_all([p for p in parts if not p.is_empty])
        deg = leg_clearance_m / M_PER_DEG_LAT
        leg_land = shapely.buffer(shapely.simplify(land, deg / 4), deg, quad_segs=4)
        raw_land = shapely.buffer(land, 700 / M_PER_DEG_LAT, quad_segs=2)
        return land, leg_land, raw_land

    def _cache_path(self, clearance_m: float, leg_clearance_m: float) -> Path:
        """Where this grid is kept in the user's cache folder (:func:`maritime.paths.cache_dir`): named by
        what it is made from (the land data file, the grid's parameters and :data:`GRID_VERSION`)."""
        from maritime.paths import cache_dir

        key = hashlib.sha256(repr((GRID_VERSION, countries_source(), self.cell_deg, clearance_m, leg_clearance_m,
                                   self.lon0, self.lat0, self.lon1, self.lat1)).encode()).hexdigest()
        return cache_dir() / f"water-grid-{key[:20]}.npz"

    def _from_cache(self, clearance_m: float, leg_clearance_m: float
                    ) -> tuple[BaseGeometry, BaseGeometry, BaseGeometry, np.ndarray] | None:
        """The land geometries and the water mask kept from an earlier run (making them takes 2-3 s, mostly
        reading Natural Earth); None when there are none, or they are unreadable or of another grid."""
        try:
            with np.load(self._cache_file, allow_pickle=False) as got:
                water = got["water"]
                geoms = [shapely.from_wkb(got[k].tobytes()) for k in ("land", "leg_land", "raw_land")]
        except (OSError, ValueError, KeyError, shapely.errors.ShapelyError):
            return None
        if water.shape != (self.nrow, self.ncol) or water.dtype != np.bool_:
            return None
        used(self._cache_file)
        return geoms[0], geoms[1], geoms[2], water

    def _to_cache(self, clearance_m: float, leg_clearance_m: float) -> None:
        """Keep the land geometries and the water mask for the next run (a cache that cannot be written is only
        logged)."""
        keep_arrays(self._cache_file, "water grid", family=CACHED_GRIDS, water=self.water, land=_wkb(self.land),
                    leg_land=_wkb(self.leg_land), raw_land=_wkb(self.raw_land))

    def _water_mask(self, clearance_m: float) -> np.ndarray:
        fine = 4
        n_r, n_c = self.nrow * fine, self.ncol * fine
        step = self.cell_deg / fine
        lats = self.lat0 + (np.arange(n_r) + 0.5) * step
        lons = self.lon0 + (np.arange(n_c) + 0.5) * step
        glon, glat = np.meshgrid(lons, lats)
        land = shapely.contains_xy(self.land, glon.ravel(), glat.ravel()).reshape(n_r, n_c)
        from scipy import ndimage  # only when the grid is made (not read from the cache)

        radius = math.ceil(clearance_m / (step * M_PER_DEG_LAT * math.cos(math.radians(20))))
        yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
        near = ndimage.binary_dilation(land, structure=(yy ** 2 + xx ** 2) <= radius ** 2)
        blocks = near.reshape(self.nrow, fine, self.ncol, fine).any(axis=(1, 3))
        return ~blocks

    def idx(self, row: int, col: int) -> int:
        """Flat index of a cell."""
        return row * self.ncol + col

    def node(self, i: int) -> Node:
        """The node with flat index ``i``."""
        r, c = divmod(i, self.ncol)
        return Node(r, c, self.lat0 + (r + 0.5) * self.cell_deg, self.lon0 + (c + 0.5) * self.cell_deg)

    def _build_graph(self) -> Any:
        """The 8-connected graph of water cells, weighted by the distance between their centres (m), as a CSR
        matrix."""
        from scipy.sparse import coo_matrix

        rows, cols, w = [], [], []
        water = self.water
        r_all, c_all = np.nonzero(water)
        for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
            r1 = r_all + dr
            c1 = c_all + dc
            ok = (r1 < self.nrow) & (c1 >= 0) & (c1 < self.ncol)
            r0, c0, r1, c1 = r_all[ok], c_all[ok], r1[ok], c1[ok]
            ok = water[r1, c1]
            r0, c0, r1, c1 = r0[ok], c0[ok], r1[ok], c1[ok]
            lat = self.lat0 + (r0 + 0.5) * self.cell_deg
            dy = dr * self.cell_deg * M_PER_DEG_LAT
            dx = dc * self.cell_deg * M_PER_DEG_LAT * np.cos(np.radians(lat))
            d = np.hypot(dx, dy)
            i0 = r0 * self.ncol + c0
            i1 = r1 * self.ncol + c1
            rows += [i0, i1]
            cols += [i1, i0]
            w += [d, d]
        n = self.nrow * self.ncol
        return coo_matrix((np.concatenate(w), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)).tocsr()

    def nearest_water(self, lat: float, lon: float, max_cells: int = 40) -> int:
        """Flat index of the water cell nearest to (lat, lon)."""
        r0 = int((lat - self.lat0) / self.cell_deg)
        c0 = int((lon - self.lon0) / self.cell_deg)
        for rad in range(max_cells):
            best: tuple[float, int] | None = None
            for r in range(r0 - rad, r0 + rad + 1):
                for c in range(c0 - rad, c0 + rad + 1):
                    if max(abs(r - r0), abs(c - c0)) != rad or not (0 <= r < self.nrow and 0 <= c < self.ncol):
                        continue
                    if self.water[r, c]:
                        n = self.node(self.idx(r, c))
                        d = haversine_m(lat, lon, n.lat, n.lon)
                        if best is None or d < best[0]:
                            best = (d, self.idx(r, c))
            if best is not None:
                return best[1]
        raise ValueError(f"no water within {max_cells} cells of {lat}, {lon}")

    def is_open_water(self, lat: float, lon: float) -> bool:
        """True when (lat, lon) falls in a water cell (well clear of land)."""
        r = int((lat - self.lat0) / self.cell_deg)
        c = int((lon - self.lon0) / self.cell_deg)
        return 0 <= r < self.nrow and 0 <= c < self.ncol and bool(self.water[r, c])

    def clear(self, lat0: float, lon0: float, lat1: float, lon1: float) -> bool:
        """True when the straight leg between two points stays clear of land."""
        return not self.leg_land.intersects(LineString([(lon0, lat0), (lon1, lat1)])) and \
            wet_leg(lat0, lon0, lat1, lon1)

    def leg_land_raw_intersects(self, lat0: float, lon0: float, lat1: float, lon1: float) -> bool:
        """True when a short leg (a harbour approach) comes within about 700 m of land."""
        return bool(self.raw_land.intersects(LineString([(lon0, lat0), (lon1, lat1)])))

    # -- routes -----------------------------------------------------------------------

    def path(self, src: int, dst: int) -> list[tuple[float, float]]:
        """Shortest water path between two cells as (lat, lon) points, straightened."""
        pred = self._trees.get(src)
        if pred is None:
            pred = self._trees[src] = self.tree(src)
        chain = [dst]
        while chain[-1] != src:
            p = int(pred[chain[-1]])
            if p < 0:
                raise ValueError("no water route between these cells")
            chain.append(p)
        chain.reverse()
        pts = [(self.node(i).lat, self.node(i).lon) for i in chain]
        return self.straighten(pts)

    def _tree_file(self, src: int) -> Path:
        """Where the shortest-path tree from cell ``src`` is kept: beside the grid's own cache file, under the same
        key (the trees depend on nothing else)."""
        return self._cache_file.with_name(f"{self._cache_file.stem}-trees") / f"{src}.npz"

    def tree(self, src: int) -> np.ndarray:
        """The shortest-path tree from cell ``src``: each cell's predecessor toward ``src`` (-9999 where none).

        Dijkstra over the whole grid takes about 35 ms a tree, and a day's arrivals board needs one per port it
        routes to; a tree made once is kept in the user's cache folder (compressed, about 0.3 MB; read back in
        about 4 ms). A kept tree that is unreadable or not a tree of this grid is made again."""
        path = self._tree_file(src)
        n = self.nrow * self.ncol
        try:
            with np.load(path, allow_pickle=False) as got:
                pred = got["pred"]
            if pred.shape == (n,) and pred.dtype == np.int32 and int(pred[src]) == -9999:
                return pred
            logger.info("shortest-path tree %s is not one of this grid: made again", path)
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, EOFError) as err:
            logger.info("shortest-path tree %s unreadable (%s): made again", path, err)
        if self._graph is None:
            self._graph = self._build_graph()
        pred = _shortest_tree(self._graph, src)
        keep_arrays(path, "shortest-path tree", compress=True, pred=pred)
        return pred

    def straighten(self, pts: list[tuple[float, float]], reach: int = 80) -> list[tuple[float, float]]:
        """Drop intermediate points wherever a straight leg stays clear of land (greedy, ``reach`` ahead)."""
        if len(pts) <= 2:
            return pts
        out = [pts[0]]
        i = 0
        n = len(pts)
        while i < n - 1:
            j = min(n - 1, i + reach)
            while j > i + 1 and not self.clear(pts[i][0], pts[i][1], pts[j][0], pts[j][1]):
                j -= 1
            out.append(pts[j])
            i = j
        return out


def _shortest_tree(graph: Any, src: int) -> np.ndarray:
    """scipy's Dijkstra from cell ``src`` over ``graph``: each cell's predecessor (int32, -9999 where none).
    scipy is imported here, so a run whose trees all come from the cache does not load it (about 0.25 s)."""
    from scipy.sparse.csgraph import dijkstra

    _, pred = dijkstra(graph, directed=True, indices=src, return_predecessors=True)
    return np.asarray(pred, dtype=np.int32)


_SHARED: dict[tuple[float, float, float, tuple[float, float, float, float]], WaterGrid] = {}


def shared_grid(cell_deg: float = 0.05, clearance_m: float = 4000.0, leg_clearance_m: float = 1500.0,
                region: tuple[float, float, float, float] = REGION) -> WaterGrid:
    """One :class:`WaterGrid` per parameters for the whole process: the arrivals board of every pipeline and the
    simulator share it and its shortest-path trees (each tree about 20 ms, the grid about 1 s even from the
    cache). It holds nothing that depends on the traffic."""
    key = (cell_deg, clearance_m, leg_clearance_m, region)
    grid = _SHARED.get(key)
    if grid is None:
        grid = _SHARED[key] = WaterGrid(cell_deg, clearance_m, leg_clearance_m, region)
    return grid
