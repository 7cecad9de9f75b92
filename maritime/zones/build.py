"""Build the default Caribbean zone set from Natural Earth 10 m land (a package dependency).

- territorial seas: 12 nm from the coast of each state and territory, split
  between neighbours by equidistance;
- approximate EEZs: 200 nm, split by equidistance (no negotiated boundaries,
  no baselines, islands and rocks all count): marked ``approximate``;
- ports: 3 km circles around the main harbours (GFW port visits: 3 km in);
- a few protected and restricted areas: approximations of published areas
  (marked ``approximate``) and clearly labelled illustrative examples.

Distances are measured in an azimuthal equidistant projection centred on
the region. Official boundaries (Marine Regions, national gazettes) should
replace the approximate ones for operations: ``maritime zones import``.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Point, box, mapping
from shapely.geometry.base import BaseGeometry

from maritime.geo import M_PER_NM
from maritime.zones.caribbean import (
    ANCHORAGES,
    AUTHORITIES,
    CARICOM_ASSOCIATES,
    CARICOM_MEMBERS,
    PORTS,
    REGION,
    SUBTERRITORIES,
)
from maritime.zones.geodata import NE_SOURCE, countries

logger = logging.getLogger(__name__)

_AEQD = "+proj=aeqd +lat_0=17.5 +lon_0=-74 +datum=WGS84 +units=m +no_defs"
TS_M = 12 * M_PER_NM
EEZ_M = 200 * M_PER_NM
#: How far inside the Natural Earth coastline the territorial sea and the EEZ reach (m): bays, lagoons and
#: harbours that the 10 m coastline fills in (Rodney Bay, Marigot Bay, Simpson Bay Lagoon) are internal waters.
INTERNAL_WATERS_M = 2000.0
PORT_RADIUS_M = 3000.0
#: GFW anchorage points closer than twice this are one anchorage (they are S2 level-14 cell centres, ~0.6 km apart)
GFW_MERGE_M = 1000.0
GFW_SOURCE = ("Global Fishing Watch anchorages (anchorages_pipeline, Apache-2.0): places where many distinct vessels "
              "stopped; points within 2 km joined, 1 km around each")


def _projectors() -> tuple[Callable[[BaseGeometry], BaseGeometry], Callable[[BaseGeometry], BaseGeometry]]:
    fwd = Transformer.from_crs("EPSG:4326", _AEQD, always_xy=True)
    inv = Transformer.from_crs(_AEQD, "EPSG:4326", always_xy=True)

    def apply(t: Transformer) -> Callable[[BaseGeometry], BaseGeometry]:
        def project(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(t.transform(xy[:, 0], xy[:, 1]))
        return lambda g: shapely.transform(g, project)

    return apply(fwd), apply(inv)


def territories(margin_deg: float = 6.0) -> list[tuple[str, str, BaseGeometry]]:
    """(ISO code, name, land) for every state and territory near the region, multi-territory units split."""
    lon0, lat0, lon1, lat1 = REGION
    area = box(lon0 - margin_deg, lat0 - margin_deg, lon1 + margin_deg, lat1 + margin_deg)
    out: list[tuple[str, str, BaseGeometry]] = []
    for c in countries():
        if not c.geometry.intersects(area):
            continue
        land = c.geometry.intersection(area)
        if land.is_empty:
            continue
        subs = SUBTERRITORIES.get(c.a3)
        if subs:
            for iso, name, bb in subs:
                part = land.intersection(box(*bb))
                if not part.is_empty:
                    out.append((iso, name, part))
            continue
        out.append((c.iso2, c.name, land))
    # units sharing a code (Cuba and the Guantanamo Bay naval base are both CU) are one territory,
    # named after its largest land unit
    by_iso: dict[str, list[tuple[str, BaseGeometry]]] = defaultdict(list)
    for iso, name, g in out:
        by_iso[iso].append((name, g))
    return [(iso, max(units, key=lambda u: u[1].area)[0], shapely.union_all([g for _, g in units]))
            for iso, units in sorted(by_iso.items())]


def _equidistance_regions(lands: list[BaseGeometry], spacing_m: float, extent: BaseGeometry) -> list[BaseGeometry]:
    """For each land (projected), the area closer to its coast than to any other's."""
    pts: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    for i, land in enumerate(lands):
        coast = shapely.segmentize(land.boundary, spacing_m)
        xy = shapely.get_coordinates(coast)
        if len(xy) == 0:
            continue
        xy = np.unique(np.round(xy, 0), axis=0)
        pts.append(xy)
        owners.append(np.full(len(xy), i))
    xy = np.concatenate(pts)
    owner = np.concatenate(owners)
    # shared land borders give the same point to two owners: keep one
    xy, first = np.unique(xy, axis=0, return_index=True)
    owner = owner[first]
    cells = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=extent, ordered=True)
    parts = shapely.get_parts(cells)
    by_owner: dict[int, list[BaseGeometry]] = defaultdict(list)
    for i, cell in zip(owner, parts, strict=False):
        by_owner[int(i)].append(cell)
    return [shapely.union_all(by_owner[i]) if by_owner.get(i) else shapely.Polygon() for i in range(len(lands))]


def _clean(g: BaseGeometry, min_area: float) -> BaseGeometry:
    polys = [p for p in shapely.get_parts(g) if p.geom_type == "Polygon" and p.area >= min_area]
    return shapely.MultiPolygon(polys) if len(polys) > 1 else (polys[0] if polys else shapely.Polygon())


def _feature(geom: BaseGeometry, props: dict[str, Any]) -> dict[str, Any]:
    geom = shapely.make_valid(shapely.transform(shapely.make_valid(geom), lambda c: np.round(c, 5)))
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        geom = _clean(geom, 0.0)
    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


def _slug(text: str) -> str:
    keep = "".join(c.lower() if c.isalnum() else "-" for c in text)
    return "-".join(p for p in keep.split("-") if p)


def anchorage_features(gfw_anchorages: str | Path | None = None) -> list[dict[str, Any]]:
    """Anchorage zones: the named yacht anchorages of :data:`ANCHORAGES`, and (given the GFW anchorage
    points, a GeoJSON of points with ``label``, ``sublabel``, ``iso3``, ``s2id``) their clusters as polygons."""
    fwd, inv = _projectors()
    feats = []
    for a in ANCHORAGES:
        circle = fwd(Point(a.lon, a.lat)).buffer(a.radius_m, quad_segs=8)
        feats.append(_feature(inv(circle), {
            "id": f"anch-{a.iso2.lower()}-{_slug(a.name)}", "name": a.name, "kind": "anchorage", "alert_on": [],
            "authority": AUTHORITIES.get(a.iso2, a.iso2), "country": a.iso2, "approximate": True,
            "source": f"{a.radius_m:g} m around the anchorage named in cruising guides and charts; "
                      "position public nautical knowledge (about 500 m)",
        }))
    if gfw_anchorages is None:
        return feats
    doc = json.loads(Path(gfw_anchorages).read_text(encoding="utf-8"))
    a3_to_iso2 = {c.a3: c.iso2 for c in countries()}
    pts = []
    for f in doc.get("features", []):
        g = f.get("geometry") or {}
        if g.get("type") != "Point":
            continue
        lon, lat = g["coordinates"][:2]
        pts.append((fwd(Point(lon, lat)), f.get("properties") or {}))
    blobs = shapely.union_all([p.buffer(GFW_MERGE_M, quad_segs=4) for p, _ in pts])
    polys = list(getattr(blobs, "geoms", [blobs]))
    tree = shapely.STRtree([p for p, _ in pts])
    for poly in polys:
        members = [pts[i][1] for i in tree.query(poly, predicate="intersects")]
        if not members:
            continue
        labels: dict[str, int] = defaultdict(int)
        for m in members:
            labels[str(m.get("label") or "").strip().title() or "Unnamed"] += 1
        label = max(sorted(labels), key=lambda k: labels[k])
        iso2 = a3_to_iso2.get(str(members[0].get("iso3") or ""), "")
        first = min(str(m.get("s2id") or "") for m in members)
        feats.append(_feature(inv(shapely.simplify(poly, 50)), {
            "id": f"anch-gfw-{first}", "name": f"{label} (anchorage, {len(members)} GFW points)",
            "kind": "anchorage", "alert_on": [], "authority": AUTHORITIES.get(iso2, iso2 or "unknown"),
            "country": iso2 or None, "approximate": True, "source": GFW_SOURCE,
        }))
    return feats


def build_anchorages(out_dir: str | Path, gfw_anchorages: str | Path | None = None) -> int:
    """Write ``anchorages.geojson`` into ``out_dir``; return the number of zones."""
    feats = anchorage_features(gfw_anchorages)
    doc = {"type": "FeatureCollection", "name": "anchorages", "features": feats}
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "anchorages.geojson").write_text(json.dumps(doc, separators=(",", ":")) + "\n",
                                                      encoding="utf-8")
    return len(feats)


def build(out_dir: str | Path, spacing_m: float = 4000.0, gfw_anchorages: str | Path | None = None
          ) -> dict[str, int]:
    """Write the default zone files into ``out_dir``; return the feature count per file."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fwd, inv = _projectors()
    terrs = territories()
    logger.info("%d territories", len(terrs))
    lands = [fwd(shapely.simplify(land, 0.002)) for _, _, land in terrs]
    all_land = shapely.union_all(lands)
    # bays, lagoons and harbours that Natural Earth 10 m draws as land are internal waters: the zones take
    # in the coastal strip of land as well (no vessel is on land, so only the water in it matters)
    inland = all_land.buffer(-INTERNAL_WATERS_M, quad_segs=4)
    lon0, lat0, lon1, lat1 = REGION
    region_p = fwd(shapely.segmentize(box(lon0, lat0, lon1, lat1), 0.5))
    extent = region_p.buffer(EEZ_M * 1.5)
    regions = _equidistance_regions(lands, spacing_m, extent)
    ts_features = []
    eez_features = []
    for (iso, name, _land), land_p, reg in zip(terrs, lands, regions, strict=True):
        authority = AUTHORITIES.get(iso, f"{name} maritime authority")
        group = ("CARICOM member" if iso in CARICOM_MEMBERS else
                 "CARICOM associate member" if iso in CARICOM_ASSOCIATES else None)
        ts = land_p.buffer(TS_M, quad_segs=8).intersection(reg).difference(inland).intersection(region_p)
        ts = _clean(ts, 1e6)
        if not ts.is_empty:
            ts_features.append(_feature(inv(shapely.simplify(ts, 150)), {
                "id": f"ts-{iso.lower()}", "name": f"{name} territorial sea", "kind": "territorial_sea",
                "alert_on": ["entry"], "vessel_types": ["fishing"], "severity": "medium", "authority": authority,
                "country": iso, "group": group, "approximate": True,
                "source": f"12 nm from {NE_SOURCE} coastline, split by equidistance, with the internal waters "
                          f"within {INTERNAL_WATERS_M / 1000:.0f} km inside that coastline (bays and lagoons it "
                          "draws as land); generated by maritime zones build",
            }))
        eez = shapely.simplify(land_p, 2000).buffer(EEZ_M, quad_segs=4).intersection(reg)
        eez = _clean(eez.difference(inland).intersection(region_p), 1e7)
        if not eez.is_empty:
            # the EEZ is measured from the coast too: it holds the territorial sea
            eez = _clean(shapely.simplify(eez, 1000).union(shapely.simplify(ts, 150)), 1e6)
            eez_features.append(_feature(inv(eez), {
                "id": f"eez-{iso.lower()}", "name": f"{name} exclusive economic zone (approximate)", "kind": "eez",
                "alert_on": [], "authority": authority, "country": iso, "group": group, "approximate": True,
                "source": f"200 nm from {NE_SOURCE} coastline, split by equidistance; not a negotiated boundary",
            }))
    port_features = []
    for p in PORTS:
        circle = fwd(Point(p.lon, p.lat)).buffer(PORT_RADIUS_M, quad_segs=8)
        port_features.append(_feature(inv(circle), {
            "id": f"port-{p.iso2.lower()}-{p.name.lower().replace(' ', '-').replace('.', '').replace(chr(39), '')}",
            "name": f"Port of {p.name}", "kind": "port", "alert_on": [],
            "authority": AUTHORITIES.get(p.iso2, p.iso2), "country": p.iso2, "approximate": True,
            "source": "3 km around the harbour position (GFW port visits use 3 km); position from public charts",
        }))
    protected = _protected_areas(terrs, fwd, inv)
    files = {
        "territorial_seas.geojson": ts_features,
        "eez_approx.geojson": eez_features,
        "ports.geojson": port_features,
        "protected_areas.geojson": protected,
        "anchorages.geojson": anchorage_features(gfw_anchorages),
    }
    for fname, feats in files.items():
        doc = {"type": "FeatureCollection", "name": fname.split(".")[0], "features": feats}
        (out / fname).write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
    return {k: len(v) for k, v in files.items()}


def _protected_areas(terrs: list[tuple[str, str, BaseGeometry]], fwd: Callable[[BaseGeometry], BaseGeometry],
                     inv: Callable[[BaseGeometry], BaseGeometry]) -> list[dict[str, Any]]:
    land = {iso: g for iso, _, g in terrs}
    all_land = fwd(shapely.union_all(list(land.values())))
    feats = []
    # Soufrière Marine Management Area, Saint Lucia: the west-coast waters from Anse Jambon to Anse l'Ivrogne
    lc = fwd(land["LC"])
    smma = lc.buffer(1500).difference(lc).intersection(fwd(box(-61.12, 13.795, -61.045, 13.885)))
    feats.append(_feature(inv(_clean(smma, 1e4)), {
        "id": "mpa-lc-smma", "name": "Soufrière Marine Management Area", "kind": "mpa",
        "alert_on": ["entry", "dwell", "speed"], "vessel_types": ["fishing", "cargo", "tanker"], "dwell_min": 30,
        "max_speed_kn": 5, "severity": "medium", "authority": AUTHORITIES["LC"], "approximate": True,
        "source": "approximation of the SMMA (coastal waters of the Soufrière region to about 1.5 km offshore), "
                  "after the Soufrière Marine Management Association's published description",
    }))
    # Bonaire National Marine Park: the waters around Bonaire and Klein Bonaire from the shore to 60 m depth
    bq = fwd(land["BQ"].intersection(box(-68.5, 11.9, -68.1, 12.4)))
    bnmp = bq.buffer(1000).difference(bq)
    feats.append(_feature(inv(_clean(bnmp, 1e4)), {
        "id": "mpa-bq-bnmp", "name": "Bonaire National Marine Park", "kind": "mpa",
        "alert_on": ["entry", "dwell"], "vessel_types": ["fishing"], "dwell_min": 60, "severity": "medium",
        "authority": AUTHORITIES["BQ"], "approximate": True,
        "source": "approximation of the park (shore to the 60 m depth line, taken as 1 km offshore), after STINAPA "
                  "Bonaire's published description",
    }))
    # Tobago Cays Marine Park, St Vincent and the Grenadines
    tc = fwd(Point(-61.355, 12.630)).buffer(3500).difference(all_land)
    feats.append(_feature(inv(tc), {
        "id": "mpa-vc-tobago-cays", "name": "Tobago Cays Marine Park", "kind": "mpa",
        "alert_on": ["entry", "dwell", "speed"], "vessel_types": ["fishing", "cargo", "tanker", "high_speed"],
        "dwell_min": 30, "max_speed_kn": 5, "severity": "medium", "authority": AUTHORITIES["VC"], "approximate": True,
        "source": "approximation: 3.5 km around the cays' centre, after the park's published extent",
    }))
    # Illustrative examples (not official boundaries): a fishing exclusion area and a restricted security zone
    fx = fwd(box(-61.70, 12.75, -61.45, 13.00)).difference(all_land)
    feats.append(_feature(inv(fx), {
        "id": "example-fishing-exclusion-grenadines", "name": "Grenadines fishing exclusion area (example)",
        "kind": "restricted", "alert_on": ["entry", "dwell"], "vessel_types": ["fishing"], "dwell_min": 30,
        "severity": "high", "authority": AUTHORITIES["VC"], "approximate": True,
        "source": "illustrative example for exercises, not an official boundary",
    }))
    rz = fwd(Point(-61.56, 10.38)).buffer(4000).difference(all_land)
    feats.append(_feature(inv(rz), {
        "id": "example-restricted-gulf-of-paria", "name": "Gulf of Paria security zone (example)",
        "kind": "restricted", "alert_on": ["entry", "exit", "dwell"], "dwell_min": 60, "severity": "high",
        "authority": AUTHORITIES["TT"], "approximate": True,
        "source": "illustrative example for exercises, not an official boundary",
    }))
    sx = fwd(box(-64.95, 17.95, -64.75, 18.12)).difference(all_land)
    feats.append(_feature(inv(sx), {
        "id": "example-restricted-virgin-passage", "name": "Virgin Passage restricted area (example)",
        "kind": "restricted", "alert_on": ["entry", "exit"], "severity": "high",
        "authority": AUTHORITIES["VI"], "approximate": True,
        "source": "illustrative example for exercises, not an official boundary",
    }))
    return feats


def import_zones(source: str | Path, out: str | Path, *, kind: str, id_field: str, name_field: str,
                 authority_field: str | None = None, alert_on: list[str] | None = None,
                 layer: str | None = None) -> int:
    """Read a vector dataset with geopandas, reproject it to EPSG:4326 and write zone GeoJSON.

    Raises ``KeyError`` for a missing attribute and ``ValueError`` for a dataset without a CRS
    or with duplicate ids.
    """
    import geopandas as gpd

    df = gpd.read_file(source, layer=layer) if layer else gpd.read_file(source)
    for f in (id_field, name_field, authority_field):
        if f and f not in df.columns:
            raise KeyError(f"no attribute {f!r} (attributes: {', '.join(c for c in df.columns if c != 'geometry')})")
    if df.crs is None:
        raise ValueError("the dataset has no coordinate reference system; set one before importing")
    df = df.to_crs("EPSG:4326")
    ids = df[id_field].astype(str)
    if ids.duplicated().any():
        raise ValueError(f"duplicate values in {id_field!r}: {', '.join(ids[ids.duplicated()].unique()[:5])}")
    feats = []
    for (_, row), zid in zip(df.iterrows(), ids, strict=True):
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        geom = _clean(geom, 0.0)
        props = {"id": zid, "name": str(row[name_field]), "kind": kind, "alert_on": alert_on or [],
                 "source": f"imported from {Path(source).name}"}
        if authority_field:
            props["authority"] = str(row[authority_field])
        feats.append(_feature(geom, props))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps({"type": "FeatureCollection", "features": feats}) + "\n", encoding="utf-8")
    return len(feats)
