"""Shared fixtures: where the third-party data lives, and small builders."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from maritime.config import Settings
from maritime.models import Alert
from maritime.runtime.assembly import Assembly
from maritime.runtime.pipeline import Pipeline
from maritime.zones.index import ZoneIndex

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
NMEA_DIR = SHARED / "data" / "nmea"
ZONES_DIR = SHARED / "data" / "zones"
CONTRACTS = SHARED / "contracts"
#: Screenshots the browser tests save, to be looked at (not in git).
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def grid() -> Any:
    """The simulator's water grid (slow to build: once per run)."""
    from maritime.sim.network import WaterGrid

    return WaterGrid()


@pytest.fixture(scope="session")
def zone_index() -> ZoneIndex:
    """The bundled zone set of the checkout."""
    from maritime.zones.index import load_zones

    return load_zones(ROOT / "geofences")


def shared_file(path: Path) -> Path:
    """A file from ../shared, or skip the test with the reason."""
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/data is provided beside the checkout)")
    return path


def contract(name: str) -> dict:
    """A JSON Schema from ../shared/contracts, or the project's copy in docs/contracts."""
    for base in (CONTRACTS, ROOT / "docs" / "contracts"):
        p = base / name
        if p.exists():
            return json.loads(p.read_text())
    pytest.skip(f"contract {name} not found")
    raise AssertionError  # unreachable


def recordings() -> list[Path]:
    """The real NMEA recordings in ../shared/data/nmea (empty when absent)."""
    return sorted(NMEA_DIR.glob("*")) if NMEA_DIR.exists() else []


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Collect:
    """A sink that keeps the alerts it is given."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def write(self, alert: Alert) -> None:
        self.alerts.append(alert)

    def close(self) -> None:
        pass


def assembled_pipeline(settings: Settings, sinks: list, dead: Any = None, zones: ZoneIndex | None = None,
                       watchlists: list[Path] | None = None, profiles: Path | None = None,
                       redis_url: str | None = None) -> Pipeline:
    """The embedded pipeline as ``maritime replay`` assembles it."""
    assembly = Assembly.from_settings(settings, zones, watchlists=watchlists or [], profiles=profiles,
                                      redis_url=redis_url)
    return Pipeline(settings, assembly=assembly, sinks=sinks, on_reject=dead)


class RedisServer:
    """A real redis-server on a free port, which tests may stop and start again."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.dir = tmp
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def server(tmp_path):
    srv = RedisServer(tmp_path)
    srv.start()
    yield srv
    srv.stop()
