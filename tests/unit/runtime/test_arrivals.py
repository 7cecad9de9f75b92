"""The arrivals board: who is coming to a port, by declaration and by track, with both ETAs and the risk."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from maritime.geo import destination
from maritime.models import Alert, Position, VesselInfo, VesselRef
from maritime.runtime.arrivals_board import ArrivalsBoard, board_csv
from tests.conftest import T0

CASTRIES = (14.012, -60.995)


def towards(mmsi: int, t: float, lat: float, lon: float, sog: float, cog: float) -> Position:
    return Position(mmsi, t, lat, lon, sog, cog, int(cog), 0, 1, "test")


@pytest.fixture(scope="module")
def board(grid) -> ArrivalsBoard:
    b = ArrivalsBoard(grid=grid)
    # A declares Castries with an ETA, and is on its way from the west-north-west
    b(VesselInfo(376000500, T0, name="SEA BREEZE", ship_type=70, destination="CASTRIES", eta_s=T0 + 4 * 3600))
    lat, lon = destination(*CASTRIES, 300.0, 30 * 1852)  # 30 nm out, at sea
    b(towards(376000500, T0 + 60, lat, lon, 10.0, 120.0))
    # B declares nothing and steers for Castries from the south-west
    lat, lon = destination(*CASTRIES, 240.0, 30 * 1852)
    b(VesselInfo(377000700, T0, name="NO WORDS", ship_type=80))
    b(towards(377000700, T0 + 60, lat, lon, 12.0, 60.0))
    # C declares Castries (by its LOCODE) but drifts: declared only; it met another vessel at sea
    b(VesselInfo(362001234, T0, name="SLOW ONE", ship_type=30, destination="LC CAS", eta_s=T0 + 30 * 3600))
    b(towards(362001234, T0 + 60, 13.2, -60.2, 0.5, 0.0))
    b.write(Alert("rendezvous:x", "rendezvous", "closed", "high", T0, T0 - 7200, T0,
                  (VesselRef(362001234), VesselRef(999000001)), 13.2, -60.2, "a meeting"))
    # D heads away, E is in the port already, F declares another port
    b(towards(309000001, T0 + 60, 13.8, -61.3, 10.0, 270.0))
    b(towards(309000002, T0 + 60, 14.012, -60.996, 0.0, 0.0))
    b(VesselInfo(309000003, T0, name="ELSEWHERE", ship_type=70, destination="BRIDGETOWN"))
    lat, lon = destination(*CASTRIES, 285.0, 20 * 1852)
    b(towards(309000003, T0 + 60, lat, lon, 10.0, 105.0))
    return b


def test_the_board_lists_declared_and_tracked_arrivals_with_both_etas(board):
    port = board.find_port("LCCAS")
    assert port is not None and port.name == "Castries"
    rows = {a.mmsi: a for a in board.board(port, hours=48)}
    assert set(rows) == {376000500, 377000700, 309000003}
    a = rows[376000500]
    assert a.basis == "declared and track" and a.declared_port == "LCCAS"
    # 30 nm at 10 kn: about 3 h (the water route may add a little); declared 4 h
    assert a.distance_nm is not None and 29.0 <= a.distance_nm <= 34.0
    assert a.eta_disagreement_h is not None and 0.5 <= a.eta_disagreement_h <= 1.1
    assert rows[377000700].basis == "track" and rows[377000700].declared_port is None
    assert {f["factor"] for f in rows[377000700].factors} == {"undeclared"}
    # C declares Castries but lies stopped 60 nm off: a declaration alone is not an arrival
    (c,) = board.not_coming(port, hours=48)
    assert c.mmsi == 362001234 and c.basis == "declared" and c.eta_track is None
    assert "stopped" in c.reason and c.factors[0]["factor"] == "rendezvous" and "a meeting" in c.factors[0]["why"]
    f = rows[309000003]
    assert f.factors[0]["factor"] == "declared_elsewhere" and "turned toward Castries" in f.reason
    assert "declares Castries and its track leads here" in rows[376000500].reason
    assert "no port declared" in rows[377000700].reason
    # the riskiest first
    assert board.board(port, hours=48)[0].mmsi == 309000003


def test_a_declared_eta_the_track_cannot_make_is_a_factor(grid):
    b = ArrivalsBoard(grid=grid)
    b(VesselInfo(376000501, T0, name="HURRY", ship_type=70, destination="CASTRIES", eta_s=T0 + 3600))
    lat, lon = destination(*CASTRIES, 270.0, 60 * 1852)
    b(towards(376000501, T0, lat, lon, 10.0, 90.0))  # 6 h away, declares 1 h
    (row,) = b.board(b.find_port("Castries"), hours=24)
    assert [f["factor"] for f in row.factors] == ["eta_unreachable"] and row.eta_disagreement_h < -4


def test_the_board_as_csv(board):
    rows = board.board(board.find_port("LCCAS"), hours=48)
    table = list(csv.DictReader(io.StringIO(board_csv(rows))))
    assert len(table) == 3 and {"mmsi", "eta_declared", "eta_track", "risk", "factors", "reason"} <= set(table[0])


def test_arrivals_command_prints_the_board(tmp_path):
    """`maritime arrivals PORT FILE --json`; an unknown port is a one-line error."""
    from pyais import encode_dict

    lines = []
    lat, lon = destination(*CASTRIES, 10.0, 20 * 1852)
    for part in encode_dict({"msg_type": 5, "mmsi": 376000500, "shipname": "SEA BREEZE", "ship_type": 70,
                             "destination": "CASTRIES", "month": 5, "day": 14, "hour": 12, "minute": 0}):
        lines.append(f"\\c:{int(T0)}*00\\{part}")
    for k in range(6):
        la, lo = destination(lat, lon, 190.0, k * 300 * 10 * 0.5144)
        lines.append(f"\\c:{int(T0) + 300 * k}*00\\" + encode_dict(
            {"msg_type": 1, "mmsi": 376000500, "lat": la, "lon": lo, "speed": 10.0, "course": 190.0,
             "heading": 190, "status": 0})[0])
    day = tmp_path / "day.nmea"
    day.write_text("\n".join(lines) + "\n")
    res = subprocess.run([sys.executable, "-m", "maritime.cli", "arrivals", "LCCAS", str(day), "--json",
                          "--out", str(tmp_path / "board.csv")], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert [r["mmsi"] for r in csv.DictReader((tmp_path / "board.csv").open())] == ["376000500"]
    assert got["port"]["locode"] == "LCCAS" and [a["mmsi"] for a in got["arrivals"]] == [376000500]
    assert got["arrivals"][0]["eta_declared"] == "2025-05-14T12:00:00Z"
    bad = subprocess.run([sys.executable, "-m", "maritime.cli", "arrivals", "ATLANTIS", str(day)],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "no port of the gazetteer" in bad.stderr and "Traceback" not in bad.stderr


@pytest.fixture(scope="module")
def sim_day(tmp_path_factory, grid, zone_index):
    """A simulated 14 h day with declared voyages (destination texts as crews write them), the scripted
    destination change after a meeting and the undeclared arrival."""
    from maritime.sim.simulator import Simulator

    out = tmp_path_factory.mktemp("voyages")
    sim = Simulator(14, 120, seed=11, zones=zone_index, grid=grid)
    sim.build()
    sim.write(out)
    return sim, out


@pytest.mark.slow
def test_the_simulated_day_declares_voyages_and_its_voyage_events_are_found(sim_day, zone_index):
    """Ordinary voyages (destinations in every form crews use, some set late) raise no voyage alert; the
    scripted destination change and the undeclared arrival are found (precision and recall 1.0)."""
    from maritime.config import Settings
    from maritime.ingest.sources import parse_source
    from maritime.sim.evaluate import evaluate, load_alerts, load_truth
    from tests.conftest import assembled_pipeline

    sim, out = sim_day
    declared = [v for v in sim.vessels if v.voyages]
    assert len(declared) >= 20 and len({t for v in declared for _t0, t, _e in v.voyages}) >= 15
    truth_types = [e["type"] for e in json.loads((out / "truth.json").read_text())["events"]]
    assert "arrival_undeclared" in truth_types and "destination_change" in truth_types
    from maritime.delivery.jsonl import JsonLinesSink

    with (out / "alerts.jsonl").open("w") as fh:
        pipe = assembled_pipeline(Settings(), [JsonLinesSink(fh)], None, zone_index)
        pipe.replay(parse_source(str(out / "traffic.nmea")))
    report = evaluate(load_truth(out / "truth.json"), load_alerts(out / "alerts.jsonl"),
                      ("destination_change", "arrival_undeclared"))
    for kind in ("destination_change", "arrival_undeclared"):
        r = report[kind]
        assert r["truth"] == r["alerts"] == r["matched"] >= 1, (kind, r)
    # arrival_risk: only the ship that met another at sea and then changed its destination, hours ahead
    truth = json.loads((out / "truth.json").read_text())["events"]
    changed = {v["mmsi"] for e in truth if e["type"] == "destination_change" for v in e["vessels"]}
    risks = [json.loads(line) for line in (out / "alerts.jsonl").read_text().splitlines()]
    risks = [a for a in risks if a["type"] == "arrival_risk"]
    assert risks and {a["vessels"][0]["mmsi"] for a in risks} == changed
    first = next(a for a in risks if a["status"] == "open")
    assert {f["factor"] for f in first["details"]["factors"]} >= {"rendezvous", "destination_change"}
    assert first["details"]["hours_to_arrival"] >= 1.0


@pytest.mark.slow
def test_the_board_lists_the_simulated_arrivals_with_their_etas(sim_day, zone_index):
    """Six hours into the day, the board of each port lists every vessel the simulator brings there in the
    next eight hours (that is heard under way then), with an ETA within an hour (or 15 % of the time left)."""
    from maritime.config import Settings
    from maritime.ingest.sources import parse_source
    from maritime.models import parse_iso
    from maritime.runtime.partitioned import line_time
    from tests.conftest import assembled_pipeline

    sim, out = sim_day
    cut = sim.t0 + 6 * 3600
    part = out / "first6h.nmea"
    with (out / "traffic.nmea").open("rb") as src, part.open("wb") as dst:
        for line in src:
            t = line_time(line)
            if t is not None and t > cut:
                break
            dst.write(line)
    board = ArrivalsBoard()
    pipe = assembled_pipeline(Settings(), [board], None, zone_index)
    pipe.add_listener(board)
    pipe.replay(parse_source(str(part)))
    expected = []
    for v in sim.vessels:
        if v.class_b or not v.voyages:
            continue
        for seg in v.segments:
            if seg.kind != "move" or not (cut + 1800 < seg.t1 <= cut + 8 * 3600) or not (seg.t0 < cut - 600):
                continue
            if any(a <= cut <= b for a, b in v.silent):
                continue
            end = (float(seg.lats[-1]), float(seg.lons[-1]))
            near = board.ports.near(end[0], end[1], 6.0)
            if near:
                expected.append((v.mmsi, near[0][1], seg.t1))
    assert len(expected) >= 4
    misses = []
    for mmsi, port, arrive in expected:
        rows = {a.mmsi: a for a in board.board(port, now_s=cut, hours=10)}
        a = rows.get(mmsi)
        if a is None:
            misses.append((mmsi, port.id, "not listed"))
            continue
        etas = [e for e in (a.eta_track, a.eta_declared) if e]
        err = min(abs(parse_iso(e) - arrive) for e in etas)
        if err > max(3600.0, 0.15 * (arrive - cut)):
            misses.append((mmsi, port.id, f"ETA off by {err / 3600:.1f} h"))
    assert not misses, misses


def test_the_board_goes_to_a_centres_redis_stream(tmp_path, server):
    """`maritime arrivals … --redis URL --centre ID`: the board is one entry of mda:arrivals:<centre> (run daily
    for a daily board); a centre that is not subscribed is a one-line error."""
    import redis
    from pyais import encode_dict

    lat, lon = destination(*CASTRIES, 300.0, 20 * 1852)
    lines = [f"\\c:{int(T0)}*00\\{p}" for p in encode_dict({"msg_type": 5, "mmsi": 376000500, "shipname": "SEA BREEZE",
                                                               "ship_type": 70, "destination": "CASTRIES"})]
    lines += [f"\\c:{int(T0) + 60 * k}*00\\" + encode_dict({"msg_type": 1, "mmsi": 376000500, "lat": lat, "lon": lon,
                                                          "speed": 10.0, "course": 120.0, "heading": 120})[0]
              for k in range(3)]
    day = tmp_path / "day.nmea"
    day.write_text("\n".join(lines) + "\n")
    cfg = tmp_path / "s.toml"
    cfg.write_text('[[subscriptions]]\nid = "lc-mpu"\nname = "Saint Lucia Marine Police"\n')
    base = [sys.executable, "-m", "maritime.cli", "arrivals", "LCCAS", str(day), "--config", str(cfg), "--redis",
            server.url]
    ok = subprocess.run([*base, "--centre", "lc-mpu"], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    ((_id, fields),) = redis.Redis.from_url(server.url).xrange("mda:arrivals:lc-mpu")
    board = json.loads(fields[b"board"])
    assert board["centre"] == "lc-mpu" and [a["mmsi"] for a in board["arrivals"]] == [376000500]
    bad = subprocess.run([*base, "--centre", "nobody"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "no subscription" in bad.stderr


# -- what the board must not list (issue: an arrivals board a port can act on) -------------------------------


def lane(board: ArrivalsBoard, mmsi: int, off_nm: float, along_nm: float, cog: float, text: str | None,
         eta_h: float | None = None, sog: float = 12.0) -> None:
    """A ship ``off_nm`` west of Castries' meridian line, ``along_nm`` along its course from abeam."""
    c = destination(*CASTRIES, 270.0, off_nm * 1852)
    lat, lon = destination(*c, cog, along_nm * 1852)
    if text is not None:
        board(VesselInfo(mmsi, T0, name=f"SHIP {mmsi}", ship_type=70, destination=text,
                         eta_s=T0 + eta_h * 3600 if eta_h is not None else None))
    board(towards(mmsi, T0 + 60, lat, lon, sog, cog))


def test_a_day_of_passing_traffic_lists_nothing(grid):
    """Ships on their lanes 12-26 nm off Castries, bound for Fort-de-France, Bridgetown, Kingstown or nowhere
    said: none is coming to Castries."""
    b = ArrivalsBoard(grid=grid)
    k = 0
    for off in (12.0, 18.0, 26.0):
        for along in (-40.0, -20.0, -5.0, 5.0):
            for cog, text in ((0.0, "FORT DE FRANCE"), (180.0, "BRIDGETOWN"), (190.0, "KINGSTOWN"), (0.0, None),
                              (180.0, "")):
                k += 1
                lane(b, 309100000 + k, off, along, cog, text, eta_h=6)
    port = b.find_port("LCCAS")
    assert b.board(port, hours=24) == [] and b.not_coming(port, hours=24) == []


def test_a_stale_declaration_is_declared_not_coming(grid):
    """Three ships still declare CASTRIES: one sails away with its ETA already past, one passes by northward
    with a future ETA, one is stopped far off with a past ETA; none is expected, each says why."""
    b = ArrivalsBoard(grid=grid)
    lane(b, 309200001, 10.0, 15.0, 270.0, "CASTRIES", eta_h=-5)  # heading west, away
    lane(b, 309200002, 20.0, 10.0, 0.0, "LC CAS", eta_h=3)  # north of abeam, going north: passed
    lane(b, 309200003, 40.0, 0.0, 0.0, "CASTRIES", eta_h=-20, sog=0.2)  # stopped, ETA long gone
    port = b.find_port("Castries")
    assert b.board(port, hours=24) == []
    rows = {a.mmsi: a for a in b.not_coming(port, hours=24)}
    assert set(rows) == {309200001, 309200002, 309200003}
    assert "leads away" in rows[309200001].reason and "has passed" in rows[309200001].reason
    assert "leads away" in rows[309200002].reason
    assert "stopped" in rows[309200003].reason and "has passed" in rows[309200003].reason


def test_a_vessel_turning_toward_the_port_mid_window_is_listed_as_a_risk(grid):
    """Bound for Fort-de-France on the lane 15 nm off: passing; then it turns for Castries: listed, with
    'turned toward' and the declared-elsewhere factor."""
    b = ArrivalsBoard(grid=grid)
    port = b.find_port("LCCAS")
    lane(b, 309300001, 15.0, -10.0, 0.0, "FORT DE FRANCE", eta_h=8)
    assert b.board(port, hours=12) == []
    c = destination(*CASTRIES, 270.0, 15.0 * 1852)
    lat, lon = destination(*c, 0.0, -5.0 * 1852)
    from maritime.runtime.arrivals_board import bearing

    b(towards(309300001, T0 + 1800, lat, lon, 12.0, bearing(lat, lon, *CASTRIES)))
    (row,) = b.board(port, now_s=T0 + 1800, hours=12)
    assert row.mmsi == 309300001 and row.basis == "track" and "turned toward Castries" in row.reason
    assert [f["factor"] for f in row.factors] == ["declared_elsewhere"]


def test_a_declared_vessel_waiting_off_the_port_is_expected(grid):
    b = ArrivalsBoard(grid=grid)
    lane(b, 309400001, 6.0, 0.0, 0.0, "CASTRIES", eta_h=5, sog=0.3)
    (row,) = b.board(b.find_port("LCCAS"), hours=24)
    assert row.basis == "declared" and "waits" in row.reason
