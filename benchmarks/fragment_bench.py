"""Orphan multipart fragments: the decoder's time per fragment as the flood grows (it must stay flat).

    python benchmarks/fragment_bench.py [--max 1000000]

Feeds 10,000, 100,000 and up to ``--max`` first halves of two-part messages, each with its own sequence id
and never completed (about 100 a second of event time), and prints the time per fragment for each size with the
machine. A full scan of the pending fragments per new one (the old way) made 1,000,000 take 239 s; linear
means the time per fragment does not grow with the flood.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.decode_bench import machine  # noqa: E402
from maritime.ingest.ais import AisDecoder  # noqa: E402
from maritime.ingest.errors import DecodeStats  # noqa: E402


def checksum(body: str) -> str:
    x = 0
    for ch in body.encode():
        x ^= ch
    return f"{x:02X}"


def fragments(n: int, t0: int = 1_700_000_000) -> list[bytes]:
    """``n`` first fragments of two-part type 5 messages, tagged 100 a second, each under a talker, channel and
    sequence id of its own among 13,520 (so thousands wait at once, as in the flood that took 239 s)."""
    out = []
    for i in range(n):
        tag = f"c:{t0 + i // 100}"
        talker = chr(65 + i % 26) + chr(65 + i // 26 % 26)
        body = (f"{talker}VDM,2,1,{i // 676 % 10},{'AB'[i // 6760 % 2]},"
                "55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0")
        out.append(f"\\{tag}*{checksum(tag)}\\!{body}*{checksum(body)}".encode())
    return out


def run(n: int) -> tuple[float, int]:
    lines = fragments(n)
    stats = DecodeStats()
    dec = AisDecoder("flood", stats=stats, fragment_timeout_s=60.0)
    t = time.perf_counter()
    for line in lines:
        dec.decode_line(line)
    dec.close()
    return time.perf_counter() - t, stats.rejected.get("orphan_fragment", 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max", type=int, default=1_000_000)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    for n in sorted({10_000, 100_000, args.max}):
        secs, orphans = run(n)
        print(f"{n:>9,} orphan fragments: {secs:6.2f} s = {secs / n * 1e6:5.1f} µs each ({orphans:,} counted)")


if __name__ == "__main__":
    main()
