"""What reading bounded inputs in event-time order costs: time on a simulated day, memory on a large table.

    python benchmarks/ordering_bench.py [--hours 12] [--vessels 200] [--rows 10000000] [--run-items 400000]

1. **Sort cost on a day**: the simulated day's NMEA replayed (decode and track, no detector) with its lines
   in event-time order (the time pass, the clocks, the external sort, then the decode) against the same
   lines decoded as they come (no ordering), in one run, alternated, best of 3; the ratio is the cost.
2. **Peak memory on a large table**: a MarineCadastre CSV of ``--rows`` rows (written here, shuffled by
   vessel), read through :func:`maritime.ingest.ordering.ordered_records` (parse, external sort in runs of
   ``--run-items``, clocks, static de-duplication), its peak resident memory printed beside the rows/s.

The figures are printed with the machine and the input; nothing is asserted.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.decode_bench import machine  # noqa: E402
from maritime.config import Settings  # noqa: E402
from maritime.ingest.decoders import first_timestamp, source_decoder  # noqa: E402
from maritime.ingest.errors import DecodeStats  # noqa: E402
from maritime.ingest.ordering import ordered_lines  # noqa: E402
from maritime.ingest.sources import iter_lines, parse_source  # noqa: E402


def decode_as_it_comes(path: Path) -> int:
    spec = parse_source(str(path))[0]
    dec = source_decoder(Settings(), spec.name, first_timestamp(spec) or 0.0, lambda r: None, DecodeStats())
    n = 0
    for line in iter_lines(spec):
        got = dec.decode_line(line)
        n += bool(got and got[1])
    return n


def decode_in_order(path: Path, run_items: int) -> int:
    spec = parse_source(str(path))[0]
    settings = Settings()
    start = first_timestamp(spec) or 0.0
    stats = DecodeStats()
    dec = source_decoder(settings, spec.name, start, lambda r: None, stats)
    n = 0
    for _t, line, assigned in ordered_lines(spec, settings, start, lambda r: None, stats, run_items=run_items):
        got = dec.decode_line(line, None, assigned)
        n += bool(got and got[1])
    return n


def sort_cost(day: Path, run_items: int) -> None:
    lines = sum(1 for _ in day.open("rb"))
    best = {"as it comes": float("inf"), "in event-time order": float("inf")}
    for _ in range(3):
        for label, fn in (("as it comes", lambda: decode_as_it_comes(day)),
                          ("in event-time order", lambda: decode_in_order(day, run_items))):
            t = time.perf_counter()
            fn()
            best[label] = min(best[label], time.perf_counter() - t)
    base, ordered = best["as it comes"], best["in event-time order"]
    print(f"sort cost on {day.name} ({lines:,} lines): decoded as they come {lines / base:,.0f} lines/s, in "
          f"event-time order {lines / ordered:,.0f} lines/s: ordering costs {ordered / base - 1:.0%} of decoding")


def write_table(path: Path, rows: int, vessels: int = 5000) -> None:
    """A MarineCadastre table of ``rows`` rows, grouped by vessel (the order exports come in)."""
    import numpy as np

    rng = np.random.default_rng(1)
    per = rows // vessels
    t0 = 1_747_180_800
    with path.open("w") as fh:
        fh.write("MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,"
                 "Width,Draft,Cargo,TransceiverClass\n")
        for v in range(vessels):
            mmsi = 367_000_000 + v
            times = np.sort(rng.integers(0, 86_400 * 7, per)) + t0
            lat = 10 + rng.random() * 15 + np.cumsum(rng.normal(0, 0.001, per))
            lon = -85 + rng.random() * 25 + np.cumsum(rng.normal(0, 0.001, per))
            stamp = np.datetime_as_string(times.astype("datetime64[s]"))
            fh.writelines(f"{mmsi},{s},{a:.5f},{o:.5f},10.1,90.0,90,VESSEL {v},,,70,0,100,20,5.0,,A\n"
                          for s, a, o in zip(stamp, lat, lon, strict=True))


def table_memory(rows: int, run_items: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "big.csv"
        t = time.perf_counter()
        write_table(table, rows)
        size = table.stat().st_size
        print(f"wrote {rows:,} rows ({size / 1e9:.2f} GB) in {time.perf_counter() - t:.0f} s")
        code = (f"import resource, sys, time; sys.path.insert(0, {str(ROOT)!r})\n"
                "from maritime.config import Settings\nfrom maritime.ingest.errors import DecodeStats\n"
                "from maritime.ingest.ordering import ordered_records\n"
                "from maritime.ingest.sources import parse_source\n"
                f"spec = parse_source({str(table)!r})[0]\nt = time.perf_counter(); n = 0\n"
                f"for recs in ordered_records(spec, Settings(), None, lambda r: None, DecodeStats(), {run_items}):\n"
                "    n += 1\n"
                "print(n, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
        n, secs, rss_kb = int(out[0]), float(out[1]), int(out[2])
        print(f"ordered {n:,} rows of a {rows:,}-row table in {secs:.0f} s ({rows / secs:,.0f} rows/s), runs of "
              f"{run_items:,}: peak resident memory {rss_kb / 1024:,.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=12.0)
    ap.add_argument("--vessels", type=int, default=200)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--run-items", type=int, default=400_000)
    ap.add_argument("--skip-table", action="store_true")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "maritime.cli", "simulate", "--out", tmp, "--hours", str(args.hours),
                        "--vessels", str(args.vessels)], check=True, capture_output=True)
        sort_cost(Path(tmp) / "traffic.nmea", args.run_items)
    if not args.skip_table:
        table_memory(args.rows, args.run_items)
    print(f"(this process: peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB)")


if __name__ == "__main__":
    main()
