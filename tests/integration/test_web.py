"""The live-map server without a browser: event streams end when the server stops."""

from __future__ import annotations

import asyncio

import aiohttp

from maritime.models import Position
from maritime.views.web import LiveState, make_app, start_server
from tests.conftest import free_port


async def test_stopping_the_server_ends_open_event_streams():
    """An open SSE page must not hold the server's shutdown (aiohttp would wait up to a minute per handler)."""
    state = LiveState()
    port = free_port()
    runner = await start_server(make_app(state), "127.0.0.1", port)
    async with aiohttp.ClientSession() as session:
        resp = await session.get(f"http://127.0.0.1:{port}/api/events")
        assert (await resp.content.readline()).startswith(b"event: hello")
        state(Position(376000500, 1_747_209_600.0, 14.0, -61.0, 10.0, 45.0, 45, 0, 1, "t"))
        state.flush_positions()
        seen = b""
        while b"event: positions" not in seen:
            seen += await resp.content.readline()
        cleanup = asyncio.ensure_future(runner.cleanup())
        rest = await asyncio.wait_for(resp.content.read(), timeout=30)  # EOF: the stream was ended
        await asyncio.wait_for(cleanup, timeout=30)
        assert b"event:" not in rest


async def test_a_track_is_valid_geojson_and_reaches_back_a_day():
    """One fix is a Point (RFC 7946 has no one-position LineString); older fixes are kept thinned for 24 h, so a
    track asked from before an alert of the morning reaches it."""
    t0 = 1_747_209_600.0
    state = LiveState()
    state(Position(376000500, t0, 14.0, -61.0, 10.0, 45.0, 45, 0, 1, "t"))
    for k in range(1, 10 * 60):  # ten hours, a fix a minute
        state(Position(377000700, t0 + 60 * k, 14.0 + k * 1e-3, -61.0, 10.0, 0.0, 0, 0, 1, "t"))
    port = free_port()
    runner = await start_server(make_app(state), "127.0.0.1", port)
    base = f"http://127.0.0.1:{port}/api/vessels"
    try:
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{base}/376000500/track") as r:
                one = await r.json()
            assert one["geometry"] == {"type": "Point", "coordinates": [-61.0, 14.0]}
            async with s.get(f"{base}/377000700/track", params={"since": "2025-05-14T08:30:00Z"}) as r:
                day = await r.json()
            times = day["properties"]["times"]
            assert day["geometry"]["type"] == "LineString" and times[0] <= "2025-05-14T08:35:00Z"
            assert len(day["geometry"]["coordinates"]) == len(times) < 10 * 60  # thinned beyond the last 3 h
            async with s.get(f"{base}/377000700/track", params={"since": "yesterday"}) as r:
                assert r.status == 400
    finally:
        await runner.cleanup()
