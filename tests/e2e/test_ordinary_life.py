"""Ordinary life is not an alert: groups at rest and partners that work alongside others.

Each scenario is hand-built, and each keeps a true rendezvous 40 km away from
the ordinary scene, which must still be found.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from maritime.config import Settings
from maritime.geo import destination
from maritime.models import Position, VesselInfo
from tests.conftest import OPEN_SEA, T0, by_type, meeting, run_detectors, static, track

HOURS = 6.0
#: open sea, far from land: the land check (slow to load, and beside the point here) is off
QUICK = Settings.model_validate({"identity": {"land_check": False}})


def run(records: list, settings_: Settings | None = None) -> list:
    return run_detectors(records, settings_=settings_ or QUICK)


def yacht(mmsi: int) -> bool:
    return 338100000 <= mmsi < 338300000


def anchored(mmsi: int, lat: float, lon: float, hours: float = HOURS, step_s: float = 180.0) -> list[Position]:
    """A class B yacht swinging at anchor: 0-0.5 kn around one spot, no navigational status."""
    out = []
    t = T0 + (mmsi % 97)
    k = 0
    while t < T0 + hours * 3600:
        plat, plon = destination(lat, lon, (k * 37) % 360, 15.0 + (k % 5) * 6)
        out.append(Position(mmsi, t, plat, plon, 0.1 * (k % 6), float((k * 37) % 360), None, None, 18, "test"))
        t += step_s
        k += 1
    return out


def bay(first_mmsi: int, n: int, lat: float, lon: float, spacing_m: float = 180.0) -> list[Position]:
    """``n`` yachts at anchor on a grid ``spacing_m`` apart (an anchorage no zone covers)."""
    out: list[Position] = []
    side = max(1, round(n ** 0.5))
    for i in range(n):
        r, c = divmod(i, side)
        plat, plon = destination(*destination(lat, lon, 0, r * spacing_m), 90, c * spacing_m)
        out += anchored(first_mmsi + i, plat, plon)
    return out


def true_meeting_far_away() -> list[Position]:
    """The module's standard meeting, 40 km east of OPEN_SEA: a real rendezvous."""
    lat, _lon = destination(*OPEN_SEA, 90, 40_000)
    moved = []
    for p in meeting(3.5):
        plat, plon = destination(p.lat, p.lon, 90, 40_000)
        moved.append(Position(p.mmsi, p.time_s, plat, plon, p.sog_kn, p.cog_deg, p.heading_deg, p.nav_status,
                              p.msg_type, p.source))
    assert abs(moved[0].lat - lat) < 0.01
    return moved


def rendezvous_pairs(alerts) -> set[frozenset[int]]:
    return {frozenset(v.mmsi for v in a.vessels) for a in by_type(alerts, "rendezvous")}


def test_an_anchorage_of_yachts_raises_nothing_and_the_real_meeting_is_found():
    yachts = bay(338100000, 20, *OPEN_SEA)
    alerts = run(yachts + true_meeting_far_away())
    assert rendezvous_pairs(alerts) == {frozenset((376000500, 377000700))}
    assert not any(a.type == "loitering" and yacht(a.vessels[0].mmsi) for a in alerts)


def test_a_fleet_at_a_fish_aggregating_device_is_one_group_not_pairs():
    lat, lon = OPEN_SEA
    boats: list[Position | VesselInfo] = []
    for i in range(8):
        m = 325000100 + i
        plat, plon = destination(lat, lon, i * 45, 150 + 40 * i)
        boats += track(m, T0 + i, T0 + HOURS * 3600, 60, plat, plon, 0.8, (i * 45 + 90) % 360)
        if i % 2:  # half of them never send static data
            boats.append(static(m, T0 + 30, 30))
    alerts = run(boats + true_meeting_far_away())
    assert rendezvous_pairs(alerts) == {frozenset((376000500, 377000700))}


def pair(a: int, type_a: int | None, b: int, type_b: int | None, near: tuple[float, float] = OPEN_SEA,
         status_a: int | None = 0, length_a: int | None = None, length_b: int | None = None) -> list:
    lat, lon = near
    recs: list = track(a, T0, T0 + 3.5 * 3600, 10, lat, lon, 0.4, 45, status=status_a)
    blat, blon = destination(lat, lon, 90, 150)
    recs += track(b, T0 + 7, T0 + 3.5 * 3600, 30, blat, blon, 0.4, 45)
    for m, ty, length in ((a, type_a, length_a), (b, type_b, length_b)):
        if ty is not None:
            half = (length or 20) // 2
            recs.append(VesselInfo(mmsi=m, time_s=T0 + 5, name=f"V{m}", ship_type=ty, to_bow_m=half,
                                   to_stern_m=(length or 20) - half, msg_type=5, source="test"))
    return recs


def test_partners_that_work_alongside_are_not_a_rendezvous():
    coast_guard = pair(311000100, 55, 376000900, 70)
    fishing = pair(325000200, 30, 325000300, 30)
    cruise = pair(310000400, 60, 310000500, None, status_a=1, length_a=290, length_b=8)
    alerts = run(coast_guard + fishing + cruise + true_meeting_far_away())
    assert rendezvous_pairs(alerts) == {frozenset((376000500, 377000700))}


def test_a_carrier_and_a_fishing_vessel_are_still_a_rendezvous():
    alerts = run(pair(352000100, 79, 325000300, 30))
    assert rendezvous_pairs(alerts) == {frozenset((325000300, 352000100))}


def test_each_exemption_can_be_switched_off():
    s = Settings.model_validate({"rendezvous": {"exempt_partners": []}, "identity": {"land_check": False}})
    alerts = run(pair(325000200, 30, 325000300, 30), settings_=s)
    assert rendezvous_pairs(alerts) == {frozenset((325000200, 325000300))}


@settings(max_examples=6, deadline=None)
@given(n=st.integers(min_value=3, max_value=12), spacing=st.floats(min_value=90, max_value=400),
       bearing=st.floats(min_value=0, max_value=359))
def test_adding_resting_yachts_to_a_bay_adds_no_alert(n, spacing, bearing):
    """Whatever the number and spacing of yachts resting in a bay 38 km from a true meeting, the alerts are
    those of the meeting alone (three or more: one or two yachts alone in a bay are for learned anchorages, issue 14)."""
    alone = run(true_meeting_far_away())
    where = destination(*OPEN_SEA, bearing, 1500)
    with_bay = run(bay(338200000, n, *where, spacing_m=spacing) + true_meeting_far_away())
    assert {(a.type, a.id) for a in with_bay} == {(a.type, a.id) for a in alone}


def test_a_class_b_yacht_alone_at_anchor_offshore_is_not_loitering_but_a_drifting_one_is():
    """No navigational status to say 'at anchor': judged by behaviour (in one spot for hours, or drifting)."""
    at_anchor = anchored(338250001, *OPEN_SEA, hours=6.0)
    lat, lon = destination(*OPEN_SEA, 180, 30_000)
    drifting = [Position(338250002, T0 + 180 * k, *destination(lat, lon, 45, 0.6 * 0.514 * 180 * k), 0.6, 45.0,
                         None, None, 18, "test") for k in range(120)]
    loiter = [a.vessels[0].mmsi for a in run(at_anchor + drifting) if a.type == "loitering"]
    assert set(loiter) == {338250002}
