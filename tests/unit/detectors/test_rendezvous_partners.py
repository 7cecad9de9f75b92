"""Who a meeting is with, and where: service vessels are ordinary work only in and near ports.

The case of the issue: a reefer and a tug (ship type 52), both under 2 kn within 500 m for 3 h, 20 km from the
nearest anchorage and 60 km from the nearest port, west of the Grenadines, with the bundled zones.
"""

from __future__ import annotations

import pytest
import shapely
from shapely.ops import nearest_points

from maritime.geo import destination, haversine_m
from tests.conftest import T0, A, B, by_type, static, track
from tests.conftest import run_detectors as run

AT_SEA = (12.70, -61.62)  # west of the Grenadines: 20.7 km from Chatham Bay, 63 km from Kingstown


def pair(lat: float, lon: float, partner_type: int, hours: float = 3.0, gap_m: float = 250.0) -> list:
    recs = [static(A, T0 - 60, 70, "FROST REEFER"), static(B, T0 - 60, partner_type, "PARTNER")]
    recs += track(A, T0, T0 + hours * 3600, 60, lat, lon, 0.4, 90)
    blat, blon = destination(lat, lon, 0, gap_m)
    recs += track(B, T0 + 20, T0 + hours * 3600, 60, blat, blon, 0.4, 90)
    end = T0 + hours * 3600
    recs += track(A, end, end + 1800, 60, *destination(lat, lon, 90, 0.4 * 0.514 * hours * 3600), 12, 180)
    return recs


@pytest.mark.parametrize("ship_type, word", [(52, "tug"), (31, "towing vessel"), (37, "pleasure craft"),
                                             (53, "port tender")])
def test_a_service_vessel_alongside_a_reefer_at_sea_is_a_rendezvous(zone_index, ship_type, word):
    got = by_type(run(pair(*AT_SEA, ship_type), zone_index), "rendezvous")
    assert got and got[0].status == "open"
    a = got[-1]
    assert a.details["partners"] == {str(A): "cargo ship", str(B): word}
    assert f"[{word}]" in a.summary and "kept " in a.summary and "together" in a.summary
    port = a.details["nearest_port"]
    assert port["id"] == "port-vc-kingstown" and 55 < port["distance_km"] < 70
    assert "of Kingstown" in a.summary, a.summary
    assert a.details["together_min"] >= 170 and 200 <= a.details["median_distance_m"] <= 300


def test_the_same_pair_in_an_anchorage_is_quiet(zone_index):
    bequia = next(z for z in zone_index.zones if z.id == "anch-vc-admiralty-bay-bequia")
    p = bequia.geometry.representative_point()
    assert by_type(run(pair(p.y, p.x, 52), zone_index), "rendezvous") == []


def test_a_tug_near_a_port_is_ordinary_work_but_not_beyond_the_stated_distance(zone_index):
    """Kingstown's port zone: a tug alongside 12 km off is making fast or escorting (within service_port_km,
    15 km, beyond the 10 km every meeting needs); 25 km off it is not."""
    kingstown = next(z for z in zone_index.zones if z.id == "port-vc-kingstown")
    c = kingstown.geometry.representative_point()

    def off(km: float) -> tuple[float, float]:
        for step in range(1, 400):  # walk west until the distance from the zone is right
            lat, lon = destination(c.y, c.x, 250, step * 250.0)
            q = nearest_points(kingstown.geometry, shapely.Point(lon, lat))[0]
            if haversine_m(lat, lon, q.y, q.x) >= km * 1000:
                return lat, lon
        raise AssertionError("no such point")

    assert by_type(run(pair(*off(12), 52), zone_index), "rendezvous") == []
    assert by_type(run(pair(*off(25), 52), zone_index), "rendezvous") != []


@pytest.mark.parametrize("ship_type", [50, 51, 55, 35])
def test_pilots_and_authorities_are_ordinary_anywhere(zone_index, ship_type):
    assert by_type(run(pair(*AT_SEA, ship_type), zone_index), "rendezvous") == []


def test_the_older_rule_name_still_reads(zone_index):
    from maritime.config import Settings

    s = Settings.model_validate({"rendezvous": {"exempt_partners": ["pilot_or_tug_near_port"],
                                                "pilot_port_km": 15}})
    assert s.rendezvous.service_port_km == 15
    assert by_type(run(pair(*AT_SEA, 50), zone_index, s), "rendezvous") == []
    assert by_type(run(pair(*AT_SEA, 52), zone_index, s), "rendezvous") != []


def test_two_slow_vessels_far_apart_at_the_same_moments_are_not_a_meeting():
    """Both say 0 kn, one beside the other every other report and 10 km off between: never together long."""
    lat, lon = 14.5, -66.0
    recs = track(A, T0, T0 + 3 * 3600, 300, lat, lon, 0.0, 0)
    far = destination(lat, lon, 90, 10_000)
    for k in range(36):
        where = (lat + 0.001, lon) if k % 2 == 0 else far
        recs += track(B, T0 + 150 + 300 * k, T0 + 151 + 300 * k, 60, *where, 0.0, 0)
    assert by_type(run(recs), "rendezvous") == []
