"""Out of the box: the bundled zones are on by default, from any directory; ``--zones none`` turns them off."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from maritime.geo import destination
from maritime.sim.encode import position_payloads, sentences, tag_block

T0 = 1_747_180_800
CASTRIES = (14.012, -60.995)  # inside the bundled port zone of Castries, Saint Lucia


def moored_pair() -> bytes:
    """Two ships alongside each other at a Castries berth for four hours (ordinary port life)."""
    lines = []
    for k in range(240):
        for i, mmsi in enumerate((377000101, 377000102)):
            lat, lon = destination(*CASTRIES, 90, 60.0 * i)
            t = T0 + 60 * k + 7 * i
            pl = position_payloads(np.array([mmsi]), np.array([lat]), np.array([lon]), np.array([0.1]),
                                   np.array([10.0]), np.array([10.0]), np.array([0]), np.array([t % 60]),
                                   np.array([False]))[0].tobytes().decode()
            lines.append(tag_block(f"c:{t}") + sentences(pl, 0, 0)[0])
    return b"\n".join(lines) + b"\n"


def replay(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    feed = tmp_path / "castries.nmea"
    feed.write_bytes(moored_pair())
    out = tmp_path / "alerts.jsonl"
    proc = subprocess.run([sys.executable, "-m", "maritime.cli", "replay", str(feed), "--alerts", str(out), "-q",
                           *extra], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    alerts = [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []
    return proc, alerts


def test_replay_uses_the_bundled_zones_from_any_directory(tmp_path):
    proc, alerts = replay(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [a for a in alerts if a["type"] in ("rendezvous", "loitering")] == []
    assert "zones off" not in proc.stderr


def test_the_readme_spelling_geofences_works_outside_the_checkout(tmp_path):
    proc, alerts = replay(tmp_path, "--zones", "geofences")
    assert proc.returncode == 0, proc.stderr
    assert [a for a in alerts if a["type"] == "rendezvous"] == []


def test_zones_none_turns_them_off_and_says_what_is_missed(tmp_path):
    proc, alerts = replay(tmp_path, "--zones", "none")
    assert proc.returncode == 0, proc.stderr
    assert "zones off" in proc.stderr
    # without the port zone, two ships at a berth look like a meeting: what the warning says
    assert any(a["type"] == "rendezvous" for a in alerts)


def test_zones_without_ports_are_warned_about(tmp_path):
    z = tmp_path / "mpa.geojson"
    z.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[-62, 12], [-61, 12], [-61, 13],
                                                                              [-62, 13], [-62, 12]]]},
        "properties": {"id": "mpa-x", "name": "X", "kind": "mpa", "alert_on": ["entry"]}}]}))
    proc, _ = replay(tmp_path, "--zones", str(z))
    assert proc.returncode == 0, proc.stderr
    assert "no port or anchorage zone" in proc.stderr


def test_no_secret_appears_in_the_output_of_a_run_with_a_password_in_the_url(tmp_path):
    """Redis down, its password in the URL: the warnings, the summary table and the log name it as ***."""
    secret = "pw-4f1c9e7a-never-printed"
    proc, _ = replay(tmp_path, "--redis", f"redis://centre-lc:{secret}@127.0.0.1:1/0", "-v")
    out = proc.stdout + proc.stderr
    assert secret not in out
    assert "centre-lc:***@" in out


def test_redact_covers_urls_tokens_and_acl_passwords():
    from maritime.redact import redact

    text = ("redis://u:p4ss@h:6379/0 redis://:p4ss@h/0 GET /api/alerts?token=t0k3n&x=1 "
            "ACL SETUSER centre-lc on >p4ss ~mda:* secret=s3cr3t")
    clean = redact(text)
    assert "p4ss" not in clean and "t0k3n" not in clean and "s3cr3t" not in clean
    assert clean.startswith("redis://u:***@h:6379/0")


async def test_the_access_log_names_paths_never_query_strings(caplog):
    import logging

    import aiohttp
    from aiohttp import web

    from maritime.views.web import start_server
    from tests.conftest import free_port

    async def ok(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", ok)
    port = free_port()
    runner = await start_server(app, "127.0.0.1", port)
    try:
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/?token=s3cret-token") as r:
                assert r.status == 200
    finally:
        await runner.cleanup()
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "aiohttp.access"]
    assert lines and " GET / 200 " in lines[0]
    assert not any("s3cret" in ln or "token" in ln for ln in lines)


async def test_a_browser_that_goes_away_mid_stream_is_not_an_error(caplog):
    import asyncio
    import logging

    from maritime.views.web import LiveState, make_app, start_server
    from tests.conftest import free_port

    state = LiveState()
    port = free_port()
    runner = await start_server(make_app(state), "127.0.0.1", port)
    try:
        with caplog.at_level(logging.DEBUG):
            for _ in range(3):  # a tab opened and closed at once, three times
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
                await writer.drain()
                assert b"200" in await reader.readline()
                writer.transport.abort()  # gone, no goodbye
            await asyncio.sleep(0.3)
            for down in (True, False, True):  # events sent to the pages that are gone
                state.set_feed_down(down)
                await asyncio.sleep(0.2)
    finally:
        await runner.cleanup()
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert bad == [], [r.getMessage() for r in bad]
