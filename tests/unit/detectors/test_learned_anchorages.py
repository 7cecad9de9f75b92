"""Learned anchorages: a bay nobody drew stops producing meetings once many vessels have rested there.

The scene: a bay far from any drawn port or anchorage. On the first day a
raft of yachts rests there (a group at rest: no alert, and it teaches the
place). On the second day only two yachts lie there: alone, they would be a
"rendezvous"; in a learned anchorage they are not. A true meeting 40 km
offshore is found throughout.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from maritime.config import AnchorageSettings, Settings
from maritime.detectors.anchorages import LearnedAnchorages
from maritime.geo import destination
from maritime.ingest.sources import parse_source
from maritime.models import Position
from maritime.runtime.partitioned import run_partitioned
from maritime.sim.encode import position_payloads, sentences, tag_block
from tests.conftest import Collect, assembled_pipeline

T0 = 1_700_000_000.0
DAY = 86_400.0
BAY = (13.30, -64.90)  # open water in the eastern Caribbean, no zone drawn here
QUICK = Settings.model_validate({"identity": {"land_check": False}})


def resting(mmsi: int, lat: float, lon: float, t0: float, hours: float, step_s: float = 180.0,
            sog: float = 0.2) -> list[Position]:
    out = []
    for k in range(int(hours * 3600 / step_s)):
        plat, plon = destination(lat, lon, (k * 41) % 360, 10.0 + (k % 4) * 5)
        out.append(Position(mmsi, t0 + k * step_s + (mmsi % 17), plat, plon, sog, float((k * 41) % 360), None,
                            None, 18, "test"))
    return out


def raft(first: int, n: int, t0: float, hours: float) -> list[Position]:
    """``n`` yachts resting 150 m apart in the bay."""
    out: list[Position] = []
    for i in range(n):
        out += resting(first + i, *destination(*BAY, 90, 150.0 * i), t0, hours)
    return out


def pair_in_bay(t0: float) -> list[Position]:
    return resting(338300001, *BAY, t0, 3.5) + resting(338300002, *destination(*BAY, 0, 120), t0 + 7, 3.5)


def meeting_offshore(t0: float) -> list[Position]:
    lat, lon = destination(*BAY, 90, 40_000)
    return resting(376000500, lat, lon, t0, 3.5, 60, 0.5) + resting(
        377000700, *destination(lat, lon, 0, 150), t0 + 20, 3.5, 60, 0.5)


def day_one() -> list[Position]:
    return raft(338300100, 6, T0, 6.0) + meeting_offshore(T0 + 3600)


def day_two() -> list[Position]:
    return pair_in_bay(T0 + DAY) + meeting_offshore(T0 + DAY + 3600)


def run(records: list[Position], settings: Settings = QUICK, profiles: Path | None = None) -> list:
    sink = Collect()
    pipe = assembled_pipeline(settings, [sink], profiles=profiles)
    for p in sorted(records, key=lambda p: p.time_s):
        pipe.process(p.time_s, (None, [p]))
    pipe.finish()
    pipe.assembly.close()
    return sink.alerts


def pairs(alerts: list) -> set[frozenset[int]]:
    return {frozenset(v.mmsi for v in a.vessels) for a in alerts if a.type == "rendezvous"}


OFFSHORE = frozenset((376000500, 377000700))
IN_BAY = frozenset((338300001, 338300002))


def test_two_yachts_alone_in_an_undrawn_bay_look_like_a_meeting_without_learning():
    assert pairs(run(day_two())) == {OFFSHORE, IN_BAY}


def test_a_bay_where_many_vessels_rested_stops_producing_meetings():
    assert pairs(run(day_one() + day_two())) == {OFFSHORE}


def test_learning_can_be_switched_off():
    off = Settings.model_validate({"identity": {"land_check": False}, "anchorages": {"learn": False}})
    assert pairs(run(day_one() + day_two(), off)) == {OFFSHORE, IN_BAY}


def test_an_alerted_meeting_does_not_teach_its_place():
    """Five different pairs meeting at one spot at sea, each alerted, never make it an anchorage."""
    recs: list[Position] = []
    for k in range(5):
        t = T0 + k * DAY
        recs += resting(376100000 + 2 * k, *BAY, t, 3.5, 60, 0.5)
        recs += resting(376100001 + 2 * k, *destination(*BAY, 0, 120), t + 11, 3.5, 60, 0.5)
    assert len(pairs(run(recs))) == 5


def test_learned_anchorages_survive_a_restart_in_the_profile_store(tmp_path):
    db = tmp_path / "profiles.sqlite"
    run(day_one(), profiles=db)
    assert pairs(run(day_two(), profiles=db)) == {OFFSHORE}


def test_the_learner_counts_distinct_vessels_and_restores_from_its_snapshot():
    s = AnchorageSettings(min_vessels=3)
    learner = LearnedAnchorages(s)
    for p in sorted(raft(338300100, 2, T0, 3.0) + resting(338300100, *BAY, T0 + DAY, 3.0),
                    key=lambda p: p.time_s):
        learner.observe(p, lambda m: False)
    assert learner.anchorage_at(*BAY) is None  # two vessels (one of them twice) are not yet an anchorage
    for p in resting(338300999, *BAY, T0 + 2 * DAY, 3.0):
        learner.observe(p, lambda m: False)
    assert learner.anchorage_at(*BAY) is not None
    again = LearnedAnchorages(s)
    again.restore(json.loads(json.dumps(learner.snapshot())))
    assert again.learned() == learner.learned()


# -- the distributed runtime and the CLI -----------------------------------------------------------


def nmea_lines(records: list[Position]) -> list[bytes]:
    recs = sorted(records, key=lambda p: p.time_s)
    payloads = position_payloads(
        np.array([p.mmsi for p in recs]), np.array([p.lat for p in recs]), np.array([p.lon for p in recs]),
        np.array([p.sog_kn for p in recs]), np.array([p.cog_deg for p in recs]), np.array([p.cog_deg for p in recs]),
        np.array([15] * len(recs)), np.array([int(p.time_s) % 60 for p in recs]), np.array([True] * len(recs)))
    out = []
    for p, pl in zip(recs, payloads, strict=True):
        out.append(tag_block(f"c:{int(p.time_s)},s:rx") + sentences(pl.tobytes().decode(), 0, 0)[0])
    return out


def test_the_partitioned_runtime_learns_like_the_embedded_run(tmp_path):
    path = tmp_path / "two_days.nmea"
    path.write_bytes(b"\n".join(nmea_lines(day_one() + day_two())) + b"\n")
    sink = Collect()
    assembled_pipeline(QUICK, [sink]).replay(parse_source(str(path)))
    embedded = {a.id: a.status for a in sink.alerts}
    assert {frozenset(v.mmsi for v in a.vessels) for a in sink.alerts if a.type == "rendezvous"} == {OFFSHORE}

    def batches():
        for spec in parse_source(str(path)):
            lines = iter(path.read_bytes().splitlines())
            while chunk := list(itertools.islice(lines, 400)):
                yield spec.name, chunk, T0

    got = {}
    for a in run_partitioned(batches(), QUICK, None, 3, restart_every=5):
        got[a.id] = a.status
    assert got == embedded


def test_zones_learn_writes_a_zone_file_to_review(tmp_path):
    path = tmp_path / "day.nmea"
    path.write_bytes(b"\n".join(nmea_lines(day_one())) + b"\n")
    out = tmp_path / "learned.geojson"
    proc = subprocess.run([sys.executable, "-m", "maritime.cli", "zones", "learn", str(path), "--out", str(out),
                           "--config", str(_quick_config(tmp_path))], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    feats = json.loads(out.read_text())["features"]
    assert len(feats) == 1 and feats[0]["properties"]["kind"] == "anchorage"
    assert feats[0]["properties"]["vessels_seen"] == 6
    check = subprocess.run([sys.executable, "-m", "maritime.cli", "zones", "check", str(out)], capture_output=True,
                           text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr


def _quick_config(tmp_path: Path) -> Path:
    p = tmp_path / "quick.toml"
    p.write_text("[identity]\nland_check = false\n", encoding="utf-8")
    return p
