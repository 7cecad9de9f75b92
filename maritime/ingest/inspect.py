"""What an input holds, before it is replayed: its format, its sources, its time span, and how many of its lines
a replay accepts and rejects, by reason (``maritime inspect``); and, for an input nothing could be read from,
which format would read it."""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from maritime.config import Settings
from maritime.ingest.ais import AisDecoder
from maritime.ingest.decoders import first_timestamp, source_decoder
from maritime.ingest.errors import DecodeStats, Rejected
from maritime.ingest.formats import DESCRIPTIONS, FORMATS, BadRow, read_rows, resolve
from maritime.ingest.ordering import ordered_lines, ordered_records
from maritime.ingest.sources import SourceError, SourceSpec, open_binary
from maritime.models import iso

_STATION = re.compile(rb"[\\,]s:([^,*\\]+)")


@dataclass
class Inspection:
    """One input as a replay would read it."""

    file: str
    format: str
    lines: int = 0
    messages: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)
    vessels: int = 0
    first_time_s: float | None = None
    last_time_s: float | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"file": self.file, "format": self.format, "format_name": DESCRIPTIONS.get(self.format, self.format),
                "lines": self.lines, "messages": self.messages, "rejected": dict(sorted(self.rejected.items())),
                "sources": dict(sorted(self.sources.items(), key=lambda kv: -kv[1])), "vessels": self.vessels,
                "first_time": iso(self.first_time_s), "last_time": iso(self.last_time_s), "error": self.error}


def inspect_source(spec: SourceSpec, settings: Settings, default_time_s: float) -> Inspection:
    """Read one input as a replay would (no detector), counting what it holds."""
    spec = resolve(spec)
    out = Inspection(spec.target, spec.format)
    if spec.kind == "file" and not settings.ingest.start_time:
        default_time_s = first_timestamp(spec) or default_time_s
    stats = DecodeStats()
    mmsis: set[int] = set()
    times: list[float] = []

    def rejected(_rej: Rejected) -> None:
        pass

    try:
        if spec.kind == "csv":
            for records in ordered_records(spec, settings, default_time_s, rejected, stats):
                for r in records:
                    mmsis.add(r.mmsi)
                    out.sources[r.source] = out.sources.get(r.source, 0) + 1
                times.append(records[0].time_s)
        else:
            dec = source_decoder(settings, spec.name, default_time_s, rejected, stats)
            for _t, line, assigned in ordered_lines(spec, settings, default_time_s, rejected, stats):
                m = _STATION.search(line[:200]) if line.startswith(b"\\") else None
                station = m.group(1).decode("latin-1") if m else spec.name
                got = dec.decode_line(line, None, assigned)
                if got is not None and got[1]:
                    out.sources[station] = out.sources.get(station, 0) + 1
                    mmsis.update(r.mmsi for r in got[1])
                    times.append(got[1][0].time_s)
            dec.close()
    except SourceError as err:
        out.error = str(err)
    out.lines, out.messages = stats.lines, stats.messages
    out.rejected = {k: v for k, v in stats.rejected.items() if v}
    out.vessels = len(mmsis)
    if times:
        out.first_time_s, out.last_time_s = min(times), max(times)
    return out


def suggest_format(spec: SourceSpec, sample: int = 200) -> tuple[str, int] | None:
    """The format that reads the most of an input's first ``sample`` rows, and how many (None: none reads any)."""
    best: tuple[str, int] | None = None
    for fmt in FORMATS:
        if fmt == "nmea":
            n = _nmea_messages(spec, sample)
        else:
            try:
                rows = itertools.islice(read_rows(replace(spec, kind="csv", format=fmt), 0.0), sample)
                n = sum(1 for r in rows if not isinstance(r, BadRow))
            except (SourceError, ValueError, UnicodeError, OSError, EOFError, zlib.error):
                n = 0
        if n and (best is None or n > best[1]):
            best = (fmt, n)
    return best


def _nmea_messages(spec: SourceSpec, sample: int) -> int:
    dec = AisDecoder(spec.name, default_time_s=0.0)
    n = 0
    try:
        with open_binary(spec.target) as f:
            for line in itertools.islice(f, sample):
                got = dec.decode_line(line)
                n += bool(got and got[1])
    except (OSError, EOFError, zlib.error):
        return n
    return n


def inspect_sources(specs: Sequence[SourceSpec], settings: Settings, default_time_s: float) -> list[Inspection]:
    """Every input, one by one."""
    return [inspect_source(s, settings, default_time_s) for s in specs]


__all__ = ["Inspection", "inspect_source", "inspect_sources", "suggest_format"]
