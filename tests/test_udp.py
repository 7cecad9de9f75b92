"""The UDP listener, over loopback, through the live pipeline."""

from __future__ import annotations

import asyncio
import socket

from maritime.config import Settings
from maritime.ingest.sources import parse_source
from maritime.runtime.pipeline import Pipeline

from .conftest import feed_lines


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_udp_datagrams_are_decoded_live():
    port = free_udp_port()
    pipe = Pipeline(Settings())
    stop = asyncio.Event()
    task = asyncio.create_task(pipe.run_live(parse_source(f"udp://127.0.0.1:{port}"), stop))
    await asyncio.sleep(0.3)
    lines = feed_lines(5)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\r\n".join(lines[:3]) + b"\r\n", ("127.0.0.1", port))  # several sentences in one datagram
        s.sendto(lines[3] + b"\r\n", ("127.0.0.1", port))
        s.sendto(lines[4], ("127.0.0.1", port))
        s.sendto(b"\xff\xfe not nmea", ("127.0.0.1", port))
    for _ in range(100):
        await asyncio.sleep(0.05)
        if pipe.stats.decode.messages >= 5 and pipe.stats.decode.lines >= 6:
            break
    stop.set()
    summary = await asyncio.wait_for(task, timeout=10)
    assert summary["messages"] == 5 and summary["positions"] == 5
    assert summary["rejected"] == {"malformed": 1}
