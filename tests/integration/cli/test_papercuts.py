"""Papercuts: one-line reasons and the documented exit codes, through the real CLI (Typer's runner)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from maritime.cli import app
from tests.conftest import TYPE1

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_version():
    res = run("--version")
    assert res.exit_code == 0 and res.output.startswith("maritime (caribbean-mda) ")


def test_zones_which_with_latitude_and_longitude_swapped_says_so():
    res = run("zones", "which", "-60.958", "14.082")
    assert res.exit_code == 2 and "swapped" in res.output


def test_zones_which_out_of_range_says_so():
    res = run("zones", "which", "95", "-61")
    assert res.exit_code == 2 and "not a latitude, longitude pair" in res.output


def test_demo_refuses_zero_vessels_as_simulate_does(tmp_path):
    for cmd in (["demo", "--out", str(tmp_path / "d")], ["simulate", "--out", str(tmp_path / "s")]):
        res = run(*cmd, "--vessels", "0")
        assert res.exit_code == 2 and "must be positive" in res.output


def test_a_host_and_port_without_a_scheme_suggests_tcp():
    res = run("watch", "127.0.0.1:10110", "--duration", "1")
    assert res.exit_code == 2 and "tcp://127.0.0.1:10110" in res.output


def test_bad_ports_and_missing_ports_are_usage_errors():
    for url in ("tcp://127.0.0.1:abc", "udp://:99999", "tcp://host"):
        res = run("watch", url, "--duration", "1")
        assert res.exit_code == 2, (url, res.output)
        assert "port" in res.output


def test_start_time_that_is_not_a_time_is_a_one_line_error(tmp_path):
    f = tmp_path / "x.nmea"
    f.write_text("x\n")
    res = run("replay", str(f), "--start-time", "yesterday", "-q", "--zones", "none")
    assert res.exit_code == 2 and "not an ISO 8601 time" in res.output and "Traceback" not in res.output


def test_vessel_without_profiles_says_how_to_get_them():
    res = run("vessel", "538055531")
    assert res.exit_code == 2 and "--profiles" in res.output and "None" not in res.output


def test_the_summary_tells_events_and_records_apart(tmp_path):
    from maritime.sim.encode import tag_block

    lines = []
    for k in range(400):  # one ship heard, silent for seven hours, heard again: one gap, two records
        t = 1_747_180_800 + (k * 60 if k < 200 else 7 * 3600 + k * 60)
        lines.append(tag_block(f"c:{t}") + b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A")
    f = tmp_path / "gap.nmea"
    f.write_bytes(b"\n".join(lines) + b"\n")
    res = run("replay", str(f), "--zones", "none", "--summary-json", str(tmp_path / "s.json"))
    assert res.exit_code == 0, res.output
    assert "events," in res.output and "alert records" in res.output


def test_bad_settings_are_refused_with_a_reason(tmp_path):
    f = tmp_path / "x.nmea"
    f.write_text("x\n")
    for toml, word in (("tick_s = inf\n", "finite"), ('[rendezvous]\nprofile = "bogus"\n', "watch_floor"),
                       ('[[subscriptions]]\nid = "x"\n[[subscriptions.webhooks]]\nurl = "not a url"\n'
                        'secret = "12345678"\n', "pattern")):
        cfg = tmp_path / "bad.toml"
        cfg.write_text(toml)
        res = run("replay", str(f), "--config", str(cfg), "-q", "--zones", "none")
        assert res.exit_code == 2 and word in res.output and "Traceback" not in res.output, (toml, res.output)


def test_a_zone_with_a_nan_speed_limit_is_refused(tmp_path):
    z = tmp_path / "z.geojson"
    z.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Polygon", '
                 '"coordinates": [[[-62, 12], [-61, 12], [-61, 13], [-62, 12]]]}, "properties": {"id": "s", '
                 '"name": "S", "kind": "restricted", "alert_on": ["speed"], "max_speed_kn": NaN}}]}')
    res = run("zones", "check", str(z))
    assert res.exit_code == 1 and "finite number" in res.output


def test_file_names_are_never_read_as_markup_or_globs(tmp_path):
    odd = tmp_path / "[bold]log[1].nmea"
    odd.write_bytes(TYPE1 + b"\n")
    res = run("replay", str(odd), "--zones", "none", "--alerts", str(tmp_path / "[red]alerts.jsonl"))
    assert res.exit_code == 0, res.output
    assert "MarkupError" not in res.output  # a bracket in a name is text, not a closing tag
    missing = run("replay", str(tmp_path / "[/bold]nothing.nmea"))
    assert missing.exit_code == 1 and "[/bold]nothing.nmea" in missing.output


@pytest.mark.slow  # over 6 s: the default run stays under 5 min
def test_help_shows_value_names_not_python_types():
    """Through the console script (the value names are given in ``main``): FILE-like words, no ``<list[Path]>``."""
    import subprocess
    import sys

    for cmd in (["replay"], ["watch"], ["zones", "which"], ["alerts", "tail"], ["redis-acl"], ["evaluate"]):
        out = subprocess.run([sys.executable, "-m", "maritime.cli", *cmd, "--help"], capture_output=True,
                             text=True, timeout=60, env={"COLUMNS": "120", "PATH": ""}).stdout
        assert "Usage: " in out, cmd
        assert "<" not in out and "list[" not in out, (cmd, out)
    replay = subprocess.run([sys.executable, "-m", "maritime.cli", "replay", "--help"], capture_output=True,
                            text=True, timeout=60, env={"COLUMNS": "120", "PATH": ""}).stdout
    assert "--alerts" in replay and "PATH" in replay and "--redis" in replay and "URL" in replay


def test_evaluate_with_its_arguments_swapped_says_so(tmp_path):
    truth = tmp_path / "truth.json"
    truth.write_text('{\n "generator": "test",\n "events": []\n}\n')
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text('{"id": "x", "type": "dark_gap", "status": "open", "summary": "s", "time": "2025-05-14T00:00:00Z", '
                      '"start": "2025-05-14T00:00:00Z", "end": null, "vessels": [{"mmsi": 1}], "zone": null}\n')
    res = run("evaluate", str(alerts), str(truth))
    assert res.exit_code == 2 and "swapped" in res.output and "evaluate TRUTH ALERTS" in res.output
    assert run("evaluate", str(truth), str(alerts)).exit_code == 0


def test_zones_build_writes_into_the_working_directory_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = run("zones", "build", "--anchorages-only")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "zones" / "anchorages.geojson").stat().st_size > 1000


@pytest.mark.slow  # a whole demo run, 8 s
def test_the_demo_ends_with_the_high_events_the_scorecard_in_a_line_and_the_map_to_open(tmp_path):
    out = tmp_path / "demo-out"
    res = run("demo", "--out", str(out), "--hours", "6", "--vessels", "40", "--seed", "7")
    assert res.exit_code == 0, res.output
    tail = res.output.splitlines()[-12:]
    assert any(ln.startswith("scorecard: ") and "scripted events found" in ln for ln in tail)
    assert tail[-1].startswith(f"open {out / 'map.html'}")
    alerts = [__import__("json").loads(ln) for ln in (out / "alerts.jsonl").read_text().splitlines()]
    high = {a["id"] for a in alerts if a["severity"] in ("high", "critical")}
    if high:
        assert f"High and critical events ({len(high)})" in res.output
    else:
        assert "no high or critical events" in res.output


def test_replay_without_alerts_prints_the_events_and_a_file_of_no_nmea_says_why(tmp_path):
    from tests.conftest import default_mmsi_lines

    feed = tmp_path / "feed.nmea"
    feed.write_bytes(default_mmsi_lines())
    res = run("replay", str(feed), "--zones", "none")
    assert res.exit_code == 0, res.output
    assert "Events (no --alerts: not kept) (1)" in res.output and "identity anomaly" in res.output
    junk = tmp_path / "notes.txt"
    junk.write_text("hello world\nthis is not AIS\n")
    res = run("replay", str(junk), "--zones", "none")
    assert res.exit_code == 1  # a run that reads nothing is an error
    assert "nothing decoded" in res.output and "holds no AIS sentences" in res.output and "'hello world'" in res.output


# -- what a service probe gave a traceback or accepted (issue: runs for months) --------------------------------


def test_what_a_probe_broke_is_refused_in_one_line(tmp_path):
    import json as _json

    f = tmp_path / "f"
    f.write_text("x")
    feed = tmp_path / "t.nmea"
    feed.write_bytes(TYPE1 + b"\n")
    alerts = tmp_path / "a.jsonl"
    alerts.write_text('{"id": "a"}\n')
    tiny = tmp_path / "tiny.toml"
    tiny.write_text("[arrivals]\ncheck_every_s = 1e-300\n")
    flood = tmp_path / "flood.toml"
    flood.write_text("flood_window_min = 1e-300\n")
    under_file = tmp_path / "u.toml"
    under_file.write_text(f'triage_store = "{f}/t.sqlite"\n')
    ring = tmp_path / "z.geojson"
    ring.write_text(_json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "id": "z", "name": "Z", "kind": "restricted", "alert_on": ["entry"]}, "geometry": {
        "type": "Polygon", "coordinates": [[[-61, 14], [-60.9, 14], [-60.9, 14.1]]]}}]}))
    nowhere = tmp_path / "no-such-dir"
    cases = [
        (["watch", str(feed), "--summary-json", str(nowhere / "dir" / "x.json")], "does not exist"),
        (["simulate", "--out", str(f)], "is a file"),
        (["map", str(alerts), "--out", str(tmp_path)], "is a folder"),
        (["replay", str(feed), "--config", str(tiny)], "too small"),
        (["replay", str(feed), "--config", str(flood)], "too small"),
        (["serve", "--redis", "redis://127.0.0.1:1", "--config", str(under_file), "--duration", "1"], "is a file"),
        (["replay", str(feed), "--alerts", str(nowhere / "deeper" / "a.jsonl")], "does not exist"),
        (["watch", str(feed), "--duration", "-5"], "must be positive"),
        (["arrivals", "LCCAS", str(feed), "--hours", "-5"], "must be positive"),
        (["replay", str(feed), "--start-time", "0001-01-01T00:00:00+01:00"], "from 1970 to 2099"),
        (["watch", str(feed), "--web", "127.0.0.1:1", "--triage", str(nowhere / "dir" / "t.sqlite"), "--duration",
          "1"],
         "does not exist"),
        (["replay", str(feed), "--zones", str(ring)], "closed ring needs at least 4"),
        (["arrivals", "ORANJESTAD", str(feed)], "may be any of Oranjestad (AWORJ), Sint Eustatius (BQEUX)"),
    ]
    for args, said in cases:
        res = run(*args)
        assert res.exit_code == 2, (args, res.output)
        assert said in res.output and "Traceback" not in res.output, (args, res.output)
    assert not nowhere.exists()  # no chain of folders was made where the caller did not ask
    # the file's own folder is made in one that exists
    assert run("replay", str(feed), "--alerts", str(tmp_path / "new" / "a.jsonl"), "-q").exit_code == 0
    assert (tmp_path / "new" / "a.jsonl").exists()


def test_a_replay_that_reads_nothing_fails_and_says_so(tmp_path):
    """An empty file, a file of blank lines or a table with its header only: most likely the wrong file or an
    export that failed; exit 1 with the reason. An empty file beside one with data is no failure."""
    (tmp_path / "empty.nmea").write_bytes(b"")
    (tmp_path / "blank.nmea").write_bytes(b"\n  \n\n")
    (tmp_path / "header.csv").write_text("MMSI,BaseDateTime,LAT,LON,SOG,COG\n")
    for name in ("empty.nmea", "blank.nmea", "header.csv"):
        res = run("replay", str(tmp_path / name), "-q", "--zones", "none", "--workers", "1")
        assert res.exit_code == 1 and "nothing was read" in res.output and name in res.output, res.output
    (tmp_path / "one.nmea").write_bytes(TYPE1 + b"\n")
    res = run("replay", str(tmp_path / "empty.nmea"), str(tmp_path / "one.nmea"), "-q", "--zones", "none",
              "--start-time", "2024-01-01T00:00:00Z", "--workers", "1")
    assert res.exit_code == 0, res.output
