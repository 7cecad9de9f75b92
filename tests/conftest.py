"""Shared fixtures: where the third-party data lives, and small builders."""

from __future__ import annotations

import asyncio
import functools
import json
import operator
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from datetime import UTC
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import redis
from aiohttp import web

from maritime.config import Settings
from maritime.delivery.webhook import verify
from maritime.geo import KN_TO_MS, destination
from maritime.models import Alert, Position, VesselInfo
from maritime.runtime.assembly import Assembly
from maritime.runtime.pipeline import Pipeline
from maritime.zones.index import ZoneIndex, parse_zone_features

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
NMEA_DIR = SHARED / "data" / "nmea"
#: the first lines of each shared recording, kept in the repository (tests/data/SOURCES.md)
EXCERPTS_DIR = ROOT / "tests" / "data" / "nmea"
ZONES_DIR = SHARED / "data" / "zones"
CONTRACTS = SHARED / "contracts"
#: Screenshots the browser tests save, to be looked at (not in git).
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(autouse=True, scope="session")
def _private_state_dir(tmp_path_factory) -> Any:
    """The per-user state folder (spool, live-map token) of the tests: their own, never the user's."""
    import os

    from maritime.paths import STATE_ENV

    old = os.environ.get(STATE_ENV)
    os.environ[STATE_ENV] = str(tmp_path_factory.mktemp("state"))
    yield
    if old is None:
        os.environ.pop(STATE_ENV, None)
    else:
        os.environ[STATE_ENV] = old


@pytest.fixture(scope="session")
def grid() -> Any:
    """The simulator's water grid (slow to build: once per process, shared with the arrivals boards)."""
    from maritime.geo.routing import shared_grid

    return shared_grid()


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory) -> Any:
    """One Apache Kafka broker for the session (KRaft, ``scripts/kafka-broker``: its jars from Maven Central, run
    with the machine's JDK), as ``host:port``. ``MARITIME_TEST_BROKER=noida`` (or a machine without java and mvn)
    uses the noida-db Kafka-protocol emulator of the [dev] extra instead."""
    import shutil

    folder = tmp_path_factory.mktemp("kafka")
    port = free_port()
    while port + 1 > 65535 or not _port_free(port + 1):
        port = free_port()
    if os.environ.get("MARITIME_TEST_BROKER") != "noida" and shutil.which("java") and shutil.which("mvn"):
        script = ROOT / "scripts" / "kafka-broker"
        got = subprocess.run([sys.executable, str(script), "start", str(folder), str(port)], capture_output=True,
                             text=True, timeout=600)
        if got.returncode != 0:
            raise RuntimeError(f"scripts/kafka-broker start failed: {got.stderr[-2000:]}")
        try:
            yield f"127.0.0.1:{port}"
        finally:
            subprocess.run([sys.executable, str(script), "stop", str(folder)], timeout=60)
        return
    try:
        import noida_db
    except ImportError:
        pytest.skip("no broker: neither java and mvn (scripts/kafka-broker) nor noida-db")
    binary = Path(noida_db.__file__).parent / "noida-db"
    log = (folder / "broker.log").open("w")
    proc = subprocess.Popen([str(binary), "start", "--data-dir", str(folder / "db"), "--only", "kafka",
                             "--kafka-port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(150):
            if not _port_free(port):
                break
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="session")
def zone_index() -> ZoneIndex:
    """The bundled zone set of the checkout."""
    from maritime.zones.index import load_zones

    return load_zones(ROOT / "geofences")


def wait_http(url: str, tries: int = 100, pause_s: float = 0.2) -> None:
    """Wait until ``url`` answers (a server started in another process), at most ``tries`` × ``pause_s``."""
    import urllib.request

    for _ in range(tries):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(pause_s)


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
    """The excerpts of the real NMEA recordings (in the repository: every clone has them)."""
    return sorted(p for p in EXCERPTS_DIR.iterdir() if p.is_file())


def full_recordings() -> list[Path]:
    """The whole real NMEA recordings in ../shared/data/nmea (empty when it is not beside the checkout)."""
    return sorted(NMEA_DIR.glob("*")) if NMEA_DIR.exists() else []


def recording_params() -> list[Any]:
    """Test parameters: every excerpt, then every whole recording (marked ``slow`` and ``shared_data``; skipped
    where ../shared is not), named ``excerpt:NAME`` and ``full:NAME``."""
    out = [pytest.param(p, id=f"excerpt:{p.name}") for p in recordings()]
    out += [pytest.param(NMEA_DIR / p.name, id=f"full:{p.name}", marks=[pytest.mark.slow, pytest.mark.shared_data])
            for p in recordings()]
    return out


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


# -- builders for hand-made tracks and sentences (shared by the test modules) ---------------------

T0 = 1_747_209_600.0  # 2025-05-14T08:00:00Z
A, B, C = 376000500, 377000700, 362001234



def zone(zid: str, kind: str, box: tuple[float, float, float, float], **props) -> dict:
    x0, y0, x1, y1 = box
    return {"type": "Feature", "properties": {"id": zid, "name": zid.upper(), "kind": kind, "alert_on": [], **props},
            "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}}


def zones(*features: dict) -> ZoneIndex:
    got, problems = parse_zone_features({"type": "FeatureCollection", "features": list(features)}, "test")
    assert not problems, problems
    return ZoneIndex(got)


def run_detectors(records: Iterable[Position | VesselInfo], zone_index: ZoneIndex | None = None,
        settings_: Settings | None = None) -> list[Alert]:
    s = settings_ or Settings()
    sink = Collect()
    pipe = Pipeline(s, assembly=Assembly(s, zone_index), sinks=[sink])
    for r in sorted(records, key=lambda r: r.time_s):
        pipe.process(r.time_s, (None, [r]))
    pipe.finish()
    schema = contract("alert.schema.json")
    for a in sink.alerts:
        jsonschema.validate(a.as_dict(), schema)
    return sink.alerts


def track(mmsi: int, t0: float, t1: float, step_s: float, lat: float, lon: float, sog_kn: float, cog_deg: float,
          status: int | None = 0, msg_type: int = 1) -> list[Position]:
    out = []
    t = t0
    while t < t1:
        d = sog_kn * KN_TO_MS * (t - t0)
        plat, plon = destination(lat, lon, cog_deg, d)
        out.append(Position(mmsi, t, plat, plon, sog_kn, cog_deg, int(cog_deg), status, msg_type, "test"))
        t += step_s
    return out


def static(mmsi: int, t: float, ship_type: int, name: str = "TEST") -> VesselInfo:
    return VesselInfo(mmsi=mmsi, time_s=t, name=name, ship_type=ship_type, msg_type=5, source="test")


def by_type(alerts: list[Alert], kind: str) -> list[Alert]:
    return [a for a in alerts if a.type == kind]


OPEN_SEA = (14.5, -66.0)  # far from land and ports


def meeting(hours: float, gap_m: float = 200.0, sog: float = 0.5) -> list[Position]:
    lat, lon = OPEN_SEA
    a = track(A, T0, T0 + hours * 3600, 10, lat, lon, sog, 45)
    blat, blon = destination(lat, lon, 90, gap_m)
    b = track(B, T0 + 7, T0 + hours * 3600, 180, blat, blon, sog, 45, msg_type=18, status=None)
    # then they part at 12 kn in opposite directions
    end = T0 + hours * 3600
    a += track(A, end, end + 1800, 10, a[-1].lat, a[-1].lon, 12, 0)
    b += track(B, end + 7, end + 1800, 30, b[-1].lat, b[-1].lon, 12, 180, msg_type=18, status=None)
    return a + b


def nmea(body: str, delim: str = "!") -> bytes:
    """A sentence with a correct checksum, computed independently of the code under test."""
    cs = functools.reduce(operator.xor, body.encode(), 0)
    return f"{delim}{body}*{cs:02X}".encode()


def tag(fields: str) -> bytes:
    cs = functools.reduce(operator.xor, fields.encode(), 0)
    return f"\\{fields}*{cs:02X}\\".encode()


def feed_lines(n: int) -> list[bytes]:
    """``n`` distinct tag-blocked type 1 sentences, one second apart."""
    return [tag(f"c:{1747209600 + i}") + nmea(f"AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00S{chr(97 + i)},0")
            for i in range(n)]


#: real sentences: a type 1 position, a type 18, and a type 5 in two parts
TYPE1 = b"!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5C"
TYPE18 = b"!AIVDM,1,1,,A,B6CdCm0t3`tba35f@V9faHi7kP06,0*58"
TYPE5 = (
    b"!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
    b"!AIVDM,2,2,1,A,88888888880,2*25",
)


BASE = 1747209600


def line(t: float, i: int, source: str = "rx1") -> bytes:
    """A type 1 sentence for MMSI 366053209 whose payload differs with ``i``, tagged at ``t``."""
    payload = "15M67FC000G?ufbE`FepT@3n00S" + "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW"[i % 40]
    return tag(f"s:{source},c:{int(t)}") + nmea(f"AIVDM,1,1,,A,{payload},0")


PORT_A = zone("port-a", "port", (-61.05, 13.95, -60.95, 14.05))
PORT_B = zone("port-b", "port", (-62.05, 12.95, -61.95, 13.05))


def info(mmsi, t, name, imo):
    return VesselInfo(mmsi=mmsi, time_s=t, name=name, imo=imo, ship_type=70, callsign="J8AB2", msg_type=5, source="t")


def renamed_vessel():
    recs = [info(376000500, T0, "OLD NAME", 9234567)]
    recs += track(376000500, T0, T0 + 2 * 3600, 60, 14.0, -61.0, 0.1, 0, status=5)  # in port A
    recs += track(376000500, T0 + 2 * 3600, T0 + 4 * 3600, 60, 14.1, -61.1, 12, 225)  # leaves
    # a day later, the same hull (IMO) with a new MMSI and name, calling at port B
    recs.append(info(377000700, T0 + 30 * 3600, "NEW NAME", 9234567))
    recs += track(377000700, T0 + 30 * 3600, T0 + 32 * 3600, 60, 13.0, -62.0, 0.1, 0, status=5)
    recs += track(377000700, T0 + 32 * 3600, T0 + 33 * 3600, 60, 13.1, -62.1, 12, 315)
    return recs


def default_mmsi_lines(n: int = 5) -> bytes:
    """A ship on the factory-default MMSI 123456789, off Castries: one identity_anomaly."""
    import numpy as np

    from maritime.sim.encode import position_payloads

    k = np.arange(n)
    pays = position_payloads(np.full(n, 123456789), 14.0 + 0.001 * k, np.full(n, -61.2), np.full(n, 10.0),
                             np.full(n, 90.0), np.full(n, 90), np.zeros(n, dtype=int), (BASE + 10 * k) % 60,
                             np.zeros(n, dtype=bool))
    return b"".join(tag(f"c:{BASE + 10 * i}") + nmea(f"AIVDM,1,1,,A,{pays[i].tobytes().decode()},0") + b"\n"
                    for i in range(n))


# -- the scripted voyage and a webhook receiver (shared by the voyage, arrivals, channel and stream tests) ----


def voyage_day(mmsi: int = 376000500) -> list:
    """A cargo ship at sea east of Saint Lucia declares Kingstown, goes dark for seven hours, reappears,
    changes its destination to Castries, and calls at Vieux Fort instead (declared neither)."""
    from maritime.models import Position, VesselInfo

    def decl(t: float, text: str) -> VesselInfo:
        return VesselInfo(mmsi, t, name="SEA BREEZE", callsign="J8AB", ship_type=70, destination=text,
                          eta_s=t + 86400, msg_type=5, source="test")

    # static reports come every six minutes: each declaration is heard twice
    recs: list = [decl(T0 + 360 * k, "KINGSTOWN@@@@@@@@@@@") for k in range(3)]
    recs += track(mmsi, T0, T0 + 3 * 3600, 600, 13.30, -60.20, 8.0, 270.0)
    t = T0 + 10 * 3600  # seven hours dark
    a, b = (13.40, -60.70), (13.723, -60.955)
    n = 12
    for k in range(n + 1):
        f = k / n
        recs.append(Position(mmsi, t + 600 * k, a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, 8.0, 320.0, 320,
                             0, 1, "test"))
    recs += [decl(t + 300 + 360 * k, "LC CAS") for k in range(3)]  # Castries, after the silence
    for k in range(1, 4):  # in the port of Vieux Fort, stopped
        recs.append(Position(mmsi, t + 600 * n + 300 * k, 13.723, -60.955, 0.3, 0.0, 0, 5, 1, "test"))
    # another ship on passage keeps the feed's clock going while the first is dark (as real feeds do)
    recs += track(mmsi + 1, T0, t + 600 * n + 1200, 600, 15.5, -62.0, 10.0, 270.0)
    return recs


def nmea_of(records: list) -> list[bytes]:
    """Records as tagged NMEA lines (type 1 positions, type 5 declarations with their ETA), in time order."""
    from datetime import datetime as _dt

    from pyais import encode_dict

    from maritime.models import Position

    out = []
    for r in sorted(records, key=lambda r: r.time_s):
        tag = f"\\c:{int(r.time_s)}*00\\"
        if isinstance(r, Position):
            msg = {"msg_type": 1, "mmsi": r.mmsi, "lat": r.lat, "lon": r.lon, "speed": r.sog_kn, "course": r.cog_deg,
                   "heading": r.heading_deg if r.heading_deg is not None else 511, "status": r.nav_status or 0}
        else:
            eta = _dt.fromtimestamp(r.eta_s, UTC) if r.eta_s else None
            msg = {"msg_type": 5, "mmsi": r.mmsi, "shipname": r.name or "", "callsign": r.callsign or "",
                   "ship_type": r.ship_type or 0, "destination": r.destination or "",
                   **({"month": eta.month, "day": eta.day, "hour": eta.hour, "minute": eta.minute} if eta else {})}
        out.extend((tag + s).encode() for s in encode_dict(msg))
    return out


class Receiver:
    """A local aiohttp endpoint that fails the first N calls and checks every signature."""

    def __init__(self, secret: str, fail_first: int) -> None:
        self.secret = secret
        self.fail_first = fail_first
        self.calls = 0
        self.bad_signatures = 0
        self.ids: set[str] = set()
        self.bodies: list[bytes] = []
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        body = await request.read()
        if not verify(self.secret, request.headers["X-MDA-Timestamp"], body, request.headers["X-MDA-Signature"]):
            self.bad_signatures += 1
            return web.Response(status=401)
        if self.calls <= self.fail_first:
            return web.Response(status=503)
        self.ids.add(request.headers["X-MDA-Alert-Id"] + "|" + request.headers["X-MDA-Alert-Status"])
        self.bodies.append(body)
        return web.Response(status=204)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._started.set()
        self._loop.run_forever()

    def __enter__(self) -> Receiver:
        self._thread.start()
        self._started.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)


# -- the default run, the slow tests and the shared data ----------------------------------------------------
#
# ``pytest`` runs tests/unit and tests/integration, less the tests marked ``slow``; ``pytest --all`` (or
# ``pytest -m slow`` for the slow ones alone) runs the rest: tests/e2e (every test there is slow) and the long
# scenarios. Tests marked ``shared_data`` read the whole third-party files of ../shared/data and are skipped,
# counted in one line, where that folder is not beside the checkout.


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--all", action="store_true", default=False,
                     help="run every test, the slow ones (tests/e2e, long scenarios) too")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if (ROOT / "tests" / "e2e") in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("shared_data") is not None and not SHARED.is_dir():
            item.add_marker(pytest.mark.skip(reason="needs the whole third-party files of ../shared/data"))
    if config.getoption("--all") or config.option.markexpr:
        return
    slow = [i for i in items if i.get_closest_marker("slow") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [i for i in items if i.get_closest_marker("slow") is None]
        config.stash[_SLOW_LEFT] = len(slow)


_SLOW_LEFT = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    left = config.stash.get(_SLOW_LEFT, 0)
    if left:
        terminalreporter.write_line(f"{left} slow tests not run (tests/e2e and long scenarios): pytest --all runs "
                                    "every test, pytest -m slow the slow ones")
    skipped = terminalreporter.stats.get("skipped", [])
    shared = sum(1 for r in skipped if "shared_data" in getattr(r, "keywords", {})
                 and "../shared/data" in str(getattr(r, "longrepr", "")))  # skipped for that, not another reason
    if shared:
        terminalreporter.write_line(f"{shared} tests need the whole third-party files of ../shared/data, which is not "
                                    "beside this checkout: skipped (tests/data holds their excerpts)")
