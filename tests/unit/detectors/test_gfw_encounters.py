"""Global Fishing Watch's labelled encounter cases (``tests/data/gfw_encounters``), replayed as NMEA.

The positions are theirs; the speed over ground in each type 1 report is the speed implied by the fix before
it (as their pipeline derives speed from positions), or 0 where the case is about a vessel that says it is
still. Their tests use 0.5 km and 30 min (120 min for the cross-day case); the merge is ours by default.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from maritime.config import Settings
from maritime.geo import bearing_deg, haversine_m
from maritime.ingest.sources import parse_source
from maritime.models import Position, VesselInfo
from tests.conftest import Collect, assembled_pipeline, nmea_of

CASES = Path(__file__).resolve().parents[2] / "data" / "gfw_encounters"
#: their vessel ids 1, 2, 3 as MMSIs of our own choosing (a carrier and a fishing vessel)
MMSI = {"1": 412000001, "2": 412000002}
KN = 1852 / 3600


def when(iso: str) -> float:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def case_lines(name: str, still: bool = False) -> list[bytes]:
    rows: dict[int, list[tuple[float, float, float]]] = {}
    with (CASES / f"{name}.csv").open() as f:
        for r in csv.DictReader(f):
            mmsi = MMSI.get(r["vessel"]) or int(r["vessel"])
            rows.setdefault(mmsi, []).append((when(r["time_utc"]), float(r["lat"]), float(r["lon"])))
    recs: list[Position | VesselInfo] = []
    for k, (mmsi, fixes) in enumerate(sorted(rows.items())):
        fixes.sort()
        recs.append(VesselInfo(mmsi, fixes[0][0] - 60, name=f"GFW {mmsi}", ship_type=70 if k == 0 else 30,
                               msg_type=5, source="gfw"))
        prev = None
        for t, lat, lon in fixes:
            sog, cog = 0.0, 0.0
            if prev is not None and t > prev[0] and not still:
                d = haversine_m(prev[1], prev[2], lat, lon)
                sog = min(d / (t - prev[0]) / KN, 102.2)
                cog = bearing_deg(prev[1], prev[2], lat, lon) if d > 0 else 0.0
            if prev is None or t > prev[0]:
                recs.append(Position(mmsi, t, lat, lon, round(sog, 1), round(cog, 1), 511, 0, 1, "gfw"))
            prev = (t, lat, lon)
    return nmea_of(recs)


def rendezvous(tmp_path: Path, name: str, minutes: float = 30.0, still: bool = False, **rdv) -> list:
    path = tmp_path / f"{name}.nmea"
    path.write_bytes(b"\n".join(case_lines(name, still)) + b"\n")
    s = Settings.model_validate({"rendezvous": {"standard": {"min_duration_min": minutes, **rdv}}})
    sink = Collect()
    assembled_pipeline(s, [sink], None, None).replay(parse_source(str(path)))
    return [a for a in sink.alerts if a.type == "rendezvous"]


def hhmm(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M")


def test_simple_meeting_is_found(tmp_path):
    got = rendezvous(tmp_path, "simple")
    assert len({a.id for a in got}) == 1
    assert abs(got[0].start_s - when("2011-01-01T16:10:00Z")) <= 600
    assert got[-1].status == "closed" and abs(got[-1].end_s - when("2011-01-01T17:05:00Z")) <= 900


def test_meeting_across_the_antimeridian_is_found(tmp_path):
    got = rendezvous(tmp_path, "dateline")
    assert len({a.id for a in got}) == 1, [a.summary for a in got]
    a = got[0]
    assert abs(a.start_s - when("2011-01-01T16:10:00Z")) <= 600
    assert abs(abs(a.lon) - 180.0) < 0.01 and -1.48 < a.lat < -1.46  # where they met, not 0°E
    assert a.details["min_distance_m"] < 500


def test_fast_separation_with_speed_zero_is_no_meeting(tmp_path):
    """One vessel still, the other 10° away every other report while saying it does 0 kn: never together
    for 30 min, so no meeting; with the speeds its track implies (1,000 km in 10 min) it is not slow either."""
    assert rendezvous(tmp_path, "fastsep", still=True) == []
    assert rendezvous(tmp_path, "fastsep") == []


def test_meeting_across_midnight_is_one(tmp_path):
    got = rendezvous(tmp_path, "cross_day", minutes=120)
    assert len({a.id for a in got}) == 1
    assert abs(got[0].start_s - when("2011-01-01T22:10:00Z")) <= 600
    assert abs(got[-1].end_s - when("2011-01-02T01:05:00Z")) <= 900


def test_real_pair_is_one_meeting_across_an_eight_hour_silence(tmp_path):
    got = rendezvous(tmp_path, "real")
    assert len({a.id for a in got}) == 1, [(a.id, a.status, hhmm(a.time_s)) for a in got]
    assert abs(got[0].start_s - when("2015-03-19T07:40:00Z")) <= 1200
    # GFW's meeting ends at 20:10, where one track falls silent for 81 min, more than its resampling bridges;
    # here that silence parts them and the closeness after it (to 22:09, the last fixes) is merged in
    closed = [a for a in got if a.status == "closed"]
    assert closed and when("2015-03-19T20:10:00Z") <= closed[-1].end_s <= when("2015-03-19T22:10:00Z")
    assert {v.mmsi for v in got[0].vessels} == {441910000, 563418000}


def test_real_pair_splits_when_merging_is_shorter_than_the_silence(tmp_path):
    """The merge is a setting: with 4 h (less than the 8 h silence) the two meetings are two events."""
    got = rendezvous(tmp_path, "real", merge_gap_h=4.0)
    assert len({a.id for a in got}) == 2


def test_the_partitioned_runtime_agrees_on_every_case():
    """The same alerts (ids, statuses) from the partitioned runtime, 1 and 3 partitions with restarts from its
    tables: across 180° (tiles go round) and the fast separation (the other transmitter's place reaches the tile
    of the pair)."""
    from maritime.runtime.partitioned import run_partitioned

    for name, still in (("dateline", False), ("fastsep", True), ("simple", False)):
        lines = case_lines(name, still)
        s = Settings.model_validate({"rendezvous": {"standard": {"min_duration_min": 30.0}}})
        embedded = sorted((a.id, a.status) for a in _replay(lines, s) if a.type == "rendezvous")
        batches = [("gfw", lines[i:i + 5], None) for i in range(0, len(lines), 5)]
        for parts, restart in ((1, 0), (3, 2)):
            got = sorted((a.id, a.status) for a in run_partitioned(batches, s, None, parts, restart_every=restart)
                         if a.type == "rendezvous")
            assert got == embedded, (name, parts, got, embedded)


def _replay(lines: list[bytes], s: Settings) -> list:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "case.nmea"
        path.write_bytes(b"\n".join(lines) + b"\n")
        sink = Collect()
        assembled_pipeline(s, [sink], None, None).replay(parse_source(str(path)))
    return sink.alerts
