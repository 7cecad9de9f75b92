"""Why a run decoded nothing, as far as its rejections and its first line tell (one sentence for the user)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from maritime.ingest.inspect import suggest_format
from maritime.ingest.sources import SourceSpec
from maritime.redact import redact


def nothing_decoded(summary: dict[str, Any], specs: Sequence[SourceSpec]) -> str:
    """The reason a run with lines but no message gives: the commonest rejection, and the first line seen."""
    rejected: dict[str, int] = summary.get("rejected") or {}
    top = max(rejected, key=lambda k: rejected[k]) if rejected else None
    table = next((s for s in specs if s.kind == "csv"), None)
    if table is not None and not any(s.kind == "file" for s in specs):
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(rejected.items())) or "none"
        return (f"nothing decoded: every row of {table.target} was refused ({reasons}); --dead-letter FILE "
                "writes each row with its reason")
    sample = ""
    first = next((s for s in specs if s.kind == "file"), None)
    if first is not None:
        try:
            with open(first.target, "rb") as fh:
                head = fh.read(200).splitlines()
            line = next((ln for ln in head if ln.strip()), b"")
            sample = f"; its first line begins {redact(line[:60].decode('utf-8', 'replace'))!r}"
        except OSError:
            pass
    where = first.target if first is not None else "the input"
    hint = ""
    if first is not None:
        best = suggest_format(first)
        if best is not None and best[0] != (first.format or "nmea"):
            hint = (f"; it reads as {best[0]} ({best[1]} of its first rows): maritime replay {first.target} "
                    f"--format {best[0]}")
    if top == "bad_checksum":
        return (f"nothing decoded: every sentence failed its checksum (the file may be damaged or "
                f"re-encoded){sample}{hint}")
    if top in ("bad_time", "time_outlier"):
        return f"nothing decoded: the lines' times cannot be used ({top}); see --dead-letter FILE for each line"
    if top == "orphan_fragment":
        return "nothing decoded: the multipart messages never complete (fragments missing or out of order)"
    return (f"nothing decoded: {where} holds no AIS sentences (!AIVDM/!AIVDO lines, with or without tag blocks or "
            f"a time before them) and no table or JSON a reader knows{sample}{hint}. 'maritime inspect FILE' "
            "says what it holds; --format reads it as nmea, aiscatcher, gpsd, aishub, marinecadastre, satellite "
            "or csv")
