"""Replay maps (folium) that work offline.

A replay map shows the vessel tracks coloured by category, one marker per
alert (colour by type, size by severity) with a popup that explains it, the
zones styled by kind, rendezvous meeting segments and dark-gap jumps (dashed),
a coastline basemap drawn from Natural Earth land so the islands show with
no tiles, a layer control and a legend.

Offline first: Leaflet's JS and CSS come from a package dependency
(``django-js-lib-leaflet``, Leaflet 1.9.4) and are inlined into the file;
folium's other CDN assets (jQuery, Bootstrap, icon fonts) are not used and
are removed, so the file opens in an operations room with no internet.
"""

from __future__ import annotations

import html
import importlib.resources
import json
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import shapely
from shapely.geometry import box, mapping

from maritime.detectors.tracker import vessel_category
from maritime.models import Position, Record, VesselInfo, parse_iso
from maritime.zones.index import ZoneIndex

logger = logging.getLogger(__name__)

#: The one palette, shared with the live map (``static/palette.json``).
PALETTE: dict[str, Any] = json.loads(
    (importlib.resources.files("maritime.views") / "static" / "palette.json").read_text(encoding="utf-8"))
CATEGORY_COLOURS: dict[str, str] = PALETTE["categories"]
ALERT_COLOURS: dict[str, str] = PALETTE["alerts"]
ZONE_STYLES: dict[str, tuple[str, float]] = {k: (v["colour"], v["fill_opacity"]) for k, v in PALETTE["zones"].items()}
SEVERITY_RADIUS: dict[str, int] = PALETTE["severity_radius"]
#: Above this many alerts the map opens on clusters (counts per 0.5° cell); single alerts are a layer away.
#: Up to it every alert is its own marker (SVG draws a thousand circle markers smoothly).
CLUSTER_ABOVE = 1000


@dataclass
class TrackCollector:
    """Keeps a thinned track per vessel (one fix every ``every_s``) and vessel identities,
    as a pipeline listener (``pipe.add_listener(collector)``)."""

    every_s: float = 300.0
    tracks: dict[int, list[tuple[float, float, float]]] = field(default_factory=lambda: defaultdict(list))
    info: dict[int, dict[str, Any]] = field(default_factory=dict)

    def __call__(self, rec: Record) -> None:
        if isinstance(rec, Position):
            tr = self.tracks[rec.mmsi]
            if not tr or rec.time_s - tr[-1][0] >= self.every_s:
                tr.append((rec.time_s, rec.lat, rec.lon))
        elif isinstance(rec, VesselInfo):
            d = self.info.setdefault(rec.mmsi, {})
            if rec.name:
                d["name"] = rec.name
            if rec.ship_type:
                d["ship_type"] = rec.ship_type

    def near(self, mmsi: int, t0: float, t1: float) -> list[tuple[float, float]]:
        """(lat, lon) of the vessel's fixes between ``t0`` and ``t1``."""
        return [(la, lo) for t, la, lo in self.tracks.get(mmsi, []) if t0 <= t <= t1]


def load_alerts(path: str | Path) -> list[dict[str, Any]]:
    """The latest record of each alert id in a JSON-lines file."""
    latest: dict[str, dict[str, Any]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            a = json.loads(line)
            latest[a["id"]] = a
    return list(latest.values())


def _popup(a: dict[str, Any]) -> str:
    esc = html.escape
    vessels = "<br>".join(
        esc(f"{v.get('name') or '(no name)'} — MMSI {v['mmsi']}, flag {v.get('flag') or '?'}, "
            f"{vessel_category(v.get('ship_type'))}") for v in a.get("vessels", []))
    details = "".join(f"<tr><td>{esc(str(k))}</td><td>{esc(json.dumps(v))}</td></tr>"
                      for k, v in (a.get("details") or {}).items())
    zone = a.get("zone") or {}
    return (f"<div class='alert-popup'><b>{esc(a['type'].replace('_', ' '))}</b> "
            f"({esc(a['severity'])}, {esc(a['status'])})<br>{esc(a['summary'])}<br>"
            f"<small>{esc(a['start'])} → {esc(a.get('end') or 'ongoing')}</small><br>{vessels}"
            + (f"<br>zone: {esc(zone.get('name') or zone.get('id', ''))}" if zone else "")
            + f"<table>{details}</table></div>")


def land_geometry(bounds: tuple[float, float, float, float]) -> Any:
    """Natural Earth land inside ``bounds`` (lon0, lat0, lon1, lat1), as one shapely geometry."""
    from maritime.zones.geodata import countries

    area = box(*bounds)
    # union before simplifying: countries simplified one by one no longer share their borders, and the
    # slivers between them would be drawn as lines across the land
    return shapely.union_all([c.geometry.intersection(area) for c in countries() if c.geometry.intersects(area)])


def coastline(bounds: tuple[float, float, float, float]) -> dict[str, Any]:
    """The land inside ``bounds`` as a GeoJSON feature, simplified to 0.005° (about 500 m)."""
    land = shapely.simplify(land_geometry(bounds), 0.005)
    return {"type": "Feature", "properties": {}, "geometry": mapping(land)}


def replay_map(alerts: str | Path | list[dict[str, Any]], out: str | Path, *,
               tracks: TrackCollector | None = None, zones: ZoneIndex | None = None,
               tile_url: str | None = None, title: str = "Caribbean MDA replay") -> Path:
    """Write a self-contained replay map; return its path."""
    m = build_replay_map(alerts, tracks=tracks, zones=zones, tile_url=tile_url, title=title)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(m.get_root().render(), encoding="utf-8")
    return out


def build_replay_map(alerts: str | Path | list[dict[str, Any]], *, tracks: TrackCollector | None = None,
                     zones: ZoneIndex | None = None, tile_url: str | None = None,
                     title: str = "Caribbean MDA replay") -> OfflineMap:
    """The replay map as a folium map (shown inline in a notebook; :func:`replay_map` writes it to a file)."""
    items = load_alerts(alerts) if isinstance(alerts, (str, Path)) else alerts
    if tracks is not None:
        items = [_named(a, tracks) for a in items]
    pts = [(a["position"]["lat"], a["position"]["lon"]) for a in items if a.get("position")]
    if tracks is not None:
        pts += [(la, lo) for tr in tracks.tracks.values() for _, la, lo in tr[:: max(1, len(tr) // 20)]]
    if pts:
        lat0, lat1 = min(p[0] for p in pts), max(p[0] for p in pts)
        lon0, lon1 = min(p[1] for p in pts), max(p[1] for p in pts)
    else:
        lat0, lat1, lon0, lon1 = 7.0, 28.0, -90.0, -58.0
    m = OfflineMap(location=[(lat0 + lat1) / 2, (lon0 + lon1) / 2], zoom_start=6, tiles=None,
                   prefer_canvas=len(items) > 2000, control_scale=True)
    root: Any = m.get_root()  # a folium Figure
    root.header.add_child(folium.Element(f"<title>{html.escape(title)}</title>"))
    pad = 5.0
    sea = folium.FeatureGroup(name="Coastline (offline basemap)", overlay=False, control=True)
    folium.GeoJson(coastline((lon0 - pad, lat0 - pad, lon1 + pad, lat1 + pad)), name="land",
                   style_function=lambda _f: {"color": "#5d6d7e", "weight": 1, "fillColor": "#e8e3d3",
                                              "fillOpacity": 1.0}).add_to(sea)
    sea.add_to(m)
    root.html.add_child(folium.Element("<style>.leaflet-container{background:#b3d4e6}</style>"))
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr="tiles", name="Online tiles", overlay=False).add_to(m)
    if zones is not None and len(zones):
        zl = folium.FeatureGroup(name="Zones", show=True)
        for z in zones.zones:
            colour, fill = ZONE_STYLES.get(z.kind, ("#fb8c00", 0.1))
            g = z.geometry
            if not g.intersects(box(lon0 - pad, lat0 - pad, lon1 + pad, lat1 + pad)):
                continue
            feat = {"type": "Feature", "properties": {"name": z.name, "kind": z.kind},
                    "geometry": mapping(shapely.simplify(g, 0.01 if z.kind == "eez" else 0.002))}
            folium.GeoJson(feat, style_function=lambda _f, c=colour, f=fill: {
                "color": c, "weight": 1, "fillColor": c, "fillOpacity": f},
                tooltip=html.escape(f"{z.name} ({z.kind.replace('_', ' ')})")).add_to(zl)
        zl.add_to(m)
    if tracks is not None:
        tl = folium.FeatureGroup(name="Vessel tracks", show=True)
        # big days stay openable: coarser lines the more vessels there are (0.002° ≈ 200 m … 0.01° ≈ 1 km),
        # all in one GeoJSON layer (a Leaflet polyline each would repeat its options 5,000 times)
        n = len(tracks.tracks)
        tolerance = 0.002 if n <= 500 else 0.005 if n <= 2000 else 0.01
        features = []
        for mmsi, tr in tracks.tracks.items():
            if len(tr) < 2:
                continue
            info = tracks.info.get(mmsi, {})
            cat = vessel_category(info.get("ship_type"))
            line = shapely.simplify(shapely.LineString([(lo, la) for _, la, lo in tr]), tolerance)
            features.append({
                "type": "Feature", "id": mmsi,
                "properties": {"c": CATEGORY_COLOURS.get(cat, "#9e9e9e"),
                               "n": html.escape(f"{info.get('name') or 'MMSI ' + str(mmsi)} ({cat})")},
                "geometry": {"type": "LineString",
                             "coordinates": [[round(x, 4), round(y, 4)] for x, y in shapely.get_coordinates(line)]},
            })
        if features:
            folium.GeoJson(
                {"type": "FeatureCollection", "features": features}, name="tracks",
                style_function=lambda f: {"color": f["properties"]["c"], "weight": 1.5, "opacity": 0.7,
                                          "className": "vessel-track"},
                tooltip=folium.GeoJsonTooltip(fields=["n"], labels=False, sticky=True),
            ).add_to(tl)
        tl.add_to(m)
    many = len(items) > CLUSTER_ABOVE
    if many:
        _clusters(items).add_to(m)
    al = folium.FeatureGroup(name="Alerts" + (" (each)" if many else ""), show=not many)
    for a in items:
        pos = a.get("position")
        if not pos:
            continue
        colour = ALERT_COLOURS.get(a["type"], "#212121")
        folium.CircleMarker(
            location=(pos["lat"], pos["lon"]), radius=SEVERITY_RADIUS.get(a["severity"], 8), color="#ffffff",
            weight=1.5, fill=True, fill_color=colour, fill_opacity=0.95,
            popup=folium.Popup(_popup(a), max_width=420), tooltip=html.escape(a["summary"][:140]),
            class_name=f"alert-marker alert-{a['type']}",
        ).add_to(al)
        if tracks is not None and a["type"] == "rendezvous":
            t0 = parse_iso(a["start"])
            t1 = parse_iso(a["end"]) if a.get("end") else parse_iso(a["time"])
            for v in a.get("vessels", []):
                seg = tracks.near(v["mmsi"], t0, t1)
                if len(seg) >= 2:
                    folium.PolyLine(seg, color=colour, weight=5, opacity=0.8).add_to(al)
        if a["type"] == "dark_gap":
            after = (a.get("details") or {}).get("first_position_after")
            if after:
                folium.PolyLine([(pos["lat"], pos["lon"]), (after["lat"], after["lon"])], color="#000000", weight=2,
                                dash_array="6 6", tooltip="dark gap: last fix before → first fix after").add_to(al)
    al.add_to(m)
    if tracks is not None and tracks.tracks:
        step = 900.0 if len(tracks.tracks) <= 1000 else 1800.0
        root.html.add_child(folium.Element(_timeline(m.get_name(), tracks, step)))
    folium.LayerControl(collapsed=False).add_to(m)
    root.html.add_child(folium.Element(_legend(items)))
    m.fit_bounds([[lat0, lon0], [lat1, lon1]])
    return m


def _named(alert: dict[str, Any], tracks: TrackCollector) -> dict[str, Any]:
    """The alert with each unnamed vessel named from the whole input (a vessel silent in a dark gap may have
    sent its name only later); the caller's dict is left as it is."""
    vessels = alert.get("vessels") or []
    if all(v.get("name") or not tracks.info.get(v["mmsi"], {}).get("name") for v in vessels):
        return alert
    named = [v if v.get("name") else {**v, "name": tracks.info.get(v["mmsi"], {}).get("name")} for v in vessels]
    return {**alert, "vessels": named}


def _timeline(map_name: str, tracks: TrackCollector, step_s: float = 900.0) -> str:
    """A time slider that plays the vessels' positions (one fix per vessel every ``step_s``).

    Leaflet time-dimension plugins load from CDNs only; this one is a range input and a few
    lines of script, so the file still works offline.
    """
    t0 = min(tr[0][0] for tr in tracks.tracks.values() if tr)
    t1 = max(tr[-1][0] for tr in tracks.tracks.values() if tr)
    n_frames = math.ceil((t1 - t0) / step_s) + 1
    data: dict[str, Any] = {}
    for mmsi, tr in tracks.tracks.items():
        # frame k (at t0 + k × step_s) holds the vessel's last fix of the step before it; frames are written
        # as [lat, lon] (≈ 100 m), 1 for "where it was in the frame before", 0 for "not heard"
        frames: list[tuple[float, float] | None] = [None] * n_frames
        for t, la, lo in tr:
            frames[math.ceil((t - t0) / step_s)] = (round(la, 3), round(lo, 3))
        while frames and frames[-1] is None:
            frames.pop()
        out: list[Any] = []
        last = None
        for f in frames:
            out.append(0 if f is None else 1 if f == last else list(f))
            last = f if f is not None else last
        cat = vessel_category(tracks.info.get(mmsi, {}).get("ship_type"))
        data[str(mmsi)] = {"c": CATEGORY_COLOURS.get(cat, "#9e9e9e"), "p": out}
    minutes = max(1, round((t1 - t0) / 60))
    cfg = {"t0_ms": t0 * 1000, "step_min": step_s / 60, "map": map_name, "data": data}
    controls = (
        "<div id='mda-time' style='position:absolute;bottom:20px;left:50%;transform:translateX(-50%);z-index:1000;"
        "background:#fff;padding:6px 10px;font:12px sans-serif;border-radius:4px;box-shadow:0 0 4px #888'>"
        "<button id='mda-play' type='button'>▶</button>"
        f"<input id='mda-slider' type='range' min='0' max='{minutes}' value='{minutes}' step='5' style='width:320px'>"
        "<span id='mda-clock'></span></div>")
    return controls + _json_script("mda-timeline-data", cfg) + _inline_script("timeline.js")


def _static(name: str) -> str:
    """A file of ``maritime/views/static`` (the maps' own JavaScript)."""
    return (importlib.resources.files("maritime.views") / "static" / name).read_text(encoding="utf-8")


def _inline_script(name: str) -> str:
    """A static script, inlined so the page works offline (and from a file: no server)."""
    return "<script>" + _static(name) + "</script>"


def _json_script(element_id: str, doc: Any) -> str:
    """Data for a static script: JSON in a non-executed script element (``</`` escaped so it cannot close it)."""
    text = json.dumps(doc, separators=(",", ":")).replace("</", "<\\/")
    return f"<script type='application/json' id='{element_id}'>{text}</script>"


def _clusters(items: list[dict[str, Any]], cell_deg: float = 0.5) -> folium.FeatureGroup:
    """Alerts grouped by grid cell: one circle per cell, sized by count, with the counts by type."""
    cells: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for a in items:
        pos = a.get("position")
        if pos:
            cells[(int(pos["lat"] // cell_deg), int(pos["lon"] // cell_deg))].append(a)
    fg = folium.FeatureGroup(name="Alert clusters", show=True)
    for group in cells.values():
        lat = sum(a["position"]["lat"] for a in group) / len(group)
        lon = sum(a["position"]["lon"] for a in group) / len(group)
        counts: dict[str, int] = defaultdict(int)
        for a in group:
            counts[a["type"]] += 1
        text = "<br>".join(f"{html.escape(k.replace('_', ' '))}: {v}" for k, v in sorted(counts.items()))
        folium.CircleMarker(location=(lat, lon), radius=min(30, 6 + 3 * len(group) ** 0.5), color="#37474f",
                            weight=1, fill=True, fill_color="#ff7043", fill_opacity=0.7,
                            popup=folium.Popup(f"<b>{len(group)} alerts</b><br>{text}", max_width=300),
                            tooltip=f"{len(group)} alerts", class_name="alert-cluster").add_to(fg)
    return fg


def _legend(items: list[dict[str, Any]]) -> str:
    types = sorted({a["type"] for a in items})
    rows = "".join(f"<div><span style='display:inline-block;width:10px;height:10px;border-radius:5px;"
                   f"background:{ALERT_COLOURS.get(t, '#212121')}'></span> {html.escape(t.replace('_', ' '))}</div>"
                   for t in types)
    cats = "".join(f"<div><span style='display:inline-block;width:14px;height:3px;background:{c}'></span> "
                   f"{k.replace('_', ' ')}</div>" for k, c in CATEGORY_COLOURS.items())
    return ("<div id='mda-legend' style='position:absolute;bottom:60px;left:10px;z-index:1000;background:#fff;"
            "padding:6px 8px;font:12px sans-serif;border-radius:4px;box-shadow:0 0 4px #888'>"
            f"<b>Alerts</b>{rows or '<div>none</div>'}<b>Vessels</b>{cats}</div>")


def _asset(name: str) -> str:
    return (importlib.resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet" / name).read_text(
        encoding="utf-8")


class OfflineMap(folium.Map):
    """A folium map that links nothing from the internet: Leaflet is inlined from the installed package, and
    the CDN scripts and stylesheets folium would add (jQuery, Bootstrap, Font Awesome) are left out."""

    default_js: list[tuple[str, str]] = []  # noqa: RUF012 - folium reads these off the class
    default_css: list[tuple[str, str]] = []  # noqa: RUF012

    def render(self, **kwargs: Any) -> Any:
        figure = self.get_root()
        header = getattr(figure, "header", None)
        if header is not None and "mda-leaflet" not in header._children:
            header.add_child(folium.Element(_inline_script("jquery-shim.js")), name="mda-shim")
            header.add_child(folium.Element("<script>" + _asset("leaflet.js") + "</script>"), name="mda-leaflet")
            header.add_child(folium.Element("<style>" + _asset("leaflet.css") + "</style>"), name="mda-leaflet-css")
        return super().render(**kwargs)
