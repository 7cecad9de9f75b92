"""What every reader of decoded AIS (tables and JSON) shares: column names, times, and a row into records.

A row is a mapping of field names to text. :class:`Columns` finds each field the project reads under the
names exports give it (``BaseDateTime``, ``base_date_time``, ``TIMESTAMP_UTC``, ``Time``, ...; case and
punctuation ignored); :func:`row_records` makes the records of one row, by message type when the export
says it (``Message_ID``, ``msg_type``, ``type``): position reports (1, 2, 3, 18, 19, 27) give a
:class:`~maritime.models.Position`, static reports (5, 19, 24) and rows that carry a name, call sign, IMO
or ship type give a :class:`~maritime.models.VesselInfo`, base stations (4, 11) a
:class:`~maritime.models.BaseStationReport` and aids to navigation (21) and other types an
:class:`~maritime.models.OtherMessage`, so that none of them becomes a vessel track. "Not available" values
(91, 181, 102.3, 360, 511) become None; a row that cannot be used is a :class:`BadRow` with its reason.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from maritime.destination import resolve_eta
from maritime.ingest.sources import open_binary
from maritime.models import BaseStationReport, OtherMessage, Position, Record, VesselInfo, valid_time

#: the fields a reader looks for, each under the names exports give it (normalised: lower case, letters and
#: digits only)
FIELDS: dict[str, tuple[str, ...]] = {
    "mmsi": ("mmsi", "userid", "sourcemmsi", "mmsinumber", "shipid"),
    "time": ("basedatetime", "timestamputc", "timestamp", "time", "datetime", "tsposutc", "tsstaticutc",
             "msgtime", "receivedat", "rxtime", "utc", "epoch", "postime", "timeutc", "datetimeutc", "date"),
    "lat": ("lat", "latitude", "y"),
    "lon": ("lon", "long", "longitude", "x"),
    "sog": ("sog", "speed", "speedoverground", "speedknots"),
    "cog": ("cog", "course", "courseoverground"),
    "heading": ("heading", "trueheading", "hdg", "truehdg"),
    "status": ("status", "navstatus", "navigationalstatus", "navstat", "navigationstatus"),
    "type": ("messageid", "msgtype", "messagetype", "msgid", "type", "aismessagetype", "messagetypeid"),
    "name": ("vesselname", "shipname", "name", "vessel"),
    "callsign": ("callsign", "callsignal"),
    "imo": ("imo", "imonumber", "imonum"),
    "ship_type": ("vesseltype", "shiptype", "aisshiptype", "typeofship", "shipandcargotype", "shipandcargo",
                  "shiptypeid"),
    "length": ("length", "shiplength", "lengthm"),
    "width": ("width", "beam", "shipwidth", "widthm"),
    "draught": ("draft", "draught", "maxdraught", "draughtm"),
    "destination": ("destination", "dest"),
    "eta": ("eta", "estimatedtimearrival", "estimatedtimeofarrival"),
    "to_bow": ("tobow", "refa", "dima", "a", "dimensiontobow"),
    "to_stern": ("tostern", "refb", "dimb", "b", "dimensiontostern"),
    "to_port": ("toport", "refc", "dimc", "c", "dimensiontoport"),
    "to_starboard": ("tostarboard", "refd", "dimd", "d", "dimensiontostarboard"),
    "transceiver": ("transceiverclass", "transceiver", "transcieverclass", "class", "aisclass", "typeofmobile"),
    "source": ("source", "receiver", "station", "receiverid", "stationid", "datasourcetype", "collectiontype",
               "datasource", "sourceid"),
    "second": ("utcsecond", "second", "timestampsecond"),
}


def norm(name: str) -> str:
    """A column name as :data:`FIELDS` writes it: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


class Columns:
    """Which column holds each field, from a header (a list of names) or a record's keys."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = list(names)
        normed = {norm(n): i for i, n in reversed(list(enumerate(self.names)))}
        self.index: dict[str, int] = {}
        for key, aliases in FIELDS.items():
            for a in aliases:
                if a in normed:
                    self.index[key] = normed[a]
                    break
        if "time" not in self.index:  # "# Timestamp", "Time (UTC)": any column named for a time
            for i, n in enumerate(self.names):
                if "time" in norm(n) and "eta" not in norm(n):
                    self.index["time"] = i
                    break

    def has(self, *keys: str) -> bool:
        """Whether every field of ``keys`` has a column."""
        return all(k in self.index for k in keys)

    def missing(self, *keys: str) -> list[str]:
        """The fields of ``keys`` with no column."""
        return [k for k in keys if k not in self.index]

    def mapping(self, row: list[str]) -> dict[str, str]:
        """The row's text by field."""
        return {k: row[i] for k, i in self.index.items() if i < len(row)}


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that could not be used: its text, the reason (a ``rejected`` key) and a message."""

    text: str
    reason: str
    message: str


def num(v: Any) -> float | None:
    """A number from a field's text (None for empty, unreadable, NaN or infinite)."""
    if v is None:
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        x = float(v)
    else:
        t = str(v).strip()
        if not t:
            return None
        try:
            x = float(t.replace(",", ".") if t.count(",") == 1 and "." not in t else t)
        except ValueError:
            return None
    return x if math.isfinite(x) else None


_TIME_FORMATS = ("%Y%m%d_%H%M%S", "%Y%m%d%H%M%S", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y/%m/%d %H:%M:%S",
                 "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%d-%m-%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S %Z")


def parse_time(v: Any) -> float | None:
    """POSIX seconds from the times exports write: ISO 8601 (``T`` or a space, with or without zone: UTC),
    epochs in seconds or milliseconds, ``20120202_112345`` (exactEarth), ``31/12/2015 23:59:59`` (DMA),
    ``2020-05-24 12:34:56 GMT`` (AISHub); None when it is none of them."""
    if v is None:
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        x = float(v)
        return x / 1000.0 if x > 1e11 else x
    t = str(v).strip()
    if not t:
        return None
    if t.replace(".", "", 1).isdigit() and len(t) >= 9 and not (len(t) == 14 and t.startswith(("19", "20"))):
        x = float(t)
        return x / 1000.0 if x > 1e11 else x
    text = t.replace("Z", "+00:00").replace(" UTC", "+00:00").replace(" GMT", "+00:00")
    dt: datetime | None = None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        for fmt in _TIME_FORMATS:
            try:
                dt = datetime.strptime(t, fmt)
                break
            except ValueError:
                continue
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def text_of(v: Any) -> str | None:
    """A text field without its ``@`` padding and blanks (None when empty)."""
    if v is None:
        return None
    t = str(v).replace("@", " ").strip()
    return t or None


def _int(v: Any) -> int | None:
    x = num(v)
    return int(x) if x is not None and x == int(x) else None


POSITION_TYPES = frozenset((1, 2, 3, 18, 19, 27))
STATIC_TYPES = frozenset((5, 19, 24))
BASE_STATION_TYPES = frozenset((4, 11))
CLASS_B_WORDS = ("B", "CLASSB", "CLASS B", "CLASS B AIS", "CLASS B AIS VESSEL")


def row_records(row: Mapping[str, Any], source: str, default_time_s: float | None = None,
                msg_type: int | None = None) -> tuple[list[Record], BadRow | None]:
    """The records of one row (by field, as :class:`Columns` maps it) and a :class:`BadRow` if it is unusable.

    ``msg_type``: the row's AIS message type when the export does not say it per row. ``default_time_s``: the
    time of a row without one (None: such a row is bad)."""
    def bad(reason: str, message: str) -> tuple[list[Record], BadRow]:
        text = ",".join(f"{k}={v}" for k, v in row.items() if v not in (None, ""))[:500]
        return [], BadRow(text, reason, message)

    mmsi = _int(row.get("mmsi"))
    if mmsi is None or mmsi <= 0:
        return bad("malformed", f"no MMSI ({row.get('mmsi')!r})")
    t = parse_time(row.get("time")) if row.get("time") not in (None, "") else default_time_s
    if t is None:
        return bad("bad_time", f"unreadable time {row.get('time')!r}")
    if not valid_time(t):
        return bad("bad_time", f"time {row.get('time')!r} is outside 2000–2099")
    mt = _int(row.get("type")) if row.get("type") not in (None, "") else msg_type
    if mt is not None and not 1 <= mt <= 27:  # a bare "type" column that holds ship types, not message types
        mt = msg_type
    src = text_of(row.get("source")) or source
    out: list[Record] = []
    lat, lon = num(row.get("lat")), num(row.get("lon"))
    has_position = lat is not None and lon is not None and not (lat == 91 or lon == 181)
    mobile = (text_of(row.get("transceiver")) or "").upper()
    if mt is None and "BASE" in mobile:
        mt = 4
    elif mt is None and ("ATON" in mobile or "AID" in mobile):
        mt = 21
    if mt in BASE_STATION_TYPES:
        return [BaseStationReport(mmsi=mmsi, time_s=t, lat=lat if has_position else None,
                                  lon=lon if has_position else None, station_utc_s=None, msg_type=mt,
                                  source=src)], None
    if mt is not None and mt not in POSITION_TYPES and mt not in STATIC_TYPES:
        return [OtherMessage(mmsi=mmsi, time_s=t, msg_type=mt, source=src)], None
    lat_text, lon_text = str(row.get("lat") or "").strip(), str(row.get("lon") or "").strip()
    if (mt is None or mt in POSITION_TYPES) and (lat_text or lon_text) and (lat is None or lon is None):
        return bad("out_of_range", f"position unreadable: {lat_text!r}, {lon_text!r}")
    if (mt is None or mt in POSITION_TYPES) and lat is not None and lon is not None:
        if not has_position:
            if mt in POSITION_TYPES and mt != 19:
                return bad("no_position", "position report with position not available")
        elif not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return bad("out_of_range", f"position out of range: {lat}, {lon}")
        else:
            sog, cog = num(row.get("sog")), num(row.get("cog"))
            hdg, st = num(row.get("heading")), num(row.get("status"))
            cls_b = mobile in CLASS_B_WORDS
            kind = mt if mt is not None else (18 if cls_b else 1)
            out.append(Position(
                mmsi=mmsi, time_s=t, lat=lat, lon=lon,
                sog_kn=None if sog is None or sog >= 102.3 or sog < 0 else sog,
                cog_deg=None if cog is None or cog >= 360 or cog < 0 else cog,
                heading_deg=None if hdg is None or hdg >= 360 or hdg < 0 else int(hdg),
                nav_status=None if st is None or st >= 15 or st < 0 or kind in (18, 19) else int(st),
                msg_type=kind, source=src))
    info = static_info(row, mmsi, t, src, mt)
    if info is not None:
        out.append(info)
    if not out:
        if mt in POSITION_TYPES:
            return bad("no_position", "position report without a position")
        return bad("malformed", "neither a position nor static data")
    return out, None


def static_info(row: Mapping[str, Any], mmsi: int, t: float, source: str, mt: int | None) -> VesselInfo | None:
    """The static data of a row (None when it carries none)."""
    imo_txt = (text_of(row.get("imo")) or "").upper().replace("IMO", "").strip()
    imo = int(imo_txt) if imo_txt.isdigit() and int(imo_txt) else None
    ship_type = _int(row.get("ship_type"))
    name, callsign = text_of(row.get("name")), text_of(row.get("callsign"))
    dest = text_of(row.get("destination"))
    bow, stern = _int(row.get("to_bow")), _int(row.get("to_stern"))
    port, starboard = _int(row.get("to_port")), _int(row.get("to_starboard"))
    length, width = num(row.get("length")), num(row.get("width"))
    if bow is None and stern is None and length:
        bow, stern = int(length / 2), int(length - int(length / 2))
    if port is None and starboard is None and width:
        port, starboard = int(width / 2), int(width - int(width / 2))
    draught = num(row.get("draught"))
    fields = (name, callsign, imo, ship_type or None, dest, bow, stern, port, starboard, draught or None)
    if all(f is None for f in fields):
        return None
    eta = _eta(row.get("eta"), t)
    return VesselInfo(mmsi=mmsi, time_s=t, name=name, callsign=callsign, imo=imo, ship_type=ship_type or None,
                      to_bow_m=bow, to_stern_m=stern, to_port_m=port, to_starboard_m=starboard,
                      draught_m=draught or None, destination=dest,
                      msg_type=mt if mt in STATIC_TYPES else 5, source=source, eta_s=eta)


def _eta(v: Any, t: float) -> float | None:
    """An ETA as exports write it: a full time, or ``MM-DD HH:MM`` / ``MMDDHHMM`` without a year."""
    if v in (None, ""):
        return None
    full = parse_time(v)
    if full is not None and valid_time(full):
        return full
    digits = re.findall(r"\d+", str(v))
    if len(digits) == 4:
        mo, d, h, mi = (int(x) for x in digits)
        return resolve_eta(mo, d, h, mi, t)
    return None


def dedup_static(records: Iterable[Record]) -> Iterator[Record]:
    """Static reports only when what a vessel declares changes (tables repeat it on every row); records in
    event-time order in, the same order out."""
    last: dict[int, tuple[Any, ...]] = {}
    for rec in records:
        if isinstance(rec, VesselInfo):
            key = (rec.name, rec.callsign, rec.imo, rec.ship_type, rec.destination, rec.to_bow_m, rec.to_stern_m,
                   rec.to_port_m, rec.to_starboard_m, rec.draught_m)
            if last.get(rec.mmsi) == key:
                continue
            last[rec.mmsi] = key
        yield rec


def json_lines(spec_target: str) -> Iterator[dict[str, Any] | BadRow]:
    """The objects of a JSON-lines file (gunzipped), or a :class:`BadRow` for a line that is not one."""
    with open_binary(spec_target) as raw:
        for line in io.TextIOWrapper(raw, encoding="utf-8", errors="replace"):
            text = line.strip()
            if not text:
                continue
            try:
                obj = json.loads(text)
            except ValueError as err:
                yield BadRow(text[:500], "malformed", f"not JSON: {err}")
                continue
            yield obj if isinstance(obj, dict) else BadRow(text[:500], "malformed", "not a JSON object")
