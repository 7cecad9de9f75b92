"""One alert vocabulary for every view: each alert type's glyph, name and one-sentence explanation, statuses and
severities in words, AIS navigational statuses in words.

The live map, the replay map, the CLI and CAP all read these, in the four languages of
:mod:`maritime.i18n`. The glyphs are in ``views/static/palette.json`` (one look for both maps); a test checks
that every alert type the detectors raise has a glyph, a name and an explanation here.
"""

from __future__ import annotations

from typing import Any

from maritime.i18n import LANGUAGES, N_, translator
from maritime.models import ALERT_TYPES

#: alert type → (name, what it means, in one sentence)
ALERT_TEXT: dict[str, tuple[str, str]] = {
    "dark_gap": (N_("dark gap"), N_(
        "The vessel stopped transmitting AIS for longer than its reporting rate allows, where receivers should "
        "have heard it.")),
    "rendezvous": (N_("rendezvous"), N_(
        "Two vessels stayed close together at low speed away from port, as ship-to-ship transfers do.")),
    "loitering": (N_("loitering"), N_(
        "The vessel moved slowly within a small area for hours, away from ports and anchorages.")),
    "geofence_entry": (N_("geofence entry"), N_(
        "The vessel entered a watched zone: a territorial sea, a protected area or a restricted area.")),
    "geofence_exit": (N_("geofence exit"), N_("The vessel left a watched zone.")),
    "geofence_dwell": (N_("geofence dwell"), N_("The vessel has stayed inside a watched zone longer than it allows.")),
    "speed_violation": (N_("speed violation"), N_("The vessel went faster than the zone's speed limit.")),
    "identity_anomaly": (N_("identity anomaly"), N_(
        "The vessel's identity is in doubt: an invalid or shared MMSI, a new name, or positions on land.")),
    "position_jump": (N_("position jump"), N_(
        "The reported position moved faster than any ship sails: a spoofed, mistyped or shared identity.")),
    "feed_outage": (N_("feed outage"), N_(
        "A receiver or an area went quiet: vessels there cannot be seen until it comes back.")),
    "watchlist_hit": (N_("watchlist hit"), N_("A vessel on a watchlist was heard.")),
    "alert_flood": (N_("alert flood"), N_(
        "Too many new identities at once, as forged or broken data give: their alerts are grouped in this one.")),
    "destination_change": (N_("destination change"), N_(
        "The vessel changed its declared destination while at sea.")),
    "arrival_undeclared": (N_("arrival undeclared"), N_(
        "The vessel arrived at a port it had not declared as its destination.")),
    "arrival_risk": (N_("arrival risk"), N_(
        "A vessel expected at a port carries risk factors (meetings, gaps, watchlists) to check on arrival.")),
}

#: alert status → words
STATUS_TEXT: dict[str, str] = {"open": N_("open"), "update": N_("updated"), "closed": N_("closed"),
                               "cancelled": N_("cancelled")}
#: severity → words
SEVERITY_TEXT: dict[str, str] = {"info": N_("info"), "low": N_("low"), "medium": N_("medium"), "high": N_("high"),
                                 "critical": N_("critical")}
#: AIS navigational status (ITU-R M.1371-5, message 1-3 field "navigational status") → words
NAV_STATUS_TEXT: dict[int, str] = {
    0: N_("under way using engine"), 1: N_("at anchor"), 2: N_("not under command"),
    3: N_("restricted manoeuvrability"), 4: N_("constrained by her draught"), 5: N_("moored"), 6: N_("aground"),
    7: N_("engaged in fishing"), 8: N_("under way sailing"), 9: N_("reserved (high-speed craft)"),
    10: N_("reserved (wing in ground)"), 11: N_("towing astern"), 12: N_("pushing ahead or towing alongside"),
    13: N_("reserved"), 14: N_("AIS-SART, MOB or EPIRB active"), 15: N_("not defined"),
}


#: words the map shows for kinds and states (the page translates them from these English words)
PAGE_WORDS: tuple[str, ...] = (
    # vessel categories
    N_("cargo"), N_("tanker"), N_("passenger"), N_("fishing"), N_("pleasure"), N_("sailing"), N_("tug"),
    N_("law enforcement"), N_("high speed"), N_("military"), N_("other"), N_("unknown"),
    # zone kinds
    N_("territorial sea"), N_("eez"), N_("contiguous zone"), N_("mpa"), N_("restricted"), N_("port"),
    N_("anchorage"), N_("custom"),
    # triage actions and the states they leave
    N_("acknowledge"), N_("false alarm"), N_("escalate"), N_("close"), N_("reopen"), N_("acknowledged"),
    N_("escalated"), N_("closed"),
)


def type_name(alert_type: str, lang: str = "en") -> str:
    """An alert type's name (an unknown type: its words)."""
    got = ALERT_TEXT.get(alert_type)
    return translator(lang)(got[0]) if got else alert_type.replace("_", " ")


def explain(alert_type: str, lang: str = "en") -> str:
    """What an alert type means, in one sentence ("" for a type this version does not know)."""
    got = ALERT_TEXT.get(alert_type)
    return translator(lang)(got[1]) if got else ""


def nav_status(code: int | None, lang: str = "en") -> str | None:
    """An AIS navigational status in words (None when unknown)."""
    if code is None:
        return None
    text = NAV_STATUS_TEXT.get(int(code))
    return translator(lang)(text) if text else str(code)


def vessel_names(alert: dict[str, Any]) -> str:
    """The vessels of an alert by name, the MMSI only where no name is known: ``LEEWARD LADY & MMSI 376000500``."""
    return " & ".join(v.get("name") or f"MMSI {v['mmsi']}" for v in alert.get("vessels") or [])


def for_page(lang: str) -> dict[str, Any]:
    """The vocabulary in one language, for the map pages (``/api/vocabulary``)."""
    _ = translator(lang)
    return {"lang": lang, "languages": LANGUAGES,
            "types": {t: {"name": _(n), "explain": _(e)} for t, (n, e) in ALERT_TEXT.items()},
            "statuses": {k: _(v) for k, v in STATUS_TEXT.items()},
            "severities": {k: _(v) for k, v in SEVERITY_TEXT.items()},
            "nav_status": {str(k): _(v) for k, v in NAV_STATUS_TEXT.items()}}


def missing() -> list[str]:
    """Alert types the detectors raise that lack a name and explanation here (the vocabulary test's check)."""
    return [t for t in ALERT_TYPES if t not in ALERT_TEXT]
