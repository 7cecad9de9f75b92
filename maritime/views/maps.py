"""Replay maps (folium) that work offline.

A replay map shows the vessel tracks coloured by category (those of vessels
in alerts strong, the others dimmed on a busy day), one diamond per alert
like the live map's (a letter for the type, the rim for the severity) with a
popup in words, a sortable alert list, the zones styled by kind with a
legend, rendezvous meeting segments and dark-gap jumps (dashed), a time
slider that plays positions and shows the alerts and tracks of the time
chosen, and a Natural Earth basemap of the whole region (the map cannot be
panned past it) so the islands show with no tiles.

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
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import shapely
from shapely.geometry import box, mapping

from maritime.detectors.tracker import vessel_category
from maritime.geo import format_duration
from maritime.models import Position, Record, VesselInfo, parse_iso
from maritime.zones.index import ZoneIndex

logger = logging.getLogger(__name__)

#: The one palette, shared with the live map (``static/palette.json``).
PALETTE: dict[str, Any] = json.loads(
    (importlib.resources.files("maritime.views") / "static" / "palette.json").read_text(encoding="utf-8"))
CATEGORY_COLOURS: dict[str, str] = PALETTE["categories"]
ZONE_STYLES: dict[str, tuple[str, float]] = {k: (v["colour"], v["fill_opacity"]) for k, v in PALETTE["zones"].items()}
SEVERITY_COLOURS: dict[str, str] = PALETTE["severity_colours"]
ALERT_GLYPHS: dict[str, str] = PALETTE["alert_glyphs"]
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


_UNITS = (("_kn", "kn"), ("_nm", "nm"), ("_km", "km"), ("_m", "m"), ("_deg", "°"), ("_pct", "%"))
_DURATIONS = (("_h", 3600.0), ("_min", 60.0), ("_s", 1.0))
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
#: details keys whose words say more than the key
_LABELS = {"sog_kn": "speed", "last_sog_kn": "last speed", "max_sog_kn": "top speed", "median_sog_kn": "median speed",
           "cog_deg": "course", "dt_s": "time apart", "min_distance_m": "closest approach",
           "silent_mmsis": "silent vessels (MMSI)", "last_nav_status": "last navigational status",
           "vessel_category": "vessel type", "rule_vessel_types": "rule applies to"}
#: words that are not snake case turned into spaces
_WORDS = {"eez": "EEZ", "mpa": "marine protected area", "shared_mmsi": "shared MMSI", "default_mmsi": "default MMSI",
          "invalid_mmsi": "invalid MMSI", "imo_new_mmsi": "IMO on a new MMSI"}


def place_words(lat: float, lon: float) -> str:
    """A place as a watch officer reads it: ``14.02°N 61.02°W``."""
    return f"{abs(lat):.2f}°{'N' if lat >= 0 else 'S'} {abs(lon):.2f}°{'E' if lon >= 0 else 'W'}"


def _value_words(v: Any) -> str | None:
    if v is None or v == [] or v == {}:
        return None
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.1f}".rstrip("0").rstrip(".") if abs(v) < 1e6 else f"{v:,.0f}"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return _WORDS.get(v) or (v.replace("_", " ") if _SNAKE.match(v) else v)
    if isinstance(v, dict):
        if "lat" in v and "lon" in v and isinstance(v["lat"], (int, float)) and isinstance(v["lon"], (int, float)):
            return place_words(v["lat"], v["lon"])
        if "score" in v and "factors" in v:  # an explained risk score
            parts = [f"{f.get('factor', '').replace('_', ' ')} {f.get('points')}" for f in v.get("factors") or []]
            return f"{v['score']}" + (f" ({', '.join(parts)})" if parts else "")
        if "name" in v or "id" in v:  # a zone or a place of the jurisdiction
            return str(v.get("name") or v.get("id"))
        if {"south", "west", "north", "east"} <= set(v):
            return f"{place_words(v['south'], v['west'])} to {place_words(v['north'], v['east'])}"
        got = [(k, _value_words(x)) for k, x in v.items()]
        return "; ".join(f"{_label(k)[0]} {w}" for k, w in got if w is not None) or None
    if isinstance(v, list):
        items = [w for w in (_value_words(x) for x in v[:10]) if w is not None]
        more = f" … ({len(v)} in all)" if len(v) > 10 else ""
        return (", ".join(items) + more) if items else None
    return str(v)


def _label(key: str) -> tuple[str, str | float | None]:
    """A details key in words, and its unit (a string) or its duration scale (seconds per unit)."""
    named = _LABELS.get(key)
    for suffix, unit in _UNITS:
        if key.endswith(suffix):
            return named or key[: -len(suffix)].replace("_", " "), unit
    for suffix, scale in _DURATIONS:
        if key.endswith(suffix):
            return named or key[: -len(suffix)].replace("_", " "), scale
    if named:
        return named, None
    for suffix, unit in _UNITS:
        if key.endswith(suffix):
            return key[: -len(suffix)].replace("_", " "), unit
    for suffix, scale in _DURATIONS:
        if key.endswith(suffix):
            return key[: -len(suffix)].replace("_", " "), scale
    return key.replace("_", " "), None


def detail_rows(details: dict[str, Any]) -> list[tuple[str, str]]:
    """An alert's details as (label, value) in words: places as 14.02°N 61.02°W, durations, units, no JSON."""
    from maritime.vocabulary import nav_status

    rows: list[tuple[str, str]] = []
    for key, v in details.items():
        label, unit = _label(str(key))
        if str(key).endswith("nav_status") and isinstance(v, int) and not isinstance(v, bool):
            rows.append((label, nav_status(v) or str(v)))  # "at anchor", not "1"
            continue
        if isinstance(unit, float) and isinstance(v, (int, float)) and not isinstance(v, bool):
            secs = v * unit
            rows.append((label, f"{secs:.0f} s" if abs(secs) < 90 else format_duration(secs)))
            continue
        text = _value_words(v)
        if text is None:
            continue
        rows.append((label, f"{text} {unit}" if isinstance(unit, str) and isinstance(v, (int, float)) else text))
    return rows


def _when(a: dict[str, Any]) -> str:
    start, end = a.get("start"), a.get("end")
    t0 = parse_iso(start) if start else None
    t1 = parse_iso(end) if end else None
    text = f"{(start or '?').replace('T', ' ')[:16]}Z"
    if t1 is not None:
        text += f" to {end.replace('T', ' ')[:16]}Z" if end else ""
        if t0 is not None:
            text += f" ({format_duration(t1 - t0)})"
    else:
        text += ", ongoing"
    return text


def alert_words(a: dict[str, Any]) -> dict[str, Any]:
    """What a replay map shows about an alert, in words (the page puts it in as text)."""
    vessels = [f"{v.get('name') or '(no name)'} — MMSI {v['mmsi']}"
               + (f", flag {v['flag']}" if v.get("flag") else "")
               + f", {vessel_category(v.get('ship_type')).replace('_', ' ')}" for v in a.get("vessels", [])]
    zone = a.get("zone") or {}
    rows = [("when", _when(a))]
    pos = a.get("position")
    if pos:
        rows.append(("where", place_words(pos["lat"], pos["lon"])))
    if zone:
        kind = str(zone.get("kind", ""))
        rows.append(("zone", f"{zone.get('name') or zone.get('id')} ({_WORDS.get(kind) or kind.replace('_', ' ')})"))
    j = a.get("jurisdiction") or {}
    waters = [w.get("name") for k in ("territorial_sea", "contiguous_zone", "eez") if (w := j.get(k))]
    if waters:
        rows.append(("waters", ", ".join(str(w) for w in waters if w)))
    rows += detail_rows(a.get("details") or {})
    from maritime.vocabulary import STATUS_TEXT, explain, type_name

    return {"title": f"{type_name(a['type'])} · {a['severity']} · {STATUS_TEXT.get(a['status'], a['status'])}",
            "summary": a["summary"], "explain": explain(a["type"]), "vessels": vessels, "rows": rows}


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


#: the land drawn under every replay map: the wider Caribbean, well beyond where traffic is, so that panning
#: never shows it cut (the map cannot be panned past it)
BASEMAP_BOUNDS = (-105.0, -5.0, -40.0, 38.0)
#: above this many vessels, ordinary tracks are drawn thin and faint so the alert vessels stand out
DIM_ABOVE = 500


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
    bx0, by0, bx1, by1 = BASEMAP_BOUNDS
    bx0, by0, bx1, by1 = min(bx0, lon0 - 5), min(by0, lat0 - 5), max(bx1, lon1 + 5), max(by1, lat1 + 5)
    m = OfflineMap(location=[(lat0 + lat1) / 2, (lon0 + lon1) / 2], zoom_start=6, tiles=None, min_zoom=4,
                   prefer_canvas=len(items) > 2000, control_scale=True, max_bounds=True,
                   min_lat=by0, max_lat=by1, min_lon=bx0, max_lon=bx1)
    root: Any = m.get_root()  # a folium Figure
    root.header.add_child(folium.Element(f"<title>{html.escape(title)}</title>"))
    sea = folium.FeatureGroup(name="Coastline (offline basemap)", overlay=False, control=True)
    folium.GeoJson({"type": "Feature", "properties": {}, "geometry": _land((bx0, by0, bx1, by1))}, name="land",
                   style_function=lambda _f: {"color": "#5d6d7e", "weight": 1, "fillColor": "#e8e3d3",
                                              "fillOpacity": 1.0, "interactive": False}).add_to(sea)
    sea.add_to(m)
    root.html.add_child(folium.Element("<style>.leaflet-container{background:#b3d4e6}</style>"))
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr="tiles", name="Online tiles", overlay=False).add_to(m)
    kinds: set[str] = set()
    if zones is not None and len(zones):
        zl = folium.FeatureGroup(name="Zones", show=True)
        view = box(lon0 - 5, lat0 - 5, lon1 + 5, lat1 + 5)
        for z in zones.zones:
            colour, fill = ZONE_STYLES.get(z.kind, ("#fb8c00", 0.1))
            g = z.geometry
            if not g.intersects(view):
                continue
            kinds.add(z.kind)
            feat = {"type": "Feature", "properties": {"name": z.name, "kind": z.kind},
                    "geometry": mapping(shapely.simplify(g, 0.01 if z.kind == "eez" else 0.002))}
            folium.GeoJson(feat, style_function=lambda _f, c=colour, f=fill: {
                "color": c, "weight": 1, "fillColor": c, "fillOpacity": f},
                tooltip=html.escape(f"{z.name} ({z.kind.replace('_', ' ')})")).add_to(zl)
        zl.add_to(m)
    in_alerts = {v["mmsi"] for a in items for v in a.get("vessels", [])}
    layers: dict[str, str | None] = {"tracks": None, "prominent": None}
    if tracks is not None:
        layers = _tracks(m, tracks, in_alerts)
    data: dict[str, Any] = {"map": m.get_name(), **layers, "many": len(items) > CLUSTER_ABOVE,
                            "alerts": [_alert_data(a, tracks) for a in items if a.get("position")], "timeline": None}
    if data["many"]:
        _clusters(items).add_to(m)
    controls = ""
    if tracks is not None and tracks.tracks:
        step = 900.0 if len(tracks.tracks) <= 1000 else 1800.0
        data["timeline"], controls = _timeline(tracks, step, in_alerts)
    root.html.add_child(folium.Element(controls + _alert_panel() + _json_script("mda-replay-data", data)
                                       + _inline_script("symbols.js") + _inline_script("replay.js")))
    root.header.add_child(folium.Element(
        "<script>window.MDA_PALETTE = " + json.dumps(PALETTE, separators=(",", ":")) + ";</script>"))
    folium.LayerControl(collapsed=False, position="topleft").add_to(m)
    root.html.add_child(folium.Element(_legend(items, kinds)))
    m.fit_bounds([[lat0, lon0], [lat1, lon1]])
    return m


_LAND_CACHE: dict[tuple[float, ...], dict[str, Any]] = {}


def _land(bounds: tuple[float, float, float, float]) -> dict[str, Any]:
    """The basemap's land (GeoJSON geometry), simplified to 0.01° (about 1 km) and rounded to 3 decimals."""
    got = _LAND_CACHE.get(bounds)
    if got is None:
        g = mapping(shapely.set_precision(shapely.simplify(land_geometry(bounds), 0.01), 0.001))
        got = _LAND_CACHE[bounds] = {"type": g["type"], "coordinates": g["coordinates"]}
    return got


def _tracks(m: OfflineMap, tracks: TrackCollector, in_alerts: set[int]) -> dict[str, str | None]:
    """Two track layers: the vessels in alerts, drawn strong on top, and the others, dimmed on a busy day."""
    # big days stay openable: coarser lines the more vessels there are (0.002° ≈ 200 m … 0.01° ≈ 1 km),
    # all in one GeoJSON layer each (a Leaflet polyline each would repeat its options 5,000 times)
    n = len(tracks.tracks)
    tolerance = 0.002 if n <= 500 else 0.005 if n <= 2000 else 0.01
    dim = n > DIM_ABOVE
    groups: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    for mmsi, tr in tracks.tracks.items():
        if len(tr) < 2:
            continue
        info = tracks.info.get(mmsi, {})
        cat = vessel_category(info.get("ship_type"))
        line = shapely.simplify(shapely.LineString([(lo, la) for _, la, lo in tr]), tolerance)
        groups[mmsi in in_alerts].append({
            "type": "Feature", "id": mmsi,
            "properties": {"c": CATEGORY_COLOURS.get(cat, "#9e9e9e"),
                           "n": html.escape(f"{info.get('name') or 'MMSI ' + str(mmsi)} ({cat.replace('_', ' ')})")},
            "geometry": {"type": "LineString",
                         "coordinates": [[round(x, 4), round(y, 4)] for x, y in shapely.get_coordinates(line)]},
        })
    out: dict[str, str | None] = {"tracks": None, "prominent": None}
    for prominent, features in ((False, groups[False]), (True, groups[True])):
        if not features:
            continue
        fg = folium.FeatureGroup(name="Tracks of vessels in alerts" if prominent else
                                 "Vessel tracks" + (" (dimmed: a busy day)" if dim else ""), show=True)
        weight, opacity = (3.0, 0.95) if prominent else ((0.8, 0.25) if dim else (1.5, 0.7))
        cls = "vessel-track alert-vessel-track" if prominent else "vessel-track"
        gj = folium.GeoJson(
            {"type": "FeatureCollection", "features": features}, name="tracks",
            style_function=lambda f, w=weight, o=opacity, c=cls: {"color": f["properties"]["c"], "weight": w,
                                                                  "opacity": o, "className": c},
            tooltip=folium.GeoJsonTooltip(fields=["n"], labels=False, sticky=True),
        )
        gj.add_to(fg)
        fg.add_to(m)
        out["prominent" if prominent else "tracks"] = fg.get_name()
    return out


def _alert_data(a: dict[str, Any], tracks: TrackCollector | None) -> dict[str, Any]:
    """One alert for the page: where and when (s), its words, and the lines that show it (a rendezvous's
    meeting segments, a dark gap's jump from the last fix before to the first after)."""
    pos = a["position"]
    colour = SEVERITY_COLOURS.get(a["severity"], "#f57c00")
    lines: list[dict[str, Any]] = []
    start_t = parse_iso(a["start"]) if a.get("start") else parse_iso(a["time"])
    if tracks is not None and a["type"] == "rendezvous":
        t1 = parse_iso(a["end"]) if a.get("end") else parse_iso(a["time"])
        for v in a.get("vessels", []):
            seg = tracks.near(v["mmsi"], start_t, t1)
            if len(seg) >= 2:
                lines.append({"pts": [[round(la, 4), round(lo, 4)] for la, lo in seg], "colour": colour, "dash": False})
    if a["type"] == "dark_gap":
        after = (a.get("details") or {}).get("first_position_after")
        if after:
            lines.append({"pts": [[pos["lat"], pos["lon"]], [after["lat"], after["lon"]]], "colour": "#000000",
                          "dash": True})
    return {"id": a["id"], "type": a["type"], "severity": a["severity"], "status": a["status"],
            "t": parse_iso(a["time"]), "start_t": start_t, "lat": pos["lat"], "lon": pos["lon"],
            "w": alert_words(a), "lines": lines}


def _alert_panel() -> str:
    """The sortable alert list (filled by replay.js)."""
    return (
        "<style>#mda-alerts{position:absolute;top:10px;right:10px;z-index:1000;width:300px;max-height:60%;"
        "display:flex;flex-direction:column;background:#fff;font:12px sans-serif;border-radius:4px;"
        "box-shadow:0 0 4px #888}#mda-alerts.closed #mda-alert-body{display:none}"
        "#mda-alerts .head{padding:5px 8px;display:flex;justify-content:space-between;align-items:center}"
        "#mda-alert-body{overflow-y:auto;border-top:1px solid #ddd}#mda-sort{padding:3px 8px}"
        "#mda-sort button.on{font-weight:bold}.mda-row{padding:4px 8px;border-bottom:1px solid #eee;cursor:pointer}"
        ".mda-row.sel{background:#fff3c4}.mda-row .sub{color:#555}.badge{display:inline-block;padding:0 4px;"
        "color:#fff;border-radius:2px;font-size:10px;text-transform:uppercase}"
        + "".join(f".badge.sev-{k}{{background:{c}}}" for k, c in SEVERITY_COLOURS.items())
        + ".alert-icon,.vessel-icon{background:none;border:none}.alert-popup td.k{color:#666;padding-right:8px;"
        "vertical-align:top}.alert-popup .summary{margin:3px 0}</style>"
        "<div id='mda-alerts'><div class='head'><b>Alerts (<span id='mda-alert-count'></span>)</b>"
        "<label><input type='checkbox' id='mda-each'> on the map</label>"
        "<button id='mda-alerts-toggle' type='button' title='show or hide the list'>☰</button></div>"
        "<div id='mda-alert-body'><div id='mda-sort'>sort by <button type='button' data-key='time'>time</button>"
        "<button type='button' data-key='severity'>severity</button>"
        "<button type='button' data-key='type'>type</button></div><div id='mda-alert-rows'></div></div></div>")


def _named(alert: dict[str, Any], tracks: TrackCollector) -> dict[str, Any]:
    """The alert with each unnamed vessel named from the whole input (a vessel silent in a dark gap may have
    sent its name only later); the caller's dict is left as it is."""
    vessels = alert.get("vessels") or []
    if all(v.get("name") or not tracks.info.get(v["mmsi"], {}).get("name") for v in vessels):
        return alert
    named = [v if v.get("name") else {**v, "name": tracks.info.get(v["mmsi"], {}).get("name")} for v in vessels]
    return {**alert, "vessels": named}


def _timeline(tracks: TrackCollector, step_s: float, in_alerts: set[int]) -> tuple[dict[str, Any], str]:
    """The time slider's data and controls: one fix per vessel every ``step_s`` (played by replay.js, which
    also filters the alerts and tracks to the time shown).

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
        data[str(mmsi)] = {"c": CATEGORY_COLOURS.get(cat, "#9e9e9e"), "p": out, "a": int(mmsi in in_alerts)}
    minutes = 5 * max(1, math.ceil((t1 - t0) / 300))  # a multiple of the slider's step, so its end is reachable
    controls = (
        "<div id='mda-time' style='position:absolute;bottom:20px;left:50%;transform:translateX(-50%);z-index:1000;"
        "background:#fff;padding:6px 10px;font:12px sans-serif;border-radius:4px;box-shadow:0 0 4px #888'>"
        "<button id='mda-play' type='button'>▶</button>"
        f"<input id='mda-slider' type='range' min='0' max='{minutes}' value='{minutes}' step='5' style='width:320px'>"
        "<span id='mda-clock'></span></div>")
    return {"t0_ms": t0 * 1000, "step_min": step_s / 60, "data": data}, controls


def _static(name: str) -> str:
    """A file of ``maritime/views/static`` (the maps' own JavaScript)."""
    return (importlib.resources.files("maritime.views") / "static" / name).read_text(encoding="utf-8")


def _inline_script(name: str) -> str:
    """A static script, inlined so the page works offline (and from a file: no server)."""
    return "<script>" + _static(name) + "</script>"


def _json_script(element_id: str, doc: Any) -> str:
    """Data for a static script: JSON in a non-executed script element (``</`` escaped so it cannot close it)."""
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")
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


def _legend(items: list[dict[str, Any]], kinds: set[str]) -> str:
    """Alert symbols (letter = type, rim = severity), vessel colours and the zone kinds on the map."""
    def diamond(letter: str, colour: str) -> str:
        return (f"<span style='display:inline-block;width:16px;height:16px;line-height:16px;text-align:center;"
                f"font-size:8px;font-weight:bold;transform:rotate(45deg);border:2px solid {colour};background:#fff;"
                f"margin:2px 4px'><span style='display:inline-block;transform:rotate(-45deg)'>{html.escape(letter)}"
                f"</span></span>")

    from maritime.vocabulary import explain, type_name

    types = sorted({a["type"] for a in items})
    rows = "".join(f"<div class='legend-type' data-type='{html.escape(t)}' title='{html.escape(explain(t))}'>"
                   f"{diamond(ALERT_GLYPHS.get(t, '!'), '#333')} {html.escape(type_name(t))}</div>" for t in types)
    sevs = "".join(f"<div>{diamond('', c)} {k}</div>" for k, c in reversed(list(SEVERITY_COLOURS.items())))
    cats = "".join(f"<div><span style='display:inline-block;width:14px;height:3px;background:{c}'></span> "
                   f"{k.replace('_', ' ')}</div>" for k, c in CATEGORY_COLOURS.items())
    zrows = "".join(f"<div><span style='display:inline-block;width:12px;height:10px;border:2px solid "
                    f"{ZONE_STYLES[k][0]};background:{ZONE_STYLES[k][0]}55'></span> {k.replace('_', ' ')}</div>"
                    for k in ZONE_STYLES if k in kinds)
    return ("<div id='mda-legend' style='position:absolute;bottom:60px;left:10px;z-index:1000;background:#fff;"
            "padding:6px 8px;font:12px sans-serif;border-radius:4px;box-shadow:0 0 4px #888;max-height:55%;"
            "overflow-y:auto'>"
            f"<b>Alerts</b>{rows or '<div>none</div>'}<b>Severity (rim)</b>{sevs}<b>Vessels</b>{cats}"
            + (f"<b>Zones</b>{zrows}" if zrows else "") + "</div>")


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
