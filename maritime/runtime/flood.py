"""Alert floods held back: at most so many new events of one type from one source in a window of event time.

A forged-MMSI flood (200,000 new MMSIs in 10 minutes) would otherwise send one ``identity_anomaly`` per MMSI
to every centre. :class:`FloodGate` lets the first ``max_new`` new events of a (type, source) through in each
``window_s`` of event time, holds back the rest (their later records too, so no centre sees an update or a
close of an event it never saw opened), and raises one ``alert_flood`` event per flood that says how many were
held back and from where, updated as the flood goes on (at most once a minute of event time) and closed
when a window passes quietly.

The source of an alert is where its vessel's reports came from (``Alert.details["source"]`` when a detector
gives it, else the tracker's last position of its first vessel), so one bad feed does not silence another.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from maritime.models import Alert, Status, iso

logger = logging.getLogger(__name__)

#: how many held-back event ids are remembered (their later records are held back too)
HELD_IDS_MAX = 500_000
#: a flood's alert is updated at most this often, in event time (s): a centre needs the count, not a stream
UPDATE_EVERY_S = 60.0


@dataclass
class _Flood:
    start_s: float
    window_end_s: float
    sent: int = 0
    held: int = 0
    raised: bool = False
    last_s: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)
    #: when its alert was last raised or updated (event s): updated at most every ``UPDATE_EVERY_S``
    told_s: float = 0.0


class FloodGate:
    """Holds back the new events of a (type, source) beyond ``max_new`` per ``window_s`` of event time."""

    def __init__(self, max_new: int = 500, window_s: float = 600.0,
                 source_of: Callable[[Alert], str] | None = None) -> None:
        self.max_new = max_new
        self.window_s = window_s
        self.source_of = source_of or (lambda a: str(a.details.get("source") or "?"))
        self._floods: dict[tuple[str, str], _Flood] = {}
        self._held_ids: OrderedDict[str, None] = OrderedDict()
        self.held = 0

    def filter(self, alerts: list[Alert]) -> list[Alert]:
        """The alerts to send on: these, less the held back, plus the ``alert_flood`` events now due."""
        out: list[Alert] = []
        for a in alerts:
            if a.type == "alert_flood":
                out.append(a)
                continue
            if a.id in self._held_ids:
                self.held += 1
                continue
            if a.status != "open":  # a later record of an event that was sent (an event starts "open")
                out.append(a)
                continue
            key = (a.type, self.source_of(a))
            fl = self._floods.get(key)
            if fl is None or a.time_s >= fl.window_end_s:
                if fl is not None and fl.raised:
                    out.append(self._flood_alert(key, fl, "closed", a.time_s))
                fl = self._floods[key] = _Flood(a.time_s, a.time_s + self.window_s)
            fl.last_s = a.time_s
            if fl.sent < self.max_new:
                fl.sent += 1
                out.append(a)
                continue
            fl.held += 1
            self.held += 1
            kind = str(a.details.get("anomaly") or a.type)
            fl.kinds[kind] = fl.kinds.get(kind, 0) + 1
            self._remember(a.id)
            if not fl.raised:
                fl.raised = True
                logger.warning("alert flood: more than %d new %s events from %s within %.0f min; the rest are "
                               "held back and counted", self.max_new, a.type, key[1], self.window_s / 60)
                fl.told_s = a.time_s
                out.append(self._flood_alert(key, fl, "open", a.time_s))
            elif a.time_s - fl.told_s >= UPDATE_EVERY_S:
                fl.told_s = a.time_s
                out.append(self._flood_alert(key, fl, "update", a.time_s))
        return out

    def watermark(self, watermark_s: float) -> list[Alert]:
        """Floods whose window passed: closed with their final count."""
        out: list[Alert] = []
        for key, fl in list(self._floods.items()):
            if watermark_s >= fl.window_end_s:
                if fl.raised:
                    out.append(self._flood_alert(key, fl, "closed", watermark_s))
                del self._floods[key]
        return out

    def snapshot(self) -> dict[str, Any]:
        """The floods going on and the held-back ids, as plain data (a checkpoint keeps them)."""
        return {"floods": [[k[0], k[1], asdict(fl)] for k, fl in self._floods.items()],
                "held_ids": list(self._held_ids), "held": self.held}

    def restore(self, snap: dict[str, Any]) -> None:
        """Take back what :meth:`snapshot` gave."""
        for kind, source, fl in snap.get("floods", ()):
            self._floods[(str(kind), str(source))] = _Flood(**fl)
        for i in snap.get("held_ids", ()):
            self._held_ids[str(i)] = None
        self.held = int(snap.get("held", 0))

    def _remember(self, alert_id: str) -> None:
        ids = self._held_ids
        ids[alert_id] = None
        if len(ids) > HELD_IDS_MAX:
            ids.popitem(last=False)

    def _flood_alert(self, key: tuple[str, str], fl: _Flood, status: Status, time_s: float) -> Alert:
        kind, source = key
        kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(fl.kinds.items(), key=lambda kv: -kv[1]))
        return Alert(
            id=f"alert_flood:{kind}:{source}:{iso(fl.start_s)}", type="alert_flood", status=status,
            severity="high", time_s=time_s, start_s=fl.start_s, end_s=time_s if status == "closed" else None,
            vessels=(), lat=None, lon=None,
            summary=(f"{fl.sent + fl.held:,} new {kind.replace('_', ' ')} events from {source} in "
                     f"{(fl.last_s - fl.start_s) / 60:.0f} min: the first {fl.sent:,} were sent, {fl.held:,} held "
                     f"back ({kinds}); a feed fault, or MMSIs forged in bulk"),
            details={"alert_type": kind, "source": source, "sent": fl.sent, "held_back": fl.held,
                     "by_kind": dict(fl.kinds), "window_min": self.window_s / 60},
        )

