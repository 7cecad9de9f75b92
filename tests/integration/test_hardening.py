"""Bounded under floods: orphan fragments cost constant time each, and no line is held whole past 16 KB."""

from __future__ import annotations

import shutil

import pytest

from maritime.config import Settings
from maritime.ingest.ais import AisDecoder
from maritime.ingest.errors import DecodeStats
from maritime.ingest.sources import MAX_LINE_BYTES, parse_source
from maritime.sim.encode import checksum, tag_block
from tests.conftest import Collect, assembled_pipeline

GOOD = b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"


def fragment(i: int, t: int) -> bytes:
    """Fragment 1 of 2 of a message that never completes, under a talker, channel and id of its own."""
    talker = bytes([65 + i % 26, 65 + i // 26 % 26]).decode()
    body = (f"{talker}VDM,2,1,{i // 676 % 10},{'AB'[i // 6760 % 2]},"
            "55?t0002:AQ3<HIK<01<5<4q5D40000000000016:0j??4VcNA?RT85BhP0000,0").encode()
    return tag_block(f"c:{t}") + b"!" + body + b"*" + f"{checksum(body):02X}".encode()


def test_a_flood_of_orphan_fragments_is_counted_and_swept_without_rescanning():
    stats = DecodeStats()
    dec = AisDecoder("flood", stats=stats, fragment_timeout_s=60.0, max_pending=1_000)
    t0 = 1_700_000_000
    visits = 0
    pending = dec._pending

    class Counting(dict):  # counts how many pending entries the sweeps look at
        def items(self):
            for kv in super().items():
                nonlocal visits
                visits += 1
                yield kv

    dec._pending = Counting(pending)
    n = 13_520
    for i in range(n):
        dec.decode_line(fragment(i, t0 + i // 100))
    dec.close()
    assert stats.rejected == {"orphan_fragment": n}
    assert visits <= 3 * n  # each sweep stops at the first fragment still waiting: linear, not quadratic


def test_a_huge_line_is_cut_and_rejected_and_the_next_line_is_read(tmp_path):
    p = tmp_path / "huge.nmea"
    p.write_bytes(GOOD + b"\n" + b"!" + b"A" * (4 * 1024 * 1024) + b"\n" + GOOD.replace(b"A,15R", b"B,15R") + b"\n")
    sink = Collect()
    summary = assembled_pipeline(Settings(), [sink]).replay(parse_source(str(p)))
    assert summary["lines"] == 3
    assert sum(summary["rejected"].values()) >= 1
    assert MAX_LINE_BYTES == 16_384


def _alert_doc(i: int) -> dict:
    return {"id": f"rendezvous:test-{i}", "type": "rendezvous", "status": "open", "severity": "high",
            "time": "2025-05-14T08:00:00Z", "start": "2025-05-14T06:00:00Z", "end": None,
            "vessels": [{"mmsi": 376000500 + i}], "position": {"lat": 14.0, "lon": -61.5}, "zone": None,
            "summary": f"test {i}", "details": {}}


@pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed "
                    "(.ci/run installs Debian's redis-server)")
def test_serve_follows_redis_across_a_restart_and_resumes_after_the_last_alert(server):
    """The live map's Redis consumer: a Redis restart is reported, retried, and no alert after it is missed."""
    import asyncio
    import json

    import redis

    from maritime.views.web import LiveState, follow_redis

    state = LiveState()

    feed_events: list[str] = []

    async def scenario() -> None:
        stop = asyncio.Event()
        page = state.subscribe()  # an open page: its status line hears of the outage
        task = asyncio.create_task(follow_redis(state, server.url, stop, poll_s=0.2))
        client = redis.Redis.from_url(server.url)
        client.xadd("mda:alerts", {"alert": json.dumps(_alert_doc(1))})
        for _ in range(100):
            if "rendezvous:test-1" in state.alerts:
                break
            await asyncio.sleep(0.05)
        server.stop()
        for _ in range(100):
            if state.feed_down:
                break
            await asyncio.sleep(0.05)
        assert state.feed_down
        server.start()  # the same port; AOF keeps the stream
        redis.Redis.from_url(server.url).xadd("mda:alerts", {"alert": json.dumps(_alert_doc(2))})
        for _ in range(400):
            if "rendezvous:test-2" in state.alerts:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 10)
        while not page.empty():
            ev, data = page.get_nowait()
            if ev == "feed":
                feed_events.append(data)

    asyncio.run(scenario())
    assert feed_events == ['{"down": true}', '{"down": false}']
    assert list(state.alerts) == ["rendezvous:test-1", "rendezvous:test-2"]
    assert not state.feed_down


def test_serve_refuses_a_url_that_is_not_redis():
    from typer.testing import CliRunner

    from maritime.cli import app

    res = CliRunner().invoke(app, ["serve", "--redis", "notaurl", "--duration", "1"])
    assert res.exit_code == 2 and "not a Redis URL" in res.output


async def test_localhost_mode_refuses_cross_site_changes_and_foreign_host_names():
    """No token on localhost: a page on another site can neither ack an alert (CSRF) nor reach the server under
    its own name (DNS rebinding); every response carries a strict CSP."""
    import aiohttp

    from maritime.models import Alert, VesselRef
    from maritime.views.web import PAGE, LiveState, make_app, start_server
    from tests.conftest import free_port

    state = LiveState()
    state.write(Alert("rendezvous:1", "rendezvous", "open", "high", 1.747e9, 1.747e9, None,
                      (VesselRef(376000500),), 14.0, -61.0, "a meeting"))
    port = free_port()
    runner = await start_server(make_app(state, hosts=["127.0.0.1"]), "127.0.0.1", port)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as s:
            async with s.get(base + "/") as r:
                csp = r.headers["Content-Security-Policy"]
                assert r.status == 200 and "frame-ancestors 'none'" in csp and "script-src 'self';" in csp
                assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
                assert "img-src 'self' data:;" in csp and r.headers["X-Frame-Options"] == "DENY"
            ack = base + "/api/alerts/rendezvous:1/ack"
            # a "simple" cross-site request, as a browser sends it without a preflight
            async with s.post(ack, data="x", headers={"Origin": "http://evil.example",
                                                      "Content-Type": "text/plain"}) as r:
                assert r.status == 403
            async with s.post(ack, headers={"Sec-Fetch-Site": "cross-site"}) as r:
                assert r.status == 403
            assert "rendezvous:1" not in state.acked
            async with s.get(base + "/api/alerts", headers={"Host": "evil.example"}) as r:
                assert r.status == 421
            async with s.get(base + "/api/alerts", headers={"Host": f"localhost:{port}"}) as r:
                assert r.status == 200
            async with s.post(ack, headers={"Origin": base}) as r:  # the page itself, but nobody named
                assert r.status == 400 and "officer" in await r.text()
            async with s.post(ack, headers={"Origin": base}, json={"officer": "Lt. Joseph"}) as r:
                assert r.status == 200 and (await r.json())["officer"] == "Lt. Joseph"
            assert "rendezvous:1" in state.acked
            async with s.post(base + "/api/alerts/rendezvous:1/triage", headers={"Origin": base},
                              data="not json") as r:
                assert r.status == 400
    finally:
        await runner.cleanup()
    assert "<script>" not in PAGE and all("src=" in tag for tag in PAGE.split("<script")[1:])


def test_silent_vessels_are_evicted_unless_a_gap_is_open_and_a_flood_of_forged_mmsis_leaves_no_state():
    """2,000 forged MMSIs heard once, a ship that goes dark while under way, one that keeps reporting: a day
    later the forged ones are gone from every detector, the dark ship's gap is kept and closes when it is back."""
    from maritime.config import Settings
    from maritime.models import Position
    from maritime.runtime.assembly import Assembly
    from maritime.runtime.pipeline import Pipeline
    from tests.conftest import OPEN_SEA, T0, Collect, by_type, track

    s = Settings.model_validate({"identity": {"land_check": False}, "evict_after_h": 24})
    sink = Collect()
    pipe = Pipeline(s, assembly=Assembly(s), sinks=[sink])
    recs: list = [Position(200_000_000 + i, T0 + i * 0.01, 14.0 + (i % 100) * 0.01, -66.0 + (i // 100) * 0.01,
                           5.0, 90.0, None, 0, 1, "flood") for i in range(2000)]
    dark = track(376000500, T0, T0 + 3600, 60, *OPEN_SEA, 12, 90)  # under way, then silent for 40 h
    steady = track(377000700, T0, T0 + 44 * 3600, 600, 15.5, -66.0, 0.1, 0, status=5)
    back = track(376000500, T0 + 41 * 3600, T0 + 42 * 3600, 60, 14.5, -64.0, 12, 90)
    for r in sorted([*recs, *dark, *steady, *back], key=lambda r: r.time_s):
        pipe.process(r.time_s, (None, [r]))
        if r.time_s == back[0].time_s:
            assert pipe.chain.evicted >= 2000
            assert set(pipe.tracker.vessels) == {376000500, 377000700}
            gaps = next(d for d in pipe.chain.detectors if d.name == "gaps")
            ident = next(g for g in pipe.chain.gates if g.name == "identity")
            assert set(gaps.state) == {376000500, 377000700} and len(ident.state) <= 2
    pipe.finish()
    gap = by_type(sink.alerts, "dark_gap")
    assert gap[0].status == "open" and gap[-1].status == "closed" and gap[-1].vessels[0].mmsi == 376000500


def test_a_flood_of_new_events_from_one_source_is_held_back_with_one_flood_event():
    """3,000 forged 8-digit MMSIs in 5 minutes from one feed, a normal ship from another: the first 500
    identity anomalies go out, the rest are counted in one alert_flood event (open, updates, closed), and
    the other feed's alerts are not held back."""
    import jsonschema

    from maritime.config import Settings
    from maritime.models import Position
    from maritime.runtime.assembly import Assembly
    from maritime.runtime.pipeline import Pipeline
    from tests.conftest import T0, Collect, contract

    s = Settings.model_validate({"identity": {"land_check": False}})
    sink = Collect()
    pipe = Pipeline(s, assembly=Assembly(s), sinks=[sink])
    recs = [Position(12_000_000 + i, T0 + i * 0.1, 14.0, -66.0, 5.0, 90.0, None, 0, 1, "bad-feed")
            for i in range(3000)]
    recs += [Position(12_999_999, T0 + 100.05, 15.0, -66.0, 5.0, 90.0, None, 0, 1, "good-feed")]
    recs += [Position(376000500, T0 + 60 * k, 15.5, -66.0, 0.1, 0.0, None, 5, 1, "good-feed") for k in range(40)]
    for r in sorted(recs, key=lambda r: r.time_s):
        pipe.process(r.time_s, (None, [r]))
    pipe.finish()
    anomalies = {a.id for a in sink.alerts if a.type == "identity_anomaly"}
    flood = [a for a in sink.alerts if a.type == "alert_flood"]
    assert len(anomalies) == 501  # 500 from the bad feed, and the good feed's own
    assert any("12999999" in i for i in anomalies)
    assert flood[0].status == "open" and flood[-1].status == "closed"
    assert len({a.id for a in flood}) == 1
    last = flood[-1]
    assert last.details["source"] == "bad-feed" and last.details["sent"] == 500 and last.details["held_back"] == 2500
    assert "2,500 held back" in last.summary
    schema = contract("alert.schema.json")
    for a in flood:
        jsonschema.validate(a.as_dict(), schema)


def test_the_flood_gate_as_the_workers_use_it_holds_later_records_and_closes_on_time():
    """The gate alone, fed alert by alert with their own times as the watermark (the workers' deliver agent)."""
    from maritime.models import Alert
    from maritime.runtime.flood import FloodGate

    def anomaly(i: int, t: float, status: str = "open", source: str = "bad-feed") -> Alert:
        return Alert(f"identity_anomaly:{i}", "identity_anomaly", status, "medium", t, t, None, (), 14.0, -66.0,
                     "s", details={"anomaly": "invalid_mmsi", "source": source})

    gate = FloodGate(3, 600.0, lambda a: str(a.details.get("source") or "all sources"))
    out: list[Alert] = []
    stream = [anomaly(i, 1000.0 + i) for i in range(6)] + [anomaly(5, 1010.0, "update"), anomaly(0, 1011.0, "update"),
                                                           anomaly(9, 1012.0, source="good-feed"),
                                                           anomaly(10, 1700.0)]
    for a in stream:
        out += [*gate.watermark(a.time_s), *gate.filter([a])]
    sent = [(a.id, a.status) for a in out if a.type == "identity_anomaly"]
    assert sent == [("identity_anomaly:0", "open"), ("identity_anomaly:1", "open"), ("identity_anomaly:2", "open"),
                    ("identity_anomaly:0", "update"), ("identity_anomaly:9", "open"), ("identity_anomaly:10", "open")]
    flood = [a for a in out if a.type == "alert_flood"]
    assert [a.status for a in flood] == ["open", "closed"] and flood[-1].details["held_back"] == 3
