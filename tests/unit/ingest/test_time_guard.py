"""Times are validated where they enter: no line can crash the watch or poison a run's clock."""

from __future__ import annotations

import json
import subprocess
import sys

from maritime.config import Settings
from maritime.ingest.ais import AisDecoder
from maritime.ingest.errors import DecodeStats
from maritime.ingest.eventtime import TimeGuard
from maritime.ingest.sources import parse_source
from maritime.sim.encode import tag_block
from tests.conftest import Collect, assembled_pipeline

GOOD = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"
T0 = 1_328_182_324


def tagged(t: int, sentence: str = GOOD) -> bytes:
    return tag_block(f"c:{t},s:rx") + sentence.encode()


def decode(lines: list[bytes]) -> tuple[list, DecodeStats]:
    stats = DecodeStats()
    dec = AisDecoder("t", stats=stats, default_time_s=float(T0), guard=TimeGuard())
    out = [r for ln in lines for r in (dec.decode_line(ln) or (b"", []))[1]]
    return out, stats


def test_times_outside_2000_to_2099_are_rejected_with_a_reason():
    lines = [f"0001-01-01T00:00:00+01:00 {GOOD}".encode(), f"9999-12-31T23:59:59-01:00 {GOOD}".encode(),
             tagged(315_964_800), f"2024-05-01T12:00:00Z {GOOD}".encode()]
    recs, stats = decode(lines)
    assert stats.rejected == {"bad_time": 3}
    assert len(recs) == 1


def test_one_far_future_line_is_quarantined_and_its_neighbours_are_untouched():
    lines = [tagged(T0 + k) for k in range(10)] + [tagged(4_000_000_000)] + [tagged(T0 + 10 + k) for k in range(10)]
    recs, stats = decode(lines)
    assert stats.rejected == {"time_outlier": 1}
    assert [r.time_s for r in recs] == [float(T0 + k) for k in range(10)] + [float(T0 + 10 + k) for k in range(10)]


def test_a_clock_that_really_jumps_is_followed_once_lines_confirm_it():
    guard = TimeGuard(6 * 3600, confirm=3)
    day2 = T0 + 86_400
    verdicts = [guard.accept(t) for t in [T0, T0 + 1, day2, day2 + 1, day2 + 2, day2 + 3]]
    assert verdicts == [True, True, False, False, True, True]


def test_a_replay_with_poisoned_lines_finishes_with_every_line_accounted_for(tmp_path):
    p = tmp_path / "poisoned.nmea"
    good = [tagged(T0 + k) for k in range(30)]
    p.write_bytes(b"\n".join([f"0001-01-01T00:00:00+01:00 {GOOD}".encode(), *good[:15], tagged(4_000_000_000),
                              tagged(315_964_800), *good[15:], f"9999-12-31T23:59:59-01:00 {GOOD}".encode()])
                  + b"\n")
    summary_path = tmp_path / "summary.json"
    proc = subprocess.run([sys.executable, "-m", "maritime.cli", "replay", str(p), "--summary-json",
                           str(summary_path), "--map", str(tmp_path / "map.html"), "-q", "--zones", "none"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    summary = json.loads(summary_path.read_text())
    assert summary["rejected"] == {"bad_time": 3, "time_outlier": 1}
    assert summary["lines"] == 34 and summary["first_time"].startswith("2012-02-02")
    assert summary["last_time"].startswith("2012-02-02")


def test_csv_times_outside_the_range_are_bad_rows(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("MMSI,BaseDateTime,LAT,LON,SOG,COG\n"
                 "366053209,0001-01-01T00:00:00+01:00,14.0,-61.0,1,1\n"
                 "366053209,2024-05-01T00:00:00,14.0,-61.0,1,1\n")
    sink = Collect()
    summary = assembled_pipeline(Settings(), [sink]).replay(parse_source(str(p)))
    assert summary["rejected"] == {"bad_time": 1} and summary["positions"] == 1
