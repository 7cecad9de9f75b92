"""The live operations map: an aiohttp server with a full-screen Leaflet page.

Vessels move live (Server-Sent Events, not polling). Alerts are diamonds on
the map (a letter for the type, the rim for the severity, unlike the vessel
arrows) and a panel (newest first, filters by severity, type, waters and
"not yet triaged", triage buttons); high and critical ones flash and sound.
A click on a vessel shows its identity, profile, risk factors and recent
track; a search finds vessels by name, MMSI, IMO or call sign; a clock shows
event time and the status line says when the stream is down. Zones and a
compact Natural Earth coastline (cached by the browser) draw after the
vessels, so the islands show with no internet.
Leaflet is served from the ``django-js-lib-leaflet`` package, never a CDN.

The JSON/GeoJSON API under ``/api/`` is read-only except alert triage
(:mod:`maritime.enrich.triage`: acknowledge, false alarm, escalate, close,
each with the officer's name), which every open page sees at once. Access
needs a token (``Authorization: Bearer``, a cookie, or ``?token=`` once)
whenever one is set, and one is generated when the server listens beyond
loopback. Everything the page shows is inserted as text, never as HTML (AIS
names, destinations and officers' notes are free text).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import importlib.resources
import json
import logging
import math
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp_sse import sse_response

from maritime.detectors.tracker import vessel_category
from maritime.enrich.triage import ACTIONS, FALSE_ALARM_REASONS, SqliteTriageStore, TriageError, TriageStore, stats
from maritime.i18n import LANGUAGES, language_of
from maritime.models import Alert, Position, Record, VesselInfo, authorities_of, iso, parse_iso
from maritime.views.maps import PALETTE
from maritime.zones.index import ZoneIndex

logger = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class LiveState:
    """What the live map shows: latest vessels, recent tracks, recent alerts (a pipeline listener and sink)."""

    def __init__(self, track_hours: float = 3.0, drop_after_s: float = 3600.0, max_alerts: int = 2000,
                 history_hours: float = 24.0, history_every_s: float = 300.0) -> None:
        """Tracks keep a fix a minute for ``track_hours`` and, older, one every ``history_every_s`` up to
        ``history_hours`` (a selected alert of the day is reached; a day's memory stays small)."""
        self.vessels: dict[int, dict[str, Any]] = {}
        self.tracks: dict[int, deque[tuple[float, float, float]]] = {}
        #: the thinned older part of each track (before :attr:`tracks`' first fix)
        self.history: dict[int, deque[tuple[float, float, float]]] = {}
        self.history_s = max(history_hours, track_hours) * 3600
        self.history_every_s = history_every_s
        self.alerts: OrderedDict[str, dict[str, Any]] = OrderedDict()
        #: the current triage of each alert (its latest action, as :meth:`TriageEvent.as_dict`)
        self.triage: dict[str, dict[str, Any]] = {}
        self.track_s = track_hours * 3600
        self.drop_after_s = drop_after_s
        self.max_alerts = max_alerts
        self.now_s = 0.0
        #: True while the event stream it follows (Redis) is down (shown on the page's status line)
        self.feed_down = False
        #: stream entries that were not an alert (no ``alert`` field, not JSON, not an object): skipped
        self.malformed_entries = 0
        #: the last entry of the alert stream taken in (a reconnection resumes after it)
        self.stream_id: str | None = None
        self.down_since: float | None = None
        self._dirty: set[int] = set()
        self._queues: set[asyncio.Queue[tuple[str, str]]] = set()

    # -- fed by the pipeline ------------------------------------------------------------

    def __call__(self, rec: Record) -> None:
        if isinstance(rec, Position):
            v = self.vessels.setdefault(rec.mmsi, {"mmsi": rec.mmsi, "name": None, "ship_type": None,
                                                   "category": "unknown"})
            v.update(lat=rec.lat, lon=rec.lon, sog_kn=rec.sog_kn, cog_deg=rec.cog_deg, heading_deg=rec.heading_deg,
                     time=iso(rec.time_s), time_s=rec.time_s)
            tr = self.tracks.setdefault(rec.mmsi, deque())
            if not tr or rec.time_s - tr[-1][0] >= 60:
                tr.append((rec.time_s, rec.lat, rec.lon))
                if tr and rec.time_s - tr[0][0] > self.track_s:
                    old = self.history.setdefault(rec.mmsi, deque())
                    while tr and rec.time_s - tr[0][0] > self.track_s:
                        fix = tr.popleft()
                        if not old or fix[0] - old[-1][0] >= self.history_every_s:
                            old.append(fix)
                    while old and rec.time_s - old[0][0] > self.history_s:
                        old.popleft()
            self.now_s = max(self.now_s, rec.time_s)
            self._dirty.add(rec.mmsi)
        elif isinstance(rec, VesselInfo):
            v = self.vessels.setdefault(rec.mmsi, {"mmsi": rec.mmsi, "name": None, "ship_type": None,
                                                   "category": "unknown"})
            if rec.name:
                v["name"] = rec.name
            if rec.ship_type:
                v["ship_type"] = rec.ship_type
                v["category"] = vessel_category(rec.ship_type)
            if rec.callsign:
                v["callsign"] = rec.callsign
            if rec.imo:
                v["imo"] = rec.imo
            if rec.destination:
                v["destination"] = rec.destination

    def write(self, alert: Alert) -> None:
        """Sink interface: keep the alert and push it to every open page."""
        self.add_alert(alert.as_dict())

    def add_alert(self, d: dict[str, Any]) -> None:
        """Keep an alert (the contract's JSON object) and push it to every open page."""
        self.alerts[d["id"]] = d
        self.alerts.move_to_end(d["id"])
        while len(self.alerts) > self.max_alerts:
            self.alerts.popitem(last=False)
        self._publish("alert", json.dumps(self._alert_view(d)))

    def close(self) -> None:
        """Sink interface."""

    # -- views ------------------------------------------------------------------------

    @property
    def acked(self) -> set[str]:
        """The alerts some officer has triaged (acknowledged, false alarm, escalated or closed)."""
        return set(self.triage)

    def apply_triage(self, event: dict[str, Any]) -> None:
        """An officer's action (from the triage store): keep it and push it to every open page."""
        if event.get("state"):
            self.triage[event["alert_id"]] = event
        else:
            self.triage.pop(event["alert_id"], None)
        self._publish("triage", json.dumps(event))

    def _alert_view(self, d: dict[str, Any]) -> dict[str, Any]:
        t = self.triage.get(d["id"])
        waters = authorities_of((d.get("zone") or {}).get("authority"), d.get("jurisdiction"))
        view = {**d, "acknowledged": t is not None, "triage": t, "authorities": sorted(waters)}
        # a name heard since the alert was raised (its static report came later): shown as the vessel panel does
        named = []
        for v in d.get("vessels") or []:
            known = self.vessels.get(v.get("mmsi"), {}).get("name")
            named.append({**v, "name": known} if not v.get("name") and known else v)
        view["vessels"] = named
        return view

    def track_of(self, mmsi: int, since_s: float | None = None, until_s: float | None = None
                 ) -> list[tuple[float, float, float]]:
        """A vessel's kept fixes ``(time s, lat, lon)``, oldest first, within [since, until] when given."""
        fixes = [*self.history.get(mmsi, ()), *self.tracks.get(mmsi, ())]
        lo = -math.inf if since_s is None else since_s
        hi = math.inf if until_s is None else until_s
        return [f for f in fixes if lo <= f[0] <= hi]

    def vessel_feature(self, v: dict[str, Any]) -> dict[str, Any]:
        """A vessel as a GeoJSON point feature (``stale`` when not heard for 8 minutes)."""
        props = {k: v.get(k) for k in ("mmsi", "name", "callsign", "imo", "ship_type", "category", "sog_kn",
                                       "cog_deg", "heading_deg", "destination", "time")}
        props["stale"] = self.now_s - v.get("time_s", 0) > 480
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [v["lon"], v["lat"]]},
                "properties": props}

    def visible(self, bbox: tuple[float, float, float, float] | None = None) -> list[dict[str, Any]]:
        """Vessels heard within ``drop_after_s``, optionally inside a bounding box."""
        out = []
        for v in self.vessels.values():
            if "lat" not in v or self.now_s - v["time_s"] > self.drop_after_s:
                continue
            if bbox and not (bbox[0] <= v["lon"] <= bbox[2] and bbox[1] <= v["lat"] <= bbox[3]):
                continue
            out.append(self.vessel_feature(v))
        return out

    # -- pushing ----------------------------------------------------------------------

    def set_feed_down(self, down: bool) -> None:
        """The event stream this map follows went down (or came back): every open page's status line says so."""
        if down != self.feed_down:
            self.feed_down = down
            self._publish("feed", json.dumps({"down": down}))

    def _publish(self, event: str, data: str) -> None:
        for q in list(self._queues):
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait((event, data))

    def flush_positions(self) -> None:
        """Push the vessels that moved since the last call (called about once a second)."""
        if not self._dirty:
            return
        moved = [self.vessel_feature(self.vessels[m]) for m in self._dirty if "lat" in self.vessels[m]]
        self._dirty.clear()
        self._publish("positions", json.dumps({"now": iso(self.now_s), "features": moved}))

    def subscribe(self) -> asyncio.Queue[tuple[str, str]]:
        """A queue of (event, data) for one page."""
        q: asyncio.Queue[tuple[str, str]] = asyncio.Queue(maxsize=1000)
        self._queues.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[tuple[str, str]]) -> None:
        """Forget a closed page."""
        self._queues.discard(q)


JS = "application/javascript"
HTML = "text/html"


def _text(body: str, content_type: str) -> Any:
    """A handler that serves one fixed text (the page and its scripts)."""

    async def handler(_r: web.Request) -> web.Response:
        return web.Response(text=body, content_type=content_type)

    return handler


def _rounded(coords: Any, decimals: int) -> Any:
    if isinstance(coords, (int, float)):
        return round(coords, decimals)
    return [_rounded(c, decimals) for c in coords]


def compact_geojson(geometry: Any, tolerance_deg: float, decimals: int = 3) -> dict[str, Any]:
    """A shapely geometry as GeoJSON, simplified (tolerance in degrees) and rounded (3 decimals: about 110 m),
    for a page that must draw quickly over a slow link."""
    import shapely
    from shapely.geometry import mapping

    g = mapping(shapely.simplify(geometry, tolerance_deg, preserve_topology=True))
    return {"type": g["type"], "coordinates": _rounded(g["coordinates"], decimals)}


def _asset(name: str) -> bytes:
    return (importlib.resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet" / name).read_bytes()


class LiveMapServer:
    """The live map's HTTP side: the page, the API and the event stream, as one route table over ``state``.

    ``hosts``: the names the server answers for (the ``Host`` header); without a token, loopback names and
    these only (a page on another site cannot reach it by DNS rebinding); with a token, any unless given.
    State-changing requests from another site (``Origin``, ``Sec-Fetch-Site``) are refused.
    """

    LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

    def __init__(self, state: LiveState, *, token: str | None = None, zones: ZoneIndex | None = None,
                 tile_url: str | None = None, profiles: Any = None, risk_weights: dict[str, float] | None = None,
                 hosts: Sequence[str] | None = None, triage: TriageStore | None = None,
                 arrivals: Any = None, health: Any = None, language: str | None = None, pacer: Any = None
                 ) -> None:
        """``language``: the centre's language for the page (a browser's own choice wins); ``pacer``: the
        recording's pace (:class:`~maritime.runtime.pacer.Pacer`), which the page may pause, change and seek."""
        self.state = state
        self.pacer = pacer
        self.language = language
        #: the run's figures (:class:`~maritime.runtime.health.Health`) for /readyz, /metrics and the status line
        self.health = health
        #: the arrivals board the run feeds (:class:`~maritime.runtime.arrivals_board.ArrivalsBoard`), if any
        self.arrivals = arrivals
        #: where officers' actions are kept (default: in memory only, lost when the server stops)
        self.triage: TriageStore = triage if triage is not None else SqliteTriageStore(":memory:")
        self._triage_cursor: Any = None
        self._triage_down = False
        self.token = token
        self.zones = zones
        self.tile_url = tile_url
        self.profiles = profiles
        self.risk_weights = risk_weights
        named = {h.lower() for h in (hosts or ())}
        # without a token (localhost mode) only a loopback or the bound name may be asked for
        self.allowed_hosts: frozenset[str] | set[str] | None = (
            (named or None) if token is not None else self.LOOPBACK_NAMES | named)
        img_src = "'self' data:"
        if tile_url:
            from urllib.parse import urlsplit

            parts = urlsplit(tile_url)  # "{s}.tile.example.org": any subdomain
            img_src += f" {parts.scheme}://{parts.netloc.replace('{s}', '*')}"
        self.csp = (f"default-src 'self'; img-src {img_src}; style-src 'self' 'unsafe-inline'; script-src 'self'; "
                    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
        self._land: bytes | None = None
        self._zones: bytes | None = None
        self._closing = asyncio.Event()  # set on shutdown so open event streams end instead of holding the server

    def routes(self) -> list[web.RouteDef]:
        """The route table."""
        return [
            web.get("/", _text(PAGE, HTML)),
            web.get("/static/leaflet.js", self.leaflet_js),
            web.get("/static/live.js", _text(PAGE_JS, JS)),
            web.get("/static/palette.js", _text(PALETTE_JS, JS)),
            web.get("/static/triage.js", _text(TRIAGE_JS, JS)),
            web.get("/static/symbols.js", _text(SYMBOLS_JS, JS)),
            web.get("/triage", _text(TRIAGE_PAGE, HTML)),
            web.get("/static/leaflet.css", self.leaflet_css),
            web.get("/api/vessels", self.vessels),
            web.get("/api/vessels/{mmsi}", self.vessel),
            web.get("/api/vessels/{mmsi}/track", self.track),
            web.get("/api/alerts", self.alerts),
            web.post("/api/alerts/{alert_id}/ack", self.ack),
            web.post("/api/alerts/{alert_id}/triage", self.triage_post),
            web.get("/api/alerts/{alert_id}/triage", self.triage_history),
            web.get("/api/triage/stats", self.triage_stats),
            web.get("/api/ports", self.port_list),
            web.get("/api/arrivals", self.arrivals_board),
            web.get("/api/zones", self.zone_layer),
            web.get("/api/land", self.land),
            web.get("/api/config", self.config),
            web.get("/api/vocabulary", self.vocabulary),
            web.get("/api/replay", self.replay_state),
            web.post("/api/replay", self.replay_control),
            web.get("/api/events", self.events),
            web.get("/api/status", self.status),
            web.get("/healthz", self.healthz),
            web.get("/readyz", self.readyz),
            web.get("/metrics", self.metrics),
        ]

    def app(self) -> web.Application:
        """The aiohttp application: the guard and token middlewares, the routes, the position pusher."""
        app = web.Application(middlewares=[self.guard, self.auth])
        app.add_routes(self.routes())
        app.on_shutdown.append(self._end_streams)
        app.cleanup_ctx.append(self._pusher)
        return app

    # -- middlewares -----------------------------------------------------------------------

    @web.middleware
    async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """The Host check, the cross-site refusal, and the security headers on every response."""
        host = request.headers.get("Host", "")
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]", 1)[0]
        if self.allowed_hosts is not None and name.lower() not in self.allowed_hosts:
            return web.Response(status=421, text=f"421: this server does not answer for {host!r}")
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            origin = request.headers.get("Origin")
            site = request.headers.get("Sec-Fetch-Site")
            if site in ("cross-site", "same-site") or (origin and origin not in (f"http://{host}", f"https://{host}")):
                return web.Response(status=403, text="403: a request from another site may not change anything")
        resp = await handler(request)
        resp.headers.setdefault("Content-Security-Policy", self.csp)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        return resp

    @web.middleware
    async def auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """The token (a bearer header, the cookie, or ``?token=`` once, which then sets the cookie)."""
        token = self.token
        if token is None or request.path.startswith("/static/") or request.path in UNGUARDED:
            return await handler(request)
        given = (request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
                 or request.cookies.get("mda_token", "") or request.query.get("token", ""))
        if not hmac.compare_digest(given.encode(), token.encode()):
            return web.Response(status=401, text="401: a token is needed (?token=… once, or Authorization: Bearer)")
        resp = await handler(request)
        if request.query.get("token") and isinstance(resp, web.Response):
            resp.set_cookie("mda_token", token, httponly=True, samesite="Strict")
        return resp

    # -- the page ------------------------------------------------------------------------

    async def leaflet_js(self, _r: web.Request) -> web.Response:
        return web.Response(body=_asset("leaflet.js"), content_type="application/javascript")

    async def leaflet_css(self, _r: web.Request) -> web.Response:
        return web.Response(body=_asset("leaflet.css"), content_type="text/css")

    # -- the API ---------------------------------------------------------------------------

    async def vessels(self, r: web.Request) -> web.Response:
        bbox = None
        if "bbox" in r.query:
            try:
                lon0, lat0, lon1, lat1 = (float(x) for x in r.query["bbox"].split(","))
            except ValueError:
                raise web.HTTPBadRequest(text="bbox is lon0,lat0,lon1,lat1") from None
            bbox = (lon0, lat0, lon1, lat1)
        st = self.state
        return web.json_response({"type": "FeatureCollection", "now": iso(st.now_s) if st.now_s else None,
                                  "features": st.visible(bbox)})

    @staticmethod
    def _mmsi(r: web.Request) -> int:
        try:
            return int(r.match_info["mmsi"])
        except ValueError:
            raise web.HTTPBadRequest(text="not an MMSI") from None

    async def vessel(self, r: web.Request) -> web.Response:
        m = self._mmsi(r)
        st = self.state
        v = st.vessels.get(m)
        if v is None or "lat" not in v:
            raise web.HTTPNotFound(text="no such vessel")
        alerts = [a for a in st.alerts.values() if any(x["mmsi"] == m for x in a["vessels"])]
        body: dict[str, Any] = {**st.vessel_feature(v)["properties"], "lat": v["lat"], "lon": v["lon"],
                                "alerts": alerts[-20:]}
        if self.profiles is not None:
            from maritime.enrich.profile_store import risk

            prof = self.profiles.profile(m)
            if prof is not None:
                body["profile"] = prof
                body["risk"] = risk(prof, self.risk_weights)
        return web.json_response(body)

    async def track(self, r: web.Request) -> web.Response:
        """``?since=ISO&until=ISO``: the vessel's fixes as a GeoJSON (RFC 7946) Feature, a LineString, or a Point
        when only one fix is kept (a LineString needs two positions)."""
        m = self._mmsi(r)
        try:
            since = parse_iso(r.query["since"]) if r.query.get("since") else None
            until = parse_iso(r.query["until"]) if r.query.get("until") else None
        except ValueError:
            raise web.HTTPBadRequest(text="since and until are ISO 8601 times") from None
        tr = self.state.track_of(m, since, until)
        if not tr:
            raise web.HTTPNotFound(text="no track")
        coords = [[lo, la] for _, la, lo in tr]
        geom = {"type": "LineString", "coordinates": coords} if len(tr) > 1 else {"type": "Point",
                                                                                  "coordinates": coords[0]}
        return web.json_response({"type": "Feature", "properties": {"mmsi": m, "times": [iso(t) for t, _, _ in tr]},
                                  "geometry": geom})

    async def alerts(self, r: web.Request) -> web.Response:
        try:
            limit = min(1000, int(r.query.get("limit", "200")))
        except ValueError:
            raise web.HTTPBadRequest(text="limit is a number") from None
        items = list(self.state.alerts.values())[-limit:][::-1]
        return web.json_response([self.state._alert_view(a) for a in items])

    async def _body(self, r: web.Request) -> dict[str, Any]:
        if not r.can_read_body:
            return {}
        try:
            body = await r.json()
        except (ValueError, UnicodeDecodeError):
            raise web.HTTPBadRequest(text="the body is JSON: {\"officer\": ..., \"note\": ...}") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="the body is a JSON object")
        return body

    def _record(self, aid: str, action: str, body: dict[str, Any]) -> web.Response:
        alert = self.state.alerts.get(aid)
        if alert is None:
            raise web.HTTPNotFound(text="no such alert")
        try:
            e = self.triage.record(aid, action, body.get("officer"), body.get("note"), body.get("reason"), alert=alert)
        except TriageError as err:
            raise web.HTTPBadRequest(text=str(err)) from None
        except Exception as err:  # the store is down (Redis unreachable, disk full): say so, keep serving
            logger.warning("triage store: %s: not recorded (%s)", aid, err)
            raise web.HTTPServiceUnavailable(text=f"the triage store is unavailable: not recorded ({err})") from None
        self.sync_triage()  # to every open page now (and the other processes on their next poll)
        return web.json_response(e.as_dict())

    async def ack(self, r: web.Request) -> web.Response:
        """Acknowledge (``{"officer": ..., "note": ...}``)."""
        return self._record(r.match_info["alert_id"], "acknowledge", await self._body(r))

    async def triage_post(self, r: web.Request) -> web.Response:
        """An officer's action: ``{"action", "officer", "note", "reason"}`` (see :mod:`maritime.enrich.triage`)."""
        body = await self._body(r)
        return self._record(r.match_info["alert_id"], str(body.get("action") or ""), body)

    async def triage_history(self, r: web.Request) -> web.Response:
        """Every action on one alert, oldest first."""
        try:
            trail = self.triage.history(r.match_info["alert_id"])
        except Exception as err:
            raise web.HTTPServiceUnavailable(text=f"the triage store is unavailable ({err})") from None
        return web.json_response([e.as_dict() for e in trail])

    async def triage_stats(self, _r: web.Request) -> web.Response:
        """Outcomes per alert type, zone and rule, with the false-alarm rates."""
        try:
            got = stats(self.triage.events())
        except Exception as err:
            raise web.HTTPServiceUnavailable(text=f"the triage store is unavailable ({err})") from None
        return web.json_response(got)

    def sync_triage(self) -> None:
        """Take in the actions recorded since the last call (here or by another process sharing the store)."""
        try:
            events, self._triage_cursor = self.triage.since(self._triage_cursor)
        except Exception as err:
            if not self._triage_down:
                logger.warning("triage store unavailable (%s): actions of other officers will show when it is back",
                               err)
            self._triage_down = True
            return
        if self._triage_down:
            logger.warning("triage store available again")
            self._triage_down = False
        for e in events:
            self.state.apply_triage(e.as_dict())

    def _cached(self, r: web.Request, body: bytes) -> web.Response:
        """A large layer that changes only with the zones or the version: the browser keeps it (ETag, a day)."""
        tag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        headers = {"ETag": tag, "Cache-Control": "private, max-age=86400"}
        if r.headers.get("If-None-Match") == tag:
            return web.Response(status=304, headers=headers)
        resp = web.Response(body=body, content_type="application/json", headers=headers)
        resp.enable_compression()  # gzip when the browser takes it: a fifth of the bytes over a slow link
        return resp

    async def zone_layer(self, r: web.Request) -> web.Response:
        if self._zones is None:
            feats = [{"type": "Feature", "properties": {"id": z.id, "name": z.name, "kind": z.kind,
                                                        "authority": z.authority},
                      "geometry": compact_geojson(z.geometry, 0.01 if z.kind == "eez" else 0.002)}
                     for z in (self.zones.zones if self.zones is not None else [])]
            self._zones = json.dumps({"type": "FeatureCollection", "features": feats},
                                     separators=(",", ":")).encode()
        return self._cached(r, self._zones)

    async def land(self, r: web.Request) -> web.Response:
        if self._land is None:
            from maritime.views.maps import land_geometry
            from maritime.zones.caribbean import REGION

            lon0, lat0, lon1, lat1 = REGION
            geom = compact_geojson(land_geometry((lon0 - 5, lat0 - 5, lon1 + 5, lat1 + 5)), 0.005)
            self._land = json.dumps({"type": "Feature", "properties": {}, "geometry": geom},
                                    separators=(",", ":")).encode()
        return self._cached(r, self._land)

    async def port_list(self, _r: web.Request) -> web.Response:
        """The ports an arrivals board can be asked for (those with a position), by name."""
        if self.arrivals is None:
            return web.json_response([])
        ports = sorted((p for p in self.arrivals.ports.main_ports if p.lat is not None), key=lambda p: p.name)
        return web.json_response([{"id": p.id, "name": p.name, "locode": p.locode, "country": p.country}
                                  for p in ports])

    async def arrivals_board(self, r: web.Request) -> web.Response:
        """``?port=LCCAS&hours=48``: the vessels expected there, riskiest first (see ``maritime arrivals``)."""
        board = self.arrivals
        if board is None:
            raise web.HTTPServiceUnavailable(text="no arrivals board: this map is not fed by a pipeline")
        try:
            hours = min(168.0, max(1.0, float(r.query.get("hours", "48"))))
        except ValueError:
            raise web.HTTPBadRequest(text="hours is a number") from None
        query = r.query.get("port", "")
        port = board.find_port(query)
        if port is None:
            raise web.HTTPNotFound(text=board.why_no_port(query))
        if port.lat is None:
            raise web.HTTPNotFound(text=f"{port.name}: the gazetteer has no position for it")
        # the water grid is built once, off the event loop (a few seconds); the board itself is quick
        await asyncio.get_running_loop().run_in_executor(None, lambda: board.grid)
        rows = board.board(port, hours=hours)
        gone = board.not_coming(port, hours=hours)
        return web.json_response({"port": port.as_dict(), "as_of": iso(board.now_s) if board.now_s else None,
                                  "hours": hours, "arrivals": [a.as_dict() for a in rows],
                                  "declared_not_coming": [a.as_dict() for a in gone]})

    # -- health (no token: nothing about vessels) -------------------------------------

    async def healthz(self, _r: web.Request) -> web.Response:
        """Liveness: the process answers."""
        return web.json_response({"status": "alive"})

    async def readyz(self, _r: web.Request) -> web.Response:
        """Readiness: 200 when ready for work, else 503 with the reasons."""
        if self.health is None:
            return web.json_response({"ready": True, "reasons": []})
        ok, why = self.health.ready()
        return web.json_response({"ready": ok, "reasons": why}, status=200 if ok else 503)

    async def metrics(self, _r: web.Request) -> web.Response:
        """Prometheus metrics (text exposition format 0.0.4)."""
        if self.health is None:
            raise web.HTTPNotFound(text="no metrics: this server has no run to report on")
        body = await asyncio.get_running_loop().run_in_executor(None, self.health.metrics_text)
        return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    async def status(self, _r: web.Request) -> web.Response:
        """The figures of ``/metrics`` as JSON, for the page's status line (behind the token like the page)."""
        if self.health is None:
            return web.json_response({})
        ok, why = self.health.ready()
        return web.json_response({**self.health.figures(), "ready": ok, "reasons": why})

    async def config(self, _r: web.Request) -> web.Response:
        """What the page needs besides data: the tile URL, the authorities to filter by, the triage choices."""
        auth = sorted({z.authority for z in (self.zones.zones if self.zones is not None else []) if z.authority})
        return web.json_response({"tile_url": self.tile_url, "authorities": auth, "reasons": FALSE_ALARM_REASONS,
                                  "actions": list(ACTIONS), "language": self.language, "languages": LANGUAGES,
                                  "replay": self.pacer.state() if self.pacer is not None else None})

    async def replay_state(self, _r: web.Request) -> web.Response:
        """A paced recording's rate, pause and event time (404 when the map is fed live)."""
        if self.pacer is None:
            raise web.HTTPNotFound(text="not a paced recording")
        return web.json_response(self.pacer.state())

    async def replay_control(self, r: web.Request) -> web.Response:
        """``{"action": "pause" | "play" | "rate" | "seek", "rate": 10, "to": ISO}``: steer a paced recording."""
        from maritime.runtime.pacer import PacerError

        if self.pacer is None:
            raise web.HTTPNotFound(text="not a paced recording")
        body = await self._body(r)
        action = body.get("action")
        try:
            if action == "pause":
                self.pacer.pause()
            elif action == "play":
                self.pacer.play()
            elif action == "rate":
                self.pacer.set_rate(float(body.get("rate") or 0))
            elif action == "seek":
                self.pacer.seek(parse_iso(str(body.get("to"))))
            else:
                raise web.HTTPBadRequest(text="action: pause, play, rate or seek")
        except (PacerError, ValueError, TypeError) as err:
            raise web.HTTPBadRequest(text=str(err)) from None
        return web.json_response(self.pacer.state())

    async def vocabulary(self, r: web.Request) -> web.Response:
        """``?lang=es``: the alert types' names and explanations, statuses, severities, navigational statuses and
        the page's own words in one language (the browser's, else the centre's)."""
        from maritime.i18n import catalog
        from maritime.vocabulary import for_page

        lang = language_of(r.query.get("lang") or self.language or r.headers.get("Accept-Language"))
        return web.json_response({**for_page(lang), "page": catalog(lang)},
                                 headers={"Cache-Control": "private, max-age=3600"})

    async def events(self, r: web.Request) -> web.StreamResponse:
        """Server-Sent Events: hello, then positions, alerts, acks and feed status as they come (pings between)."""
        st = self.state
        closing = self._closing
        q = st.subscribe()
        try:
            async with sse_response(r) as resp:
                await resp.send(json.dumps({"now": iso(st.now_s) if st.now_s else None,
                                            "feed_down": st.feed_down}), event="hello")
                while resp.is_connected() and not closing.is_set():
                    getter = asyncio.ensure_future(q.get())
                    stopper = asyncio.ensure_future(closing.wait())
                    done, _ = await asyncio.wait({getter, stopper}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
                    stopper.cancel()
                    if getter not in done:
                        getter.cancel()
                        if not closing.is_set():
                            await resp.send("{}", event="ping")
                        continue
                    ev, data = getter.result()
                    await resp.send(data, event=ev)
                return resp
        except ConnectionResetError:  # the browser went away (a closed tab, a lost link): not an error
            logger.debug("live map client %s went away", r.remote)
            return web.Response(status=204)
        finally:
            st.unsubscribe(q)

    # -- lifecycle -------------------------------------------------------------------------

    async def _end_streams(self, _app: web.Application) -> None:
        self._closing.set()

    async def _pusher(self, _app: web.Application) -> Any:
        async def loop() -> None:
            while True:
                await asyncio.sleep(1.0)
                self.state.flush_positions()
                self.sync_triage()

        self.sync_triage()  # what officers concluded before this server started
        task = asyncio.create_task(loop())
        yield
        task.cancel()


#: paths that answer without the token: health and metrics carry no vessel data (a monitor scrapes them)
UNGUARDED = frozenset(("/healthz", "/readyz", "/metrics"))


def make_app(state: LiveState, *, token: str | None = None, zones: ZoneIndex | None = None,
             tile_url: str | None = None, profiles: Any = None,
             risk_weights: dict[str, float] | None = None, hosts: Sequence[str] | None = None,
             triage: TriageStore | None = None, arrivals: Any = None, health: Any = None,
             language: str | None = None, pacer: Any = None) -> web.Application:
    """The aiohttp application serving the page, the API and the event stream (see :class:`LiveMapServer`)."""
    return LiveMapServer(state, token=token, zones=zones, tile_url=tile_url, profiles=profiles,
                         risk_weights=risk_weights, hosts=hosts, triage=triage, arrivals=arrivals,
                         health=health, language=language, pacer=pacer).app()


class PathOnlyAccessLogger(AbstractAccessLogger):
    """The access log without query strings (they may carry ``?token=``): client, method, path, status, time."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %d %.3f s", request.remote, request.method, request.path, response.status, time)


async def start_server(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start serving ``app``; return the runner (call ``cleanup()`` to stop)."""
    runner = web.AppRunner(app, access_log_class=PathOnlyAccessLogger)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    logger.info("live map on http://%s:%d/", host, port)
    return runner


def default_token(host: str, token: str | None) -> str | None:
    """The token to require: the one given, or a new one when listening beyond loopback."""
    if token:
        return token
    if host in LOOPBACK:
        return None
    from maritime.paths import state_dir, write_private

    path = state_dir() / "live-map-token"
    try:
        kept = path.read_text(encoding="utf-8").strip()
    except OSError:
        kept = ""
    if not kept:
        kept = secrets.token_urlsafe(18)
        write_private(path, kept + "\n")
    # the token itself is a secret: it is never logged, only kept (0600) where the officer can read it
    logger.warning("the live map needs a token: open it with ?token=... (the token is in %s)", path)
    return kept


PAGE = (importlib.resources.files("maritime.views") / "static" / "live.html").read_text(encoding="utf-8")
PAGE_JS = (importlib.resources.files("maritime.views") / "static" / "live.js").read_text(encoding="utf-8")
SYMBOLS_JS = (importlib.resources.files("maritime.views") / "static" / "symbols.js").read_text(encoding="utf-8")
TRIAGE_PAGE = (importlib.resources.files("maritime.views") / "static" / "triage.html").read_text(encoding="utf-8")
TRIAGE_JS = (importlib.resources.files("maritime.views") / "static" / "triage.js").read_text(encoding="utf-8")
#: the palette the replay map uses, for the live page (one palette: maritime/views/static/palette.json)
PALETTE_JS = "window.MDA_PALETTE = " + json.dumps(PALETTE, separators=(",", ":")) + ";\n"


def take_entry(state: LiveState, entry_id: str, fields: dict[str, str],
               dead: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Add one alert-stream entry to the map; one that carries no alert (no ``alert`` field, text that is not
    a JSON object with an id) is counted, logged with its id, dead-lettered and skipped: the follower goes on."""
    why = None
    doc: Any = None
    raw = fields.get("alert") if isinstance(fields, dict) else None
    if raw is None:
        why = "no 'alert' field"
    else:
        try:
            doc = json.loads(raw)
        except ValueError as err:
            why = f"the alert is not JSON ({err})"
        else:
            if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
                why = "the alert is not an object with an id"
    if why is None:
        try:
            state.add_alert(doc)
            return
        except (KeyError, TypeError, ValueError) as err:
            why = f"the alert cannot be shown ({type(err).__name__}: {err})"
    state.malformed_entries += 1
    logger.warning("mda:alerts entry %s skipped: %s; following on (%d skipped so far)", entry_id, why,
                   state.malformed_entries)
    if dead is not None:
        dead({"source": "redis mda:alerts", "entry": entry_id, "reason": why,
              "fields": {str(k): str(v)[:2000] for k, v in (fields or {}).items()}})


async def follow_redis(state: LiveState, url: str, stop: asyncio.Event, poll_s: float = 2.0,
                       dead: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Fill ``state`` from Redis (the distributed setup): alerts from ``mda:alerts``, positions from the
    geo set and vessel hashes the pipeline keeps."""
    import redis
    import redis.asyncio as aredis

    from maritime.redact import redact
    from maritime.retry import Backoff

    backoff = Backoff(0.5, 30.0)
    while not stop.is_set():
        client: Any = aredis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=3)
        try:
            await _follow(state, client, stop, poll_s, backoff, dead)
            return
        except (redis.ConnectionError, redis.TimeoutError, OSError) as err:
            # the map keeps what it has, says so, and resumes from the last alert it saw
            if not state.feed_down:
                state.set_feed_down(True)
                state.down_since = time.monotonic()
                logger.warning("Redis %s is down (%s): the map keeps what it has and reconnects", redact(url), err)
        finally:
            await client.aclose()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=backoff.next_delay())


async def _follow(state: LiveState, client: Any, stop: asyncio.Event, poll_s: float, backoff: Any,
                  dead: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Follow the alert stream from ``state.stream_id`` (None: the latest 500 alerts) and the positions."""
    if state.stream_id is None:
        for entry_id, fields in reversed(await client.xrevrange("mda:alerts", count=500)):
            take_entry(state, entry_id, fields, dead)
            state.stream_id = entry_id
        if state.stream_id is None:
            state.stream_id = "0-0"
    if state.feed_down:
        logger.warning("Redis is back after %.0f s: following the alert stream from %s",
                       time.monotonic() - (state.down_since or time.monotonic()), state.stream_id)
    state.set_feed_down(False)
    state.down_since = None
    backoff.reset()
    next_poll = 0.0
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        got = await client.xread({"mda:alerts": state.stream_id}, count=200, block=500)
        for _stream, entries in got or []:
            for entry_id, fields in entries:
                take_entry(state, entry_id, fields, dead)
                state.stream_id = entry_id
        if loop.time() >= next_poll:
            next_poll = loop.time() + poll_s
            mmsis = await client.zrangebyscore("mda:positions:seen", state.now_s - 3600, "+inf")
            pipe = client.pipeline(transaction=False)
            for m in mmsis:
                pipe.hgetall(f"mda:vessel:{m}")
            for h in await pipe.execute():
                if not h or "lat" not in h:
                    continue
                rec = Position(int(h["mmsi"]), float(h["time_s"]), float(h["lat"]), float(h["lon"]),
                               float(h["sog_kn"]) if h.get("sog_kn") else None,
                               float(h["cog_deg"]) if h.get("cog_deg") else None,
                               int(float(h["heading_deg"])) if h.get("heading_deg") else None)
                state(rec)
                if h.get("name") or h.get("ship_type"):
                    state(VesselInfo(int(h["mmsi"]), float(h["time_s"]), name=h.get("name") or None,
                                     ship_type=int(h["ship_type"]) if h.get("ship_type") else None))
