"""Jurisdiction on every alert: the waters it lies in, whether or not a zone rule raised it.

A centre subscribed with the README's own example filter (``authorities`` and ``types``) receives the
rendezvous and dark gaps in its waters, not only the alerts that carry a zone.
"""

from __future__ import annotations

import json
import shutil

import pytest
import redis

from maritime.config import DeliverySettings, Settings, Subscription
from maritime.delivery.cap import to_cap
from maritime.delivery.redis_sink import RedisSink
from maritime.delivery.subscriptions import matches
from maritime.geo import destination
from maritime.models import Alert, Position
from maritime.zones.index import load_zones
from tests.conftest import ROOT, Collect, assembled_pipeline

T0 = 1_747_180_800.0
LC = "Royal Saint Lucia Police Force Marine Unit"
VC = "St Vincent and the Grenadines Coast Guard"
QUICK = Settings.model_validate({"identity": {"land_check": False}})
#: the README's example centre
README_CENTRE = Subscription.model_validate({
    "id": "lc", "name": "Saint Lucia Marine Police",
    "filters": {"authorities": [LC], "types": ["dark_gap", "rendezvous", "geofence_entry"],
                "min_severity": "medium", "bbox": [-61.5, 13.5, -60.5, 14.3]}})
AT_SEA_LC = (13.9, -61.35)  # Saint Lucia's EEZ, outside its territorial sea


@pytest.fixture(scope="module")
def zones():
    return load_zones(ROOT / "geofences")


def meeting(lat: float, lon: float) -> list[Position]:
    out = []
    for k in range(int(3.5 * 3600 / 60)):
        t = T0 + 60 * k
        out.append(Position(376000500, t, *destination(lat, lon, 0, 10.0 * (k % 3)), 0.5, 0.0, 0, 0, 1, "rx"))
        out.append(Position(377000700, t + 20, *destination(lat, lon, 90, 150), 0.5, 0.0, 0, 0, 1, "rx"))
    return out


def dark_gap_lc_to_vc() -> list[Position]:
    """Heard in Saint Lucia's EEZ, silent 7 h, heard again in St Vincent's."""
    recs = [Position(376000900, T0 + 60 * k, 13.9, -61.35 + 0.002 * k, 10.0, 180.0, 180, 0, 1, "rx")
            for k in range(10)]
    recs += [Position(376000900, T0 + 8 * 3600 + 60 * k, 13.2, -61.5, 10.0, 180.0, 180, 0, 1, "rx")
             for k in range(5)]
    # other traffic keeps the watermark moving
    recs += [Position(376001000, T0 + 600 * k, 14.3, -61.2, 10.0, 0.0, 0, 0, 1, "rx") for k in range(60)]
    return sorted(recs, key=lambda p: p.time_s)


def run(records: list[Position], zones, sinks: list) -> list[Alert]:
    sink = Collect()
    pipe = assembled_pipeline(QUICK, [sink, *sinks], None, zones)
    for p in records:
        pipe.process(p.time_s, (None, [p]))
    pipe.finish()
    return sink.alerts


def test_a_rendezvous_at_sea_carries_the_eez_it_lies_in(zones):
    rdv = [a for a in run(meeting(*AT_SEA_LC), zones, []) if a.type == "rendezvous"]
    assert rdv and rdv[0].zone is None
    j = rdv[0].jurisdiction
    assert j is not None and j["territorial_sea"] is None
    assert j["eez"]["id"] == "eez-lc" and j["eez"]["authority"] == LC
    assert matches(rdv[0], README_CENTRE)
    doc = json.loads(rdv[0].to_json())
    assert doc["jurisdiction"]["eez"]["country"] == "LC" and Alert.from_dict(doc).jurisdiction == j


def test_a_dark_gap_belongs_where_it_went_silent_and_where_it_reappeared(zones):
    gaps = [a for a in run(dark_gap_lc_to_vc(), zones, []) if a.type == "dark_gap"]
    closed = [a for a in gaps if a.status == "closed"][-1]
    assert closed.jurisdiction["eez"]["authority"] == LC
    assert closed.jurisdiction["reappeared_in"]["eez"]["authority"] == VC
    vc = Subscription.model_validate({"id": "vc", "filters": {"authorities": [VC]}})
    assert matches(closed, vc) and matches(closed, Subscription.model_validate({"id": "lc2",
                                                                              "filters": {"authorities": [LC]}}))
    assert not matches(gaps[0], vc)  # while it is silent, only the waters it went silent in know


def test_cap_names_the_jurisdiction(zones):
    rdv = next(a for a in run(meeting(*AT_SEA_LC), zones, []) if a.type == "rendezvous")
    xml = to_cap(rdv.as_dict(), sender="mda@example").decode()
    assert "<areaDesc>Saint Lucia exclusive economic zone (approximate)</areaDesc>" in xml


@pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed "
                    "(.ci/run installs Debian's redis-server)")
def test_the_readme_centre_receives_a_rendezvous_in_its_eez_through_redis(zones, server, tmp_path):
    sink = RedisSink(server.url, [README_CENTRE],
                     DeliverySettings(spool_dir=str(tmp_path / "spool")))
    alerts = run(meeting(*AT_SEA_LC), zones, [sink])
    client = redis.Redis.from_url(server.url)
    got = [f[b"id"].decode() for _e, f in client.xrange("mda:alerts:lc")]
    want = {a.id for a in alerts if a.type == "rendezvous"}
    assert want and want <= set(got)
