"""Bounded inputs in event-time order: the external sort, and the same replay whatever the order of the lines."""

from __future__ import annotations

import random

from maritime.config import Settings
from maritime.ingest.ordering import SpillSort
from maritime.ingest.sources import parse_source
from tests.conftest import EXCERPTS_DIR, Collect, assembled_pipeline


def test_the_external_sort_spills_runs_and_merges_them_in_order():
    items = [(random.Random(k).random(), k, f"x{k}") for k in range(5000)]
    sorter = SpillSort(run_items=97)
    for it in items:
        sorter.add(it)
    assert len(sorter.runs) == 5000 // 97
    assert list(sorter) == sorted(items)


def test_runs_that_follow_one_another_are_read_in_turn_and_one_item_out_of_place_makes_a_merge(caplog):
    """An input in time order spills runs that need no merge (read one after the other); a single late item
    makes two runs overlap, and then they are merged: the same order either way."""
    ordered = [(float(k // 3), k, f"x{k}") for k in range(1000)]
    sorter = SpillSort(run_items=100)
    for it in ordered:
        sorter.add(it)
    with caplog.at_level("INFO", logger="maritime.ingest.ordering"):
        assert list(sorter) == ordered
    assert "merging" not in caplog.text
    late = [*ordered[:350], (2.0, 350, "late"), *ordered[351:]]  # time 2 s in the fourth run
    sorter = SpillSort(run_items=100)
    for it in late:
        sorter.add(it)
    with caplog.at_level("INFO", logger="maritime.ingest.ordering"):
        assert list(sorter) == sorted(late)
    assert "merging 10 sorted runs" in caplog.text


def test_a_replay_is_the_same_with_runs_spilled_to_disk(monkeypatch, tmp_path):
    """The whole recording excerpt set replayed with tiny sort runs (every file spilled): the same alerts and
    summary as in memory."""
    def replay() -> tuple[list, dict]:
        sink = Collect()
        s = assembled_pipeline(Settings(ingest={"start_time": "2024-01-01T00:00:00Z"}), [sink]).replay(
            [spec for p in sorted(EXCERPTS_DIR.iterdir()) for spec in parse_source(str(p))])
        s.pop("seconds")
        s.pop("lines_per_s", None)
        return [a.as_dict() for a in sink.alerts], s

    in_memory = replay()
    monkeypatch.setenv("MARITIME_SORT_RUN", "37")
    assert replay() == in_memory


def test_the_lines_of_a_recording_in_any_order_give_the_same_replay(tmp_path):
    """Single-part reports of a real recording shuffled: the same vessels, messages and alerts."""
    lines = [ln for ln in (EXCERPTS_DIR / "kystverket_1000_tagblock.nm4").read_bytes().splitlines()
             if b",1,1," in ln]
    shuffled = list(lines)
    random.Random(2).shuffle(shuffled)
    out = []
    for name, body in (("in_order.nmea", lines), ("shuffled.nmea", shuffled)):
        p = tmp_path / name
        p.write_bytes(b"\n".join(body) + b"\n")
        sink = Collect()
        s = assembled_pipeline(Settings(), [sink]).replay(parse_source(str(p)))
        out.append(((s["vessels"], s["messages"], s["positions"]), [(a.id, a.status) for a in sink.alerts]))
    assert out[0] == out[1] and out[0][0][1] > 100
