"""The typed core's line decoder and static-report reader (``maritime/core/lines.pyx``) against the pure-Python
decoder and pyais they stand in for: the same records, the same counters, the same dead letters, on every
recording and on mutated lines.

These run where the core is built (``pip install .``, or ``MARITIME_COMPILE=1 pip install -e .`` as in
``.ci/run``); an editable install runs the pure path only, and says so by skipping them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from maritime import core
from maritime.ingest.ais import AisDecoder
from maritime.ingest.errors import Rejected
from maritime.ingest.eventtime import SourceClock
from maritime.models import Position
from tests.conftest import BASE, TYPE1, TYPE5, TYPE18, nmea, recording_params, recordings, tag

BUILT = core.load("lines") is not None
needs_core = pytest.mark.skipif(not BUILT, reason="the typed core is not built here (an editable install): "
                                                   ".ci/run builds it and runs these")


def run(lines: list[bytes], fast: bool, **kw: Any) -> tuple[list[Any], list[Rejected], Any, float | None]:
    """Every line through one decoder (the C path or the pure one): outputs, dead letters, counters, last time."""
    rejected: list[Rejected] = []
    if kw.pop("clock", False):
        kw["clock"] = SourceClock("rx")
    dec = AisDecoder("rx", default_time_s=1.6e9, on_reject=rejected.append, **kw)
    if fast:
        assert dec._fast is not None and dec._static is not None
    else:
        dec._fast = dec._static = None
    out = [dec.decode_line(ln, *args) for ln, *args in ((ln,) if isinstance(ln, bytes) else ln for ln in lines)]
    dec.close()
    return out, rejected, dec.stats, dec.last_time_s


def same(lines: list[Any], **kw: Any) -> None:
    fast = run(lines, True, **kw)
    pure = run(lines, False, **kw)
    for i, (a, b) in enumerate(zip(fast[0], pure[0], strict=True)):
        assert a == b, f"line {i}: {lines[i]!r}"
    assert fast[1] == pure[1]
    assert fast[2] == pure[2]
    assert fast[3] == pure[3]


@needs_core
@pytest.mark.parametrize("path", recording_params())
@pytest.mark.parametrize("kw", [{}, {"dedup_window_s": 30.0}, {"clock": True}], ids=["plain", "dedup", "clock"])
def test_the_c_path_decodes_every_recording_as_the_pure_decoder(path: Path, kw: dict[str, Any]) -> None:
    same(path.read_bytes().splitlines(), **kw)


@needs_core
def test_the_common_line_is_decoded_in_c() -> None:
    """A tag-blocked class A report, a class B one and a report with an epoch after it never reach Python's
    sentence layer, and give the pure decoder's positions."""
    dec = AisDecoder("rx", default_time_s=1.6e9)
    for line in (tag("s:rx1,c:1747209600") + TYPE1, TYPE18, TYPE1 + b",1747209600"):
        payload, (pos,) = dec.decode_line(line)
        assert isinstance(pos, Position) and payload in line
    assert dec.station is None and dec.stats.lines == 3 and dec.stats.messages == 3
    assert dec._fast.handed_on == 0, "no line went to the pure decoder"
    assert dec.decode_line(b"$PGHP,1,2025,05,14,08,00,00,0,,,,,,*1C") is None and dec._fast.handed_on == 1


@needs_core
def test_an_unexpected_error_in_the_c_path_is_one_warning_per_kind_and_a_counted_line(monkeypatch, caplog) -> None:
    """A bug behind the C path (here: the record it makes) is rejected as malformed, logged once per kind, and
    never raised to the feed, as in the pure decoder."""
    import logging

    from maritime.ingest import ais

    lines = core.load("lines")

    def broken(*_a: Any) -> None:
        raise ZeroDivisionError("a decoder bug")

    monkeypatch.setattr(lines, "_object_new", broken)  # (what makes each Position in C)
    monkeypatch.setattr(ais, "_UNEXPECTED_SEEN", set())
    dec = AisDecoder("rx")
    with caplog.at_level(logging.INFO, logger="maritime.ingest.ais"):
        for _ in range(3):
            assert dec.decode_line(TYPE1) is None
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "ZeroDivisionError" in warnings[0].getMessage()
    assert dec.stats.rejected["malformed"] == 3 and dec.stats.lines == 3


def test_a_pure_install_runs_without_the_core() -> None:
    out = subprocess.run([sys.executable, "-c", "from maritime import core; from maritime.ingest.ais import "
                          "AisDecoder; from maritime.config import Settings; from maritime.detectors.tracker import "
                          "Tracker; from maritime.detectors.gaps import GapDetector; "
                          "print(AisDecoder('x')._fast is None, GapDetector(Settings().gaps, Tracker())._quiet is None, "
                          "core.status())"],
                         capture_output=True, text=True, check=True, timeout=60,
                         env={**os.environ, "MARITIME_PURE": "1"}).stdout
    assert out.startswith("True True typed core not in use (lines: MARITIME_PURE=1; quiet: MARITIME_PURE=1)")


VARIANTS = [
    TYPE1, TYPE18, *TYPE5,
    tag("s:rx1,c:1747209600") + TYPE1, tag("c:1747209600123") + TYPE18, tag("s:rx2") + TYPE1,
    tag("c:1747209600,s:") + TYPE1, tag("g:1-2-73,c:1747209600") + TYPE5[0], tag("c:1747209600.5") + TYPE1,
    b"\\c:1747209600\\" + TYPE1, b"\\c:1747209600*0\\" + TYPE1, b"\\c:17472096e2*00\\" + TYPE1,
    TYPE1 + b",1747209600", TYPE1 + b",b003669794,1272412827", TYPE1 + b",T48.85,r07RPAL1,1272415370",
    TYPE1 + b",1e9", TYPE1 + b",nan", TYPE1 + b", 1747209600 ", TYPE18 + b",x,",
    b"!AIVDM,1,1,,A,13aI8e?P00PGpU:NR6s00?vT2000,0*1C,extra",
    b"!AIVDM,1,1,,B,402=481uaUcf;OQ55JS9ITi025Jp,0*2B",  # a base station: the C sentence, pyais's payload
    b"$PGHP,1,2025,05,14,08,00,00,0,,,,,,*1C",
    b"2025-05-14T08:00:00Z " + TYPE1, b"1747209600 " + TYPE1,
]


@st.composite
def mutated(draw: st.DrawFn) -> list[bytes]:
    """A few lines, each a variant with bytes flipped, inserted, deleted or cut, and its checksums rewritten or
    not (so that the mutation reaches the fields, not only the checksum test)."""
    out = []
    for _ in range(draw(st.integers(1, 6))):
        line = bytearray(draw(st.sampled_from(VARIANTS)))
        for _ in range(draw(st.integers(0, 3))):
            i = draw(st.integers(0, len(line)))
            op = draw(st.sampled_from(("flip", "insert", "delete", "cut")))
            b = draw(st.sampled_from(list(b"0123456789,.*\\!$:csABVDMO@`w \t") + [0, 200]))
            if op == "flip" and i < len(line):
                line[i] = b
            elif op == "insert":
                line.insert(i, b)
            elif op == "delete" and i < len(line):
                del line[i]
            elif op == "cut":
                del line[i:]
        if draw(st.booleans()):
            line = bytearray(reseal(bytes(line)))
        out.append(bytes(line))
    return out


def reseal(line: bytes) -> bytes:
    """The line with its sentence checksum made right again (when it has one)."""
    start = line.find(b"!")
    star = line.rfind(b"*")
    if start < 0 or star < start or len(line) < star + 3:
        return line
    x = 0
    for c in line[start + 1:star]:
        x ^= c
    return line[:star + 1] + f"{x:02X}".encode() + line[star + 3:]


@needs_core
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=mutated(), times=st.sampled_from([None, 1.7e9]), dedup=st.booleans(), clock=st.booleans())
def test_mutated_lines_get_the_pure_answer(lines: list[bytes], times: float | None, dedup: bool,
                                           clock: bool) -> None:
    same([(ln, times, None) for ln in lines], dedup_window_s=30.0 if dedup else None, clock=clock)
    same([(ln, None, times) for ln in lines])


ARMOUR = "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"


def payload_answer(dec: AisDecoder, payload: bytes, fill: int) -> Any:
    try:
        return dec._payload(payload, fill, 1.7e9, None)
    except Exception as err:
        return type(err), str(err)


@needs_core
@settings(max_examples=600, deadline=None)
@given(first=st.sampled_from("5H4;"), size=st.sampled_from([0, 5, 25, 26, 27, 28, 40, 69, 70, 71, 72, 80]),
       data=st.data(), fill=st.integers(0, 5), aux=st.booleans())
def test_static_and_base_station_reports_read_in_c_match_pyais(first: str, size: int, data: st.DataObject, fill: int,
                                              aux: bool) -> None:
    """Type 4, 5, 11 and 24 payloads of any length, part number, fill and content: the C reader gives pyais's
    records (names with their padding, ETAs, sizes, auxiliary craft, a station's position and clock, valid or
    not) or leaves the payload to pyais."""
    body = data.draw(st.text(ARMOUR, min_size=size, max_size=size))
    if aux and len(body) >= 6:  # an auxiliary craft's MMSI (98XXXYYYY) written into bits 8-37
        bits = "".join(f"{ARMOUR.index(ch):06b}" for ch in first + body)
        bits = bits[:8] + f"{981234567:030b}" + bits[38:]
        body = "".join(ARMOUR[int(bits[i:i + 6], 2)] for i in range(6, len(bits), 6))
    payload = (first + body).encode()
    c = AisDecoder("rx", default_time_s=1.6e9)
    py = AisDecoder("rx", default_time_s=1.6e9)
    py._static = None
    assert payload_answer(c, payload, fill) == payload_answer(py, payload, fill)
    assert c.stats == py.stats


def time_pass(lines: list[bytes], fast: bool) -> tuple[list[Any], list[Any]]:
    """Every line through the event-time pass's decoder: what it says of each line, and the lines it refused."""
    from maritime.ingest.ordering import _TimePass

    scan = _TimePass("rx", 60.0, 1.6e9)
    if fast:
        assert scan._fast is not None
    else:
        scan._fast = None
    said = []
    for ln in lines:
        out = scan.decode_line(ln)
        said.append((out, scan.message_time_s, scan.timed, scan.station, scan.pghp_line, list(scan.message_lines),
                     scan.stats.lines))
        scan.message_lines = []
    scan.close()
    return said, scan.refused


@needs_core
@pytest.mark.parametrize("path", recording_params())
def test_the_event_time_pass_reads_every_recording_as_the_pure_pass(path: Path) -> None:
    """The time pass (maritime.ingest.ordering) in C: each message's time, whether it was its own, its station,
    the lines of each multipart message and what it refused, as the pure pass says them."""
    lines = path.read_bytes().splitlines()
    fast, pure = time_pass(lines, True), time_pass(lines, False)
    for i, (a, b) in enumerate(zip(fast[0], pure[0], strict=True)):
        assert a == b, f"line {i}: {lines[i]!r}"
    assert fast[1] == pure[1]


@needs_core
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=mutated())
def test_the_event_time_pass_on_mutated_lines(lines: list[bytes]) -> None:
    fast, pure = time_pass(lines, True), time_pass(lines, False)
    assert fast == pure


def ordered(lines: list[bytes], fast: bool, run_items: int, tmp: Path) -> tuple[list[Any], list[Any], Any]:
    """The whole event-time pass (:func:`ordered_lines`) over ``lines`` as a file: with the typed core's
    ``TimeScan`` taking the common line, or with the pure pass alone (no C at all); what it gives, its dead
    letters and its counters."""
    from unittest import mock

    from maritime.config import Settings
    from maritime.ingest.errors import DecodeStats
    from maritime.ingest.ordering import ordered_lines
    from maritime.ingest.sources import parse_source

    path = tmp / "feed.nmea"
    path.write_bytes(b"\n".join(lines) + b"\n")
    rejected: list[Rejected] = []
    stats = DecodeStats()
    with mock.patch.object(core, "time_scan", core.time_scan if fast else lambda *a: None), \
            mock.patch.object(core, "fast_lines", core.fast_lines if fast else lambda *a, **k: None):
        out = list(ordered_lines(parse_source(str(path))[0], Settings(), 1.6e9, rejected.append, stats, None,
                                 run_items))
    return out, rejected, stats


def same_order(lines: list[bytes], run_items: int, tmp: Path) -> None:
    fast, pure = ordered(lines, True, run_items, tmp), ordered(lines, False, run_items, tmp)
    for i, (a, b) in enumerate(zip(fast[0], pure[0], strict=True)):
        assert a == b, f"item {i}"
    assert fast[1] == pure[1]
    assert fast[2] == pure[2]


@needs_core
@pytest.mark.parametrize("path", recording_params())
@pytest.mark.parametrize("run_items", [7, 400_000])
def test_the_typed_event_time_pass_orders_every_recording_as_the_pure_pass(path: Path, run_items: int,
                                                                           tmp_path: Path) -> None:
    """``TimeScan`` (the common line from the file to the external sort in C) against the pure pass: the same
    lines at the same times in the same order, the same quarantined messages and counters; with runs of 7 the
    sort spills while the C side feeds it."""
    same_order(path.read_bytes().splitlines(), run_items, tmp_path)


@st.composite
def clocked(draw: st.DrawFn) -> list[bytes]:
    """Lines of a few receivers whose clocks start, run, fall back, jump days ahead, hold stray outliers and lose
    their time; with multipart messages, ``$PGHP`` lines, blank lines and garbage between."""
    t = float(BASE)
    out = []
    for _ in range(draw(st.integers(1, 40))):
        t += draw(st.sampled_from([0, 1, 7, -30, 3 * 86_400, -3 * 86_400]))
        stamp = t + draw(st.sampled_from([0.0, 0.0, 0.0, 40 * 86_400, -400 * 86_400, 60 * 365 * 86_400]))
        station = draw(st.sampled_from(["s:rxA,", "s:rxB,", "s:,", ""]))
        kind = draw(st.sampled_from(["own", "own", "own", "trailer", "untimed", "multipart", "pghp", "blank",
                                     "garbage"]))
        if kind == "own":
            out.append(tag(f"{station}c:{stamp:.0f}") + draw(st.sampled_from([TYPE1, TYPE18])))
        elif kind == "trailer":
            out.append(TYPE1 + f",{stamp:.0f}".encode())
        elif kind == "untimed":
            out.append((tag(station.rstrip(",")) if station else b"") + TYPE18)
        elif kind == "multipart":
            out.extend(tag(f"{station}c:{stamp:.0f}") + part for part in TYPE5)
        elif kind == "pghp":
            out.extend([b"$PGHP,1,2025,05,14,08,00,00,0,,,,,,*1C", TYPE1])
        elif kind == "blank":
            out.append(b"   ")
        else:
            out.append(draw(st.sampled_from([b"!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*00", b"\x00\xff junk",
                                             TYPE1[:20]])))
    return out


@needs_core
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(lines=clocked(), run_items=st.sampled_from([1, 3, 400_000]))
def test_the_typed_event_time_pass_on_clocks_that_start_jump_and_stray(lines: list[bytes], run_items: int,
                                                                        tmp_path: Path) -> None:
    same_order(lines, run_items, tmp_path)


@needs_core
def test_the_typed_event_time_pass_takes_the_common_line_in_c(tmp_path: Path) -> None:
    """Once a receiver's clock runs, its lines go from the file to the sort without the Python pass."""
    from unittest import mock

    from maritime.config import Settings
    from maritime.ingest.errors import DecodeStats
    from maritime.ingest.ordering import ordered_lines
    from maritime.ingest.sources import parse_source

    def ordered_lines_of(lines: list[bytes], tmp: Path) -> Any:
        path = tmp / "feed.nmea"
        path.write_bytes(b"\n".join(lines) + b"\n")
        return ordered_lines(parse_source(str(path))[0], Settings(), 1.6e9, lambda r: None, DecodeStats())

    lines = [tag(f"s:rx{i % 3},c:{BASE + i}") + TYPE1 for i in range(60)]
    made: list[Any] = []

    def keep(*args: Any) -> Any:
        made.append(scan_of(*args))
        return made[-1]

    scan_of = core.time_scan
    with mock.patch.object(core, "time_scan", keep):
        out = list(ordered_lines_of(lines, tmp_path))
    assert [ln for _t, ln, _a in out] == lines
    assert made[0].taken == 45, "the first five lines of each receiver start its clock; the rest are taken in C"


@needs_core
@settings(max_examples=200, deadline=None)
@given(mmsi=st.integers(0, 2**30 - 1), t=st.floats(allow_nan=False), lat=st.floats(-90, 90), lon=st.floats(-180, 180),
       sog=st.one_of(st.none(), st.floats(0, 102.2)), cog=st.one_of(st.none(), st.floats(0, 359.9)),
       heading=st.one_of(st.none(), st.integers(0, 359)), status=st.one_of(st.none(), st.integers(0, 14)),
       mt=st.sampled_from([1, 2, 3, 18, 19, 27]), source=st.text(max_size=8), err=st.floats(0, 3600))
def test_positions_made_in_c_equal_the_dataclass(mmsi: int, t: float, lat: float, lon: float, sog: float | None,
                                                  cog: float | None, heading: int | None, status: int | None, mt: int,
                                                  source: str, err: float) -> None:
    """The core's Position maker (each slot set from C) gives the dataclass's own Position, field for field, and
    it is the one the decoders use."""
    import dataclasses

    from maritime.core import lines
    from maritime.ingest import messages

    assert lines.position_in_c and messages.new_position is lines.new_position
    args = (mmsi, t, lat, lon, sog, cog, heading, status, mt, source, err)
    made, own = lines.new_position(*args), Position(*args)
    assert made == own and hash(made) == hash(own)
    assert [getattr(made, f.name) for f in dataclasses.fields(Position)] == list(args)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.lat = 0.0  # type: ignore[misc]


@needs_core
@settings(max_examples=200, deadline=None)
@given(fields=st.tuples(
    st.integers(0, 2**30 - 1), st.floats(allow_nan=False), *[st.one_of(st.none(), st.text(max_size=20))] * 2,
    *[st.one_of(st.none(), st.integers(0, 2**30))] * 6, st.one_of(st.none(), st.floats(0, 25.5)),
    st.one_of(st.none(), st.text(max_size=20)), st.sampled_from([5, 19, 24]), st.text(max_size=8),
    st.one_of(st.none(), st.floats(allow_nan=False))))
def test_static_reports_made_in_c_equal_the_dataclass(fields: tuple[Any, ...]) -> None:
    """The core's VesselInfo maker (each slot set from C, positional in field order) gives the dataclass's own."""
    import dataclasses

    from maritime.core import lines
    from maritime.models import VesselInfo

    assert lines.info_in_c
    made, own = lines.new_info(*fields), VesselInfo(*fields)
    assert made == own and hash(made) == hash(own)
    assert [getattr(made, f.name) for f in dataclasses.fields(VesselInfo)] == list(fields)


# -- the external sort's binary runs ------------------------------------------------------------------------------

run_items = st.tuples(
    st.floats(allow_nan=False), st.integers(-(1 << 61), 1 << 61),
    st.lists(st.binary(max_size=120), max_size=4).map(tuple), st.none() | st.floats(allow_nan=False))


@needs_core
@settings(max_examples=300, deadline=None)
@given(items=st.lists(run_items, max_size=60), big=st.booleans())
def test_a_run_written_in_binary_reads_back_item_for_item(items: list[Any], big: bool) -> None:
    """Times, sequence numbers, lines (none, several, empty ones, one longer than a read block) and assigned times
    come back as they went, of the same types; the file is closed at the end."""
    import math
    import tempfile

    lines = core.load("lines")
    if big:
        items = [*items, (1.0, 7, (b"!" * (3 << 20), b""), 2.5)]
    fh = tempfile.TemporaryFile()  # noqa: SIM115 (the reader closes it)
    assert lines.write_run(items, fh)
    fh.seek(0)
    back = list(lines.RunReader(fh))
    assert fh.closed
    assert len(back) == len(items)
    for got, want in zip(back, items, strict=True):
        assert [type(x) for x in got] == [type(x) for x in want]
        assert got[1:3] == want[1:3]
        assert math.copysign(1, got[0]) == math.copysign(1, want[0]) and (got[0] == want[0])
        assert got[3] == want[3]


@needs_core
@pytest.mark.parametrize("item", [(1, 2, (b"a",), None), (1.0, 2.0, (b"a",), None), (1.0, 2, [b"a"], None),
                                  (1.0, 2, ("a",), None), (1.0, 2, (b"a",), 3), (1.0, 1 << 70, (b"a",), None),
                                  (1.0, 2, (b"a",)), (1.0, 2, (b"a",), None, None)])
def test_an_item_of_another_shape_leaves_the_run_to_pickle(item: Any, tmp_path: Path) -> None:
    """``write_run`` writes nothing and says so; the external sort then pickles the run and gives the same
    items back."""
    import tempfile

    from maritime.ingest.ordering import SpillSort

    lines = core.load("lines")
    with tempfile.TemporaryFile(dir=tmp_path) as fh:
        assert not lines.write_run([(0.5, 1, (b"x",), None), item], fh)
        assert fh.tell() == 0
    sorter = SpillSort(run_items=2)
    for it in [(0.5, 1, (b"x",), None), item, (0.7, 3, (b"y",), None)]:
        sorter.add(it)
    assert sorter._binary == [False]
    assert sorted(list(sorter), key=lambda x: (x[0], x[1])) == sorted(
        [(0.5, 1, (b"x",), None), item, (0.7, 3, (b"y",), None)], key=lambda x: (x[0], x[1]))


@needs_core
def test_the_event_time_pass_gives_the_same_lines_with_binary_and_pickled_runs(monkeypatch: pytest.MonkeyPatch
                                                                               ) -> None:
    """Every recording's event-time pass with runs of 50 messages spilled in the binary format and pickled: the
    same lines, times and assigned times, in the same order."""
    from maritime.config import Settings
    from maritime.ingest import ordering
    from maritime.ingest.errors import DecodeStats
    from maritime.ingest.sources import parse_source

    def passes(binary: bool) -> list[Any]:
        with monkeypatch.context() as m:
            if not binary:
                m.setattr(core, "run_codec", lambda: None)
            return [list(ordering.ordered_lines(spec, Settings(), 1.6e9, lambda r: None, DecodeStats(), None, 50))
                    for p in recordings() for spec in parse_source(str(p))]

    assert passes(True) == passes(False)


@needs_core
@pytest.mark.parametrize("chars", [70, 71, 72, 168, 181, 182, 400, 4000])
@pytest.mark.parametrize("first", ["5", "H", "4"])
def test_long_static_payloads_are_read_as_pyais_reads_them(first: str, chars: int) -> None:
    """A type 5, 24 or 4 payload of any length, up to far longer than any AIS message (the C reader holds 181
    characters and leaves longer ones to pyais): the same records, counters and dead letters as the pure path."""
    import random

    rng = random.Random(chars)
    armour = "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"
    payload = first + "".join(rng.choice(armour) for _ in range(chars - 1))
    lines = [tag(f"c:{1700000000 + k}") + nmea(f"AIVDM,1,1,,A,{payload[:chars - k]},{k % 6}") for k in range(4)]
    same(lines)


@needs_core
def test_static_texts_with_padding_and_blanks_anywhere_are_read_as_pyais_reads_them() -> None:
    """3,000 type 5 payloads whose names, call signs and destinations are mostly ``@`` padding and blanks (at
    either end, in the middle, all of a field): the same records as the pure path."""
    import random

    rng = random.Random(5)
    armour = "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"
    lines = [tag(f"c:{1700000000 + k}") + nmea(
        "AIVDM,1,1,,A,5" + "".join(rng.choice(armour if rng.random() < 0.5 else "0Ph") for _ in range(70)) + ",2")
        for k in range(3000)]
    same(lines)


# -- the de-duplication window -------------------------------------------------------------------------------------


@needs_core
@settings(max_examples=300, deadline=None)
@given(window=st.sampled_from([0.5, 5.0, 60.0]),
       ops=st.lists(st.tuples(st.sampled_from([b"A", b"B", b"C", b"D"]),
                              st.floats(0.0, 200.0, allow_nan=False) | st.sampled_from([10.0, 10.0 + 1e-9, 70.0]),
                              st.booleans()), max_size=80))
def test_the_c_payload_window_answers_and_keeps_what_the_python_one_does(window: float,
                                                                       ops: list[tuple[bytes, float, bool]]) -> None:
    """Any sequence of look-ups and remembers, times out of order and ties on the window's edge included: the
    same answers, and the same payloads and order kept (what a checkpoint's snapshot writes)."""
    from maritime.ingest.eventtime import PayloadWindow

    typed, ref = core.payload_window(window), PayloadWindow(window)
    assert type(typed).__module__ == "maritime.core.lines"
    for payload, t, remember in ops:
        assert typed.seen(payload, t) == ref.seen(payload, t)
        if remember:
            typed.remember(payload, t)
            ref.remember(payload, t)
        assert typed._seen == ref._seen
        assert list(typed._order) == list(ref._order)


@needs_core
def test_the_c_payload_window_forgets_in_blocks_and_keeps_its_order() -> None:
    """A long stream (more than the 4,096 entries it drops at once): what is remembered stays the Python
    window's, through each block dropped."""
    from maritime.ingest.eventtime import Deduplicator, PayloadWindow

    typed, ref = core.payload_window(2.0), PayloadWindow(2.0)
    for k in range(30_000):
        p, t = str(k % 700).encode(), k * 0.01
        assert typed.seen(p, t) == ref.seen(p, t)
        typed.remember(p, t)
        ref.remember(p, t)
        if k % 997 == 0:
            assert typed._seen == ref._seen and list(typed._order) == list(ref._order)
    dedup, plain = Deduplicator(2.0), Deduplicator(2.0)
    plain.window = PayloadWindow(2.0)
    assert type(dedup.window) is type(typed)
    got = [dedup.is_duplicate(b"X", k * 0.5) for k in range(50)]
    assert got == [plain.is_duplicate(b"X", k * 0.5) for k in range(50)] and any(got) and not all(got)
    assert dedup.snapshot() == plain.snapshot()
    again = Deduplicator(2.0)
    again.restore(dedup.snapshot())
    assert again.snapshot() == dedup.snapshot()


# -- the external sort's merge -------------------------------------------------------------------------------------


@needs_core
@settings(max_examples=300, deadline=None)
@given(data=st.data(), n_runs=st.integers(0, 6))
def test_the_c_merge_of_sorted_runs_is_heapq_merge(data: st.DataObject, n_runs: int) -> None:
    """Runs of items ``(time, seq, lines, assigned)`` as the external sort keeps them (times tied across runs,
    one float object shared by many items, a NaN time, a sequence number repeated, an item of another shape):
    the C merge gives heapq.merge's items in heapq.merge's order, each run sorted as ``list.sort`` sorts it."""
    import heapq

    lines_mod = core.load("lines")
    shared = 1.7e9
    times = st.sampled_from([shared, 1.7e9 + 1.0, 1.7e9 + 0.5, float("nan"), 0.0, -0.0, 1e300])
    item = st.tuples(times, st.integers(0, 40), st.just((b"!AIVDM",)), st.none() | times)
    runs = []
    for _ in range(n_runs):
        run = data.draw(st.lists(item | st.tuples(times, st.integers(0, 3)), max_size=30))
        try:
            run.sort()
        except TypeError:
            continue  # items that do not compare (never made by the sort)
        runs.append(run)
    try:
        want = list(heapq.merge(*runs))
    except TypeError:
        return
    assert list(lines_mod.MergedRuns(runs)) == want
    assert [id(x) for x in lines_mod.MergedRuns(runs)] == [id(x) for x in heapq.merge(*runs)]


# -- the reorder window --------------------------------------------------------------------------------------------


@needs_core
@settings(max_examples=400, deadline=None)
@example(window=2.0, times=[0.0, float("nan"), float("nan"), 2.0], sorted_first=False)
@given(window=st.sampled_from([0.0, 2.0, 30.0]),
       times=st.lists(st.floats(0.0, 100.0, allow_nan=False) | st.sampled_from([5.0, 5.0, 50.0])
                      | st.builds(float, st.just("nan")), max_size=60),
       sorted_first=st.booleans())
def test_the_c_reorder_window_releases_what_the_python_one_does(window: float, times: list[float],
                                                                sorted_first: bool) -> None:
    """Items in time order, out of order, tied, late and NaN: the same releases in the same order, the same late
    items, the same counts and times, and the same flush at the end.

    Each NaN is its own float object: the tuples' comparison takes one object as equal to itself, and the
    compiled build of the reference (mypyc) boxes each time afresh, so a NaN object shared between items would
    order differently in the reference's own two builds (a CI run found ``[0.0, nan, nan, 2.0]``)."""
    from maritime.ingest.eventtime import Reorder

    if sorted_first:
        times = sorted(t for t in times if t == t) + times[len(times) // 2:]
    late_c: list[Any] = []
    late_py: list[Any] = []
    typed = core.reorder(window, lambda t, item: late_c.append((t, item)))
    ref = Reorder(window, lambda t, item: late_py.append((t, item)))
    assert type(typed).__module__ == "maritime.core.lines"

    def same(a: Any, b: Any) -> bool:
        return [(repr(t), i) for t, i in a] == [(repr(t), i) for t, i in b]

    def push(window: Any, t: float, k: int) -> Any:
        try:
            return window.push(t, k)
        except IndexError:  # a NaN time at the top of the heap
            return [("IndexError", None)]

    for k, t in enumerate(times):
        assert same(push(typed, t, k), push(ref, t, k))
        assert len(typed) == len(ref)
        assert repr(typed.released_s) == repr(ref.released_s) and repr(typed.max_time_s) == repr(ref.max_time_s)
    assert same(typed.flush(), ref.flush())
    assert same(late_c, late_py) and len(typed) == len(ref) == 0
    assert repr(typed.released_s) == repr(ref.released_s)


@needs_core
def test_the_c_reorder_window_keeps_a_long_sorted_stream_in_order() -> None:
    """200,000 items in time order with a jitter now and then (its queue dropped in blocks, its heap used and
    emptied again): the same releases as the Python window."""
    import random

    from maritime.ingest.eventtime import Reorder

    rnd = random.Random(5)
    typed, ref = core.reorder(10.0), Reorder(10.0)
    got_c: list[Any] = []
    got_py: list[Any] = []
    for k in range(200_000):
        t = k * 0.1 - (rnd.random() * 5.0 if k % 1000 == 0 else 0.0)
        got_c.extend(typed.push(t, k))
        got_py.extend(ref.push(t, k))
    got_c.extend(typed.flush())
    got_py.extend(ref.flush())
    assert got_c == got_py and len(got_c) == 200_000


# -- decoded positions between processes ------------------------------------------------------------------------

INT64 = st.integers(-(2**63), 2**63 - 1)
FLOATS = st.floats(allow_nan=True, allow_infinity=True)


@st.composite
def released(draw: st.DrawFn) -> tuple[Any, Any, Any]:
    """One released message ``(t, payload, records)``: mostly one Position of the decoder's types, sometimes a
    shape the packer must leave to msgpack (an int time, a bool, a huge MMSI, two records, an int latitude)."""
    pos = Position(draw(INT64), draw(FLOATS), draw(FLOATS), draw(FLOATS), draw(st.none() | FLOATS),
                   draw(st.none() | FLOATS), draw(st.none() | INT64), draw(st.none() | INT64), draw(INT64),
                   "feed", draw(FLOATS))
    payload = draw(st.none() | st.binary(max_size=40))
    odd = draw(st.sampled_from([None] * 6 + ["int time", "bool", "huge", "two", "int lat", "str payload"]))
    t: Any = draw(FLOATS)
    records: Any = [pos]
    if odd == "int time":
        t = 1_700_000_000
    elif odd == "bool":
        records = [Position(True, 1.0, 2.0, 3.0)]
    elif odd == "huge":
        records = [Position(2**70, 1.0, 2.0, 3.0)]
    elif odd == "two":
        records = [pos, pos]
    elif odd == "int lat":
        records = [Position(1, 1.0, 2, 3.0)]
    elif odd == "str payload":
        payload = "x"
    return t, payload, records


def same_fields(a: Any, b: Any) -> bool:
    """Equal field by field, with each field's type (and NaN equal to NaN)."""
    import dataclasses
    import math

    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if type(x) is not type(y):
            return False
        if not (x == y or (type(x) is float and math.isnan(x) and math.isnan(y))):
            return False
    return True


def unpacked_equal(got: list[Any], want: list[tuple[Any, Any, Any]]) -> bool:
    import math

    if len(got) != len(want):
        return False
    for (t, (payload, made)), (t0, p0, recs) in zip(got, want, strict=True):
        if type(t) is not float or not (t == t0 or (math.isnan(t) and math.isnan(t0))):
            return False
        if payload != p0 or type(payload) is not type(p0) or len(made) != 1 or not same_fields(made[0], recs[0]):
            return False
    return True


@settings(max_examples=300, deadline=None)
@given(items=st.lists(released(), max_size=12))
def test_positions_packed_for_another_process_come_back_the_same(items: list[tuple[Any, Any, Any]]) -> None:
    """The pure packer keeps exactly the one-Position messages of the decoder's types, and the records read
    back give Positions equal field by field, with the same types (None kept as None, every float bit for bit)."""
    from maritime.runtime.decode_workers import PositionPacker, positions_run

    packer = PositionPacker()
    kept = [it for it in items if packer.add(*it)]
    for t, payload, records in kept:
        assert type(t) is float and len(records) == 1 and type(records[0].lat) is float
        assert type(records[0].mmsi) is int and (payload is None or type(payload) is bytes)
    assert len(packer) == len(kept)
    recs, payloads = packer.take()
    assert len(packer) == 0 and packer.take() == (b"", b"")
    assert unpacked_equal(positions_run(recs, payloads, "feed"), kept)


@needs_core
@settings(max_examples=300, deadline=None)
@given(items=st.lists(released(), max_size=12))
def test_the_c_packer_writes_and_reads_what_the_pure_one_does(items: list[tuple[Any, Any, Any]]) -> None:
    """The C packer takes the same messages, writes the same bytes, and the C reader makes the same Positions
    from them (so a worker and a main process of different builds would still agree)."""
    from maritime.runtime.decode_workers import PositionPacker, positions_run

    c = core.load("lines")
    typed, ref = c.PositionPacker(), PositionPacker()
    for it in items:
        assert typed.add(*it) == ref.add(*it)
    assert len(typed) == len(ref)
    got = typed.take()
    assert got == ref.take()
    made_c, made_py = c.positions_run(*got, "feed"), positions_run(*got, "feed")
    assert len(made_c) == len(made_py)
    for (t1, (p1, (a,))), (t2, (p2, (b,))) in zip(made_c, made_py, strict=True):
        assert repr(t1) == repr(t2) and p1 == p2 and same_fields(a, b)


@pytest.mark.parametrize("fast", [False, pytest.param(True, marks=needs_core)], ids=["pure", "c"])
def test_damaged_position_records_are_refused(fast: bool) -> None:
    """Records cut short, or payloads that do not add up, raise ValueError instead of making wrong Positions."""
    from maritime.runtime import decode_workers as dw

    c = core.load("lines") if fast else None
    packer = c.PositionPacker() if c is not None else dw.PositionPacker()
    run = c.positions_run if c is not None else dw.positions_run
    assert packer.add(1.0, b"abc", [Position(1, 1.0, 2.0, 3.0)])
    recs, payloads = packer.take()
    assert len(recs) == dw.POSITION_RECORD.size == 104
    for bad in [(recs[:-1], payloads), (recs, payloads[:-1]), (recs, payloads + b"x")]:
        with pytest.raises(ValueError):
            run(*bad, "feed")
