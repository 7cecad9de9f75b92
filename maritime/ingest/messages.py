"""The message layer: decoded AIS messages, by family, into the typed records every runtime uses.

- position reports (types 1, 2, 3, 18, 19, 27): :func:`unpack_position` reads the 168-bit class A and B reports
  (most of any feed) straight from the armoured payload; :func:`clean_position` reads pyais's messages;
- static and voyage data (5, 19, 24): :func:`static_info`;
- base stations (4, 11): :class:`~maritime.models.BaseStationReport`; every other type: an
  :class:`~maritime.models.OtherMessage` that is counted.

"Not available" values become None and out-of-range ones are refused (:class:`OutOfRange`).
"""

from __future__ import annotations

from binascii import a2b_base64
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from maritime.destination import resolve_eta
from maritime.ingest.errors import NoPosition, OutOfRange
from maritime.ingest.eventtime import SourceClock
from maritime.ingest.nmea import ARMOR_CHARS
from maritime.models import BaseStationReport, OtherMessage, Position, Record, VesselInfo

#: the position report types, and those that carry nothing but a position
POSITION_TYPES: Final = frozenset((1, 2, 3, 18, 19, 27))
SIMPLE_POSITION_TYPES: Final = frozenset((1, 2, 3, 18, 27))


def _text(s: str | None) -> str | None:
    """AIS six-bit text with its ``@`` padding and blanks removed, or None."""
    if not s:
        return None
    s = s.replace("@", " ").strip()
    return s or None


def _int(v: Any) -> int | None:
    """An integer field of a (possibly truncated) message; 0 and missing become None."""
    return int(v) if v else None


def _fast_init(cls: type[Any]) -> Callable[..., Any]:
    """A positional constructor for a frozen, slotted dataclass that skips the frozen
    ``__init__``'s per-field ``object.__setattr__`` (about twice as fast; the hot path)."""
    from dataclasses import fields

    setters = tuple(cls.__dict__[f.name].__set__ for f in fields(cls))
    new = object.__new__
    src = ["def make(" + ", ".join(f"a{i}" for i in range(len(setters))) + "):", "    o = new(cls)"]
    src += [f"    s{i}(o, a{i})" for i in range(len(setters))]
    src.append("    return o")
    env: dict[str, Any] = {"new": new, "cls": cls, **{f"s{i}": s for i, s in enumerate(setters)}}
    exec("\n".join(src), env)
    return env["make"]


def _position_maker() -> Callable[..., Any]:
    """The typed core's Position maker (each slot set from C) when it is built, else :func:`_fast_init`'s."""
    from maritime.core import load

    lines = load("lines")
    if lines is not None and lines.position_in_c:
        return lines.new_position
    return _fast_init(Position)


#: ``Position(*fields)`` without the frozen dataclass's per-field ``object.__setattr__`` (the hot path)
new_position = _position_maker()


def clean_position(msg: Any, msg_type: int, time_s: float, source: str, clock: SourceClock | None = None
                    ) -> Position:
    lat = msg.lat
    lon = msg.lon
    if lat is None or lon is None or lat == 91 or lon == 181:
        raise PositionNotAvailable()
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise OutOfRange(f"position out of range: lat {lat}, lon {lon}")
    speed = msg.speed
    course = msg.course
    status = None
    if msg_type == 27:
        sog = None if speed is None or speed >= 63 else float(speed)
        cog = None if course is None or course >= 360 else float(course)
        heading = None
    else:
        sog = None if speed is None or speed >= 102.3 else speed
        cog = None if course is None or course >= 360 else course
        heading = msg.heading
        if heading is not None and heading >= 360:
            heading = None
    if msg_type <= 3 or msg_type == 27:
        st = msg.status
        if st is not None:
            status = int(st)
            if status == 15:
                status = None
    err = 0.0
    if clock is not None and msg_type != 27:
        second = msg.second
        if second is not None:
            time_s, err = clock.judge(time_s, int(second))
    # field order of Position: mmsi, time_s, lat, lon, sog_kn, cog_deg, heading_deg, nav_status, msg_type, source,
    # time_err_s
    return new_position(msg.mmsi, time_s, lat, lon, sog, cog, heading, status, msg_type, source, err)


#: the same six-bit values on the base64 alphabet, so that C does the 6-to-8 bit repacking
ARMOR_TO_B64: Final = bytes.maketrans(
    ARMOR_CHARS, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
#: first payload character of a type 1, 2, 3 or 18 report -> message type
FAST_TYPES: Final = {49: 1, 50: 2, 51: 3, 66: 18}


def unpack_position(payload: bytes, msg_type: int, time_s: float, source: str, clock: SourceClock | None = None
                    ) -> Position:
    """The :class:`Position` of a type 1/2/3/18 report from its 28-character payload (fill 0).

    Bit layout per ITU-R M.1371-5 (type 1–3: Table 46; type 18: Table 74);
    coordinates in 1/10 000 min → degrees with pyais's rounding
    (``(10·v + 3) // 6 / 1e6``), speed in 0.1 kn, course in 0.1°. Raises
    :class:`NoPosition` / :class:`OutOfRange` as the pyais path does. With a
    ``clock``, the report's own UTC second (bits 137–142, type 18: 133–138)
    is weighed against ``time_s``.
    """
    mt = msg_type
    v = int.from_bytes(a2b_base64(payload.translate(ARMOR_TO_B64)))
    if mt == 18:
        speed, lon, lat, course, heading, status = (
            v >> 112 & 0x3FF, v >> 83 & 0xFFFFFFF, v >> 56 & 0x7FFFFFF, v >> 44 & 0xFFF, v >> 35 & 0x1FF, None)
    else:
        speed, lon, lat, course, heading, st = (
            v >> 108 & 0x3FF, v >> 79 & 0xFFFFFFF, v >> 52 & 0x7FFFFFF, v >> 40 & 0xFFF, v >> 31 & 0x1FF,
            v >> 126 & 0xF)
        status = None if st == 15 else st
    if lon == 0x6791AC0 or lat == 0x3412140:  # 181° / 91°: not available
        raise NoPosition("position report with position not available")
    if lon & 0x8000000:
        lon -= 0x10000000
    if lat & 0x4000000:
        lat -= 0x8000000
    lat_deg = ((10 * lat + 3) // 6) / 1e6
    lon_deg = ((10 * lon + 3) // 6) / 1e6
    if not (-90.0 <= lat_deg <= 90.0 and -180.0 <= lon_deg <= 180.0):
        raise OutOfRange(f"position out of range: lat {lat_deg}, lon {lon_deg}")
    err = 0.0
    if clock is not None:
        sec = v >> (29 if mt == 18 else 25) & 0x3F
        if clock.verdict is not None and clock.quality == "auto":
            # judged already: only this report's own second matters (the hot path of a long feed)
            if sec < 60:
                off = (int(time_s) - sec) % 60
                if SourceClock.AGREE_S < off < 60 - SourceClock.AHEAD_S:
                    err = clock.delivered_err_s
        else:
            time_s, err = clock.judge(time_s, sec)
    return new_position(
        v >> 130 & 0x3FFFFFFF, time_s, lat_deg, lon_deg,
        None if speed >= 1023 else speed / 10.0,
        None if course >= 3600 else course / 10.0,
        None if heading >= 360 else heading,
        status, mt, source, err,
    )


class PositionNotAvailable(Exception):
    """A position report whose position is 'not available' (lat 91 / lon 181): the caller says what it is."""


def _dims(msg: Any) -> dict[str, Any]:
    return {
        "to_bow_m": _int(msg.to_bow),
        "to_stern_m": _int(msg.to_stern),
        "to_port_m": _int(msg.to_port),
        "to_starboard_m": _int(msg.to_starboard),
    }


def static_info(msg: Any, msg_type: int, time_s: float, source: str, raw_type: int | None = None) -> VesselInfo:
    """A static report's :class:`VesselInfo`; ``raw_type``: its ship type code as transmitted (kept as it is,
    0-255; else pyais's value)."""
    ship_type = raw_type if raw_type is not None else _int(getattr(msg, "ship_type", None))
    if msg_type == 5:
        return VesselInfo(
            mmsi=msg.mmsi, time_s=time_s, name=_text(msg.shipname), callsign=_text(msg.callsign),
            imo=_int(msg.imo), ship_type=ship_type or None,
            draught_m=msg.draught or None, destination=_text(msg.destination),
            msg_type=5, source=source, eta_s=resolve_eta(_int(msg.month), _int(msg.day), _int(msg.hour),
                                                         _int(msg.minute), time_s), **_dims(msg),
        )
    if msg_type == 19:
        return VesselInfo(
            mmsi=msg.mmsi, time_s=time_s, name=_text(msg.shipname), ship_type=ship_type or None,
            msg_type=19, source=source, **_dims(msg),
        )
    # type 24: part A carries the name, part B the type, call sign and size
    if msg.partno == 0:
        return VesselInfo(mmsi=msg.mmsi, time_s=time_s, name=_text(msg.shipname), msg_type=24, source=source)
    dims: dict[str, Any] = _dims(msg) if hasattr(msg, "to_bow") else {}
    return VesselInfo(
        mmsi=msg.mmsi, time_s=time_s, callsign=_text(msg.callsign), ship_type=ship_type or None,
        msg_type=24, source=source, **dims,
    )


def to_records(msg: Any, time_s: float, source: str, clock: SourceClock | None = None,
               raw_type: int | None = None) -> list[Record]:
    """Typed records for one decoded pyais message (raises :class:`DecodeError`); ``clock`` judges
    a position report's time (see :class:`~maritime.ingest.eventtime.SourceClock`)."""
    t = msg.msg_type
    if t in POSITION_TYPES:
        try:
            pos = clean_position(msg, t, time_s, source, clock)
        except PositionNotAvailable:
            if t == 19:
                return [static_info(msg, t, time_s, source, raw_type)]
            raise NoPosition("position report with position not available") from None
        if t == 19:
            return [static_info(msg, t, time_s, source, raw_type), pos]
        return [pos]
    if t in (5, 24):
        return [static_info(msg, t, time_s, source, raw_type)]
    if t in (4, 11):
        lat = None if msg.lat == 91 else msg.lat
        lon = None if msg.lon == 181 else msg.lon
        try:
            utc_s: float | None = datetime(
                msg.year, msg.month, msg.day, msg.hour, msg.minute, msg.second, tzinfo=UTC
            ).timestamp()
        except ValueError:
            utc_s = None
        return [BaseStationReport(mmsi=msg.mmsi, time_s=time_s, lat=lat, lon=lon, station_utc_s=utc_s,
                                  msg_type=t, source=source)]
    return [OtherMessage(mmsi=msg.mmsi, time_s=time_s, msg_type=t, source=source)]
