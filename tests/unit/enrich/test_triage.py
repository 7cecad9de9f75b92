"""Alert triage: kept with an audit trail in SQLite (default) or Redis, shared, counted per rule."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from maritime.enrich.triage import (
    FALSE_ALARM_REASONS,
    RedisTriageStore,
    SqliteTriageStore,
    TriageError,
    current,
    rule_of,
    stats,
)

GATE = {"id": "geofence_entry:mpa-1:376000500:2025-05-14T08:00:00Z", "type": "geofence_entry",
        "zone": {"id": "mpa-1", "name": "Soufriere MPA", "kind": "mpa"}, "details": {}}
MEET = {"id": "rendezvous:376000500-377000700:2025-05-14T08:00:00Z", "type": "rendezvous",
        "details": {"profile": "default"}}
LAND = {"id": "identity_anomaly:376000500:on_land:2025-05-14T08:00:00Z", "type": "identity_anomaly",
        "details": {"anomaly": "on_land"}}


def exercise(store) -> None:
    """The same checks on either store."""
    e = store.record(GATE["id"], "acknowledge", "Lt. Joseph", "watching it", alert=GATE, time_s=1000.0)
    assert (e.state, e.officer, e.note, e.rule, e.zone_id) == ("acknowledged", "Lt. Joseph", "watching it",
                                                               "geofence_entry@mpa-1", "mpa-1")
    # later actions on the same alert keep its type, zone and rule without being told again
    e2 = store.record(GATE["id"], "false_alarm", "PO Charles", "dive boat with a permit", reason="known_vessel",
                      time_s=1060.0)
    assert e2.rule == "geofence_entry@mpa-1" and e2.alert_type == "geofence_entry"
    store.record(MEET["id"], "escalate", "Lt. Joseph", "tell the duty officer", alert=MEET, time_s=1100.0)
    store.record(LAND["id"], "false_alarm", "PO Charles", "", reason="bad_data", alert=LAND, time_s=1200.0)
    store.record(LAND["id"], "reopen", "Lt. Joseph", "looks real after all", time_s=1300.0)
    store.record(LAND["id"], "close", "Lt. Joseph", "", time_s=1400.0)
    # the trail keeps every action, oldest first; the state is the latest
    trail = store.history(GATE["id"])
    assert [t.action for t in trail] == ["acknowledge", "false_alarm"] and trail[1].reason == "known_vessel"
    now = current(store.events())
    assert {k: v.state for k, v in now.items()} == {GATE["id"]: "false_alarm", MEET["id"]: "escalated",
                                                   LAND["id"]: "closed"}
    got, cursor = store.since(None)
    assert len(got) == 6
    store.record(MEET["id"], "close", "Lt. Joseph", "vessels parted", time_s=1500.0)
    more, cursor2 = store.since(cursor)
    assert [m.action for m in more] == ["close"] and cursor2 != cursor
    assert store.since(cursor2)[0] == []
    # what cannot be recorded says why
    for kwargs, why in (({"action": "acknowledge", "officer": "  "}, "officer"),
                        ({"action": "false_alarm", "officer": "X"}, "needs a reason"),
                        ({"action": "false_alarm", "officer": "X", "reason": "weather"}, "unknown reason"),
                        ({"action": "false_alarm", "officer": "X", "reason": "other"}, "needs a note"),
                        ({"action": "delete", "officer": "X"}, "unknown action")):
        with pytest.raises(TriageError, match=why):
            store.record(GATE["id"], **kwargs)
    # control characters are dropped from names and notes
    odd = store.record(MEET["id"], "reopen", "Lt.\x1b[31m Joseph\x00", "a\x07b")
    assert odd.officer == "Lt.[31m Joseph" and odd.note == "ab"


def test_sqlite_triage_is_kept_across_restarts_with_its_trail(tmp_path):
    path = tmp_path / "triage.sqlite"
    store = SqliteTriageStore(path)
    exercise(store)
    store.close()
    again = SqliteTriageStore(path)  # a restarted server
    assert [e.action for e in again.history(GATE["id"])] == ["acknowledge", "false_alarm"]
    assert current(again.events())[GATE["id"]].officer == "PO Charles"


def test_redis_triage_is_shared_and_kept(server):
    exercise(RedisTriageStore(server.url))
    other = RedisTriageStore(server.url)  # another live map of the same deployment
    assert current(other.events())[GATE["id"]].state == "false_alarm"


def test_false_alarm_rate_per_type_zone_and_rule():
    store = SqliteTriageStore(":memory:")
    for i in range(4):
        a = {**GATE, "id": f"g{i}"}
        if i < 3:
            store.record(a["id"], "false_alarm", "Lt. Joseph", "", reason="ordinary_activity", alert=a)
        else:
            store.record(a["id"], "escalate", "Lt. Joseph", "", alert=a)
    store.record("m1", "acknowledge", "Lt. Joseph", "", alert={**MEET, "id": "m1"})
    got = stats(store.events())
    rule = {r["key"]: r for r in got["rule"]}
    assert rule["geofence_entry@mpa-1"]["false_alarm_rate"] == 0.75
    assert rule["geofence_entry@mpa-1"]["reasons"] == {"ordinary_activity": 3}
    assert rule["rendezvous:default"]["false_alarm_rate"] == 0.0
    assert got["rule"][0]["key"] == "geofence_entry@mpa-1"  # the worst rule first
    assert {r["key"] for r in got["zone"]} == {"mpa-1"}
    assert {r["key"]: r["concluded"] for r in got["type"]} == {"geofence_entry": 4, "rendezvous": 1}
    assert rule_of({"type": "dark_gap"}) == "dark_gap"
    assert set(FALSE_ALARM_REASONS) >= {"ordinary_activity", "other"}


def test_a_damaged_triage_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "triage.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(TriageError, match="not a usable triage file"):
        SqliteTriageStore(bad)


def test_triage_command_records_and_counts(tmp_path):
    db = tmp_path / "t.sqlite"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "maritime.cli", "triage", *args, "--store", str(db)],
                              capture_output=True, text=True, timeout=120)

    log = tmp_path / "alerts.jsonl"
    gap = {"id": "dark_gap:376000500:2025-05-14T08:00:00Z", "type": "dark_gap", "status": "open", "severity": "high",
           "time": "2025-05-14T08:00:00Z", "start": "2025-05-14T08:00:00Z", "vessels": [], "summary": "gap"}
    log.write_text(json.dumps(gap) + "\n")
    unknown = run("set", "dark_gap:376000500:2025-05-14T08:00:00Z", "ack", "--officer", "Lt. Joseph")
    assert unknown.returncode == 2 and "no such alert" in unknown.stderr, unknown.stderr
    ok = run("set", "dark_gap:376000500:2025-05-14T08:00:00Z", "false_alarm", "--officer", "Lt. Joseph",
             "--reason", "bad_data", "--note", "receiver outage", "--alerts", str(log))
    assert ok.returncode == 0, ok.stderr
    bad = run("set", "dark_gap:376000500:2025-05-14T08:00:00Z", "false_alarm", "--officer", "Lt. Joseph")
    assert bad.returncode == 2 and "needs a reason" in bad.stderr and "Traceback" not in bad.stderr
    shown = run("history", "dark_gap:376000500:2025-05-14T08:00:00Z")
    assert "Lt. Joseph" in shown.stdout and "receiver outage" in shown.stdout
    out = run("stats", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["rule"]
    assert rows[0]["key"] == "dark_gap" and rows[0]["false_alarm_rate"] == 1.0
    table = run("stats")
    assert "dark_gap" in table.stdout and "100%" in table.stdout


async def test_two_live_maps_on_one_redis_share_triage_at_once(server):
    """Two map servers of one deployment (each with its own Redis triage client): an officer's action on one
    reaches the pages of the other over its event stream."""
    import asyncio

    import aiohttp

    from maritime.models import Alert, VesselRef
    from maritime.views.web import LiveState, make_app, start_server
    from tests.conftest import free_port

    alert = Alert("rendezvous:7", "rendezvous", "open", "high", 1.7472e9, 1.7472e9, None, (VesselRef(376000500),),
                  14.0, -61.0, "a meeting")
    runners, ports = [], []
    for _ in range(2):
        st = LiveState()
        st.write(alert)
        port = free_port()
        runners.append(await start_server(make_app(st, hosts=["127.0.0.1"], triage=RedisTriageStore(server.url)),
                                          "127.0.0.1", port))
        ports.append(port)
    a, b = (f"http://127.0.0.1:{p}" for p in ports)
    try:
        async with aiohttp.ClientSession() as s:
            events = await s.get(b + "/api/events")
            await events.content.readline()  # the stream is open
            async with s.post(a + "/api/alerts/rendezvous:7/triage", headers={"Origin": a},
                              json={"action": "escalate", "officer": "Lt. Joseph", "note": "to the duty officer"}) as r:
                assert r.status == 200, await r.text()

            async def triage_event() -> dict:
                while True:
                    line = (await events.content.readline()).decode()
                    if line.startswith("event: triage"):
                        return json.loads((await events.content.readline()).decode().removeprefix("data: "))

            got = await asyncio.wait_for(triage_event(), 10)
            assert got["state"] == "escalated" and got["officer"] == "Lt. Joseph" and got["alert_id"] == "rendezvous:7"
            async with s.get(b + "/api/alerts") as r:
                view = (await r.json())[0]
                assert view["acknowledged"] and view["triage"]["note"] == "to the duty officer"
            events.close()
    finally:
        for r in runners:
            await r.cleanup()


def test_the_maps_words_are_accepted_and_unknown_ids_refused(tmp_path):
    """The map's buttons say Ack and False alarm; the CLI takes the same words. A mistyped id is refused."""
    db, log = tmp_path / "t.sqlite", tmp_path / "alerts.jsonl"
    a = {"id": "rendezvous:376000500-376000600:1", "type": "rendezvous", "status": "open", "severity": "high",
         "time": "2025-05-14T08:00:00Z", "start": "2025-05-14T08:00:00Z", "vessels": [], "summary": "meeting"}
    log.write_text(json.dumps(a) + "\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "maritime.cli", "triage", *args, "--store", str(db)],
                              capture_output=True, text=True, timeout=120)

    assert run("set", a["id"], "Ack", "--officer", "Lt. Joseph", "--alerts", str(log)).returncode == 0
    assert run("set", a["id"], "escalated", "--officer", "Lt. Joseph").returncode == 0  # known now
    wrong = run("set", "no-such-id", "acknowledge", "--officer", "Lt. Joseph", "--alerts", str(log))
    assert wrong.returncode == 2 and "no such alert" in wrong.stderr
    word = run("set", a["id"], "approve", "--officer", "Lt. Joseph")
    assert word.returncode == 2 and "unknown action" in word.stderr
    out = run("export", "--format", "json")
    rows = json.loads(out.stdout)
    assert [r["action"] for r in rows] == ["acknowledge", "escalate"] and rows[0]["rule"] == "rendezvous"
    assert "no-such-id" not in out.stdout
    csv_out = tmp_path / "log.csv"
    assert run("export", "--out", str(csv_out)).returncode == 0
    import csv
    got = list(csv.DictReader(csv_out.open()))
    assert [r["state"] for r in got] == ["acknowledged", "escalated"] and got[0]["officer"] == "Lt. Joseph"


def test_action_words():
    from maritime.enrich.triage import TriageError, action_of

    assert action_of("Ack") == "acknowledge" and action_of("false alarm") == "false_alarm"
    assert action_of("FALSE-ALARM") == "false_alarm" and action_of(" Close ") == "close"
    with pytest.raises(TriageError, match="unknown action"):
        action_of("approve")
