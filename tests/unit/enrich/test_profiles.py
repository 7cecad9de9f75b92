"""Vessel profiles: identity links across MMSIs, port calls, persistence across restarts, the risk score."""

from __future__ import annotations

import json
import subprocess
import sys

from maritime.config import Settings
from maritime.enrich.profile_store import ProfileStore, risk
from tests.conftest import (
    OPEN_SEA,
    PORT_A,
    PORT_B,
    T0,
    Collect,
    assembled_pipeline,
    info,
    renamed_vessel,
    track,
    zone,
    zones,
)


def run(records, db, watchlist=None):
    sink = Collect()
    pipe = assembled_pipeline(Settings(), [sink], None, zones(PORT_A, PORT_B), watchlist, db)
    for r in sorted(records, key=lambda r: r.time_s):
        pipe.process(r.time_s, (None, [r]))
    pipe.finish()
    return sink.alerts


def test_new_mmsi_for_the_same_imo_is_linked(tmp_path):
    db = tmp_path / "p.sqlite"
    alerts = run(renamed_vessel(), db)
    links = [a for a in alerts if a.type == "identity_anomaly" and a.details.get("anomaly") == "imo_new_mmsi"]
    assert len(links) == 1 and links[0].details["previous_mmsi"] == 376000500
    store = ProfileStore(db)
    prof = store.profile(9234567)  # by IMO
    assert prof["mmsis"] == [376000500, 377000700]
    assert [i["name"] for i in prof["identity_history"]] == ["OLD NAME", "NEW NAME"]
    assert [c["zone"] for c in prof["port_calls"]] == ["port-a", "port-b"]
    assert prof["port_calls"][0]["hours"] is not None and 1.5 <= prof["port_calls"][0]["hours"] <= 2.2
    assert store.profile(377000700)["mmsis"] == [376000500, 377000700]


def test_watchlisted_vessel_is_followed_to_its_new_mmsi(tmp_path):
    wl = tmp_path / "wl.csv"
    wl.write_text("kind,value,reason\nmmsi,376000500,suspected trafficking\n")
    hits = [a for a in run(renamed_vessel(), tmp_path / "p.sqlite", [wl]) if a.type == "watchlist_hit"]
    assert [a.vessels[0].mmsi for a in hits] == [376000500, 377000700]


def test_name_change_of_one_mmsi_is_an_identity_anomaly(tmp_path):
    recs = [info(376000500, T0, "SEA BREEZE", 9234567), info(376000500, T0 + 1800, "BLUE HORIZON", 9234567)]
    recs += track(376000500, T0, T0 + 3600, 60, *OPEN_SEA, 10, 90)
    anomalies = [a for a in run(recs, tmp_path / "p.sqlite") if a.type == "identity_anomaly"]
    assert [a.details["anomaly"] for a in anomalies] == ["identity_change"]
    assert anomalies[0].details["before"]["name"] == "SEA BREEZE" and "BLUE HORIZON" in anomalies[0].summary


def test_profiles_survive_a_restart_and_risk_is_explained(tmp_path):
    db = tmp_path / "p.sqlite"
    lat, lon = OPEN_SEA
    shady = [info(376000500, T0, "SHADY", 9000001)]
    day1 = track(376000500, T0, T0 + 3600, 60, lat, lon, 12, 90) + \
        track(376000500, T0 + 8 * 3600, T0 + 9 * 3600, 60, lat, -64.8, 12, 90)
    liner = [info(366000001, T0, "LINER", 9000002)] + track(366000001, T0, T0 + 9 * 3600, 60, 16.0, -66, 15, 90)
    run(shady + day1 + liner, db)
    # the pipeline restarts: the second day adds a gap and a meeting to the same vessel
    t = T0 + 24 * 3600
    day2 = track(376000500, t, t + 3600, 60, lat, lon, 12, 90) + \
        track(376000500, t + 8 * 3600, t + 9 * 3600, 60, lat, -64.8, 12, 90)
    a = track(376000500, t + 10 * 3600, t + 13 * 3600, 10, lat, -64.0, 0.5, 45)
    b = track(377000700, t + 10 * 3600, t + 13 * 3600, 60, lat + 0.001, -64.0, 0.5, 45)
    a += track(376000500, t + 13 * 3600, t + 14 * 3600, 10, lat + 0.02, -63.98, 12, 0)
    b += track(377000700, t + 13 * 3600, t + 14 * 3600, 60, lat, -64.02, 12, 180)
    run(shady + day2 + a + b + [info(366000001, t, "LINER", 9000002)] +
        track(366000001, t, t + 9 * 3600, 60, 16.0, -66, 15, 90), db)
    store = ProfileStore(db)
    shady_risk = risk(store.profile(376000500))
    liner_risk = risk(store.profile(366000001))
    names = {f["factor"]: f for f in shady_risk["factors"]}
    assert names["dark_gap"]["count"] == 2 and names["rendezvous"]["count"] == 1
    assert shady_risk["score"] > liner_risk["score"]
    assert all(f["why"] for f in shady_risk["factors"])
    res = subprocess.run([sys.executable, "-m", "maritime.cli", "vessel", "9000001", "--profiles", str(db), "--json"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["risk"]["score"] == shady_risk["score"] and out["mmsis"] == [376000500]


async def test_live_map_api_gives_profile_and_risk(tmp_path):
    from aiohttp.test_utils import TestClient, TestServer

    from maritime.models import Position
    from maritime.views.web import LiveState, make_app

    db = tmp_path / "p.sqlite"
    run(renamed_vessel(), db)
    store = ProfileStore(db)
    state = LiveState()
    state(info(377000700, T0 + 30 * 3600, "NEW NAME", 9234567))
    state(Position(377000700, T0 + 33 * 3600, 13.1, -62.1, 12.0, 315.0, 315, 0, 1, "t"))
    async with TestClient(TestServer(make_app(state, profiles=store))) as client:
        resp = await client.get("/api/vessels/377000700")
        body = await resp.json()
        assert resp.status == 200 and body["name"] == "NEW NAME"
        assert body["profile"]["mmsis"] == [376000500, 377000700]
        assert "identity_change" in {f["factor"] for f in body["risk"]["factors"]}
        resp = await client.post("/api/vessels/377000700")
        assert resp.status == 405  # read-only


def test_time_near_an_eez_edge_and_missing_static_data_count(tmp_path):
    from maritime.zones.index import parse_zone_features

    eez_a = zone("eez-a", "eez", (-62.0, 12.0, -61.0, 14.0))
    eez_b = zone("eez-b", "eez", (-61.0, 12.0, -60.0, 14.0))
    port = zone("port-c", "port", (-60.55, 12.95, -60.45, 13.05))
    got, _ = parse_zone_features({"type": "FeatureCollection", "features": [eez_a, eez_b, port]}, "t")
    from maritime.zones.index import ZoneIndex

    db = tmp_path / "p.sqlite"
    sink = Collect()
    pipe = assembled_pipeline(Settings(), [sink], None, ZoneIndex(got), None, db)
    # 3 h steaming north along the boundary at lon −61.02 (1.2 nm from it), no static data ever sent
    recs = track(376000500, T0, T0 + 3 * 3600, 30, 12.2, -61.02, 8, 0)
    # then a call at port C, still anonymous
    recs += track(376000500, T0 + 3 * 3600, T0 + 5 * 3600, 60, 13.0, -60.5, 0.1, 0, status=5)
    recs += track(376000500, T0 + 5 * 3600, T0 + 6 * 3600, 60, 13.1, -60.4, 10, 45)
    for r in recs:
        pipe.process(r.time_s, (None, [r]))
    pipe.finish()
    prof = ProfileStore(db).profile(376000500)
    factors = {f["factor"]: f for f in risk(prof)["factors"]}
    assert factors["no_static_data"]["count"] == 1 and factors["port_call_without_identity"]["count"] == 1
    assert 2.5 <= prof["eez_edge_hours"] <= 3.1
    recs2 = [info(377000700, T0, "EDGE RUNNER", 9000003)] + track(377000700, T0, T0 + 3 * 3600, 30, 12.2, -61.02,
                                                                   8, 0)
    pipe = assembled_pipeline(Settings(), [Collect()], None, ZoneIndex(got), None, db)
    for r in recs2:
        pipe.process(r.time_s, (None, [r]))
    pipe.finish()
    prof = ProfileStore(db).profile(377000700)
    assert 2.5 <= prof["eez_edge_hours"] <= 3.1
    factors = {f["factor"]: f for f in risk(prof)["factors"]}
    assert "near_eez_edge_per_6h" in factors and "within 12 nm of an EEZ boundary" in factors["near_eez_edge_per_6h"]["why"]
