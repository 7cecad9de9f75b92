"""Alert triage shared by a watch floor: what officers concluded about each alert, kept with an audit trail.

An officer *acknowledges* an alert (seen, being handled), marks it a *false alarm* with a reason (one of
:data:`FALSE_ALARM_REASONS`, plus free text), *escalates* it (to a supervisor or another agency), or *closes*
it (dealt with); *reopen* undoes the last conclusion. Every action is kept with the officer's name, a note and
the wall-clock time it was taken (triage is people's time, not event time), and nothing is overwritten: the
state of an alert is its latest action, and the trail is every action.

Two stores share one interface: :class:`SqliteTriageStore` (the default, a file in the per-user state folder,
safe for several processes on one machine) and :class:`RedisTriageStore` (for a deployment whose maps run on
several machines). :meth:`since` lets a live map pass on the actions other processes took.

The outcomes are counted per alert type, zone and rule (:func:`stats`): the false-alarm rate of each rule
tells a centre which threshold to change.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, get_args

from maritime.models import AlertType

logger = logging.getLogger(__name__)

Action = Literal["acknowledge", "false_alarm", "escalate", "close", "reopen"]
ACTIONS: tuple[Action, ...] = ("acknowledge", "false_alarm", "escalate", "close", "reopen")
#: the state an action leaves an alert in (``reopen``: none, as if never triaged)
STATE_OF: dict[str, str | None] = {"acknowledge": "acknowledged", "false_alarm": "false_alarm",
                                   "escalate": "escalated", "close": "closed", "reopen": None}
#: why an alert was a false alarm: the list officers choose from (free text goes in the note)
FALSE_ALARM_REASONS: dict[str, str] = {
    "ordinary_activity": "ordinary activity (fishing, anchoring, yachts, tenders, pilots)",
    "known_vessel": "known vessel or authorised operation",
    "bad_data": "bad position or time data (GPS, receiver, satellite stamp)",
    "identity": "shared or mistyped MMSI, or identity data wrong",
    "zone_or_rule": "zone drawn wrong or rule too strict",
    "duplicate": "duplicate of another alert",
    "other": "other (said in the note)",
}
#: the words officers use for the actions (the map's buttons, past tenses, short forms), read case-insensitively
#: with spaces and hyphens as underscores: ``Ack``, ``false alarm``, ``escalated``
ACTION_WORDS: dict[str, Action] = {
    "ack": "acknowledge", "acknowledged": "acknowledge", "acked": "acknowledge",
    "false": "false_alarm", "fa": "false_alarm", "falsealarm": "false_alarm",
    "escalated": "escalate", "esc": "escalate",
    "closed": "close", "reopened": "reopen", "open": "reopen",
}
MAX_OFFICER = 80
MAX_NOTE = 2000


class TriageError(ValueError):
    """An action that cannot be recorded as given (a one-line reason for the officer)."""


@dataclass(frozen=True, slots=True)
class TriageEvent:
    """One action on one alert (``time_s``: wall-clock UNIX seconds when it was taken)."""

    seq: int
    alert_id: str
    action: str
    officer: str
    note: str
    reason: str | None
    time_s: float
    alert_type: str | None = None
    zone_id: str | None = None
    rule: str | None = None

    @property
    def state(self) -> str | None:
        """The state it leaves its alert in."""
        return STATE_OF.get(self.action)

    def as_dict(self) -> dict[str, Any]:
        """As JSON (``time`` in ISO 8601 UTC besides ``time_s``)."""
        d = asdict(self)
        d["state"] = self.state
        d["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.time_s))
        return d


def rule_of(alert: Mapping[str, Any]) -> str:
    """The rule that raised an alert (an alert in the contract's JSON form): its type, with the zone for
    geofence rules, the anomaly for identity alerts and the profile for rendezvous (``geofence_entry@mpa-1``,
    ``identity_anomaly:on_land``, ``rendezvous:default``)."""
    t = str(alert.get("type") or "unknown")
    zone = alert.get("zone") or {}
    details = alert.get("details") or {}
    if isinstance(zone, Mapping) and zone.get("id"):
        return f"{t}@{zone['id']}"
    if t == "identity_anomaly" and details.get("anomaly"):
        return f"{t}:{details['anomaly']}"
    if t == "rendezvous" and details.get("profile"):
        return f"{t}:{details['profile']}"
    return t


def _clean(text: str | None, limit: int) -> str:
    """Text without control characters, trimmed to ``limit`` characters."""
    s = "".join(ch for ch in (text or "") if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return s.strip()[:limit]


def action_of(word: str) -> Action:
    """The action an officer's word names (``Ack``, ``false alarm``, ``escalated``, ``close``…), or
    :class:`TriageError` listing the actions."""
    key = "_".join(str(word).strip().lower().replace("-", " ").split())
    for a in ACTIONS:
        if a == key:
            return a
    if key in ACTION_WORDS:
        return ACTION_WORDS[key]
    raise TriageError(f"unknown action {word!r}: one of {', '.join(ACTIONS)} (or ack)")


def validate(action: str, officer: str | None, note: str | None, reason: str | None) -> tuple[str, str, str | None]:
    """The officer, note and reason to record, or :class:`TriageError` with what is wrong (``action`` as
    :func:`action_of` reads it)."""
    action = action_of(action)
    who = _clean(officer, MAX_OFFICER)
    if not who:
        raise TriageError("the officer's name is needed")
    text = _clean(note, MAX_NOTE)
    why: str | None = None
    if action == "false_alarm":
        why = (reason or "").strip() or None
        if why is None:
            raise TriageError(f"a false alarm needs a reason: one of {', '.join(FALSE_ALARM_REASONS)}")
        if why not in FALSE_ALARM_REASONS:
            raise TriageError(f"unknown reason {why!r}: one of {', '.join(FALSE_ALARM_REASONS)}")
        if why == "other" and not text:
            raise TriageError("reason 'other' needs a note saying what it was")
    elif reason:
        raise TriageError("a reason is given only with a false alarm")
    return who, text, why


class TriageStore(Protocol):
    """Where triage is kept."""

    def record(self, alert_id: str, action: str, officer: str | None, note: str | None = None,
               reason: str | None = None, alert: Mapping[str, Any] | None = None,
               time_s: float | None = None) -> TriageEvent: ...
    def history(self, alert_id: str) -> list[TriageEvent]: ...
    def since(self, cursor: Any) -> tuple[list[TriageEvent], Any]: ...
    def events(self) -> Iterable[TriageEvent]: ...
    def close(self) -> None: ...


def current(events: Iterable[TriageEvent]) -> dict[str, TriageEvent]:
    """The state of each alert: its latest action (alerts reopened last are left out)."""
    out: dict[str, TriageEvent] = {}
    for e in events:
        if e.state is None:
            out.pop(e.alert_id, None)
        else:
            out[e.alert_id] = e
    return out


def stats(events: Iterable[TriageEvent]) -> dict[str, list[dict[str, Any]]]:
    """Triage outcomes per alert type, zone and rule: how many alerts were concluded, how many of them were
    false alarms (and why), and the false-alarm rate (false alarms / concluded), worst rule first."""
    now = current(events)
    groups: dict[str, dict[str, Counter[str]]] = {"type": {}, "zone": {}, "rule": {}}
    reasons: dict[tuple[str, str], Counter[str]] = {}
    for e in now.values():
        for group, key in (("type", e.alert_type or "unknown"), ("zone", e.zone_id), ("rule", e.rule or "unknown")):
            if key is None:
                continue
            c = groups[group].setdefault(key, Counter())
            c["concluded"] += 1
            c[e.state or ""] += 1
            if e.state == "false_alarm" and e.reason:
                reasons.setdefault((group, key), Counter())[e.reason] += 1
    out: dict[str, list[dict[str, Any]]] = {}
    for group, rows in groups.items():
        items: list[dict[str, Any]] = []
        for key, c in rows.items():
            n = c["concluded"]
            items.append({"key": key, "concluded": n, "false_alarm": c["false_alarm"],
                          "acknowledged": c["acknowledged"], "escalated": c["escalated"], "closed": c["closed"],
                          "false_alarm_rate": round(c["false_alarm"] / n, 3) if n else 0.0,
                          "reasons": dict(reasons.get((group, key), Counter()).most_common())})
        items.sort(key=lambda r: (-float(r["false_alarm_rate"]), -int(r["concluded"]), str(r["key"])))
        out[group] = items
    return out


def _event_fields(alert: Mapping[str, Any] | None, alert_id: str) -> tuple[str | None, str | None, str | None]:
    if not alert:
        # an alert id begins with its type (``dark_gap:376000500:…``)
        head = alert_id.split(":", 1)[0]
        return (head, None, head) if head in get_args(AlertType) else (None, None, None)
    zone = alert.get("zone") or {}
    return (alert.get("type"), zone.get("id") if isinstance(zone, Mapping) else None, rule_of(alert))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS triage_event (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL, action TEXT NOT NULL, officer TEXT NOT NULL, note TEXT NOT NULL, reason TEXT,
    time_s REAL NOT NULL, alert_type TEXT, zone_id TEXT, rule TEXT
);
CREATE INDEX IF NOT EXISTS triage_event_alert ON triage_event (alert_id, seq);
"""


class SqliteTriageStore:
    """Triage in a SQLite file (``":memory:"``: kept in memory only), one row per action, never updated.

    WAL mode lets the live map and a ``maritime triage`` command write to the same file at once.
    """

    def __init__(self, path: str | Path, make_folder: bool = False) -> None:
        """``make_folder``: create the file's folders (the default state folder); otherwise only the file's own
        folder is made, in one that exists (a typo is refused, never created as a chain)."""
        self.path = str(path)
        if self.path != ":memory:":
            folder = Path(self.path).parent
            try:
                if make_folder:
                    folder.mkdir(parents=True, exist_ok=True)
                elif folder.exists() and not folder.is_dir():
                    raise TriageError(f"{self.path}: {folder} is a file, not a folder")
                elif not folder.exists():
                    # its own folder is made in an existing one; never a chain (a typo would make it as root)
                    if not folder.parent.is_dir():
                        raise TriageError(f"{self.path}: the folder {folder.parent} does not exist")
                    folder.mkdir()
                if Path(self.path).is_dir():
                    raise TriageError(f"{self.path}: is a folder, not a triage file")
            except OSError as err:
                raise TriageError(f"{self.path}: the folder cannot be made ({err.strerror or err})") from None
        try:
            self.db = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False)
            if self.path != ":memory:":
                self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.Error as err:
            raise TriageError(f"{self.path}: not a usable triage file ({err})") from None
        self._lock = threading.Lock()

    def record(self, alert_id: str, action: str, officer: str | None, note: str | None = None,
               reason: str | None = None, alert: Mapping[str, Any] | None = None,
               time_s: float | None = None) -> TriageEvent:
        """Keep one action (validated, see :func:`validate`); the event as kept."""
        action = action_of(action)
        who, text, why = validate(action, officer, note, reason)
        t = time.time() if time_s is None else time_s
        atype, zone, rule = _event_fields(alert, alert_id)
        with self._lock:
            if alert is None:  # an action on an alert seen before: its type, zone and rule are kept already
                row = self.db.execute("SELECT alert_type, zone_id, rule FROM triage_event WHERE alert_id = ? "
                                      "ORDER BY seq DESC LIMIT 1", (alert_id,)).fetchone()
                if row is not None:
                    atype, zone, rule = row
            cur = self.db.execute(
                "INSERT INTO triage_event (alert_id, action, officer, note, reason, time_s, alert_type, zone_id, rule)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (alert_id, action, who, text, why, t, atype, zone, rule))
            self.db.commit()
            seq = int(cur.lastrowid or 0)
        return TriageEvent(seq, alert_id, action, who, text, why, t, atype, zone, rule)

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[TriageEvent]:
        with self._lock:
            rows = self.db.execute(sql, args).fetchall()
        return [TriageEvent(*r) for r in rows]

    _COLS = "seq, alert_id, action, officer, note, reason, time_s, alert_type, zone_id, rule"

    def history(self, alert_id: str) -> list[TriageEvent]:
        """Every action on one alert, oldest first (the audit trail)."""
        return self._rows(f"SELECT {self._COLS} FROM triage_event WHERE alert_id = ? ORDER BY seq", (alert_id,))

    def since(self, cursor: Any) -> tuple[list[TriageEvent], Any]:
        """The actions after ``cursor`` (None: from the start), and the cursor to ask with next."""
        got = self._rows(f"SELECT {self._COLS} FROM triage_event WHERE seq > ? ORDER BY seq", (int(cursor or 0),))
        return got, (got[-1].seq if got else cursor or 0)

    def events(self) -> list[TriageEvent]:
        """Every action, oldest first."""
        return self.since(None)[0]

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self.db.close()


class RedisTriageStore:
    """Triage in Redis: the stream ``mda:triage:events`` (one entry per action, JSON in field ``e``), for every
    live map of a deployment to share and follow."""

    STREAM = "mda:triage:events"

    def __init__(self, url: str) -> None:
        import redis

        self.r: Any = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5.0,
                                           socket_connect_timeout=5.0)

    @staticmethod
    def _event(entry_id: str, fields: Mapping[str, str]) -> TriageEvent:
        d = json.loads(fields["e"])
        ms, _, n = entry_id.partition("-")
        # the stream id orders the deployment's actions: milliseconds × 1000 + sequence within the ms
        return TriageEvent(int(ms) * 1000 + int(n or 0), d["alert_id"], d["action"], d["officer"], d["note"],
                           d.get("reason"), float(d["time_s"]), d.get("alert_type"), d.get("zone_id"), d.get("rule"))

    def record(self, alert_id: str, action: str, officer: str | None, note: str | None = None,
               reason: str | None = None, alert: Mapping[str, Any] | None = None,
               time_s: float | None = None) -> TriageEvent:
        """Keep one action (validated, see :func:`validate`); the event as kept."""
        action = action_of(action)
        who, text, why = validate(action, officer, note, reason)
        t = time.time() if time_s is None else time_s
        atype, zone, rule = _event_fields(alert, alert_id)
        if alert is None:
            earlier = self.history(alert_id)
            if earlier:
                atype, zone, rule = earlier[-1].alert_type, earlier[-1].zone_id, earlier[-1].rule
        body = {"alert_id": alert_id, "action": action, "officer": who, "note": text, "reason": why, "time_s": t,
                "alert_type": atype, "zone_id": zone, "rule": rule}
        entry_id = self.r.xadd(self.STREAM, {"e": json.dumps(body)})
        return self._event(entry_id, {"e": json.dumps(body)})

    def _range(self, start: str) -> list[TriageEvent]:
        return [self._event(i, f) for i, f in self.r.xrange(self.STREAM, start, "+")]

    def history(self, alert_id: str) -> list[TriageEvent]:
        """Every action on one alert, oldest first (the audit trail)."""
        return [e for e in self._range("-") if e.alert_id == alert_id]

    def since(self, cursor: Any) -> tuple[list[TriageEvent], Any]:
        """The actions after ``cursor`` (a stream id; None: from the start), and the cursor to ask with next."""
        entries = self.r.xrange(self.STREAM, f"({cursor}" if cursor else "-", "+")
        got = [self._event(i, f) for i, f in entries]
        return got, (entries[-1][0] if entries else cursor)

    def events(self) -> list[TriageEvent]:
        """Every action, oldest first."""
        return self._range("-")

    def close(self) -> None:
        """Close the connection."""
        self.r.close()


def default_path() -> Path:
    """The default triage file: ``triage.sqlite`` in the per-user state folder."""
    from maritime.paths import state_dir

    return state_dir() / "triage.sqlite"


def open_triage(spec: str | None = None) -> SqliteTriageStore | RedisTriageStore:
    """The store a spec names: a ``redis://`` / ``rediss://`` URL, a SQLite path, or None (the default file)."""
    if spec and spec.startswith(("redis://", "rediss://", "unix://")):
        return RedisTriageStore(spec)
    if spec:
        return SqliteTriageStore(spec)
    return SqliteTriageStore(default_path(), make_folder=True)
