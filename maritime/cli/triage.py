"""``maritime triage``: record what officers concluded about alerts, read the trail, count false alarms."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from maritime.cli._common import (
    STORE_HELP,
    NamedCommand,
    check_output,
    command_family,
    fail,
    redis_url_or_fail,
    triage_store_or_fail,
)

app = command_family("Alert triage: record what officers concluded, read the trail, "
                  "count false alarms per rule.")

@app.command(cls=NamedCommand, name="set")
def triage_set(
    alert_id: Annotated[str, typer.Argument(help="the alert's id (as in the alert)")],
    action: Annotated[str, typer.Argument(
        help="acknowledge (ack), false_alarm ('false alarm'), escalate, close or reopen: the map's words too")],
    officer: Annotated[str, typer.Option(help="who takes the action")],
    note: Annotated[str, typer.Option(help="what the officer says")] = "",
    reason: Annotated[str | None, typer.Option(help="a false alarm's reason (see 'maritime triage reasons')")]
    = None,
    alerts: Annotated[str | None, typer.Option(
        "--alerts", help="where the alert was written: an alerts file (JSON lines, as from 'watch --alerts') or a "
        "Redis URL (its mda:alerts stream); needed for an alert not triaged before")] = None,
    store: Annotated[str | None, typer.Option("--store", help=STORE_HELP)] = None,
) -> None:
    """Record one action on an alert (kept with the officer's name, the note and the time).

    The alert must exist: found in ``--alerts``, or triaged before in the store. A mistyped id is refused, never
    recorded.
    """
    from maritime.enrich.triage import TriageError, action_of

    try:
        action = action_of(action)
    except TriageError as err:
        raise fail(str(err), 2) from None
    st = triage_store_or_fail(store)
    try:
        alert = _find_alert(alert_id, alerts) if alerts else None
        if alert is None and not st.history(alert_id):
            where = f"not in {alerts}" if alerts else "not triaged before; give --alerts FILE|redis://… to find it"
            raise fail(f"{alert_id}: no such alert ({where})", 2)
        e = st.record(alert_id, action, officer, note, reason, alert=alert)
    except TriageError as err:
        raise fail(f"{alert_id}: {err}", 2) from None
    except OSError as err:
        raise fail(f"the triage store cannot be written ({err})", 1) from None
    finally:
        st.close()
    typer.echo(f"{e.alert_id}: {e.state or 'reopened'} by {e.officer}")


def _find_alert(alert_id: str, source: str) -> dict[str, Any] | None:
    """The latest record of alert ``alert_id`` in an alerts file (JSON lines) or a Redis URL's ``mda:alerts``
    stream; None when it is not there (exit 2 when the source cannot be read)."""
    found: dict[str, Any] | None = None
    if source.startswith(("redis://", "rediss://", "unix://")):
        import redis

        redis_url_or_fail(source)
        client: Any = redis.Redis.from_url(source, decode_responses=True, socket_timeout=10.0)
        try:
            last = "+"
            while True:  # newest first, a page at a time
                page = client.xrevrange("mda:alerts", last, "-", count=1000)
                for _entry_id, fields in page:
                    if alert_id in (fields.get("alert") or ""):
                        try:
                            a = json.loads(fields["alert"])
                        except ValueError:
                            continue
                        if a.get("id") == alert_id:
                            return dict(a)
                if len(page) < 1000:
                    return None
                last = f"({page[-1][0]}"
        except redis.RedisError as err:
            raise fail(f"{source}: {err}", 2) from None
        finally:
            client.close()
    path = Path(source)
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if alert_id not in line:
                    continue
                try:
                    a = json.loads(line)
                except ValueError:
                    continue
                if isinstance(a, dict) and a.get("id") == alert_id:
                    found = a
    except OSError as err:
        raise fail(f"--alerts {source}: {err.strerror or err}", 2) from None
    return found


@app.command(cls=NamedCommand, name="export")
def triage_export(
    out: Annotated[Path | None, typer.Option("--out", help="the file to write (default: standard output)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    store: Annotated[str | None, typer.Option("--store", help=STORE_HELP)] = None,
) -> None:
    """The whole triage log, oldest first: every action with its officer, note, reason, time and rule."""
    if fmt not in ("csv", "json"):
        raise fail(f"--format {fmt}: csv or json", 2)
    check_output("--out", out)
    st = triage_store_or_fail(store)
    try:
        rows = [e.as_dict() for e in st.events()]
    finally:
        st.close()
    fields = ["seq", "time", "time_s", "alert_id", "action", "state", "officer", "reason", "note", "alert_type",
              "zone_id", "rule"]
    fh = out.open("w", encoding="utf-8", newline="") if out is not None else sys.stdout
    try:
        if fmt == "json":
            json.dump([{k: r.get(k) for k in fields} for r in rows], fh, ensure_ascii=False, indent=1)
            fh.write("\n")
        else:
            w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    finally:
        if out is not None:
            fh.close()
    if out is not None:
        typer.echo(f"{len(rows)} triage actions written to {out}", err=True)


@app.command(cls=NamedCommand, name="reasons")
def triage_reasons() -> None:
    """The reasons a false alarm can be given."""
    from maritime.enrich.triage import FALSE_ALARM_REASONS

    for key, text in FALSE_ALARM_REASONS.items():
        typer.echo(f"{key}\t{text}")


@app.command(cls=NamedCommand, name="history")
def triage_history(
    alert_id: Annotated[str, typer.Argument(help="the alert's id")],
    store: Annotated[str | None, typer.Option("--store", help=STORE_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
) -> None:
    """Every action on one alert, oldest first (the audit trail)."""
    st = triage_store_or_fail(store)
    try:
        trail = st.history(alert_id)
    finally:
        st.close()
    if not trail:
        raise fail(f"{alert_id}: nothing recorded", 1)
    for e in trail:
        d = e.as_dict()
        if as_json:
            typer.echo(json.dumps(d))
        else:
            why = f" ({e.reason})" if e.reason else ""
            typer.echo(f"{d['time']}  {e.action}{why}  {e.officer}" + (f"  — {e.note}" if e.note else ""))


@app.command(cls=NamedCommand, name="stats")
def triage_stats(
    store: Annotated[str | None, typer.Option("--store", help=STORE_HELP)] = None,
    by: Annotated[str, typer.Option(help="rule, type or zone")] = "rule",
    as_json: Annotated[bool, typer.Option("--json", help="all three groupings as JSON")] = False,
) -> None:
    """False-alarm rate of each rule (or alert type, or zone): which thresholds a centre should look at."""
    from maritime.enrich.triage import stats

    if by not in ("rule", "type", "zone"):
        raise fail(f"--by {by}: rule, type or zone", 2)
    st = triage_store_or_fail(store)
    try:
        got = stats(st.events())
    finally:
        st.close()
    if as_json:
        typer.echo(json.dumps(got, indent=2))
        return
    if not got[by]:
        typer.echo("no alert has been triaged yet")
        return
    table = Table(title=f"Triage outcomes by {by} (false alarms / concluded)")
    for col in (by, "concluded", "false alarms", "rate", "acknowledged", "escalated", "closed", "top reasons"):
        table.add_column(col, justify="right" if col not in (by, "top reasons") else "left")
    for r in got[by]:
        reasons = ", ".join(f"{k} {v}" for k, v in list(r["reasons"].items())[:3])
        table.add_row(escape(r["key"]), str(r["concluded"]), str(r["false_alarm"]), f"{r['false_alarm_rate']:.0%}",
                      str(r["acknowledged"]), str(r["escalated"]), str(r["closed"]), escape(reasons))
    Console(width=160).print(table)
