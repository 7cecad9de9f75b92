"""The NMEA 0183 sentence layer: checksums, the times written around a sentence (epochs, ISO prefixes, Gatehouse
``$PGHP``), the tag block's ``c:`` time, and the tables the decoder reads fields with."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, NamedTuple

from maritime.ingest.errors import Malformed

#: AIS six-bit armour (ITU-R M.1371 §8.2.4): values 0–39 are '0'…'W', 40–63 are '`'…'w'.
ARMOR_CHARS: Final = bytes(range(48, 88)) + bytes(range(96, 120))
#: An AIS message is at most 5 slots = 1,008 bits = 168 six-bit characters.
MAX_PAYLOAD_CHARS = 168

HEX_BYTE = {f"{i:02X}".encode(): i for i in range(256)}
HEX_BYTE.update({f"{i:02x}".encode(): i for i in range(256)})
SMALL_INT = {str(i).encode(): i for i in range(100)}
AIS_SENTENCES = frozenset((b"VDM", b"VDO"))


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


def parse_epoch(token: bytes) -> float | None:
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


def parse_prefix_time(prefix: bytes) -> float | None:
    """Time written before a sentence: an epoch or an ISO 8601 timestamp."""
    t = parse_epoch(prefix)
    if t is not None:
        return t
    try:
        dt = datetime.fromisoformat(prefix.decode("ascii").strip().replace("Z", "+00:00"))
    except (ValueError, UnicodeDecodeError):
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def parse_pghp(body: bytes) -> float:
    """Event time from a Gatehouse ``$PGHP,1,yyyy,m,d,h,m,s,ms,…`` sentence."""
    f = body.split(b",")
    if len(f) < 9 or f[1] != b"1":
        raise Malformed("PGHP sentence without a type-1 timestamp")
    try:
        y, mo, d, h, mi, s, ms = (int(x) for x in f[2:9])
        return datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=UTC).timestamp()
    except ValueError as err:
        raise Malformed(f"PGHP timestamp unreadable: {err}") from None


class TagBlock(NamedTuple):
    """What the decoder reads from an NMEA 4.0 tag block."""

    #: the ``c:`` time (POSIX s), or None
    time_s: float | None
    #: the ``s:`` source (the receiver or station), or None
    station: str | None
    #: None when the checksum matches, ``"mismatch"``, or ``"short"`` (one hex digit, read leniently)
    checksum: str | None
    #: a ``c:`` value that is a number but no time of this era (zero-padded counters): not used, said so
    time_unusable: bool


def tag_block_fields(tb: bytes) -> TagBlock:
    """The fields of a tag block's text (between the backslashes).

    A tag block rewritten by a relay often keeps a stale checksum, or writes it with one hex digit: the
    sentence has its own, so neither is refused (the caller counts them). The time is an epoch in seconds
    or milliseconds, zero-padded or not. Raises :class:`Malformed` for a checksum that is not hexadecimal or
    a ``c:`` value that is not a number."""
    checksum = None
    star = tb.rfind(b"*")
    if star >= 0:
        digits = tb[star + 1:]
        expected = HEX_BYTE.get(digits)
        if expected is None and len(digits) == 1:
            expected = HEX_BYTE.get(b"0" + digits)
            checksum = "short"
        if expected is None:
            raise Malformed("tag block checksum is not hexadecimal")
        if xor_checksum(tb[:star]) != expected and checksum is None:
            checksum = "mismatch"
        tb = tb[:star]
    time_s: float | None = None
    station: str | None = None
    unusable = False
    for field in tb.split(b","):
        if field[:2] == b"c:":
            value = field[2:]
            time_s = parse_epoch(value)
            if time_s is None:
                try:
                    float(value)
                except ValueError:
                    raise Malformed(f"tag block time unreadable: c:{value.decode('ascii', 'replace')}") from None
                unusable = True
        elif field[:2] == b"s:":
            station = field[2:].decode("ascii", "replace") or None
    return TagBlock(time_s, station, checksum, unusable)
