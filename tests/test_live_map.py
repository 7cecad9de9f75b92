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

from .conftest import ARTIFACTS, free_port, wait_http

CHROMIUM = "/usr/bin/chromium"
T0 = 1_747_209_600.0

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or not shutil.which("chromium"),
                                reason="Debian's chromium is not installed (.ci/run installs it)")



class Server:
    """The live-map app in a thread with its own event loop."""

    def __init__(self, state: LiveState, token: str | None) -> None:
        self.state = state
        self.token = token
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.runner = self.loop.run_until_complete(
            start_server(make_app(self.state, token=self.token), "127.0.0.1", self.port))
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
        page.locator(".alert").first.locator("button").click()
        page.wait_for_function("() => document.querySelector('.alert').classList.contains('acked')", timeout=15000)
        assert "rendezvous:3" in state.acked
        page.locator(".vessel-icon").first.click()
        page.wait_for_function("() => document.getElementById('vessel').style.display === 'block'", timeout=15000)
        page.screenshot(path=str(ARTIFACTS / "live-map.png"))
        assert dialogs == [] and blocked == [] and violations == []
        b.close()


def test_live_page_against_a_running_watch(tmp_path):
    """`maritime watch tcp://… --web`: vessels from the live feed appear on the page."""
    from playwright.sync_api import sync_playwright

    from .conftest import nmea, tag

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
