"""The Faust runtime on Apache Kafka (``scripts/kafka-broker``), compared with the embedded replay.

Each test gets its own app id and topic prefix. Workers and the ingest run
as the commands users run (``maritime worker``, ``maritime ingest``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from maritime.geo.routing import WaterGrid
from maritime.sim.simulator import Simulator
from maritime.zones.index import load_zones
from tests.conftest import ROOT, free_port, nmea_of, voyage_day

#: every test here runs Faust workers on a broker: minutes, left to the slow run
pytestmark = pytest.mark.slow

ZONES = ROOT / "geofences"
RANK = {"open": 0, "update": 1, "cancelled": 2, "closed": 3}


def wait_port(port: int, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port}")


@pytest.fixture(scope="module")
def broker(kafka_broker):
    """The session's Apache Kafka broker (``scripts/kafka-broker``, see ``tests/conftest.py``)."""
    return kafka_broker


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    sim = Simulator(8, 60, seed=5, zones=load_zones(ZONES), grid=WaterGrid())
    sim.build()
    sim.write(out)
    return out / "traffic.nmea"


def rejected(files: list[Path]) -> Counter[str]:
    """Dead letters by reason, over several files."""
    return Counter(json.loads(x)["reason"] for f in files if f.exists() for x in f.read_text().splitlines())


@pytest.fixture(scope="module")
def embedded_dir(day, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("embedded")
    subprocess.run([sys.executable, "-m", "maritime.cli", "replay", str(day), "--zones", str(ZONES),
                    "--alerts", str(out / "alerts.jsonl"), "--dead-letter", str(out / "dead.jsonl"), "-q"], check=True)
    return out


@pytest.fixture(scope="module")
def reference(embedded_dir) -> dict[str, str]:
    got = final([embedded_dir / "alerts.jsonl"])
    assert {i.split(":")[0] for i in got} >= {"dark_gap", "rendezvous", "geofence_entry"}, got
    return got


def final(files: list[Path]) -> dict[str, str]:
    """Alert id -> last status, over the alert files of several workers (the latest record wins)."""
    best: dict[str, tuple[str, int, str]] = {}
    for f in files:
        if not f.exists():
            continue
        for line in f.read_text(encoding="utf-8").splitlines():
            a = json.loads(line)
            key = (a["time"], RANK[a["status"]], a["status"])
            if a["id"] not in best or key > best[a["id"]]:
                best[a["id"]] = key
    return {k: v[2] for k, v in best.items()}


class Cluster:
    """Workers of one app on the test broker."""

    def __init__(self, broker: str, tmp: Path, partitions: int) -> None:
        self.broker = broker
        self.tmp = tmp
        self.partitions = partitions
        tag = uuid.uuid4().hex[:8]
        self.common = ["--kafka", broker, "--partitions", str(partitions), "--topic-prefix", f"t{tag}.",
                       "--app-id", f"mda-test-{tag}"]
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.files: list[Path] = []
        self._n = 0

    def start_worker(self, instance: str | None = None, extra: tuple[str, ...] = ()) -> int:
        k = self._n
        self._n += 1
        alerts = self.tmp / f"worker{k}.jsonl"
        self.files.append(alerts)
        log = (self.tmp / f"worker{k}.log").open("w")
        self.procs[k] = subprocess.Popen(
            [sys.executable, "-m", "maritime.cli", "worker", *self.common, "--alerts", str(alerts),
             "--dead-letter", str(self.tmp / f"dead{k}.jsonl"),
             "--zones", str(ZONES), "--data-dir", str(self.tmp / f"data{k}"), "--session-timeout", "8", "-v",
             *(["--instance-id", instance] if instance else []), *extra],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        return k

    def wait_assigned(self, k: int, timeout: float = 90.0) -> None:
        """Until worker ``k`` has its partitions (Faust prints the assignment table)."""
        log = self.tmp / f"worker{k}.log"
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if "Setting newly assigned partitions" in log.read_text(errors="replace"):
                time.sleep(2.0)
                return
            if self.procs[k].poll() is not None:
                raise AssertionError(f"worker {k} died:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)
        raise AssertionError(f"worker {k} got no partitions in {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")

    def ingest(self, path: Path, *extra: str, wait: bool = True) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-m", "maritime.cli", "ingest", str(path), *self.common,
                                 "--batch-lines", "1500", *extra])
        if wait:
            assert proc.wait(180) == 0
        return proc

    def kill(self, k: int) -> None:
        self.procs[k].send_signal(signal.SIGKILL)
        self.procs[k].wait(10)

    def wait_for(self, expected: dict[str, str], timeout: float = 150.0) -> dict[str, str]:
        """Poll the workers' alert files until they give ``expected`` and stay so; return what they give."""
        end = time.monotonic() + timeout
        got: dict[str, str] = {}
        while time.monotonic() < end:
            got = final(self.files)
            if got == expected:
                time.sleep(3.0)  # nothing more arrives
                return final(self.files)
            for k, p in self.procs.items():
                if p.poll() is not None and p.returncode != -signal.SIGKILL:
                    log = (self.tmp / f"worker{k}.log").read_text(errors="replace")
                    raise AssertionError(f"worker {k} exited {p.returncode}:\n{log[-3000:]}")
            time.sleep(1.0)
        return got

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture
def cluster_factory(broker, tmp_path):
    made: list[Cluster] = []

    def make(partitions: int) -> Cluster:
        c = Cluster(broker, tmp_path, partitions)
        made.append(c)
        return c

    yield make
    for c in made:  # an idle consumer on this broker spins: stop at once
        c.stop()


@pytest.mark.parametrize(("partitions", "workers", "lanes"), [(1, 1, 1), (4, 2, 1), (4, 2, 3)])
def test_workers_give_the_alerts_of_the_embedded_replay(cluster_factory, day, reference, embedded_dir, partitions,
                                                        workers, lanes):
    """Also with the one recording split over three lanes, so that both workers decode it. The first worker serves
    its metrics: its consumer lag per partition is back to 0 and it says it has caught up."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    c = cluster_factory(partitions)
    port = free_port()
    for k in range(workers):
        c.wait_assigned(c.start_worker(extra=("--metrics", f"127.0.0.1:{port}") if k == 0 else ()))
    c.wait_assigned(0)
    c.ingest(day, "--lanes", str(lanes))
    assert c.wait_for(reference) == reference
    deadline = time.monotonic() + 60
    logs = ""
    while time.monotonic() < deadline:
        logs = "".join((c.tmp / f"worker{k}.log").read_text(errors="replace") for k in c.procs)
        if "caught up:" in logs:
            break
        time.sleep(1.0)
    assert "caught up:" in logs
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        fams = {f.name: f for f in text_string_to_metric_families(r.read().decode())}
    lags = fams["mda_consumer_lag"].samples
    assert lags and all(x.value == 0 for x in lags)
    assert fams["mda_worker_lines"].samples[0].value > 0
    # every rejected line is in a worker's dead-letter file, as in the embedded run's
    expected = rejected([embedded_dir / "dead.jsonl"])
    assert sum(expected.values()) > 0
    assert rejected([c.tmp / f"dead{k}.jsonl" for k in c.procs]) == expected


def test_a_killed_worker_recovers_its_tables_and_loses_no_alert(cluster_factory, day, reference):
    c = cluster_factory(2)
    c.wait_assigned(c.start_worker("worker-a"))
    feed = c.ingest(day, "--rate", "2400", wait=False)  # 8 h of traffic in about 12 s
    deadline = time.monotonic() + 60
    while not any(f.exists() and f.stat().st_size for f in c.files) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert feed.poll() is None, "the replay ended before the worker was killed: slow it down"
    c.kill(0)  # mid-replay, no goodbye: tables only in their changelogs
    # restarted under the same instance id (static membership; noida-db never evicts a dead member
    # otherwise, where Kafka would after the session timeout), in a new process with an empty data folder
    c.wait_assigned(c.start_worker("worker-a"))
    assert feed.wait(120) == 0
    got = c.wait_for(reference)
    assert got == reference
    log = (c.tmp / "worker1.log").read_text(errors="replace")
    assert "restored from the table" in log  # the new process started from the changelogs, not from nothing
    ids_before = {json.loads(x)["id"] for x in c.files[0].read_text().splitlines()}
    assert ids_before and ids_before <= set(reference)  # what was delivered before the kill has the same ids


def test_live_tcp_feed_reaches_the_raw_topic_with_receive_times(broker, tmp_path):
    """``maritime ingest tcp://…``: lines from a live feed go out in batches, each line with its receive time."""
    import asyncio

    from aiokafka import AIOKafkaConsumer

    from tests.conftest import feed_lines

    lines = feed_lines(20)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    tag = uuid.uuid4().hex[:8]
    prefix = f"live{tag}."
    before = time.time()
    ingest = subprocess.Popen([sys.executable, "-m", "maritime.cli", "ingest", f"tcp://127.0.0.1:{port}",
                               "--kafka", broker, "--partitions", "2", "--topic-prefix", prefix,
                               "--app-id", f"live-{tag}"])
    try:
        conn, _ = srv.accept()
        conn.sendall(b"".join(line + b"\r\n" for line in lines))

        async def read() -> list[dict]:
            consumer = AIOKafkaConsumer(f"{prefix}raw", bootstrap_servers=broker, auto_offset_reset="earliest",
                                        group_id=None)
            await consumer.start()
            got: list[dict] = []
            try:
                end = time.monotonic() + 60
                while sum(len(c["lines"]) for b in got for c in b["chunks"]) < len(lines) and time.monotonic() < end:
                    for recs in (await consumer.getmany(timeout_ms=500)).values():
                        got.extend(json.loads(r.value) for r in recs)
            finally:
                await consumer.stop()
            return got

        batches = asyncio.run(read())
        conn.close()
    finally:
        ingest.terminate()
        ingest.wait(20)
        srv.close()
    chunks = [c for b in batches for c in b["chunks"]]
    assert [ln.encode("latin-1") for c in chunks for ln in c["lines"]] == lines
    assert all(c["source"] == f"tcp://127.0.0.1:{port}" for c in chunks)
    assert all(before <= t <= time.time() for c in chunks for t in c["recv_times"])
    assert not any(b["end"] for b in batches)  # a live feed never ends a replay


def last_records(files: list[Path]) -> dict[str, dict]:
    """Alert id -> its latest record, over several alert files."""
    best: dict[str, tuple[tuple[str, int], dict]] = {}
    for f in files:
        if not f.exists():
            continue
        for line in f.read_text(encoding="utf-8").splitlines():
            a = json.loads(line)
            key = (a["time"], RANK[a["status"]])
            if a["id"] not in best or key > best[a["id"]][0]:
                best[a["id"]] = (key, a)
    return {k: v[1] for k, v in best.items()}


def test_a_worker_with_a_watchlist_profiles_and_risk_weights_gives_the_embedded_alerts(
        cluster_factory, day, embedded_dir, tmp_path):
    """The worker is assembled as the embedded run is: the same watchlist hits, severities, details.watchlist
    and details.risk (profiles in a SQLite file of its own)."""
    plain = [json.loads(x) for x in (embedded_dir / "alerts.jsonl").read_text().splitlines()]
    met = next(a for a in plain if a["type"] == "rendezvous")
    listed = met["vessels"][0]["mmsi"]
    (tmp_path / "wl.csv").write_text("kind,value,reason,source,severity,expires\n"
                                     f"mmsi,{listed},suspected transshipment,regional bulletin,high,\n")
    cfg = tmp_path / "settings.toml"
    cfg.write_text(f'watchlists = ["{tmp_path / "wl.csv"}"]\n[risk_weights]\nrendezvous = 40.0\ndark_gap = 25.0\n')
    emb = tmp_path / "embedded.jsonl"
    subprocess.run([sys.executable, "-m", "maritime.cli", "replay", str(day), "--zones", str(ZONES), "--config",
                    str(cfg), "--profiles", str(tmp_path / "embedded.sqlite"), "--alerts", str(emb), "-q"], check=True)
    expected = last_records([emb])
    assert any(a["type"] == "watchlist_hit" for a in expected.values())
    enriched = [a for a in expected.values() if a["type"] != "watchlist_hit" and a["details"].get("watchlist")]
    assert enriched, "an alert of the listed vessel carries its watchlist entry"
    assert any(a["details"].get("risk") for a in expected.values())

    c = cluster_factory(1)
    c.common += ["--config", str(cfg)]
    c.wait_assigned(c.start_worker(extra=("--profiles", str(tmp_path / "worker.sqlite"))))
    c.ingest(day)
    got_status = c.wait_for({i: a["status"] for i, a in expected.items()})
    assert got_status == {i: a["status"] for i, a in expected.items()}
    got = last_records(c.files)
    for i, a in expected.items():
        b = got[i]
        assert (b["severity"], b["details"].get("watchlist")) == (a["severity"], a["details"].get("watchlist")), i
        rb, ra = without_tile_events(b["details"].get("risk")), without_tile_events(a["details"].get("risk"))
        assert (rb is None) == (ra is None), i
        for mmsi, r in (ra or {}).items():  # the top factors are the first few: one shown less when a tile one led
            assert rb is not None and rb[mmsi]["score"] == r["score"], i
            assert rb[mmsi]["top_factors"][:len(r["top_factors"])] == r["top_factors"], i


#: profile factors that come from the tile stage (rendezvous, loitering): a vessel-stage alert raised soon after
#: one, in event time, may be enriched before the worker's tile stage has recorded it (the stages run as
#: separate agents; the embedded run has them in one sequence). Its risk is compared without them.
TILE_FACTORS = ("rendezvous", "loitering")


def without_tile_events(risk: dict | None) -> dict | None:
    if not risk:
        return risk
    out = {}
    for mmsi, r in risk.items():
        tile = sum(f["points"] for f in r["top_factors"] if f["factor"] in TILE_FACTORS)
        out[mmsi] = {"score": round(r["score"] - tile, 1),
                     "top_factors": [f for f in r["top_factors"] if f["factor"] not in TILE_FACTORS]}
    return out


def test_a_worker_raises_arrival_risk_and_sends_the_daily_board_as_the_embedded_run(cluster_factory, tmp_path,
                                                                                   server):
    """The scripted voyage (dark, destination changed at sea): the worker's arrivals agent gives the embedded
    run's arrival_risk records and puts the same daily board in the centre's Redis stream."""
    import redis


    day = tmp_path / "voyage.nmea"
    day.write_bytes(b"\n".join(nmea_of(voyage_day())) + b"\n")
    cfg = tmp_path / "settings.toml"
    cfg.write_text('[arrivals]\ndaily_at = "19:00"\n\n[delivery]\nspool_dir = "' + str(tmp_path / "spool") +
                   '"\n\n[[subscriptions]]\nid = "lc-mpu"\narrivals = ["LCCAS", "LCVIF"]\n')
    emb = tmp_path / "embedded.jsonl"
    subprocess.run([sys.executable, "-m", "maritime.cli", "replay", str(day), "--zones", str(ZONES), "--config",
                    str(cfg), "--alerts", str(emb), "--boards", str(tmp_path / "boards"), "-q"], check=True)
    expected = last_records([emb])
    risks = {i: a for i, a in expected.items() if a["type"] == "arrival_risk"}
    assert risks
    (board_file,) = sorted((tmp_path / "boards").glob("*.json"))
    board = json.loads(board_file.read_text())

    c = cluster_factory(2)
    c.common += ["--config", str(cfg)]
    c.wait_assigned(c.start_worker(extra=("--redis", server.url)))
    c.ingest(day, "--batch-lines", "40")
    assert c.wait_for({i: a["status"] for i, a in expected.items()}) == {i: a["status"] for i, a in expected.items()}
    got = last_records(c.files)
    for i, a in risks.items():
        assert (got[i]["severity"], got[i]["time"], got[i]["details"]) == (a["severity"], a["time"], a["details"]), i
    r = redis.Redis.from_url(server.url)
    deadline = time.monotonic() + 30
    while not r.xlen("mda:arrivals:lc-mpu") and time.monotonic() < deadline:
        time.sleep(0.5)
    (entry,) = r.xrange("mda:arrivals:lc-mpu")
    assert json.loads(entry[1][b"board"]) == board


def test_a_worker_and_a_live_ingest_stop_within_5_s(cluster_factory, tmp_path):
    """SIGTERM: a worker (assigned, idle) and an ingest following a silent TCP feed both exit 0 within 5 s."""
    import signal

    from tests.conftest import BASE, line
    from tests.integration.cli.test_stop import QuietFeed

    c = cluster_factory(2)
    k = c.start_worker()
    c.wait_assigned(k)
    feed = QuietFeed([line(BASE + i, i) for i in range(200)])
    ing = subprocess.Popen([sys.executable, "-m", "maritime.cli", "ingest", f"tcp://127.0.0.1:{feed.port}",
                            *c.common], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert feed.sent.wait(60)
        time.sleep(3.0)
        for proc in (ing, c.procs[k]):
            t = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(30)
            took = time.monotonic() - t
            assert rc == 0 and took < 5.0, (proc.args[:4], rc, took)
        assert json.loads(ing.stdout.read().decode().strip().splitlines()[-1])["lines"] == 200
    finally:
        feed.close()
        if ing.poll() is None:
            ing.kill()


def test_one_of_two_workers_dies_and_the_survivor_carries_on(cluster_factory, day, reference, tmp_path):
    """Two workers share four partitions; one is killed (-9) mid-day. The group rebalances after the session
    timeout, the survivor restores the dead worker's tables from their changelogs and carries on: the alerts
    together equal the embedded replay's, a gap opened before the kill closes once with its id, the lag is
    visible (log and metrics) and the survivor says it has caught up; a restarted worker rejoins."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    c = cluster_factory(4)
    port = free_port()
    quick = ("--session-timeout", "8")
    a = c.start_worker(extra=(*quick, "--metrics", f"127.0.0.1:{port}"))
    b = c.start_worker(extra=quick)
    c.wait_assigned(a)
    c.wait_assigned(b)
    feed = c.ingest(day, "--rate", "1200", wait=False)  # 8 h of traffic in about 24 s
    deadline = time.monotonic() + 60
    while not any(f.exists() and f.stat().st_size for f in c.files) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert feed.poll() is None, "the replay ended before a worker was killed: slow it down"
    before = {json.loads(x)["id"] for f in c.files if f.exists() for x in f.read_text().splitlines()}
    c.kill(b)
    assert feed.wait(180) == 0
    got = c.wait_for(reference, timeout=240)
    if got != reference and c.procs[a].poll() is None:
        c.procs[a].send_signal(signal.SIGUSR1)  # the survivor logs its tasks' awaits and what each stage waits for
        time.sleep(2.0)
    assert got == reference, "the survivor's log ends:\n" + (c.tmp / f"worker{a}.log").read_text(
        errors="replace")[-12_000:]
    # every id delivered more than once is the same id and status again (the sinks make those idempotent)
    seen: dict[str, list[str]] = {}
    for f in c.files:
        for x in f.read_text().splitlines() if f.exists() else []:
            r = json.loads(x)
            seen.setdefault(r["id"], []).append(r["status"])
    for i, statuses in seen.items():
        firsts = [s for k, s in enumerate(statuses) if s not in statuses[:k]]
        assert firsts.count("open") <= 1 and firsts.count("closed") <= 1, (i, statuses)
    gaps_open_before = {i for i in before if i.startswith("dark_gap:")}
    for i in gaps_open_before:
        assert reference[i] == got[i] and seen[i].count("closed") >= 1
    log_a = (c.tmp / f"worker{a}.log").read_text(errors="replace")
    assert "restored from the table" in log_a or "Setting newly assigned partitions" in log_a
    deadline = time.monotonic() + 60
    while "caught up:" not in log_a and time.monotonic() < deadline:
        time.sleep(1.0)
        log_a = (c.tmp / f"worker{a}.log").read_text(errors="replace")
    assert "caught up:" in log_a
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        fams = {f.name: f for f in text_string_to_metric_families(r.read().decode())}
    lags = fams["mda_consumer_lag"].samples
    assert lags and all(s.value == 0 for s in lags)
    assert {s.labels["partition"] for s in lags} >= {"0", "1", "2", "3"}
    # a restarted worker rejoins the group and gets partitions again
    c.wait_assigned(c.start_worker(extra=quick))
