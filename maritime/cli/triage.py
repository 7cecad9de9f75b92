"""``maritime triage``: record what officers concluded about alerts, read the trail, count false alarms."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from maritime.cli._common import STORE_HELP, NamedCommand, command_family, fail, triage_store_or_fail

app = command_family("Alert triage: record what officers concluded, read the trail, "
                  "count false alarms per rule.")

@app.command(cls=NamedCommand, name="set")
def triage_set(
    alert_id: Annotated[str, typer.Argument(help="the alert's id (as in the alert)")],
    action: Annotated[str, typer.Argument(help="acknowledge, false_alarm, escalate, close or reopen")],
    officer: Annotated[str, typer.Option(help="who takes the action")],
    note: Annotated[str, typer.Option(help="what the officer says")] = "",
    reason: Annotated[str | None, typer.Option(help="a false alarm's reason (see 'maritime triage reasons')")]
    = None,
    store: Annotated[str | None, typer.Option("--store", help=STORE_HELP)] = None,
) -> None:
    """Record one action on an alert (kept with the officer's name, the note and the time)."""
    from maritime.enrich.triage import TriageError

    st = triage_store_or_fail(store)
    try:
        e = st.record(alert_id, action, officer, note, reason)
    except TriageError as err:
        raise fail(f"{alert_id}: {err}", 2) from None
    except OSError as err:
        raise fail(f"the triage store cannot be written ({err})", 1) from None
    finally:
        st.close()
    typer.echo(f"{e.alert_id}: {e.state or 'reopened'} by {e.officer}")


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
