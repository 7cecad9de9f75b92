"""The typed core's quiet path of the detectors (``maritime/core/quiet.pyx``) against their own Python code: the
same alerts and the same state, position by position, on every recording and on generated feeds.

These run where the core is built (``.ci/run`` builds it); an editable install runs the Python path only, and says
so by skipping them."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import maritime.core
from maritime.config import IdentitySettings, IngestSettings, Settings
from maritime.detectors.gaps import GapDetector
from maritime.detectors.identity import IdentityGate
from maritime.detectors.tracker import Tracker
from maritime.geo import destination
from maritime.geo import fast_distance_m as geo_distance
from maritime.ingest.sources import parse_source
from maritime.models import Position
from maritime.runtime.assembly import Assembly
from maritime.runtime.pipeline import Pipeline
from tests.conftest import Collect, recording_params

QUIET = maritime.core.load("quiet")
needs_core = pytest.mark.skipif(QUIET is None, reason="the typed core is not built here (an editable install): "
                                                      ".ci/run builds it and runs these")


def parts(pipe: Pipeline) -> tuple[IdentityGate, GapDetector]:
    gate = next(g for g in pipe.chain.gates if isinstance(g, IdentityGate))
    gaps = next(d for d in pipe.chain.detectors if isinstance(d, GapDetector))
    return gate, gaps


def state_of(pipe: Pipeline) -> Any:
    """What the identity gate and the gap detector hold, as plain data (the order of the sweep included)."""
    gate, gaps = parts(pipe)
    return (msgspec.to_builtins(gate.state), msgspec.to_builtins(gaps.state), list(gaps._by_last.items()))


def pipeline(quiet: bool, monkeypatch: pytest.MonkeyPatch, s: Settings | None = None) -> tuple[Pipeline, Collect]:
    """The embedded pipeline with the quiet path (checked in use) or without it (the detectors' Python code)."""
    s = s or Settings()
    sink = Collect()
    with monkeypatch.context() as m:
        if not quiet:
            m.setattr(maritime.core, "quiet_path", lambda: None)
        pipe = Pipeline(s, assembly=Assembly(s, None), sinks=[sink])
    gate, gaps = parts(pipe)
    assert (gate._quiet is not None and gaps._quiet is not None) is quiet
    return pipe, sink


def alerts(sink: Collect) -> list[dict[str, Any]]:
    return [a.as_dict() for a in sink.alerts]


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
def feeds(draw: st.DrawFn) -> list[Position]:
    """A few vessels near Caribbean land and in open sea: steady tracks, silences past the gap length, jumps,
    fixes back in time, delivery-time uncertainties, unknown speeds and statuses, shared MMSIs."""
    mmsis = draw(st.lists(st.sampled_from([366999001, 366999002, 1193046, 970123456, 12345]), min_size=1,
                          max_size=3, unique=True))
    out: list[Position] = []
    t0 = 1.75e9
    for mmsi in mmsis:
        lat, lon = draw(st.sampled_from([(14.5, -66.0), (13.16, -61.23), (18.45, -66.1), (12.05, -61.75)]))
        t = t0 + draw(st.integers(0, 600))
        course = draw(st.floats(0, 359))
        sog = draw(st.sampled_from([0.0, 0.4, 8.0, 14.5, 25.0]))
        for _ in range(draw(st.integers(1, 60))):
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
    out.sort(key=lambda p: p.time_s)
    return out


@needs_core
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(feed=feeds(), land=st.booleans())
def test_generated_feeds_give_the_same_alerts_and_state_position_by_position(feed: list[Position], land: bool,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """With the land check and without it (a fix then reaches the track's limit in C, its time uncertainty
    included, instead of being checked against land for having moved 5 km)."""
    s = Settings(identity=IdentitySettings(land_check=land))
    runs = [pipeline(quiet, monkeypatch, s) for quiet in (True, False)]
    for pos in feed:
        for pipe, _sink in runs:
            pipe.process(pos.time_s, (None, [pos]))
        assert state_of(runs[0][0]) == state_of(runs[1][0])
        assert alerts(runs[0][1]) == alerts(runs[1][1])
    for pipe, _sink in runs:
        pipe.finish()
    assert alerts(runs[0][1]) == alerts(runs[1][1])


def counting(take: Any, taken: list[int]) -> Any:
    """``take`` that counts the positions it took."""
    def wrapped(*args: Any) -> bool:
        got = take(*args)
        taken[0] += bool(got)
        return bool(got)
    return wrapped


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
    by_gate, by_gaps = [0], [0]
    gates[0]._quiet = counting(gates[0]._quiet, by_gate)
    gaps[0]._quiet = counting(gaps[0]._quiet, by_gaps)
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
    assert (by_gate[0], by_gaps[0]) == (29, 29), "every fix after the first went through C"


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
    taken = [0]
    gates[0]._quiet = counting(gates[0]._quiet, taken)
    t0 = 1.75e9
    fixes = [Position(366999001, t0, 14.5, -66.0, 10.0, 90.0, None, 0, 1, "sat", 600.0),
             Position(366999001, t0 + 60, 14.5, -66.0, 10.0, 90.0, None, 0, 1, "sat", 600.0)]
    lat, lon = destination(14.5, -66.0, 90.0, 15_000.0)
    fixes.append(Position(366999001, t0 + 120, lat, lon, 10.0, 90.0, None, 0, 1, "rx", 0.0))
    for pos in fixes:
        for tracker, gate in zip(trackers, gates, strict=True):
            assert gate.check(pos, tracker.get(pos.mmsi)) == (True, [])
    assert taken == [1], "the exact-time fix was taken in C"
    assert msgspec.to_builtins(gates[0].state) == msgspec.to_builtins(gates[1].state)
    assert gates[0].state[366999001].tracks[0].err == 600.0
