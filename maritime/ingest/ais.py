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

The layers, each in its module: the sentence (checksums, the times around it, tag blocks:
:mod:`maritime.ingest.nmea`), the stream state kept here (multipart reassembly, ``$PGHP``, the source's
clock, duplicates), and the message families (:mod:`maritime.ingest.messages`). Decoding of
the payload bits is pyais's (``bit_vector`` and the message classes), with one exception: the 168-bit
position reports of types 1, 2, 3 and 18, most of any feed, are unpacked by
:func:`~maritime.ingest.messages.unpack_position` with the same re-armouring, shifts and rounding as pyais's
own fast path but without building a message object (a property test checks it field by field against
pyais). Every rejected line is counted by reason (:mod:`maritime.ingest.errors`) and handed to an optional
dead-letter callback; nothing raises out of :meth:`AisDecoder.decode_line`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pyais.bit_vector import bit_vector
from pyais.messages import MSG_CLASS

from maritime.ingest.errors import (
    BadChecksum,
    BadTime,
    Comment,
    DecodeError,
    DecodeStats,
    Malformed,
    NoPosition,
    Reason,
    Rejected,
    Undecodable,
    UnknownSentence,
    Warn,
)
from maritime.ingest.eventtime import SourceClock, payload_window
from maritime.ingest.messages import (
    FAST_TYPES,
    SIMPLE_POSITION_TYPES,
    PositionNotAvailable,
    clean_position,
    to_records,
    unpack_position,
)
from maritime.ingest.nmea import (
    AIS_SENTENCES,
    ARMOR_CHARS,
    HEX_BYTE,
    MAX_PAYLOAD_CHARS,
    SMALL_INT,
    parse_epoch,
    parse_pghp,
    parse_prefix_time,
    tag_block_fields,
    xor_checksum,
)
from maritime.models import TIME_MAX_S, TIME_MIN_S, Record

logger = logging.getLogger(__name__)


#: where the 8-bit ship and cargo type sits in each static report (ITU-R M.1371: type 5, 19, 24 part B)
SHIP_TYPE_BITS = {5: 232, 19: 263, 24: 40}

#: what tells one multipart message from another: the tag block's source, talker, channel, sequence id, count
FragmentKey = tuple[str | None, bytes, bytes, bytes, int]


@dataclass(slots=True)
class _Partial:
    """Fragments of one multipart message waiting for the rest."""

    count: int
    first_seen_s: float
    first_line: int
    time_s: float | None
    parts: dict[int, tuple[bytes, int, bytes]]  # fragment number -> (payload, fill bits, raw line)
    #: whether the first fragment's time was its own
    timed: bool = False


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
        keep_lines: bool = False,
    ) -> None:
        self.source = source
        #: judges whether this source's stamps are receive or delivery times (None: taken as given)
        self.clock = clock
        #: decode every payload with pyais, also the position reports of the fast path
        #: (slower; the reference that the fast path is tested against)
        self.pyais_only = pyais_only
        self.fragment_timeout_s = fragment_timeout_s
        self.max_pending = max_pending
        self.default_time_s = default_time_s if default_time_s is not None else datetime.now(UTC).timestamp()
        self.on_reject = on_reject
        self.stats = stats if stats is not None else DecodeStats()
        #: payloads already decoded in this stream within the window (several receivers in one log)
        #: a :class:`~maritime.ingest.eventtime.PayloadWindow` (the typed core's when built), None: no window
        self.dedup: Any = payload_window(dedup_window_s) if dedup_window_s else None
        self._pending: dict[FragmentKey, _Partial] = {}
        self._pghp_time: float | None = None
        self.last_time_s: float | None = None
        self._since_sweep = 0
        #: of the last line decoded: whether its time was its own (not received, assigned or borrowed), and
        #: the source its tag block named (``s:``)
        self.timed = False
        self.station: str | None = None
        #: the time given to the line being decoded when it has none of its own (see :meth:`decode_line`)
        self.assigned_time_s: float | None = None
        #: keep the raw lines of each completed multipart message in :attr:`message_lines` (event-time ordering)
        self.keep_lines = keep_lines
        self.message_lines: list[bytes] = []
        #: the typed core's C path for the common line (None: pure Python); a subclass that overrides a layer
        #: runs its own code, never the core's
        self._fast: Any = None
        #: the typed core's reader of static and base station reports (types 4, 5, 11, 24), or None (pyais)
        self._static: Any = None
        if not pyais_only:
            from maritime.core import fast_lines, load

            if type(self) is AisDecoder:
                self._fast = fast_lines(self)
            lines = load("lines")
            self._static = None if lines is None else lines.payload_records

    # -- accounting -----------------------------------------------------------------

    def _reject(self, reason: str, message: str, line: bytes, time_s: float | None) -> None:
        self.stats.rejected[reason] += 1
        if self.on_reject is not None:
            self.on_reject(Rejected(reason, message, self.source, line.decode("latin-1")[:2000], time_s))

    # -- the hot path ---------------------------------------------------------------

    def decode_line(self, raw: bytes, recv_time_s: float | None = None, assigned_time_s: float | None = None
                    ) -> tuple[bytes, list[Record]] | None:
        """Decode one line; return ``(payload, records)`` or None.

        None means the line produced no message: it was rejected (and counted),
        was a fragment waiting for the rest of its message, or was a ``$PGHP``
        timestamp for the next line. ``payload`` is the (reassembled) armoured
        payload, used downstream to recognise duplicates. A line with no time of
        its own takes ``recv_time_s`` (the time it was received), else
        ``assigned_time_s`` (its source's clock, given by the event-time
        ordering), else the time of the line before.

        With the typed core built (:mod:`maritime.core`), the common line is decoded in C and every other one
        here, with the same result (:meth:`decode_line_py` is the reference).
        """
        fast = self._fast
        if fast is not None:
            return fast.decode_line(raw, recv_time_s, assigned_time_s)
        return self.decode_line_py(raw, recv_time_s, assigned_time_s)

    def decode_line_py(self, raw: bytes, recv_time_s: float | None = None, assigned_time_s: float | None = None
                       ) -> tuple[bytes, list[Record]] | None:
        """:meth:`decode_line` in pure Python: the reference, and the path of every line the typed core leaves."""
        line = raw.strip()
        if not line:
            return None
        self.stats.lines += 1
        self.station = None
        self.assigned_time_s = assigned_time_s
        try:
            return self._decode(line, recv_time_s)
        except DecodeError as err:
            self._reject(err.reason, err.message, line, self.last_time_s)
        except Exception as err:  # a decoder bug must not stop a watch floor
            self._unexpected(err, line)
        return None

    def finish_payload(self, line: bytes, payload: bytes, fill: int, event_time: float,
                       clock: SourceClock | None) -> tuple[bytes, list[Record]] | None:
        """The payload layer for a line whose sentence the typed core read (``line``, stripped): its errors
        counted as :meth:`decode_line` counts them."""
        try:
            return self._payload(payload, fill, event_time, clock)
        except DecodeError as err:
            self._reject(err.reason, err.message, line, self.last_time_s)
        except Exception as err:  # a decoder bug must not stop a watch floor
            self._unexpected(err, line)
        return None

    def _unexpected(self, err: Exception, line: bytes) -> None:
        kind = type(err).__name__
        if kind not in _UNEXPECTED_SEEN:  # one warning per kind; the traceback at debug level
            _UNEXPECTED_SEEN.add(kind)
            logger.warning("unexpected %s decoding %r from %s: %s (line rejected as malformed; later ones of "
                           "this kind are counted only)", kind, line[:120], self.source, err)
        logger.debug("unexpected error decoding %r from %s", line[:120], self.source, exc_info=True)
        self._reject(Reason.MALFORMED, f"unexpected {kind}: {err}", line, self.last_time_s)

    def _decode(self, line: bytes, recv_time_s: float | None) -> tuple[bytes, list[Record]] | None:
        """One line through the layers: the sentence, its time, the multipart message, the payload."""
        sentence = self._sentence(line)
        if sentence is None:
            return None
        raw_line = line  # the whole line (tag block and all): what a fragment keeps, to be dead-lettered or ordered
        line, fields, event_time = sentence
        count = SMALL_INT.get(fields[1])
        num = SMALL_INT.get(fields[2])
        fill = SMALL_INT.get(fields[6])
        if count is None or num is None or fill is None or not (1 <= num <= count <= 9) or fill > 5:
            raise Malformed("bad fragment count, fragment number or fill bits")
        payload = fields[5]
        if len(payload) > MAX_PAYLOAD_CHARS:
            raise Malformed(f"payload of {len(payload)} characters is longer than any AIS message")
        if self._pghp_time is not None:  # the time of the $PGHP line before, for this sentence only
            if event_time is None:
                event_time = self._pghp_time
            self._pghp_time = None
        event_time, clock = self._event_time(event_time, recv_time_s)
        return self._message(fields, count, num, payload, fill, raw_line, event_time, clock)

    def _message(self, fields: list[bytes], count: int, num: int, payload: bytes, fill: int, raw_line: bytes,
                 event_time: float, clock: SourceClock | None) -> tuple[bytes, list[Record]] | None:
        """A checked sentence's message: its fragment kept until the message is whole, then its payload."""
        if count > 1:
            assembled = self._fragment(fields[0], fields, count, num, payload, fill, raw_line, event_time)
            if assembled is None:
                return None
            payload, fill, event_time = assembled
        return self._payload(payload, fill, event_time, clock)

    def finish_fragment(self, line: bytes, fields: list[bytes], count: int, num: int, payload: bytes, fill: int,
                        event_time: float, clock: SourceClock | None) -> tuple[bytes, list[Record]] | None:
        """The multipart layer, then the payload layer, for a fragment whose sentence the typed core read
        (``line``, stripped): errors counted as :meth:`decode_line` counts them."""
        try:
            return self._message(fields, count, num, payload, fill, line, event_time, clock)
        except DecodeError as err:
            self._reject(err.reason, err.message, line, self.last_time_s)
        except Exception as err:  # a decoder bug must not stop a watch floor
            self._unexpected(err, line)
        return None

    # -- the sentence layer ---------------------------------------------------------

    def _sentence(self, line: bytes) -> tuple[bytes, list[bytes], float | None] | None:
        """The checked AIS sentence of a line: ``(sentence, its seven fields, the time written with it)``;
        None for a ``$PGHP`` line (its time is kept for the next sentence)."""
        if line[0] == 35:  # '#'
            raise Comment("comment line")
        if b"\x00" in line:
            line = line.replace(b"\x00", b"")
            if not line:
                raise Malformed("only NUL bytes")
        if not line.isascii():
            raise Malformed("non-ASCII bytes in line")
        line, event_time = self._strip_time_prefix(line)
        first = line[0]
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
            expected = HEX_BYTE.get(line[star + 1:star + 3])
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
                t = parse_epoch(tok)
                if t is not None:
                    event_time = t
                    break
        fields = body.split(b",")
        tag = fields[0]
        if first == 36:  # '$'
            if tag == b"PGHP":
                self._pghp_time = parse_pghp(body)
                return None
            raise UnknownSentence(f"not an AIS sentence: ${tag.decode()}")
        if tag[2:] not in AIS_SENTENCES:
            raise UnknownSentence(f"not an AIS sentence: !{tag.decode()}")
        if len(fields) != 7:
            if len(fields) < 7:
                raise Malformed(f"AIS sentence with {len(fields)} fields instead of 7")
            self.stats.warnings[Warn.EXTRA_FIELDS] += 1  # kept: the seven fields AIS defines are all there
            del fields[7:]
        return line, fields, event_time

    def _strip_time_prefix(self, line: bytes) -> tuple[bytes, float | None]:
        """The sentence without what comes before it (an epoch or ISO time, an NMEA 4.0 tag block), and the
        time that gave."""
        event_time: float | None = None
        first = line[0]
        if first != 33 and first != 36 and first != 92:  # not '!', '$' or a tag block
            starts = [i for i in (line.find(b"!"), line.find(b"\\"), line.find(b"$")) if i > 0]
            if not starts:
                raise Malformed("not an NMEA sentence")
            start = min(starts)
            event_time = parse_prefix_time(line[:start].strip(b" \t,;:"))
            if event_time is None:
                raise Malformed("unreadable text before the sentence")
            line = line[start:]
            first = line[0]
        if first == 92:  # backslash: NMEA 4.0 tag block
            end = line.find(b"\\", 1)
            if end < 0:
                raise Malformed("unterminated tag block")
            tb = tag_block_fields(line[1:end])
            if tb.checksum is not None:
                # the sentence has its own checksum; a tag block rewritten by a relay often keeps a stale one
                self.stats.warnings[Warn.TAG_BLOCK_CHECKSUM if tb.checksum == "mismatch"
                                    else Warn.TAG_BLOCK_CHECKSUM_SHORT] += 1
            if tb.time_unusable:
                self.stats.warnings[Warn.TAG_BLOCK_TIME_UNUSABLE] += 1
            if tb.time_s is not None:
                event_time = tb.time_s
            self.station = tb.station
            line = line[end + 1:]
            if not line:
                raise Malformed("tag block without sentence")
            if line[0] != 33 and line[0] != 36:
                raise Malformed("tag block followed by something that is not a sentence")
        return line, event_time

    # -- event time -----------------------------------------------------------------

    def _event_time(self, event_time: float | None, recv_time_s: float | None) -> tuple[float, SourceClock | None]:
        """The line's event time (its own, else the receive time, else the time it was assigned, else the
        stream's last) and the clock that judges its reports' own seconds (None for a borrowed time).
        ``timed`` says whether the time was the line's own (its source's clock judges it:
        :mod:`maritime.ingest.clocks`)."""
        clock = self.clock
        self.timed = event_time is not None
        if event_time is not None:
            if not TIME_MIN_S <= event_time < TIME_MAX_S:
                raise BadTime(f"time {event_time:.0f} is outside 2000–2099: not an AIS time")
        elif recv_time_s is not None:
            event_time = recv_time_s
        elif self.assigned_time_s is not None:
            clock = None  # a time given from outside (its source's clock) says nothing of this report
            event_time = self.assigned_time_s
        elif self.last_time_s is not None:
            clock = None  # a time borrowed from an earlier line says nothing of this report
            event_time = self.last_time_s
        else:
            event_time = self.default_time_s
            clock = None
        self.last_time_s = event_time
        return event_time, clock

    # -- the payload: duplicates, the fast path, pyais, the message families ----------

    def _payload(self, payload: bytes, fill: int, event_time: float, clock: SourceClock | None
                 ) -> tuple[bytes, list[Record]] | None:
        """Records of one complete payload; a duplicate of another receiver's is counted, not decoded."""
        if not payload:
            raise Malformed("empty payload")
        if payload.translate(None, ARMOR_CHARS):
            raise Malformed("payload has characters outside the AIS six-bit alphabet")
        stats = self.stats
        by_type = stats.messages_by_type
        dedup = self.dedup
        if dedup is not None and dedup.seen(payload, event_time):
            stats.messages += 1
            stats.duplicates += 1
            c = payload[0] - 48
            mt = c - 8 if c > 40 else c
            by_type[mt] = by_type.get(mt, 0) + 1
            return None
        # a type 1/2/3/18 position report is unpacked here (the fast path); everything else by pyais
        fast = FAST_TYPES.get(payload[0]) if fill == 0 and len(payload) == 28 and not self.pyais_only else None
        msg: Any = None
        raw_type: int | None = None
        records: list[Record] | None = None
        if fast is None:
            static = self._static
            if static is not None:  # types 4, 5, 11 and 24 in the typed core, when built (None: pyais reads it)
                records = static(payload, fill, event_time, self.source)
            if records is None:
                msg, raw_type = self._pyais(payload, fill)
        if dedup is not None:
            dedup.remember(payload, event_time)
        stats.messages += 1
        mt = fast if fast is not None else msg.msg_type if msg is not None else payload[0] - 48
        by_type[mt] = by_type.get(mt, 0) + 1
        if fast is not None:
            return payload, [unpack_position(payload, fast, event_time, self.source, clock)]
        if records is not None:
            return payload, records
        if mt in SIMPLE_POSITION_TYPES:
            try:
                return payload, [clean_position(msg, mt, event_time, self.source, clock)]
            except PositionNotAvailable:
                raise NoPosition("position report with position not available") from None
        return payload, to_records(msg, event_time, self.source, clock, raw_type)

    @staticmethod
    def _pyais(payload: bytes, fill: int) -> tuple[Any, int | None]:
        """pyais's message for a payload (raises :class:`Undecodable`), and the ship type code as transmitted
        (0-255) of a static report: pyais folds codes its enumeration lacks (66 reads as 65, 1-19 as none)."""
        try:
            bv = bit_vector(payload, fill)
            mt = bv.get(0, 6)
            msg_cls = MSG_CLASS.get(mt)
            if msg_cls is None:
                raise Undecodable(f"unknown AIS message type {mt}")
            msg = msg_cls.from_vector(bv)
            at = SHIP_TYPE_BITS.get(mt)
            if mt == 24 and getattr(msg, "partno", 0) != 1:
                at = None
            return msg, (bv.get(at, 8) if at is not None and len(bv) >= at + 8 else None)
        except DecodeError:
            raise
        except Exception as err:
            raise Undecodable(f"pyais could not decode the payload: {type(err).__name__}: {err}") from None

    # -- multipart ------------------------------------------------------------------

    def _fragment(
        self, tag: bytes, fields: list[bytes], count: int, num: int, payload: bytes, fill: int, line: bytes,
        time_s: float,
    ) -> tuple[bytes, int, float] | None:
        key = (self.station, tag, fields[4], fields[3], count)  # receivers apart: their fragments never mix
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
            part.timed = self.timed
        if len(part.parts) < count:
            return None
        del self._pending[key]
        ordered = [part.parts[i] for i in range(1, count + 1)]
        if self.keep_lines:
            self.message_lines = [p[2] for p in part.parts.values()]
        if part.time_s is not None:
            self.timed = part.timed  # the message's time is its first fragment's
        return (
            b"".join(p[0] for p in ordered),
            ordered[-1][1],
            part.time_s if part.time_s is not None else time_s,
        )

    def _orphan(self, key: FragmentKey, why: str) -> None:
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

    @property
    def pending_fragments(self) -> int:
        """Multipart messages begun and not yet complete (their fragments wait in this decoder)."""
        return len(self._pending)

    def close(self) -> None:
        """End of stream: every fragment still waiting is an orphan."""
        self.expire(None)
        if self._pghp_time is not None:
            self._pghp_time = None

