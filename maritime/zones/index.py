"""Zones: loading and validation of GeoJSON zone files, and a fast spatial index.

A zone file is a GeoJSON FeatureCollection (or a single Feature) following
the zone contract in DESIGN.md; a folder is every ``*.geojson`` / ``*.json``
in it. Problems are reported with the file, the feature and the reason, all
of them at once, and a bad file is refused as a whole unless the caller asks
for the good features only.

:class:`ZoneIndex` answers "which zones contain this point" with a cached
grid over an STRtree: cells wholly inside or outside every zone are answered
from a dict; only cells a zone boundary crosses test the point exactly with
shapely's ``contains_xy``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.ops
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from maritime.geo import M_PER_DEG_LAT, haversine_m
from maritime.models import SEVERITIES, Severity, ZoneRef, as_severity

logger = logging.getLogger(__name__)

ZONE_KINDS = ("territorial_sea", "eez", "contiguous_zone", "mpa", "restricted", "port", "anchorage", "custom")
ALERT_ON = ("entry", "exit", "dwell", "speed")
VESSEL_TYPES = ("fishing", "cargo", "tanker", "passenger", "pleasure", "sailing", "high_speed", "tug",
                "law_enforcement", "military", "other", "unknown")
#: Kinds that suppress rendezvous and loitering alerts inside (and near) them.
HARBOUR_KINDS = frozenset(("port", "anchorage"))
#: The Caribbean box used to recognise swapped coordinates (lon −90…−58, lat 7…28).
CARIBBEAN_LON = (-90.0, -58.0)
CARIBBEAN_LAT = (7.0, 28.0)


#: sub-cells to a side of a zone index cell a boundary crosses (0.02° / 8 = 0.0025°, about 280 m, for the ruled
#: zones): on a simulated Caribbean day 12 % of position reports fell in crossed cells, 1.1 % in crossed sub-cells
FINE = 8
#: cells to a side of the blocks the index works out at once
BLOCK = 2
#: how far each sub-cell is widened on every side (degrees, about 0.1 mm)
_FINE_PAD = 1e-9
#: cells to a side of the squares checked for any zone before their cells are worked out one block at a time (a
#: square no zone comes into has only empty cells: on a simulated day, 64 % of the blocks a replay visited)
COARSE = 10
assert COARSE % BLOCK == 0  # a block lies in one square


@dataclass(frozen=True)
class Zone:
    """One zone: its geometry (lon/lat, EPSG:4326) and its rules."""

    id: str
    name: str
    kind: str
    geometry: BaseGeometry
    alert_on: tuple[str, ...] = ()
    vessel_types: tuple[str, ...] | None = None
    max_speed_kn: float | None = None
    dwell_min: float | None = None
    severity: Severity | None = None
    authority: str | None = None
    source: str | None = None
    approximate: bool = False
    properties: dict[str, Any] = field(default_factory=dict, compare=False)
    file: str = field(default="", compare=False)

    @property
    def ref(self) -> ZoneRef:
        """The zone as carried on alerts."""
        return ZoneRef(id=self.id, kind=self.kind, name=self.name, authority=self.authority)

    def applies_to(self, category: str) -> bool:
        """True when the zone's rules apply to a vessel of this category."""
        return self.vessel_types is None or category in self.vessel_types

    def as_feature(self) -> dict[str, Any]:
        """The zone as a GeoJSON Feature."""
        return {"type": "Feature", "properties": self.properties,
                "geometry": shapely.geometry.mapping(self.geometry)}


@dataclass(frozen=True, slots=True)
class ZoneProblem:
    """One problem in a zone file: where it is and what is wrong."""

    file: str
    feature: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.feature}: {self.reason}"


class ZoneError(Exception):
    """Zone files that cannot be used; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[ZoneProblem]) -> None:
        self.problems = list(problems)
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        super().__init__(f"{self.problems[0]}{more}" if self.problems else "zone error")


def _feature_label(i: int, props: dict[str, Any] | None) -> str:
    fid = (props or {}).get("id")
    return f"feature {i}" + (f" (id {fid!r})" if fid not in (None, "") else "")


def _coords_range(geom: BaseGeometry) -> tuple[float, float, float, float]:
    return tuple(float(v) for v in geom.bounds)  # type: ignore[return-value]


def _check_geometry(geom: BaseGeometry, fix: bool) -> tuple[BaseGeometry | None, list[str]]:
    reasons: list[str] = []
    if geom.is_empty:
        return None, ["empty geometry"]
    minx, miny, maxx, maxy = _coords_range(geom)
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        return None, [f"coordinates outside lon −180…180 / lat −90…90 (bounds {minx:.6g}, {miny:.6g}, {maxx:.6g}, "
                      f"{maxy:.6g}): projected coordinates, not EPSG:4326 lon/lat"]
    in_lat_as_lon = CARIBBEAN_LAT[0] - 5 <= minx and maxx <= CARIBBEAN_LAT[1] + 5
    in_lon_as_lat = CARIBBEAN_LON[0] - 5 <= miny and maxy <= CARIBBEAN_LON[1] + 5
    if in_lat_as_lon and in_lon_as_lat:
        return None, [f"longitude and latitude look swapped (lon {minx:.3f}…{maxx:.3f}, lat {miny:.3f}…{maxy:.3f} is "
                      f"not in the Caribbean, but swapped it is); GeoJSON is [lon, lat]"]
    if not geom.is_valid:
        why = shapely.is_valid_reason(geom)
        if fix:
            fixed = shapely.make_valid(geom)
            polys = [g for g in getattr(fixed, "geoms", [fixed]) if g.geom_type in ("Polygon", "MultiPolygon")]
            geom = shapely.union_all(polys) if polys else fixed
            if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
                return None, [f"invalid geometry ({why}) that make_valid could not turn into a polygon"]
        else:
            reasons.append(f"invalid geometry: {why} (use --fix to repair it with make_valid)")
            return None, reasons
    return geom, reasons


def _check_list(bad: list[str], value: Any, prop: str, label: str, allowed: Sequence[str]) -> None:
    """Append the problems of a property that must be a list of known names (absent is fine)."""
    if value is None:
        return
    if not isinstance(value, list):
        bad.append(f"'{prop}' must be a list")
        return
    unknown = [v for v in value if v not in allowed]
    if unknown:
        bad.append(f"unknown {label} {unknown} (one of {', '.join(allowed)})")


def _rings(coords: Any, gtype: str) -> list[Any]:
    if not isinstance(coords, list):
        return []
    polys = [coords] if gtype == "Polygon" else [p for p in coords if isinstance(p, list)]
    return [r for poly in polys for r in (poly if isinstance(poly, list) else [])]


def _ring_problems(coords: Any, gtype: str) -> list[str]:
    """What RFC 7946 says of polygon rings that a ring breaks: at least four positions, the last the first."""
    rings = _rings(coords, gtype)
    if not rings:
        return ["empty geometry (no rings)"]
    if all(isinstance(r, list) and not r for r in rings):
        return ["empty geometry (no positions)"]
    out = []
    for k, ring in enumerate(rings):
        if not isinstance(ring, list) or not all(isinstance(p, list) and len(p) >= 2 for p in ring):
            out.append(f"ring {k + 1} is not a list of [lon, lat] positions")
        elif len(ring) < 4:
            out.append(f"ring {k + 1} has {len(ring)} positions; a closed ring needs at least 4 (the last repeating "
                       "the first)" + ("" if ring and ring[0] == ring[-1] else "; it is not closed"))
        elif ring[0][:2] != ring[-1][:2]:
            out.append(f"ring {k + 1} is not closed (its last position must repeat the first; --fix closes it)")
    return out


def _closed_rings(coords: Any, gtype: str) -> Any:
    """The coordinates with every open ring closed (the first position repeated at the end)."""
    def close(ring: list[Any]) -> list[Any]:
        return [*ring, ring[0]] if ring and isinstance(ring[0], list) and ring[0][:2] != ring[-1][:2] else ring

    if gtype == "Polygon":
        return [close(r) if isinstance(r, list) else r for r in coords]
    return [[close(r) if isinstance(r, list) else r for r in poly] if isinstance(poly, list) else poly
            for poly in coords]


def parse_zone_features(doc: Any, file: str, *, fix: bool = False) -> tuple[list[Zone], list[ZoneProblem]]:
    """Zones and problems from a parsed GeoJSON document (FeatureCollection or Feature)."""
    problems: list[ZoneProblem] = []
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    elif isinstance(doc, dict) and doc.get("type") == "FeatureCollection" and isinstance(doc.get("features"), list):
        features = doc["features"]
        crs = doc.get("crs")
        if isinstance(crs, dict):
            name = str((crs.get("properties") or {}).get("name", ""))
            if name and not any(k in name for k in ("4326", "CRS84")):
                problems.append(ZoneProblem(file, "collection", f"CRS {name} is not EPSG:4326 lon/lat; reproject "
                                            "(maritime zones import does)"))
                return [], problems
    else:
        return [], [ZoneProblem(file, "document", "not a GeoJSON FeatureCollection or Feature")]
    zones: list[Zone] = []
    for i, feat in enumerate(features):
        props = feat.get("properties") if isinstance(feat, dict) else None
        label = _feature_label(i, props if isinstance(props, dict) else None)
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            problems.append(ZoneProblem(file, label, "not a GeoJSON Feature"))
            continue
        if not isinstance(props, dict):
            problems.append(ZoneProblem(file, label, "no properties"))
            continue
        bad: list[str] = []
        for key in ("id", "name", "kind", "alert_on"):
            if key not in props or props[key] is None:
                bad.append(f"missing property '{key}'")
        zid = props.get("id")
        if "id" in props and (not isinstance(zid, str) or not zid.strip()):
            bad.append("property 'id' must be a non-empty string")
        kind = props.get("kind")
        if kind is not None and kind not in ZONE_KINDS:
            bad.append(f"unknown kind {kind!r} (one of {', '.join(ZONE_KINDS)})")
        alert_on = props.get("alert_on")
        _check_list(bad, alert_on, "alert_on", "alert_on", ALERT_ON)
        vt = props.get("vessel_types")
        _check_list(bad, vt, "vessel_types", "vessel types", VESSEL_TYPES)
        sev = props.get("severity")
        if sev is not None and sev not in SEVERITIES:
            bad.append(f"unknown severity {sev!r} (one of {', '.join(SEVERITIES)})")
        for num in ("max_speed_kn", "dwell_min"):
            v = props.get(num)
            if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v)
                                  or v < 0):
                bad.append(f"'{num}' must be a finite number ≥ 0")
        if isinstance(alert_on, list) and "speed" in alert_on and props.get("max_speed_kn") is None:
            bad.append("alert_on has 'speed' but there is no 'max_speed_kn'")
        geom_doc = feat.get("geometry")
        geom: BaseGeometry | None = None
        if not isinstance(geom_doc, dict) or not geom_doc.get("type"):
            bad.append("no geometry")
        elif geom_doc.get("type") not in ("Polygon", "MultiPolygon"):
            bad.append(f"geometry is a {geom_doc.get('type')}, zones must be Polygon or MultiPolygon")
        else:
            rings_bad = _ring_problems(geom_doc.get("coordinates"), geom_doc["type"])
            if rings_bad and fix:
                geom_doc = {**geom_doc, "coordinates": _closed_rings(geom_doc.get("coordinates"), geom_doc["type"])}
                rings_bad = _ring_problems(geom_doc["coordinates"], geom_doc["type"])
            bad.extend(rings_bad)
            try:
                geom = shape(geom_doc) if not rings_bad else None
            except Exception as err:
                bad.append(f"unreadable geometry: {err}")
            if geom is not None:
                geom, reasons = _check_geometry(geom, fix)
                bad.extend(reasons)
        if bad:
            problems.extend(ZoneProblem(file, label, r) for r in bad)
            continue
        assert geom is not None
        shapely.prepare(geom)
        zones.append(Zone(
            id=str(zid), name=str(props["name"]), kind=str(kind), geometry=geom,
            alert_on=tuple(alert_on or ()), vessel_types=tuple(vt) if vt else None,
            max_speed_kn=props.get("max_speed_kn"), dwell_min=props.get("dwell_min"),
            severity=as_severity(sev) if sev is not None else None, authority=props.get("authority"),
            source=props.get("source"),
            approximate=bool(props.get("approximate", False)), properties=dict(props), file=file,
        ))
    return zones, problems


def zone_files(path: str | Path) -> list[Path]:
    """The zone files at ``path``: the file itself, or the GeoJSON files in a folder."""
    p = Path(path)
    if p.is_dir():
        return sorted(q for q in p.iterdir() if q.suffix.lower() in (".geojson", ".json") and q.is_file())
    return [p]


def check_zones(paths: Iterable[str | Path], *, fix: bool = False) -> tuple[list[Zone], list[ZoneProblem]]:
    """Every zone and every problem in files or folders (duplicate ids across files included)."""
    zones: list[Zone] = []
    problems: list[ZoneProblem] = []
    for path in paths:
        files = zone_files(path)
        if not files:
            problems.append(ZoneProblem(str(path), "folder", "no .geojson or .json files"))
        for f in files:
            try:
                doc = json.loads(f.read_text(encoding="utf-8"))
            except OSError as err:
                problems.append(ZoneProblem(str(f), "file", f"cannot be read ({err.strerror})"))
                continue
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                problems.append(ZoneProblem(str(f), "file", f"not valid JSON ({err})"))
                continue
            except RecursionError:
                problems.append(ZoneProblem(str(f), "file", "nested too deeply to be GeoJSON"))
                continue
            got, found = parse_zone_features(doc, str(f), fix=fix)
            zones.extend(got)
            problems.extend(found)
    seen: dict[str, Zone] = {}
    unique: list[Zone] = []
    for zone in zones:
        if zone.id in seen:
            problems.append(ZoneProblem(zone.file, f"id {zone.id!r}",
                                        f"duplicate id (also in {seen[zone.id].file}; ids must be unique)"))
            continue
        seen[zone.id] = zone
        unique.append(zone)
    return unique, problems


def load_zones(paths: Iterable[str | Path] | str | Path, *, fix: bool = False, partial: bool = False) -> ZoneIndex:
    """An index over zone files; raises :class:`ZoneError` on any problem unless ``partial``."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    zones, problems = check_zones(paths, fix=fix)
    if problems:
        if not partial:
            raise ZoneError(problems)
        for p in problems:
            logger.warning("zone skipped: %s", p)
    return ZoneIndex(zones)


class ZoneIndex:
    """Zones with an STRtree and a per-cell cache for point-in-zone queries.

    ``cell_deg`` is the cache cell size in degrees (0.05° ≈ 5.5 km).
    """

    def __init__(self, zones: Sequence[Zone], cell_deg: float = 0.05, point_cache: bool = True) -> None:
        """``point_cache``: keep the answers of points tested exactly for points within about 10 m (False: every
        point tested, for answers that are shapely's to the last digit)."""
        self.zones = list(zones)
        self.point_cache = point_cache
        self.by_id = {z.id: z for z in self.zones}
        self._geoms = [z.geometry for z in self.zones]
        self._geom_array = np.array(self._geoms, dtype=object)
        shapely.prepare(self._geom_array)  # the cells' and sub-cells' tests are many against each zone
        self.tree = shapely.STRtree(self._geoms) if self.zones else None
        self.cell_deg = cell_deg
        self._cells: dict[tuple[int, int], tuple[tuple[int, ...], tuple[int, ...], tuple[Any, ...] | None]] = {}
        #: one copy of each answer a cell or sub-cell gives (most give one of a few)
        self._fine_shared: dict[Any, Any] = {}
        self._harbour = [i for i, z in enumerate(self.zones) if z.kind in HARBOUR_KINDS]
        self._harbour_tree = shapely.STRtree([self._geoms[i] for i in self._harbour]) if self._harbour else None
        self._near_cache: dict[tuple[int, int, float], tuple[int, ...] | None] = {}
        self._points: dict[tuple[float, float], tuple[int, ...]] = {}
        self._edge_arrays: dict[tuple[int, ...], np.ndarray] = {}
        #: by square of :data:`COARSE` × :data:`COARSE` cells, whether no zone comes into it (:meth:`_cell`)
        self._free: dict[tuple[int, int], bool] = {}
        self._ruled: ZoneIndex | None = None
        #: indexes of some of these zones made by :meth:`subset`, by (zone numbers, cell size, point cache)
        self._subsets: dict[tuple[tuple[int, ...], float, bool], ZoneIndex] = {}
        #: cells kept between runs in the user's cache folder (:meth:`keep_cells`, :mod:`maritime.zones.cellcache`):
        #: whether they are, whether the file was read yet, and how many cells and refined cells it held
        self.disk_cells = False
        self._disk_read = False
        self._disk_known = 0
        self._disk_refined = 0

    def ruled(self) -> ZoneIndex:
        """The zones that raise alerts (``alert_on`` set), in an index of their own with 0.02° cells.

        Made once and shared, so detectors built over the same zones share its cell cache.
        """
        if self._ruled is None:
            self._ruled = self.subset([i for i, z in enumerate(self.zones) if z.alert_on], cell_deg=0.02)
        return self._ruled

    def subset(self, which: Sequence[int], cell_deg: float, point_cache: bool = True) -> ZoneIndex:
        """An index of the zones ``which`` (indices into ``zones``, in that order) with cells of ``cell_deg``
        degrees, made once for each set and shared (its cells with it), kept on disk with this one
        (:meth:`keep_cells`, :meth:`save_cells`)."""
        key = (tuple(which), cell_deg, point_cache)
        got = self._subsets.get(key)
        if got is None:
            got = self._subsets[key] = ZoneIndex([self.zones[i] for i in which], cell_deg=cell_deg,
                                                 point_cache=point_cache)
            got.disk_cells = self.disk_cells
        return got

    def keep_cells(self) -> None:
        """Keep the cells of this index and of its subsets between runs: the cells worked out by earlier runs over
        the same zones are read from the user's cache folder when a point first falls outside those worked out
        here, and :meth:`save_cells` writes them back (:mod:`maritime.zones.cellcache`). The answers are the same
        either way; only the time to work the cells out is saved (0.7-0.8 s of a replay of a simulated day in a
        fresh process)."""
        self.disk_cells = True
        for sub in self._subsets.values():
            sub.keep_cells()

    def save_cells(self) -> int:
        """Write the cells of this index and its subsets to the cache folder (those that learned enough since
        they were read, when :meth:`keep_cells` was called); the number of files written."""
        written = 0
        if self.disk_cells and self.tree is not None:
            from maritime.zones import cellcache

            written += cellcache.keep(self, FINE, _FINE_PAD)
        for sub in self._subsets.values():
            written += sub.save_cells()
        return written

    def __len__(self) -> int:
        return len(self.zones)

    @property
    def cells(self) -> dict[tuple[int, int], tuple[tuple[int, ...], tuple[int, ...], tuple[Any, ...] | None]]:
        """The cells worked out so far: (row, column) of the ``cell_deg`` grid → (the zones that contain the whole
        cell, the zones whose boundary crosses it, and for a crossed cell its :data:`FINE` × :data:`FINE`
        sub-cells row by row, each as (the crossing zones whose interior holds all of it, those whose boundary
        comes near it), None until a point falls in it; ``()`` for a cell no boundary crosses), as indices into
        ``zones``."""
        return self._cells

    def _cell(self, key: tuple[int, int]) -> tuple[tuple[int, ...], tuple[int, ...], tuple[Any, ...] | None]:
        """Work out the cell ``key`` with the rest of its :data:`BLOCK` × :data:`BLOCK` block of cells, in one
        vectorised query (a track that enters a cell often goes on to its neighbours: the cells a simulated day
        visited took 0.148 s two by two, 0.164 s one by one, 0.18 s four by four). A crossed cell's sub-cells are
        worked out when a point first falls in it (:meth:`_fine_cells`)."""
        assert self.tree is not None
        cells = self._cells
        if self.disk_cells and not self._disk_read:
            self._disk_read = True
            from maritime.zones import cellcache

            cellcache.read(self, FINE, _FINE_PAD)
            got = cells.get(key)
            if got is not None:
                return got
        s = self.cell_deg
        r0, c0 = key[0] // BLOCK * BLOCK, key[1] // BLOCK * BLOCK
        if self._square_free(r0 // COARSE, c0 // COARSE):
            empty: tuple[int, ...] = self._fine_shared.setdefault((), ())
            for r in range(r0, r0 + BLOCK):
                for c in range(c0, c0 + BLOCK):
                    if (r, c) not in cells:
                        cells[(r, c)] = (empty, empty, ())
            return cells[key]
        keys = [(r, c) for r in range(r0, r0 + BLOCK) for c in range(c0, c0 + BLOCK) if (r, c) not in cells]
        rows = np.array([k[0] for k in keys], dtype=np.int64)
        cols = np.array([k[1] for k in keys], dtype=np.int64)
        boxes = shapely.box(cols * s, rows * s, (cols + 1) * s, (rows + 1) * s)
        # each box's zones in the tree's order, as one box's own query gives them; the predicates with the zone
        # first, as it is the one prepared
        at, zi = self.tree.query(boxes)
        geoms, cut = self._geom_array[zi], boxes[at]
        whole = shapely.contains(geoms, cut).tolist()
        meet = shapely.intersects(geoms, cut).tolist()
        inside: list[list[int]] = [[] for _ in keys]
        edge: list[list[int]] = [[] for _ in keys]
        for n, i, w, m in zip(at.tolist(), zi.tolist(), whole, meet, strict=True):
            if w:
                inside[n].append(i)
            elif m:
                edge[n].append(i)
        shared = self._fine_shared
        for k, ins, edg in zip(keys, inside, edge, strict=True):
            ti, te = tuple(ins), tuple(edg)
            cells[k] = (shared.setdefault(ti, ti), shared.setdefault(te, te), None if te else ())
        return cells[key]

    def _square_free(self, row: int, col: int) -> bool:
        """Whether no zone comes into the square (``row``, ``col``) of :data:`COARSE` × :data:`COARSE` cells, widened
        by :data:`_FINE_PAD` so that every cell box made in floating point lies in it: its cells then hold no zone
        and no boundary crosses them, which is what the block query would find (one query a square instead)."""
        got = self._free.get((row, col))
        if got is None:
            assert self.tree is not None
            d = self.cell_deg * COARSE
            square = shapely.box(col * d - _FINE_PAD, row * d - _FINE_PAD, (col + 1) * d + _FINE_PAD,
                                 (row + 1) * d + _FINE_PAD)
            got = self._free[(row, col)] = not len(self.tree.query(square, predicate="intersects"))
        return got

    def _fine_cells(self, key: tuple[int, int], inside: tuple[int, ...], edge: tuple[int, ...]) -> tuple[Any, ...]:
        """The sub-cells of the crossed cell ``key``, row by row, kept with the cell: for each, the zones of
        ``edge`` that hold all of it in their interior (every point of it is inside: ``contains_xy`` says so),
        and those whose boundary comes near it (its points are tested exactly). Each sub-cell is widened by
        :data:`_FINE_PAD` degrees on every side, so a point whose sub-cell key is computed in floating point lies
        within it."""
        f = self.cell_deg / FINE
        n = FINE * FINE
        rows = np.repeat(np.arange(FINE), FINE) + key[0] * FINE
        cols = np.tile(np.arange(FINE), FINE) + key[1] * FINE
        boxes = np.tile(shapely.box(cols * f - _FINE_PAD, rows * f - _FINE_PAD, (cols + 1) * f + _FINE_PAD,
                                    (rows + 1) * f + _FINE_PAD), len(edge))
        geoms = np.repeat(self._geom_array[list(edge)], n)
        nz = len(edge)
        holds = shapely.contains_properly(geoms, boxes).reshape(nz, n).T  # sub-cell × zone
        near = shapely.intersects(geoms, boxes).reshape(nz, n).T & ~holds
        shared = self._fine_shared
        out: list[Any] = []
        if nz <= 31:  # each sub-cell's answer as one integer (a bit for each zone holding it, one for each near)
            weights = np.left_shift(1, np.arange(nz, dtype=np.int64))
            codes = (holds.astype(np.int64) @ weights) | ((near.astype(np.int64) @ weights) << nz)
            seen: dict[int, Any] = {}
            for code in codes.tolist():
                pair = seen.get(code)
                if pair is None:
                    pair = (tuple(z for b, z in enumerate(edge) if code >> b & 1),
                            tuple(z for b, z in enumerate(edge) if code >> (nz + b) & 1))
                    pair = seen[code] = shared.setdefault(pair, pair)
                out.append(pair)
        else:
            for h, m in zip(holds.tolist(), near.tolist(), strict=True):
                pair = (tuple(z for z, y in zip(edge, h, strict=True) if y),
                        tuple(z for z, y in zip(edge, m, strict=True) if y))
                out.append(shared.setdefault(pair, pair))
        fine = tuple(out)
        self._cells[key] = (inside, edge, fine)
        return fine

    def containing_idx(self, lat: float, lon: float) -> tuple[int, ...]:
        """Indices (into ``zones``) of the zones containing the point.

        Cells wholly inside or outside every zone answer from a dict; in cells a
        boundary crosses, the point's sub-cell (:data:`FINE` × :data:`FINE` to a
        cell) answers for the zones that hold it or keep clear of it, and the
        point is tested against the zones whose boundary comes near it in one
        vectorised ``contains_xy`` call, the answer kept for points within about
        10 m (moored and slow vessels ask the same thing often). The zones are
        given in the same order either way: those holding the cell, then the
        crossing ones in the order of the cell's ``edge``.
        """
        if self.tree is None:
            return ()
        s = self.cell_deg
        key = (math.floor(lat / s), math.floor(lon / s))
        got = self._cells.get(key)
        if got is None:
            got = self._cell(key)
        inside, edge, fine = got
        if not edge:
            return inside
        if fine is None:
            fine = self._fine_cells(key, inside, edge)
        f = s / FINE
        r = math.floor(lat / f) - key[0] * FINE
        c = math.floor(lon / f) - key[1] * FINE
        if 0 <= r < FINE and 0 <= c < FINE:
            holds, near = fine[r * FINE + c]
            if not near:
                return inside + holds if holds else inside
        else:  # (floating point put the point just outside its cell's sub-cells: tested exactly)
            holds, near = (), edge
        cache = self.point_cache
        pkey = (round(lat, 4), round(lon, 4))
        if cache:
            hit = self._points.get(pkey)
            if hit is not None:
                return hit
        mask = shapely.contains_xy(self._edge_geoms(near), lon, lat)
        hits = {i for i, m in zip(near, mask, strict=True) if m}
        out = inside + tuple(i for i in edge if i in hits or i in holds)
        if cache:
            if len(self._points) > 200_000:
                self._points.clear()
            self._points[pkey] = out
        return out

    def _edge_geoms(self, edge: tuple[int, ...]) -> np.ndarray:
        arr = self._edge_arrays.get(edge)
        if arr is None:
            arr = np.array([self._geoms[i] for i in edge], dtype=object)
            self._edge_arrays[edge] = arr
        return arr

    def containing(self, lat: float, lon: float) -> list[Zone]:
        """The zones containing the point (lat, lon)."""
        return [self.zones[i] for i in self.containing_idx(lat, lon)]

    def containing_many(self, lats: Sequence[float], lons: Sequence[float]) -> list[list[Zone]]:
        """Zones containing each of many points, tested in one batch (``STRtree.query``)."""
        out: list[list[Zone]] = [[] for _ in lats]
        if self.tree is None or not len(lats):
            return out
        pts = shapely.points(lons, lats)
        pairs = self.tree.query(pts, predicate="intersects")
        for p, z in zip(pairs[0], pairs[1], strict=True):
            out[int(p)].append(self.zones[int(z)])
        return out

    def harbour_within(self, lat: float, lon: float, dist_m: float,
                       kinds: frozenset[str] = HARBOUR_KINDS) -> Zone | None:
        """A zone of ``kinds`` (port or anchorage by default) within ``dist_m`` metres of the point, or None."""
        if self._harbour_tree is None:
            return None
        s = self.cell_deg
        key = (math.floor(lat / s), math.floor(lon / s), dist_m)
        cand = self._near_cache.get(key, ())
        if cand == ():
            pad = dist_m / M_PER_DEG_LAT / max(0.2, math.cos(math.radians(lat))) + s
            area = shapely.box(key[1] * s - pad, key[0] * s - pad, (key[1] + 1) * s + pad, (key[0] + 1) * s + pad)
            hits = tuple(self._harbour[int(i)] for i in self._harbour_tree.query(area))
            cand = hits or None
            self._near_cache[key] = cand
        if not cand:
            return None
        pt = shapely.Point(lon, lat)
        for i in cand:
            if self.zones[i].kind not in kinds:
                continue
            g = self._geoms[i]
            if shapely.contains_xy(g, lon, lat):
                return self.zones[i]
            near = shapely.ops.nearest_points(g, pt)[0]
            if haversine_m(lat, lon, near.y, near.x) <= dist_m:
                return self.zones[i]
        return None

    def nearest_harbour(self, lat: float, lon: float, max_m: float = 200_000.0,
                        kinds: frozenset[str] = frozenset(("port",))) -> tuple[Zone, float] | None:
        """The nearest zone of ``kinds`` (ports by default) and its distance in metres (0 inside), if one lies
        within ``max_m`` metres; for explanations ("34 km from Clifton"), not for the per-position path."""
        if self._harbour_tree is None:
            return None
        pad = max_m / M_PER_DEG_LAT / max(0.2, math.cos(math.radians(lat)))
        best: tuple[Zone, float] | None = None
        pt = shapely.Point(lon, lat)
        for j in self._harbour_tree.query(shapely.box(lon - pad, lat - pad, lon + pad, lat + pad)):
            i = self._harbour[int(j)]
            if self.zones[i].kind not in kinds:
                continue
            g = self._geoms[i]
            if shapely.contains_xy(g, lon, lat):
                return self.zones[i], 0.0
            near = shapely.ops.nearest_points(g, pt)[0]
            d = haversine_m(lat, lon, near.y, near.x)
            if d <= max_m and (best is None or d < best[1]):
                best = (self.zones[i], d)
        return best

    def in_harbour(self, lat: float, lon: float) -> Zone | None:
        """The port or anchorage zone containing the point, or None."""
        for i in self.containing_idx(lat, lon):
            if self.zones[i].kind in HARBOUR_KINDS:
                return self.zones[i]
        return None

