"""The live operations map in headless Chromium (Debian's), driven by Playwright, no network beyond localhost."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from maritime.models import Alert, Position, VesselInfo, VesselRef
from maritime.views.web import LiveState, make_app, start_server
from tests.conftest import ARTIFACTS, free_port, wait_http

CHROMIUM = "/usr/bin/chromium"
T0 = 1_747_209_600.0

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or not shutil.which("chromium"),
                                reason="Debian's chromium is not installed (.ci/run installs it)")



class Server:
    """The live-map app in a thread with its own event loop."""

    def __init__(self, state: LiveState, token: str | None, triage=None, port: int | None = None,
                 arrivals=None) -> None:
        self.state = state
        self.token = token
        self.triage = triage
        self.arrivals = arrivals
        self.port = port or free_port()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.runner = self.loop.run_until_complete(
            start_server(make_app(self.state, token=self.token, triage=self.triage, arrivals=self.arrivals),
                         "127.0.0.1", self.port))
        self._ready.set()
        self.loop.run_forever()

    def call(self, fn, *args) -> None:
        self.loop.call_soon_threadsafe(fn, *args)

    def __enter__(self) -> Server:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        fut = asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop)
        fut.result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


def alert(i: int, name: str = "SEA BREEZE") -> Alert:
    return Alert(f"rendezvous:{i}", "rendezvous", "open", "high", T0 + i, T0, None,
                 (VesselRef(376000500, name=name), VesselRef(377000700)), 14.0 + i * 0.1, -61.0,
                 f"{name} and another vessel within 500 m for 2 h 00 min")


def browser(p):
    return p.chromium.launch(executable_path=CHROMIUM, args=[
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"])


def block_outside(page) -> list[str]:
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith(("http://127.0.0.1", "http://localhost")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return blocked


def test_token_is_required():
    state = LiveState()
    with Server(state, token="t0k3n-secret") as srv:
        for path in ("/", "/api/vessels", "/api/alerts"):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(f"http://127.0.0.1:{srv.port}{path}", timeout=5)
            assert err.value.code == 401
        req = urllib.request.Request(f"http://127.0.0.1:{srv.port}/api/vessels",
                                     headers={"Authorization": "Bearer t0k3n-secret"})
        assert urllib.request.urlopen(req, timeout=5).status == 200


def test_page_shows_vessels_alerts_live_and_names_as_text(tmp_path):
    from playwright.sync_api import sync_playwright

    state = LiveState()
    evil = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    for k, (mmsi, name) in enumerate([(376000500, evil), (377000700, "OCEAN HOPE"), (362001234, "PELICAN")]):
        state(VesselInfo(mmsi, T0, name=name, ship_type=70))
        state(Position(mmsi, T0 + k, 14.0 + k * 0.2, -61.0 - k * 0.2, 10.0, 45.0, 45, 0, 1, "t"))
    state.write(alert(1, evil))
    state.write(alert(2))
    ARTIFACTS.mkdir(exist_ok=True)
    with Server(state, token="t0k3n-secret") as srv, sync_playwright() as p:
        b = browser(p)
        # the page's own Content-Security-Policy is enforced (no inline script, images from self)
        page = b.new_context(viewport={"width": 1300, "height": 800}).new_page()
        blocked = block_outside(page)
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"http://127.0.0.1:{srv.port}/?token=t0k3n-secret")
        page.wait_for_function("() => window.mdaReady === true", timeout=20000)
        assert page.evaluate("typeof L") == "object"
        assert page.locator(".leaflet-container").count() == 1
        assert page.locator(".vessel-icon").count() == 3
        assert page.locator(".alert").count() == 2
        assert evil in page.locator("#alerts").inner_text()  # shown as text
        page.wait_for_function("() => document.getElementById('status').textContent === 'live'", timeout=20000)
        # a new alert and a moved vessel arrive over the event stream
        srv.call(state.write, alert(3))
        srv.call(state, Position(377000700, T0 + 60, 14.5, -61.5, 9.0, 90.0, 90, 0, 1, "t"))
        page.wait_for_function("() => document.querySelectorAll('.alert').length === 3", timeout=15000)
        page.fill("#officer", "Lt. Joseph")
        page.dispatch_event("#officer", "change")
        page.locator(".alert").first.click()
        page.locator(".alert.selected button[data-action=acknowledge]").click()
        page.wait_for_function("() => document.querySelector('.alert').classList.contains('triaged')", timeout=15000)
        assert "rendezvous:3" in state.acked
        page.locator(".vessel-icon").first.click()
        page.wait_for_function("() => document.getElementById('vessel').style.display === 'block'", timeout=15000)
        page.screenshot(path=str(ARTIFACTS / "live-map.png"))
        assert dialogs == [] and blocked == [] and violations == []
        b.close()


def test_live_page_against_a_running_watch(tmp_path):
    """`maritime watch tcp://… --web`: vessels from the live feed appear on the page."""
    from playwright.sync_api import sync_playwright

    from tests.conftest import nmea, tag

    feed_port, web_port = free_port(), free_port()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", feed_port))
    srv.listen()

    def feed() -> None:
        conn, _ = srv.accept()
        try:
            for i in range(120):
                for k in range(4):
                    mmsi_payload = ["15M67FC000G?ufbE`FepT@3n00Sa", "15VU?u0P1sKV1807Brl1j1HH0000",
                                    "1815101P00KACqD:C;g>3s?n0000", "14hUSA0P2fKb@j<804@<C9n00000"][k]
                    conn.sendall(tag(f"c:{int(T0) + i * 10 + k}") + nmea(f"AIVDM,1,1,,A,{mmsi_payload},0")
                                 + b"\r\n")
                time.sleep(0.05)
            time.sleep(30)
        except OSError:
            pass  # the watch process was stopped: the feed ends with it
        finally:
            conn.close()

    threading.Thread(target=feed, daemon=True).start()
    proc = subprocess.Popen([sys.executable, "-m", "maritime.cli", "watch", f"tcp://127.0.0.1:{feed_port}",
                             "--web", f"127.0.0.1:{web_port}", "--duration", "40", "--alerts",
                             str(tmp_path / "a.jsonl")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_http(f"http://127.0.0.1:{web_port}/api/vessels")
        with sync_playwright() as p:
            b = browser(p)
            page = b.new_context(bypass_csp=True).new_page()
            blocked = block_outside(page)
            page.goto(f"http://127.0.0.1:{web_port}/")
            page.wait_for_function("window.mdaReady === true", timeout=20000)
            page.wait_for_function("document.querySelectorAll('.vessel-icon').length >= 4", timeout=20000)
            assert blocked == []
            b.close()
    finally:
        proc.terminate()
        proc.wait(20)
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert f"live map on http://127.0.0.1:{web_port}/" in err  # the URL is printed at start
    assert "Traceback" not in err


def watch_floor_state() -> LiveState:
    """Three vessels (one with a hostile name and destination), four alerts of three severities in two
    states' waters."""
    state = LiveState()
    evil = "<img src=x onerror=alert(1)>"
    for k, (mmsi, name, cs, imo) in enumerate([(376000500, evil, "J8AB", 9_100_001),
                                               (377000700, "OCEAN HOPE", "J7QZ", 9_200_002),
                                               (362001234, "PELICAN", "<u>9Y", None)]):
        state(VesselInfo(mmsi, T0, name=name, callsign=cs, imo=imo, ship_type=70 if k else 30,
                         destination=evil if k == 0 else "CASTRIES"))
        state(Position(mmsi, T0 + 600 + k, 14.0 + k * 0.3, -61.0 - k * 0.3, 10.0, 45.0, 45, 0, 1, "t"))
    waters = {"lc": {"territorial_sea": {"id": "lc-ts", "name": "Saint Lucia", "authority": "SLMPU", "country": "LC"}},
              "vc": {"territorial_sea": {"id": "vc-ts", "name": "St Vincent", "authority": "SVGCG", "country": "VC"}}}
    row = {376000500: 0, 377000700: 1, 362001234: 2}
    for i, (typ, sev, mmsi, name, where) in enumerate([("rendezvous", "high", 376000500, evil, "lc"),
                                                       ("loitering", "medium", 377000700, "OCEAN HOPE", "vc"),
                                                       ("dark_gap", "low", 362001234, "PELICAN", "lc"),
                                                       ("geofence_entry", "high", 377000700, "OCEAN HOPE", "vc")]):
        a = Alert(f"{typ}:{i}", typ, "open", sev, T0 + 60 * i, T0, None, (VesselRef(mmsi, name=name),),
                  14.0 + row[mmsi] * 0.3 + 0.03 * i, -61.0 - row[mmsi] * 0.3,
                  f"{name}: {typ.replace('_', ' ')}",
                  jurisdiction=waters[where])
        state.write(a)
    return state


@pytest.mark.slow  # over 6 s: the default run stays under 5 min
def test_watch_floor_marker_search_filters_triage_shared_and_kept(tmp_path):
    """A real browser drives the watch floor: an alert marker highlights its vessel, search finds vessels by
    name, IMO and call sign, filters hide what they should, a triage action on one page is seen on a second
    page at once and survives a server restart, a critical alert flashes and sounds, the status line says when
    the stream is down, and hostile names, destinations and notes stay text."""
    from playwright.sync_api import sync_playwright

    from maritime.enrich.triage import SqliteTriageStore

    db = tmp_path / "triage.sqlite"
    state = watch_floor_state()
    ARTIFACTS.mkdir(exist_ok=True)
    evil_note = "<script>alert(3)</script> checked with the harbour master"
    with sync_playwright() as p:
        b = browser(p)
        dialogs: list[str] = []
        with Server(state, token=None, triage=SqliteTriageStore(db)) as srv:
            url = f"http://127.0.0.1:{srv.port}/"
            pages = []
            for _ in range(2):
                page = b.new_context(viewport={"width": 1400, "height": 850}).new_page()
                page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
                assert block_outside(page) == []
                page.goto(url)
                page.wait_for_function("() => window.mdaReady === true", timeout=20000)
                pages.append(page)
            one, two = pages
            # alert markers are diamonds, apart from the vessel arrows, one per alert
            assert one.locator(".alert-icon").count() == 4 and one.locator(".vessel-icon").count() == 3
            one.wait_for_function("() => document.getElementById('status').textContent === 'live'", timeout=20000)
            assert "event time 2025-05-14" in one.locator("#clock").inner_text()
            # a marker click highlights its vessel and opens its panel, with relative times
            one.evaluate("window.mdaMap.setView([14.3, -61.3], 9, {animate: false})")
            one.locator(".alert-icon.sev-medium").click()
            one.wait_for_function("() => document.querySelector('.mda-highlight') !== null", timeout=10000)
            one.wait_for_function("() => document.getElementById('vessel').style.display === 'block'", timeout=10000)
            assert one.locator("#vessel-title").inner_text() == "OCEAN HOPE"
            assert "ago" in one.locator("#vessel-body").inner_text()
            assert one.locator(".alert.selected").count() == 1
            one.locator("#vessel-close").click()
            assert one.locator("#vessel").is_hidden() and one.locator(".mda-highlight").count() == 0
            # search by name, IMO and call sign
            for q, hit in (("pelic", "PELICAN · MMSI 362001234 · <u>9Y"), ("9100001", "<img src=x onerror=alert(1)>"), ("J7QZ", "OCEAN HOPE")):
                one.fill("#search", q)
                assert hit in one.locator("#results").inner_text()
            one.press("#search", "Enter")
            one.wait_for_function("() => document.getElementById('vessel-title').textContent === 'OCEAN HOPE'",
                                  timeout=10000)
            one.fill("#search", "NO SUCH SHIP")
            assert "no vessel matches" in one.locator("#results").inner_text()
            # the hostile vessel's panel shows its name and destination as text
            one.fill("#search", "J8AB")
            one.press("#search", "Enter")
            one.wait_for_function("() => document.getElementById('vessel-title').textContent.startsWith('<img')",
                                  timeout=10000)
            assert "<img src=x onerror=alert(1)>" in one.locator("#vessel-body").inner_text()
            # filters: severity, waters, type
            one.select_option("#f-sev", "high")
            assert one.locator(".alert:visible").count() == 2 and one.locator(".alert-icon").count() == 2
            one.select_option("#f-waters", "SVGCG")
            assert one.locator(".alert:visible").count() == 1
            assert "geofence entry" in one.locator(".alert:visible").inner_text()
            one.select_option("#f-sev", "info")
            one.select_option("#f-waters", "")
            one.select_option("#f-type", "dark_gap")
            assert one.locator(".alert:visible").count() == 1
            one.select_option("#f-type", "")
            # triage needs the officer's name; then page two sees it at once
            one.locator(".alert[data-id='rendezvous:0']").click()
            one.locator(".alert.selected button[data-action=acknowledge]").click()
            assert "your name" in one.locator("#message").inner_text()
            one.fill("#officer", "Lt. Joseph")
            one.dispatch_event("#officer", "change")
            one.locator(".alert.selected select.reason").select_option("known_vessel")
            one.locator(".alert.selected input.note").fill(evil_note)
            one.locator(".alert.selected button[data-action=false_alarm]").click()
            two.wait_for_function("() => document.querySelector(\"[data-id='rendezvous:0'] .tri\").textContent"
                                  ".includes('false alarm')", timeout=10000)
            assert evil_note in two.locator("[data-id='rendezvous:0'] .tri").inner_text()
            assert "Lt. Joseph" in two.locator("[data-id='rendezvous:0'] .tri").inner_text()
            two.check("#f-open")
            assert two.locator(".alert:visible").count() == 3  # "not yet triaged" hides the false alarm
            # a critical alert arriving live flashes and sounds
            srv.call(state.write, Alert("rendezvous:9", "rendezvous", "open", "critical", T0 + 900, T0, None,
                                        (VesselRef(377000700, name="OCEAN HOPE"),), 14.31, -61.3,
                                        "OCEAN HOPE meeting a listed vessel"))
            one.wait_for_function("() => document.getElementById('flash').classList.contains('on')", timeout=10000)
            assert one.evaluate("window.mdaLastSound.times") == 3
            assert "CRITICAL" in one.locator("#flash").inner_text()
            one.screenshot(path=str(ARTIFACTS / "live-map-watch-floor.png"))
            one.locator("#panel-close").click()
            assert one.evaluate("document.body.classList.contains('panel-hidden')")
            one.locator("#panel-open").click()
            stats = one.context.new_page()
            stats.goto(url + "triage")
            stats.wait_for_function("() => window.mdaReady === true", timeout=10000)
            assert "rendezvous" in stats.locator("table").first.inner_text()
            assert "100%" in stats.locator("table").first.inner_text()
            port = srv.port
        # the server is gone: the page says so
        one.wait_for_function("() => document.getElementById('status').textContent.includes('down')",
                              timeout=20000)
        # a restarted server keeps the triage
        with Server(watch_floor_state(), token=None, triage=SqliteTriageStore(db), port=port):
            three = b.new_context().new_page()
            three.goto(url)
            three.wait_for_function("() => window.mdaReady === true", timeout=20000)
            assert "false alarm (known vessel) by Lt. Joseph" in three.locator("[data-id='rendezvous:0'] .tri").inner_text()
            three.screenshot(path=str(ARTIFACTS / "live-map-after-restart.png"))
        assert dialogs == []
        b.close()


def test_arrivals_panel_lists_a_port_and_a_click_shows_the_vessel(grid):
    """The live map's arrivals panel: choose a port, see who is coming (by risk or ETA), a click opens the
    vessel; a hostile destination is text."""
    from playwright.sync_api import sync_playwright

    from maritime.geo import destination
    from maritime.runtime.arrivals_board import ArrivalsBoard

    state = LiveState()
    board = ArrivalsBoard(grid=grid)
    evil = "<img src=x onerror=alert(7)>"
    for rec in (VesselInfo(376000500, T0, name="SEA BREEZE", ship_type=70, destination="CASTRIES",
                           eta_s=T0 + 4 * 3600),
                VesselInfo(377000700, T0, name="OTHER", ship_type=70, destination=evil)):
        state(rec)
        board(rec)
    for mmsi, brg, dist, cog in ((376000500, 300.0, 30, 120.0), (377000700, 285.0, 20, 105.0)):
        lat, lon = destination(14.012, -60.995, brg, dist * 1852)
        p = Position(mmsi, T0 + 60, lat, lon, 10.0, cog, int(cog), 0, 1, "t")
        state(p)
        board(p)
    with Server(state, token=None, arrivals=board) as srv, sync_playwright() as pw:
        b = browser(pw)
        page = b.new_context(viewport={"width": 1400, "height": 850}).new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"http://127.0.0.1:{srv.port}/")
        page.wait_for_function("() => window.mdaReady === true", timeout=20000)
        page.click("#arrivals-open")
        page.wait_for_function("() => document.querySelectorAll('#arr-port option').length > 50", timeout=10000)
        page.select_option("#arr-port", "LCCAS")
        page.wait_for_function("() => document.querySelectorAll('#arr-rows .arr').length === 2", timeout=30000)
        text = page.locator("#arr-rows").inner_text()
        assert "SEA BREEZE" in text and evil.upper() in text and "in 3.0 h" in text  # 30 nm at 10 kn
        page.click("#arr-sort-eta")
        page.locator("#arr-rows .arr").first.click()
        page.wait_for_function("() => document.getElementById('vessel').style.display === 'block'", timeout=10000)
        page.screenshot(path=str(ARTIFACTS / "live-map-arrivals.png"))
        assert dialogs == []
        b.close()
