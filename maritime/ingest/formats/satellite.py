"""Satellite AIS exports (Spire Maritime, exactEarth): one row per decoded message, with its message type.

exactEarth's CSV (about 150 columns: ``MMSI,Message_ID,Repeat_indicator,Time,...,Longitude,Latitude,...``,
times as ``20120202_112345``) and Spire's (``msg_type``/``message_type``, ``timestamp`` in ISO 8601) carry
every message type in one table: position reports (1, 2, 3, 18, 19, 27) become positions, static reports (5,
24; rows without a position) static data, and base stations (4, 11) and aids to navigation (21) are kept out
of the vessel tracks. Rows come in delivery order, often hours out of step: a replay reads them in
event-time order.
"""

from __future__ import annotations

from collections.abc import Iterator

from maritime.ingest.formats.csvtable import read_table
from maritime.ingest.formats.table import BadRow, norm
from maritime.ingest.sources import SourceSpec
from maritime.models import Record

NAME = "satellite"

_TYPE_COLUMNS = {"messageid", "msgtype", "messagetype", "msgid", "aismessagetype", "messagetypeid"}


def detect(header: list[str]) -> bool:
    """Whether a table's header is a satellite export's (an MMSI and a message type per row)."""
    names = {norm(n) for n in header}
    return "mmsi" in names and bool(names & _TYPE_COLUMNS)


def read(spec: SourceSpec) -> Iterator[list[Record] | BadRow]:
    """The records of every row, by message type."""
    return read_table(spec, "satellite export")
