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
