"""The distributed data flow without a broker: partitions and restarts change no alert."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from maritime.config import Settings
from maritime.geo.routing import WaterGrid
from maritime.ingest.decoders import first_timestamp
from maritime.ingest.sources import parse_source
from maritime.models import Alert
from maritime.runtime.partitioned import (
    Barrier,
    Lanes,
    TickRow,
    halo_tiles,
    lane_may_start,
    recording_batches,
    run_partitioned,
    tile_of,
)
from maritime.sim.simulator import Simulator
from maritime.zones.index import load_zones
from tests.conftest import ROOT, Collect, assembled_pipeline, recording_params


def final(alerts: list[Alert]) -> dict[str, str]:
    """Alert id -> its last status."""
    out: dict[str, str] = {}
    for a in alerts:
        out[a.id] = a.status
    return out


def without_outages(alerts: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in alerts.items() if not k.startswith("feed_outage:")}


def embedded(path: Path, settings: Settings, zones) -> dict[str, str]:
    sink = Collect()
    assembled_pipeline(settings, [sink], None, zones).replay(parse_source(str(path)))
    return final(sink.alerts)


def batches(path: Path, size: int = 1500, start_time: str | None = None):
    """A recording as the ingest sends it: in event-time order, in batches."""
    settings = Settings(ingest={"start_time": start_time}) if start_time else Settings()
    for spec in parse_source(str(path)):
        yield from recording_batches(spec, settings, size)


@pytest.fixture(scope="module")
def zones():
    return load_zones(ROOT / "geofences")


@pytest.fixture(scope="module")
def day(tmp_path_factory, zones) -> Path:
    out = tmp_path_factory.mktemp("sim")
    sim = Simulator(10, 70, seed=5, zones=zones, grid=WaterGrid())
    sim.build()
    sim.write(out)
    return out / "traffic.nmea"


@pytest.fixture(scope="module")
def reference(day, zones) -> dict[str, str]:
    got = embedded(day, Settings(), zones)
    assert {i.split(":")[0] for i in got} >= {"dark_gap", "rendezvous", "loitering", "geofence_entry"}
    return got


@pytest.mark.slow  # two partitioned replays of a simulated day (10-13 s each)
@pytest.mark.parametrize("partitions", [1, 4])
def test_partitions_change_no_alert(day, zones, reference, partitions):
    got = final(run_partitioned(batches(day), Settings(), zones, partitions))
    assert got == reference


@pytest.mark.slow
@pytest.mark.parametrize("lanes", [2, 3])
def test_one_source_split_over_lanes_changes_no_alert(day, zones, reference, lanes):
    """One feed decoded in several lanes (several workers) gives the embedded run's alerts."""
    got = final(run_partitioned(batches(day, 700), Settings(), zones, 4, lanes=lanes, restart_every=9))
    assert got == reference


@pytest.mark.parametrize("path", recording_params())
def test_real_recordings_in_lanes_like_embedded(path, zones):
    """Multipart messages, $PGHP lines and untimed lines are never split from what they belong to, and
    messages of the same second come back in the replay's order."""
    start = "2024-01-01T00:00:00Z"
    settings = Settings(ingest={"start_time": start})
    sink = Collect()
    summary = assembled_pipeline(settings, [sink], None, zones).replay(parse_source(str(path)))
    late = summary["rejected"].get("late", 0) + summary.get("late_positions", 0)
    if late:
        # each lane judges lateness against its own lines: it may keep lines the single decoder drops
        pytest.skip(f"{late} lines arrive later than the reorder window allows: lanes are exact only without")
    got = final(run_partitioned(batches(path, 40, start), settings, zones, 3, lanes=3))
    assert without_outages(got) == without_outages(final(sink.alerts))


def test_lanes_cut_only_where_a_line_stands_alone():
    tb = b"\\s:r1,c:1747180800*00\\"
    single = tb + b"!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0*5C"
    first = tb + b"!AIVDM,2,1,3,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C"
    second = b"!AIVDM,2,2,3,A,88888888880,2*25"
    second_tagged = tb + second
    pghp = b"$PGHP,1,2010,6,11,12,0,0,0,,,,*00"
    untimed = b"!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0*5C"
    assert lane_may_start(single, single)
    assert lane_may_start(second, first)
    assert not lane_may_start(first, second_tagged)  # the rest of a multipart message
    assert not lane_may_start(pghp, single)  # the line a $PGHP times
    assert not lane_may_start(single, untimed)  # takes the time of the line before
    assert lane_may_start(single, untimed, timed=True)  # a live feed gives it a receive time
    lanes = Lanes(2)
    assert lanes.cut([single, first, second_tagged]) == [(0, [single])]  # the message waits whole
    assert lanes.cut([single]) == [(1, [first, second_tagged])]
    assert lanes.cut([untimed]) == [(0, [single, untimed])]  # nowhere to switch: stays in its lane
    assert lanes.rest() == []
    assert Lanes(1).cut([first, second_tagged]) == [(0, [first, second_tagged])]


@pytest.mark.slow
def test_restarts_from_the_tables_change_no_alert(day, zones, reference):
    """Every 5 batches the detector stages are thrown away and rebuilt from their tables."""
    got = final(run_partitioned(batches(day), Settings(), zones, 3, restart_every=5))
    assert got == reference


@pytest.mark.slow
def test_restart_without_tables_would_lose_alerts(day, zones, reference, monkeypatch):
    """The check above can fail: forgetting the state at each restart changes the alerts."""
    from maritime.runtime import partitioned

    monkeypatch.setattr(partitioned.VesselRunner, "restore", lambda self, vessels, meta: None)
    got = final(run_partitioned(batches(day), Settings(), zones, 3, restart_every=5))
    assert got != reference


@pytest.mark.parametrize("path", recording_params())
def test_real_recordings_partitioned_like_embedded(path, zones):
    start = "2024-01-01T00:00:00Z"  # the same time for untimed lines in both runs
    settings = Settings(ingest={"start_time": start})
    got = final(run_partitioned(batches(path, 300, start), settings, zones, 3))
    # feed outages are judged per vessel partition (see maritime.runtime.partitioned): compared apart
    assert without_outages(got) == without_outages(embedded(path, settings, zones))


def test_barrier_releases_whole_sequences_in_order_and_skips_repeats():
    bar = Barrier(2)
    assert bar.add(0, 0, [TickRow(5.0)], "a0") == []
    assert bar.add(0, 1, [TickRow(9.0)], "a1") == []
    got = bar.add(1, 0, [TickRow(3.0)], "b0")
    assert got == [(0, [TickRow(3.0), TickRow(5.0)], ["a0", "b0"])]
    assert bar.add(1, 0, [TickRow(3.0)], "again") == []  # already done: acknowledged, not applied
    assert bar.take_skipped() == ["again"]
    assert bar.add(0, 1, [TickRow(7.0)], "a1 again") == []  # sent twice while waiting: the first one wins
    assert bar.take_skipped() == ["a1 again"]
    assert bar.add(1, 1, [], "b1") == [(1, [TickRow(9.0)], ["a1", "b1"])]
    assert bar.take_skipped() == []


def test_halo_reaches_the_neighbouring_tile_only_near_its_edge():
    assert halo_tiles(13.0, -61.0, 2.0, 25.0) == [tile_of(13.0, -61.0, 2.0)]
    near_edge = halo_tiles(13.9, -61.0, 2.0, 25.0)  # 11 km south of the 14°N edge
    assert near_edge[0] == (6, -31) and (7, -31) in near_edge and len(near_edge) == 2


def test_barrier_output_does_not_depend_on_arrival_order():
    """Batches from three upstream partitions, interleaved any way that keeps each one's order,
    come out as the same sequences with the same merged rows."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    origins = 3
    seqs = 6
    batches = {(o, s): [TickRow(float(s * 10 + o)), TickRow(float(s * 10 + 5))] for o in range(origins)
               for s in range(seqs)}

    def run(order: list[int]) -> list[tuple[int, list]]:
        bar = Barrier(origins)
        nxt = dict.fromkeys(range(origins), 0)
        out = []
        for o in order:
            s = nxt[o]
            nxt[o] += 1
            out.extend((seq, rows) for seq, rows, _ in bar.add(o, s, batches[(o, s)]))
        return out

    reference = run([o for s in range(seqs) for o in range(origins)])
    assert [s for s, _ in reference] == list(range(seqs))

    @settings(max_examples=200, deadline=None)
    @given(st.permutations([o for o in range(origins) for _ in range(seqs)]))
    def check(order: list[int]) -> None:
        assert run(order) == reference

    check()


def merged_batches(paths: list[Path], size: int = 1500):
    """Several recordings merged by the times their lines carry, as ``maritime ingest`` sends them."""
    import heapq

    from streams.ingest import _timed_lines

    specs = [s for p in paths for s in parse_source(str(p))]
    first = {s.name: first_timestamp(s) for s in specs}
    merged = heapq.merge(*(_timed_lines(s, Settings(), first[s.name]) for s in specs), key=lambda x: x[0])
    while block := list(itertools.islice(merged, size)):
        by_source: dict[str, list[tuple[bytes, float | None]]] = {}
        for _t, _i, name, line, assigned in block:
            by_source.setdefault(name, []).append((line, assigned))
        for name, lines in by_source.items():
            yield name, lines, first[name]


@pytest.mark.slow
def test_two_receivers_merge_like_the_embedded_replay(day, zones, tmp_path):
    """Two receivers' logs (each hears part of the traffic, some messages both): the vessel stage
    merges them by event time up to the slowest, as the embedded replay merges its files."""
    lines = day.read_bytes().splitlines(keepends=True)
    a, b = tmp_path / "rx-a.nmea", tmp_path / "rx-b.nmea"
    with a.open("wb") as fa, b.open("wb") as fb:
        for i, line in enumerate(lines):
            (fa if (i // 7) % 2 == 0 else fb).write(line)
            if i % 5 == 0:
                (fb if (i // 7) % 2 == 0 else fa).write(line)
    sink = Collect()
    assembled_pipeline(Settings(), [sink], None, zones).replay(parse_source(str(a)) + parse_source(str(b)))
    reference = final(sink.alerts)
    assert len(reference) > 5
    assert final(run_partitioned(merged_batches([a, b]), Settings(), zones, 3, restart_every=7)) == reference


def test_rows_keep_their_compact_wire_form_and_come_back_typed():
    """Rows go between stages as JSON arrays led by their kind, and come back as the same typed rows; a
    malformed one is a clear validation error, not a row read by the wrong index."""
    import msgspec

    from maritime.runtime.partitioned import (
        EndRow,
        LateRow,
        PosRow,
        ProgressRow,
        StaticRow,
        TickRow,
        TilePosRow,
        decode_rows,
        encode_rows,
    )

    rows = [PosRow(376000500, 1.0e9, 13.0, -61.0, 10.0, 90.0, 90, 0, 1, "a", "15MwkT1P", 3.0, 0.0),
            LateRow(376000500, 0.9e9, 13.0, -61.0, None, None, None, None, 18, "a", None),
            StaticRow(376000500, 1.0e9, "SEA BIRD", "J8AB", 9_000_001, 37, 10, 5, 2, 2, 1.8, "CASTRIES", 5, "a",
                      None, 4.0),
            TilePosRow(376000500, 1.0e9, 13.0, -61.0, 10.0, 90.0, 90, 0, 1, "a", ("SEA BIRD", None, None, 37),
                       "6:-31"),
            TickRow(1.0e9, 2.5), EndRow(1.1e9), ProgressRow(1.0e9, "rx#1")]
    wire = json.loads(json.dumps(encode_rows(rows)))
    assert [w[0] for w in wire] == ["p", "l", "s", "t", "w", "e", "m"]
    assert wire[0][:4] == ["p", 376000500, 1.0e9, 13.0] and wire[-1] == ["m", 1.0e9, "rx#1"]
    assert decode_rows(wire) == rows
    with pytest.raises(msgspec.ValidationError):
        decode_rows([["p", "not an mmsi", 1.0]])


def test_a_quiet_source_stops_holding_the_others_back():
    from maritime.runtime.partitioned import PosRow, ProgressRow, VesselRunner

    s = Settings(identity={"land_check": False}, ingest={"idle_source_s": 600})
    runner = VesselRunner(s, None, 0, 1)
    t0 = 1_747_209_600.0
    pos = PosRow(376000500, t0 + 100, 13.0, -61.0, 10.0, 90.0, 90, 0, 1, "a", None)
    runner.process([ProgressRow(t0, "b"), pos, ProgressRow(t0 + 200, "a")])
    assert runner.positions == 0  # b has not passed t0 + 100 yet
    runner.process([ProgressRow(t0 + 700, "a")])
    assert runner.positions == 1  # b fell 700 s behind (> 600 s): it no longer holds a's traffic


def test_a_type_19_position_is_not_a_duplicate_of_its_own_static_report():
    """Type 19 gives two rows with one payload; de-duplicating across sources keeps both, and drops
    both when the same transmission comes again from another receiver."""
    from pyais import encode_dict

    from maritime.runtime.partitioned import DecodeRunner, EndRow, PosRow, ProgressRow, StaticRow, VesselRunner

    line = encode_dict({"msg_type": 19, "mmsi": 376000123, "lat": 13.9, "lon": -61.0, "speed": 1.0,
                        "course": 90, "heading": 90, "shipname": "SEA BIRD", "ship_type": 37})[0]
    t0 = 1_747_209_600
    s = Settings(identity={"land_check": False})
    dec = DecodeRunner(s, 1)
    rows = []
    for source, t in (("rx1", t0), ("rx2", t0 + 2)):
        tagged = f"\\c:{t}*00\\{line}".encode()
        rows += [r for r in dec.feed(source, [tagged])[0] if not isinstance(r, ProgressRow)]
    end_rows, _ = dec.end()
    rows += [r for r in end_rows.get(0, []) if not isinstance(r, ProgressRow)]
    assert [type(r) for r in rows].count(PosRow) == 2 and [type(r) for r in rows].count(StaticRow) == 2
    runner = VesselRunner(s, None, 0, 1)
    runner.process(rows + [EndRow(t0 + 10)], dedup_across=True)
    assert runner.positions == 1
    assert runner.tracker.get(376000123).name == "SEA BIRD"


@pytest.mark.slow
def test_watchlist_profiles_and_risk_partitioned_like_embedded(day, zones, tmp_path):
    """The same assembly in both runtimes: watchlist hits, enriched severities, details.watchlist and
    details.risk (each run with a profile store of its own), also across restarts from the tables."""
    from maritime.enrich.profile_store import ProfileStore
    from maritime.enrich.watchlist_store import load_watchlist
    from maritime.runtime.assembly import Assembly

    plain = Collect()
    assembled_pipeline(Settings(), [plain], None, zones).replay(parse_source(str(day)))
    listed = next(a for a in plain.alerts if a.type == "rendezvous").vessels[1].mmsi
    wl = tmp_path / "wl.csv"
    wl.write_text(f"kind,value,reason,source,severity,expires\nmmsi,{listed},of interest,test,medium,\n")
    s = Settings(risk_weights={"rendezvous": 33.0, "loitering": 9.0})

    def last(alerts: list[Alert]) -> dict[str, tuple]:
        return {a.id: (a.status, a.severity, a.details.get("watchlist"), a.details.get("risk")) for a in alerts}

    sink = Collect()
    emb = Assembly(s, zones, watch_entries=load_watchlist(wl), profile_store=ProfileStore(tmp_path / "e.sqlite"))
    from maritime.runtime.pipeline import Pipeline

    Pipeline(s, assembly=emb, sinks=[sink]).replay(parse_source(str(day)))
    expected = last(sink.alerts)
    assert any(k.startswith("watchlist_hit:") for k in expected)
    assert any(v[2] for k, v in expected.items() if not k.startswith("watchlist_hit:"))
    assert sum(1 for v in expected.values() if v[3]) > 5
    part = Assembly(s, zones, watch_entries=load_watchlist(wl), profile_store=ProfileStore(tmp_path / "p.sqlite"))
    got = last(run_partitioned(batches(day), s, zones, 3, restart_every=6, assembly=part))
    assert without_outages(got) == without_outages(expected)


@pytest.mark.slow
def test_vessel_and_tile_tables_hold_named_json_read_back_as_typed_state(day, zones):
    """Detector state is typed (msgspec Structs) in the runners, named plain JSON in the tables, and what a
    restarted runner reads back from them is the same typed state."""
    import msgspec

    from maritime.detectors.gaps import GapState
    from maritime.detectors.identity import IdentityState
    from maritime.runtime.partitioned import LocalTopology

    topo = LocalTopology(Settings(), zones, 2)
    for source, lines, default_time in batches(day, 500):
        topo.feed(source, [ln for ln, _a in lines], default_time, assigned_times=[a for _ln, a in lines])
    topo.end()
    entry = next(d for d in topo.vessel_table.values() if "gaps" in d and "identity" in d)
    assert {"t", "lat", "lon", "n", "open", "gaps"} <= set(entry["gaps"])  # named fields, not positions
    assert {"t", "lat", "lon", "err", "n", "first"} == set(entry["identity"]["tracks"][0])
    before = {q: {m: msgspec.to_builtins(st) for m, st in r.gaps.state.items()} for q, r in enumerate(topo.vessels)}
    topo.restart()
    for q, runner in enumerate(topo.vessels):
        assert all(isinstance(st, GapState) for st in runner.gaps.state.values())
        assert {m: msgspec.to_builtins(st) for m, st in runner.gaps.state.items()} == before[q]
        ident = next(d for d in runner._parts if d[0] == "identity")[1]
        assert all(isinstance(st, IdentityState) for st in ident.state.values())
    tiles = [d for d in topo.tile_table.values() if d.get("rendezvous")]
    assert tiles and all(isinstance(ep[1], dict) for t in tiles for ep in t["rendezvous"]["episodes"])


def test_an_evicted_vessel_leaves_the_table_and_a_restored_stage_evicts_on_time():
    """Eviction happens on a watermark, with no position of the vessel: its table entry must go too, or a
    restored stage would bring back a vessel the running one had forgotten (its destination, its zones)."""
    from maritime.runtime.partitioned import PosRow, ProgressRow, TickRow, VesselRunner

    s = Settings(identity={"land_check": False}, evict_after_h=1.0)
    runner = VesselRunner(s, None, 0, 1)
    t0 = 1_747_209_600.0
    runner.process([PosRow(376000500, t0 + k * 60, 13.0, -61.0 + k * 0.001, 10.0, 90.0, 90, 0, 1, "a", None)
                    for k in range(3)] + [TickRow(t0 + 200), ProgressRow(t0 + 201, "a")])
    assert set(runner.take_dirty()) == {376000500}
    meta = runner.meta()
    assert meta["next_evict"] == t0 + 200 + 3600 / 8  # the eviction schedule is kept with the partition
    for k in range(1, 20):  # an hour and more of silence, in ticks
        runner.process([TickRow(t0 + 200 + k * 600), ProgressRow(t0 + 201 + k * 600, "a")])
    assert runner.chain.evicted == 1
    assert runner.take_dirty() == {376000500: None}  # deleted from the table
    again = VesselRunner(s, None, 0, 1)
    again.restore([], meta)
    assert again.chain.next_evict_s == meta["next_evict"]
