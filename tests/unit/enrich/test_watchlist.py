"""Vessels of interest: watchlist files, hits per appearance, enrichment of other alerts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from maritime.config import Settings
from maritime.enrich.watchlist_store import Watchlist, WatchlistError, load_watchlist
from maritime.runtime.assembly import Assembly
from maritime.runtime.pipeline import Pipeline
from tests.conftest import OPEN_SEA, T0, Collect, static, track

CSV = """kind,value,reason,source,severity,expires
mmsi,376000500,suspected smuggling,RSS,high,
imo,9234567,IUU fishing listing,CRFM,critical,2030-01-01
name,*DRAGON*,name reported by a partner,JM,medium,
callsign,J8XY9,stolen yacht,LC,high,2020-01-01
"""


def test_load_csv_and_json(tmp_path):
    p = tmp_path / "wl.csv"
    p.write_text(CSV)
    entries = load_watchlist(p)
    assert [(e.kind, e.value, e.severity) for e in entries] == [
        ("mmsi", "376000500", "high"), ("imo", "9234567", "critical"), ("name", "*DRAGON*", "medium"),
        ("callsign", "J8XY9", "high")]
    j = tmp_path / "wl.json"
    j.write_text(json.dumps([{"kind": "mmsi", "value": "377000700", "reason": "r"}]))
    assert load_watchlist(j)[0].severity == "high"


@pytest.mark.parametrize(("text", "message"), [
    ("kind,value\nmmsi,1\n", "wl.csv:1: header lacks reason"),
    ("kind,value,reason\nmmsi,1,ok\nboat,2,why\n", "wl.csv:3: kind must be one of"),
    ("kind,value,reason\nmmsi,12a,why\n", "wl.csv:2: mmsi must be digits"),
    ("kind,value,reason\nmmsi,1,\n", "wl.csv:2: a reason is needed"),
    ("kind,value,reason,severity\nmmsi,1,x,urgent\n", "wl.csv:2: severity must be one of"),
    ("kind,value,reason,expires\nmmsi,1,x,soon\n", "wl.csv:2: expires is not an ISO date"),
])
def test_malformed_files_name_the_line(tmp_path, text, message):
    p = tmp_path / "wl.csv"
    p.write_text(text)
    with pytest.raises(WatchlistError, match=message.replace(".", r"\.")):
        load_watchlist(p)


def run_with(entries, records):
    s = Settings()
    sink = Collect()
    s = s.model_copy(update={"watchlist_absence_h": 6})
    pipe = Pipeline(s, assembly=Assembly(s, watch_entries=entries), sinks=[sink])
    wl = pipe.watchlist
    assert isinstance(wl, Watchlist)
    for r in sorted(records, key=lambda r: r.time_s):
        pipe.process(r.time_s, (None, [r]))
    pipe.finish()
    return sink.alerts


def test_one_hit_per_appearance(tmp_path):
    p = tmp_path / "wl.csv"
    p.write_text(CSV)
    lat, lon = OPEN_SEA
    first = track(376000500, T0, T0 + 3600, 60, lat, lon, 10, 90)
    again = track(376000500, T0 + 9 * 3600, T0 + 10 * 3600, 60, lat, -65.0, 10, 90)  # back after 8 h
    other = track(377000700, T0, T0 + 10 * 3600, 300, 15.5, -66, 10, 0)
    hits = [a for a in run_with(load_watchlist(p), first + again + other) if a.type == "watchlist_hit"]
    assert [a.vessels[0].mmsi for a in hits] == [376000500, 376000500]
    assert hits[0].severity == "high" and hits[0].details["watchlist"][0]["reason"] == "suspected smuggling"
    assert "again after" in hits[1].summary


def test_name_and_imo_match_once_static_data_arrives_and_expired_entries_do_not(tmp_path):
    p = tmp_path / "wl.csv"
    p.write_text(CSV)
    lat, lon = OPEN_SEA
    recs = track(377000700, T0, T0 + 1800, 60, lat, lon, 10, 90)
    recs.append(static(377000700, T0 + 600, 30, "RED DRAGON II"))
    recs += track(378000800, T0, T0 + 1800, 60, 15.0, lon, 10, 90)
    from maritime.models import VesselInfo
    recs.append(VesselInfo(378000800, T0 + 300, name="X", callsign="J8XY9", msg_type=5, source="t"))
    hits = [a for a in run_with(load_watchlist(p), recs) if a.type == "watchlist_hit"]
    assert [(a.vessels[0].mmsi, a.severity) for a in hits] == [(377000700, "medium")]
    assert hits[0].time_s >= T0 + 600


def test_other_alerts_carry_the_entry_and_a_raised_severity(tmp_path):
    p = tmp_path / "wl.csv"
    p.write_text(CSV)
    lat, lon = OPEN_SEA
    recs = track(376000500, T0, T0 + 3600, 60, lat, lon, 12, 90)
    recs += track(376000500, T0 + 8 * 3600, T0 + 8 * 3600 + 600, 60, lat, -64.8, 12, 90)
    recs += track(377000700, T0, T0 + 9 * 3600, 300, 15.5, -66, 10, 0)
    gaps = [a for a in run_with(load_watchlist(p), recs) if a.type == "dark_gap"]
    assert gaps and all(a.severity == "high" for a in gaps)  # medium raised one step
    assert all(a.details["watchlist"][0]["value"] == "376000500" for a in gaps)
    assert "vessel of interest: suspected smuggling" in gaps[0].summary


@pytest.mark.slow  # over 6 s: the default run stays under 5 min
def test_cli_add_list_remove_and_replay(tmp_path):
    wl = tmp_path / "wl.csv"

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "maritime.cli", *args], capture_output=True, text=True,
                              timeout=120)

    assert cli("watchlist", "add", str(wl), "--kind", "mmsi", "--value", "366053209", "--reason", "test").returncode == 0
    assert cli("watchlist", "add", str(wl), "--kind", "imo", "--value", "1", "--reason", "x").returncode == 0
    assert "366053209" in cli("watchlist", "list", str(wl)).stdout
    assert cli("watchlist", "remove", str(wl), "--kind", "imo", "--value", "1").returncode == 0
    assert len(load_watchlist(wl)) == 1
    from tests.conftest import BASE, line

    f = tmp_path / "in.nmea"
    f.write_bytes(b"\n".join(line(BASE + 60 * i, i) for i in range(5)) + b"\n")
    out = tmp_path / "a.jsonl"
    res = cli("replay", str(f), "--watchlist", str(wl), "--alerts", str(out), "-q")
    assert res.returncode == 0, res.stderr
    assert [json.loads(x)["type"] for x in out.read_text().splitlines()] == ["watchlist_hit"]
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,value,reason\nboat,1,x\n")
    res = cli("replay", str(f), "--watchlist", str(bad))
    assert res.returncode == 2 and "bad.csv:2: kind must be one of" in res.stderr


def test_watchlisted_imo_hits_once_per_appearance(tmp_path):
    from maritime.models import VesselInfo

    p = tmp_path / "wl.csv"
    p.write_text("kind,value,reason\nimo,9234567,IUU listing\n")
    lat, lon = OPEN_SEA

    def appearance(t0):
        return [VesselInfo(376000500, t0, name="X", imo=9234567, msg_type=5, source="t"),
                *track(376000500, t0, t0 + 3600, 60, lat, lon, 10, 90)]

    recs = appearance(T0) + appearance(T0 + 2 * 3600) + appearance(T0 + 12 * 3600)  # back after 1 h, then 10 h
    recs += track(377000700, T0, T0 + 14 * 3600, 300, 15.5, -66, 10, 0)
    hits = [a for a in run_with(load_watchlist(p), recs) if a.type == "watchlist_hit"]
    assert len(hits) == 2 and hits[0].details["watchlist"][0]["kind"] == "imo"
