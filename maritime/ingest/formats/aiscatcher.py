"""AIS-catcher's JSON (``-o 5``, its JSON over UDP/TCP/HTTP, ``-j``): one object per message.

With ``"nmea"`` (the default) the sentences themselves are decoded, as any NMEA line is, at the time the
object was received (``rxuxtime``, else ``rxtime`` as ``YYYYMMDDHHMMSS``, UTC); without them the decoded
fields are read as gpsd writes them (:mod:`maritime.ingest.formats.gpsd`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from maritime.ingest.ais import AisDecoder
from maritime.ingest.errors import Rejected
from maritime.ingest.formats.gpsd import fields
from maritime.ingest.formats.table import BadRow, json_lines, parse_time, row_records
from maritime.ingest.sources import SourceSpec
from maritime.models import Record

NAME = "aiscatcher"


def detect(first: dict[str, Any]) -> bool:
    """Whether a JSON line is AIS-catcher's."""
    return first.get("class") == "AIS" and (
        "rxtime" in first or "rxuxtime" in first or "nmea" in first or first.get("device") == "AIS-catcher")


def received(obj: dict[str, Any]) -> float | None:
    """When AIS-catcher received the message (POSIX s)."""
    if isinstance(obj.get("rxuxtime"), (int, float)):
        return float(obj["rxuxtime"])
    return parse_time(obj.get("rxtime"))


def read(spec: SourceSpec, default_time_s: float | None) -> Iterator[list[Record] | BadRow]:
    """The records of every object (its sentences decoded), or why it is bad."""
    refused: list[Rejected] = []
    dec = AisDecoder(spec.name, default_time_s=default_time_s, on_reject=refused.append)
    for obj in json_lines(spec.target):
        if isinstance(obj, BadRow):
            yield obj
            continue
        if obj.get("class") != "AIS":
            yield BadRow(json.dumps(obj)[:500], "malformed", "not an AIS-catcher message")
            continue
        t = received(obj)
        sentences = obj.get("nmea")
        if isinstance(sentences, list) and sentences:
            records: list[Record] = []
            for s in sentences:
                out = dec.decode_line(str(s).encode("latin-1", "replace"), t)
                if out is not None:
                    records.extend(out[1])
            for rej in refused:
                yield BadRow(rej.line, rej.reason, rej.message)
            refused.clear()
            if records:
                yield records
            continue
        got, bad = row_records(fields(obj), spec.name, t if t is not None else default_time_s)
        yield got if bad is None else BadRow(json.dumps(obj)[:500], bad.reason, bad.message)
