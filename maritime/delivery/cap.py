"""Alerts as CAP 1.2 (OASIS Common Alerting Protocol) XML.

``open`` is a CAP *Alert*, ``update`` and ``closed`` are *Update* and
``cancelled`` is *Cancel*, each with ``references`` to the first message of
the event (``sender,identifier,sent``). The area is a circle in CAP's own
"lat,lon radius-km" form, described by the zone name when there is one.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from maritime.models import parse_iso

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
_MSG_TYPE = {"open": "Alert", "update": "Update", "closed": "Update", "cancelled": "Cancel"}
_SEVERITY = {"critical": "Extreme", "high": "Severe", "medium": "Moderate", "low": "Minor", "info": "Minor"}
_CERTAINTY = {"geofence_entry": "Observed", "geofence_exit": "Observed", "geofence_dwell": "Observed",
              "speed_violation": "Observed", "identity_anomaly": "Observed", "position_jump": "Observed",
              "feed_outage": "Observed", "dark_gap": "Likely", "rendezvous": "Likely", "loitering": "Likely"}
_RADIUS_KM = {"rendezvous": 1.0, "loitering": 5.0, "dark_gap": 10.0}


#: characters XML 1.0 does not allow (C0 controls but tab, newline and return; surrogates; U+FFFE/U+FFFF)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` with the characters XML 1.0 cannot carry replaced by U+FFFD (a vessel name read from a CSV
    may hold control characters; the document must stay well-formed)."""
    return _NOT_XML.sub("\ufffd", text)


def cap_element(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    """A CAP child element of ``parent`` (its text made safe for XML)."""
    el = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        el.text = xml_text(text)
    return el


def cap_time(iso_z: str) -> str:
    """CAP's date-time form: ``2025-05-14T08:00:00+00:00`` (CAP forbids the ``Z`` designator)."""
    return datetime.fromtimestamp(parse_iso(iso_z), tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def cap_identifier(alert: dict[str, Any]) -> str:
    """A CAP identifier for one alert record (no spaces, commas or markup characters)."""
    raw = f"{alert['id']}.{alert['status']}.{alert['time']}"
    return re.sub(r"[\s,<&]", "_", raw)


def first_identifier(alert: dict[str, Any]) -> str:
    """Identifier of the event's first (``open``) message."""
    return re.sub(r"[\s,<&]", "_", f"{alert['id']}.open.{alert['start']}")


def to_cap(alert: dict[str, Any], sender: str, first: str | None = None) -> bytes:
    """One alert (the contract's JSON object) as a CAP 1.2 XML document, with an ``info`` block in each of the
    region's four languages, ``first`` (the centre's) leading."""
    ET.register_namespace("", CAP_NS)
    sub = cap_element
    root = ET.Element(f"{{{CAP_NS}}}alert")
    sub(root, "identifier", cap_identifier(alert))
    sub(root, "sender", sender)
    sub(root, "sent", cap_time(alert["time"]))
    sub(root, "status", "Actual")
    msg_type = _MSG_TYPE[alert["status"]]
    sub(root, "msgType", msg_type)
    sub(root, "scope", "Restricted")
    sub(root, "restriction", "Maritime security and law enforcement authorities")
    if msg_type != "Alert":
        sub(root, "references", f"{sender},{first_identifier(alert)},{cap_time(alert['start'])}")
    for lang in languages_in_order(first):
        _info(root, alert, lang, msg_type)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def languages_in_order(first: str | None) -> list[str]:
    """The four languages, the centre's first (CAP allows one ``info`` block per language)."""
    from maritime.i18n import LANGUAGES, language_of

    lead = language_of(first)
    return [lead, *(k for k in LANGUAGES if k != lead)]


def _info(root: ET.Element, alert: dict[str, Any], lang: str, msg_type: str) -> None:
    """One ``info`` block of an alert in language ``lang``: the type's name, a headline with the vessels' names,
    the type's explanation and, in English, the detectors' own summary and details."""
    from maritime.i18n import translator
    from maritime.vocabulary import explain, type_name, vessel_names

    _ = translator(lang)
    sub = cap_element
    info = sub(root, "info")
    sub(info, "language", lang)
    sub(info, "category", "Security")
    sub(info, "event", type_name(alert["type"], lang))
    if alert["type"] == "arrival_risk":
        sub(info, "responseType", "Monitor")  # a vessel to watch for at its port, not yet to act on
    if msg_type == "Cancel" or alert["status"] == "closed":
        urgency = "Past"
    elif alert["severity"] in ("critical", "high"):
        urgency = "Immediate"
    else:
        urgency = "Expected"
    sub(info, "urgency", urgency)
    sub(info, "severity", _SEVERITY.get(alert["severity"], "Unknown"))
    sub(info, "certainty", _CERTAINTY.get(alert["type"], "Possible"))
    sub(info, "senderName", "Caribbean MDA stream processor")
    who = vessel_names(alert)
    said, nothing = _("Vessels"), _("none")
    vessels = "; ".join(f"MMSI {v['mmsi']}" + (f" {v['name']}" if v.get("name") else "") for v in alert["vessels"])
    if lang == "en":
        sub(info, "headline", alert["summary"][:160])
        details = ", ".join(f"{k}={v}" for k, v in (alert.get("details") or {}).items() if not isinstance(v, dict))
        sub(info, "description", f"{alert['summary']}. {said}: {vessels or nothing}. {details}".strip())
    else:
        sub(info, "headline", (f"{type_name(alert['type'], lang)}: {who}" if who else
                               type_name(alert["type"], lang))[:160])
        sub(info, "description", f"{explain(alert['type'], lang)} {said}: {vessels or nothing}.")
    sub(info, "web", "urn:mda:alert:" + alert["id"])
    for name, value in (("alert_id", alert["id"]), ("alert_type", alert["type"]), ("alert_status", alert["status"]),
                        ("start", alert["start"]), ("end", alert.get("end") or "")):
        p = sub(info, "parameter")
        sub(p, "valueName", name)
        sub(p, "value", value)
    pos = alert.get("position")
    zone = alert.get("zone")
    if pos or zone:
        area = sub(info, "area")
        desc = (zone.get("name") or zone.get("id")) if zone else None
        # the waters it lies in, so a centre reads whose business it is: "Saint Lucia territorial sea"
        j = alert.get("jurisdiction") or {}
        waters = [w.get("name") or w.get("id") for w in (j.get("territorial_sea"), j.get("contiguous_zone"),
                                                        j.get("eez")) if w]
        if waters:
            named = [d for d in [desc, *waters] if d]
            desc = "; ".join(dict.fromkeys(named))
        if not desc and pos:
            desc = f"{pos['lat']:.4f},{pos['lon']:.4f}"
        sub(area, "areaDesc", desc or "unknown")
        box = (alert.get("details") or {}).get("silent_area")  # a feed outage: the area that went quiet
        if box and box["south"] < box["north"] and box["west"] < box["east"]:
            corners = [(box["south"], box["west"]), (box["north"], box["west"]), (box["north"], box["east"]),
                       (box["south"], box["east"]), (box["south"], box["west"])]
            sub(area, "polygon", " ".join(f"{la:.5f},{lo:.5f}" for la, lo in corners))
        elif pos:
            sub(area, "circle", f"{pos['lat']:.5f},{pos['lon']:.5f} {_RADIUS_KM.get(alert['type'], 2.0)}")
