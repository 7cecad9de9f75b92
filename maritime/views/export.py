"""Alerts and tracks for the floor's other tools: GeoJSON (RFC 7946), KML 2.2 (Google Earth) and GPX 1.1
(OpenCPN, chart plotters).

- Alerts are points: the latest record of each alert, with its type's name and explanation, status, severity,
  times, vessels (by name) and summary. An alert without a position is left out and counted.
- Tracks are lines, one per vessel: a GeoJSON ``LineString`` (a ``Point`` for one fix, since RFC 7946 needs two
  positions for a line; split into a ``MultiLineString`` where it crosses 180°), a KML ``LineString`` with its
  time span, a GPX ``trk`` whose segments break at silences longer than ``gap_s``.

Times are UTC. Coordinates are WGS 84 longitude, latitude (GeoJSON, KML) or lat/lon attributes (GPX).
"""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from maritime.delivery.cap import xml_text
from maritime.models import iso
from maritime.vocabulary import STATUS_TEXT, explain, type_name, vessel_names

logger = logging.getLogger(__name__)

FORMATS = ("geojson", "kml", "gpx")
KML_NS = "http://www.opengis.net/kml/2.2"
GPX_NS = "http://www.topografix.com/GPX/1/1"
CREATOR = "caribbean-mda (maritime export)"
#: KML colours (aabbggrr) of the severities, as the maps draw them
_KML_SEVERITY = {"info": "ffd18802", "low": "ff00a0c0", "medium": "ff007cf5", "high": "ff0000d5",
                 "critical": "ffa8006a"}


@dataclass
class Track:
    """One vessel's fixes ``(time s, lat, lon)``, oldest first, and what is known of it."""

    mmsi: int
    fixes: list[tuple[float, float, float]] = field(default_factory=list)
    name: str | None = None
    ship_type: int | None = None

    @property
    def label(self) -> str:
        return self.name or f"MMSI {self.mmsi}"


def latest_alerts(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latest record of each alert id, in the order the ids first came."""
    latest: dict[str, dict[str, Any]] = {}
    for a in records:
        latest[a["id"]] = a
    return list(latest.values())


def _alert_props(a: dict[str, Any], lang: str) -> dict[str, Any]:
    return {"id": a["id"], "type": a["type"], "name": type_name(a["type"], lang),
            "explanation": explain(a["type"], lang), "status": a["status"], "severity": a["severity"],
            "time": a["time"], "start": a["start"], "end": a.get("end"), "vessels": vessel_names(a),
            "mmsis": [v["mmsi"] for v in a.get("vessels") or []], "summary": a["summary"],
            "zone": (a.get("zone") or {}).get("name")}


def _placed(alerts: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    placed = [a for a in alerts if a.get("position")]
    return placed, len(alerts) - len(placed)


def _split_antimeridian(fixes: Sequence[tuple[float, float, float]]) -> list[list[list[float]]]:
    """Runs of ``[lon, lat]`` positions, cut where a step crosses 180° (RFC 7946 section 3.1.9), each cut end
    placed on the meridian at the interpolated latitude."""
    runs: list[list[list[float]]] = [[]]
    prev: tuple[float, float] | None = None
    for _, lat, lon in fixes:
        if prev is not None and abs(lon - prev[1]) > 180.0:
            east = prev[1] > 0  # leaving the eastern side (179°E → 179°W) or the western one
            edge = 180.0 if east else -180.0
            span = (180.0 - abs(prev[1])) + (180.0 - abs(lon))
            f = (180.0 - abs(prev[1])) / span if span else 0.5
            mid = prev[0] + f * (lat - prev[0])
            runs[-1].append([edge, mid])
            runs.append([[-edge, mid]])
        runs[-1].append([lon, lat])
        prev = (lat, lon)
    return [r for r in runs if r]


def _track_geometry(t: Track) -> dict[str, Any]:
    if len(t.fixes) == 1:
        _, lat, lon = t.fixes[0]
        return {"type": "Point", "coordinates": [lon, lat]}
    runs = _split_antimeridian(t.fixes)
    runs = [r if len(r) > 1 else r * 2 for r in runs]  # a lone position after a cut: a line needs two
    if len(runs) == 1:
        return {"type": "LineString", "coordinates": runs[0]}
    return {"type": "MultiLineString", "coordinates": runs}


# -- GeoJSON ------------------------------------------------------------------------------------------------


def alerts_geojson(alerts: Sequence[dict[str, Any]], lang: str = "en") -> dict[str, Any]:
    """The alerts as a GeoJSON FeatureCollection of points."""
    placed, _ = _placed(alerts)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": a["id"], "properties": _alert_props(a, lang),
         "geometry": {"type": "Point", "coordinates": [a["position"]["lon"], a["position"]["lat"]]}}
        for a in placed]}


def tracks_geojson(tracks: Sequence[Track]) -> dict[str, Any]:
    """The tracks as a GeoJSON FeatureCollection, one feature per vessel."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": str(t.mmsi),
         "properties": {"mmsi": t.mmsi, "name": t.name, "ship_type": t.ship_type,
                        "start": iso(t.fixes[0][0]), "end": iso(t.fixes[-1][0]),
                        "times": [iso(f[0]) for f in t.fixes]},
         "geometry": _track_geometry(t)} for t in tracks if t.fixes]}


# -- KML 2.2 ------------------------------------------------------------------------------------------------


def _k(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{KML_NS}}}{tag}")
    if text is not None:
        el.text = xml_text(text)
    return el


def _kml_doc(name: str) -> tuple[ET.Element, ET.Element]:
    ET.register_namespace("", KML_NS)
    root = ET.Element(f"{{{KML_NS}}}kml")
    doc = _k(root, "Document")
    _k(doc, "name", name)
    return root, doc


def _kml_bytes(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def alerts_kml(alerts: Sequence[dict[str, Any]], lang: str = "en") -> bytes:
    """The alerts as KML 2.2 placemarks, styled by severity, with their time span."""
    root, doc = _kml_doc("Caribbean MDA alerts")
    for sev, colour in _KML_SEVERITY.items():  # styles first: the schema orders a Document's children
        style = _k(doc, "Style")
        style.set("id", f"sev-{sev}")
        icon = _k(style, "IconStyle")
        _k(icon, "color", colour)
    placed, _ = _placed(alerts)
    for a in placed:
        p = _alert_props(a, lang)
        pm = _k(doc, "Placemark")
        pm.set("id", "a-" + "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in a["id"]))
        _k(pm, "name", f"{p['name']}: {p['vessels']}" if p["vessels"] else p["name"])
        _k(pm, "description", f"{a['summary']}\n{p['explanation']}\n{p['severity']}, "
                              f"{STATUS_TEXT.get(a['status'], a['status'])} ({a['id']})")
        span = _k(pm, "TimeSpan")
        _k(span, "begin", a["start"])
        if a.get("end"):
            _k(span, "end", a["end"])
        _k(pm, "styleUrl", f"#sev-{a['severity']}")
        ext = _k(pm, "ExtendedData")
        for key in ("id", "type", "status", "severity", "time"):
            d = _k(ext, "Data")
            d.set("name", key)
            _k(d, "value", str(p[key]))
        pt = _k(pm, "Point")
        _k(pt, "coordinates", f"{a['position']['lon']:.6f},{a['position']['lat']:.6f}")
    return _kml_bytes(root)


def tracks_kml(tracks: Sequence[Track]) -> bytes:
    """The tracks as KML 2.2 placemarks, a line (or a point) per vessel with its time span."""
    root, doc = _kml_doc("Caribbean MDA tracks")
    for t in tracks:
        if not t.fixes:
            continue
        pm = _k(doc, "Placemark")
        pm.set("id", f"v-{t.mmsi}")
        _k(pm, "name", t.label)
        _k(pm, "description", f"MMSI {t.mmsi}, {len(t.fixes)} fixes")
        span = _k(pm, "TimeSpan")
        _k(span, "begin", iso(t.fixes[0][0]))
        _k(span, "end", iso(t.fixes[-1][0]))
        geom = _track_geometry(t)
        if geom["type"] == "Point":
            _k(_k(pm, "Point"), "coordinates", f"{geom['coordinates'][0]:.6f},{geom['coordinates'][1]:.6f}")
            continue
        runs = [geom["coordinates"]] if geom["type"] == "LineString" else geom["coordinates"]
        holder = _k(pm, "MultiGeometry") if len(runs) > 1 else pm
        for run in runs:
            line = _k(holder, "LineString")
            _k(line, "tessellate", "1")
            _k(line, "coordinates", " ".join(f"{lo:.6f},{la:.6f}" for lo, la in run))
    return _kml_bytes(root)


# -- GPX 1.1 ------------------------------------------------------------------------------------------------


def _g(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{GPX_NS}}}{tag}")
    if text is not None:
        el.text = xml_text(text)
    return el


def _gpx_root(name: str) -> ET.Element:
    ET.register_namespace("", GPX_NS)
    root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": CREATOR})
    meta = _g(root, "metadata")
    _g(meta, "name", name)
    return root


def _lon(lon: float) -> str:
    """GPX longitudes lie in [-180, 180)."""
    return f"{(lon + 180.0) % 360.0 - 180.0:.6f}"


def alerts_gpx(alerts: Sequence[dict[str, Any]], lang: str = "en") -> bytes:
    """The alerts as GPX 1.1 waypoints (name, time, description, type)."""
    root = _gpx_root("Caribbean MDA alerts")
    placed, _ = _placed(alerts)
    for a in placed:
        p = _alert_props(a, lang)
        w = _g(root, "wpt", )
        w.set("lat", f"{a['position']['lat']:.6f}")
        w.set("lon", _lon(a["position"]["lon"]))
        _g(w, "time", a["start"])
        _g(w, "name", f"{p['name']}: {p['vessels']}" if p["vessels"] else p["name"])
        _g(w, "desc", f"{a['summary']} ({p['severity']}, {STATUS_TEXT.get(a['status'], a['status'])}; {a['id']})")
        _g(w, "sym", "Danger Area" if a["severity"] in ("high", "critical") else "Flag, Red")
        _g(w, "type", a["type"])
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def tracks_gpx(tracks: Sequence[Track], gap_s: float = 1800.0) -> bytes:
    """The tracks as GPX 1.1 ``trk`` elements, a new segment after a silence longer than ``gap_s`` seconds."""
    root = _gpx_root("Caribbean MDA tracks")
    for t in tracks:
        if not t.fixes:
            continue
        trk = _g(root, "trk")
        _g(trk, "name", t.label)
        _g(trk, "desc", f"MMSI {t.mmsi}")
        seg = _g(trk, "trkseg")
        prev: float | None = None
        for ts, lat, lon in t.fixes:
            if prev is not None and ts - prev > gap_s:
                seg = _g(trk, "trkseg")
            pt = _g(seg, "trkpt")
            pt.set("lat", f"{lat:.6f}")
            pt.set("lon", _lon(lon))
            _g(pt, "time", iso(ts))
            prev = ts
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def export_alerts(alerts: Sequence[dict[str, Any]], fmt: str, lang: str = "en") -> tuple[bytes, int]:
    """The alerts in ``fmt`` and how many were left out for lack of a position."""
    _, unplaced = _placed(alerts)
    if fmt == "geojson":
        return json.dumps(alerts_geojson(alerts, lang), ensure_ascii=False).encode() + b"\n", unplaced
    if fmt == "kml":
        return alerts_kml(alerts, lang), unplaced
    if fmt == "gpx":
        return alerts_gpx(alerts, lang), unplaced
    raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")


def export_tracks(tracks: Sequence[Track], fmt: str) -> bytes:
    """The tracks in ``fmt``."""
    if fmt == "geojson":
        return json.dumps(tracks_geojson(tracks), ensure_ascii=False).encode() + b"\n"
    if fmt == "kml":
        return tracks_kml(tracks)
    if fmt == "gpx":
        return tracks_gpx(tracks)
    raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
