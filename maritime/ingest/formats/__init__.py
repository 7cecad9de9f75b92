"""The formats of the field, each read by a module of its own into the records the NMEA decoder gives.

========================  =====================================================================
``nmea``                  NMEA 0183 (``!AIVDM``/``!AIVDO`` with tag blocks, ``$PGHP``, epochs): the decoder
``aiscatcher``            AIS-catcher JSON (:mod:`.aiscatcher`)
``gpsd``                  gpsd JSON, ``class: AIS`` (:mod:`.gpsd`)
``aishub``                AISHub web-service JSON, CSV and XML snapshots (:mod:`.aishub`)
``marinecadastre``        MarineCadastre / NOAA CSV (:mod:`.marinecadastre`)
``satellite``             Spire and exactEarth CSV exports, by message type (:mod:`.satellite`)
``csv``                   any other table naming an MMSI, a time and a position (:mod:`.csvtable`)
========================  =====================================================================

:func:`detect` tells the format from a file's first lines; ``--format`` forces one. Every reader but NMEA
yields the records of each row (or a :class:`~maritime.ingest.formats.table.BadRow` with its reason);
:func:`read_rows` picks the reader.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import replace

from maritime.ingest.formats import aiscatcher, aishub, csvtable, gpsd, marinecadastre, satellite
from maritime.ingest.formats.table import BadRow, Columns
from maritime.ingest.sources import SourceError, SourceSpec, open_binary
from maritime.models import Record

#: every format a source may be read as, NMEA first
FORMATS = ("nmea", "aiscatcher", "gpsd", "aishub", "marinecadastre", "satellite", "csv")

#: what each format is, in the words of ``maritime inspect`` and the errors
DESCRIPTIONS = {
    "nmea": "NMEA 0183 AIS sentences (tag blocks, $PGHP, epochs)",
    "aiscatcher": "AIS-catcher JSON",
    "gpsd": "gpsd JSON (class AIS)",
    "aishub": "AISHub web-service snapshot (JSON, CSV or XML)",
    "marinecadastre": "MarineCadastre / NOAA CSV",
    "satellite": "Spire / exactEarth satellite CSV export",
    "csv": "a CSV table of decoded positions",
}


def head_lines(path: str, n: int = 20, max_bytes: int = 65_536) -> list[str]:
    """The first ``n`` non-empty lines of a file (gunzipped), as text."""
    try:
        with open_binary(path) as f:
            data = f.read(max_bytes)
    except (OSError, EOFError, zlib.error):  # unreadable or damaged: the reader says so, line by line
        return []
    lines = [ln.strip() for ln in data.decode("utf-8", "replace").splitlines()]
    return [ln for ln in lines if ln][:n]


def _is_nmea(line: str) -> bool:
    return any(tag in line for tag in ("VDM,", "VDO,", "$PGHP", "!AI", "!BS", "!AB")) or line.startswith("\\")


def detect(path: str) -> str:
    """The format of a file, from its first lines (``nmea`` when nothing else fits: the decoder then says,
    line by line, what it could not read)."""
    lines = head_lines(path)
    if not lines:
        return "nmea"
    first = lines[0].lstrip("\ufeff")
    if first.startswith("{"):
        try:
            obj = json.loads(first)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            if aiscatcher.detect(obj):
                return "aiscatcher"
            if gpsd.detect(obj):
                return "gpsd"
            if aishub.detect_json(obj):
                return "aishub"
    if first.startswith("["):
        doc: object = None
        try:
            doc = json.loads(first)  # one document a line
        except ValueError:
            try:  # one document over many lines
                with open_binary(path) as f:
                    doc = json.load(io.TextIOWrapper(f, encoding="utf-8", errors="replace"))
            except (ValueError, OSError, EOFError, zlib.error):
                doc = None
        if doc is not None and aishub.detect_json(doc):
            return "aishub"
    if first.startswith("<") and ("vessel" in " ".join(lines).lower()):
        return "aishub"
    if sum(_is_nmea(ln) for ln in lines) * 2 >= len(lines):
        return "nmea"
    header = csvtable.header_of([first])
    if header:
        if marinecadastre.detect(header):
            return "marinecadastre"
        if satellite.detect(header):
            return "satellite"
        if aishub.detect_header(header):
            return "aishub"
        cols = Columns(header)
        if cols.has("mmsi", "time") and (cols.has("lat", "lon") or cols.has("name")):
            return "csv"
    return "nmea"


def resolve(spec: SourceSpec) -> SourceSpec:
    """The spec with its format told (from its first lines when not given) and its kind to match: ``file``
    for NMEA, ``csv`` for every decoded format. Network feeds and standard input are NMEA."""
    if spec.kind not in ("file", "csv"):
        return spec if spec.format else replace(spec, format="nmea")
    fmt = spec.format or detect(spec.target)
    return replace(spec, kind="file" if fmt == "nmea" else "csv", format=fmt)


def read_rows(spec: SourceSpec, default_time_s: float | None = None) -> Iterator[list[Record] | BadRow]:
    """The records of each row of a decoded source (any format but NMEA), or why a row is bad."""
    if not spec.format:
        spec = resolve(spec)
    fmt = spec.format
    if fmt == "aiscatcher":
        return aiscatcher.read(spec, default_time_s)
    if fmt == "gpsd":
        return gpsd.read(spec, default_time_s)
    if fmt == "aishub":
        first = (head_lines(spec.target, 1) or [""])[0].lstrip("\ufeff")
        kind = "xml" if first.startswith("<") else "json" if first.startswith(("[", "{")) else "csv"
        return aishub.read(spec, kind)
    if fmt == "marinecadastre":
        return marinecadastre.read(spec)
    if fmt == "satellite":
        return satellite.read(spec)
    if fmt == "csv":
        return csvtable.read_table(spec)
    raise SourceError(f"{spec.target}: no reader for the format {fmt!r} (one of {', '.join(FORMATS)})", usage=True)


__all__ = ["DESCRIPTIONS", "FORMATS", "BadRow", "detect", "head_lines", "read_rows", "resolve"]
