"""Typed records that flow through the pipeline.

Every record is a frozen dataclass with units in its field names. Times are
POSIX seconds in UTC (``*_s``) for cheap arithmetic in the detectors; the
``*_utc`` properties give aware :class:`datetime.datetime` values for display.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pyais.constants import COUNTRY_MAPPING

#: MMSI prefixes of distress and search-and-rescue devices (ITU-R M.585).
DISTRESS_PREFIXES: dict[str, str] = {"970": "AIS-SART", "972": "MOB device", "974": "EPIRB-AIS"}


#: event times outside [2000-01-01, 2100-01-01) are not AIS times (GPS-epoch 1980 garbage, year 0 or 9999
#: prefixes): rejected where they enter, so that every time in the pipeline can be formatted
TIME_MIN_S = 946_684_800.0
TIME_MAX_S = 4_102_444_800.0


def valid_time(epoch_s: float) -> bool:
    """True when ``epoch_s`` is a plausible AIS event time (see :data:`TIME_MIN_S`, :data:`TIME_MAX_S`)."""
    return TIME_MIN_S <= epoch_s < TIME_MAX_S


def utc(epoch_s: float) -> datetime:
    """Aware UTC datetime from POSIX seconds."""
    return datetime.fromtimestamp(epoch_s, tz=UTC)


def iso(epoch_s: float | None) -> str | None:
    """ISO 8601 UTC with ``Z`` (whole seconds) from POSIX seconds, or None."""
    if epoch_s is None:
        return None
    try:
        return datetime.fromtimestamp(round(epoch_s), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):  # never raised for validated times; a last line of defence
        return None


def parse_iso(text: str) -> float:
    """POSIX seconds from an ISO 8601 time; a naive time is taken as UTC."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def mid_of(mmsi: int) -> int | None:
    """Maritime Identification Digits of an MMSI (ITU-R M.585), or None.

    Ships carry the MID in the first three of nine digits; coast stations
    (``00MID…``), group calls (``0MID…``), SAR aircraft (``111MID…``) and
    auxiliary craft (``98MID…``) carry it further in.
    """
    s = f"{mmsi:09d}"
    if len(s) != 9:
        return None
    if s.startswith("00"):
        return int(s[2:5])
    if s.startswith("0"):
        return int(s[1:4])
    if s.startswith("111"):
        return int(s[3:6])
    if s.startswith("98") or s.startswith("99"):
        return int(s[2:5])
    return int(s[:3])


def flag_of(mmsi: int) -> str | None:
    """ISO 3166-1 alpha-2 flag state from the MMSI's MID, or None when unknown."""
    mid = mid_of(mmsi)
    if mid is None:
        return None
    entry = COUNTRY_MAPPING.get(mid)
    return entry[0] if entry else None


def is_ship_mmsi(mmsi: int) -> bool:
    """True when the MMSI has the form of a ship station: nine digits, MID 201–775."""
    return 201_000_000 <= mmsi <= 775_999_999


@dataclass(frozen=True, slots=True)
class Position:
    """One position report (AIS types 1, 2, 3, 18, 19, 27, or a CSV row).

    ``sog_kn``, ``cog_deg``, ``heading_deg`` and ``nav_status`` are None where
    AIS says "not available" (102.3 kn, 360°, 511, status 15).
    """

    mmsi: int
    time_s: float
    lat: float
    lon: float
    sog_kn: float | None = None
    cog_deg: float | None = None
    heading_deg: int | None = None
    nav_status: int | None = None
    msg_type: int = 1
    source: str = ""
    #: how far before ``time_s`` the report may really have been sent (s): 0 for a receiver's own clock,
    #: up to an hour for satellite and aggregator feeds whose stamps are delivery times
    time_err_s: float = 0.0

    @property
    def time_utc(self) -> datetime:
        """Event time as an aware UTC datetime."""
        return utc(self.time_s)

    @property
    def is_class_b(self) -> bool:
        """True for Class B reports (types 18 and 19)."""
        return self.msg_type in (18, 19)


@dataclass(frozen=True, slots=True)
class VesselInfo:
    """Static and voyage data (AIS types 5, 19, 24 A/B, or CSV columns).

    A type 24 part A carries only the name and part B only the rest: fields a
    report does not carry are None, and the tracker merges reports.
    """

    mmsi: int
    time_s: float
    name: str | None = None
    callsign: str | None = None
    imo: int | None = None
    ship_type: int | None = None
    to_bow_m: int | None = None
    to_stern_m: int | None = None
    to_port_m: int | None = None
    to_starboard_m: int | None = None
    draught_m: float | None = None
    destination: str | None = None
    msg_type: int = 5
    source: str = ""
    #: the declared ETA (UNIX s; AIS gives it without a year, see :func:`maritime.destination.resolve_eta`)
    eta_s: float | None = None

    @property
    def length_m(self) -> int | None:
        """Overall length from the antenna offsets, or None."""
        if self.to_bow_m is None or self.to_stern_m is None or not (self.to_bow_m + self.to_stern_m):
            return None
        return self.to_bow_m + self.to_stern_m

    @property
    def beam_m(self) -> int | None:
        """Overall beam from the antenna offsets, or None."""
        if self.to_port_m is None or self.to_starboard_m is None or not (self.to_port_m + self.to_starboard_m):
            return None
        return self.to_port_m + self.to_starboard_m

    @property
    def flag(self) -> str | None:
        """ISO 3166-1 alpha-2 flag from the MID."""
        return flag_of(self.mmsi)


@dataclass(frozen=True, slots=True)
class BaseStationReport:
    """AIS type 4 (base station) or 11 (UTC response): kept apart from vessels."""

    mmsi: int
    time_s: float
    lat: float | None
    lon: float | None
    station_utc_s: float | None
    msg_type: int = 4
    source: str = ""


@dataclass(frozen=True, slots=True)
class OtherMessage:
    """A decoded message of a type the detectors do not use (6, 8, 21, …)."""

    mmsi: int
    time_s: float
    msg_type: int
    source: str = ""


Record = Position | VesselInfo | BaseStationReport | OtherMessage


@dataclass(frozen=True, slots=True)
class ZoneRef:
    """The zone an alert concerns, as carried on the alert."""

    id: str
    kind: str
    name: str | None = None
    authority: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The contract's ``zone`` object."""
        return {"id": self.id, "name": self.name, "kind": self.kind, "authority": self.authority}


@dataclass(frozen=True, slots=True)
class VesselRef:
    """Identity of a vessel as carried on an alert (joined from static data)."""

    mmsi: int
    name: str | None = None
    imo: int | None = None
    callsign: str | None = None
    ship_type: int | None = None
    flag: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The contract's ``vessels[]`` item."""
        return {
            "mmsi": self.mmsi,
            "name": self.name,
            "imo": self.imo,
            "callsign": self.callsign,
            "ship_type": self.ship_type,
            "flag": self.flag,
        }


#: The alert types the detectors raise (the contract allows others: a sink passes any lower_snake name on).
AlertType = Literal["dark_gap", "rendezvous", "loitering", "geofence_entry", "geofence_exit", "geofence_dwell",
                    "speed_violation", "identity_anomaly", "position_jump", "feed_outage", "watchlist_hit",
                    "alert_flood", "destination_change", "arrival_undeclared", "arrival_risk"]
#: Severity, lowest first (the contract's enum, in its order).
Severity = Literal["info", "low", "medium", "high", "critical"]
#: Status of one event's alert: each change re-issues the same id.
Status = Literal["open", "update", "closed", "cancelled"]
ALERT_TYPES: tuple[AlertType, ...] = get_args(AlertType)
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
STATUSES: tuple[Status, ...] = get_args(Status)


def as_severity(value: str) -> Severity:
    """``value`` as a severity; ValueError when it is none of :data:`SEVERITIES`."""
    for s in SEVERITIES:
        if s == value:
            return s
    raise ValueError(f"unknown severity {value!r} (one of {', '.join(SEVERITIES)})")


def authorities_of(zone_authority: str | None, jurisdiction: dict[str, Any] | None) -> set[str]:
    """The authorities of an alert's zone and of the waters it lies in (``jurisdiction``, with the waters a
    dark gap ended in)."""
    out = {zone_authority} if zone_authority else set()
    j = jurisdiction or {}
    for part in (j, j.get("reappeared_in") or {}):
        for key in ("territorial_sea", "contiguous_zone", "eez"):
            w = part.get(key)
            if w and w.get("authority"):
                out.add(w["authority"])
    return out


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert, following the contract in DESIGN.md (``alert.schema.json``).

    ``id`` is stable for an event: each status change of one event re-issues
    the same id with a new ``status`` and ``time_s``.
    """

    id: str
    type: AlertType
    status: Status
    severity: Severity
    time_s: float
    start_s: float
    end_s: float | None
    vessels: tuple[VesselRef, ...]
    lat: float | None
    lon: float | None
    summary: str
    zone: ZoneRef | None = None
    details: dict[str, Any] = field(default_factory=dict)
    #: the waters the alert lies in, whether or not a zone rule raised it: ``territorial_sea``,
    #: ``contiguous_zone``, ``eez`` (each ``{id, name, authority, country}`` or None) and, for a dark gap,
    #: ``reappeared_in`` (the same three where the vessel was heard again); None before enrichment
    jurisdiction: dict[str, Any] | None = None

    def authorities(self) -> set[str]:
        """Every authority the alert concerns: its zone's and those of the waters it lies in."""
        return authorities_of(self.zone.authority if self.zone is not None else None, self.jurisdiction)

    def as_dict(self) -> dict[str, Any]:
        """The alert as the contract's JSON object."""
        return {
            "id": self.id,
            "type": self.type,
            "status": self.status,
            "severity": self.severity,
            "time": iso(self.time_s),
            "start": iso(self.start_s),
            "end": iso(self.end_s),
            "vessels": [v.as_dict() for v in self.vessels],
            "position": None if self.lat is None or self.lon is None
            else {"lat": round(self.lat, 5), "lon": round(self.lon, 5)},
            "zone": self.zone.as_dict() if self.zone else None,
            "summary": self.summary,
            "details": self.details,
            "jurisdiction": self.jurisdiction,
        }

    def to_json(self) -> str:
        """One JSON line (no trailing newline), keys in contract order."""
        return json.dumps(self.as_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Alert:
        """Rebuild an alert from its contract JSON object."""
        pos = d.get("position") or {}
        z = d.get("zone")
        return cls(
            id=d["id"],
            type=d["type"],
            status=d["status"],
            severity=d["severity"],
            time_s=parse_iso(d["time"]),
            start_s=parse_iso(d["start"]),
            end_s=parse_iso(d["end"]) if d.get("end") else None,
            vessels=tuple(
                VesselRef(
                    mmsi=v["mmsi"], name=v.get("name"), imo=v.get("imo"), callsign=v.get("callsign"),
                    ship_type=v.get("ship_type"), flag=v.get("flag"),
                )
                for v in d.get("vessels", [])
            ),
            lat=pos.get("lat"),
            lon=pos.get("lon"),
            summary=d["summary"],
            zone=ZoneRef(id=z["id"], kind=z["kind"], name=z.get("name"), authority=z.get("authority")) if z else None,
            details=dict(d.get("details") or {}),
            jurisdiction=d.get("jurisdiction"),
        )
