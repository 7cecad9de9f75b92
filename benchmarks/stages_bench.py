"""Where a replay spends its time: µs per position report in each stage, so that the next bottleneck is visible.

    python benchmarks/stages_bench.py [FILE] [--hours 6] [--vessels 300] [--out DIR] [--rounds 2]

Without FILE it simulates a Caribbean day (or reuses ``DIR/traffic.nmea``). Each stage of a ``--workers 1``
replay is timed on its own input, with the installed build (the typed core and mypyc where they are built):

- **event-time pass**: reading the file and putting its lines in event-time order (``ordered_lines``: the time
  of each message, its source's clock, the external sort);
- **decode**: :meth:`AisDecoder.decode_line` over the ordered lines, typed records made;
- **reorder + dedup**: the reorder window and the de-duplication across streams;
- **the chain**, built up one stage at a time over the decoded records (``Pipeline.process``): the loop with
  the tracker alone, then each gate, each detector and the arrivals stage added in turn; a stage's figure is
  what adding it cost (so the detectors are charged for the alerts they raise and their enrichment).

Then the whole replay as ``maritime replay`` runs it, and bare pyais (``IterMessages`` + ``decode()``) on the
same file, for the ratio. Best of ``--rounds``; the figures are for comparing stages within one run.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.decode_bench import machine  # noqa: E402
from benchmarks.pipeline_bench import bare_pyais  # noqa: E402
from maritime.buildinfo import build  # noqa: E402
from maritime.config import Settings  # noqa: E402
from maritime.ingest.decoders import source_decoder  # noqa: E402
from maritime.ingest.errors import DecodeStats  # noqa: E402
from maritime.ingest.eventtime import Deduplicator, reorder_window  # noqa: E402
from maritime.ingest.ordering import ordered_lines  # noqa: E402
from maritime.ingest.sources import parse_source  # noqa: E402
from maritime.runtime.assembly import Assembly  # noqa: E402
from maritime.runtime.pipeline import Pipeline, replay_gc  # noqa: E402
from maritime.zones.index import load_zones  # noqa: E402


def best_of(rounds: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """The shortest time of ``rounds`` calls (s), and the last call's result."""
    best, got = float("inf"), None
    for _ in range(rounds):
        gc.collect()
        with replay_gc():
            t0 = time.perf_counter()
            got = fn()
            best = min(best, time.perf_counter() - t0)
    return best, got


def chain_run(s: Settings, assembly: Assembly, items: list[tuple[float, Any]], gates: int, detectors: int,
              arrivals: bool) -> None:
    """The decoded records through a fresh pipeline with the first ``gates`` gates and ``detectors``
    detectors (and the arrivals stage or not)."""
    pipe = Pipeline(s, assembly=assembly)
    pipe.chain.gates[:] = pipe.chain.gates[:gates]
    pipe.chain.detectors[:] = pipe.chain.detectors[:detectors]
    if not arrivals:
        pipe.chain.listeners[:] = []
        pipe.arrivals = None
    process = pipe.process
    for t, item in items:
        process(t, item)
    pipe.finish()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", nargs="?", type=Path)
    ap.add_argument("--hours", type=float, default=6.0)
    ap.add_argument("--vessels", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="keep the simulated day here (reused when present)")
    args = ap.parse_args()
    zones_dir = ROOT / "geofences"
    traffic = args.file
    if traffic is None:
        out = args.out or Path(tempfile.mkdtemp(prefix="mda-stages-"))
        traffic = out / "traffic.nmea"
        if not traffic.exists():
            from maritime.sim.simulator import Simulator

            sim = Simulator(args.hours, args.vessels, args.seed, zones=load_zones(zones_dir))
            sim.build()
            sim.write(out)
    lines = sum(1 for _ in traffic.open("rb"))
    s = Settings()
    (spec,) = parse_source(str(traffic))
    zones = load_zones(zones_dir)
    rows: list[tuple[str, float]] = []

    def order() -> list[tuple[float, bytes, float | None]]:
        return list(ordered_lines(spec, s, 0.0, lambda r: None, DecodeStats()))

    t, ordered = best_of(args.rounds, order)
    rows.append(("event-time pass", t))

    def decode(ordered: list[tuple[float, bytes, float | None]] = ordered) -> list[Any]:
        dec = source_decoder(s, spec.name, 0.0, lambda r: None, DecodeStats())
        got = [dec.decode_line(line, None, assigned) for _t, line, assigned in ordered]
        dec.close()
        return [g for g in got if g is not None and g[1]]

    t, decoded = best_of(args.rounds, decode)
    rows.append(("decode", t))

    def reorder(decoded: list[Any] = decoded) -> list[tuple[float, Any]]:
        r = reorder_window(s.ingest.reorder_window_of(spec.name))  # the typed core's when built
        dedup = Deduplicator(s.ingest.dedup_window_s)
        out: list[tuple[float, Any]] = []
        for got in decoded:
            out.extend(r.push(got[1][0].time_s, got))
        out.extend(r.flush())
        return [(t, item) for t, item in out if not dedup.is_duplicate(item[0], t)]

    t, items = best_of(args.rounds, reorder)
    rows.append(("reorder + dedup", t))
    assembly = Assembly(s, zones)
    probe = Pipeline(s, assembly=assembly)
    gate_names = [type(g).__name__ for g in probe.chain.gates]
    det_names = [d.name for d in probe.chain.detectors]
    has_arrivals = probe.arrivals is not None
    steps: list[tuple[str, int, int, bool]] = [("chain: loop, tracker, emit", 0, 0, False)]
    steps += [(f"gate {name}", k + 1, 0, False) for k, name in enumerate(gate_names)]
    steps += [(f"detector {name}", len(gate_names), k + 1, False) for k, name in enumerate(det_names)]
    if has_arrivals:
        steps.append(("arrivals stage", len(gate_names), len(det_names), True))
    before = 0.0
    for name, g, d, arr in steps:
        t, _ = best_of(args.rounds, lambda g=g, d=d, arr=arr: chain_run(s, assembly, items, g, d, arr))
        rows.append((name, t - before))
        before = t
    positions = sum(1 for _t, item in items for r in item[1] if type(r).__name__ == "Position")

    def replay() -> dict[str, Any]:
        pipe = Pipeline(s, assembly=Assembly(s, zones))
        return pipe.replay([spec], workers=1)

    total, summary = best_of(args.rounds, replay)
    _n, t_py = bare_pyais(traffic)
    print(f"machine: {machine()}")
    print(f"input:   {traffic} ({lines:,} lines, {positions:,} position reports, {summary['vessels']} vessels)")
    print(f"build:   {build()}")
    print(f"replay --workers 1: {total:.1f} s = {lines / total:,.0f} sentences/s; bare pyais {t_py:.1f} s = "
          f"{lines / t_py:,.0f} sentences/s; ratio to pyais {t_py / total:.2f}x (best of {args.rounds})")
    print(f"{'stage':<36}{'µs/position':>12}{'share':>8}")
    staged = sum(t for _n, t in rows)
    for name, spent in rows:
        print(f"{name:<36}{spent / positions * 1e6:>12.2f}{spent / staged:>8.0%}")
    print(f"{'sum of the stages':<36}{staged / positions * 1e6:>12.2f}{1:>8.0%}")
    print(f"{'the whole replay':<36}{total / positions * 1e6:>12.2f}")


if __name__ == "__main__":
    main()
