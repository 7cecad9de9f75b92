"""The live operations map: an aiohttp server with a full-screen Leaflet page.

Vessels move live (Server-Sent Events, not polling), alerts appear in a panel
(newest first, severity colours, click to fly there, acknowledge), a click on
a vessel shows its identity and last hours of track, zones are drawn, and a
coastline basemap from Natural Earth shows the islands with no internet.
Leaflet is served from the ``django-js-lib-leaflet`` package, never a CDN.

The JSON/GeoJSON API under ``/api/`` is read-only except alert
acknowledgement. Access needs a token (``Authorization: Bearer``, a cookie,
or ``?token=`` once) whenever one is set, and one is generated when the
server listens beyond loopback. Everything the page shows is inserted as
text, never as HTML (AIS names are free text).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import importlib.resources
import json
import logging
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp_sse import sse_response

from maritime.detectors.tracker import vessel_category
from maritime.models import Alert, Position, Record, VesselInfo, iso
from maritime.views.maps import PALETTE
from maritime.zones.index import ZoneIndex

logger = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class LiveState:
    """What the live map shows: latest vessels, recent tracks, recent alerts (a pipeline listener and sink)."""

    def __init__(self, track_hours: float = 3.0, drop_after_s: float = 3600.0, max_alerts: int = 2000) -> None:
        self.vessels: dict[int, dict[str, Any]] = {}
        self.tracks: dict[int, deque[tuple[float, float, float]]] = {}
        self.alerts: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.acked: set[str] = set()
        self.track_s = track_hours * 3600
        self.drop_after_s = drop_after_s
        self.max_alerts = max_alerts
        self.now_s = 0.0
        #: True while the event stream it follows (Redis) is down (shown on the page's status line)
        self.feed_down = False
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
                while tr and rec.time_s - tr[0][0] > self.track_s:
                    tr.popleft()
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

    def _alert_view(self, d: dict[str, Any]) -> dict[str, Any]:
        return {**d, "acknowledged": d["id"] in self.acked}

    def vessel_feature(self, v: dict[str, Any]) -> dict[str, Any]:
        """A vessel as a GeoJSON point feature (``stale`` when not heard for 8 minutes)."""
        props = {k: v.get(k) for k in ("mmsi", "name", "callsign", "ship_type", "category", "sog_kn", "cog_deg",
                                       "heading_deg", "time")}
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
                 hosts: Sequence[str] | None = None) -> None:
        self.state = state
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
        self._land: str | None = None
        self._closing = asyncio.Event()  # set on shutdown so open event streams end instead of holding the server

    def routes(self) -> list[web.RouteDef]:
        """The route table."""
        return [
            web.get("/", self.page),
            web.get("/static/leaflet.js", self.leaflet_js),
            web.get("/static/live.js", self.page_js),
            web.get("/static/palette.js", self.palette_js),
            web.get("/static/leaflet.css", self.leaflet_css),
            web.get("/api/vessels", self.vessels),
            web.get("/api/vessels/{mmsi}", self.vessel),
            web.get("/api/vessels/{mmsi}/track", self.track),
            web.get("/api/alerts", self.alerts),
            web.post("/api/alerts/{alert_id}/ack", self.ack),
            web.get("/api/zones", self.zone_layer),
            web.get("/api/land", self.land),
            web.get("/api/config", self.config),
            web.get("/api/events", self.events),
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
        if token is None or request.path.startswith("/static/"):
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

    async def page(self, _r: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def page_js(self, _r: web.Request) -> web.Response:
        return web.Response(text=PAGE_JS, content_type="application/javascript")

    async def palette_js(self, _r: web.Request) -> web.Response:
        return web.Response(text=PALETTE_JS, content_type="application/javascript")

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
            from maritime.enrich.profiles import risk

            prof = self.profiles.profile(m)
            if prof is not None:
                body["profile"] = prof
                body["risk"] = risk(prof, self.risk_weights)
        return web.json_response(body)

    async def track(self, r: web.Request) -> web.Response:
        m = self._mmsi(r)
        tr = self.state.tracks.get(m)
        if not tr:
            raise web.HTTPNotFound(text="no track")
        return web.json_response({"type": "Feature", "properties": {"mmsi": m, "times": [iso(t) for t, _, _ in tr]},
                                  "geometry": {"type": "LineString", "coordinates": [[lo, la] for _, la, lo in tr]}})

    async def alerts(self, r: web.Request) -> web.Response:
        try:
            limit = min(1000, int(r.query.get("limit", "200")))
        except ValueError:
            raise web.HTTPBadRequest(text="limit is a number") from None
        items = list(self.state.alerts.values())[-limit:][::-1]
        return web.json_response([self.state._alert_view(a) for a in items])

    async def ack(self, r: web.Request) -> web.Response:
        aid = r.match_info["alert_id"]
        st = self.state
        if aid not in st.alerts:
            raise web.HTTPNotFound(text="no such alert")
        st.acked.add(aid)
        st._publish("ack", json.dumps({"id": aid}))
        return web.json_response({"id": aid, "acknowledged": True})

    async def zone_layer(self, _r: web.Request) -> web.Response:
        import shapely
        from shapely.geometry import mapping

        feats = []
        for z in (self.zones.zones if self.zones is not None else []):
            feats.append({"type": "Feature", "properties": {"id": z.id, "name": z.name, "kind": z.kind},
                          "geometry": mapping(shapely.simplify(z.geometry, 0.01 if z.kind == "eez" else 0.002))})
        return web.json_response({"type": "FeatureCollection", "features": feats})

    async def land(self, _r: web.Request) -> web.Response:
        if self._land is None:
            from maritime.views.maps import coastline
            from maritime.zones.caribbean import REGION

            lon0, lat0, lon1, lat1 = REGION
            self._land = json.dumps(coastline((lon0 - 5, lat0 - 5, lon1 + 5, lat1 + 5)))
        return web.Response(text=self._land, content_type="application/json")

    async def config(self, _r: web.Request) -> web.Response:
        return web.json_response({"tile_url": self.tile_url})

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

        task = asyncio.create_task(loop())
        yield
        task.cancel()


def make_app(state: LiveState, *, token: str | None = None, zones: ZoneIndex | None = None,
             tile_url: str | None = None, profiles: Any = None,
             risk_weights: dict[str, float] | None = None, hosts: Sequence[str] | None = None) -> web.Application:
    """The aiohttp application serving the page, the API and the event stream (see :class:`LiveMapServer`)."""
    return LiveMapServer(state, token=token, zones=zones, tile_url=tile_url, profiles=profiles,
                         risk_weights=risk_weights, hosts=hosts).app()


class PathOnlyAccessLogger(AbstractAccessLogger):
    """The access log without query strings (they may carry ``?token=``): client, method, path, status, time."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %d %.3f s", request.remote, request.method, request.path, response.status, time)


async def start_server(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start serving ``app``; return the runner (call ``cleanup()`` to stop)."""
    runner = web.AppRunner(app, access_log_class=PathOnlyAccessLogger)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    logger.warning("live map on http://%s:%d/", host, port)
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
#: the palette the replay map uses, for the live page (one palette: maritime/views/static/palette.json)
PALETTE_JS = "window.MDA_PALETTE = " + json.dumps(PALETTE, separators=(",", ":")) + ";\n"


async def follow_redis(state: LiveState, url: str, stop: asyncio.Event, poll_s: float = 2.0) -> None:
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
            await _follow(state, client, stop, poll_s, backoff)
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


async def _follow(state: LiveState, client: Any, stop: asyncio.Event, poll_s: float, backoff: Any) -> None:
    """Follow the alert stream from ``state.stream_id`` (None: the latest 500 alerts) and the positions."""
    if state.stream_id is None:
        for entry_id, fields in reversed(await client.xrevrange("mda:alerts", count=500)):
            state.add_alert(json.loads(fields["alert"]))
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
                state.add_alert(json.loads(fields["alert"]))
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
