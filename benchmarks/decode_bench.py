"""Decode throughput: our boundary against bare pyais on the same lines, in one run.

    python benchmarks/decode_bench.py [FILE ...] [--repeat N]

Without files it uses the real recordings in ../shared/data/nmea. "decode" is the decode stage alone
(:meth:`AisDecoder.decode_line`: lines to typed records, in the typed core's C where it is built); "ours" is
decode + event time (reorder window) + de-duplication; bare pyais is ``IterMessages`` + ``decode()``. Both run over
the same in-memory lines, alternately, best of ``--rounds``; the figures and
the ratio are printed with the machine and the input.

When ``aiscat`` (AIS-catcher's C++ decoder for Python, GPL-3.0, not a dependency: ``pip install aiscat``) is
installed it is timed too, ``iter_decode`` to dictionaries over the same lines, so that the gap between our decode
stage and a compiled decoder is named in the same run. aiscat checks the sentence checksum and joins multipart
messages; it keeps no per-receiver clock, makes no typed records (its floats are single precision), counts no
rejected line and keeps no dead letters.
"""

from __future__ import annotations

import argparse
import gc
import platform
import time
from pathlib import Path
from typing import Any

from pyais.stream import IterMessages

from maritime.buildinfo import build
from maritime.ingest.ais import AisDecoder
from maritime.ingest.eventtime import Deduplicator, reorder_window

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT.parent / "shared" / "data" / "nmea"


def machine() -> str:
    """CPU model, cores and Python, for the printed figures."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}"


def bare_pyais(lines: list[bytes]) -> int:
    n = 0
    for msg in IterMessages(lines):
        try:
            msg.decode()
        except Exception:
            continue
        n += 1
    return n


def aiscat_bare(lines: list[bytes]) -> int:
    """aiscat over the same lines (each with its newline, as read from a file): messages decoded to dicts."""
    import aiscat

    return sum(1 for _ in aiscat.iter_decode(lines))


def decode_only(lines: list[bytes]) -> int:
    """The decode stage alone: every line through :meth:`AisDecoder.decode_line` (the typed core's C path where it
    is built), records made, nothing ordered."""
    dec = AisDecoder("bench", default_time_s=0.0)
    decode = dec.decode_line
    for line in lines:
        decode(line)
    dec.close()
    return dec.stats.messages


def ours(lines: list[bytes]) -> int:
    dec = AisDecoder("bench", default_time_s=0.0)
    reorder = reorder_window(60.0)  # the typed core's when built
    dedup = Deduplicator(60.0)
    n = 0
    for line in lines:
        out = dec.decode_line(line)
        if out is None or not out[1]:
            continue
        for t, (payload, _recs) in reorder.push(out[1][0].time_s, out):
            if not dedup.is_duplicate(payload, t):
                n += 1
    for t, (payload, _recs) in reorder.flush():
        if not dedup.is_duplicate(payload, t):
            n += 1
    dec.close()
    return dec.stats.messages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=1, help="repeat the input this many times")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    files = args.files or sorted(DEFAULT_DIR.glob("*"))
    if not files:
        raise SystemExit("no input: pass NMEA files (../shared/data/nmea is not here)")
    lines: list[bytes] = []
    for f in files:
        lines.extend(f.read_bytes().splitlines())
    lines *= args.repeat
    nonempty = sum(1 for ln in lines if ln.strip())
    runs: list[tuple[str, Any]] = [("pyais", bare_pyais), ("decode", decode_only), ("ours", ours)]
    try:
        import aiscat  # noqa: F401

        ended = [ln + b"\n" for ln in lines]  # aiscat reads chunks of a stream: the lines as a file has them
        runs.append(("aiscat", lambda _lines: aiscat_bare(ended)))
    except ImportError:
        pass
    best = {name: float("inf") for name, _fn in runs}
    counts = {}
    for _ in range(args.rounds):
        for name, fn in runs:
            gc.collect()
            t0 = time.perf_counter()
            counts[name] = fn(lines)
            best[name] = min(best[name], time.perf_counter() - t0)
    print(f"machine: {machine()}")
    print(f"input:   {len(files)} file(s) x {args.repeat} = {nonempty:,} lines ({', '.join(f.name for f in files)})")
    print(f"build:   {build()}")
    for name, _fn in runs:
        print(f"{name:>6}: {counts[name]:>9,} messages  {nonempty / best[name]:>10,.0f} lines/s  "
              f"{counts[name] / best[name]:>10,.0f} messages/s  (best of {args.rounds})")
    print(f"ratio decode stage alone/pyais (lines/s): {best['pyais'] / best['decode']:.2f}x")
    print(f"ratio ours (decode + reorder + dedup)/pyais (lines/s): {best['pyais'] / best['ours']:.2f}x")
    if "aiscat" in best:
        print(f"ratio aiscat/pyais (lines/s): {best['pyais'] / best['aiscat']:.2f}x; the decode stage is "
              f"{best['decode'] / best['aiscat']:.2f}x slower than aiscat, decode + reorder + dedup "
              f"{best['ours'] / best['aiscat']:.2f}x")
    else:
        print("aiscat: not installed (pip install aiscat) — no comparison with a compiled decoder in this run")


if __name__ == "__main__":
    main()
