"""Feeds whose stamps are delivery times, and MMSIs that several transmitters share.

Satellite feeds stamp a batch with the time it was delivered: a ship's
reports then look closer in time than they were, and honest ships seem to
jump. Factory-default MMSIs (1193046, 123456789) are used by many
transmitters at once. Neither is an alert, but a real jump in the same feed
still is.
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import numpy as np
import pytest

from maritime.config import Settings
from maritime.geo import KN_TO_MS, destination
from maritime.ingest.ais import AisDecoder
from maritime.ingest.eventtime import SourceClock
from maritime.ingest.sources import parse_source
from maritime.models import Position
from maritime.sim.encode import position_payloads, sentences, tag_block
from tests.conftest import NMEA_DIR, Collect, assembled_pipeline

T0 = 1_700_000_000.0
DATA = NMEA_DIR
QUICK = Settings.model_validate({"identity": {"land_check": False}})


def nmea(mmsi: int, sent_s: float, stamp_s: float, lat: float, lon: float, sog: float = 12.0,
         cog: float = 90.0) -> bytes:
    """One type 1 report sent at ``sent_s`` (its own UTC second) under a ``\\c:`` tag block of ``stamp_s``."""
    payload = position_payloads(np.array([mmsi]), np.array([lat]), np.array([lon]), np.array([sog]),
                                np.array([cog]), np.array([cog]), np.array([0]), np.array([int(sent_s) % 60]),
                                np.array([False]))[0].tobytes().decode()
    return tag_block(f"c:{int(stamp_s)},s:sat") + sentences(payload, 0, 0)[0]


def satellite_day(rng: random.Random, ships: int = 40, hours: float = 3.0) -> list[tuple[float, bytes]]:
    """Ships at 10-20 kn heard every 2-4 min, delivered in batches every 20 min (stamped on delivery)."""
    out = []
    batch_s = 1200.0
    for i in range(ships):
        mmsi = 538_000_000 + i
        lat, lon = 14.0 + rng.uniform(-2, 2), -70.0 + rng.uniform(-3, 3)
        sog, cog = rng.uniform(10, 20), rng.uniform(0, 360)
        t = T0 + rng.uniform(0, 180)
        while t < T0 + hours * 3600:
            plat, plon = destination(lat, lon, cog, sog * KN_TO_MS * (t - T0))
            # a satellite pass hears the report; the ground station delivers it with a later batch
            stamp = (int((t - T0) / batch_s) + 1 + rng.choice([0, 0, 1, 2])) * batch_s + T0
            out.append((stamp, nmea(mmsi, t, stamp, plat, plon, sog, cog)))
            t += rng.uniform(120.0, 240.0)  # a satellite hears a ship now and then, not on the minute
    out.sort(key=lambda x: x[0])
    return out


def replay(tmp_path: Path, lines: list[bytes], settings: Settings = QUICK) -> list:
    p = tmp_path / "feed.nmea"
    p.write_bytes(b"\n".join(lines) + b"\n")
    sink = Collect()
    pipe = assembled_pipeline(settings, [sink])
    pipe.replay(parse_source(str(p)))
    return sink.alerts


# -- the clock judge ----------------------------------------------------------------------


def test_a_receiver_clock_is_judged_received_and_left_alone():
    clock = SourceClock("shore")
    got = [clock.judge(T0 + i * 7 + 1, int(T0 + i * 7) % 60) for i in range(40)]
    assert clock.verdict == "received"
    assert got == [(T0 + i * 7 + 1, 0.0) for i in range(40)]


def test_delivery_stamps_are_judged_delivered_and_each_odd_report_carries_the_uncertainty():
    rng = random.Random(3)
    clock = SourceClock("sat", delivered_err_s=3600.0)
    stamp = T0 + 1200
    got = [(s, clock.judge(stamp, s)) for s in (rng.randrange(60) for _ in range(40))]
    assert clock.verdict == "delivered"
    for s, (t, err) in got:
        assert t == stamp  # the stamp stays the event time
        assert err == (3600.0 if 5 < (int(stamp) - s) % 60 < 58 else 0.0)
    # a report is judged on its own: the same report gets the same answer from a fresh clock (another lane)
    assert all(SourceClock("lane 2").judge(stamp, s) == r for s, r in got)


def test_a_set_time_quality_overrides_the_judgement():
    assert SourceClock("sat", "received").judge(T0, 13) == (T0, 0.0)
    assert SourceClock("x", "delivered", 900.0).judge(T0 + 20, int(T0) % 60)[1] == 900.0
    with pytest.raises(ValueError, match="time quality"):
        SourceClock("x", "sometimes")


def test_the_decoder_gives_positions_their_time_uncertainty():
    lines = [nmea(538_000_001, T0 + k * 60 + 11 + k, T0 + 1200, 14.0, -70.0) for k in range(40)]
    dec = AisDecoder("sat", clock=SourceClock("sat"))
    pos = [r for line in lines for r in (dec.decode_line(line) or (b"", []))[1] if isinstance(r, Position)]
    assert len(pos) == 40 and dec.clock is not None and dec.clock.verdict == "delivered"
    assert all(p.time_err_s == 3600.0 and p.time_s == T0 + 1200 for p in pos)


# -- satellite feeds -----------------------------------------------------------------------


def test_batched_delivery_raises_no_jump_but_a_real_jump_is_still_found(tmp_path):
    rng = random.Random(11)
    feed = satellite_day(rng)
    # one ship really relocates 300 nm in an hour (a spoofed position), in the same batches
    spoof = 538_000_099
    lat, lon = 15.0, -68.0
    for k in range(30):
        t = T0 + k * 181
        far = k >= 20
        plat, plon = destination(lat, lon, 0, 300 * 1852.0) if far else (lat, lon)
        stamp = (int((t - T0) / 1200) + 1) * 1200 + T0
        feed.append((stamp, nmea(spoof, t, stamp, plat + k * 1e-4, plon, 8.0, 0.0)))
    feed.sort(key=lambda x: x[0])
    alerts = replay(tmp_path, [line for _, line in feed])
    jumps = [a for a in alerts if a.type == "position_jump"]
    assert [a.vessels[0].mmsi for a in jumps] == [spoof]
    assert jumps[0].details["time_uncertainty_s"] == 3600.0


def test_the_same_feed_read_as_receive_times_shows_why_it_matters(tmp_path):
    """Control: told the stamps are receive times, the batches look like jumps (what users saw before)."""
    feed = satellite_day(random.Random(11))
    told = Settings.model_validate({"identity": {"land_check": False},
                                    "ingest": {"default_time_quality": "received"}})
    alerts = replay(tmp_path, [line for _, line in feed], told)
    assert len({a.vessels[0].mmsi for a in alerts if a.type == "position_jump"}) >= 5


@pytest.mark.shared_data
def test_exactearth_satellite_recording_jumps_at_most_one_percent_of_single_identity_vessels(tmp_path):
    sink = Collect()
    pipe = assembled_pipeline(QUICK, [sink])
    summary = pipe.replay(parse_source(str(DATA / "exactearth_20120202_tagblock.nmea")))
    shared = {a.vessels[0].mmsi for a in sink.alerts
              if a.type == "identity_anomaly" and a.details.get("anomaly") in ("shared_mmsi", "default_mmsi")}
    jumped = {a.vessels[0].mmsi for a in sink.alerts if a.type == "position_jump"} - shared
    assert len(jumped) <= 0.01 * summary["vessels"]
    # the default MMSI 1193046 (THALIA, NYIE DJEU, NAUTICAST): one event, no stream of jumps
    ids = {a.id for a in sink.alerts if 1193046 in [v.mmsi for v in a.vessels]}
    assert len(ids) == 1
    last = [a for a in sink.alerts if a.id in ids][-1]
    assert {"THALIA", "NYIE DJEU"} <= set(last.details["names"]) and len(last.details["places"]) == 2


# -- shared MMSIs --------------------------------------------------------------------------


def two_transmitters(mmsi: int, hours: float = 3.0) -> list[Position]:
    """Two vessels 500 nm apart that use one MMSI, reporting in turn."""
    out = []
    a = (14.0, -66.0)
    b = destination(*a, 45, 500 * 1852.0)
    for k in range(int(hours * 3600 / 60)):
        t = T0 + 60 * k
        out.append(Position(mmsi, t, *destination(*a, 90, 10 * KN_TO_MS * 60 * k), 10.0, 90.0, 90, 0, 1, "t"))
        out.append(Position(mmsi, t + 30, *destination(*b, 0, 8 * KN_TO_MS * 60 * k), 8.0, 0.0, 0, 0, 1, "t"))
    return out


@pytest.mark.parametrize("mmsi", [1193046, 538_004_321])
def test_a_shared_mmsi_is_one_event_with_its_places_and_no_jumps(mmsi):
    sink = Collect()
    pipe = assembled_pipeline(QUICK, [sink])
    seen: list[Position] = []
    pipe.add_listener(lambda r: seen.append(r) if isinstance(r, Position) else None)
    for p in two_transmitters(mmsi):
        pipe.process(p.time_s, (None, [p]))
    pipe.finish()
    jumps = [a for a in sink.alerts if a.type == "position_jump"]
    shared = [a for a in sink.alerts if a.type == "identity_anomaly"]
    assert len(jumps) <= (0 if mmsi == 1193046 else 1)  # a real MMSI: the first surprise is a jump
    assert len({a.id for a in shared}) == 1
    assert shared[-1].details["anomaly"] == "shared_mmsi" and len(shared[-1].details["places"]) == 2
    # the detectors follow one transmitter: no fix they see is far from the one before
    assert all(abs(b.lat - a.lat) < 0.1 for a, b in itertools.pairwise(seen))
    assert len(seen) >= 170


def test_a_sharing_episode_closes_and_a_later_one_is_a_new_event():
    mmsi = 538_004_322
    first = two_transmitters(mmsi, hours=1.0)
    alone = [Position(mmsi, T0 + 3600 + 60 * k, 14.0, -66.0 + 0.003 * k, 10.0, 90.0, 90, 0, 1, "t")
             for k in range(150)]
    again = [Position(p.mmsi, p.time_s + 4 * 3600 + 9000, p.lat, p.lon, p.sog_kn, p.cog_deg, p.heading_deg,
                      p.nav_status, 1, "t") for p in first]
    sink = Collect()
    pipe = assembled_pipeline(QUICK, [sink])
    for p in [*first, *alone, *again]:
        pipe.process(p.time_s, (None, [p]))
    pipe.finish()
    shared = [a for a in sink.alerts if a.type == "identity_anomaly"]
    assert [a.status for a in shared if a.status != "update"] == ["open", "closed", "open"]
    assert len({a.id for a in shared}) == 2
    assert all(json.loads(a.to_json())["details"]["anomaly"] == "shared_mmsi" for a in shared[1:])


# -- gaps measured from honest times ------------------------------------------------------------


def test_a_gap_ended_by_a_delivered_report_that_may_have_been_sent_earlier_is_cancelled():
    mmsi = 538_000_777
    before = [Position(mmsi, T0 + 60 * k, 14.0, -66.0 + 0.003 * k, 10.0, 90.0, 90, 0, 1, "t") for k in range(10)]
    last = before[-1].time_s
    # the watermark moves on with other traffic; the ship's next report comes in a batch 6.5 h later
    others = [Position(538_000_900, last + 600 * k, 15.0, -66.0 + 0.01 * k, 10.0, 90.0, 90, 0, 1, "t")
              for k in range(1, 40)]
    ends = {"sure": Position(mmsi, last + 6.5 * 3600, 14.0, -65.2, 10.0, 90.0, 90, 0, 1, "t"),
            "delivered": Position(mmsi, last + 6.5 * 3600, 14.0, -65.2, 10.0, 90.0, 90, 0, 1, "sat", 3600.0)}
    got = {}
    for kind, end in ends.items():
        sink = Collect()
        pipe = assembled_pipeline(QUICK, [sink])
        for p in sorted([*before, *others, end], key=lambda p: p.time_s):
            pipe.process(p.time_s, (None, [p]))
        pipe.finish()
        got[kind] = [a.status for a in sink.alerts if a.type == "dark_gap"]
    assert got == {"sure": ["open", "closed"], "delivered": ["open", "cancelled"]}


# -- late data revises, it is not garbage -------------------------------------------------------


def sailing(mmsi: int, t0: float, t1: float, lat: float = 14.0, lon: float = -66.0, step: float = 60.0
            ) -> list[tuple[float, bytes]]:
    out = []
    t = t0
    while t < t1:
        out.append((t, nmea(mmsi, t, t, lat, lon + 0.002 * (t - T0) / 60, 10.0, 90.0)))
        t += step
    return out


def late_day(late_at: float | None, silent_h: float = 8.0) -> list[bytes]:
    """A ship heard for an hour, silent ``silent_h``, heard again; a fleet heard all along (the watermark);
    with ``late_at``, one report of the ship sent at that time arrives at the end of the file (hours late)."""
    ship = 538_000_555
    lines = sailing(ship, T0, T0 + 3600) + sailing(ship, T0 + 3600 + silent_h * 3600, T0 + 3600 + silent_h * 3600
                                                   + 1800)
    for k in range(4):
        lines += sailing(538_000_600 + k, T0, T0 + 3600 + silent_h * 3600 + 1800, lat=15.0 + k, step=300.0)
    lines.sort(key=lambda x: x[0])
    out = [line for _, line in lines]
    if late_at is not None:
        out.append(nmea(ship, T0 + late_at, T0 + late_at, 14.0, -66.0 + 0.002 * late_at / 60, 10.0, 90.0))
    return out


def gap_records(tmp_path: Path, lines: list[bytes], live: bool = True) -> tuple[list, dict]:
    """The dark-gap records of the lines read as a live feed (in arrival order, through the reorder window:
    a report hours late arrives late), or replayed as a recording (in event-time order: nothing is late)."""
    import asyncio

    p = tmp_path / "late.nmea"
    p.write_bytes(b"\n".join(lines) + b"\n")
    sink = Collect()
    pipe = assembled_pipeline(QUICK, [sink])
    spec = parse_source(str(p))
    summary = asyncio.run(pipe.run_live(spec)) if live else pipe.replay(spec)
    return [a for a in sink.alerts if a.type == "dark_gap"], summary


def test_a_recording_is_read_in_event_time_order_so_a_report_written_hours_late_is_not_late(tmp_path):
    """Replayed, a recording is sorted by event time: the report sent 5 h into the silence, written at the end
    of the file, splits the silence into two shorter than a dark gap (none raised, nothing late)."""
    gaps, summary = gap_records(tmp_path, late_day(late_at=3600 + 4 * 3600), live=False)
    assert gaps == []
    assert summary["late_positions"] == 0 and "late" not in summary["rejected"]
    # the same lines in file order would have raised (and cancelled) one: the order of the rows changes nothing
    shuffled = late_day(late_at=3600 + 4 * 3600)
    random.Random(3).shuffle(shuffled)
    assert gap_records(tmp_path, shuffled, live=False)[0] == []


def test_a_late_report_inside_a_closed_gap_cancels_it_when_the_rest_is_short(tmp_path):
    gaps, summary = gap_records(tmp_path, late_day(late_at=3600 + 4 * 3600))
    assert [a.status for a in gaps] == ["open", "closed", "cancelled"]
    assert len({a.id for a in gaps}) == 1
    assert summary["late_positions"] == 1 and "late" not in summary["rejected"]
    assert "revised_by_late_report" in gaps[-1].details


def test_a_late_report_inside_a_gap_shortens_it(tmp_path):
    gaps, _ = gap_records(tmp_path, late_day(late_at=3600 + 1.5 * 3600))
    assert [a.status for a in gaps][-1] == "closed" and len({a.id for a in gaps}) == 1
    assert gaps[-2].details["gap_h"] == pytest.approx(8.0, abs=0.05)
    assert gaps[-1].details["gap_h"] == pytest.approx(6.5, abs=0.05)


def test_a_late_report_in_a_gap_still_open_cancels_it(tmp_path):
    lines = late_day(late_at=None, silent_h=20.0)
    # the fleet goes on 7 h into the silence; then the late report (sent 3 h into it) arrives
    cut = [ln for ln in lines if int(ln.split(b"c:")[1].split(b",")[0]) <= T0 + 3600 + 7 * 3600]
    cut.append(nmea(538_000_555, T0 + 3600 + 3 * 3600, T0 + 3600 + 3 * 3600, 14.0, -65.9, 10.0, 90.0))
    gaps, summary = gap_records(tmp_path, cut)
    assert [a.status for a in gaps] == ["open", "cancelled"]
    assert summary["late_positions"] == 1


def test_the_partitioned_runtime_revises_gaps_with_late_reports_like_the_embedded_run(tmp_path):
    from maritime.runtime.partitioned import run_partitioned

    lines = late_day(late_at=3600 + 4 * 3600)
    gaps, _ = gap_records(tmp_path, lines)

    def batches():
        for k in range(0, len(lines), 50):
            yield "late.nmea", lines[k:k + 50], T0

    got = [a for a in run_partitioned(batches(), QUICK, None, 2, restart_every=3) if a.type == "dark_gap"]
    assert [(a.id, a.status) for a in got] == [(a.id, a.status) for a in gaps]


def test_satellite_batches_out_of_step_lose_nothing_in_a_replay(tmp_path):
    """Batches up to two deliveries (40 min) out of step: a replay reads the recording in event-time order, so
    none of their reports is late, with the source set to 'delivered' or not."""
    feed = satellite_day(random.Random(5), ships=10, hours=2.0)
    # the batch delivered at +40 min comes after the one of +80 min
    rank = {1200: 0, 2400: 3, 3600: 1, 4800: 2}
    shuffled = [line for _, line in sorted(feed, key=lambda x: (rank.get(int(x[0] - T0), int(x[0] - T0)), x[0]))]
    p = tmp_path / "sat.nmea"
    p.write_bytes(b"\n".join(shuffled) + b"\n")
    q = tmp_path / "sat_sorted.nmea"
    q.write_bytes(b"\n".join(line for _, line in sorted(feed, key=lambda x: x[0])) + b"\n")
    told = Settings.model_validate({"identity": {"land_check": False},
                                    "ingest": {"time_quality": {"sat.nmea": "delivered"}}})
    default = assembled_pipeline(QUICK, [Collect()]).replay(parse_source(str(p)))
    fitted = assembled_pipeline(told, [Collect()]).replay(parse_source(str(p)))
    in_order = assembled_pipeline(QUICK, [Collect()]).replay(parse_source(str(q)))
    assert default["late_positions"] == fitted["late_positions"] == 0
    assert default["positions"] == fitted["positions"] == in_order["positions"] > 0
