"""AISHub's web service (data.aishub.net/ws.php): a snapshot of the latest report of each vessel, as JSON, CSV
or XML, in its ``human`` form (degrees, knots, ``2020-05-24 12:34:56 GMT``) or its ``AIS`` form (1/10,000
minute, 0.1 kn, 0.1°, POSIX times).

JSON: ``[{"ERROR": false, "FORMAT": "HUMAN", ...}, [{"MMSI": ..., "TIME": ..., "LONGITUDE": ...}, ...]]``;
CSV: the same upper-case names as a header; XML: ``<VESSELS><vessel MMSI="..." TIME="..." .../></VESSELS>``.
Snapshots taken every few minutes and concatenated make a track: a replay reads them in event-time order.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

from maritime.ingest.formats.csvtable import sniff_delimiter
from maritime.ingest.formats.table import BadRow, norm, num, row_records
from maritime.ingest.sources import SourceSpec, open_binary
from maritime.models import Record

NAME = "aishub"

_KEYS = {"mmsi", "time", "longitude", "latitude", "navstat"}


def detect_header(header: list[str]) -> bool:
    """Whether a CSV header is AISHub's (``MMSI,TIME,LONGITUDE,LATITUDE,...,NAVSTAT``)."""
    names = {norm(n) for n in header}
    return names >= _KEYS or {"mmsi", "time", "longitude", "latitude", "dest"} <= names


def detect_json(doc: Any) -> bool:
    """Whether a JSON document (or its first line) is AISHub's."""
    if isinstance(doc, list) and doc and isinstance(doc[0], dict) and "ERROR" in doc[0]:
        return True
    item = doc[0] if isinstance(doc, list) and doc and isinstance(doc[0], dict) else doc
    return isinstance(item, dict) and "MMSI" in item and ("LONGITUDE" in item or "TIME" in item)


def human(rec: dict[str, Any], raw: bool | None = None) -> dict[str, Any]:
    """An AISHub record as table fields, ``AIS``-form values scaled (``raw`` None: judged from the values)."""
    get = {norm(k): v for k, v in rec.items()}
    lat, lon = num(get.get("latitude")), num(get.get("longitude"))
    if raw is None:
        raw = (lat is not None and abs(lat) > 91) or (lon is not None and abs(lon) > 181)
    sog, cog = num(get.get("sog")), num(get.get("cog"))
    if raw:
        lat = None if lat is None else (91.0 if lat == 0x3412140 else lat / 600_000.0)
        lon = None if lon is None else (181.0 if lon == 0x6791AC0 else lon / 600_000.0)
        sog = None if sog is None or sog >= 1023 else sog / 10.0
        cog = None if cog is None or cog >= 3600 else cog / 10.0
    return {"mmsi": get.get("mmsi"), "time": get.get("time"), "lat": lat, "lon": lon, "sog": sog, "cog": cog,
            "heading": get.get("heading"), "status": get.get("navstat"), "name": get.get("name"),
            "callsign": get.get("callsign"), "imo": get.get("imo"), "ship_type": get.get("type"),
            "destination": get.get("dest"), "eta": get.get("eta"), "draught": num(get.get("draught")),
            "to_bow": get.get("a"), "to_stern": get.get("b"), "to_port": get.get("c"),
            "to_starboard": get.get("d")}


def _rows(items: list[Any], source: str, raw: bool | None) -> Iterator[list[Record] | BadRow]:
    for item in items:
        if not isinstance(item, dict):
            yield BadRow(str(item)[:500], "malformed", "not a vessel record")
            continue
        got, bad = row_records(human(item, raw), source)
        if bad is not None:
            yield BadRow(json.dumps(item)[:500], bad.reason, bad.message)
        else:
            yield got


def read(spec: SourceSpec, kind: str) -> Iterator[list[Record] | BadRow]:
    """The records of a snapshot (``kind``: ``json``, ``jsonl``, ``xml`` or ``csv``)."""
    with open_binary(spec.target) as raw_file:
        data = raw_file.read()
    if kind == "csv":
        text = data.decode("utf-8", "replace").lstrip("\ufeff")
        first = text.split("\n", 1)[0]
        yield from _rows(list(csv.DictReader(io.StringIO(text), delimiter=sniff_delimiter(first))), spec.name, None)
        return
    if kind == "xml":
        try:
            root = ElementTree.fromstring(data)
        except ElementTree.ParseError as err:
            yield BadRow(data[:200].decode("utf-8", "replace"), "malformed", f"not XML: {err}")
            return
        yield from _rows([dict(el.attrib) for el in root.iter() if "MMSI" in el.attrib], spec.name, None)
        return
    text = data.decode("utf-8", "replace")
    docs: list[Any] = []
    try:
        docs = [json.loads(text)]
    except ValueError:  # snapshots appended one a line
        for line in io.StringIO(text):
            if line.strip():
                try:
                    docs.append(json.loads(line))
                except ValueError as err:
                    yield BadRow(line.strip()[:500], "malformed", f"not JSON: {err}")
    for doc in docs:
        raw: bool | None = None
        items: list[Any]
        if isinstance(doc, list) and len(doc) == 2 and isinstance(doc[0], dict) and "ERROR" in doc[0]:
            if doc[0].get("ERROR"):
                yield BadRow(json.dumps(doc[0])[:500], "malformed", f"AISHub said: {doc[0].get('ERROR_MESSAGE')}")
                continue
            fmt = str(doc[0].get("FORMAT", "")).upper()
            raw = True if fmt == "AIS" else False if fmt == "HUMAN" else None
            items = doc[1] if isinstance(doc[1], list) else []
        elif isinstance(doc, list):
            items = doc
        else:
            items = [doc]
        yield from _rows(items, spec.name, raw)
