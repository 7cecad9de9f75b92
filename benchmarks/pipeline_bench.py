"""Whole-pipeline throughput on a simulated Caribbean day, against bare pyais on the same file.

    python benchmarks/pipeline_bench.py [--hours 24] [--vessels 300] [--out DIR] [--state-vessels 20000] [--rounds 2]
                                        [--workers 1 2 ...] [--cold-cells]

1. Simulates the day (or reuses ``DIR/traffic.nmea``), then in one run times
   bare pyais (``IterMessages`` + ``decode()``), the embedded pipeline of the
   installed build (compiled with mypyc, or pure Python: printed), and, with
   ``--pure-too``, the pure-Python modules (``MARITIME_PURE=1``, in a child
   process), and the embedded pipeline
   (decode + event time + de-duplication + every detector with the default
   Caribbean zones + JSON-lines sink) over the same file, alternately, best of
   ``--rounds``, and prints both and
   the ratio with the machine and the input; the embedded pipeline is timed
   with each ``--workers`` count (default 1 to the number of cores: the
   scaling), and the alerts files' digests show that they are the same.
2. Feeds ``--state-vessels`` distinct vessels through the detectors (no
   decoding) and prints the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import resource
import sys
import tempfile
import time
from pathlib import Path

from pyais.stream import IterMessages

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.decode_bench import machine  # noqa: E402
from maritime.buildinfo import build  # noqa: E402
from maritime.config import Settings  # noqa: E402
from maritime.delivery.jsonl import JsonLinesSink  # noqa: E402
from maritime.ingest.sources import parse_source  # noqa: E402
from maritime.models import Position  # noqa: E402
from maritime.paths import cache_dir  # noqa: E402
from maritime.runtime.assembly import Assembly  # noqa: E402
from maritime.runtime.decode_workers import default_workers  # noqa: E402
from maritime.runtime.pipeline import Pipeline, replay_gc  # noqa: E402
from maritime.zones.index import load_zones  # noqa: E402


def bare_pyais(path: Path) -> tuple[int, float]:
    t0 = time.perf_counter()
    n = 0
    with path.open("rb") as fh:
        for msg in IterMessages(fh):
            try:
                msg.decode()
            except Exception:
                continue
            n += 1
    return n, time.perf_counter() - t0


def pipeline(path: Path, zones_dir: Path, alerts: Path, workers: int = 1) -> tuple[dict, float]:
    s = Settings()
    zones = load_zones(zones_dir)
    pipe = Pipeline(s, assembly=Assembly(s, zones), sinks=[JsonLinesSink(alerts)])
    # warm the land and zone indexes so that start-up is not timed as throughput
    pipe.gates[0].check(Position(376000500, 0, 14.5, -66.0), pipe.tracker.get(376000500))  # type: ignore[attr-defined]
    pipe.tracker.vessels.clear()
    pipe.gates[0].state.clear()  # type: ignore[attr-defined]
    with replay_gc():  # as `maritime replay` runs it
        t0 = time.perf_counter()
        summary = pipe.replay(parse_source(str(path)), workers=workers)
        return summary, time.perf_counter() - t0


def state_memory(n_vessels: int, zones_dir: Path) -> float:
    """Peak RSS (MiB) after feeding ``n_vessels`` vessels, 12 fixes each, through every detector."""
    import random

    rng = random.Random(1)
    s = Settings()
    pipe = Pipeline(s, assembly=Assembly(s, load_zones(zones_dir)))
    base = 1_747_180_800.0
    starts = [(rng.uniform(10, 25), rng.uniform(-85, -60), rng.uniform(0, 360), rng.uniform(0, 18))
              for _ in range(n_vessels)]
    for k in range(12):
        t = base + 300 * k
        for i, (lat, lon, cog, sog) in enumerate(starts):
            mmsi = 376_000_000 + i
            pos = Position(mmsi, t + i * 0.01, lat + 0.001 * k, lon, sog, cog, int(cog), 0, 1, "bench")
            pipe.process(pos.time_s, (None, [pos]))
    pipe.finish()
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mib() -> float:
    """Resident memory now (MiB), from /proc (Linux)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def flood_memory(n_mmsis: int) -> tuple[float, float, float, int, int]:
    """A flood of ``n_mmsis`` forged MMSIs heard once each in 10 min, then one ship for 30 h (event time):
    (RSS before, after the flood, after eviction in MiB, vessels after the flood, vessels kept)."""
    s = Settings.model_validate({"identity": {"land_check": False}})
    pipe = Pipeline(s, assembly=Assembly(s))
    base = 1_747_180_800.0
    gc.collect()
    before = _rss_mib()
    for i in range(n_mmsis):
        pos = Position(200_000_000 + i, base + i * 600 / n_mmsis, 14.0 + (i % 500) * 0.01,
                       -70.0 + (i // 500) * 0.01, 5.0, 90.0, None, 0, 1, "flood")
        pipe.process(pos.time_s, (None, [pos]))
    after = _rss_mib()
    heard = len(pipe.tracker)
    for k in range(1, 30 * 6):
        t = base + 600 + 600 * k
        pipe.process(t, (None, [Position(377_000_700, t, 15.5, -66.0, 0.1, 0.0, None, 5, 1, "steady")]))
    gc.collect()
    return before, after, _rss_mib(), heard, len(pipe.tracker)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--vessels", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="keep the simulated day here (reused when present)")
    ap.add_argument("--state-vessels", type=int, default=20_000)
    ap.add_argument("--flood-mmsis", type=int, default=200_000, help="forged MMSIs for the flood figure (0: none)")
    ap.add_argument("--rounds", type=int, default=2, help="alternate rounds of both; the best of each is shown")
    ap.add_argument("--workers", type=int, nargs="*", default=None,
                    help="worker counts to time (default: 1 to the number of cores)")
    ap.add_argument("--pure-too", action="store_true", help="also time the pure-Python modules (MARITIME_PURE=1)")
    ap.add_argument("--cold-cells", action="store_true",
                    help="work the zone cells out afresh in every replay (the zone-cells files of the cache folder "
                         "are removed before each: they are made again)")
    ap.add_argument("--child-pipeline", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_pipeline is not None:  # the pure-Python run, in its own interpreter
        _summary, t = pipeline(args.child_pipeline, ROOT / "geofences", args.child_pipeline.with_suffix(".pure.jsonl"))
        print(t)
        return
    out = args.out or Path(tempfile.mkdtemp(prefix="mda-bench-"))
    traffic = out / "traffic.nmea"
    zones_dir = ROOT / "geofences"
    if not traffic.exists():
        from maritime.sim.simulator import Simulator

        t0 = time.perf_counter()
        sim = Simulator(args.hours, args.vessels, args.seed, zones=load_zones(zones_dir))
        sim.build()
        info = sim.write(out)
        print(f"simulated {args.hours:g} h, {args.vessels} vessels: {info['lines']:,} lines in "
              f"{time.perf_counter() - t0:.0f} s")
    lines = sum(1 for _ in traffic.open("rb"))
    # alternately, best of --rounds: this machine's speed drifts by ±15 % from minute to minute
    counts = args.workers or list(range(1, default_workers() + 1))
    t_py = t_pure = float("inf")
    t_w = {w: float("inf") for w in counts}
    digests: dict[int, str] = {}
    for _ in range(args.rounds):
        gc.collect()
        n_py, t = bare_pyais(traffic)
        t_py = min(t_py, t)
        for w in counts:
            if args.cold_cells:
                for kept in cache_dir().glob("zone-cells-*.npz"):
                    kept.unlink()
            gc.collect()
            summary, t = pipeline(traffic, zones_dir, out / f"alerts-{w}.jsonl", w)
            t_w[w] = min(t_w[w], t)
            digests[w] = hashlib.sha256((out / f"alerts-{w}.jsonl").read_bytes()).hexdigest()[:16]
        if args.pure_too:
            import os
            import subprocess

            got = subprocess.run([sys.executable, __file__, "--child-pipeline", str(traffic)], check=True,
                                 capture_output=True, text=True, env={**os.environ, "MARITIME_PURE": "1"})
            t_pure = min(t_pure, float(got.stdout.split()[-1]))
    t_pipe = t_w[counts[0]]
    print(f"machine:  {machine()}")
    print(f"input:    {traffic} ({lines:,} lines, {traffic.stat().st_size / 1e6:.0f} MB), "
          f"{summary['vessels']} vessels, default Caribbean zones")
    print(f"pyais:    {n_py:,} messages in {t_py:.1f} s = {lines / t_py:,.0f} sentences/s (best of {args.rounds})")
    print(f"pipeline: {summary['messages']:,} messages, {sum(summary['alerts_by_type'].values())} alerts "
          f"(build: {build()}; best of {args.rounds})")
    print("  zone cells: " + ("worked out afresh in every replay (--cold-cells)" if args.cold_cells else
                              f"kept between replays in {cache_dir()}, as `maritime replay` keeps them (the first "
                              "replay of a zone set works them out; --cold-cells: every replay)"))
    for w in counts:
        print(f"  --workers {w}: {t_w[w]:.1f} s = {lines / t_w[w]:,.0f} sentences/s, ratio to pyais "
              f"{t_py / t_w[w]:.2f}x, {t_w[counts[0]] / t_w[w]:.2f}x of --workers {counts[0]}; alerts file "
              f"sha256 {digests[w]}")
    if len(set(digests.values())) > 1:
        print("  WARNING: the worker counts wrote different alerts")
    if args.pure_too:
        print(f"pure Python pipeline: {t_pure:.1f} s = {lines / t_pure:,.0f} sentences/s, ratio {t_py / t_pure:.2f}x; "
              f"compiled/pure speed {t_pure / t_pipe:.2f}x")
    print(f"alerts by type: {summary['alerts_by_type']}")
    rss = state_memory(args.state_vessels, zones_dir)
    print(f"peak RSS after {args.state_vessels:,} vessels through every detector: {rss:,.0f} MiB")
    if args.flood_mmsis:
        before, after, evicted, heard, kept = flood_memory(args.flood_mmsis)
        print(f"flood of {args.flood_mmsis:,} forged MMSIs in 10 min: RSS {before:,.0f} -> {after:,.0f} MiB "
              f"({(after - before) * 2**20 / max(1, heard):,.0f} bytes per MMSI, {heard:,} vessels); a day later, "
              f"{kept:,} vessels kept, RSS {evicted:,.0f} MiB (freed memory stays with the process for reuse)")


if __name__ == "__main__":
    main()
