"""``maritime watchlist``: vessels of interest in CSV files or the shared Redis watchlist."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from maritime.cli._common import NamedCommand, command_family, fail
from maritime.redact import redact

app = command_family("Vessels of interest: list, add, remove (CSV files).")

def load_or_fail(path: Path, missing_ok: bool = False) -> list[Any]:
    from maritime.enrich.watchlist_store import WatchlistError, load_watchlist

    if missing_ok and not path.exists():
        return []
    try:
        return load_watchlist(path)
    except WatchlistError as err:
        raise fail(str(err), 2) from None


@app.command(cls=NamedCommand, name="list")
def watchlist_list(
    path: Annotated[Path | None, typer.Argument(help="watchlist file")] = None,
    redis_url: Annotated[str | None, typer.Option("--redis", help="the shared watchlist in Redis")] = None,
) -> None:
    """Print the entries (of a file, or of the shared Redis watchlist)."""
    from maritime.enrich.watchlist_store import redis_entries
    from maritime.models import iso

    if (path is None) == (redis_url is None):
        raise fail("give a watchlist file or --redis URL", 2)
    entries = load_or_fail(path) if path is not None else redis_entries(str(redis_url))
    for e in entries:
        typer.echo(f"{e.kind}\t{e.value}\t{e.severity}\t{iso(e.expires_s) or 'never'}\t{e.source}\t{e.reason}")


@app.command(cls=NamedCommand, name="add")
def watchlist_add(
    kind: Annotated[str, typer.Option(help="mmsi, imo, callsign or name (a pattern such as '*DRAGON*')")],
    value: Annotated[str, typer.Option(help="the MMSI, IMO number, call sign or name pattern")],
    reason: Annotated[str, typer.Option(help="why the vessel is of interest")],
    path: Annotated[Path | None, typer.Argument(help="watchlist file (CSV; created if missing)")] = None,
    source: Annotated[str, typer.Option(help="the centre that listed it")] = "",
    severity: Annotated[str, typer.Option(help="of its alerts: info, low, medium, high or critical")] = "high",
    expires: Annotated[str, typer.Option(help="ISO date or time (default: never)")] = "",
    redis_url: Annotated[str | None, typer.Option("--redis", help="add to the shared watchlist in Redis")] = None,
) -> None:
    """Add (or replace) an entry in a file or in the shared Redis watchlist."""
    from maritime.enrich.watchlist_store import WatchlistError, add_to_file, parse_entry, redis_put

    if (path is None) == (redis_url is None):
        raise fail("give a watchlist file or --redis URL", 2)

    try:
        new = parse_entry({"kind": kind, "value": value, "reason": reason, "source": source, "severity": severity,
                      "expires": expires}, "argument")
    except WatchlistError as err:
        raise fail(str(err), 2) from None
    if redis_url is not None:
        redis_put(redis_url, new)
        typer.echo(f"{redact(redis_url)}: added {new.kind} {new.value}")
    elif path is not None:
        try:
            n = add_to_file(path, new)
        except WatchlistError as err:
            raise fail(str(err), 2) from None
        typer.echo(f"{path}: {n} entries")


@app.command(cls=NamedCommand, name="remove")
def watchlist_remove(
    kind: Annotated[str, typer.Option(help="mmsi, imo, callsign or name")],
    value: Annotated[str, typer.Option(help="the MMSI, IMO number, call sign or name pattern, as listed")],
    path: Annotated[Path | None, typer.Argument(help="watchlist file")] = None,
    redis_url: Annotated[str | None, typer.Option("--redis", help="remove from the shared Redis watchlist")] = None,
) -> None:
    """Remove an entry from a file or from the shared Redis watchlist."""
    from maritime.enrich.watchlist_store import WatchlistError, redis_remove, remove_from_file

    if (path is None) == (redis_url is None):
        raise fail("give a watchlist file or --redis URL", 2)
    if redis_url is not None:
        if not redis_remove(redis_url, kind.lower(), value):
            raise fail(f"{redis_url}: no {kind} {value!r} in the shared watchlist")
        typer.echo(f"{redact(redis_url)}: removed {kind} {value}")
    elif path is not None:
        try:
            left = remove_from_file(path, kind, value)
        except WatchlistError as err:
            raise fail(str(err), 2) from None
        if left is None:
            raise fail(f"{path}: no {kind} {value!r} in the list")
        typer.echo(f"{path}: {left} entries")
