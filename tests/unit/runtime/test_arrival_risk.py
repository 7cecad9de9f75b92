"""arrival_risk raised ahead of arrival and the centres' daily boards, the same in both runtimes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from aiohttp import web

from maritime.config import Settings
from maritime.delivery.webhook import verify
from maritime.ingest.sources import parse_source
from tests.conftest import T0, Collect, Receiver, assembled_pipeline, contract, nmea_of, voyage_day

#: Saint Lucia's port police take the boards of Castries and Vieux Fort, by webhook (JSON and CAP) and Redis
SUBSCRIPTION = {"id": "lc-mpu", "name": "Saint Lucia Marine Police", "arrivals": ["LCCAS", "Vieux Fort"],
                "arrivals_hours": 24}


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> tuple[Path, list[bytes]]:
    lines = nmea_of(voyage_day())
    path = tmp_path_factory.mktemp("arrivals") / "voyage.nmea"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, lines


def risk_records(alerts) -> list[tuple]:
    return [(a.id, a.status, a.severity, a.time_s, a.details.get("eta"), a.details.get("score"))
            for a in alerts if a.type == "arrival_risk"]


def test_a_vessel_dark_then_redirected_at_sea_is_flagged_hours_before_arrival(day, zone_index):
    """SEA BREEZE goes dark seven hours, reappears and changes its destination to Castries: arrival_risk for
    Castries is raised at once, hours before it could arrive, with both factors shown, at the port (routed to
    Saint Lucia's waters and authority), and closed when it no longer heads there (it calls at Vieux Fort)."""
    sink = Collect()
    assembled_pipeline(Settings(), [sink], None, zone_index).replay(parse_source(str(day[0])))
    every = [a for a in sink.alerts if a.type == "arrival_risk"]
    # it then steers into Vieux Fort while still declaring Castries: flagged there too, before it arrives
    vif = [a for a in every if a.details["port"] == "LCVIF"]
    assert vif and vif[0].status == "open" and vif[0].details["hours_to_arrival"] > 0
    assert {f["factor"] for f in vif[0].details["factors"]} >= {"declared_elsewhere", "dark_gap"}
    risks = [a for a in every if a.details["port"] == "LCCAS"]
    assert risks[0].status == "open" and risks[-1].status == "closed"
    assert len({a.id for a in risks}) == 1
    first = risks[0]
    assert first.details["port"] == "LCCAS" and first.vessels[0].mmsi == 376000500
    assert {f["factor"] for f in first.details["factors"]} >= {"dark_gap", "destination_change"}
    assert first.details["score"] >= Settings().arrivals.threshold
    assert first.details["hours_to_arrival"] >= 2.0
    assert (first.lat, first.lon) == pytest.approx((14.0, -61.0), abs=0.05)
    assert first.zone is not None and first.zone.kind == "port"
    assert any("Saint Lucia" in a for a in first.authorities())
    change = next(a for a in sink.alerts if a.type == "destination_change")
    assert 0 <= first.time_s - change.time_s <= 3 * 600 + Settings().arrivals.lag_s
    assert "Castries" in first.summary and "dark gap" in first.summary
    assert risks[-1].details["reason"]
    # nothing for the other ship, on an ordinary passage
    assert all(a.vessels[0].mmsi == 376000500 for a in every)


@pytest.mark.slow
def test_arrival_risk_is_the_same_partitioned_with_restarts(day, zone_index):
    from maritime.runtime.partitioned import run_partitioned

    sink = Collect()
    assembled_pipeline(Settings(), [sink], None, zone_index).replay(parse_source(str(day[0])))
    embedded = risk_records(sink.alerts)
    assert embedded
    lines = day[1]
    batches = [("rx", lines[i:i + 7], None) for i in range(0, len(lines), 7)]
    for parts, restart in ((1, 0), (3, 3), (2, 1)):
        got = risk_records(run_partitioned(batches, Settings(), zone_index, parts, restart_every=restart))
        assert got == embedded, (parts, restart)


def test_one_dark_gap_in_a_coverage_hole_raises_no_arrival_risk(zone_index):
    """An ordinary ship with one dark gap (a coverage hole) heading to the port it declared: below the
    threshold, no arrival_risk."""
    from tests.conftest import track

    mmsi = 376000800
    from maritime.models import VesselInfo

    recs: list = [VesselInfo(mmsi, T0 + 360 * k, name="ORDINARY", ship_type=70, destination="CASTRIES",
                             msg_type=5, source="test") for k in range(3)]
    recs += track(mmsi, T0, T0 + 2 * 3600, 300, 13.2, -60.2, 9.0, 320.0)
    recs += track(mmsi, T0 + 9 * 3600, T0 + 11 * 3600, 300, 13.6, -60.6, 9.0, 320.0)
    recs += track(mmsi + 1, T0, T0 + 12 * 3600, 600, 15.5, -62.0, 10.0, 270.0)
    from tests.conftest import run_detectors

    alerts = run_detectors(sorted(recs, key=lambda r: r.time_s), zone_index)
    assert any(a.type == "dark_gap" for a in alerts)
    assert [a for a in alerts if a.type == "arrival_risk"] == []


class BoardReceiver(Receiver):
    """A webhook endpoint keeping each board request (headers and body), signatures checked."""

    def __init__(self, secret: str) -> None:
        super().__init__(secret, 0)
        self.requests: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(self.secret, request.headers["X-MDA-Timestamp"], body, request.headers["X-MDA-Signature"]):
            self.bad_signatures += 1
            return web.Response(status=401)
        self.requests.append((dict(request.headers), body))
        return web.Response(status=204)


def test_the_daily_board_goes_to_the_centre_by_redis_and_webhook_json_and_cap(day, zone_index, server, tmp_path):
    """At daily_at (event time) the centre gets its board once: in mda:arrivals:<centre>, as JSON to one
    webhook and as CAP (responseType Monitor) to another; Castries lists SEA BREEZE with its risk."""
    import redis

    from maritime.delivery.redis_sink import RedisSink
    from maritime.delivery.webhook import WebhookSink

    with BoardReceiver("s3cret-key") as js, BoardReceiver("s3cret-key") as cap:
        sub = {**SUBSCRIPTION, "webhooks": [
            {"url": f"http://127.0.0.1:{js.port}/hook", "secret": "s3cret-key", "format": "json"},
            {"url": f"http://127.0.0.1:{cap.port}/hook", "secret": "s3cret-key", "format": "cap"}]}
        settings = Settings(subscriptions=[sub], arrivals={"daily_at": "19:00"},
                            delivery={"spool_dir": str(tmp_path / "spool")})
        s = settings.subscriptions[0]
        sinks = [RedisSink(server.url, [s], settings.delivery),
                 *[WebhookSink(s, h, settings.delivery) for h in s.webhooks]]
        pipe = assembled_pipeline(settings, sinks, None, zone_index)
        pipe.replay(parse_source(str(day[0])))
        pipe.finish()
        deadline = time.monotonic() + 20
        while (not js.requests or not cap.requests) and time.monotonic() < deadline:
            time.sleep(0.1)
        boards = pipe.arrivals.boards
    assert len(boards) == 1 and boards[0].generated == "2025-05-14T19:00:00Z"
    entries = redis.Redis.from_url(server.url).xrange("mda:arrivals:lc-mpu")
    assert len(entries) == 1
    doc = json.loads(entries[0][1][b"board"])
    jsonschema.validate(doc, contract("arrivals_board.schema.json"))
    assert doc["type"] == "arrivals_board" and doc["centre"] == "lc-mpu" and doc["hours"] == 24
    castries = next(p for p in doc["ports"] if p["port"]["id"] == "LCCAS")
    (sea_breeze,) = [a for a in castries["arrivals"] if a["mmsi"] == 376000500]
    assert sea_breeze["risk"] >= 6 and {f["factor"] for f in sea_breeze["factors"]} >= {"dark_gap"}
    assert {p["port"]["id"] for p in doc["ports"]} == {"LCCAS", "LCVIF"}
    ((headers, body),) = [r for r in js.requests if "X-MDA-Board-Centre" in r[0]]
    assert headers["Content-Type"] == "application/json" and json.loads(body) == doc
    ((headers, body),) = [r for r in cap.requests if "X-MDA-Board-Centre" in r[0]]
    assert headers["Content-Type"] == "application/cap+xml"
    ns = {"c": "urn:oasis:names:tc:emergency:cap:1.2"}
    root = ET.fromstring(body)
    assert root.findtext("c:msgType", namespaces=ns) == "Alert"
    assert root.findtext("c:info/c:responseType", namespaces=ns) == "Monitor"
    assert root.findtext("c:info/c:event", namespaces=ns) == "arrivals board"
    assert "SEA BREEZE" in root.findtext("c:info/c:description", namespaces=ns)
    assert {a.findtext("c:areaDesc", namespaces=ns) for a in root.findall("c:info/c:area", ns)} == {
        "Castries (LCCAS)", "Vieux Fort (LCVIF)"}
    assert js.bad_signatures == cap.bad_signatures == 0


def test_the_daily_board_is_the_same_partitioned(day, zone_index):
    from maritime.runtime.partitioned import LocalTopology

    settings = Settings(subscriptions=[SUBSCRIPTION], arrivals={"daily_at": "19:00"})
    pipe = assembled_pipeline(settings, [], None, zone_index)
    pipe.replay(parse_source(str(day[0])))
    embedded = [b.as_dict() for b in pipe.arrivals.boards]
    assert len(embedded) == 1
    lines = day[1]
    topo = LocalTopology(settings, zone_index, 3)
    for i in range(0, len(lines), 9):
        topo.feed("rx", lines[i:i + 9])
        if i % 45 == 0:
            topo.restart()
    topo.end()
    assert topo.arrivals is not None
    assert [b.as_dict() for b in topo.arrivals.boards] == embedded


def test_replay_writes_the_boards_for_analysts(day, tmp_path):
    """`maritime replay … --boards DIR` writes each daily board as JSON and CSV; without a subscribed centre it
    says what is missing."""
    cfg = tmp_path / "s.toml"
    cfg.write_text('[arrivals]\ndaily_at = "19:00"\n\n[[subscriptions]]\nid = "lc-mpu"\narrivals = ["LCCAS"]\n')
    out = tmp_path / "boards"
    ok = subprocess.run([sys.executable, "-m", "maritime.cli", "replay", str(day[0]), "--config", str(cfg),
                         "--boards", str(out), "-q"], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert sorted(p.name for p in out.iterdir()) == ["arrivals-lc-mpu-20250514T1900Z.csv",
                                                     "arrivals-lc-mpu-20250514T1900Z.json"]
    rows = (out / "arrivals-lc-mpu-20250514T1900Z.csv").read_text().splitlines()
    assert rows[0].startswith("port,mmsi,name") and any("376000500" in r for r in rows[1:])
    (tmp_path / "none.toml").write_text("")
    bad = subprocess.run([sys.executable, "-m", "maritime.cli", "replay", str(day[0]), "--config",
                          str(tmp_path / "none.toml"), "--boards", str(out), "-q"], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 2 and "subscribes" in bad.stderr and "Traceback" not in bad.stderr
