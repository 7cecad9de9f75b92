"""Where a replay spends its time: µs per position report in each stage, so that the next bottleneck is visible.

    python benchmarks/stages_bench.py [FILE] [--hours 6] [--vessels 300] [--out DIR]

Without FILE it simulates a Caribbean day (or reuses ``DIR/traffic.nmea``). One ``--workers 1`` replay of the
installed build runs with a timer around each stage:

- **event-time pass**: reading the lines and putting them in event-time order (``ordered_lines``);
- **decode**: :meth:`AisDecoder.decode_line` (the typed core's C path where it is built, else pure Python);
- each **gate** (``check``), the **tracker** and each **detector** (``on_position``, ``on_static``,
  ``on_watermark``), the **listeners** (the arrivals stage);
- **the rest**: reorder, de-duplication, the chain's own loop, enrichment and the sink (the whole replay less
  the stages above).

Then bare pyais (``IterMessages`` + ``decode()``) on the same file, for the ratio. Timers cost about 0.1 µs a
call, charged to the stage they wrap; the figures are for comparing stages within one run, not absolute.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.decode_bench import machine  # noqa: E402
from benchmarks.pipeline_bench import bare_pyais  # noqa: E402
from maritime.buildinfo import build  # noqa: E402
from maritime.config import Settings  # noqa: E402
from maritime.ingest import ordering  # noqa: E402
from maritime.ingest.ais import AisDecoder  # noqa: E402
from maritime.ingest.sources import parse_source  # noqa: E402
from maritime.runtime import pipeline as pipeline_mod  # noqa: E402
from maritime.runtime.assembly import Assembly  # noqa: E402
from maritime.runtime.pipeline import Pipeline, replay_gc  # noqa: E402
from maritime.zones.index import load_zones  # noqa: E402

SPENT: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with its time charged to ``name``."""
    clock = time.perf_counter

    def wrapper(*args: Any, **kw: Any) -> Any:
        t0 = clock()
        try:
            return fn(*args, **kw)
        finally:
            SPENT[name] += clock() - t0
            CALLS[name] += 1

    return wrapper


def instrument(pipe: Pipeline) -> None:
    """Timers around every gate, the tracker, every detector and the listeners of ``pipe``'s chain."""
    chain = pipe.chain
    for gate in chain.gates:
        gate.check = timed(f"gate {type(gate).__name__}", gate.check)  # type: ignore[method-assign]
    tracker = chain.tracker
    tracker.on_position = timed("tracker", tracker.on_position)  # type: ignore[method-assign]
    tracker.on_static = timed("tracker", tracker.on_static)  # type: ignore[method-assign]
    for det in chain.detectors:
        for hook in ("on_position", "on_static", "on_watermark"):
            setattr(det, hook, timed(f"detector {det.name}", getattr(det, hook)))
    chain.listeners[:] = [timed("listeners (arrivals)", fn) for fn in chain.listeners]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", nargs="?", type=Path)
    ap.add_argument("--hours", type=float, default=6.0)
    ap.add_argument("--vessels", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
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

    # the decoder and the event-time pass, wrapped where the replay finds them
    real_decode = AisDecoder.decode_line
    timed_decode = timed("decode", real_decode)

    def decode(self: AisDecoder, *a: Any) -> Any:  # the event-time pass's own decoder is charged to that pass
        return (timed_decode if type(self) is AisDecoder else real_decode)(self, *a)

    AisDecoder.decode_line = decode  # type: ignore[method-assign]
    real_ordered = ordering.ordered_lines

    def ordered(*a: Any, **kw: Any) -> Any:
        it = real_ordered(*a, **kw)
        nxt = timed("event-time pass", it.__next__)
        while True:
            try:
                yield nxt()
            except StopIteration:
                return

    pipeline_mod.ordered_lines = ordered  # type: ignore[attr-defined]
    s = Settings()
    pipe = Pipeline(s, assembly=Assembly(s, load_zones(zones_dir)))
    instrument(pipe)
    gc.collect()
    with replay_gc():
        t0 = time.perf_counter()
        summary = pipe.replay(parse_source(str(traffic)), workers=1)
        total = time.perf_counter() - t0
    AisDecoder.decode_line = real_decode  # type: ignore[method-assign]
    gc.collect()
    _n, t_py = bare_pyais(traffic)
    positions = max(1, sum(n for t, n in summary["messages_by_type"].items() if int(t) in (1, 2, 3, 18, 19, 27)))
    print(f"machine: {machine()}")
    print(f"input:   {traffic} ({lines:,} lines, {positions:,} position reports, {summary['vessels']} vessels)")
    print(f"build:   {build()}")
    print(f"replay --workers 1: {total:.1f} s = {lines / total:,.0f} sentences/s; bare pyais {t_py:.1f} s = "
          f"{lines / t_py:,.0f} sentences/s; ratio to pyais {t_py / total:.2f}x")
    print(f"{'stage':<34}{'µs/position':>12}{'share':>8}{'calls':>12}")
    rest = total - sum(SPENT.values())
    rows = [*sorted(SPENT.items(), key=lambda kv: -kv[1]), ("the rest (reorder, dedup, chain, sink)", rest)]
    for name, spent in rows:
        print(f"{name:<34}{spent / positions * 1e6:>12.2f}{spent / total:>8.0%}{CALLS.get(name, 0):>12,}")
    print(f"{'total':<34}{total / positions * 1e6:>12.2f}{1:>8.0%}")


if __name__ == "__main__":
    main()
