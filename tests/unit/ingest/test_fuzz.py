"""Fuzzing the crash-proof boundary (bounded hypothesis runs): mutated real lines, random bytes, time outliers.

No input line raises past the decoder, every line is counted, every record it lets through has a time that can
be written and a position on the globe, and a whole replay of such a file ends with a summary.
"""

from __future__ import annotations

import json
import logging

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from maritime.config import Settings
from maritime.ingest.ais import AisDecoder
from maritime.ingest.sources import parse_source
from maritime.models import Position, iso
from maritime.runtime.assembly import Assembly
from maritime.runtime.pipeline import Pipeline
from tests.conftest import TYPE1, TYPE5, TYPE18, Collect, tag

REAL = [
    TYPE1, TYPE18, *TYPE5,
    tag("s:rx1,c:1747209600") + TYPE1,
    b"2025-05-14T08:00:00Z " + TYPE1,
    TYPE1 + b",1747209600",
    b"$PGHP,1,2025,05,14,08,00,00,0,,,,,,*1C",
    b"!AIVDM,1,1,1,,13aI8e?P00PGpU:NR6s00?vT2000,0,0*1C",
    tag("c:4000000000") + TYPE1, tag("c:315532800") + TYPE1,  # far future, 1980
    b"0001-01-01T00:00:00+01:00 " + TYPE1, b"9999-12-31T23:59:59-01:00 " + TYPE1,
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real line with a few bytes flipped, inserted, deleted or cut, or plain random bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(min_size=1, max_size=200))
    line = bytearray(draw(st.sampled_from(REAL)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.integers(0, 3))
        i = draw(st.integers(0, max(0, len(line) - 1)))
        if op == 0 and line:
            line[i] = draw(st.integers(0, 255))
        elif op == 1:
            line.insert(i, draw(st.sampled_from(b",*\\!$:0123456789AZaz\x00\xff")))
        elif op == 2 and len(line) > 1:
            del line[i]
        else:
            line = line[:max(1, i)]
    return bytes(line)


def check_record(rec: object) -> None:
    t = getattr(rec, "time_s", None)
    if t is not None:
        assert iso(t)  # writable
    if isinstance(rec, Position):
        assert -90 <= rec.lat <= 90 and -180 <= rec.lon <= 180


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(mutated(), min_size=1, max_size=40))
def test_no_line_raises_past_the_decoder_and_every_line_is_counted(lines):
    rejected: list = []
    dec = AisDecoder("fuzz", on_reject=rejected.append, default_time_s=1_747_209_600.0)
    logger = logging.getLogger("maritime.ingest.ais")
    errors: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = lambda r: errors.append(r) if r.exc_info else None  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        for line in lines:
            out = dec.decode_line(line)
            for rec in (out[1] if out else []):
                check_record(rec)
        dec.close()
    finally:
        logger.removeHandler(handler)
    assert dec.stats.lines == sum(1 for ln in lines if ln.strip())  # blank lines are not lines
    assert errors == []  # no traceback logged: every rejection is a typed reason
    assert all(r.reason and r.message for r in rejected)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(lines=st.lists(mutated(), min_size=1, max_size=60))
@example(lines=[b"$PGHP,1,2025,05,14,08,00,00,0,,,,,,1C", b"$PGHP,1,2025,05,14,08,00,00,0,,,,,,\x001C"])  # two in a row
@example(lines=[b"$PGHP,1,\x00025,05,14,08,00,00,0", b"\x00"])  # a line refused right after a $PGHP line
def test_a_replay_of_a_mutated_file_ends_with_a_summary(tmp_path_factory, lines):
    f = tmp_path_factory.mktemp("fuzz") / "mutated.nmea"
    lines = [ln.replace(b"\n", b" ").replace(b"\r", b" ") for ln in lines]
    f.write_bytes(b"\n".join(lines) + b"\n")
    s = Settings.model_validate({"identity": {"land_check": False}})
    sink = Collect()
    summary = Pipeline(s, assembly=Assembly(s), sinks=[sink]).replay(parse_source(str(f)))
    json.dumps(summary)
    assert summary["lines"] == sum(1 for ln in lines if ln.strip())
    for a in sink.alerts:
        json.dumps(a.as_dict())
