"""The typed core's quiet path of the detectors (``maritime/core/quiet.pyx``) against their own Python code: the
same alerts and the same state, position by position, on every recording and on generated feeds.

These run where the core is built (``.ci/run`` builds it); an editable install runs the Python path only, and says
so by skipping them."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import maritime.core
from maritime.config import IdentitySettings, IngestSettings, Settings
from maritime.detectors.gaps import GapDetector
from maritime.detectors.geofence import GeofenceDetector
from maritime.detectors.identity import IdentityGate
from maritime.detectors.loitering import LoiteringDetector
from maritime.detectors.rendezvous import RendezvousDetector
from maritime.detectors.tracker import Tracker
from maritime.detectors.voyage import VoyageDetector
from maritime.geo import destination
from maritime.geo import fast_distance_m as geo_distance
from maritime.ingest.sources import parse_source
from maritime.models import Position, VesselInfo
from maritime.runtime.assembly import Assembly
from maritime.runtime.pipeline import Pipeline
from maritime.zones.index import ZoneIndex, load_zones
from tests.conftest import OPEN_SEA, T0, Collect, meeting, recording_params, static, track, zone, zones

QUIET = maritime.core.load("quiet")
needs_core = pytest.mark.skipif(QUIET is None, reason="the typed core is not built here (an editable install): "
                                                      ".ci/run builds it and runs these")


ROOT = Path(__file__).resolve().parents[3]


@functools.cache
def caribbean() -> ZoneIndex:
    """The bundled Caribbean zones, and three more where the generated vessels sail: a zone with a dwell rule of
    2 min (an integer, as a zone file may give it), a speed limit of 10 kn, and a rule for fishing vessels only."""
    extra = zones(zone("dwell", "restricted", (-66.2, 14.4, -65.8, 14.6), alert_on=["entry", "dwell"], dwell_min=2),
                  zone("slow", "mpa", (-61.4, 13.0, -61.1, 13.3), alert_on=["entry", "speed"], max_speed_kn=10),
                  zone("fishers", "custom", (-66.3, 18.3, -65.9, 18.6), alert_on=["entry", "exit", "dwell"],
                       vessel_types=["fishing"]))
    return ZoneIndex([*load_zones(ROOT / "geofences").zones, *extra.zones])


def parts(pipe: Pipeline) -> list[Any]:
    """The gate and the detectors with a quiet path: identity, gaps, rendezvous, geofences, loitering, voyages."""
    out: list[Any] = [next(g for g in pipe.chain.gates if isinstance(g, IdentityGate))]
    for kind in (GapDetector, RendezvousDetector, GeofenceDetector, LoiteringDetector, VoyageDetector):
        out.append(next(d for d in pipe.chain.detectors if isinstance(d, kind)))
    return out


def state_of(pipe: Pipeline) -> Any:
    """What they hold, as plain data (the order of the gap sweep, the rendezvous grid and the rows the arrivals
    stage has taken in included)."""
    gate, gaps, rendezvous, geofence, loitering, voyage = parts(pipe)
    arrivals = pipe.arrivals
    return (msgspec.to_builtins(gate.state), msgspec.to_builtins(gaps.state), list(gaps._by_last.items()),
            rendezvous.snapshot(), sorted((k, sorted(v)) for k, v in rendezvous._cells.items()),
            sorted((k, sorted(v)) for k, v in rendezvous._pairs.items()), msgspec.to_builtins(geofence.state),
            msgspec.to_builtins(loitering.state), msgspec.to_builtins(voyage.state),
            arrivals.last_bucket, [msgspec.to_builtins(p[:5]) for p in sorted(arrivals.pending)], arrivals.checked_s)


def pipeline(quiet: bool, monkeypatch: pytest.MonkeyPatch, s: Settings | None = None) -> tuple[Pipeline, Collect]:
    """The embedded pipeline with the quiet path (checked in use) or without it (the detectors' Python code)."""
    s = s or Settings()
    sink = Collect()
    with monkeypatch.context() as m:
        if not quiet:
            m.setattr(maritime.core, "quiet_path", lambda: None)
        pipe = Pipeline(s, assembly=Assembly(s, caribbean()), sinks=[sink])
    assert all((p._quiet is not None) is quiet for p in parts(pipe))
    assert (pipe.chain._run is not None) is quiet
    assert (type(pipe.chain.listeners[0]).__name__ == "ArrivalsListener") is quiet
    return pipe, sink


def alerts(sink: Collect) -> list[dict[str, Any]]:
    return [a.as_dict() for a in sink.alerts]


def side_by_side(feed: list[Any], monkeypatch: pytest.MonkeyPatch, s: Settings | None = None,
                 after: Any = None) -> list[tuple[Pipeline, Collect]]:
    """The feed through the pipeline with the quiet path and without it, record by record: the same state and the
    same alerts after each (``after(rec, runs)`` then called)."""
    runs = [pipeline(quiet, monkeypatch, s) for quiet in (True, False)]
    for rec in feed:
        for pipe, _sink in runs:
            pipe.process(rec.time_s, (None, [rec]))
        assert state_of(runs[0][0]) == state_of(runs[1][0])
        assert alerts(runs[0][1]) == alerts(runs[1][1])
        if after is not None:
            after(rec, runs)
    return runs


@needs_core
@pytest.mark.parametrize("path", recording_params())
def test_every_recording_gives_the_same_alerts_and_state_with_the_quiet_path(path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings(ingest=IngestSettings(start_time="2025-05-14T08:00:00Z"))  # untimed lines: the same times
    got = []
    for quiet in (True, False):
        pipe, sink = pipeline(quiet, monkeypatch, s)
        pipe.replay(parse_source(str(path)), workers=1)
        got.append((alerts(sink), state_of(pipe)))
    assert got[0] == got[1]


@st.composite
def feeds(draw: st.DrawFn) -> list[Position | VesselInfo]:
    """A few vessels near Caribbean land and in open sea, often at the same spot: steady tracks that stop and
    start again (pairs that meet and part), silences past the gap length, jumps, fixes back in time,
    delivery-time uncertainties, unknown speeds and statuses, shared MMSIs, zones entered, left and stayed in."""
    mmsis = draw(st.lists(st.sampled_from([366999001, 366999002, 1193046, 970123456, 12345]), min_size=1,
                          max_size=3, unique=True))
    out: list[Position | VesselInfo] = []
    t0 = 1.75e9
    # open sea, a pair's spot, off St Vincent, off San Juan, off Grenada, outside the land region, and well
    # inside Hispaniola (a fix on land)
    spots = [(14.5, -66.0), (14.5, -66.001), (13.16, -61.23), (18.45, -66.1), (12.05, -61.75), (35.0, -40.0),
             (19.0, -70.7)]
    together = draw(st.booleans())  # all of them near one spot (pairs meet)
    for k, mmsi in enumerate(mmsis):
        lat, lon = (14.5, -66.0 - 0.001 * k) if together else draw(st.sampled_from(spots))
        t = t0 + draw(st.integers(0, 600))
        course = draw(st.floats(0, 359))
        sog = draw(st.sampled_from([0.0, 0.4, 8.0, 14.5, 25.0]))
        for _ in range(draw(st.integers(1, 60))):
            sog = draw(st.sampled_from([sog, sog, sog, sog, 0.3, 12.0]))
            step = draw(st.sampled_from([10.0, 10.0, 10.0, 2.0, 0.0, -30.0, 600.0, 3 * 3600.0, 9 * 3600.0]))
            t += step
            kind = draw(st.sampled_from(["on", "on", "on", "on", "jump", "back", "far"]))
            if kind == "on":
                lat, lon = destination(lat, lon, course, sog * 1852 / 3600 * max(step, 0.0))
                plat, plon = lat, lon
            elif kind == "jump":
                plat, plon = destination(lat, lon, draw(st.floats(0, 359)), draw(st.floats(500.0, 4e5)))
            elif kind == "back":
                plat, plon = lat, lon
                lat, lon = destination(lat, lon, 90.0, 10.0)
            else:  # a second transmitter far away, for a while
                plat, plon = lat + 3.0, lon - 4.0
            err = draw(st.sampled_from([0.0, 0.0, 0.0, 60.0, 300.0, 1800.0]))
            out.append(Position(mmsi, t, plat, plon, draw(st.sampled_from([sog, None])), course, None,
                                draw(st.sampled_from([0, 1, 5, None])), 1, "gen", err))
        if draw(st.booleans()):  # its type learnt on the way: fishing, cargo or a tug
            out.append(VesselInfo(mmsi, draw(st.sampled_from([p.time_s for p in out if p.mmsi == mmsi])) + 1.0,
                                  "GEN", ship_type=draw(st.sampled_from([30, 70, 52])), msg_type=5, source="gen"))
    out.sort(key=lambda p: p.time_s)
    return out


@needs_core
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(feed=feeds(), land=st.booleans())
def test_generated_feeds_give_the_same_alerts_and_state_position_by_position(feed: list[Any], land: bool,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """With the land check and without it (a fix then reaches the track's limit in C, its time uncertainty
    included, instead of being checked against land for having moved 5 km)."""
    runs = side_by_side(feed, monkeypatch, Settings(identity=IdentitySettings(land_check=land)))
    for pipe, _sink in runs:
        pipe.finish()
    assert alerts(runs[0][1]) == alerts(runs[1][1])


@needs_core
def test_the_common_fix_is_taken_in_c() -> None:
    """A vessel heard every 10 s on its course: after its first fix (which makes its state and checks land), each
    one is taken by the quiet path of both the identity gate and the gap detector, which leave the state the
    Python code leaves."""
    s = Settings()
    trackers = [Tracker(), Tracker()]
    gates = [IdentityGate(s.identity, t) for t in trackers]
    gaps = [GapDetector(s.gaps, t) for t in trackers]
    gates[1]._quiet = gaps[1]._quiet = None
    lat, lon = 14.5, -66.0
    for i in range(30):
        lat, lon = destination(lat, lon, 45.0, 10 * 12 * 1852 / 3600)
        pos = Position(366999001, 1.75e9 + 10.0 * i, lat, lon, 12.0, 45.0, 45, 0, 1, "rx")
        for tracker, gate, det in zip(trackers, gates, gaps, strict=True):
            vessel = tracker.get(pos.mmsi)
            assert gate.check(pos, vessel) == (True, [])
            tracker.on_position(pos)
            assert det.on_position(pos, vessel) == []
            vessel.last = pos
        assert msgspec.to_builtins(gates[0].state) == msgspec.to_builtins(gates[1].state)
        assert msgspec.to_builtins(gaps[0].state) == msgspec.to_builtins(gaps[1].state)
    assert (gates[0].quiet.taken, gaps[0].quiet.taken) == (29, 29), "every fix after the first went through C"


@needs_core
@settings(max_examples=500, deadline=None)
@given(lat1=st.floats(-89, 89), lon1=st.floats(-180, 180), dlat=st.floats(-2, 2), dlon=st.floats(-400, 400))
def test_the_c_distance_is_the_python_distance_to_the_last_bit(lat1: float, lon1: float, dlat: float,
                                                                dlon: float) -> None:
    """The distances the quiet path compares are :func:`maritime.geo.fast_distance_m`'s, bit for bit (across 180°
    too), so that a threshold is judged the same in C and in Python."""
    lat2 = max(-89.0, min(89.0, lat1 + dlat))
    lon2 = lon1 + dlon
    a = QUIET.fast_distance_m(lat1, lon1, lat2, lon2)
    b = geo_distance(lat1, lon1, lat2, lon2)
    assert a == b or (math.isnan(a) and math.isnan(b))


@needs_core
def test_a_vessel_with_uncertain_times_is_judged_in_c_with_its_uncertainty() -> None:
    """Once a vessel has sent two reports with delivery-time stamps, its exact-time fixes are judged with the
    largest uncertainty it has had (``IdentityGate._time_err``): a fix 15 km on, 60 s later, fits its track only
    with that allowance, and is taken in C as the Python code takes it."""
    s = Settings(identity=IdentitySettings(land_check=False))
    trackers = [Tracker(), Tracker()]
    gates = [IdentityGate(s.identity, t) for t in trackers]
    gates[1]._quiet = None
    t0 = 1.75e9
    fixes = [Position(366999001, t0, 14.5, -66.0, 10.0, 90.0, None, 0, 1, "sat", 600.0),
             Position(366999001, t0 + 60, 14.5, -66.0, 10.0, 90.0, None, 0, 1, "sat", 600.0)]
    lat, lon = destination(14.5, -66.0, 90.0, 15_000.0)
    fixes.append(Position(366999001, t0 + 120, lat, lon, 10.0, 90.0, None, 0, 1, "rx", 0.0))
    for pos in fixes:
        for tracker, gate in zip(trackers, gates, strict=True):
            assert gate.check(pos, tracker.get(pos.mmsi)) == (True, [])
    assert gates[0].quiet.taken == 1, "the exact-time fix was taken in C"
    assert msgspec.to_builtins(gates[0].state) == msgspec.to_builtins(gates[1].state)
    assert gates[0].state[366999001].tracks[0].err == 600.0


@needs_core
@pytest.mark.parametrize("hours", [0.5, 3.0, 5.5], ids=["closeness-short-of-a-rendezvous", "rendezvous",
                                                   "rendezvous-with-hourly-updates"])
def test_a_pair_that_parts_is_parted_by_python_then_left_to_c(hours: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two vessels slow together, then off at 12 kn: their slow fixes that only add to the closeness go through
    C (not the first, the one that reaches the duration, nor the hourly updates); the first fix under way of each
    is judged by Python (a closeness that ends short of the duration is forgotten, a rendezvous is closed); once
    the pair has parted, the rest of their fixes under way go through C; alerts and state are the same as
    without C at every fix."""
    feed = sorted(meeting(hours), key=lambda p: p.time_s)
    runs = side_by_side(feed, monkeypatch)
    rendezvous = parts(runs[0][0])[2]
    under_way = sum(1 for p in feed if p.sog_kn == 12)
    # every fix under way but the first of each, and the slow fixes that only add to the closeness, went to C
    slow_taken = rendezvous.quiet.taken - (under_way - 2)
    assert 0.5 * (len(feed) - under_way) < slow_taken < len(feed) - under_way
    kinds = {(a["type"], a["status"]) for a in alerts(runs[0][1])}
    assert (("rendezvous", "closed") in kinds) is (hours > 2)
    assert (("rendezvous", "update") in kinds) is (hours > 4)


@needs_core
def test_a_vessel_back_under_way_after_leaving_the_grid_parts_its_pair_in_python(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A vessel that lay beside another and then fell silent leaves the grid of slow vessels before their
    closeness is judged over; its next fix, under way, is not in the grid but still in an unparted pair, and C
    leaves it to Python, which parts (here: forgets) the pair."""
    s = Settings()
    max_gap_s = s.rendezvous.max_interp_gap_min * 60
    a, b, c = 366999001, 366999002, 366999003
    lat, lon = 14.5, -66.0
    blat, blon = destination(lat, lon, 90.0, 100.0)
    feed = [Position(a, T0, lat, lon, 0.5, 0.0, None, 0, 1, "rx")]
    feed += [Position(b, T0 + 60.0 * k, blat, blon, 0.5, 0.0, None, 0, 1, "rx") for k in range(11)]
    feed += [Position(c, t, 16.0, -70.0 + (t - T0) / 1e5, 12.0, 90.0, None, 0, 1, "rx")
             for t in np.arange(T0 + 660.0, T0 + max_gap_s + 300.0, 60.0).tolist()]
    back = Position(a, T0 + max_gap_s + 300.0, lat, lon, 12.0, 0.0, None, 0, 1, "rx")
    runs = [pipeline(quiet, monkeypatch, s) for quiet in (True, False)]
    for pos in feed:
        for pipe, _sink in runs:
            pipe.process(pos.time_s, (None, [pos]))
    for pipe, _sink in runs:
        parts(pipe)[2].on_watermark(back.time_s)  # what the pipeline's tick does before the fix (again: a no-op)
    rendezvous = parts(runs[0][0])[2]
    ep = rendezvous.state.get((a, b))
    assert a not in rendezvous._where and ep is not None and ep.parted is None and ep.last <= back.time_s
    for pipe, _sink in runs:
        pipe.process(back.time_s, (None, [back]))
    assert state_of(runs[0][0]) == state_of(runs[1][0])
    assert (a, b) not in rendezvous.state


@needs_core
@settings(max_examples=300, deadline=None)
@given(lat=st.floats(-70, 40), lon=st.floats(-100, -30))
def test_a_point_c_calls_surely_at_sea_is_not_on_land(lat: float, lon: float) -> None:
    """The land checks answered in C are the ones the land mask answers False: outside its region, or in a cell
    with no land in it (once the mask has worked the cell out)."""
    s = Settings()
    gate = IdentityGate(s.identity, Tracker())
    assert gate.land is not None
    on_land = gate.land.on_land(lat, lon)
    index = gate.land.index
    quiet = QUIET.IdentityQuiet({}, {}, 50.0, 0.0, 0.0, True, 1.0, gate.land.region, index.cells, index.cell_deg,
                                index.sub_cells, index.sub_deg)
    if quiet.surely_at_sea(lat, lon):
        assert not on_land
    if not (s.identity.land_region[0] <= lon <= s.identity.land_region[2]
            and s.identity.land_region[1] <= lat <= s.identity.land_region[3]):
        assert quiet.surely_at_sea(lat, lon) is (lat >= -60.0)


@needs_core
def test_near_a_coast_a_point_in_a_sub_cell_with_no_land_is_answered_in_c_and_is_at_sea() -> None:
    """4,000 points around Saint Lucia and off San Juan, where every cell has land: once the mask has checked a
    point, the points C then calls surely at sea (their sub-cell, about 1.4 km, clear of land) are in no land
    polygon, and most points at sea there are answered so."""
    import random

    s = Settings()
    gate = IdentityGate(s.identity, Tracker())
    assert gate.land is not None
    index = gate.land.index
    quiet = QUIET.IdentityQuiet({}, {}, 50.0, 0.0, 0.0, True, 1.0, gate.land.region, index.cells, index.cell_deg,
                                index.sub_cells, index.sub_deg)
    rnd = random.Random(3)
    points = [(rnd.uniform(13.65, 14.15), rnd.uniform(-61.15, -60.75)) for _ in range(3000)]
    points += [(rnd.uniform(18.40, 18.55), rnd.uniform(-66.25, -65.95)) for _ in range(1000)]
    at_sea = in_c = 0
    for lat, lon in points:
        gate.land.on_land(lat, lon)
        sea = not index.is_land(lat, lon)
        if quiet.surely_at_sea(lat, lon):
            assert sea, (lat, lon)
            in_c += sea and index.may_be_land(lat, lon)
        at_sea += sea and index.may_be_land(lat, lon)  # at sea in a cell with land: the sub-cells' work
    assert in_c > 0.6 * at_sea and at_sea > 1000, (in_c, at_sea)


@needs_core
def test_a_ship_that_leaves_port_twice_is_judged_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ship that calls at Vieux Fort, sails 40 km out to sea, comes back and sails out again along the same
    line: its port look-ups in open sea go through C (the cells were worked out on the first passage). Then it
    is next heard two hours after lying in port, 40 km out: that look-up, in a known cell of open sea, leaves its
    port, which begins a new voyage in Python."""
    from tests.conftest import voyage_day

    mmsi = 376000500
    feed = sorted(voyage_day(mmsi), key=lambda r: r.time_s)
    t = feed[-1].time_s + 600
    port, sea = (13.723, -60.955), (13.723, -60.58)
    for leg in (0, 1, 0, 1):  # out, back, out, back (and the first leg out again below)
        for k in range(41):
            f = k / 40 if leg == 0 else 1 - k / 40
            feed.append(Position(mmsi, t, port[0], port[1] + (sea[1] - port[1]) * f, 20.0 if 0 < k < 40 else 0.3,
                                 90.0 if leg == 0 else 270.0, None, 0, 1, "test"))
            t += 150.0
    feed.append(Position(mmsi, t + 7200, sea[0], sea[1], 12.0, 90.0, None, 0, 1, "test"))
    voyage = parts(side_by_side(feed, monkeypatch)[0][0])[5]
    assert voyage.quiet.taken > 60
    assert voyage.state[mmsi].in_port is None and voyage.state[mmsi].left_s == t + 7200


@needs_core
def test_a_ship_lying_in_port_has_its_look_ups_in_c_and_its_arrival_and_departure_in_python(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A ship that comes into Vieux Fort at 12 kn (its look-ups in the port zone while under way are in C, its call
    not yet judged), slows down (the call is judged in Python), lies there for six hours (every look-up in C: the
    same port, its call judged, the last port near it kept), then sails out (leaving is Python's). The same state
    as Python's at every fix."""
    mmsi = 376000501
    port = (13.723, -60.955)
    feed: list[Any] = [static(mmsi, T0 - 60, 70)]
    t = T0
    for k in range(12):  # in from 3 km out, under way
        feed.append(Position(mmsi, t, port[0], port[1] + 0.03 * (1 - k / 11), 12.0, 270.0, None, 0, 1, "test"))
        t += 30.0
    for _ in range(6 * 60):  # lying there, a fix a minute
        feed.append(Position(mmsi, t, port[0], port[1], 0.2, 0.0, None, 5, 1, "test"))
        t += 60.0
    for k in range(60):  # out to sea
        feed.append(Position(mmsi, t, port[0], port[1] + 0.01 * k, 12.0, 90.0, None, 0, 1, "test"))
        t += 60.0
    runs = side_by_side(feed, monkeypatch)
    voyage = parts(runs[0][0])[5]
    st = voyage.state[mmsi]
    assert st.in_port is None and st.last_call is not None and st.recent_port is not None
    in_python = len(feed) - 1 - voyage.quiet.taken  # of 180 look-ups in port, and 50 more in and out
    # the first fix, entering, the call, leaving, and each look-up in a cell (or a harbour edge's sub-cell) not
    # worked out yet
    assert in_python <= 20, in_python


@needs_core
def test_a_slow_episode_goes_on_in_c_and_is_judged_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cargo ship drifting at 1.5 kn in open sea for seven hours, then under way: its episode begins in
    Python, goes on in C, is raised at four hours and updated each hour after in Python, and ends in Python when
    it speeds up. The same state and alerts as Python's at every fix."""
    mmsi = 366999003
    lat, lon = OPEN_SEA
    feed: list[Any] = [static(mmsi, T0 - 60, 70)]
    feed += track(mmsi, T0, T0 + 7 * 3600, 30, lat, lon, 1.5, 45)
    feed += track(mmsi, T0 + 7 * 3600, T0 + 8 * 3600, 30, feed[-1].lat, feed[-1].lon, 12.0, 45)
    runs = side_by_side(feed, monkeypatch)
    loitering = parts(runs[0][0])[4]
    raised = [(a["status"]) for a in alerts(runs[0][1]) if a["type"] == "loitering"]
    assert raised[0] == "open" and raised.count("update") >= 2 and raised[-1] == "closed"
    slow = 7 * 3600 // 30
    in_python = len(feed) - 1 - loitering.quiet.taken
    assert in_python <= len(raised) + 3, (in_python, slow)  # begun, each judgement, ended


@needs_core
def test_a_slow_drift_apart_parts_the_pair_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two vessels slow together for an hour, then one drifts off east at 1.8 kn (still slow, still in the
    grid's neighbouring cells): the fix at which they are clearly apart parts them (the closeness, short of the
    duration, is forgotten), in Python; the fixes before it, in C."""
    lat, lon = OPEN_SEA
    blat, blon = destination(lat, lon, 90, 150.0)
    a = track(366999001, T0, T0 + 3600, 10, lat, lon, 0.4, 45)
    a += track(366999001, T0 + 3600, T0 + 3600 + 2400, 10, a[-1].lat, a[-1].lon, 1.8, 90.0)
    b = track(366999002, T0 + 5, T0 + 3600 + 2400, 60, blat, blon, 0.3, 45, msg_type=18, status=None)
    feed = sorted(a + b, key=lambda p: p.time_s)
    together = []

    def pair(_rec: Any, runs: list[Any]) -> None:
        together.append((366999001, 366999002) in parts(runs[0][0])[2].state)

    rendezvous = parts(side_by_side(feed, monkeypatch, after=pair)[0][0])[2]
    assert any(together) and not together[-1]
    assert rendezvous.quiet.taken > len(feed) // 2


@needs_core
def test_a_pair_at_anchor_by_a_port_is_followed_in_c_once_judged_ordinary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two ships at anchor side by side off San Juan for three hours: at the rendezvous duration Python judges the
    pair ordinary life (near a port) and raises nothing; every later fix that only adds to the closeness is
    taken in C."""
    lat, lon = 18.47, -66.12
    blat, blon = destination(lat, lon, 90, 120.0)
    feed = sorted(track(366999001, T0, T0 + 3 * 3600, 10, lat, lon, 0.2, 45)
                  + track(366999002, T0 + 5, T0 + 3 * 3600, 60, blat, blon, 0.2, 45), key=lambda p: p.time_s)
    taken = []

    def count(rec: Any, runs: list[Any]) -> None:
        if rec.time_s < T0 + 2 * 3600:
            taken.append(parts(runs[0][0])[2].quiet.taken)

    rendezvous = parts(side_by_side(feed, monkeypatch, after=count)[0][0])[2]
    taken_before = taken[-1]
    assert rendezvous.state[(366999001, 366999002)].suppressed == "near_harbour"
    after = sum(1 for p in feed if p.time_s >= T0 + 2 * 3600)
    assert rendezvous.quiet.taken - taken_before >= after - 3


@needs_core
def test_a_rest_goes_on_in_c_and_is_counted_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ship at anchor for three hours, then a second rest 2 km off after a short move, then under way: each
    rest begins in Python, goes on in C (its last fix and sums moved), and is counted in Python when it reaches
    ``rest_min_h``; the learned cells and rests are the same as Python's at every fix."""
    from maritime.detectors.anchorages import LearnedAnchorages

    calls: list[int] = []
    observe = LearnedAnchorages.observe

    def counted(self: Any, pos: Any, excluded: Any) -> None:
        calls.append(pos.mmsi)
        observe(self, pos, excluded)

    monkeypatch.setattr(LearnedAnchorages, "observe", counted)
    lat, lon = 18.47, -66.12
    first = track(366999001, T0, T0 + 3 * 3600, 30, lat, lon, 0.2, 45)
    blat, blon = destination(first[-1].lat, first[-1].lon, 90, 2000.0)
    second = track(366999001, T0 + 3 * 3600 + 60, T0 + 6 * 3600, 30, blat, blon, 0.1, 90)
    away = track(366999001, T0 + 6 * 3600 + 60, T0 + 7 * 3600, 30, blat, blon, 9.0, 90)
    feed = first + second + away
    runs = side_by_side(feed, monkeypatch)
    quiet, plain = (parts(pipe)[2].learned for pipe, _sink in runs)
    assert quiet.cells == plain.cells and len(quiet.cells) == 2, "both rests counted, in their own cells"
    slow = len(first) + len(second)
    in_python = len(calls) - slow  # the run without the quiet path calls it at every slow fix
    assert 4 <= in_python <= 10, in_python  # each rest begun and counted (a few more near the harbour's edge)


@needs_core
def test_a_fix_in_a_crossed_cell_is_taken_in_c_where_its_sub_cell_is_clear() -> None:
    """A vessel inside a restricted area sails east along its south side, in cells that side crosses: 140 m inside
    it (a sub-cell the side keeps clear of), each fix after the entry is taken in C, but for the first one in a
    cell (Python works out its sub-cells); 30 m inside it (the side runs through the sub-cell), none is, and
    Python tests the point. The state is Python's after every fix."""
    from maritime.config import GeofenceSettings

    area = zones(zone("box", "restricted", (-66.2037, 14.4037, -65.8, 14.6), alert_on=["entry", "exit"]))
    trackers = [Tracker(), Tracker()]
    dets = [GeofenceDetector(GeofenceSettings(), t, area) for t in trackers]
    dets[1]._quiet = None
    f = dets[0].zones.cell_deg
    taken = []
    new_cells = 0
    for k, lat in enumerate((14.4050, 14.4040)):
        for i in range(40):
            lon = -66.15 + 0.001 * i
            key = (math.floor(lat / f), math.floor(lon / f))
            pos = Position(366999002, 1.75e9 + 1000.0 * k + 10.0 * i, lat, lon, 6.0, 90.0, 90, 0, 1, "rx")
            new_cells += k == 0 and i > 0 and (dets[0].zones.cells.get(key) or (0, 0, None))[2] is None
            got = []
            for tracker, det in zip(trackers, dets, strict=True):
                vessel = tracker.get(pos.mmsi)
                tracker.on_position(pos)
                got.append([a.as_dict() for a in det.on_position(pos, vessel)])
                vessel.last = pos
                assert det.zones.cells[key][1], "the side crosses the fix's cell"
            assert got[0] == got[1]
            assert msgspec.to_builtins(dets[0].state) == msgspec.to_builtins(dets[1].state)
        taken.append(dets[0].quiet.taken)
    assert new_cells == 2 and taken[0] == 39 - new_cells, "after the entry, the fixes 140 m inside went through C"
    assert taken[1] == taken[0], "none 30 m inside did: the side runs through their sub-cells"
    assert list(dets[0].state[366999002]) == ["box"]
