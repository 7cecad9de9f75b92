"""A vessel's own voyage declaration as AIS carries it: the destination text and the ETA without a year.

AIS type 5 (and some class B units) carry a 20-character destination in the 6-bit AIS alphabet, padded with
``@``, typed by the crew in any form, and an ETA as month, day, hour and minute with no year (0, 0, 24, 60
meaning "not available"). :func:`clean_destination` makes the text comparable; :func:`resolve_eta` puts the
ETA in time, next to the report it came in. Matching the text to a port is :mod:`maritime.zones.ports`.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import UTC, datetime

#: ETAs further than this before the report are taken to be in the next year (a December report of a
#: January arrival); one within it is a late ETA not updated by the crew (s)
ETA_PAST_S = 30 * 86400.0
#: ... and ETAs further ahead than this are taken to be last year's, left standing (s)
ETA_AHEAD_S = 335 * 86400.0

_SPACES = re.compile(r"\s+")


def clean_destination(text: str | None) -> str:
    """The destination as comparable text: upper case, ``@`` padding and control characters dropped, spaces
    collapsed ("" when nothing is left)."""
    if not text:
        return ""
    s = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in str(text))
    s = s.replace("@", " ").upper()
    return _SPACES.sub(" ", s).strip(" .,;:-_")


def eta_fields_ok(month: int | None, day: int | None, hour: int | None, minute: int | None) -> bool:
    """True when an AIS ETA gives a month and a day (hour and minute may be "not available": 24, 60)."""
    return bool(month) and bool(day) and 1 <= (month or 0) <= 12 and 1 <= (day or 0) <= 31


def resolve_eta(month: int | None, day: int | None, hour: int | None, minute: int | None,
                report_s: float) -> float | None:
    """The ETA as UNIX seconds, from AIS fields without a year and the time of the report that carried it.

    The year is the report's, or the next one when that would put the ETA more than :data:`ETA_PAST_S`
    before the report (a report of 30 December for 2 January), or the previous one when it would put it
    more than :data:`ETA_AHEAD_S` ahead (a report of 2 January still showing 31 December). Hour 24 and
    minute 60 (not available) count as 00. None when there is no month or day, or the date does not exist.
    """
    if not eta_fields_ok(month, day, hour, minute):
        return None
    assert month is not None and day is not None
    h = hour if hour is not None and 0 <= hour <= 23 else 0
    m = minute if minute is not None and 0 <= minute <= 59 else 0
    year = datetime.fromtimestamp(report_s, UTC).year
    best: float | None = None
    for y in (year, year + 1, year - 1):
        if day > calendar.monthrange(y, month)[1]:
            continue
        t = datetime(y, month, day, h, m, tzinfo=UTC).timestamp()
        if -ETA_PAST_S <= t - report_s <= ETA_AHEAD_S:
            return t
        if best is None:
            best = t
    return None if best is None else best
