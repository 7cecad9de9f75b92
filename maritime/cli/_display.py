"""Tables and lines the commands print: the run summary, scores against truth, the events of a run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from maritime.cli._common import err_console, out_console
from maritime.i18n import cli_language
from maritime.i18n import cli_text as _
from maritime.models import SEVERITIES
from maritime.redact import redact
from maritime.vocabulary import type_name


def print_summary(summary: dict[str, Any], outputs: dict[str, str]) -> None:
    table = Table(title=_("Replay summary"), show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    table.add_row(_("lines read"), f"{summary['lines']:,}")
    table.add_row(_("messages decoded"), f"{summary['messages']:,}")
    rejected = summary["rejected"]
    table.add_row(_("lines rejected"), f"{sum(rejected.values()):,}"
                  + (f"  ({', '.join(f'{k} {v:,}' for k, v in rejected.items())})" if rejected else ""))
    table.add_row(_("duplicates dropped"), f"{summary['duplicates']:,}")
    table.add_row(_("vessels"), f"{summary['vessels']:,}")
    table.add_row(_("positions"), f"{summary['positions']:,}")
    table.add_row(_("first / last time"), f"{summary['first_time']} / {summary['last_time']}")
    alerts = summary["alerts_by_type"]
    table.add_row(_("alerts"), _("{events} events, {records} alert records").format(
        events=f"{sum(alerts.values()):,}", records=f"{summary.get('alert_records', 0):,}"))
    for k, v in alerts.items():
        table.add_row(f"  {type_name(k, cli_language())}", f"{v:,}")
    rate = summary["lines"] / summary["seconds"] if summary["seconds"] else 0.0
    per_s = _("lines/s")
    table.add_row(_("seconds"), f"{summary['seconds']:.2f}  ({rate:,.0f} {per_s})")
    for k, v in outputs.items():
        table.add_row(k, escape(redact(v)))
    (out_console if out_console.is_terminal else err_console).print(table)


def summary_line(summary: dict[str, Any]) -> str:
    """A run's summary in one line (what ``-q`` prints): lines, rejected, vessels, alerts by type, time."""
    rejected = sum(summary["rejected"].values())
    alerts = summary["alerts_by_type"]
    kinds = ", ".join(f"{v:,} {k}" for k, v in alerts.items())
    return (f"{summary['lines']:,} lines, {rejected:,} rejected, {summary['vessels']:,} vessels, "
            f"{sum(alerts.values()):,} alert events" + (f" ({kinds})" if kinds else "")
            + f", {summary['seconds']:.1f} s")


def ordinary_line(life: dict[str, Any]) -> str:
    scenes = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(life["scenes"].items(), key=lambda kv: -kv[1]))
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(life["by_type"].items())) or "none"
    return f"ordinary life: {life['vessels']} vessels ({scenes}): {life['false_alerts']} false alerts ({kinds})"


def print_scores(report: dict[str, dict[str, Any]]) -> None:
    table = Table(title=_("Detected vs scripted"), title_justify="left")
    for col in (_("type"), _("truth"), _("alerts"), _("matched"), _("recall"), _("precision")):
        table.add_column(col, justify="left" if col == _("type") else "right")
    for kind, r in report.items():
        if not r.get("scored", True):  # nothing of the kind is scripted: counted, not scored
            table.add_row(kind, "-", str(r["alerts"]), "-", _("not scored"), _("not scored"))
            continue
        table.add_row(kind, str(r["truth"]), str(r["alerts"]), str(r["matched"]),
                      "-" if r["recall"] is None else f"{r['recall']:.2f}",
                      "-" if r["precision"] is None else f"{r['precision']:.2f}")
    out_console.print(table)


def scorecard_line(report: dict[str, dict[str, Any]], life: dict[str, Any]) -> str:
    """The scorecard in one line: recall and precision over every scripted event, and the ordinary-life count."""
    scored = {k: r for k, r in report.items() if r.get("scored", True)}
    truth = sum(r["truth"] for r in scored.values())
    alerts = sum(r["alerts"] for r in scored.values())
    matched = sum(r["matched"] for r in scored.values())
    recall = f"{matched / truth:.2f}" if truth else "-"
    precision = f"{matched / alerts:.2f}" if alerts else "-"
    line = f"scorecard: {matched} of {truth} scripted events found (recall {recall}), precision {precision}"
    unscored = [f"{r['alerts']} {k}" for k, r in report.items() if not r.get("scored", True) and r["alerts"]]
    if unscored:
        line += f" (not scored, none scripted: {', '.join(unscored)})"
    if life.get("vessels"):
        line += f"; ordinary life: {life['false_alerts']} false alerts on {life['vessels']} vessels"
    return line


def print_top_events(alerts_path: Path, severities: tuple[str, ...] = ("critical", "high")) -> None:
    """The high and critical events of a run, newest record of each, in a short table for the watch officer."""
    latest: dict[str, dict[str, Any]] = {}
    for line in alerts_path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            a = json.loads(line)
            latest[a["id"]] = a
    top = [a for a in latest.values() if a["severity"] in severities and a["status"] != "cancelled"]
    if not top:
        out_console.print(_("no high or critical events"))
        return
    print_events(top, _("High and critical events"), where=alerts_path)


#: most severe first (the contract's order, reversed)
SEVERITY_RANK = {s: i for i, s in enumerate(reversed(SEVERITIES))}


def print_events(events: list[dict[str, Any]], title: str, limit: int = 15, where: Path | None = None) -> None:
    """Events (the newest record of each, contract JSON) in a table: most severe first, then by start."""
    from rich import box

    events = sorted(events, key=lambda a: (SEVERITY_RANK.get(a["severity"], 5), a["start"]))
    table = Table(title=f"{title} ({len(events)})", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, expand=True)
    for col in (_("time"), _("severity"), _("type"), _("vessel"), _("place")):
        table.add_column(col, no_wrap=True)
    table.add_column(_("summary"), ratio=1, overflow="ellipsis", no_wrap=True)
    for a in events[:limit]:
        v = (a.get("vessels") or [{}])[0]
        who = v.get("name") or f"MMSI {v.get('mmsi', '?')}"
        if len(a.get("vessels") or []) > 1:
            who += f" +{len(a['vessels']) - 1}"
        pos = a.get("position") or {}
        j = a.get("jurisdiction") or {}
        waters = (j.get("territorial_sea") or j.get("eez") or {}).get("country")
        if a.get("zone"):
            place = a["zone"]["name"]
        elif pos.get("lat") is not None and pos.get("lon") is not None:
            lat, lon = pos["lat"], pos["lon"]
            place = f"{abs(lat):.2f}°{'N' if lat >= 0 else 'S'} {abs(lon):.2f}°{'E' if lon >= 0 else 'W'}"
            place += f" ({waters})" if waters else ""
        else:
            place = "-"
        table.add_row(escape(a["start"][5:16].replace("T", " ") + "Z"), _(a["severity"]).upper(),
                      type_name(a["type"], cli_language()), escape(who[:24]), escape(place[:28]), escape(a["summary"]))
    out_console.print(table)
    if len(events) > limit:
        more = _("... and {n} more").format(n=len(events) - limit)
        out_console.print(more + (f" in {escape(str(where))}" if where else ": --alerts FILE keeps every record"),
                          soft_wrap=True)


def print_board(where: Any, hours: float, doc: dict[str, Any], rows: list[Any], gone: list[Any] | None = None
                ) -> None:
    """An arrivals board as a table (wide: it is read on a wall screen or saved), then the vessels that declare
    the port but are not coming, each with its reason."""
    from rich.console import Console

    title = (f"Arrivals at {where.name} ({where.locode or where.id}) in the {hours:g} h after "
             f"{doc['as_of'] or 'the input'}: {len(rows)}")
    table = Table(title=escape(title))
    for col in ("risk", "vessel", "declared", "ETA declared", "ETA track", "Δ h", "nm", "kn", "on the board because",
                "risk factors"):
        table.add_column(col)
    for a in rows:
        who = f"{a.name or '(no name)'} · {a.mmsi}" + (f" · IMO {a.imo}" if a.imo else "")
        why = "; ".join(f"{f['factor'].replace('_', ' ')} ×{f['count']}" for f in a.factors) or "-"
        table.add_row(f"{a.risk:g}", escape(who), escape(f"{a.declared_text or '-'}"),
                      (a.eta_declared or "-").replace("T", " ")[:16], (a.eta_track or "-").replace("T", " ")[:16],
                      "-" if a.eta_disagreement_h is None else f"{a.eta_disagreement_h:+.1f}",
                      "-" if a.distance_nm is None else f"{a.distance_nm:g}",
                      "-" if a.sog_kn is None else f"{a.sog_kn:g}", escape(a.reason), escape(why))
    console = Console(width=240)
    console.print(table)
    if gone:
        t2 = Table(title=escape(f"Declared {where.name}, not coming in the window: {len(gone)}"))
        for col in ("vessel", "declared", "ETA declared", "nm", "kn", "why not"):
            t2.add_column(col)
        for a in gone:
            who = f"{a.name or '(no name)'} · {a.mmsi}"
            t2.add_row(escape(who), escape(a.declared_text or "-"), (a.eta_declared or "-").replace("T", " ")[:16],
                       "-" if a.distance_nm is None else f"{a.distance_nm:g}",
                       "-" if a.sog_kn is None else f"{a.sog_kn:g}", escape(a.reason))
        console.print(t2)
