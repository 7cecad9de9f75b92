"""The pyais boundary: raw NMEA lines in, typed records out.

Everything that is messy about real feeds is handled here, once:

* NMEA 4.0 tag blocks (``\\c:epoch,s:source*hh\\``), with ``c:`` in seconds
  or milliseconds and their own checksum verified;
* Gatehouse ``$PGHP`` lines, which timestamp the sentence that follows;
* epochs written after the checksum (``…,0*5C,1272412827``, as the USCG and
  AMSA feeds do) or before the sentence (``1272412827 !AIVDM…``);
* any talker (``!AIVDM``, ``!ABVDM``, ``!BSVDM``, own-ship ``!AIVDO``, …);
* checksums verified (pyais does not by default);
* multipart messages reassembled by source, talker, channel and sequence id,
  in any fragment order, with incomplete ones expired and counted;
* "not available" values (lat 91, lon 181, sog 102.3, cog 360, heading 511)
  turned into None, and out-of-range values rejected.

Decoding of the payload bits is pyais's (``bit_vector`` and the message
classes), with one exception: the 168-bit position reports of types 1, 2, 3
and 18, most of any feed, are unpacked by :func:`unpack_position` with the
same re-armouring, shifts and rounding as pyais's own fast path but without
building a message object (a property test checks it field by field against
pyais). The sentence layer is parsed here because that is where the
tolerance and the accounting live. Every rejected line is counted by reason
and handed to an optional dead-letter callback; nothing raises out of
:meth:`AisDecoder.decode_line`.
"""

from __future__ import annotations

import logging
from binascii import a2b_base64
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

from pyais.bit_vector import bit_vector
from pyais.messages import MSG_CLASS

from maritime.destination import resolve_eta
from maritime.ingest.eventtime import PayloadWindow, SourceClock, TimeGuard
from maritime.models import TIME_MAX_S, TIME_MIN_S, BaseStationReport, OtherMessage, Position, Record, VesselInfo, iso

logger = logging.getLogger(__name__)


class Reason:
    """Names of the reasons a line is rejected (the keys of ``rejected``)."""

    BAD_CHECKSUM: Final = "bad_checksum"
    MALFORMED: Final = "malformed"
    ORPHAN_FRAGMENT: Final = "orphan_fragment"
    UNKNOWN_SENTENCE: Final = "unknown_sentence"
    OUT_OF_RANGE: Final = "out_of_range"
    UNDECODABLE: Final = "undecodable"
    NO_POSITION: Final = "no_position"
    COMMENT: Final = "comment"
    LATE: Final = "late"
    #: a time that is not an AIS time (before 2000, after 2099, or not a date at all)
    BAD_TIME: Final = "bad_time"
    #: a time far from its source's recent times, not (yet) confirmed by the lines after it
    TIME_OUTLIER: Final = "time_outlier"


class Warn:
    """Names of things counted but not rejected (the keys of ``warnings``)."""

    TAG_BLOCK_CHECKSUM: Final = "tag_block_checksum"
    NO_CHECKSUM: Final = "no_checksum"
    #: fields after the fill bits (some plotters and multiplexers add one); ignored, as pyais does
    EXTRA_FIELDS: Final = "extra_fields"


class DecodeError(Exception):
    """Base class of every input error; ``reason`` is one of :class:`Reason`."""

    reason: ClassVar[str] = Reason.MALFORMED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadChecksum(DecodeError):
    """The sentence or tag block checksum does not match its content."""

    reason = Reason.BAD_CHECKSUM


class Malformed(DecodeError):
    """The line is not a well-formed NMEA 0183 AIS sentence."""

    reason = Reason.MALFORMED


class UnknownSentence(DecodeError):
    """A well-formed NMEA sentence that is not AIS (``$GPGGA``, ``!AIPWR``, …)."""

    reason = Reason.UNKNOWN_SENTENCE


class Comment(DecodeError):
    """A comment line (``# …``) in a recording."""

    reason = Reason.COMMENT


class NoPosition(DecodeError):
    """A position report that says its position is not available (lat 91 / lon 181)."""

    reason = Reason.NO_POSITION


class Undecodable(DecodeError):
    """pyais could not decode the payload (unknown type, truncated bits)."""

    reason = Reason.UNDECODABLE


class BadTime(DecodeError):
    """A line time outside 2000–2099, or one its source's neighbouring lines do not confirm."""

    reason = Reason.BAD_TIME


class TimeOutlier(DecodeError):
    """A line time far from its source's recent times (quarantined until the source confirms it)."""

    reason = Reason.TIME_OUTLIER


class OutOfRange(DecodeError):
    """A decoded value outside its valid range (latitude 95°, …)."""

    reason = Reason.OUT_OF_RANGE


@dataclass(frozen=True, slots=True)
class Rejected:
    """One rejected line, as written to the dead-letter file."""

    reason: str
    message: str
    source: str
    line: str
    time_s: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the dead-letter file."""
        return {"reason": self.reason, "message": self.message, "source": self.source,
                "time_s": self.time_s, "line": self.line}


@dataclass(slots=True)
class DecodeStats:
    """Counters kept by the decoder: the summary's ``lines`` … ``rejected``."""

    lines: int = 0
    messages: int = 0
    messages_by_type: Counter[int] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0

    def merge(self, other: DecodeStats) -> None:
        """Add another decoder's counters to these."""
        self.lines += other.lines
        self.messages += other.messages
        self.messages_by_type.update(other.messages_by_type)
        self.rejected.update(other.rejected)
        self.warnings.update(other.warnings)
        self.duplicates += other.duplicates


@dataclass(slots=True)
class _Partial:
    """Fragments of one multipart message waiting for the rest."""

    count: int
    first_seen_s: float
    first_line: int
    time_s: float | None
    parts: dict[int, tuple[bytes, int, bytes]]  # fragment number -> (payload, fill bits, raw line)


#: An AIS message is at most 5 slots = 1,008 bits = 168 six-bit characters.
MAX_PAYLOAD_CHARS = 168

_HEX = {f"{i:02X}".encode(): i for i in range(256)}
_HEX.update({f"{i:02x}".encode(): i for i in range(256)})
_SMALL = {str(i).encode(): i for i in range(100)}
_VDM = frozenset((b"VDM", b"VDO"))
_POSITION_TYPES = frozenset((1, 2, 3, 18, 19, 27))
_SIMPLE_POSITION_TYPES = frozenset((1, 2, 3, 18, 27))


def xor_checksum(data: bytes) -> int:
    """NMEA checksum: the XOR of all bytes.

    Folded as one big integer: after ``x ^= x >> 8·2^k`` for k = top … 0 the
    lowest byte holds the XOR of every byte (bits only move down, so what
    piles up above the lowest byte never reaches it).
    """
    x = int.from_bytes(data, "little")
    if len(data) <= 64:  # most sentences and tag blocks: the same steps, unrolled
        x ^= x >> 256
        x ^= x >> 128
        x ^= x >> 64
        x ^= x >> 32
        x ^= x >> 16
        x ^= x >> 8
        return x & 0xFF
    sh = 4 << (len(data) - 1).bit_length()
    while sh >= 8:
        x ^= x >> sh
        sh >>= 1
    return x & 0xFF


def _parse_epoch(token: bytes) -> float | None:
    """POSIX seconds from a decimal epoch in seconds or milliseconds, or None."""
    try:
        v = float(token)
    except ValueError:
        return None
    if v > 1e11:  # milliseconds
        v /= 1000.0
    if 3e8 < v < 4.2e9:  # 1979 … 2103: anything else is not an epoch
        return v
    return None


def _parse_prefix_time(prefix: bytes) -> float | None:
    """Time written before a sentence: an epoch or an ISO 8601 timestamp."""
    t = _parse_epoch(prefix)
    if t is not None:
        return t
    try:
        dt = datetime.fromisoformat(prefix.decode("ascii").strip().replace("Z", "+00:00"))
    except (ValueError, UnicodeDecodeError):
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _parse_pghp(body: bytes) -> float:
    """Event time from a Gatehouse ``$PGHP,1,yyyy,m,d,h,m,s,ms,…`` sentence."""
    f = body.split(b",")
    if len(f) < 9 or f[1] != b"1":
        raise Malformed("PGHP sentence without a type-1 timestamp")
    try:
        y, mo, d, h, mi, s, ms = (int(x) for x in f[2:9])
        return datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=UTC).timestamp()
    except ValueError as err:
        raise Malformed(f"PGHP timestamp unreadable: {err}") from None


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


#: ``Position(*fields)`` without the frozen dataclass's per-field ``object.__setattr__`` (the hot path)
new_position = _fast_init(Position)


def _clean_position(msg: Any, msg_type: int, time_s: float, source: str, clock: SourceClock | None = None
                    ) -> Position:
    lat = msg.lat
    lon = msg.lon
    if lat is None or lon is None or lat == 91 or lon == 181:
        raise _NoPosition()
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


#: AIS six-bit armour (ITU-R M.1371 §8.2.4): values 0–39 are '0'…'W', 40–63 are '`'…'w'.
ARMOR_CHARS: Final = bytes(range(48, 88)) + bytes(range(96, 120))
#: the same six-bit values on the base64 alphabet, so that C does the 6-to-8 bit repacking
_ARMOR_TO_B64: Final = bytes.maketrans(
    ARMOR_CHARS, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
#: first payload character of a type 1, 2, 3 or 18 report -> message type
_FAST_TYPES: Final = {49: 1, 50: 2, 51: 3, 66: 18}


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
    v = int.from_bytes(a2b_base64(payload.translate(_ARMOR_TO_B64)))
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


class _NoPosition(Exception):
    """Internal: a position report whose position is 'not available'."""


def _dims(msg: Any) -> dict[str, Any]:
    return {
        "to_bow_m": _int(msg.to_bow),
        "to_stern_m": _int(msg.to_stern),
        "to_port_m": _int(msg.to_port),
        "to_starboard_m": _int(msg.to_starboard),
    }


def _static(msg: Any, msg_type: int, time_s: float, source: str) -> VesselInfo:
    if msg_type == 5:
        return VesselInfo(
            mmsi=msg.mmsi, time_s=time_s, name=_text(msg.shipname), callsign=_text(msg.callsign),
            imo=_int(msg.imo), ship_type=_int(msg.ship_type),
            draught_m=msg.draught or None, destination=_text(msg.destination),
            msg_type=5, source=source, eta_s=resolve_eta(_int(msg.month), _int(msg.day), _int(msg.hour),
                                                         _int(msg.minute), time_s), **_dims(msg),
        )
    if msg_type == 19:
        return VesselInfo(
            mmsi=msg.mmsi, time_s=time_s, name=_text(msg.shipname), ship_type=_int(msg.ship_type),
            msg_type=19, source=source, **_dims(msg),
        )
    # type 24: part A carries the name, part B the type, call sign and size
    if msg.partno == 0:
        return VesselInfo(mmsi=msg.mmsi, time_s=time_s, name=_text(msg.shipname), msg_type=24, source=source)
    dims: dict[str, Any] = _dims(msg) if hasattr(msg, "to_bow") else {}
    return VesselInfo(
        mmsi=msg.mmsi, time_s=time_s, callsign=_text(msg.callsign), ship_type=_int(msg.ship_type),
        msg_type=24, source=source, **dims,
    )


def to_records(msg: Any, time_s: float, source: str, clock: SourceClock | None = None) -> list[Record]:
    """Typed records for one decoded pyais message (raises :class:`DecodeError`); ``clock`` judges
    a position report's time (see :class:`~maritime.ingest.eventtime.SourceClock`)."""
    t = msg.msg_type
    if t in _POSITION_TYPES:
        try:
            pos = _clean_position(msg, t, time_s, source, clock)
        except _NoPosition:
            if t == 19:
                return [_static(msg, t, time_s, source)]
            raise NoPosition("position report with position not available") from None
        if t == 19:
            return [_static(msg, t, time_s, source), pos]
        return [pos]
    if t in (5, 24):
        return [_static(msg, t, time_s, source)]
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


#: the kinds of unexpected decoder errors already logged (each is logged once per process)
_UNEXPECTED_SEEN: set[str] = set()


class AisDecoder:
    """Decode one source's NMEA lines into typed records.

    One decoder per input stream (a file, a TCP connection): it keeps that
    stream's pending multipart fragments, the time of its last ``$PGHP`` line
    and its last event time (used for lines that carry no time of their own).

    ``fragment_timeout_s`` (seconds of stream time) bounds how long fragments
    wait for the rest of their message; ``default_time_s`` is the time given to
    lines before any timestamp has been seen when the source gives no receive
    time.
    """

    def __init__(
        self,
        source: str = "",
        *,
        fragment_timeout_s: float = 60.0,
        max_pending: int = 10_000,
        default_time_s: float | None = None,
        on_reject: Callable[[Rejected], None] | None = None,
        stats: DecodeStats | None = None,
        dedup_window_s: float | None = None,
        pyais_only: bool = False,
        clock: SourceClock | None = None,
        guard: TimeGuard | None = None,
    ) -> None:
        self.source = source
        #: judges whether this source's stamps are receive or delivery times (None: taken as given)
        self.clock = clock
        #: quarantines line times far from the source's recent ones (None: every valid time is taken)
        self.guard = guard
        #: decode every payload with pyais, also the position reports of the fast path
        #: (slower; the reference that the fast path is tested against)
        self.pyais_only = pyais_only
        self.fragment_timeout_s = fragment_timeout_s
        self.max_pending = max_pending
        self.default_time_s = default_time_s if default_time_s is not None else datetime.now(UTC).timestamp()
        self.on_reject = on_reject
        self.stats = stats if stats is not None else DecodeStats()
        #: payloads already decoded in this stream within the window (several receivers in one log)
        self.dedup = PayloadWindow(dedup_window_s) if dedup_window_s else None
        self._pending: dict[tuple[bytes, bytes, bytes, int], _Partial] = {}
        self._pghp_time: float | None = None
        self.last_time_s: float | None = None
        self._since_sweep = 0

    # -- accounting -----------------------------------------------------------------

    def _reject(self, reason: str, message: str, line: bytes, time_s: float | None) -> None:
        self.stats.rejected[reason] += 1
        if self.on_reject is not None:
            self.on_reject(Rejected(reason, message, self.source, line.decode("latin-1")[:2000], time_s))

    # -- the hot path ---------------------------------------------------------------

    def decode_line(self, raw: bytes, recv_time_s: float | None = None) -> tuple[bytes, list[Record]] | None:
        """Decode one line; return ``(payload, records)`` or None.

        None means the line produced no message: it was rejected (and counted),
        was a fragment waiting for the rest of its message, or was a ``$PGHP``
        timestamp for the next line. ``payload`` is the (reassembled) armoured
        payload, used downstream to recognise duplicates.
        """
        line = raw.strip()
        if not line:
            return None
        self.stats.lines += 1
        try:
            return self._decode(line, recv_time_s)
        except DecodeError as err:
            self._reject(err.reason, err.message, line, self.last_time_s)
        except Exception as err:  # a decoder bug must not stop a watch floor
            kind = type(err).__name__
            if kind not in _UNEXPECTED_SEEN:  # one warning per kind; the traceback at debug level
                _UNEXPECTED_SEEN.add(kind)
                logger.warning("unexpected %s decoding %r from %s: %s (line rejected as malformed; later ones of "
                               "this kind are counted only)", kind, line[:120], self.source, err)
            logger.debug("unexpected error decoding %r from %s", line[:120], self.source, exc_info=True)
            self._reject(Reason.MALFORMED, f"unexpected {kind}: {err}", line, self.last_time_s)
        return None

    def _decode(self, line: bytes, recv_time_s: float | None) -> tuple[bytes, list[Record]] | None:
        if line[0] == 35:  # '#'
            raise Comment("comment line")
        if b"\x00" in line:
            line = line.replace(b"\x00", b"")
            if not line:
                raise Malformed("only NUL bytes")
        if not line.isascii():
            raise Malformed("non-ASCII bytes in line")
        event_time: float | None = None
        first = line[0]
        if first != 33 and first != 36 and first != 92:  # not '!', '$' or a tag block
            starts = [i for i in (line.find(b"!"), line.find(b"\\"), line.find(b"$")) if i > 0]
            if not starts:
                raise Malformed("not an NMEA sentence")
            start = min(starts)
            event_time = _parse_prefix_time(line[:start].strip(b" \t,;:"))
            if event_time is None:
                raise Malformed("unreadable text before the sentence")
            line = line[start:]
            first = line[0]
        if first == 92:  # backslash: NMEA 4.0 tag block
            end = line.find(b"\\", 1)
            if end < 0:
                raise Malformed("unterminated tag block")
            tb_time = self._parse_tag_block(line[1:end])
            if tb_time is not None:
                event_time = tb_time
            line = line[end + 1:]
            if not line:
                raise Malformed("tag block without sentence")
            first = line[0]
            if first != 33 and first != 36:
                raise Malformed("tag block followed by something that is not a sentence")
        star = line.rfind(b"*")
        if star < 0:
            # Some devices omit the checksum: the sentence must then be complete in its
            # fields (checked below) and is counted as a warning.
            body = line[1:]
            trailer = b""
            self.stats.warnings[Warn.NO_CHECKSUM] += 1
        else:
            if len(line) < star + 3:
                raise Malformed("checksum cut short")
            expected = _HEX.get(line[star + 1:star + 3])
            if expected is None:
                raise Malformed("checksum is not hexadecimal")
            body = line[1:star]
            if xor_checksum(body) != expected:
                raise BadChecksum(
                    f"checksum {line[star + 1:star + 3].decode()} does not match {xor_checksum(body):02X}")
            trailer = line[star + 3:]
        if trailer and event_time is None:
            # epochs after the checksum: ",b003669794,1272412827" or ",…,T48.85,r07RPAL1,1272415370"
            for tok in reversed(trailer.split(b",")):
                t = _parse_epoch(tok)
                if t is not None:
                    event_time = t
                    break
        fields = body.split(b",")
        tag = fields[0]
        if first == 36:  # '$'
            if tag == b"PGHP":
                self._pghp_time = _parse_pghp(body)
                return None
            raise UnknownSentence(f"not an AIS sentence: ${tag.decode()}")
        if tag[2:] not in _VDM:
            raise UnknownSentence(f"not an AIS sentence: !{tag.decode()}")
        if len(fields) != 7:
            if len(fields) < 7:
                raise Malformed(f"AIS sentence with {len(fields)} fields instead of 7")
            self.stats.warnings[Warn.EXTRA_FIELDS] += 1  # kept: the seven fields AIS defines are all there
            del fields[7:]
        count = _SMALL.get(fields[1])
        num = _SMALL.get(fields[2])
        fill = _SMALL.get(fields[6])
        if count is None or num is None or fill is None or not (1 <= num <= count <= 9) or fill > 5:
            raise Malformed("bad fragment count, fragment number or fill bits")
        payload = fields[5]
        if len(payload) > MAX_PAYLOAD_CHARS:
            raise Malformed(f"payload of {len(payload)} characters is longer than any AIS message")
        if self._pghp_time is not None:
            if event_time is None:
                event_time = self._pghp_time
            self._pghp_time = None
        clock = self.clock
        if event_time is not None:
            if not TIME_MIN_S <= event_time < TIME_MAX_S:
                raise BadTime(f"time {event_time:.0f} is outside 2000–2099: not an AIS time")
            guard = self.guard
            if guard is not None:
                ref = guard.ref
                if (ref is not None and not guard.candidates
                        and ref - guard.max_behind_s <= event_time <= ref + guard.max_jump_s):
                    if event_time > ref:  # the common case, inline: near the source's recent times
                        guard.ref = event_time
                elif not guard.accept(event_time):
                    raise TimeOutlier(f"time {iso(event_time)} is {abs(event_time - (guard.ref or 0)) / 3600:.0f} h "
                                      f"from this source's recent times ({iso(guard.ref)}); kept out until lines "
                                      f"confirm it")
        if event_time is None:
            if recv_time_s is not None:
                event_time = recv_time_s
            elif self.last_time_s is not None:
                clock = None  # a time borrowed from an earlier line says nothing of this report
                event_time = self.last_time_s
            else:
                event_time = self.default_time_s
                clock = None
        self.last_time_s = event_time
        if count > 1:
            assembled = self._fragment(tag, fields, count, num, payload, fill, line, event_time)
            if assembled is None:
                return None
            payload, fill, event_time = assembled
        if not payload:
            raise Malformed("empty payload")
        if payload.translate(None, ARMOR_CHARS):
            raise Malformed("payload has characters outside the AIS six-bit alphabet")
        dedup = self.dedup
        if dedup is not None and dedup.seen(payload, event_time):
            # the same transmission from another receiver: counted, not decoded again
            stats = self.stats
            stats.messages += 1
            stats.duplicates += 1
            c = payload[0] - 48
            mt = c - 8 if c > 40 else c
            stats.messages_by_type[mt] = stats.messages_by_type.get(mt, 0) + 1
            return None
        # a type 1/2/3/18 position report is unpacked here (the fast path); everything else by pyais
        fast = _FAST_TYPES.get(payload[0]) if fill == 0 and len(payload) == 28 and not self.pyais_only else None
        msg: Any = None
        if fast is None:
            try:
                bv = bit_vector(payload, fill)
                msg_cls = MSG_CLASS.get(bv.get(0, 6))
                if msg_cls is None:
                    raise Undecodable(f"unknown AIS message type {bv.get(0, 6)}")
                msg = msg_cls.from_vector(bv)
            except DecodeError:
                raise
            except Exception as err:
                raise Undecodable(f"pyais could not decode the payload: {type(err).__name__}: {err}") from None
        if dedup is not None:
            dedup.remember(payload, event_time)
        stats = self.stats
        stats.messages += 1
        mt = fast if fast is not None else msg.msg_type
        by_type = stats.messages_by_type
        by_type[mt] = by_type.get(mt, 0) + 1
        if fast is not None:
            return payload, [unpack_position(payload, fast, event_time, self.source, clock)]
        if mt in _SIMPLE_POSITION_TYPES:
            try:
                return payload, [_clean_position(msg, mt, event_time, self.source, clock)]
            except _NoPosition:
                raise NoPosition("position report with position not available") from None
        return payload, to_records(msg, event_time, self.source, clock)

    def _parse_tag_block(self, tb: bytes) -> float | None:
        star = tb.rfind(b"*")
        if star >= 0:
            expected = _HEX.get(tb[star + 1:star + 3])
            if expected is None:
                raise Malformed("tag block checksum is not hexadecimal")
            if xor_checksum(tb[:star]) != expected:
                # The sentence has its own checksum; a tag block rewritten by a
                # relay often keeps a stale one. Counted, not rejected.
                self.stats.warnings[Warn.TAG_BLOCK_CHECKSUM] += 1
            tb = tb[:star]
        i = tb.find(b"c:")
        if i > 0 and tb[i - 1] != 44:  # "c:" inside another field's value, not at a field start
            i = tb.find(b",c:")
            i = i + 1 if i >= 0 else -1
        if i < 0:
            return None
        j = tb.find(b",", i)
        value = tb[i + 2:] if j < 0 else tb[i + 2:j]
        t = _parse_epoch(value)
        if t is None:
            raise Malformed(f"tag block time unreadable: c:{value.decode('ascii', 'replace')}")
        return t

    # -- multipart ------------------------------------------------------------------

    def _fragment(
        self, tag: bytes, fields: list[bytes], count: int, num: int, payload: bytes, fill: int, line: bytes,
        time_s: float,
    ) -> tuple[bytes, int, float] | None:
        key = (tag, fields[4], fields[3], count)
        self._since_sweep += 1
        if self._since_sweep >= 256 or len(self._pending) > self.max_pending:
            self.expire(time_s)
        part = self._pending.get(key)
        line_no = self.stats.lines
        if part is not None and (
            num in part.parts or (1 not in part.parts and line_no - part.first_line > 2 * count)
        ):
            # A fragment number we already hold: the sequence id was reused for a new
            # message before the old one completed. Or fragments that came without their
            # first one and were not followed closely by it: fragments from another
            # receiver, not an out-of-order delivery, and never to be glued together.
            self._orphan(key, "superseded by a new message with the same sequence id")
            part = None
        if part is None:
            part = _Partial(count=count, first_seen_s=time_s, first_line=line_no, time_s=None, parts={})
            self._pending[key] = part
        part.parts[num] = (payload, fill, line)
        if num == 1:
            part.time_s = time_s
        if len(part.parts) < count:
            return None
        del self._pending[key]
        ordered = [part.parts[i] for i in range(1, count + 1)]
        return (
            b"".join(p[0] for p in ordered),
            ordered[-1][1],
            part.time_s if part.time_s is not None else time_s,
        )

    def _orphan(self, key: tuple[bytes, bytes, bytes, int], why: str) -> None:
        part = self._pending.pop(key)
        for _payload, _fill, line in part.parts.values():
            self._reject(Reason.ORPHAN_FRAGMENT, why, line, part.first_seen_s)

    def expire(self, now_s: float | None = None) -> None:
        """Count as orphans the fragments older than the timeout (all of them when ``now_s`` is None).

        Pending messages are kept in the order they began, which is the order they expire in (a stream's
        time moves forward): the sweep stops at the first one still waiting, so a flood of orphans with
        distinct sequence ids costs constant time each, not a scan of everything pending.
        """
        self._since_sweep = 0
        pending = self._pending
        if now_s is None:
            for key in list(pending):
                self._orphan(key, "incomplete multipart message")
            return
        limit = now_s - self.fragment_timeout_s
        while pending:
            key, part = next(iter(pending.items()))
            if part.first_seen_s >= limit:
                break
            self._orphan(key, "fragments expired")
        while len(pending) > self.max_pending:
            self._orphan(next(iter(pending)), "too many incomplete multipart messages")

    def close(self) -> None:
        """End of stream: every fragment still waiting is an orphan."""
        self.expire(None)
        if self._pghp_time is not None:
            self._pghp_time = None

