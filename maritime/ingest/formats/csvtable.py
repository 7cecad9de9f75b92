"""Delimited tables of decoded AIS (CSV, semicolon or tab separated; plain or gzip), read row by row.

The dialect modules (:mod:`~maritime.ingest.formats.marinecadastre`, :mod:`~maritime.ingest.formats.satellite`,
:mod:`~maritime.ingest.formats.aishub`) say which header they recognise and what their rows need; this one
reads any of them, and any other table whose header names an MMSI, a time and a position (the Danish
Maritime Authority's, a coast guard's own export).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from maritime.ingest.formats.table import BadRow, Columns, row_records
from maritime.ingest.sources import SourceError, SourceSpec, open_binary
from maritime.models import Record


def sniff_delimiter(header: str) -> str:
    """The delimiter of a header line: the most frequent of comma, semicolon, tab and pipe."""
    return max((",", ";", "\t", "|"), key=header.count)


def header_of(lines: list[str]) -> list[str] | None:
    """The column names of a table's first line (None when it has fewer than three columns)."""
    if not lines:
        return None
    first = lines[0].lstrip("\ufeff")
    names = next(csv.reader([first], delimiter=sniff_delimiter(first)))
    return [n.strip().lstrip("#").strip() for n in names] if len(names) >= 3 else None


def read_table(spec: SourceSpec, what: str = "table") -> Iterator[list[Record] | BadRow]:
    """Every row's records (or a :class:`BadRow`); :class:`SourceError` when the header lacks the MMSI, time or
    position columns (``what`` names the dialect in that message)."""
    with open_binary(spec.target) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        first = text.readline()
        if not first:
            return
        first = first.lstrip("\ufeff")
        delimiter = sniff_delimiter(first)
        names = [n.strip().lstrip("#").strip() for n in next(csv.reader([first], delimiter=delimiter))]
        cols = Columns(names)
        missing = cols.missing("mmsi", "time")
        if missing or not (cols.has("lat", "lon") or cols.has("name") or cols.has("ship_type")):
            raise SourceError(f"{spec.target}: this {what} lacks the column(s) "
                              f"{', '.join(missing) or 'LAT, LON'} (its header: {', '.join(names[:12])})")
        reader = csv.reader(text, delimiter=delimiter)
        name = spec.name
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as err:  # a NUL byte, a field over the limit: that row only
                yield BadRow("", "malformed", f"line {reader.line_num}: {err}")
                continue
            if not row or not any(c.strip() for c in row):
                continue
            records, bad = row_records(cols.mapping(row), name)
            if bad is not None:
                yield BadRow(delimiter.join(row)[:500], bad.reason, bad.message)
                continue
            yield records
