"""The UDP listener, over loopback, through the live pipeline."""

from __future__ import annotations

import asyncio
import socket

import pytest

from maritime.config import Settings
from maritime.ingest.sources import parse_source
from maritime.runtime.pipeline import Pipeline
from tests.conftest import feed_lines


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


@pytest.mark.slow  # a watch process with its map, 8 s
def test_poisoned_datagrams_do_not_stop_watch_and_its_live_map():
    """The two datagrams that once ended `watch --web` (times outside Python's date range), garbage, then good
    lines: the process keeps serving the map and shows the good vessel."""
    import json
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.conftest import TYPE1, free_port, tag, wait_http

    udp, web = free_udp_port(), free_port()
    proc = subprocess.Popen([sys.executable, "-m", "maritime.cli", "watch", f"udp://127.0.0.1:{udp}", "--web",
                             f"127.0.0.1:{web}", "--zones", "none", "--duration", "30", "--no-webhooks"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_http(f"http://127.0.0.1:{web}/api/vessels")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for poison in (b"0001-01-01T00:00:00+01:00 " + TYPE1, b"9999-12-31T23:59:59-01:00 " + TYPE1,
                           tag("c:4000000000") + TYPE1, bytes(range(256)), b"!" * 20000):
                s.sendto(poison + b"\r\n", ("127.0.0.1", udp))
            time.sleep(0.5)
            for i in range(3):
                s.sendto(tag(f"c:{1747209600 + i}") + TYPE1 + b"\r\n", ("127.0.0.1", udp))
        vessels: list = []
        for _ in range(50):
            time.sleep(0.2)
            doc = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{web}/api/vessels", timeout=2).read())
            vessels = doc["features"]
            if vessels:
                break
        assert proc.poll() is None, "watch stopped"
        assert [v["properties"]["mmsi"] for v in vessels] == [366053209]
        assert urllib.request.urlopen(f"http://127.0.0.1:{web}/api/alerts", timeout=2).status == 200
    finally:
        proc.terminate()
        proc.wait(20)
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert "Traceback" not in err
