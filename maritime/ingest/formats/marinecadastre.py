"""MarineCadastre / NOAA AIS tables (marinecadastre.gov, every column set since 2009).

``MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,
Cargo[,TransceiverClass]`` (2009–2023; "TranscieverClass" as some years spell it) and the lower-case
``mmsi,base_date_time,longitude,latitude,...,transceiver`` of the newer exports. Times are UTC; a row is one
position, its static columns repeated (they become a static report when they change). Exports are grouped by
MMSI or cut by zone and day: a replay reads them in event-time order.
"""

from __future__ import annotations

from collections.abc import Iterator

from maritime.ingest.formats.csvtable import read_table
from maritime.ingest.formats.table import BadRow, norm
from maritime.ingest.sources import SourceSpec
from maritime.models import Record

NAME = "marinecadastre"


def detect(header: list[str]) -> bool:
    """Whether a table's header is MarineCadastre's."""
    names = {norm(n) for n in header}
    return "basedatetime" in names and "mmsi" in names


def read(spec: SourceSpec) -> Iterator[list[Record] | BadRow]:
    """The records of every row (or why it is bad)."""
    return read_table(spec, "MarineCadastre table")
