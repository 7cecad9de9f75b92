"""Zones: the default Caribbean set answers known points; broken files get their documented messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import shapely

from maritime.zones.index import ZoneError, check_zones, load_zones
from tests.conftest import ROOT, ZONES_DIR, contract, shared_file

DEFAULT = ROOT / "geofences"


@pytest.fixture(scope="module")
def caribbean():
    return load_zones(DEFAULT)


def kinds_at(index, lat, lon):
    return {(z.kind, z.properties.get("country")) for z in index.containing(lat, lon)}


def test_known_points(caribbean):
    assert ("territorial_sea", "LC") in kinds_at(caribbean, 14.02, -61.02)  # just off Castries
    north_pr = kinds_at(caribbean, 19.28, -66.3)  # ~50 nm north of Puerto Rico
    assert ("eez", "PR") in north_pr and not any(k == "territorial_sea" for k, _ in north_pr)
    assert kinds_at(caribbean, 18.2, -66.5) == set()  # inland Puerto Rico
    assert any(k == "eez" for k, _ in kinds_at(caribbean, 14.5, -76.0))  # between Jamaica and Colombia
    # a territory made of several Natural Earth units is named after the main one (Cuba, not its naval base)
    cuba = {z.kind: z.name for z in caribbean.containing(23.3, -82.4)}  # off Havana
    assert cuba == {"territorial_sea": "Cuba territorial sea", "eez": "Cuba exclusive economic zone (approximate)"}


def test_default_zones_follow_the_contract():
    schema = contract("zone.schema.json")
    ids = set()
    for f in sorted(DEFAULT.glob("*.geojson")):
        doc = json.loads(f.read_text())
        for feat in doc["features"]:
            jsonschema.validate(feat, schema)
            props = feat["properties"]
            assert props["id"] not in ids
            ids.add(props["id"])
            assert props.get("source") and props.get("authority")
    assert len(ids) > 100


def _write(tmp_path: Path, name: str, features: list[dict] | str) -> Path:
    p = tmp_path / name
    p.write_text(features if isinstance(features, str) else
                 json.dumps({"type": "FeatureCollection", "features": features}))
    return p


def _feat(zid="z", kind="mpa", coords=None, **props):
    coords = coords or [[[-61.1, 13.8], [-61.0, 13.8], [-61.0, 13.9], [-61.1, 13.9], [-61.1, 13.8]]]
    return {"type": "Feature", "properties": {"id": zid, "name": "Z", "kind": kind, "alert_on": ["entry"], **props},
            "geometry": {"type": "Polygon", "coordinates": coords}}


BOWTIE = [[[-61.1, 13.8], [-61.0, 13.9], [-61.0, 13.8], [-61.1, 13.9], [-61.1, 13.8]]]
SWAPPED = [[[13.8, -61.1], [13.8, -61.0], [13.9, -61.0], [13.9, -61.1], [13.8, -61.1]]]
PROJECTED = [[[700000, 1500000], [710000, 1500000], [710000, 1510000], [700000, 1510000], [700000, 1500000]]]

BROKEN = [
    ("self-intersection", [_feat(coords=BOWTIE)], "invalid geometry: Self-intersection"),
    ("swapped lon/lat", [_feat(coords=SWAPPED)], "longitude and latitude look swapped"),
    ("projected coordinates", [_feat(coords=PROJECTED)], "projected coordinates, not EPSG:4326"),
    ("missing id", [{**_feat(), "properties": {"name": "x", "kind": "mpa", "alert_on": []}}], "missing property 'id'"),
    ("duplicate id", [_feat("a"), _feat("a")], "duplicate id"),
    ("unknown kind", [_feat(kind="lagoon")], "unknown kind 'lagoon'"),
    ("unknown vessel type", [_feat(vessel_types=["submarine"])], "unknown vessel types ['submarine']"),
    ("empty geometry", [_feat(coords=[[]])], "empty geometry"),
    ("point geometry", [{**_feat(), "geometry": {"type": "Point", "coordinates": [-61, 14]}}],
     "zones must be Polygon or MultiPolygon"),
    ("speed rule without limit", [_feat(alert_on=["speed"])], "no 'max_speed_kn'"),
]


@pytest.mark.parametrize(("name", "features", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_zone_files_are_refused_with_file_feature_and_reason(tmp_path, name, features, message):
    p = _write(tmp_path, "bad.geojson", features)
    _zones, problems = check_zones([p])
    assert problems and any(message in pr.reason for pr in problems), problems
    assert all(pr.file == str(p) for pr in problems) and all(pr.feature for pr in problems)
    with pytest.raises(ZoneError, match=r"bad\.geojson"):
        load_zones(p)


def test_not_json_and_fix(tmp_path):
    p = _write(tmp_path, "x.geojson", "{not json")
    _zones, problems = check_zones([p])
    assert problems[0].reason.startswith("not valid JSON")
    q = _write(tmp_path, "bow.geojson", [_feat(coords=BOWTIE)])
    zones, problems = check_zones([q], fix=True)
    assert not problems and zones[0].geometry.is_valid and zones[0].geometry.area > 0


def test_cli_check_and_which(tmp_path):
    bad = _write(tmp_path, "bad.geojson", [_feat(coords=SWAPPED)])
    res = subprocess.run([sys.executable, "-m", "maritime.cli", "zones", "check", str(bad)], capture_output=True,
                         text=True)
    assert res.returncode == 1 and "bad.geojson: feature 0 (id 'z'): longitude and latitude look swapped" in res.stdout
    res = subprocess.run([sys.executable, "-m", "maritime.cli", "zones", "which", "14.02", "-61.02", "--json"],
                         capture_output=True, text=True)
    assert res.returncode == 0
    found = json.loads(res.stdout)
    assert {z["id"] for z in found} >= {"ts-lc", "eez-lc"}
    res = subprocess.run([sys.executable, "-m", "maritime.cli", "replay", str(bad), "--zones", str(bad)],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "longitude and latitude look swapped" in res.stderr


@pytest.mark.shared_data
def test_eez_area_agreement_with_marine_regions(caribbean):
    """Our approximate EEZs against the Marine Regions layer (reported, and sanity-bounded)."""
    import geopandas as gpd

    path = shared_file(ZONES_DIR / "caribbean_eez_waters_v2_2014.geojson")
    mr = gpd.read_file(path).to_crs("+proj=aeqd +lat_0=17.5 +lon_0=-74 +units=m")
    ours = {z.properties.get("country"): z.geometry for z in caribbean.zones if z.kind == "eez"}
    iso3 = {"JAM": "JM", "BRB": "BB", "TTO": "TT", "LCA": "LC", "GRD": "GD", "VCT": "VC", "DMA": "DM",
            "ATG": "AG", "KNA": "KN", "BHS": "BS", "CUB": "CU", "HTI": "HT", "DOM": "DO"}
    agreements = {}
    for a3, iso2 in iso3.items():
        rows = mr[mr["ISO_3digit"] == a3]
        if rows.empty or iso2 not in ours:
            continue
        theirs = shapely.union_all(rows.geometry.values)
        mine = gpd.GeoSeries([ours[iso2]], crs="EPSG:4326").to_crs(mr.crs).iloc[0]
        inter = mine.intersection(theirs).area
        agreements[iso2] = inter / mine.union(theirs).area
    print("EEZ area agreement (intersection over union):", {k: round(v, 2) for k, v in agreements.items()})
    assert agreements and sum(agreements.values()) / len(agreements) > 0.5


def test_import_reprojects_and_names_zones(tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    src = gpd.GeoDataFrame({"MRGID": [8431, 8432], "GEONAME": ["Area A", "Area B"], "AUTH": ["CG A", "CG B"]},
                           geometry=[box(-61.1, 13.8, -61.0, 13.9), box(-62.0, 12.0, -61.8, 12.2)], crs="EPSG:4326")
    shp = tmp_path / "areas.shp"
    src.to_crs("EPSG:3857").to_file(shp)  # an official layer in a projected CRS
    out = tmp_path / "imported.geojson"
    res = subprocess.run([sys.executable, "-m", "maritime.cli", "zones", "import", str(shp), "--kind", "mpa",
                          "--id-field", "MRGID", "--name-field", "GEONAME", "--authority-field", "AUTH",
                          "--alert-on", "entry,dwell", "--out", str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    zones, problems = check_zones([out])
    assert not problems
    assert [(z.id, z.name, z.kind, z.authority, z.alert_on) for z in zones] == [
        ("8431", "Area A", "mpa", "CG A", ("entry", "dwell")), ("8432", "Area B", "mpa", "CG B", ("entry", "dwell"))]
    assert zones[0].geometry.bounds == pytest.approx((-61.1, 13.8, -61.0, 13.9), abs=1e-4)
    res = subprocess.run([sys.executable, "-m", "maritime.cli", "zones", "import", str(shp), "--kind", "mpa",
                          "--id-field", "NOPE", "--name-field", "GEONAME", "--out", str(out)],
                         capture_output=True, text=True)
    assert res.returncode == 1 and "no attribute 'NOPE'" in res.stderr


# Marine Regions' ISO 3166 alpha-3 codes (and its two alpha-2 oddities) to the alpha-2 codes our zones carry
MR_CODES = {"ABW": "AW", "AIA": "AI", "ATG": "AG", "BES": "BQ", "BHS": "BS", "BLZ": "BZ", "BRB": "BB", "COL": "CO",
            "CRI": "CR", "CUB": "CU", "CW": "CW", "CYM": "KY", "DMA": "DM", "DOM": "DO", "GLP": "GP", "GRD": "GD",
            "GTM": "GT", "GUY": "GY", "HND": "HN", "HTI": "HT", "JAM": "JM", "KNA": "KN", "LCA": "LC", "MAF": "MF",
            "MEX": "MX", "MSR": "MS", "MTQ": "MQ", "NIC": "NI", "PAN": "PA", "PRI": "PR", "SLV": "SV", "SXM": "SX",
            "TCA": "TC", "TTO": "TT", "USA": "US", "VCT": "VC", "VEN": "VE", "VGB": "VG", "VIR": "VI"}


@pytest.mark.shared_data
def test_which_eez_agrees_with_marine_regions_on_a_grid(caribbean):
    """What ``zones which`` answers for EEZs, against the official layer, point by point.

    Every point of a 0.25° grid over the region that lies in exactly one Marine Regions EEZ of a single
    state is asked of our zones; the share answered with the same state is printed per state. Ours are
    equidistance lines without treaties, so the Colombian islands' awards (ICJ 2012, the Jamaica joint
    regime) and the Venezuela-Netherlands treaty are where they differ most.
    """
    import geopandas as gpd

    mr = gpd.read_file(shared_file(ZONES_DIR / "caribbean_eez_waters_v2_2014.geojson"))
    tree = shapely.STRtree(mr.geometry.values)
    codes = [MR_CODES.get(c) for c in mr["ISO_3digit"]]
    asked: dict[str, int] = {}
    same: dict[str, int] = {}
    for lat in np.arange(7.125, 28.0, 0.25):
        for lon in np.arange(-89.875, -58.0, 0.25):
            hits = tree.query(shapely.Point(lon, lat), predicate="within")
            if len(hits) != 1 or codes[int(hits[0])] is None:
                continue
            code = codes[int(hits[0])]
            ours = {z.properties.get("country") for z in caribbean.containing(float(lat), float(lon)) if z.kind == "eez"}
            asked[code] = asked.get(code, 0) + 1
            same[code] = same.get(code, 0) + (code in ours)
    overall = sum(same.values()) / sum(asked.values())
    print(f"EEZ answers equal to Marine Regions: {overall:.3f} of {sum(asked.values())} grid points;",
          {c: round(same[c] / asked[c], 2) for c in sorted(asked, key=lambda c: -asked[c])})
    assert sum(asked.values()) > 5000
    assert overall > 0.85
    # the CARICOM island states away from disputed waters agree almost everywhere
    assert all(same[c] / asked[c] > 0.9 for c in ("BB", "LC", "GD", "TT", "AG", "KN", "BS") if c in asked)


# -- anchorages -------------------------------------------------------------------------------


@pytest.mark.parametrize(("lat", "lon", "name"), [
    (14.082, -60.958, "Rodney Bay"), (13.966, -61.025, "Marigot Bay (Saint Lucia)"),
    (18.045, -63.090, "Simpson Bay Lagoon"), (15.870, -61.585, "Les Saintes, Terre-de-Haut"),
    (15.575, -61.460, "Prince Rupert Bay, Portsmouth"), (13.008, -61.243, "Admiralty Bay, Bequia"),
    (12.632, -61.357, "Tobago Cays"), (16.306, -61.797, "Deshaies"), (12.000, -61.763, "Prickly Bay"),
    (17.013, -61.778, "Falmouth Harbour")])
def test_the_cruising_anchorages_are_anchorage_zones(caribbean, lat, lon, name):
    assert name in {z.name for z in caribbean.containing(lat, lon) if z.kind == "anchorage"}


@pytest.mark.parametrize(("lat", "lon", "country"), [
    (14.082, -60.958, "LC"), (13.966, -61.025, "LC"), (18.045, -63.090, "SX"), (15.870, -61.585, "GP"),
    (15.575, -61.460, "DM"), (17.005, -61.763, "AG")])
def test_bays_and_lagoons_natural_earth_fills_in_are_territorial_waters(caribbean, lat, lon, country):
    """Rodney Bay, Marigot Bay, Simpson Bay Lagoon, Les Saintes, Prince Rupert Bay, English Harbour: internal
    waters, in the territorial sea and the EEZ of their state (the alerts there are routed to it)."""
    got = {(z.kind, z.properties.get("country")) for z in caribbean.containing(lat, lon)}
    assert {("territorial_sea", country), ("eez", country)} <= got


@pytest.mark.shared_data
def test_every_gfw_anchorage_point_lies_in_a_bundled_anchorage(caribbean):
    doc = json.loads(shared_file(ZONES_DIR / "caribbean_gfw_anchorages.geojson").read_text())
    pts = [f["geometry"]["coordinates"] for f in doc["features"]]
    missing = [(lon, lat) for lon, lat in pts
               if not any(z.kind == "anchorage" for z in caribbean.containing(lat, lon))]
    assert missing == []
    gfw = [z for z in caribbean.zones if z.id.startswith("anch-gfw-")]
    assert 50 < len(gfw) < len(pts) / 3  # clustered: one zone for the cells of one anchorage


@pytest.mark.shared_data
def test_the_bundled_anchorages_are_what_the_builder_makes():
    from maritime.zones.build import anchorage_features

    made = anchorage_features(shared_file(ZONES_DIR / "caribbean_gfw_anchorages.geojson"))
    bundled = json.loads((DEFAULT / "anchorages.geojson").read_text())["features"]
    assert [f["properties"]["id"] for f in made] == [f["properties"]["id"] for f in bundled]
    assert len({f["properties"]["id"] for f in made}) == len(made)


def _shapely_answer(index, lat, lon):
    """The zones holding (lat, lon) by shapely alone, in the index's order: those holding the point's whole cell,
    then the crossing ones in the cell's order."""
    inside, edge, _fine = index.cells[(int(np.floor(lat / index.cell_deg)), int(np.floor(lon / index.cell_deg)))]
    exact = {i for i, g in enumerate(index._geoms) if shapely.contains_xy(g, lon, lat)}
    assert set(inside) <= exact
    return inside + tuple(i for i in edge if i in exact)


@pytest.mark.parametrize("cell_deg", [0.02, 0.05])
def test_crossed_cells_answer_as_shapely_does(caribbean, cell_deg):
    """In cells a zone boundary crosses, the sub-cells answer for the zones that hold them or keep clear of them,
    and the answer is shapely's for every point: random points near the coasts of Saint Lucia and Puerto Rico,
    points on sub-cell edges and corners, and points just either side of them."""
    from maritime.zones.index import FINE, ZoneIndex

    index = ZoneIndex(caribbean.zones, cell_deg=cell_deg)
    rng = np.random.default_rng(7)
    f = cell_deg / FINE
    points = [(float(rng.uniform(13.65, 14.15)), float(rng.uniform(-61.15, -60.75))) for _ in range(1500)]
    points += [(float(rng.uniform(17.85, 18.6)), float(rng.uniform(-67.4, -65.5))) for _ in range(1500)]
    for lat, lon in points[:300]:  # sub-cell edges, corners, and a hair either side
        r, c = np.floor(lat / f) * f, np.floor(lon / f) * f
        for dy in (0.0, 1e-12, -1e-12, 0.5 * f):
            for dx in (0.0, 1e-12, -1e-12, 0.5 * f):
                points.append((r + dy, c + dx))
    fine_answers = 0
    for lat, lon in points:
        got = index.containing_idx(lat, lon)
        index._points.clear()  # the ~10 m answer cache aside: every point judged on its own
        assert got == _shapely_answer(index, lat, lon), (lat, lon)
        _inside, edge, fine = index.cells[(int(np.floor(lat / cell_deg)), int(np.floor(lon / cell_deg)))]
        if edge:
            r = int(np.floor(lat / f)) - int(np.floor(lat / cell_deg)) * FINE
            c = int(np.floor(lon / f)) - int(np.floor(lon / cell_deg)) * FINE
            fine_answers += 0 <= r < FINE and 0 <= c < FINE and not fine[r * FINE + c][1]
    assert fine_answers > 500  # most points of crossed cells were answered by their sub-cell


def test_sub_cells_on_a_boundary_that_follows_their_edges():
    """Zones whose sides lie on sub-cell edges, or a hair inside them: a point on a zone's side is outside it (as
    shapely says), and a point between a side and the sub-cell edge beside it is judged exactly."""
    from maritime.zones.index import FINE, Zone, ZoneIndex

    s = 0.02
    f = s / FINE
    r0, c0 = 14.0 // f, -61.0 // f  # sub-cell grid lines, not the cells': the cells are crossed
    on = shapely.box((c0 + 3) * f, (r0 + 3) * f, (c0 + 21) * f, (r0 + 21) * f)
    hair = shapely.box((c0 + 3) * f + 5e-8, (r0 + 3) * f + 5e-8, (c0 + 21) * f - 5e-8, (r0 + 21) * f - 5e-8)
    for geom in (on, hair):
        index = ZoneIndex([Zone("z", "z", "restricted", geom, alert_on=("entry",))], cell_deg=s)
        checked = 0
        for r in range(int(r0), int(r0) + 25):
            for c in range(int(c0), int(c0) + 25):
                for dy in (0.0, 2e-8, -2e-8, f / 2):
                    for dx in (0.0, 2e-8, -2e-8, f / 2):
                        lat, lon = r * f + dy, c * f + dx
                        want = (0,) if shapely.contains_xy(geom, lon, lat) else ()
                        assert index.containing_idx(lat, lon) == want, (lat, lon)
                        index._points.clear()
                        checked += 1
        assert checked == 25 * 25 * 16


def test_a_cell_crossed_by_forty_zones_answers_as_shapely_does():
    """Forty zones whose sides all cross the same cells (more than a sub-cell's answer packs into one integer):
    every point answers as shapely says."""
    from maritime.zones.index import Zone, ZoneIndex

    geoms = [shapely.box(-61.0101 + 0.00015 * i, 14.0103 + 0.0001 * i, -60.9 - 0.0003 * i, 14.1 - 0.0002 * i)
             for i in range(40)]
    index = ZoneIndex([Zone(f"z{i}", f"z{i}", "restricted", g, alert_on=("entry",)) for i, g in enumerate(geoms)],
                      cell_deg=0.02)
    rng = np.random.default_rng(3)
    for lat, lon in zip(rng.uniform(14.0, 14.04, 3000), rng.uniform(-61.02, -60.98, 3000), strict=True):
        want = tuple(i for i, g in enumerate(geoms) if shapely.contains_xy(g, lon, lat))
        assert sorted(index.containing_idx(float(lat), float(lon))) == list(want), (lat, lon)
        index._points.clear()
    assert max(len(v[1]) for v in index.cells.values()) > 31
