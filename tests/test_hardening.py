"""Bounded under floods: orphan fragments cost constant time each, and no line is held whole past 16 KB."""

from __future__ import annotations

from maritime.config import Settings
from maritime.ingest.ais import AisDecoder, DecodeStats
from maritime.ingest.sources import MAX_LINE_BYTES, parse_source
from maritime.sim.encode import checksum

from .conftest import Collect, assembled_pipeline

GOOD = b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"


def fragment(i: int, t: int) -> bytes:
    """Fragment 1 of 2 of a message that never completes, under a talker, channel and id of its own."""
    talker = bytes([65 + i % 26, 65 + i // 26 % 26]).decode()
    body = (f"{talker}VDM,2,1,{i // 676 % 10},{'AB'[i // 6760 % 2]},"
            "55?t0002:AQ3<HIK<01<5<4q5D40000000000016:0j??4VcNA?RT85BhP0000,0").encode()
    tb = f"c:{t}".encode()
    return (b"\\" + tb + b"*" + f"{checksum(tb):02X}".encode() + b"\\!" + body + b"*"
            + f"{checksum(body):02X}".encode())


def test_a_flood_of_orphan_fragments_is_counted_and_swept_without_rescanning():
    stats = DecodeStats()
    dec = AisDecoder("flood", stats=stats, fragment_timeout_s=60.0, max_pending=1_000)
    t0 = 1_700_000_000
    visits = 0
    pending = dec._pending

    class Counting(dict):  # counts how many pending entries the sweeps look at
        def items(self):
            for kv in super().items():
                nonlocal visits
                visits += 1
                yield kv

    dec._pending = Counting(pending)
    n = 13_520
    for i in range(n):
        dec.decode_line(fragment(i, t0 + i // 100))
    dec.close()
    assert stats.rejected == {"orphan_fragment": n}
    assert visits <= 3 * n  # each sweep stops at the first fragment still waiting: linear, not quadratic


def test_a_huge_line_is_cut_and_rejected_and_the_next_line_is_read(tmp_path):
    p = tmp_path / "huge.nmea"
    p.write_bytes(GOOD + b"\n" + b"!" + b"A" * (4 * 1024 * 1024) + b"\n" + GOOD.replace(b"A,15R", b"B,15R") + b"\n")
    sink = Collect()
    summary = assembled_pipeline(Settings(), [sink]).replay(parse_source(str(p)))
    assert summary["lines"] == 3
    assert sum(summary["rejected"].values()) >= 1
    assert MAX_LINE_BYTES == 16_384
