"""One clock per source: no single line sets or moves a clock, sources never make each other's lines outliers."""

from __future__ import annotations

import json
import subprocess
import sys

from maritime.config import Settings
from maritime.ingest.ais import AisDecoder
from maritime.ingest.clocks import SourceClocks
from maritime.ingest.errors import DecodeStats
from maritime.ingest.sources import parse_source
from maritime.sim.encode import tag_block
from tests.conftest import EXCERPTS_DIR, Collect, assembled_pipeline

GOOD = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"
T0 = 1_328_182_324
FAR = 4_000_000_000  # 2096


def tagged(t: int, sentence: str = GOOD, station: str = "rx") -> bytes:
    return tag_block(f"c:{t},s:{station}") + sentence.encode()


def judge(messages: list[tuple[str, float, bool]], **kw: object) -> tuple[list[tuple[float, int]], list[int]]:
    """``(source, time, timed)`` messages through the clocks: what is released (time, index), what quarantined."""
    quarantined: list[int] = []
    clocks = SourceClocks(on_quarantine=lambda _s, _t, m, _why: quarantined.append(m), **kw)  # type: ignore[arg-type]
    out = []
    for i, (src, t, timed) in enumerate(messages):
        out += [(t2, m) for t2, m in clocks.push(src, t, timed, i)]
    out += clocks.flush()
    return sorted(out, key=lambda x: x[1]), sorted(quarantined)


def test_times_outside_2000_to_2099_are_rejected_with_a_reason():
    stats = DecodeStats()
    dec = AisDecoder("t", stats=stats, default_time_s=float(T0))
    lines = [f"0001-01-01T00:00:00+01:00 {GOOD}".encode(), f"9999-12-31T23:59:59-01:00 {GOOD}".encode(),
             tagged(315_964_800), f"2024-05-01T12:00:00Z {GOOD}".encode()]
    recs = [r for ln in lines for r in (dec.decode_line(ln) or (b"", []))[1]]
    assert stats.rejected == {"bad_time": 3}
    assert len(recs) == 1


def test_a_far_future_first_line_sets_no_clock():
    msgs = [("rx", float(FAR), True)] + [("rx", float(T0 + k), True) for k in range(20)]
    released, quarantined = judge(msgs)
    assert quarantined == [0]
    assert [t for t, _ in released] == [float(T0 + k) for k in range(20)]


def test_one_far_future_line_is_quarantined_and_its_neighbours_are_untouched():
    msgs = [("rx", float(T0 + k), True) for k in range(10)] + [("rx", float(FAR), True)]
    msgs += [("rx", float(T0 + 10 + k), True) for k in range(10)]
    released, quarantined = judge(msgs)
    assert quarantined == [10] and len(released) == 20


def test_a_clock_that_really_jumps_is_followed_once_consecutive_timed_lines_confirm_it():
    day2 = T0 + 86_400
    msgs = [("rx", float(T0 + k), True) for k in range(6)] + [("rx", float(day2 + k), True) for k in range(8)]
    released, quarantined = judge(msgs, confirm=5)
    assert quarantined == [] and [t for t, _ in released][-8:] == [float(day2 + k) for k in range(8)]


def test_far_lines_that_are_not_in_a_row_never_confirm_a_jump():
    """Poisoned lines with good ones, or lines with no time of their own, between them: all quarantined."""
    msgs: list[tuple[str, float, bool]] = [("rx", float(T0 + k), True) for k in range(6)]
    for k in range(10):
        msgs += [("rx", float(FAR + k), True), ("rx", float(T0 + 6 + k), False)]  # an untimed line between
    for k in range(10):
        msgs += [("rx", float(FAR + 20 + k), True), ("rx", float(T0 + 30 + k), True)]  # a good line between
    released, quarantined = judge(msgs, confirm=3)
    assert len(quarantined) == 20
    assert all(t < FAR for t, _ in released)


def test_lines_with_no_time_of_their_own_take_their_sources_clock_not_an_outliers():
    msgs = [("rx", float(T0 + k), True) for k in range(6)] + [("rx", float(FAR), True), ("rx", float(FAR), False)]
    released, quarantined = judge(msgs)
    assert quarantined == [6]
    assert released[-1] == (float(T0 + 5), 7)


def test_two_receivers_hours_apart_never_make_each_other_outliers():
    msgs = []
    for k in range(500):
        msgs += [("recA", float(T0 + k), True), ("recB", float(T0 + 8 * 3600 + k), True)]
    released, quarantined = judge(msgs)
    assert quarantined == [] and len(released) == 1000


def interleaved_receivers(tmp_path, hours_apart: float = 8.0):
    p = tmp_path / "two.nmea"
    lines = []
    for k in range(200):
        lines += [tagged(T0 + k, station="recA"), tagged(int(T0 + hours_apart * 3600 + k), station="recB")]
    p.write_bytes(b"\n".join(lines) + b"\n")
    return p


def test_a_replay_of_two_receivers_hours_apart_keeps_every_line(tmp_path):
    summary = assembled_pipeline(Settings(), [Collect()]).replay(parse_source(str(interleaved_receivers(tmp_path))))
    assert summary["lines"] == 400 and summary["rejected"] == {} and summary["late_positions"] == 0
    assert summary["messages"] == 400


def test_a_replay_with_poisoned_lines_finishes_with_every_line_accounted_for(tmp_path):
    p = tmp_path / "poisoned.nmea"
    good = [tagged(T0 + k) for k in range(30)]
    p.write_bytes(b"\n".join([tagged(FAR), f"0001-01-01T00:00:00+01:00 {GOOD}".encode(), *good[:15], tagged(FAR),
                              tagged(315_964_800), *good[15:], f"9999-12-31T23:59:59-01:00 {GOOD}".encode()])
                  + b"\n")
    summary_path = tmp_path / "summary.json"
    dead = tmp_path / "dead.jsonl"
    proc = subprocess.run([sys.executable, "-m", "maritime.cli", "replay", str(p), "--summary-json",
                           str(summary_path), "--map", str(tmp_path / "map.html"), "-q", "--zones", "none",
                           "--dead-letter", str(dead)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    summary = json.loads(summary_path.read_text())
    assert summary["rejected"] == {"bad_time": 3, "time_outlier": 2}
    assert summary["lines"] == 35 and summary["first_time"].startswith("2012-02-02")
    assert summary["last_time"].startswith("2012-02-02")
    reasons = [json.loads(x)["reason"] for x in dead.read_text().splitlines()]
    assert sorted(reasons) == ["bad_time"] * 3 + ["time_outlier"] * 2


def test_csv_times_outside_the_range_are_bad_rows(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("MMSI,BaseDateTime,LAT,LON,SOG,COG\n"
                 "366053209,0001-01-01T00:00:00+01:00,14.0,-61.0,1,1\n"
                 "366053209,2024-05-01T00:00:00,14.0,-61.0,1,1\n")
    sink = Collect()
    summary = assembled_pipeline(Settings(), [sink]).replay(parse_source(str(p)))
    assert summary["rejected"] == {"bad_time": 1} and summary["positions"] == 1


def test_a_busy_feed_of_plain_lines_is_not_held_until_it_falls_quiet():
    """Lines with no time of their own (plain NMEA over TCP, their receive time only) never start a clock by
    themselves: after ``max_start_held`` of them the clock starts on what it has and hands them on with their
    receive times, as it would when the feed falls quiet; the next ones pass at once."""
    clocks = SourceClocks(start_lines=5, max_start_held=50)
    got: list[tuple[float, int]] = []
    for i in range(49):
        got += clocks.push("tcp", T0 + i, False, i)
    assert got == [] and clocks.held() == 49
    got += clocks.push("tcp", T0 + 49, False, 49)
    assert got == [(float(T0 + i), i) for i in range(50)] and clocks.held() == 0
    assert clocks.push("tcp", T0 + 50, False, 50) == [(float(T0 + 50), 50)]
    # a source with times of its own still waits for its first timed lines to judge them
    mixed = SourceClocks(start_lines=5, max_start_held=50)
    assert [mixed.push("rx", T0 + k, True, k) for k in range(4)] == [[], [], [], []]
    assert len(mixed.push("rx", T0 + 4, True, 4)) == 5


def test_a_lone_time_of_a_source_of_its_own_far_from_every_known_clock_is_quarantined():
    """A line with a tag block of its own (no ``s:``: a source of its own) stamped in 2096: the only timed line of
    its source, nothing in it contradicts it, but it lies years from every clock the run knows. Quarantined; a
    lone line a few hours off (another receiver) and a run where no clock is confirmed are left as they were."""
    rx = [("rx", float(T0 + k), True) for k in range(20)]
    released, quarantined = judge([("stray", float(FAR), True), *rx])
    assert quarantined == [0] and [t for t, _ in released] == [float(T0 + k) for k in range(20)]
    reasons: list[str] = []
    clocks = SourceClocks(on_quarantine=lambda _s, _t, _m, why: reasons.append(why))
    for i, (src, t, timed) in enumerate([("stray", float(FAR), True), ("stray", float(FAR + 1), False), *rx]):
        clocks.push(src, t, timed, i)
    out = clocks.flush()
    assert len(reasons) == 1 and "lone time of its source" in reasons[0] and "days from every" in reasons[0]
    assert (float(FAR + 1), 1) in out, "an untimed line of the stray source keeps the time it was given"
    # live, the feeds fall quiet and are flushed again and again: the stray source is judged afresh each time
    assert clocks.flush() == [] and clocks.push("stray", float(FAR + 60), True, 99) == []
    assert clocks.flush() == [] and len(reasons) == 2 and clocks.ref("stray") is None
    released, quarantined = judge([("other", float(T0 + 5 * 3600), True), *rx])
    assert quarantined == [] and len(released) == 21, "a receiver hours away is another receiver"
    released, quarantined = judge([("a", float(FAR), True), ("b", float(T0), True), ("b", float(T0 + 1), True)])
    assert quarantined == [] and len(released) == 3, "no clock is confirmed: nothing to judge a lone time by"


def test_a_far_future_line_with_a_tag_block_of_its_own_does_not_empty_a_real_recording(tmp_path):
    """The exactEarth excerpt with one line first whose tag block has a 2096 time and no station: every vessel of
    the recording is kept (before, the watermark went to 2096 and eviction dropped nearly all of them)."""
    src = (EXCERPTS_DIR / "exactearth_20120202_tagblock.nmea").read_bytes()
    first = src.splitlines()[0]
    stray = tag_block(f"c:{FAR}") + first.rsplit(b"\\", 1)[1]
    p = tmp_path / "stray.nmea"
    p.write_bytes(stray + b"\n" + src)
    base_sink, sink = Collect(), Collect()
    base = assembled_pipeline(Settings(), [base_sink]).replay(
        parse_source(str(EXCERPTS_DIR / "exactearth_20120202_tagblock.nmea")))
    got = assembled_pipeline(Settings(), [sink]).replay(parse_source(str(p)))
    assert got["vessels"] == base["vessels"] > 100
    assert [(a.id, a.status) for a in sink.alerts] == [(a.id, a.status) for a in base_sink.alerts]
    assert got["rejected"].get("time_outlier", 0) == base["rejected"].get("time_outlier", 0) + 1
    assert got["last_time"] == base["last_time"]
