"""The simulator's invariants, and the round trip simulate → replay → evaluate."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from maritime.config import Settings
from maritime.delivery.jsonl import JsonLinesSink
from maritime.geo import landmask
from maritime.ingest.ais import AisDecoder
from maritime.ingest.sources import parse_source
from maritime.models import Position
from maritime.runtime.assembly import Assembly
from maritime.runtime.pipeline import Pipeline
from maritime.sim.evaluate import evaluate, load_alerts, load_ordinary, load_truth, ordinary_life
from maritime.sim.simulator import Simulator
from maritime.zones.geodata import land_index


@pytest.fixture(scope="module")
def small(tmp_path_factory, grid, zone_index):
    out = tmp_path_factory.mktemp("sim")
    sim = Simulator(5, 30, seed=11, zones=zone_index, grid=grid)
    sim.build()
    info = sim.write(out)
    return out, info, sim


def decode_file(path: Path) -> tuple[AisDecoder, list]:
    d = AisDecoder("sim", default_time_s=0)
    recs = []
    with path.open("rb") as fh:
        for line in fh:
            out = d.decode_line(line)
            if out:
                recs.extend(out[1])
    d.close()
    return d, recs


def test_same_seed_same_files(tmp_path, small, grid, zone_index):
    out, _info, _sim = small
    sim = Simulator(5, 30, seed=11, zones=zone_index, grid=grid)
    sim.build()
    sim.write(tmp_path)
    assert (tmp_path / "traffic.nmea").read_bytes() == (out / "traffic.nmea").read_bytes()
    assert (tmp_path / "truth.json").read_text() == (out / "truth.json").read_text()


def test_lines_are_time_ordered_tag_blocked_and_decode(small):
    out, info, _sim = small
    times = []
    for line in (out / "traffic.nmea").read_bytes().splitlines():
        if line.startswith(b"\\s:") and b",c:" in line:
            c = line.split(b",c:")[1].split(b"*")[0]
            if c.isdigit() and len(c) == 10:  # a corrupted line may have lost part of its tag block
                times.append(int(c))
    # in order, but for the satellite's few seconds of delay
    assert all(b - a >= -3 for a, b in itertools.pairwise(times))
    d, _recs = decode_file(out / "traffic.nmea")
    assert d.stats.lines == info["lines"]
    # only the deliberately corrupted lines are rejected; multipart static data reassembles
    assert sum(d.stats.rejected.values()) <= 3 * info["corrupted"] + 5
    assert d.stats.messages_by_type[5] > 0 and d.stats.messages_by_type[24] > 0
    assert info["corrupted"] > 0


def test_never_on_land(small):
    out, _info, _sim = small
    _d, recs = decode_file(out / "traffic.nmea")
    land = land_index()
    pos = [r for r in recs if isinstance(r, Position)]
    on_land = [p for p in pos if land.is_land(p.lat, p.lon)]
    assert pos and not on_land, on_land[:5]


def test_regional_land_mask_answers_as_the_global_land_mask_package():
    """The Caribbean cut of GLOBE (0.05 MB) gives the package's answers (its whole-earth mask is 930 MB)."""
    globe = pytest.importorskip("global_land_mask.globe", reason="global-land-mask is in the [dev] extra")
    rng = np.random.default_rng(5)
    lat = rng.uniform(6.0, 29.0, 500_000)
    lon = rng.uniform(-91.0, -57.0, 500_000)
    ours = landmask.is_land(lat, lon)
    assert 0.1 < ours.mean() < 0.4  # the region is mostly sea
    assert (ours == globe.is_land(lat, lon)).all()
    assert landmask.on_land(18.2, -66.5) and not landmask.on_land(14.5, -70.0)  # inland Puerto Rico; open sea


def test_berths_are_water_in_the_globe_mask_too(small):
    """The 1 km GLOBE mask fills small harbours in; moored ships lie where it has water as well, and
    under way only narrow channels and reef cays it has and Natural Earth does not are left (< 0.5 %)."""
    out, _info, sim = small
    assert not [b for b in sim.berths if landmask.on_land(*b)]
    _d, recs = decode_file(out / "traffic.nmea")
    pos = [r for r in recs if isinstance(r, Position)]
    wet = landmask.is_land(np.array([p.lat for p in pos]), np.array([p.lon for p in pos]))
    moored = np.array([(p.sog_kn or 0.0) < 0.5 for p in pos])
    assert wet.sum() < 0.005 * len(pos)
    assert (wet & moored).sum() < 0.001 * len(pos)


def test_reporting_intervals_follow_itu(small):
    """Within one leg: Class A 10 s up to 14 kn, 6 s to 23 kn, 2 s above, 3 min moored;
    Class B 30 s under way, 3 min when slow."""
    _out, _info, sim = small
    checked = 0
    for v in sim.vessels:
        for seg in v.segments:
            if seg.t1 - seg.t0 < 900 or seg.t0 < sim.t0 or seg.t1 > sim.t1 or v.silent or v.jumps:
                continue
            got = sim.sample(v, seg.t0 + 1, seg.t1 - 1)
            if got is None or len(got["t"]) < 3:
                continue
            dt = set(np.round(np.diff(got["t"]), 6))
            if v.class_b:
                want = 180.0 if seg.kind == "stay" and seg.speed_kn < 2 else 30.0
            elif seg.kind == "stay" and seg.status in (1, 5):
                want = 180.0
            else:
                want = 10.0 if seg.speed_kn <= 14 else 6.0 if seg.speed_kn <= 23 else 2.0
            assert dt == {want}, (v.kind, seg.kind, seg.speed_kn, dt)
            checked += 1
    assert checked >= 5


def test_truth_is_consistent_with_the_traffic(small):
    out, _info, _sim = small
    _d, recs = decode_file(out / "traffic.nmea")
    heard = {r.mmsi for r in recs}
    truth = json.loads((out / "truth.json").read_text())
    assert truth["events"], "the default scenario scripts events"
    for ev in truth["events"]:
        assert {v["mmsi"] for v in ev["vessels"]} <= heard
        assert ev["type"] in ("dark_gap", "rendezvous", "loitering", "geofence_entry", "geofence_dwell",
                              "geofence_exit", "speed_violation", "position_jump", "destination_change",
                              "arrival_undeclared")
    assert {n["type"] for n in truth["hard_negatives"]} >= {"short_dropout", "moored_together_in_port"}


@pytest.mark.slow
def test_round_trip_recall_and_precision(tmp_path, grid, zone_index):
    sim = Simulator(12, 80, seed=3, zones=zone_index, grid=grid)
    sim.build()
    sim.write(tmp_path)
    s = Settings()
    alerts = tmp_path / "alerts.jsonl"
    pipe = Pipeline(s, assembly=Assembly(s, zone_index), sinks=[JsonLinesSink(alerts)])
    pipe.replay(parse_source(str(tmp_path / "traffic.nmea")))
    report = evaluate(load_truth(tmp_path / "truth.json"), load_alerts(alerts))
    for kind in ("dark_gap", "rendezvous", "loitering", "geofence_entry"):
        r = report[kind]
        assert r["truth"] > 0, kind
        assert r["recall"] >= 0.9, (kind, r)
        assert r["precision"] >= 0.8, (kind, r)
    # dwells and exits are in the truth too (taken from the true tracks), so none is a false alarm
    for kind in ("geofence_dwell", "geofence_exit"):
        r = report.get(kind)
        if r is not None:
            assert r["truth"] == r["alerts"] == r["matched"], (kind, r)


@pytest.mark.slow
def test_an_ordinary_day_raises_no_false_alarm_and_the_scripted_events_are_still_found(tmp_path, grid, zone_index):
    """Yachts in six anchorages, boats at a FAD, a cruise ship with tenders, a tug and a pilot alongside, a
    shared MMSI, ships also heard by a satellite service that stamps reports with their delivery time: truth
    says "nothing to alert" for all of them; the scripted events are still found."""
    sim = Simulator(12, 160, seed=4, zones=zone_index, grid=grid)
    sim.build()
    sim.write(tmp_path)
    s = Settings()
    alerts = tmp_path / "alerts.jsonl"
    Pipeline(s, assembly=Assembly(s, zone_index), sinks=[JsonLinesSink(alerts)]).replay(
        parse_source(str(tmp_path / "traffic.nmea")))
    truth, got = load_truth(tmp_path / "truth.json"), load_alerts(alerts)
    life = ordinary_life(load_ordinary(tmp_path / "truth.json"), truth, got)
    assert life["vessels"] >= 30 and {"yacht_at_anchor", "fishing_at_fad", "cruise_tender", "tug_alongside",
                                      "pilot_alongside", "shared_default_mmsi",
                                      "satellite_batch_delivery"} <= set(life["scenes"])
    assert b"s:sat-batch" in (tmp_path / "traffic.nmea").read_bytes()
    assert life["false_alerts"] == 0, life
    # the delivery-time scene has teeth: taking its stamps as receive times makes the ships jump
    trusting = Settings.model_validate({"ingest": {"default_time_quality": "received"}})
    Pipeline(trusting, assembly=Assembly(trusting, zone_index), sinks=[JsonLinesSink(tmp_path / "trusting.jsonl")]
             ).replay(parse_source(str(tmp_path / "traffic.nmea")))
    batch = {m for m, kind in load_ordinary(tmp_path / "truth.json").items() if kind == "satellite_batch_delivery"}
    jumped = {m for a in load_alerts(tmp_path / "trusting.jsonl") if a.type == "position_jump" for m in a.mmsis}
    assert jumped & batch
    report = evaluate(truth, got)
    for kind in ("rendezvous", "loitering"):
        r = report[kind]
        assert r["precision"] >= 0.9 and r["recall"] >= 0.9, (kind, r)
