"""What the decoder refuses and counts: the reasons, the typed errors (one base class), a rejected line as the
dead-letter file keeps it, and the decoder's counters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final


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
    #: a tag block checksum of one hex digit (read as if zero-padded)
    TAG_BLOCK_CHECKSUM_SHORT: Final = "tag_block_checksum_short"
    #: a tag block ``c:`` that is a number but no time of this era (a counter, zero-padded): the line is kept
    #: with the time of the line before
    TAG_BLOCK_TIME_UNUSABLE: Final = "tag_block_time_unusable"


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
