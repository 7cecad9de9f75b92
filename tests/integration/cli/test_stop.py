"""A service stops when it is told, whatever its feed is doing, and says what it did (real processes, real
sockets and pipes, a real Redis)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from tests.conftest import BASE, free_port, line, wait_http

MARITIME = [sys.executable, "-m", "maritime.cli"]


class QuietFeed:
    """An NMEA-over-TCP server that sends ``lines`` to the first client, then stays connected and silent."""

    def __init__(self, lines: list[bytes]) -> None:
        self.port = free_port()
        self.lines = lines
        self.sent = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(1)
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        self.conns.append(conn)
        conn.sendall(b"\n".join(self.lines) + b"\n")
        self.sent.set()

    def close(self) -> None:
        for c in self.conns:
            c.close()
        self.sock.close()


def stop_and_time(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> float:
    t = time.monotonic()
    proc.send_signal(sig)
    try:
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return time.monotonic() - t


@pytest.mark.parametrize("sig", [signal.SIGTERM, pytest.param(signal.SIGINT, marks=pytest.mark.slow)])
def test_watch_stops_within_5_s_on_a_silent_tcp_feed_with_its_summary(tmp_path: Path, sig: int) -> None:
    feed = QuietFeed([line(BASE + i, i) for i in range(3000)])
    summary = tmp_path / "summary.json"
    proc = subprocess.Popen([*MARITIME, "watch", f"tcp://127.0.0.1:{feed.port}", "--summary-json", str(summary),
                             "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert feed.sent.wait(60)
        time.sleep(4.0)  # the lines are in; the feed stays connected and says nothing
        took = stop_and_time(proc, sig)
    finally:
        feed.close()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.returncode == 0, err[-2000:]
    assert took < 5.0, f"stopped in {took:.1f} s"
    doc = json.loads(summary.read_text())
    assert doc["lines"] == 3000 and doc["stopped"] is True and doc["unprocessed_at_stop"] == 0


@pytest.mark.slow
def test_watch_stops_within_5_s_on_a_quiet_pipe(tmp_path: Path) -> None:
    """``(cat lines; sleep …) | maritime watch -``: the pipe stays open and quiet; the stop still comes."""
    summary = tmp_path / "summary.json"
    proc = subprocess.Popen([*MARITIME, "watch", "-", "--summary-json", str(summary), "--json"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write(b"\n".join(line(BASE + i, i) for i in range(500)) + b"\n")
    proc.stdin.flush()
    time.sleep(4.0)
    try:
        took = stop_and_time(proc)
    finally:
        proc.stdin.close()
    assert proc.returncode == 0 and took < 5.0, f"rc {proc.returncode}, {took:.1f} s"
    assert json.loads(summary.read_text())["lines"] == 500


@pytest.mark.slow
def test_duration_is_honoured_the_same_way(tmp_path: Path) -> None:
    feed = QuietFeed([line(BASE + i, i) for i in range(200)])
    summary = tmp_path / "summary.json"
    t = time.monotonic()
    try:
        res = subprocess.run([*MARITIME, "watch", f"tcp://127.0.0.1:{feed.port}", "--duration", "3",
                              "--summary-json", str(summary), "--json"], capture_output=True, timeout=60)
    finally:
        feed.close()
    took = time.monotonic() - t
    assert res.returncode == 0, res.stderr.decode()[-2000:]
    assert took < 3.0 + 5.0 + 5.0  # the run, the stop, and the interpreter's start
    assert json.loads(summary.read_text())["stopped"] is True


def test_serve_goes_on_past_a_stream_entry_without_an_alert(server, tmp_path: Path) -> None:
    """``XADD mda:alerts * foo bar``: skipped, dead-lettered, logged; the alerts after it still reach the map."""
    port = free_port()
    dead = tmp_path / "dead.jsonl"
    env = {**os.environ, "MARITIME_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.Popen([*MARITIME, "serve", "--redis", server.url, "--web", f"127.0.0.1:{port}",
                             "--dead-letter", str(dead), "--triage", str(tmp_path / "t.sqlite")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    r = redis.Redis(port=server.port)
    try:
        wait_http(f"http://127.0.0.1:{port}/api/alerts")
        r.xadd("mda:alerts", {"foo": "bar"})
        r.xadd("mda:alerts", {"alert": "{not json"})
        alert = {"id": "dark_gap:376000500:2025-05-14T08:00:00Z", "type": "dark_gap", "status": "open",
                 "severity": "medium", "time": "2025-05-14T14:00:00Z", "start": "2025-05-14T08:00:00Z",
                 "end": None, "vessels": [{"mmsi": 376000500}], "lat": 14.0, "lon": -61.0,
                 "summary": "silent", "details": {}}
        r.xadd("mda:alerts", {"alert": json.dumps(alert)})
        import urllib.request

        deadline = time.monotonic() + 20
        ids: list[str] = []
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/alerts") as resp:
                ids = [a["id"] for a in json.loads(resp.read())]
            if alert["id"] in ids:
                break
            time.sleep(0.3)
        assert alert["id"] in ids
        took = stop_and_time(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.returncode == 0 and took < 5.0, (proc.returncode, took, err[-1500:])
    assert "skipped: no 'alert' field" in err and "not JSON" in err
    kept = [json.loads(x) for x in dead.read_text().splitlines()]
    assert [k["reason"].split(" (")[0] for k in kept] == ["no 'alert' field", "the alert is not JSON"]
    assert kept[0]["fields"] == {"foo": "bar"}
