"""Vessels of interest: the shared watchlist files (CSV, JSON) and the Redis copy centres edit at run time.

A watchlist is a CSV (header ``kind,value,reason,source,severity,expires``)
or a JSON list of objects with the same keys. ``kind`` is ``mmsi``, ``imo``,
``callsign`` or ``name`` (a case-insensitive shell-style pattern such as
``*DRAGON*``); ``expires`` is an ISO date or time (empty: never).

The matching, ``watchlist_hit`` alerts and enrichment are
:class:`maritime.detectors.watchlist.Watchlist`.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from maritime.detectors.watchlist import KINDS, WatchEntry, Watchlist
from maritime.models import SEVERITIES, as_severity, iso, parse_iso

logger = logging.getLogger(__name__)



class WatchlistError(Exception):
    """A watchlist file that cannot be used; the message names the file and line."""


def parse_entry(row: dict[str, Any], where: str) -> WatchEntry:
    kind = str(row.get("kind") or "").strip().lower()
    value = str(row.get("value") or "").strip()
    if kind not in KINDS:
        raise WatchlistError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if not value:
        raise WatchlistError(f"{where}: empty value")
    if kind in ("mmsi", "imo") and not value.isdigit():
        raise WatchlistError(f"{where}: {kind} must be digits, not {value!r}")
    reason = str(row.get("reason") or "").strip()
    if not reason:
        raise WatchlistError(f"{where}: a reason is needed (why the vessel is of interest)")
    severity = str(row.get("severity") or "high").strip().lower()
    if severity not in SEVERITIES:
        raise WatchlistError(f"{where}: severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    expires = str(row.get("expires") or "").strip()
    try:
        expires_s = parse_iso(expires) if expires else None
    except ValueError:
        raise WatchlistError(f"{where}: expires is not an ISO date or time: {expires!r}") from None
    return WatchEntry(kind, value, reason, str(row.get("source") or "").strip(), as_severity(severity), expires_s)


def load_watchlist(path: str | Path) -> list[WatchEntry]:
    """Entries of a CSV or JSON watchlist; raises :class:`WatchlistError` naming the file and line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise WatchlistError(f"{p}: cannot be read ({err.strerror})") from None
    except UnicodeDecodeError as err:
        raise WatchlistError(f"{p}: not UTF-8 text (byte {err.start}): a watchlist is a CSV or JSON file") from None
    if "\x00" in text:
        raise WatchlistError(f"{p}: binary data (NUL bytes): a watchlist is a CSV or JSON file")
    if p.suffix.lower() == ".json":
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as err:
            raise WatchlistError(f"{p}:{err.lineno}: not valid JSON ({err.msg})") from None
        except RecursionError:
            raise WatchlistError(f"{p}: nested too deeply to be a watchlist") from None
        if not isinstance(rows, list):
            raise WatchlistError(f"{p}: a JSON watchlist is a list of entries")
        return [parse_entry(r if isinstance(r, dict) else {}, f"{p}: entry {i}") for i, r in enumerate(rows)]
    reader = csv.DictReader(text.splitlines())
    missing = {"kind", "value", "reason"} - set(reader.fieldnames or [])
    if missing:
        raise WatchlistError(f"{p}:1: header lacks {', '.join(sorted(missing))} (kind,value,reason,source,severity,"
                             "expires)")
    return [parse_entry(row, f"{p}:{n}") for n, row in enumerate(reader, start=2) if any((v or "").strip()
                                                                                     for v in row.values())]


def save_watchlist(path: str | Path, entries: Iterable[WatchEntry]) -> None:
    """Write entries as CSV."""
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["kind", "value", "reason", "source", "severity", "expires"])
        for e in entries:
            w.writerow([e.kind, e.value, e.reason, e.source, e.severity, iso(e.expires_s) or ""])


def add_to_file(path: str | Path, entry: WatchEntry) -> int:
    """Add ``entry`` to a watchlist file (created if missing), replacing one of the same kind and value;
    return the number of entries."""
    p = Path(path)
    entries = load_watchlist(p) if p.exists() else []
    kept = [e for e in entries if (e.kind, e.value) != (entry.kind, entry.value)]
    save_watchlist(p, [*kept, entry])
    return len(kept) + 1


def remove_from_file(path: str | Path, kind: str, value: str) -> int | None:
    """Remove the entry of ``kind`` and ``value`` from a watchlist file; the entries left, or None when there
    was no such entry (the file is then left as it was)."""
    entries = load_watchlist(path)
    kept = [e for e in entries if (e.kind, e.value) != (kind.lower(), value)]
    if len(kept) == len(entries):
        return None
    save_watchlist(path, kept)
    return len(kept)


REDIS_KEY = "mda:watchlist"


def redis_entries(url: str) -> list[WatchEntry]:
    """The shared watchlist centres keep in Redis (hash ``mda:watchlist``: ``kind:value`` → entry JSON)."""
    import redis

    client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)
    try:
        rows: dict[str, str] = client.hgetall(REDIS_KEY)  # type: ignore[assignment]
    finally:
        client.close()
    return [parse_entry(json.loads(v), f"redis {REDIS_KEY} {k}") for k, v in sorted(rows.items())]


def redis_put(url: str, entry: WatchEntry) -> None:
    """Add or replace an entry of the shared Redis watchlist."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        d = entry.as_dict()
        d["expires"] = d["expires"] or ""
        client.hset(REDIS_KEY, f"{entry.kind}:{entry.value}", json.dumps(d))
    finally:
        client.close()


def redis_remove(url: str, kind: str, value: str) -> bool:
    """Remove an entry of the shared Redis watchlist; False when it was not there."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        return bool(client.hdel(REDIS_KEY, f"{kind}:{value}"))
    finally:
        client.close()


__all__ = ["KINDS", "WatchEntry", "Watchlist", "WatchlistError", "load_watchlist", "redis_entries",
           "redis_put", "redis_remove", "save_watchlist"]


async def follow_watchlists(url: str, files: list[Path], replace: Callable[[list[WatchEntry]], None],
                            every_s: float = 60.0) -> None:
    """Re-read the watchlist files and the shared Redis watchlist every ``every_s`` seconds and hand the entries
    to ``replace`` (centres update the list at run time); a read that fails keeps the last good list."""
    import asyncio

    while True:
        await asyncio.sleep(every_s)
        try:
            entries = [e for f in files for e in load_watchlist(f)]
            entries += await asyncio.to_thread(redis_entries, url)
        except Exception as err:  # a file being rewritten, Redis down: keep the last good list
            logger.warning("watchlist refresh failed: %s", err)
            continue
        replace(entries)
