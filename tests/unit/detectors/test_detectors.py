"""Detectors on hand-built tracks: each behaviour and each hard negative, with full expected values."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maritime.config import Settings
from maritime.geo import KN_TO_MS, destination, haversine_m
from maritime.models import Position
from maritime.runtime.assembly import Assembly
from maritime.runtime.pipeline import Pipeline
from tests.conftest import OPEN_SEA, T0, A, B, C, Collect, by_type, meeting, static, track, zone, zones
from tests.conftest import run_detectors as run

# -- dark gaps ------------------------------------------------------------------------


def test_dark_gap_opens_while_silent_and_closes_on_return():
    lat, lon = OPEN_SEA
    before = track(A, T0, T0 + 3600, 60, lat, lon, 12, 90)
    last = before[-1]
    back_t = last.time_s + 8 * 3600
    after = track(A, back_t, back_t + 600, 60, 14.5, -64.8, 12, 90)
    others = track(B, T0, back_t + 600, 300, 15.5, -66.0, 10, 0)  # keeps event time moving
    alerts = by_type(run([*before, *after, *others]), "dark_gap")
    assert [a.status for a in alerts] == ["open", "closed"]
    opened, closed = alerts
    assert opened.id == closed.id == f"dark_gap:{A}:2025-05-14T08:59:00Z"
    assert opened.start_s == last.time_s and opened.end_s is None
    assert last.time_s + 6 * 3600 <= opened.time_s <= last.time_s + 6 * 3600 + 400
    assert closed.end_s == back_t and closed.start_s == last.time_s
    dist_nm = haversine_m(last.lat, last.lon, after[0].lat, after[0].lon) / 1852
    assert closed.details["distance_nm"] == round(dist_nm, 1)
    assert closed.details["gap_h"] == round((back_t - last.time_s) / 3600, 2)
    assert closed.details["implied_speed_kn"] == round(dist_nm / ((back_t - last.time_s) / 3600), 1)
    assert closed.vessels[0].mmsi == A and closed.vessels[0].flag == "VC"
    assert "silent for 8 h 00 min" in closed.summary


def test_long_gap_is_updated_as_suspected_disabling():
    lat, lon = OPEN_SEA
    before = track(A, T0, T0 + 3600, 60, lat, lon, 12, 90)
    others = track(B, T0, T0 + 15 * 3600, 300, 15.5, -66.0, 10, 0)
    alerts = by_type(run(before + others), "dark_gap")
    assert [(a.status, a.severity) for a in alerts] == [("open", "medium"), ("update", "high")]


def test_short_dropout_is_not_a_dark_gap():
    lat, lon = OPEN_SEA
    pts = track(A, T0, T0 + 3600, 60, lat, lon, 12, 90) + track(A, T0 + 3 * 3600, T0 + 4 * 3600, 60, lat, -65.5, 12, 90)
    others = track(B, T0, T0 + 5 * 3600, 300, 15.5, -66.0, 10, 0)
    assert by_type(run(pts + others), "dark_gap") == []


def test_gap_running_to_the_end_stays_open():
    lat, lon = OPEN_SEA
    pts = track(A, T0, T0 + 3600, 60, lat, lon, 12, 90)
    others = track(B, T0, T0 + 9 * 3600, 300, 15.5, -66.0, 10, 0)
    alerts = by_type(run(pts + others), "dark_gap")
    assert [a.status for a in alerts] == ["open"]


def test_feed_outage_gives_one_notice_and_no_gap_alerts():
    recs = []
    for i in range(20):
        recs += track(376100000 + i, T0, T0 + 3600, 120, 14 + i * 0.05, -66, 10, 90)
    # every vessel silent for 7 h at once, then all back
    for i in range(20):
        recs += track(376100000 + i, T0 + 8 * 3600, T0 + 9 * 3600, 120, 14 + i * 0.05,
                      -65, 10, 90)
    alerts = run(recs)
    assert [a.type for a in alerts if a.type in ("dark_gap", "feed_outage")] == ["feed_outage"]
    outage = by_type(alerts, "feed_outage")[0]
    assert outage.details["vessels_silent"] == 20 and outage.start_s == T0 + 3600 - 120
    # placed where the feed went quiet (the silent vessels' median last fix), so maps and CAP areas show it
    area = outage.details["silent_area"]
    assert area["south"] == pytest.approx(14.0, abs=0.01) and area["north"] == pytest.approx(14.95, abs=0.01)
    assert outage.lat == pytest.approx(14.5, abs=0.01) and area["west"] <= outage.lon <= area["east"]


def test_gap_severity_low_when_moored_in_port():
    lat, lon = OPEN_SEA
    idx = zones(zone("port-x", "port", (lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05)))
    pts = track(A, T0, T0 + 3600, 180, lat, lon, 0, 0, status=5)
    others = track(B, T0, T0 + 9 * 3600, 300, 15.5, -66.0, 10, 0)
    alerts = by_type(run(pts + others, idx), "dark_gap")
    assert alerts and alerts[0].severity == "low"


# -- rendezvous -----------------------------------------------------------------------


def test_rendezvous_open_update_closed_with_one_id():
    alerts = by_type(run(meeting(3.5)), "rendezvous")
    statuses = [a.status for a in alerts]
    assert statuses[0] == "open" and statuses[-1] == "closed" and set(statuses) <= {"open", "update", "closed"}
    assert len({a.id for a in alerts}) == 1
    first, last = alerts[0], alerts[-1]
    assert first.id == f"rendezvous:{A}-{B}:2025-05-14T08:00:07Z"
    assert {v.mmsi for v in first.vessels} == {A, B}
    assert 2 * 3600 <= first.time_s - first.start_s <= 2 * 3600 + 200
    assert last.end_s is not None and abs(last.end_s - (T0 + 3.5 * 3600)) < 400
    assert 150 <= last.details["min_distance_m"] <= 250
    assert last.details["median_sog_kn"] == pytest.approx(0.5)


def test_short_meeting_is_not_a_rendezvous():
    assert by_type(run(meeting(1.0)), "rendezvous") == []


def test_watch_floor_profile_is_faster():
    s = Settings.model_validate({"rendezvous": {"profile": "watch_floor"}})
    alerts = by_type(run(meeting(1.0), settings_=s), "rendezvous")
    assert alerts and alerts[0].details["profile"] == "watch_floor"


def test_ships_passing_close_at_speed_are_not_a_rendezvous():
    lat, lon = OPEN_SEA
    a = track(A, T0, T0 + 3600, 10, lat, lon, 12, 90)
    blat, blon = destination(*destination(lat, lon, 90, 12 * KN_TO_MS * 3600), 0, 150)
    b = track(B, T0, T0 + 3600, 10, blat, blon, 12, 270)
    assert by_type(run(a + b), "rendezvous") == []


def test_ships_moored_together_in_port_are_not_a_rendezvous():
    lat, lon = OPEN_SEA
    idx = zones(zone("port-x", "port", (lon - 0.02, lat - 0.02, lon + 0.02, lat + 0.02)))
    a = track(A, T0, T0 + 5 * 3600, 180, lat, lon, 0.1, 0, status=5)
    b = track(B, T0 + 20, T0 + 5 * 3600, 180, lat + 0.0005, lon, 0.1, 0, status=5)
    alerts = run(a + b, idx)
    assert by_type(alerts, "rendezvous") == [] and by_type(alerts, "loitering") == []


def test_meeting_near_a_port_is_suppressed_but_far_is_not():
    lat, lon = OPEN_SEA
    near = zones(zone("port-x", "port", (lon + 0.05, lat - 0.01, lon + 0.07, lat + 0.01)))  # ~6 km away
    far = zones(zone("port-x", "port", (lon + 0.3, lat - 0.01, lon + 0.32, lat + 0.01)))  # ~33 km away
    assert by_type(run(meeting(3.0), near), "rendezvous") == []
    assert by_type(run(meeting(3.0), far), "rendezvous") != []


# -- loitering ------------------------------------------------------------------------


def test_loitering_one_vessel_slow_for_hours():
    lat, lon = OPEN_SEA
    pts = [static(A, T0, 80, "SLOW TANKER")] + track(A, T0, T0 + 5 * 3600, 10, lat, lon, 0.8, 200)
    pts += track(A, T0 + 5 * 3600, T0 + 6 * 3600, 10, *destination(lat, lon, 200, 0.8 * KN_TO_MS * 5 * 3600), 11, 200)
    alerts = by_type(run(pts), "loitering")
    assert alerts[0].status == "open" and alerts[-1].status == "closed"
    assert alerts[0].id == f"loitering:{A}:2025-05-14T08:00:00Z"
    assert abs(alerts[0].time_s - (T0 + 4 * 3600)) < 20
    assert alerts[-1].end_s == pytest.approx(T0 + 5 * 3600, abs=20)
    assert alerts[0].vessels[0].name == "SLOW TANKER"


def test_no_loitering_when_moored_or_meeting_or_fishing():
    lat, lon = OPEN_SEA
    moored = track(A, T0, T0 + 5 * 3600, 180, lat, lon, 0.2, 0, status=5)
    assert by_type(run(moored), "loitering") == []
    assert by_type(run(meeting(5.0)), "loitering") == []
    fishing = [static(A, T0, 30)] + track(A, T0, T0 + 6 * 3600, 30, lat, lon, 1.0, 10, status=7)
    assert by_type(run(fishing), "loitering") == []


def test_loitering_despite_a_short_close_pass():
    """A slow boat that stays near the loiterer for 40 min (a pilot or supply boat) is no rendezvous, and
    does not hide the loitering; one that stays 2 h is a rendezvous, which covers it."""
    lat, lon = OPEN_SEA
    a = [static(A, T0, 80, "SLOW TANKER")] + track(A, T0, T0 + 6 * 3600, 10, lat, lon, 0.5, 200)
    for stay_h, kinds in ((40 / 60, ["loitering"]), (2.5, ["rendezvous"])):
        here = destination(*destination(lat, lon, 200, 0.5 * KN_TO_MS * 3600), 90, 150)  # A's place after 1 h
        b = track(B, T0 + 3600 + 5, T0 + 3600 + stay_h * 3600, 60, *here, 0.5, 200, msg_type=18, status=None)
        b_end = b[-1]
        b += track(B, b_end.time_s + 60, b_end.time_s + 3600, 60, b_end.lat, b_end.lon, 12, 90, msg_type=18,
                   status=None)
        alerts = run(a + b)
        assert sorted({x.type for x in alerts if x.type in ("loitering", "rendezvous")}) == kinds, stay_h


# -- geofences ------------------------------------------------------------------------

ZLAT, ZLON = 13.0, -61.5
FISH_ZONE = zone("fx", "restricted", (ZLON - 0.1, ZLAT - 0.1, ZLON + 0.1, ZLAT + 0.1),
                 alert_on=["entry", "exit", "dwell"], vessel_types=["fishing"], dwell_min=30, severity="high",
                 authority="SVG Coast Guard")


def crossing(mmsi: int, ship_type: int, sog: float = 10.0) -> list:
    start = destination(ZLAT, ZLON - 0.3, 0, 0)
    return [static(mmsi, T0 - 60, ship_type)] + track(mmsi, T0, T0 + 3 * 3600, 30, *start, sog, 90)


def test_geofence_entry_and_exit_for_the_right_vessel_type():
    alerts = run(crossing(A, 30), zones(FISH_ZONE))
    kinds = [(a.type, a.status) for a in alerts if a.type.startswith("geofence")]
    assert kinds == [("geofence_entry", "open"), ("geofence_dwell", "open"), ("geofence_entry", "closed"),
                     ("geofence_exit", "open")]
    entry = alerts[0]
    assert entry.zone is not None and entry.zone.id == "fx" and entry.zone.authority == "SVG Coast Guard"
    assert entry.severity == "high" and entry.vessels[0].ship_type == 30
    assert abs(entry.lon - (ZLON - 0.1)) < 0.01


def test_cargo_crossing_a_fishing_only_zone_raises_nothing():
    assert [a for a in run(crossing(A, 70), zones(FISH_ZONE)) if a.type.startswith("geofence")] == []


def test_first_fix_inside_is_not_an_entry():
    pts = [static(A, T0 - 60, 30)] + track(A, T0, T0 + 600, 30, ZLAT, ZLON, 2, 0)
    assert by_type(run(pts, zones(FISH_ZONE)), "geofence_entry") == []


def test_running_along_the_boundary_does_not_flap():
    # zig-zag 100 m either side of the western edge for two hours
    pts = [static(A, T0 - 60, 30)]
    edge_lon = ZLON - 0.1
    for i in range(240):
        off = 0.001 if i % 2 else -0.001
        pts.append(Position(A, T0 + 30 * i, ZLAT - 0.05 + i * 0.0003, edge_lon + off, 6.0, 0.0, 0, 0, 1, "t"))
    entries = by_type(run(pts, zones(FISH_ZONE)), "geofence_entry")
    assert len({a.id for a in entries}) == 1


def test_distance_outside_a_zone_is_shapelys_nearest_point_on_every_bundled_ruled_zone():
    import random
    from pathlib import Path

    import shapely.ops

    from maritime.detectors.geofence import GeofenceDetector
    from maritime.detectors.tracker import Tracker
    from maritime.zones.index import load_zones

    s = Settings()
    det = GeofenceDetector(s.geofence, Tracker(), load_zones(Path(__file__).parents[3] / "geofences"))
    rnd = random.Random(7)
    checked = 0
    for z in det.zones.zones:
        x0, y0, x1, y1 = z.geometry.bounds
        for _ in range(6):
            lon, lat = rnd.uniform(x0 - 0.05, x1 + 0.05), rnd.uniform(y0 - 0.05, y1 + 0.05)
            near = shapely.ops.nearest_points(z.geometry.boundary, shapely.Point(lon, lat))[0]
            assert det._outside_by_m(z, lat, lon) == haversine_m(lat, lon, near.y, near.x)
            checked += 1
    assert checked >= 60 and len(det._boundaries) == len({z.id for z in det.zones.zones})


def test_the_exit_margin_bound_decides_as_measuring_every_fix_would():
    """Random walks of vessels just outside every bundled ruled zone, some hugging the boundary, some leaving at
    speed, with a margin of 1000 m and of 30 m: each fix's ``_gone`` (measured only when the bound from an earlier
    fix's nearest boundary point cannot tell) is ``_outside_by_m(...) >= margin``, and most fixes are not
    measured."""
    import random
    from pathlib import Path

    import shapely

    from maritime.detectors.geofence import GeofenceDetector
    from maritime.detectors.tracker import Tracker
    from maritime.zones.index import load_zones

    zones_ = load_zones(Path(__file__).parents[3] / "geofences")
    rnd = random.Random(11)
    for margin in (1000.0, 30.0):
        s = Settings.model_validate({"geofence": {"exit_margin_m": margin}})
        det = GeofenceDetector(s.geofence, Tracker(), zones_)
        measured = fixes = 0
        for k, z in enumerate(det.zones.zones):
            edge = z.geometry.boundary
            for walk in range(3):
                mmsi = 200_000_000 + 10 * k + walk
                start = edge.interpolate(rnd.random(), normalized=True)
                lat, lon = start.y, start.x
                step = rnd.choice((0.00005, 0.0005, 0.003))  # drifting, slow, 20 kn between 10 s fixes
                for _ in range(40):
                    lat += rnd.uniform(-step, step)
                    lon += rnd.uniform(-step, step)
                    if z.geometry.contains(shapely.Point(lon, lat)):
                        continue
                    fixes += 1
                    want = det._outside_by_m(z, lat, lon) >= margin
                    before = det._edge_near.get(mmsi, {}).get(z.id)
                    assert det._gone(z, mmsi, lat, lon) == want, (z.id, lat, lon)
                    measured += det._edge_near[mmsi][z.id] is not before  # (a measure keeps a new point)
            det.forget(200_000_000 + 10 * k)
        assert fixes > 2000
        if margin == 1000.0:
            assert measured < fixes / 2, (measured, fixes)


def test_speed_violation_in_zone():
    z = zone("slow", "mpa", (ZLON - 0.1, ZLAT - 0.1, ZLON + 0.1, ZLAT + 0.1), alert_on=["speed"], max_speed_kn=5)
    alerts = by_type(run(crossing(A, 70, sog=9.0), zones(z)), "speed_violation")
    assert [a.status for a in alerts] == ["open", "closed"]
    assert alerts[0].details["limit_kn"] == 5 and alerts[0].details["max_sog_kn"] == 9.0


# -- identity and kinematics -----------------------------------------------------------


def test_position_jump_is_reported_and_withheld():
    lat, lon = OPEN_SEA
    pts = track(A, T0, T0 + 600, 10, lat, lon, 12, 90)
    bad = Position(A, T0 + 605, lat + 1.0, lon, 12, 90, 90, 0, 1, "t")
    pts2 = track(A, T0 + 610, T0 + 1200, 10, *destination(lat, lon, 90, 12 * KN_TO_MS * 610), 12, 90)
    s = Settings()
    sink = Collect()
    pipe = Pipeline(s, assembly=Assembly(s), sinks=[sink])
    seen: list[Position] = []
    pipe.add_listener(lambda r: seen.append(r) if isinstance(r, Position) else None)
    for r in [*pts, bad, *pts2]:
        pipe.process(r.time_s, (None, [r]))
    jumps = by_type(sink.alerts, "position_jump")
    assert len(jumps) == 1 and jumps[0].details["distance_nm"] == pytest.approx(60.0, abs=0.5)
    assert bad not in seen and len(seen) == len(pts) + len(pts2)


def test_same_mmsi_in_two_places():
    recs = []
    for i in range(30):
        recs.append(Position(A, T0 + 20 * i, 14.0 + i * 0.0005, -66.0, 10, 0, 0, 0, 1, "t"))
        recs.append(Position(A, T0 + 20 * i + 10, 16.0 + i * 0.0005, -63.0, 10, 0, 0, 0, 1, "t"))
    anomalies = [a for a in run(recs) if a.type == "identity_anomaly"]
    assert [a.details["anomaly"] for a in anomalies] == ["shared_mmsi"]


@pytest.mark.parametrize(("mmsi", "kind", "severity"), [
    (970123456, "distress_device", "critical"), (123456789, "default_mmsi", "medium"),
    (12345, "invalid_mmsi", "medium"), (799000001, "invalid_mmsi", "medium")])
def test_invalid_and_distress_mmsis(mmsi, kind, severity):
    alerts = [a for a in run(track(mmsi, T0, T0 + 60, 10, *OPEN_SEA, 1, 0)) if a.type == "identity_anomaly"]
    assert [(a.details["anomaly"], a.severity) for a in alerts] == [(kind, severity)]


def test_valid_mmsis_raise_nothing():
    for mmsi in (376000500, 111232506, 992351234):
        assert [a for a in run(track(mmsi, T0, T0 + 60, 10, *OPEN_SEA, 1, 0)) if a.type == "identity_anomaly"] == []


def test_position_deep_inland_is_an_anomaly():
    alerts = [a for a in run(track(A, T0, T0 + 120, 10, 18.9, -70.9, 0.0, 0)) if a.type == "identity_anomaly"]
    assert [a.details["anomaly"] for a in alerts] == ["on_land"]


# -- determinism ------------------------------------------------------------------------


def _scenario() -> list:
    return meeting(3.0) + crossing(C, 30) + track(376300001, T0, T0 + 3600, 60, *OPEN_SEA, 12, 90)


def test_replaying_twice_gives_the_same_alerts():
    idx = zones(FISH_ZONE)
    first = [a.to_json() for a in run(_scenario(), idx)]
    second = [a.to_json() for a in run(_scenario(), idx)]
    assert first == second and first


@settings(max_examples=8, deadline=None)
@given(st.integers(min_value=1, max_value=50), st.integers(min_value=0, max_value=10_000))
def test_ids_do_not_depend_on_how_input_is_chunked(n_chunks, shift):
    """Feeding the same records in chunks with watermark ticks in between gives the same alert ids, wherever
    the chunks begin (``shift`` moves every boundary)."""
    idx = zones(FISH_ZONE)
    recs = sorted(_scenario(), key=lambda r: r.time_s)
    whole = {a.id for a in run(recs, idx)}
    s = Settings()
    sink = Collect()
    pipe = Pipeline(s, assembly=Assembly(s, idx), sinks=[sink])
    size = max(1, math.ceil(len(recs) / n_chunks))
    cuts = sorted({0, *range(shift % size, len(recs), size), len(recs)})
    for start, end in itertools.pairwise(cuts):
        chunk = recs[start:end]
        for r in chunk:
            pipe.process(r.time_s, (None, [r]))
        pipe.advance(chunk[-1].time_s)
    pipe.finish()
    assert {a.id for a in sink.alerts} == whole
