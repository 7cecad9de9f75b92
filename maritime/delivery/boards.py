"""The daily arrivals boards as centres receive them: a file for analysts, CAP 1.2 for alerting systems.

A board is the document :class:`~maritime.runtime.arrival_watch.ArrivalWatch`
makes for a centre (``{"type": "arrivals_board", "centre", "generated",
"hours", "ports": [{"port", "arrivals"}]}``). The Redis and webhook sinks
deliver it with their spools (``write_board``); :class:`BoardFiles` writes
it to a folder; :func:`board_to_cap` makes it a CAP message whose
``responseType`` is ``Monitor``: nothing to act on yet, vessels to watch for.
"""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from maritime.config import Subscription

logger = logging.getLogger(__name__)


def board_key(doc: dict[str, Any]) -> str:
    """What makes one board unique in a spool (and in a centre's stream): its centre and its time."""
    return f"board|{doc['centre']}|{doc['generated']}"


def board_lines(doc: dict[str, Any]) -> list[str]:
    """The board in words, one line per expected arrival (riskiest first at each port)."""
    out = []
    for p in doc["ports"]:
        port = p["port"]
        where = f"{port['name']} ({port.get('locode') or port['country']})"
        if not p["arrivals"]:
            out.append(f"{where}: no arrival expected in {doc['hours']:g} h")
        for a in p["arrivals"]:
            who = f"MMSI {a['mmsi']}" + (f" {a['name']}" if a.get("name") else "")
            eta = a.get("eta_track") or a.get("eta_declared") or "ETA unknown"
            why = "; ".join(f["why"] for f in a["factors"][:3]) or "no risk factor"
            out.append(f"{where}: {who}, ETA {eta} ({a['basis']}), risk {a['risk']:g}: {why}")
    return out


def board_to_cap(doc: dict[str, Any], sender: str) -> bytes:
    """A board as one CAP 1.2 message (``msgType`` Alert, ``responseType`` Monitor), an area per port."""
    from maritime.delivery.cap import CAP_NS, cap_element, cap_time

    ET.register_namespace("", CAP_NS)
    sub = cap_element

    n = sum(len(p["arrivals"]) for p in doc["ports"])
    risky = max((a["risk"] for p in doc["ports"] for a in p["arrivals"]), default=0.0)
    root = ET.Element(f"{{{CAP_NS}}}alert")
    sub(root, "identifier", re.sub(r"[\s,<&]", "_", f"arrivals.{doc['centre']}.{doc['generated']}"))
    sub(root, "sender", sender)
    sub(root, "sent", cap_time(doc["generated"]))
    sub(root, "status", "Actual")
    sub(root, "msgType", "Alert")
    sub(root, "scope", "Restricted")
    sub(root, "restriction", "Maritime security and law enforcement authorities")
    info = sub(root, "info")
    sub(info, "language", "en")
    sub(info, "category", "Security")
    sub(info, "event", "arrivals board")
    sub(info, "responseType", "Monitor")
    sub(info, "urgency", "Expected")
    sub(info, "severity", "Minor")
    sub(info, "certainty", "Likely")
    sub(info, "senderName", "Caribbean MDA stream processor")
    names = ", ".join(p["port"]["name"] for p in doc["ports"]) or "no port"
    sub(info, "headline", f"Arrivals in the next {doc['hours']:g} h at {names}: {n} vessel(s)"[:160])
    sub(info, "description", "\n".join(board_lines(doc)) or "No arrival expected.")
    for name, value in (("board_centre", doc["centre"]), ("arrivals", str(n)), ("highest_risk", f"{risky:g}")):
        p = sub(info, "parameter")
        sub(p, "valueName", name)
        sub(p, "value", value)
    for p in doc["ports"]:
        port = p["port"]
        area = sub(info, "area")
        sub(area, "areaDesc", f"{port['name']} ({port.get('locode') or port['country']})")
        if port.get("lat") is not None and port.get("lon") is not None:
            sub(area, "circle", f"{port['lat']:.5f},{port['lon']:.5f} 5.0")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


class BoardFiles:
    """Writes each board to a folder for analysts: ``arrivals-<centre>-<YYYYMMDDTHHMMZ>.json`` and ``.csv``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.written: list[Path] = []

    def write_board(self, sub: Subscription, doc: dict[str, Any]) -> None:
        """Board sink interface."""
        import csv
        import io

        stamp = re.sub(r"[^0-9T]", "", doc["generated"])[:13] + "Z"  # 20250514T1900Z
        base = self.folder / f"arrivals-{sub.id}-{stamp}"
        js = base.with_suffix(".json")
        js.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
        buf = io.StringIO()
        w = csv.writer(buf)
        cols = ["port", "mmsi", "name", "callsign", "imo", "category", "basis", "declared_text", "eta_declared",
                "eta_track", "eta_disagreement_h", "distance_nm", "sog_kn", "risk", "factors"]
        w.writerow(cols)
        for p in doc["ports"]:
            for a in p["arrivals"]:
                row = {**a, "port": p["port"]["id"],
                       "factors": "; ".join(f"{f['factor']}×{f['count']}={f['points']}" for f in a["factors"])}
                w.writerow([row.get(c) for c in cols])
        cs = base.with_suffix(".csv")
        cs.write_text(buf.getvalue(), encoding="utf-8")
        self.written += [js, cs]
        logger.info("arrivals board for %s written to %s", sub.id, js)
