"""The pyais boundary: real sentences with full expected values, and an edge-case catalogue."""

from __future__ import annotations

import functools
import operator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyais.stream import IterMessages

from maritime.ingest.ais import AisDecoder
from maritime.ingest.errors import Reason, Rejected
from maritime.ingest.nmea import xor_checksum
from maritime.models import Position, VesselInfo, flag_of, mid_of
from tests.conftest import NMEA_DIR, TYPE1, TYPE5, TYPE18, nmea, recording_params, recordings, tag

T0 = datetime(2025, 5, 14, 8, 0, tzinfo=UTC).timestamp()


def decoder(**kw) -> tuple[AisDecoder, list[Rejected]]:
    rejects: list[Rejected] = []
    d = AisDecoder("test", default_time_s=T0, on_reject=rejects.append, **kw)
    return d, rejects


def only(out):
    assert out is not None
    _payload, recs = out
    assert len(recs) == 1
    return recs[0]


# -- real sentences, full values ----------------------------------------------------------


def test_type1_position_full_values():
    d, rej = decoder()
    pos = only(d.decode_line(TYPE1))
    assert pos == Position(
        mmsi=366053209, time_s=T0, lat=37.802118, lon=-122.341618, sog_kn=0.0, cog_deg=219.3,
        heading_deg=1, nav_status=3, msg_type=1, source="test",
    )
    assert d.stats.messages == 1 and d.stats.messages_by_type == {1: 1} and not rej


def test_type18_class_b():
    d, _ = decoder()
    pos = only(d.decode_line(TYPE18))
    assert (pos.mmsi, pos.lat, pos.lon, pos.sog_kn, pos.cog_deg, pos.heading_deg, pos.nav_status, pos.msg_type) == (
        423302100, 40.005283, 53.010997, 1.4, 177.0, 177, None, 18)
    assert pos.is_class_b


def test_type5_multipart_static():
    d, rej = decoder()
    assert d.decode_line(TYPE5[0]) is None
    info = only(d.decode_line(TYPE5[1]))
    assert info == VesselInfo(
        mmsi=351759000, time_s=T0, name="EVER DIADEM", callsign="3FOF8", imo=9134270, ship_type=70,
        to_bow_m=225, to_stern_m=70, to_port_m=1, to_starboard_m=31, draught_m=12.2, destination="NEW YORK",
        msg_type=5, source="test", eta_s=T0 + 30 * 3600,  # its ETA, 15 May 14:00 UTC, with the report's year
    )
    assert info.length_m == 295 and info.beam_m == 32 and info.flag == "PA"
    assert d.stats.lines == 2 and d.stats.messages == 1 and not rej


def test_multipart_out_of_order_adjacent():
    d, rej = decoder()
    assert d.decode_line(TYPE5[1]) is None
    info = only(d.decode_line(TYPE5[0]))
    assert info.name == "EVER DIADEM" and not rej


def test_fragments_from_far_apart_are_not_glued():
    d, rej = decoder()
    assert d.decode_line(TYPE5[1]) is None
    for _ in range(10):
        only(d.decode_line(TYPE1))
    assert d.decode_line(TYPE5[0]) is None  # waits for its own second part
    assert [r.reason for r in rej] == [Reason.ORPHAN_FRAGMENT]
    d.close()
    assert d.stats.rejected[Reason.ORPHAN_FRAGMENT] == 2


def test_orphan_fragments_expire_by_time():
    d, rej = decoder(fragment_timeout_s=60)
    t = tag("c:1747209600")
    assert d.decode_line(t + TYPE5[0]) is None
    for i in range(300):  # the sweep runs every few hundred fragments
        later = tag(f"c:{1747209600 + 120 + i}")
        body = f"AIVDM,2,1,{i % 10},B,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0"
        d.decode_line(later + nmea(body))
    assert any(r.reason == Reason.ORPHAN_FRAGMENT and "expired" in r.message for r in rej)


def test_tag_block_seconds_and_milliseconds_and_source():
    d, _ = decoder()
    p1 = only(d.decode_line(tag("s:rx1,c:1747209600") + TYPE1))
    p2 = only(d.decode_line(tag("c:1747209601500,s:rx1") + TYPE1))
    assert p1.time_s == 1747209600.0 and p2.time_s == 1747209601.5
    assert p1.time_utc == datetime(2025, 5, 14, 8, 0, tzinfo=UTC)


def test_tag_block_with_stale_checksum_is_counted_not_rejected():
    d, rej = decoder()
    pos = only(d.decode_line(b"\\c:1747209600*00\\" + TYPE1))
    assert pos.time_s == 1747209600 and not rej and d.stats.warnings["tag_block_checksum"] == 1


def test_pghp_timestamps_next_sentence():
    d, rej = decoder()
    pghp = nmea("PGHP,1,2010,6,11,11,46,11,390,231,45,992190934,1,2B", "$")
    assert d.decode_line(pghp) is None
    pos = only(d.decode_line(TYPE1))
    assert pos.time_s == datetime(2010, 6, 11, 11, 46, 11, 390000, tzinfo=UTC).timestamp()
    assert not rej and d.stats.lines == 2 and d.stats.messages == 1
    # the PGHP time is used once; the next untimed line carries the stream's last time forward
    assert only(d.decode_line(TYPE1)).time_s == pos.time_s


def test_epoch_after_checksum_and_before_sentence():
    d, rej = decoder()
    assert only(d.decode_line(TYPE1 + b",b003669794,1272412827")).time_s == 1272412827
    uscg = TYPE1 + b",s36310,d-081,T59.01777335,x147521,r08TPHI1,1242958962"
    assert only(d.decode_line(uscg)).time_s == 1242958962
    assert only(d.decode_line(b"1272412900 " + TYPE1)).time_s == 1272412900
    assert only(d.decode_line(b"2025-05-14T08:00:05Z," + TYPE1)).time_s == T0 + 5
    assert not rej


def test_any_talker_and_own_ship():
    d, rej = decoder()
    for talker in ("AIVDM", "ABVDM", "BSVDM", "AIVDO", "SAVDM"):
        body = TYPE1.decode()[1:].split("*")[0].replace("AIVDM", talker)
        assert only(d.decode_line(nmea(body))).mmsi == 366053209
    assert not rej


def test_not_available_values_become_none():
    # type 1 from pyais's encoder would hide our cleaning; this sentence has sog 102.3,
    # cog 360, heading 511, status 15 (built with pyais.encode_dict, checked once by hand)
    from pyais.encode import encode_dict

    sentence = encode_dict({"msg_type": 1, "mmsi": 376000500, "lat": 12.75, "lon": -61.6, "speed": 102.3,
                            "course": 360, "heading": 511, "status": 15})[0].encode()
    d, _ = decoder()
    pos = only(d.decode_line(sentence))
    assert (pos.sog_kn, pos.cog_deg, pos.heading_deg, pos.nav_status) == (None, None, None, None)
    assert (pos.lat, pos.lon) == (12.75, -61.6)
    assert flag_of(pos.mmsi) == "VC" and mid_of(pos.mmsi) == 376


def test_lat_91_is_no_position_and_out_of_range_is_rejected():
    from pyais.encode import encode_dict

    d, rej = decoder()
    na = encode_dict({"msg_type": 1, "mmsi": 376000500, "lat": 91, "lon": 181})[0].encode()
    bad = encode_dict({"msg_type": 1, "mmsi": 376000500, "lat": 95.5, "lon": -61})[0].encode()
    assert d.decode_line(na) is None and d.decode_line(bad) is None
    assert [r.reason for r in rej] == [Reason.NO_POSITION, Reason.OUT_OF_RANGE]
    assert d.stats.messages == 2  # decoded, then refused on their values


# -- the edge-case catalogue --------------------------------------------------------------

EDGES = [
    ("bad checksum", TYPE1[:-2] + b"00", Reason.BAD_CHECKSUM),
    ("no checksum, cut mid-payload", TYPE1.split(b"*")[0][:30], Reason.MALFORMED),
    ("checksum cut short", TYPE1[:-1], Reason.MALFORMED),
    ("not hex checksum", TYPE1[:-2] + b"ZZ", Reason.MALFORMED),
    ("garbage", b"\x13\x07 lorem ipsum", Reason.MALFORMED),
    ("latin-1 bytes", b"!AIVDM,1,1,,B,15M67FC000G?ufbE\xe9FepT@3n00Sa,0*5C", Reason.MALFORMED),
    ("only NUL bytes", b"\x00\x00\x00", Reason.MALFORMED),
    ("tag block without sentence", tag("c:1747209600"), Reason.MALFORMED),
    ("unterminated tag block", b"\\c:1747209600*55!AIVDM", Reason.MALFORMED),
    ("10 kB line", b"!AIVDM,1,1,,A," + b"1" * 10_000 + b",0*00", Reason.BAD_CHECKSUM),
    ("10 kB valid-checksum line", nmea("AIVDM,1,1,,A," + "1" * 10_000 + ",0"), Reason.MALFORMED),
    ("GPS sentence", nmea("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,", "$"),
     Reason.UNKNOWN_SENTENCE),
    ("proprietary ! sentence", nmea("AIPWR,UNIT=0,PWV"), Reason.UNKNOWN_SENTENCE),
    ("wrong field count", nmea("AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa"), Reason.MALFORMED),
    ("fragment number > count", nmea("AIVDM,1,2,,A,15M67FC000G?ufbE`FepT@3n00Sa,0"), Reason.MALFORMED),
    ("fill bits 7", nmea("AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,7"), Reason.MALFORMED),
    ("empty payload", nmea("AIVDM,1,1,,A,,0"), Reason.MALFORMED),
    ("unknown message type", nmea("AIVDM,1,1,,A,w0000000000,0"), Reason.UNDECODABLE),
    ("comment", b"# a comment with \xc2\xb0 degrees", Reason.COMMENT),
]


@pytest.mark.parametrize(("name", "line", "reason"), EDGES, ids=[e[0] for e in EDGES])
def test_edge_catalogue(name, line, reason):
    d, rej = decoder()
    assert d.decode_line(line) is None
    assert [r.reason for r in rej] == [reason], rej
    assert d.stats.rejected == {reason: 1} and d.stats.lines == 1


@pytest.mark.parametrize("ending", [b"\r\n", b"\n", b"\r", b"  \t\n", b""])
def test_line_endings(ending):
    d, rej = decoder()
    assert only(d.decode_line(TYPE1 + ending)).mmsi == 366053209 and not rej


def test_sentence_without_checksum_is_accepted_with_a_warning():
    d, rej = decoder()
    assert only(d.decode_line(TYPE1.split(b"*")[0])).mmsi == 366053209
    assert not rej and d.stats.warnings["no_checksum"] == 1


def test_nul_bytes_around_a_sentence_are_ignored():
    d, rej = decoder()
    assert only(d.decode_line(b"\x00\x00" + TYPE1 + b"\x00")).mmsi == 366053209 and not rej


def test_blank_lines_are_not_counted():
    d, rej = decoder()
    assert d.decode_line(b"\r\n") is None and d.decode_line(b"   ") is None
    assert d.stats.lines == 0 and not rej


def test_truncated_multipart_is_an_orphan_at_close():
    d, rej = decoder()
    assert d.decode_line(TYPE5[0]) is None
    d.close()
    assert [r.reason for r in rej] == [Reason.ORPHAN_FRAGMENT]
    assert d.stats.messages == 0


def test_xor_checksum_matches_reference():
    for data in (b"", b"A", b"AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0", bytes(range(256)) * 3):
        assert xor_checksum(data) == functools.reduce(operator.xor, data, 0)


# -- hypothesis ---------------------------------------------------------------------------

REAL = [TYPE1, TYPE18, *TYPE5, tag("c:1747209600,s:x") + TYPE1]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data):
    d, rej = decoder()
    for line in data.split(b"\n"):
        d.decode_line(line)
    d.close()
    assert sum(d.stats.rejected.values()) == len(rej)
    assert d.stats.messages + len(rej) <= d.stats.lines


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(REAL), st.integers(min_value=0, max_value=200), st.binary(min_size=0, max_size=3),
       st.sampled_from(["replace", "insert", "delete", "truncate"]))
def test_mutated_real_sentences_never_raise(line, pos, junk, op):
    i = pos % (len(line) + 1)
    if op == "replace":
        mutated = line[:i] + junk + line[i + len(junk):]
    elif op == "insert":
        mutated = line[:i] + junk + line[i:]
    elif op == "delete":
        mutated = line[:i] + line[i + 3:]
    else:
        mutated = line[:i]
    d, rej = decoder()
    out = d.decode_line(mutated)
    d.close()
    if out is None:
        assert rej or d.stats.lines == 0 or line in TYPE5  # a lone fragment of TYPE5 is an orphan at close
    else:
        # a mutation that still verifies (checksum intact) decodes to typed records
        assert all(isinstance(r, (Position, VesselInfo)) or hasattr(r, "mmsi") for r in out[1])


# -- the real recordings ------------------------------------------------------------------


def _pyais_count(lines: list[bytes]) -> int:
    n = 0
    for msg in IterMessages(lines):
        try:
            msg.decode()
        except Exception:
            continue
        n += 1
    return n


@pytest.mark.parametrize("path", recording_params())
def test_recordings_decode_as_many_messages_as_pyais(path):
    """Our count equals pyais's on the same lines, once the lines we reject for a bad
    checksum are left out (pyais does not verify checksums); every rejection has a reason."""
    raw_lines = path.read_bytes().splitlines()
    rejects: list[Rejected] = []
    d = AisDecoder(path.name, default_time_s=T0, on_reject=rejects.append)
    for line in raw_lines:
        d.decode_line(line)
    d.close()
    bad = {r.line.encode("latin-1") for r in rejects if r.reason == Reason.BAD_CHECKSUM}
    for b in bad:  # independently: each is really a bad checksum
        body, _, rest = b.rpartition(b"*")
        start = min(i for i in (body.find(b"!"), body.find(b"$"), len(body)) if i >= 0)
        assert functools.reduce(operator.xor, body[start + 1:], 0) != int(rest[:2], 16)
    kept = [ln for ln in raw_lines if ln.strip() not in bad]
    assert d.stats.messages == _pyais_count(kept)
    assert all(r.reason and r.message for r in rejects)
    assert sum(d.stats.rejected.values()) == len(rejects)


# -- the fast path for position reports, against pyais ---------------------------------------


def _armour(value: int, n_chars: int = 28) -> bytes:
    """Six-bit ASCII armouring of an integer, written from the ITU table, not from the code under test."""
    out = []
    for k in range(n_chars - 1, -1, -1):
        six = (value >> (6 * k)) & 0x3F
        out.append(six + 48 if six < 40 else six + 56)
    return bytes(out)


def _both(payload: bytes):
    """(fast-path result, pyais-path result) for one payload; each a record or the rejection reason."""
    results = []
    for pyais_only in (False, True):
        d, rejects = decoder(pyais_only=pyais_only)
        out = d.decode_line(nmea(f"AIVDM,1,1,,A,{payload.decode()},0"))
        results.append(only(out) if out is not None else rejects[0].reason)
        assert d.stats.messages == 1
        assert dict(d.stats.messages_by_type) == {{49: 1, 50: 2, 51: 3, 66: 18}[payload[0]]: 1}
    return results


@settings(max_examples=3000, deadline=None)
@given(
    mt=st.sampled_from([1, 2, 3, 18]),
    bits=st.integers(min_value=0, max_value=(1 << 162) - 1),
    special=st.sampled_from([None, "lat91", "lon181", "sog", "cog", "heading", "status15", "edges"]),
)
def test_fast_position_path_equals_pyais(mt, bits, special):
    """Every field of a random 168-bit type 1/2/3/18 report, including "not available" and
    out-of-range values and the sign bits, comes out of the fast path exactly as out of pyais."""
    v = (mt << 162) | bits
    lon_sh, lat_sh, sog_sh, cog_sh, hdg_sh = (83, 56, 112, 44, 35) if mt == 18 else (79, 52, 108, 40, 31)

    def put(v: int, shift: int, width: int, value: int) -> int:
        mask = (1 << width) - 1
        return (v & ~(mask << shift)) | ((value & mask) << shift)

    if special == "lat91":
        v = put(v, lat_sh, 27, 91 * 600_000)
    elif special == "lon181":
        v = put(v, lon_sh, 28, 181 * 600_000)
    elif special == "sog":
        v = put(v, sog_sh, 10, 1023)
    elif special == "cog":
        v = put(v, cog_sh, 12, 3600)
    elif special == "heading":
        v = put(v, hdg_sh, 9, 511)
    elif special == "status15" and mt != 18:
        v = put(v, 126, 4, 15)
    elif special == "edges":  # in range, near the poles and the antimeridian, negative
        v = put(put(v, lat_sh, 27, -90 * 600_000 + (bits & 0xFF)), lon_sh, 28, 180 * 600_000 - (bits & 0xFF))
    fast, ref = _both(_armour(v))
    assert fast == ref


def decode_both_ways(path: Path) -> list[tuple[Any, ...]]:
    """A recording decoded with the fast path and with pyais alone: records, counters and rejections."""
    lines = path.read_bytes().splitlines()
    outs = []
    for pyais_only in (False, True):
        rejects: list[Rejected] = []
        d = AisDecoder(path.name, default_time_s=T0, on_reject=rejects.append, dedup_window_s=30.0,
                       pyais_only=pyais_only)
        recs = [d.decode_line(ln) for ln in lines]
        d.close()
        outs.append((recs, d.stats.messages, dict(d.stats.messages_by_type), dict(d.stats.rejected),
                     [(r.reason, r.line) for r in rejects]))
    return outs


@pytest.mark.parametrize("path", recording_params())
def test_fast_path_on_real_recordings_equals_pyais(path):
    """Every record and every counter of a real recording is the same with and without the fast path."""
    fast, reference = decode_both_ways(path)
    assert fast == reference, path.name


def test_the_fast_path_carries_most_of_the_real_recordings():
    fast_hits = sum(1 for path in recordings() for r in decode_both_ways(path)[0][0]
                    if r and r[1] and isinstance(r[1][0], Position) and r[1][0].msg_type in (1, 2, 3, 18))
    assert fast_hits > 1000


@pytest.mark.shared_data
def test_the_excerpts_are_prefixes_of_the_recordings():
    """tests/data/nmea holds the first lines of each shared recording, unchanged (tests/data/SOURCES.md)."""
    for excerpt in recordings():
        assert (NMEA_DIR / excerpt.name).read_bytes().startswith(excerpt.read_bytes()), excerpt.name


def test_payload_outside_the_six_bit_alphabet_is_malformed():
    d, rejects = decoder()
    assert d.decode_line(nmea("AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00S~,0")) is None
    assert rejects[0].reason == Reason.MALFORMED and "six-bit" in rejects[0].message


def test_extra_fields_after_the_fill_bits_and_an_empty_channel_are_a_warning_not_a_lost_line():
    """A plotter's sentences with an eighth field (pyais decodes them; so must we)."""
    from maritime.ingest.ais import AisDecoder
    from maritime.ingest.errors import DecodeStats

    line = b"!AIVDM,1,1,1,,13aI8e?P00PGpU:NR6s00?vT2000,0,0*1C"
    stats = DecodeStats()
    rejected: list = []
    dec = AisDecoder("plotter", default_time_s=1_716_000_000.0, on_reject=rejected.append, stats=stats)
    out = dec.decode_line(line)
    assert rejected == [] and out is not None
    (pos,) = out[1]
    assert (pos.mmsi, round(pos.lat, 5), round(pos.lon, 6), pos.sog_kn) == (244730036, 53.36018, 5.217555, 0.0)
    assert stats.warnings["extra_fields"] == 1 and stats.messages == 1
    # six fields are still too few to be an AIS sentence
    short = b"!AIVDM,1,1,,13aI8e?P00PGpU:NR6s00?vT2000,0"
    short += b"*" + f"{xor_checksum(short[1:]):02X}".encode()
    assert dec.decode_line(short) is None and rejected[-1].reason == "malformed"


# -- NMEA variants seen in real recordings, and what is kept as transmitted ----------------------------------


def _with_bits(payload: str, start: int, width: int, value: int) -> str:
    """An armoured payload with ``width`` bits from ``start`` set to ``value`` (to write codes pyais folds)."""
    bits = "".join(format((c - 48 if c - 48 < 40 else c - 56), "06b") for c in payload.encode())
    bits = bits[:start] + format(value, f"0{width}b") + bits[start + width:]
    out = []
    for k in range(0, len(bits), 6):
        v = int(bits[k:k + 6].ljust(6, "0"), 2)
        out.append(chr(v + 48 if v < 40 else v + 56))
    return "".join(out)


@pytest.mark.parametrize("code", [9, 15, 38, 39, 66, 77, 100, 200, 255])
def test_the_ship_type_code_is_kept_as_transmitted(code):
    """pyais folds the codes its enumeration lacks (66 into 65, 1-19 and 38 into nothing): we keep them."""
    from pyais import encode_dict

    d = AisDecoder("t", default_time_s=T0)
    lines = encode_dict({"msg_type": 5, "mmsi": 376000500, "shipname": "SEA BREEZE", "ship_type": 70,
                         "callsign": "J8AB2"})
    payload = "".join(ln.split(",")[5] for ln in lines)
    patched = _with_bits(payload, 232, 8, code)
    a, b = patched[:60], patched[60:]
    recs = []
    for s in (f"AIVDM,2,1,3,A,{a},0", f"AIVDM,2,2,3,A,{b},2"):
        got = d.decode_line(nmea(s))
        recs += got[1] if got else []
    assert [r.ship_type for r in recs] == [code] and recs[0].callsign == "J8AB2"


def test_type_24_parts_a_and_b_keep_name_and_ship_type():
    from pyais import encode_dict

    d = AisDecoder("t", default_time_s=T0)
    got = []
    for msg in ({"msg_type": 24, "partno": 0, "mmsi": 376000501, "shipname": "LITTLE ONE"},
                {"msg_type": 24, "partno": 1, "mmsi": 376000501, "ship_type": 37, "callsign": "J8XY"}):
        for s in encode_dict(msg):
            out = d.decode_line(s.encode())
            got += out[1] if out else []
    assert [(r.name, r.ship_type, r.callsign) for r in got] == [("LITTLE ONE", None, None), (None, 37, "J8XY")]


def test_a_one_digit_tag_block_checksum_is_read_and_counted():
    d = AisDecoder("t", default_time_s=T0)
    short = d.decode_line(b"\\c:1747209600*5\\" + TYPE1)  # one hex digit: read as 05, kept, counted
    assert short is not None and short[1][0].time_s == 1747209600
    assert d.stats.warnings["tag_block_checksum_short"] == 1 and not d.stats.rejected


def test_a_zero_padded_tag_time_that_is_no_time_keeps_the_sentence():
    d = AisDecoder("t", default_time_s=T0)
    out = d.decode_line(b"\\c:0002780328*00\\" + TYPE1)
    assert out is not None and out[1][0].time_s == T0
    assert d.stats.warnings["tag_block_time_unusable"] == 1 and not d.stats.rejected
    padded = d.decode_line(b"\\c:01747209600*00\\" + TYPE1)  # a zero-padded epoch is an epoch
    assert padded is not None and padded[1][0].time_s == 1747209600
