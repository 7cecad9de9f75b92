"""gpsd's AIS JSON (``gpspipe -w``, ``gpsdecode``): one object per line, ``"class": "AIS"``.

Values are scaled (``"scaled": true``: degrees, knots) or raw AIS units (1/10,000 minute, 0.1 kn, 0.1°). gpsd
gives no time for an AIS report: its time is the time it was received, that of the gpsd ``TPV`` report
before it when the log has one, else the run's start time (``[ingest] start_time``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from maritime.ingest.formats.table import BadRow, json_lines, parse_time, row_records
from maritime.ingest.sources import SourceSpec
from maritime.models import Record

NAME = "gpsd"


def detect(first: dict[str, Any]) -> bool:
    """Whether a JSON line is a gpsd report (AIS, or the TPV/VERSION/DEVICES lines of a gpsd log)."""
    cls = first.get("class")
    if cls == "AIS":
        return "rxtime" not in first and "rxuxtime" not in first and "nmea" not in first
    return cls in ("VERSION", "DEVICES", "WATCH", "TPV", "SKY", "DEVICE")


def fields(obj: dict[str, Any]) -> dict[str, Any]:
    """A gpsd (or AIS-catcher) AIS object as the table fields of :mod:`maritime.ingest.formats.table`."""
    scaled = bool(obj.get("scaled", True))

    def scale(key: str, div: float) -> Any:
        v = obj.get(key)
        if v is None or scaled or not isinstance(v, (int, float)):
            return v
        return v / div

    lat, lon = scale("lat", 600_000.0), scale("lon", 600_000.0)
    if not scaled:
        if obj.get("lat") == 0x3412140:
            lat = 91
        if obj.get("lon") == 0x6791AC0:
            lon = 181
    speed = obj.get("speed")
    if not scaled and isinstance(speed, (int, float)):
        speed = None if speed >= 1023 else speed / 10.0
    course = obj.get("course")
    if not scaled and isinstance(course, (int, float)):
        course = None if course >= 3600 else course / 10.0
    return {
        "mmsi": obj.get("mmsi"), "type": obj.get("type"), "lat": lat, "lon": lon, "sog": speed, "cog": course,
        "heading": obj.get("heading"), "status": obj.get("status"), "name": obj.get("shipname"),
        "callsign": obj.get("callsign"), "imo": obj.get("imo"), "ship_type": obj.get("shiptype"),
        "destination": obj.get("destination"), "eta": obj.get("eta"), "draught": obj.get("draught"),
        "to_bow": obj.get("to_bow"), "to_stern": obj.get("to_stern"), "to_port": obj.get("to_port"),
        "to_starboard": obj.get("to_starboard"),
    }


def read(spec: SourceSpec, default_time_s: float | None) -> Iterator[list[Record] | BadRow]:
    """The records of every AIS line; the time of the last TPV report seen, else ``default_time_s``."""
    now = default_time_s
    for obj in json_lines(spec.target):
        if isinstance(obj, BadRow):
            yield obj
            continue
        if obj.get("class") == "TPV" and obj.get("time"):
            now = parse_time(obj["time"]) or now
            continue
        if obj.get("class") != "AIS":
            continue
        records, bad = row_records(fields(obj), spec.name, now)
        if bad is not None:
            yield BadRow(json.dumps(obj)[:500], bad.reason, bad.message)
            continue
        yield records
