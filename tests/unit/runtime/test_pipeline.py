"""The embedded pipeline: event-time order, duplicates, merging, summary contract, CLI."""

from __future__ import annotations

import heapq
import json
import random
import subprocess
import sys
from typing import Any

import jsonschema
import pytest

from maritime.config import Settings, load_settings
from maritime.ingest.eventtime import Deduplicator, Reorder, reorder_window
from maritime.ingest.sources import parse_source
from maritime.models import Position
from maritime.runtime.pipeline import Pipeline
from tests.conftest import BASE, contract, line, nmea, recording_params

#: the reference reorder window, and the one the build runs (the typed core's when built)
REORDERS = [pytest.param(Reorder, id="reference"), pytest.param(reorder_window, id="built")]


@pytest.mark.parametrize("make", REORDERS)
def test_reorder_releases_in_time_order_and_drops_late(make: Any):
    late: list = []
    r = make(60, on_late=lambda t, it: late.append(t))
    out = []
    for t in [100, 130, 110, 170, 120, 200, 260, 105]:
        out += r.push(t, t)
    out += r.flush()
    assert [t for t, _ in out] == [100, 110, 120, 130, 170, 200, 260]
    assert late == [105]


class HeapReorder:
    """The reorder window as a heap alone (the reference :class:`Reorder` is tested against)."""

    def __init__(self, window_s: float) -> None:
        self.window_s, self.heap, self.n = window_s, [], 0
        self.max_s = self.released_s = float("-inf")
        self.late: list = []

    def push(self, t: float, item: object) -> list:
        if t < self.released_s:
            self.late.append(item)
            return []
        heapq.heappush(self.heap, (t, self.n, item))
        self.n += 1
        self.max_s = max(self.max_s, t)
        out = []
        while self.heap and self.heap[0][0] <= self.max_s - self.window_s:
            tt, _, it = heapq.heappop(self.heap)
            out.append((tt, it))
        if out:
            self.released_s = out[-1][0]
        return out

    def flush(self) -> list:
        out = [(t, it) for t, _, it in sorted(self.heap)]
        self.heap.clear()
        return out


@pytest.mark.parametrize("make", REORDERS)
def test_reorder_releases_what_a_heap_would_for_ordered_and_disordered_input(make: Any):
    """The queue for items in order and the heap after the first out of order: the same releases, at the same
    pushes, and the same late items as a heap alone, on input in order, nearly in order, with equal times, and
    shuffled."""
    for seed in range(60):
        rng = random.Random(seed)
        window = rng.choice([0.0, 5.0, 60.0])
        times = sorted(rng.choice([0.0, 0.5, 1.0, 2.0]) * k for k in range(400))
        if seed % 3 == 1:  # nearly in order: a few late or early
            for i in rng.sample(range(400), 20):
                times[i] += rng.uniform(-90.0, 30.0)
        elif seed % 3 == 2:
            rng.shuffle(times)
        late: list = []
        r, ref = make(window, on_late=lambda _t, it, late=late: late.append(it)), HeapReorder(window)
        for i, t in enumerate(times):
            assert list(r.push(t, i)) == ref.push(t, i), (seed, i)
            assert len(r) == len(ref.heap)
        assert r.flush() == ref.flush() and late == ref.late and len(r) == 0


def test_deduplicator_window():
    d = Deduplicator(60)
    assert not d.is_duplicate(b"x", 0)
    assert d.is_duplicate(b"x", 30)
    assert not d.is_duplicate(b"y", 40)
    assert not d.is_duplicate(b"x", 100)  # the first sighting has left the window
    assert d.duplicates == 1


def test_out_of_order_input_is_put_back_in_order(tmp_path):
    times = [BASE + t for t in (0, 10, 5, 20, 15, 30, 25)]
    p = tmp_path / "ooo.nmea"
    p.write_bytes(b"\n".join(line(t, i) for i, t in enumerate(times)) + b"\n")
    pipe = Pipeline(Settings())
    got: list[float] = []
    pipe.add_listener(lambda r: got.append(r.time_s))
    summary = pipe.replay(parse_source(str(p)))
    assert got == sorted(times)
    assert summary["positions"] == 7 and summary["rejected"] == {}


def test_two_receivers_merge_by_time_and_duplicates_drop(tmp_path):
    a = tmp_path / "rx_a.nmea"
    b = tmp_path / "rx_b.nmea"
    a.write_bytes(b"\n".join(line(BASE + 10 * i, i, "a") for i in range(0, 20)) + b"\n")
    # receiver b heard messages 10..29: 10..19 are duplicates of a's (same payload), a few seconds later
    b.write_bytes(b"\n".join(line(BASE + 10 * i + 2, i, "b") for i in range(10, 30)) + b"\n")
    pipe = Pipeline(Settings())
    got: list[Position] = []
    pipe.add_listener(got.append)
    summary = pipe.replay(parse_source(str(a)) + parse_source(str(b)))
    assert summary["messages"] == 40 and summary["duplicates"] == 10 and summary["positions"] == 30
    assert [p.time_s for p in got] == sorted(p.time_s for p in got)
    assert summary["first_time"] == "2025-05-14T08:00:00Z" and summary["last_time"] == "2025-05-14T08:04:52Z"


def test_untimed_lines_before_the_first_timestamp_take_it(tmp_path):
    p = tmp_path / "mixed.nmea"
    untimed_a = nmea("AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sb,0")
    untimed_b = nmea("AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sc,0")
    p.write_bytes(b"\n".join([untimed_a, line(BASE, 1), untimed_b]) + b"\n")
    pipe = Pipeline(Settings())
    got: list[float] = []
    pipe.add_listener(lambda r: got.append(r.time_s))
    pipe.replay(parse_source(str(p)))
    assert got == [BASE, BASE, BASE]


def test_settings_from_toml(tmp_path):
    cfg = tmp_path / "m.toml"
    cfg.write_text("[gaps]\nmin_gap_h = 3\n[rendezvous]\nprofile = 'watch_floor'\n")
    s = load_settings(cfg)
    assert s.gaps.min_gap_h == 3 and s.rendezvous.active.max_distance_m == 250
    cfg.write_text("[gaps]\nmin_gap_h = -1\n")
    with pytest.raises(Exception, match="min_gap_h"):
        load_settings(cfg)


# -- the CLI contract ---------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "maritime.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("path", recording_params())
def test_replay_summary_json_follows_the_contract(path, tmp_path):
    out = tmp_path / "s.json"
    dead = tmp_path / "dead.jsonl"
    res = run_cli("replay", str(path), "--summary-json", str(out), "--dead-letter", str(dead), "-q")
    assert res.returncode == 0, res.stderr
    summary = json.loads(out.read_text())
    jsonschema.validate(summary, contract("summary.schema.json"))
    dead_lines = [json.loads(x) for x in dead.read_text().splitlines()]
    assert len(dead_lines) == sum(summary["rejected"].values())
    assert all(d["reason"] and d["source"] == path.name for d in dead_lines)
    assert summary["messages"] == sum(summary["messages_by_type"].values())


def test_replay_exit_status_on_bad_arguments(tmp_path):
    res = run_cli("replay", str(tmp_path / "nope.nmea"))
    assert res.returncode == 1 and "no such file" in res.stderr
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[gaps\n")
    f = tmp_path / "x.nmea"
    f.write_bytes(line(BASE, 0) + b"\n")
    res = run_cli("replay", str(f), "--config", str(cfg))
    assert res.returncode == 2 and "not valid TOML" in res.stderr
    res = run_cli("replay", "tcp://127.0.0.1:9")
    assert res.returncode == 2 and "watch" in res.stderr


def test_replay_of_garbage_completes_with_rejects(tmp_path):
    f = tmp_path / "junk.bin"
    f.write_bytes(bytes(range(256)) * 50 + b"\n" + line(BASE, 0) + b"\n\xff\xfe garbage\n")
    out = tmp_path / "s.json"
    res = run_cli("replay", str(f), "--summary-json", str(out), "-q")
    assert res.returncode == 0, res.stderr
    s = json.loads(out.read_text())
    assert s["messages"] == 1 and sum(s["rejected"].values()) >= 2
