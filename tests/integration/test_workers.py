"""``replay --workers N``: files decoded in worker processes give what one process gives, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import maritime.runtime.pipeline as pipeline_mod
from maritime.cli import app
from maritime.config import Settings
from maritime.ingest.sources import SourceError, parse_source
from maritime.runtime.decode_workers import default_workers
from maritime.sim.simulator import Simulator
from tests.conftest import NMEA_DIR, Collect, assembled_pipeline, full_recordings, recordings


@pytest.fixture(scope="module")
def day(tmp_path_factory, zone_index, grid) -> Path:
    out = tmp_path_factory.mktemp("sim")
    sim = Simulator(8, 60, seed=11, zones=zone_index, grid=grid)
    sim.build()
    sim.write(out)
    return out / "traffic.nmea"


@pytest.fixture()
def always_parallel(monkeypatch):
    """Worker processes however small the input (the replay keeps small inputs in one process)."""
    monkeypatch.setattr(pipeline_mod, "PARALLEL_MIN_BYTES", 0)


def run(paths: list[Path], workers: int, settings: Settings, zone_index, progress=None
        ) -> tuple[list[dict], list[dict], dict]:
    """Alerts (as sent, in order), dead letters (in order) and the summary without its timing."""
    sink = Collect()
    dead: list[dict] = []
    pipe = assembled_pipeline(settings, [sink], lambda r: dead.append(r.as_dict()), zone_index)
    specs = [s for p in paths for s in parse_source(str(p))]
    summary = pipe.replay(specs, progress=progress, workers=workers)
    summary.pop("seconds")
    return [a.as_dict() for a in sink.alerts], dead, summary


@pytest.mark.slow
def test_simulated_day_in_two_processes_equals_one(day, zone_index, always_parallel, monkeypatch):
    # small chunks, so that a file goes over many chunks and the merge waits on the worker often
    monkeypatch.setattr("maritime.runtime.decode_workers.CHUNK_LINES", 700)
    one = run([day], 1, Settings(), zone_index)
    two = run([day], 2, Settings(), zone_index)
    assert one[0], "the simulated day raises alerts"
    assert {a["type"] for a in one[0]} >= {"dark_gap", "rendezvous", "geofence_entry"}
    assert two == one


@pytest.mark.parametrize("whole", [False, pytest.param(True, marks=[pytest.mark.slow, pytest.mark.shared_data])],
                         ids=["excerpts", "full"])
def test_real_recordings_with_late_rejected_and_multipart_lines(whole, zone_index, always_parallel, monkeypatch):
    """Satellite lines out of step, bad checksums, orphan fragments and $PGHP times are met where one process
    meets them: the same alerts in the same order, the same dead letters in the same order."""
    paths = full_recordings() if whole else recordings()
    monkeypatch.setattr("maritime.runtime.decode_workers.CHUNK_LINES", 333 if whole else 40)
    settings = Settings(ingest={"start_time": "2024-01-01T00:00:00Z"})
    for path in paths:
        one = run([path], 1, settings, zone_index)
        assert run([path], 2, settings, zone_index) == one, path.name
    one = run(paths, 1, settings, zone_index)
    assert one[1], "the recordings have rejected lines"
    # a replay reads each recording in event-time order: nothing is late, whatever the satellite batches did
    assert one[2]["late_positions"] + one[2]["rejected"].get("late", 0) == 0
    # every recording merged by event time (duplicates across receivers dropped), files spread over two workers
    assert run(paths, 3, settings, zone_index) == one


@pytest.mark.slow
def test_files_and_a_csv_table_merged(day, zone_index, always_parallel, tmp_path):
    """A CSV table is read in the main process and merged with the files decoded in the workers."""
    table = tmp_path / "extra.csv"
    table.write_text("mmsi,timestamp,lat,lon,sog,cog\n"
                     + "".join(f"376999001,2025-05-14T0{h}:00:00Z,13.{h}0,-61.20,9.0,90\n" for h in range(6)),
                     encoding="utf-8")
    one = run([day, table], 1, Settings(), zone_index)
    assert one[2]["positions"] > 6
    assert run([day, table], 2, Settings(), zone_index) == one


def test_progress_reaches_every_byte(day, zone_index, always_parallel, monkeypatch):
    monkeypatch.setattr("maritime.runtime.decode_workers.CHUNK_LINES", 2000)
    seen = []
    _alerts, _dead, summary = run([day], 2, Settings(), zone_index, progress=seen.append)
    assert len(seen) >= 5
    assert [p.lines for p in seen] == sorted(p.lines for p in seen)
    assert seen[-1].lines == summary["lines"]
    assert seen[-1].bytes_done == seen[-1].bytes_total == day.stat().st_size


def test_small_inputs_stay_in_one_process(day, zone_index, monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("a worker was started for a small input")

    monkeypatch.setattr(pipeline_mod, "DecodePool", refuse)
    assert day.stat().st_size < pipeline_mod.PARALLEL_MIN_BYTES
    assert run([day], 4, Settings(), zone_index)[2]["lines"] > 0


def test_a_file_cut_short_is_said_from_the_worker_after_what_it_held(day, tmp_path, zone_index, always_parallel,
                                                                     monkeypatch):
    """A gzip file cut short: the lines before the cut are replayed, then the same one-line reason as in one
    process."""
    import gzip

    monkeypatch.setattr("maritime.runtime.decode_workers.CHUNK_LINES", 500)
    whole = gzip.compress(day.read_bytes())
    gz = tmp_path / "cut.nmea.gz"
    gz.write_bytes(whole[: len(whole) // 2])
    got = {}
    for n in (1, 2):
        sink = Collect()
        pipe = assembled_pipeline(Settings(), [sink], None, zone_index)
        with pytest.raises(SourceError) as err:
            pipe.replay(parse_source(str(gz)), workers=n)
        got[n] = (str(err.value), pipe.stats.decode.lines, [a.as_dict() for a in sink.alerts])
    assert "cut.nmea.gz: the gzip data ends early" in got[1][0]
    assert got[1][1] > 1000
    assert got[2] == got[1]


@pytest.mark.slow
def test_cli_workers_give_the_same_files(day, tmp_path, always_parallel):
    runner = CliRunner()
    outs = {}
    for n in (1, 2):
        d = tmp_path / f"w{n}"
        got = runner.invoke(app, ["replay", str(day), "--workers", str(n), "-q", "--alerts", str(d / "alerts.jsonl"),
                                  "--dead-letter", str(d / "dead.jsonl"), "--summary-json", str(d / "summary.json")])
        assert got.exit_code == 0, got.output
        summary = json.loads((d / "summary.json").read_text())
        summary.pop("seconds")
        outs[n] = ((d / "alerts.jsonl").read_bytes(), (d / "dead.jsonl").read_bytes(), summary)
    assert outs[1][0]
    assert outs[2] == outs[1]


def test_default_is_the_cores_this_process_may_use():
    import os

    assert default_workers() == len(os.sched_getaffinity(0))


def live(paths: list[Path], workers: int, zone_index) -> tuple[list[dict], list[dict], dict]:
    """``watch`` on files (read as live feeds: each to its end): alerts, dead letters, summary."""
    import asyncio

    sink = Collect()
    dead: list[dict] = []
    pipe = assembled_pipeline(Settings(), [sink], lambda r: dead.append(r.as_dict()), zone_index)
    specs = [s for p in paths for s in parse_source(str(p))]
    summary = asyncio.run(pipe.run_live(specs, workers=workers))
    summary.pop("seconds")
    return [a.as_dict() for a in sink.alerts], dead, summary


@pytest.mark.slow
def test_watch_with_a_decode_worker_equals_one_process(day, zone_index, tmp_path):
    """Live feeds decoded in a worker: each batch's messages and rejected lines are handled as when decoded in
    the watch's own process (the feeds here carry their own times, so the two runs can be compared)."""
    feeds = [day]
    sat = NMEA_DIR / "exactearth_20120202_tagblock.nmea"
    if sat.exists():
        feeds.append(sat)
    # a feed with damage: bad checksums, a fragment whose rest never comes, garbage bytes
    lines = day.read_bytes().splitlines()[:3000]
    bad = [ln[:-2] + b"00" if i % 97 == 0 else ln for i, ln in enumerate(lines)]
    bad.insert(1500, b"\\c:1747200000*00\\!AIVDM,2,1,7,A,55NBjP01mtGIL@CW;SM<D60P5Ld,0*40")
    bad.insert(2000, b"\xff\xfe garbage")
    damaged = tmp_path / "damaged.nmea"
    damaged.write_bytes(b"\n".join(bad) + b"\n")
    feeds.append(damaged)
    for feed in feeds:
        one = live([feed], 1, zone_index)
        assert one[0] or feed != day, "the simulated day raises alerts"
        assert live([feed], 2, zone_index) == one, feed.name
    assert one[1], "the damaged feed has rejected lines"
    # several feeds at once are interleaved as their batches come, in one process or several: the same lines
    # are decoded and rejected
    one = live(feeds, 1, zone_index)
    two = live(feeds, 2, zone_index)
    key = json.dumps
    assert sorted(map(key, two[1])) == sorted(map(key, one[1]))
    for k in ("lines", "messages", "messages_by_type", "rejected", "warnings"):
        assert two[2][k] == one[2][k], k


@pytest.mark.slow
def test_notebook_replay_with_workers_gives_the_same_tables(day, always_parallel):
    from maritime import analysis

    one = analysis.replay([day], workers=1)
    two = analysis.replay([day], workers=2)
    assert len(one.alerts) > 0
    assert one.alerts.drop(columns="geometry").equals(two.alerts.drop(columns="geometry"))
    assert len(one.positions) == len(two.positions)
    one.summary.pop("seconds")
    two.summary.pop("seconds")
    assert one.summary == two.summary


def _kill_workers() -> int:
    import multiprocessing
    import os
    import signal

    kids = multiprocessing.active_children()
    for p in kids:
        os.kill(p.pid, signal.SIGKILL)
    return len(kids)


@pytest.mark.slow
def test_a_worker_killed_mid_replay_loses_nothing(day, zone_index, always_parallel, monkeypatch, caplog):
    """The file is decoded again in the main process from its start, the chunks already replayed skipped:
    the same alerts, dead letters and summary as one process."""
    monkeypatch.setattr("maritime.runtime.decode_workers.CHUNK_LINES", 1000)
    one = run([day], 1, Settings(), zone_index)
    killed = []

    def progress(p) -> None:
        if len(killed) == 0 and p.lines > 5000:
            killed.append(_kill_workers())

    two = run([day], 2, Settings(), zone_index, progress=progress)
    assert killed == [1]
    assert "decode worker stopped" in caplog.text
    assert two == one


def test_a_worker_killed_mid_watch_does_not_stop_it(day, zone_index, caplog):
    """Its feed's batches, those already sent to it included, are decoded in the watch's own process."""
    import asyncio

    sink = Collect()
    pipe = assembled_pipeline(Settings(), [sink], None, zone_index)
    seen = [0]
    killed = []

    def listener(_rec) -> None:
        seen[0] += 1
        if seen[0] == 3000:
            killed.append(_kill_workers())

    pipe.add_listener(listener)
    summary = asyncio.run(pipe.run_live(parse_source(str(day)), workers=2))
    assert killed == [1]
    assert "decode worker stopped" in caplog.text
    assert summary["lines"] == len(day.read_bytes().splitlines())
    assert seen[0] > 3000 * 5


_BROKEN_CLEANUP = '''
import os, signal, sys, time
import concurrent.futures.process as cfp
from concurrent.futures import InvalidStateError, ProcessPoolExecutor
import multiprocessing as mp
sys.path.insert(0, sys.argv[1])
from maritime.runtime.decode_workers import stop_pool


def slow(x):
    time.sleep(30)
    return len(x)


def crash(self, cause):  # what Python 3.11's clean-up does at a future cancelled under it
    raise InvalidStateError("CANCELLED: a future the caller cancelled")


if __name__ == "__main__":
    cfp._ExecutorManagerThread.terminate_broken = crash
    pool = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"))
    pool.submit(slow, b"x")
    time.sleep(2.0)
    waiting = [pool.submit(slow, b"y" * 1_000_000) for _ in range(4)]  # more than the pipe holds
    time.sleep(0.5)
    for p in mp.active_children():
        os.kill(p.pid, signal.SIGKILL)
    time.sleep(0.5)
    stop_pool(pool)
    print("stopped", flush=True)
'''


def test_a_pool_whose_cleanup_broke_off_does_not_hang_the_exit(tmp_path):
    """A dead worker, calls still waiting to be written to it, and the executor's own clean-up stopped half-way
    (as it does on Python 3.11 at a cancelled future): ``stop_pool`` leaves nothing for the interpreter to wait
    for at exit. (A test process hung so in CI, after ``test_a_worker_killed_mid_watch_does_not_stop_it``.)"""
    import subprocess
    import sys

    from tests.conftest import ROOT

    script = tmp_path / "broken_cleanup.py"
    script.write_text(_BROKEN_CLEANUP)
    got = subprocess.run([sys.executable, str(script), str(ROOT)], capture_output=True, text=True, timeout=120)
    assert got.returncode == 0 and "stopped" in got.stdout, got.stderr[-2000:]
