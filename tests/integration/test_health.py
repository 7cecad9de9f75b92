"""Health, readiness and Prometheus metrics of a running watch and serve, without the map's token."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import BASE, free_port, line, wait_http
from tests.integration.cli.test_stop import QuietFeed, stop_and_time

MARITIME = [sys.executable, "-m", "maritime.cli"]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_watch_serves_healthz_readyz_and_metrics_without_the_token(tmp_path: Path) -> None:
    feed = QuietFeed([line(BASE + i, i) for i in range(1500)])
    port = free_port()
    proc = subprocess.Popen([*MARITIME, "watch", f"tcp://127.0.0.1:{feed.port}", "--web", f"127.0.0.1:{port}",
                             "--token", "s3cret-token", "--json", "--triage", str(tmp_path / "t.sqlite")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        assert feed.sent.wait(30)
        deadline = time.monotonic() + 30
        fams: dict = {}
        while time.monotonic() < deadline:
            code, body = get(f"http://127.0.0.1:{port}/metrics")
            assert code == 200
            fams = {f.name: f for f in text_string_to_metric_families(body.decode())}
            lines = {s.labels.get("feed"): s.value for s in fams["mda_lines"].samples if s.name == "mda_lines_total"}
            if lines.get(f"tcp://127.0.0.1:{feed.port}") == 1500:
                break
            time.sleep(0.5)
        assert lines == {f"tcp://127.0.0.1:{feed.port}": 1500}
        assert fams["mda_memory_bytes"].samples[0].value > 10_000_000
        assert "process_resident_memory_bytes" in {s.name for f in fams.values() for s in f.samples}
        assert {"mda_rejected_lines", "mda_alert_records", "mda_source_lag_seconds", "mda_sink_backlog",
                "mda_late_positions", "mda_ready"} <= set(fams)
        code, body = get(f"http://127.0.0.1:{port}/healthz")
        assert code == 200 and json.loads(body)["status"] == "alive"
        # the recorded lines are from May 2025: event time lags the clock, so the run says it is not ready
        code, body = get(f"http://127.0.0.1:{port}/readyz")
        doc = json.loads(body)
        assert code == 503 and not doc["ready"] and any("lags the clock" in r for r in doc["reasons"])
        # the page's figures and the API stay behind the token
        assert get(f"http://127.0.0.1:{port}/api/status")[0] == 401
        code, body = get(f"http://127.0.0.1:{port}/api/status?token=s3cret-token")
        assert code == 200 and json.loads(body)["lines"] == 1500
        took = stop_and_time(proc)
        assert proc.returncode == 0 and took < 5.0
    finally:
        feed.close()
        if proc.poll() is None:
            proc.kill()


def test_serve_is_ready_while_redis_answers_and_says_so_when_not(server, tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([*MARITIME, "serve", "--redis", server.url, "--web", f"127.0.0.1:{port}",
                             "--triage", str(tmp_path / "t.sqlite")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        time.sleep(1.0)
        code, body = get(f"http://127.0.0.1:{port}/readyz")
        assert code == 200 and json.loads(body)["ready"]
        server.stop()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            code, body = get(f"http://127.0.0.1:{port}/readyz")
            if code == 503:
                break
            time.sleep(0.3)
        assert code == 503 and "Redis" in json.loads(body)["reasons"][0]
        fams = {f.name: f for f in text_string_to_metric_families(get(f"http://127.0.0.1:{port}/metrics")[1].decode())}
        assert fams["mda_feed_down"].samples[0].value == 1
        server.start()
    finally:
        if proc.poll() is None:
            stop_and_time(proc)
