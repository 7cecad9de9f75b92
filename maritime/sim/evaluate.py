"""Score alerts against ground truth: precision and recall per alert type.

An alert id is one event (its records are merged: earliest start, latest
end). A truth event is matched by an alert of the same type whose vessels
include the truth's vessels (for a rendezvous: the same pair), whose zone
matches when the truth names one, and whose time span overlaps the truth's,
widened by a tolerance. Each truth event and each alert is matched once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maritime.models import parse_iso

#: Time tolerance by type (s): how far apart the detected and the true spans may be.
TOLERANCE_S = {"dark_gap": 3600.0, "rendezvous": 3 * 3600.0, "loitering": 3 * 3600.0, "geofence_entry": 1800.0,
               "geofence_dwell": 1800.0, "geofence_exit": 1800.0, "speed_violation": 1800.0, "position_jump": 600.0,
               # a change is known once three static reports carry it: an hour when reception is patchy offshore
               "destination_change": 3600.0, "arrival_undeclared": 1800.0}
SCORED = ("dark_gap", "rendezvous", "loitering", "geofence_entry", "geofence_dwell", "geofence_exit",
          "speed_violation", "position_jump", "destination_change", "arrival_undeclared")


@dataclass
class Event:
    """One event (truth or alert): type, vessels, zone, span."""

    type: str
    mmsis: frozenset[int]
    zone: str | None
    start_s: float
    end_s: float | None
    id: str = ""


def load_truth(path: str | Path) -> list[Event]:
    """Truth events from a ``truth.json`` (``{"events": [...]}`` or a plain list)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    items = doc.get("events", []) if isinstance(doc, dict) else doc
    out = []
    for e in items:
        out.append(Event(type=e["type"], mmsis=frozenset(int(v["mmsi"]) for v in e.get("vessels", [])),
                         zone=(e.get("zone") or {}).get("id"), start_s=parse_iso(e["start"]),
                         end_s=parse_iso(e["end"]) if e.get("end") else None))
    return out


def load_alerts(path: str | Path) -> list[Event]:
    """Alert events from a JSON-lines file: one per id, records merged."""
    by_id: dict[str, dict[str, Any]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        a = json.loads(line)
        if a.get("status") == "cancelled":
            by_id.pop(a["id"], None)
            continue
        prev = by_id.get(a["id"])
        if prev is None or a["time"] >= prev["time"]:
            by_id[a["id"]] = a
    out = []
    for aid, a in by_id.items():
        out.append(Event(type=a["type"], mmsis=frozenset(int(v["mmsi"]) for v in a.get("vessels", [])),
                         zone=(a.get("zone") or {}).get("id"), start_s=parse_iso(a["start"]),
                         end_s=parse_iso(a["end"]) if a.get("end") else parse_iso(a["time"]), id=aid))
    return out


def _matches(alert: Event, truth: Event, tol: float) -> bool:
    if alert.type != truth.type or not truth.mmsis <= alert.mmsis:
        return False
    if truth.type == "rendezvous" and alert.mmsis != truth.mmsis:
        return False
    if truth.zone is not None and alert.zone != truth.zone:
        return False
    a0, a1 = alert.start_s, alert.end_s if alert.end_s is not None else float("inf")
    t0, t1 = truth.start_s, truth.end_s if truth.end_s is not None else float("inf")
    return a0 <= t1 + tol and t0 <= a1 + tol


def evaluate(truth: list[Event], alerts: list[Event], types: tuple[str, ...] | None = None
             ) -> dict[str, dict[str, Any]]:
    """Per type: truth count, alert count, matched, precision and recall (None when undefined).

    ``scored`` is False for a type the simulator never scripts and the truth does not hold (``arrival_risk``,
    ``watchlist_hit``…): its alerts are counted but neither precision nor recall is claimed for it."""
    kinds = types or tuple(sorted({e.type for e in truth} | {a.type for a in alerts}))
    report: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        ts = [t for t in truth if t.type == kind]
        als = [a for a in alerts if a.type == kind]
        tol = TOLERANCE_S.get(kind, 3600.0)
        used: set[int] = set()
        matched_truth = 0
        for t in sorted(ts, key=lambda e: e.start_s):
            for i, a in enumerate(als):
                if i not in used and _matches(a, t, tol):
                    used.add(i)
                    matched_truth += 1
                    break
        # alerts that match some truth event (even one already matched) are not false alarms
        good_alerts = sum(1 for a in als if any(_matches(a, t, tol) for t in ts))
        scored = kind in SCORED or bool(ts)
        report[kind] = {
            "truth": len(ts), "alerts": len(als), "matched": matched_truth, "scored": scored,
            "recall": round(matched_truth / len(ts), 3) if ts else None,
            "precision": round(good_alerts / len(als), 3) if als and scored else None,
            "false_alerts": [a.id for a in als if not any(_matches(a, t, tol) for t in ts)][:20],
        }
    return report


def load_ordinary(path: str | Path) -> dict[int, str]:
    """The vessels of a ``truth.json`` that live an ordinary life (hard negatives marked ``ordinary``),
    by MMSI: what each is doing (``yacht_at_anchor``, ``fishing_at_fad``, ...)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    negs = doc.get("hard_negatives", []) if isinstance(doc, dict) else []
    return {int(n["mmsi"]): str(n["type"]) for n in negs if n.get("ordinary")}


def ordinary_life(ordinary: dict[int, str], truth: list[Event], alerts: list[Event]) -> dict[str, Any]:
    """False alarms on ordinary life: alerts on the ordinary vessels that match no truth event.

    ``precision`` per type is over the alerts of that type that involve any ordinary vessel or none
    (the whole day's precision, so a day without ordinary life scores the same as before).
    """
    scenes: dict[str, int] = {}
    for kind in ordinary.values():
        scenes[kind] = scenes.get(kind, 0) + 1
    false = [a for a in alerts if a.mmsis & ordinary.keys()
             and not any(_matches(a, t, TOLERANCE_S.get(a.type, 3600.0)) for t in truth if t.type == a.type)]
    by_type: dict[str, int] = {}
    for a in false:
        by_type[a.type] = by_type.get(a.type, 0) + 1
    return {"vessels": len(ordinary), "scenes": scenes, "false_alerts": len(false), "by_type": by_type,
            "ids": [a.id for a in false][:20]}


def score_files(truth: Path, alerts: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Scores of an alerts file against a truth file, and the false alarms on ordinary life."""
    events, got = load_truth(truth), load_alerts(alerts)
    return evaluate(events, got), ordinary_life(load_ordinary(truth), events, got)


def looks_like_truth(path: Path) -> bool:
    """Whether a file is a simulator's ``truth.json`` (one JSON document with ``events``), not alert lines."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    first_line = head.lstrip().split(b"\n", 1)[0]
    return head.lstrip()[:1] == b"{" and b'"events"' in head and b'"summary"' not in first_line
