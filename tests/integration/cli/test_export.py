"""``maritime export``: alerts and tracks as GeoJSON (checked against RFC 7946's rules as a JSON Schema), KML
(against the OGC KML 2.2 schema) and GPX (against the GPX 1.1 schema)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.resources import files

import pytest
from lxml import etree
from pyais.encode import encode_dict

from maritime.views.export import Track, export_tracks
from tests.conftest import ROOT, tag

SCHEMAS = ROOT / "tests" / "data" / "schemas"
T0 = 1_747_209_600


def kml_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(files("pykml").joinpath("schemas/ogckml22.xsd"))))


def gpx_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "gpx-1.1.xsd")))


def geojson_ok(doc: dict) -> None:
    import jsonschema

    jsonschema.validate(doc, json.loads((SCHEMAS / "geojson-rfc7946.schema.json").read_text()))


def alerts_file(tmp_path):
    def rec(i, status, **kw):
        return {"id": f"rendezvous:{i}", "type": "rendezvous", "status": status, "severity": "high",
                "time": f"2025-05-14T0{i}:30:00Z", "start": f"2025-05-14T0{i}:00:00Z", "end": None,
                "vessels": [{"mmsi": 376000500, "name": "SEA <BREEZE> & CO"}, {"mmsi": 377000700, "name": None}],
                "position": {"lat": 14.0 + i, "lon": -61.0}, "zone": None, "summary": f"meeting {i}",
                "details": {}, **kw}
    rows = [rec(1, "open"), rec(1, "closed", end="2025-05-14T03:00:00Z"), rec(2, "open"),
            {**rec(3, "open"), "type": "feed_outage", "id": "feed_outage:x", "position": None}]
    f = tmp_path / "alerts.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return f


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "maritime.cli", "export", *args], capture_output=True, text=True,
                          timeout=300)


def test_alerts_in_the_three_formats_validate(tmp_path):
    src = alerts_file(tmp_path)
    res = run("alerts", str(src), "--out", str(tmp_path / "a.geojson"))
    assert res.returncode == 0 and "1 alerts have no position" in res.stderr, res.stderr
    doc = json.loads((tmp_path / "a.geojson").read_text())
    geojson_ok(doc)
    assert [f["id"] for f in doc["features"]] == ["rendezvous:1", "rendezvous:2"]
    first = doc["features"][0]["properties"]
    assert first["status"] == "closed" and first["vessels"] == "SEA <BREEZE> & CO & MMSI 377000700"
    assert first["explanation"].startswith("Two vessels")
    for fmt, schema in (("kml", kml_schema()), ("gpx", gpx_schema())):
        out = tmp_path / f"a.{fmt}"
        assert run("alerts", str(src), "--out", str(out), "--language", "es").returncode == 0
        tree = etree.parse(str(out))
        assert schema.validate(tree), schema.error_log
        assert "encuentro en el mar" in out.read_text()  # the type's name in Spanish
    # to standard output with an explicit format
    res = run("alerts", str(src), "--format", "kml")
    assert res.returncode == 0 and kml_schema().validate(etree.fromstring(res.stdout.encode()))
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    res = run("alerts", str(bad))
    assert res.returncode == 2 and "bad.jsonl:1" in res.stderr and "Traceback" not in res.stderr
    assert run("alerts", str(src), "--format", "shp").returncode == 2


@pytest.mark.slow  # over 6 s: the default run stays under 5 min
def test_tracks_from_a_recording_validate_and_say_who(tmp_path):
    lines = []
    for k, (mmsi, lon0) in enumerate([(376000500, -61.0), (377000700, -62.0)]):
        for i in range(12):
            s = encode_dict({"msg_type": 1, "mmsi": mmsi, "lat": 14.0 + 0.01 * i, "lon": lon0 + 0.01 * i,
                             "speed": 8, "course": 45})[0]
            lines.append(tag(f"c:{T0 + 120 * i + k}") + s.encode())
    static = encode_dict({"msg_type": 5, "mmsi": 376000500, "shipname": "SEA BREEZE", "ship_type": 70})
    lines += [tag(f"c:{T0 + 5}") + s.encode() for s in static]
    rec = tmp_path / "day.nmea"
    rec.write_bytes(b"\n".join(sorted(lines, key=lambda x: x)) + b"\n")
    for fmt in ("geojson", "kml", "gpx"):
        out = tmp_path / f"t.{fmt}"
        res = run("tracks", str(rec), "--out", str(out))
        assert res.returncode == 0 and "2 tracks" in res.stderr, res.stderr
        if fmt == "geojson":
            doc = json.loads(out.read_text())
            geojson_ok(doc)
            named = {f["properties"]["mmsi"]: f for f in doc["features"]}
            assert named[376000500]["properties"]["name"] == "SEA BREEZE"
            assert named[376000500]["geometry"]["type"] == "LineString"
            assert len(named[376000500]["geometry"]["coordinates"]) == 12
        else:
            schema = kml_schema() if fmt == "kml" else gpx_schema()
            assert schema.validate(etree.parse(str(out))), schema.error_log
    res = run("tracks", str(rec), "--mmsi", "377000700", "--format", "gpx")
    assert res.returncode == 0 and res.stdout.count("<trkpt") == 12
    res = run("tracks", str(rec), "--mmsi", "999999999")
    assert res.returncode == 1 and "no fix of MMSI 999999999" in res.stderr


@pytest.mark.parametrize("fmt", ["geojson", "kml", "gpx"])
def test_one_fix_and_the_antimeridian(fmt):
    """One fix is a point (RFC 7946 allows no one-position line); a track across 180° is cut there."""
    tracks = [Track(1, [(T0, 10.0, 20.0)], "ONE FIX"),
              Track(2, [(T0, -17.0, 179.9), (T0 + 60, -17.0, 179.95), (T0 + 120, -17.0, -179.95),
                        (T0 + 180, -17.0, -179.9)], "DATELINE")]
    body = export_tracks(tracks, fmt)
    if fmt == "geojson":
        doc = json.loads(body)
        geojson_ok(doc)
        one, line = doc["features"]
        assert one["geometry"] == {"type": "Point", "coordinates": [20.0, 10.0]}
        assert line["geometry"]["type"] == "MultiLineString"
        a, b = line["geometry"]["coordinates"]
        assert a[-1] == [180.0, -17.0] and b[0] == [-180.0, -17.0]
    else:
        schema = kml_schema() if fmt == "kml" else gpx_schema()
        assert schema.validate(etree.fromstring(body)), schema.error_log
