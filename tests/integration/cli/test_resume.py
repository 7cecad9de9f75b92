"""``watch --state DIR``: a restarted run goes on where it was (real processes, real files)."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import T0, nmea_of, voyage_day

MARITIME = [sys.executable, "-m", "maritime.cli"]

#: each test runs the CLI two or three times as processes: left to the slow run
pytestmark = pytest.mark.slow


def stamp(ln: bytes) -> int:
    m = re.search(rb"c:(\d+)", ln)
    assert m is not None
    return int(m.group(1))


def watch(path: Path, state: Path, alerts: Path) -> subprocess.CompletedProcess[str]:
    res = subprocess.run([*MARITIME, "watch", str(path), "--state", str(state), "--alerts", str(alerts), "--json",
                          "--workers", "1"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def records(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def final(path: Path) -> dict[str, tuple[str, str]]:
    return {a["id"]: (a["status"], a["severity"]) for a in records(path)}


def split(lines: list[bytes], cut: float, folder: Path) -> tuple[Path, Path, Path]:
    whole, first, second = folder / "day.nmea", folder / "part1.nmea", folder / "part2.nmea"
    whole.write_bytes(b"\n".join(lines) + b"\n")
    first.write_bytes(b"\n".join(x for x in lines if stamp(x) < cut) + b"\n")
    second.write_bytes(b"\n".join(x for x in lines if stamp(x) >= cut) + b"\n")
    return whole, first, second


def test_a_gap_open_at_the_restart_closes_once_with_the_same_id(tmp_path: Path) -> None:
    """SEA BREEZE is dark from 11:00; the service stops at 17:36, its gap open, and starts again: the gap closes
    when it reappears, with the id it was opened with, once; everything else as in one uninterrupted run."""
    whole, first, second = split(nmea_of(voyage_day()), T0 + 9.6 * 3600, tmp_path)
    watch(whole, tmp_path / "s0", tmp_path / "all.jsonl")
    watch(first, tmp_path / "st", tmp_path / "resumed.jsonl")
    before = records(tmp_path / "resumed.jsonl")
    gap = next(a for a in before if a["type"] == "dark_gap")
    assert gap["status"] == "open"
    watch(second, tmp_path / "st", tmp_path / "resumed.jsonl")
    after = records(tmp_path / "resumed.jsonl")
    gaps = [(a["id"], a["status"]) for a in after if a["type"] == "dark_gap"]
    assert gaps == [(gap["id"], "open"), (gap["id"], "closed")]
    assert final(tmp_path / "resumed.jsonl") == final(tmp_path / "all.jsonl")


def test_a_restarted_run_on_the_same_file_reads_on_from_where_it_was(tmp_path: Path) -> None:
    whole, _first, _second = split(nmea_of(voyage_day()), T0, tmp_path)
    watch(whole, tmp_path / "st", tmp_path / "a.jsonl")
    n = len(records(tmp_path / "a.jsonl"))
    res = watch(whole, tmp_path / "st", tmp_path / "a.jsonl")
    assert f"{whole.name}: resuming after line {len(whole.read_bytes().splitlines())}" in res.stderr
    assert len(records(tmp_path / "a.jsonl")) == n  # nothing raised twice


@pytest.mark.parametrize("damage", ["garbage", "bad body", "old layout"])
def test_a_damaged_checkpoint_gives_one_line_and_a_clean_start(tmp_path: Path, damage: str) -> None:
    whole, _first, _second = split(nmea_of(voyage_day()), T0, tmp_path)
    state = tmp_path / "st"
    state.mkdir()
    path = state / "state.sqlite"
    if damage == "garbage":
        path.write_bytes(b"this is not SQLite" * 100)
    else:
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE checkpoint (id INTEGER PRIMARY KEY, version INTEGER, saved_at REAL, body BLOB)")
        db.execute("INSERT INTO checkpoint VALUES (1, ?, 0, ?)",
                   (99 if damage == "old layout" else 1, b"\x78\x9c not zlib"))
        db.commit()
        db.close()
    res = watch(whole, state, tmp_path / "a.jsonl")
    said = [x for x in res.stderr.splitlines() if "starting clean" in x]
    assert len(said) == 1 and "Traceback" not in res.stderr
    assert final(tmp_path / "a.jsonl")  # the run went on from nothing
    assert list(state.glob("state.sqlite.unusable-*")) and path.exists()  # set aside; a new one written


def test_a_restart_in_the_middle_of_a_simulated_day_changes_nothing(tmp_path: Path) -> None:
    """The simulated 24 h day, stopped at noon and started again with its state: the same alert ids, final
    statuses and severities as one uninterrupted run."""
    day = tmp_path / "sim"
    subprocess.run([*MARITIME, "simulate", "--hours", "24", "--vessels", "120", "--seed", "3", "--out", str(day)],
                   check=True, capture_output=True, timeout=900)
    lines = (day / "traffic.nmea").read_bytes().splitlines()
    stamps = [int(m.group(1)) for x in lines if (m := re.search(rb"c:(\d{9,})", x))]
    # cut the file where its stamps first pass noon (a feed is cut where it is, damaged lines and all)
    at = next(i for i, x in enumerate(lines) if (m := re.search(rb"c:(\d{9,})", x))
              and int(m.group(1)) >= stamps[0] + 12 * 3600)
    whole, first, second = tmp_path / "day.nmea", tmp_path / "part1.nmea", tmp_path / "part2.nmea"
    whole.write_bytes(b"\n".join(lines) + b"\n")
    first.write_bytes(b"\n".join(lines[:at]) + b"\n")
    second.write_bytes(b"\n".join(lines[at:]) + b"\n")
    watch(whole, tmp_path / "s0", tmp_path / "all.jsonl")
    watch(first, tmp_path / "st", tmp_path / "resumed.jsonl")
    watch(second, tmp_path / "st", tmp_path / "resumed.jsonl")
    a, b = final(tmp_path / "all.jsonl"), final(tmp_path / "resumed.jsonl")
    assert len(a) > 10
    assert {k: v for k, v in a.items() if a.get(k) != b.get(k)} == {}
    assert set(a) == set(b)
