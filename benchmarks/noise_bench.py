"""Measured noise: alerts per 1,000 vessel-hours by type, on ordinary life and on real recordings.

    python benchmarks/noise_bench.py [--hours 24] [--vessels 800] [--seed 3] [--data ../shared/data/nmea]

1. A simulated Caribbean day with its ordinary life (yachts in six anchorages,
   boats at a FAD, a cruise ship with tenders, a tug alongside, a shared MMSI)
   and scripted events, replayed with the bundled zones: the *false* alerts
   (those matching no truth event) per 1,000 vessel-hours, by type, and the
   recall of the scripted events.
2. Every real recording in ``--data``, replayed with the bundled zones: every
   alert per 1,000 vessel-hours by type (no truth: each one is to be
   explained), with the vessels heard and the hours they were heard.

Vessel-hours: for each vessel, the time from its first to its last position,
at least one minute. Prints the machine and the inputs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.decode_bench import machine  # noqa: E402
from maritime.config import Settings  # noqa: E402
from maritime.delivery.jsonl import JsonLinesSink  # noqa: E402
from maritime.ingest.sources import parse_source  # noqa: E402
from maritime.runtime.assembly import Assembly  # noqa: E402
from maritime.runtime.pipeline import Pipeline  # noqa: E402
from maritime.sim.evaluate import (  # noqa: E402
    TOLERANCE_S,
    _matches,
    evaluate,
    load_alerts,
    load_ordinary,
    load_truth,
    ordinary_life,
)
from maritime.sim.simulator import Simulator  # noqa: E402
from maritime.zones.index import ZoneIndex, load_zones  # noqa: E402


def replay(path: Path, zones: ZoneIndex, alerts: Path) -> tuple[dict, float]:
    """Replay ``path``; the summary and the vessel-hours heard."""
    s = Settings()
    pipe = Pipeline(s, assembly=Assembly(s, zones), sinks=[JsonLinesSink(alerts)])
    spans: dict[int, list[float]] = {}

    def listen(rec: object) -> None:
        t = getattr(rec, "time_s", None)
        m = getattr(rec, "mmsi", None)
        if t is None or m is None or not hasattr(rec, "lat"):
            return
        sp = spans.get(m)
        if sp is None:
            spans[m] = [t, t]
        else:
            sp[1] = max(sp[1], t)

    pipe.add_listener(listen)
    summary = pipe.replay(parse_source(str(path)))
    hours = sum(max(b - a, 60.0) for a, b in spans.values()) / 3600
    return summary, hours


def per_1000(counts: Counter, hours: float) -> str:
    if not counts:
        return "none"
    return ", ".join(f"{k} {1000 * n / hours:.1f}" for k, n in sorted(counts.items()))


def simulated(hours: float, vessels: int, seed: int, zones: ZoneIndex) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        sim = Simulator(hours, vessels, seed, zones=zones)
        sim.build()
        sim.write(out)
        _summary, vh = replay(out / "traffic.nmea", zones, out / "alerts.jsonl")
        truth, alerts = load_truth(out / "truth.json"), load_alerts(out / "alerts.jsonl")
        report = evaluate(truth, alerts)
        life = ordinary_life(load_ordinary(out / "truth.json"), truth, alerts)
        false = Counter(a.type for a in alerts
                        if not any(_matches(a, t, TOLERANCE_S.get(a.type, 3600.0)) for t in truth if t.type == a.type))
        print(f"simulated day: {hours:g} h, {vessels} vessels, seed {seed}: {vh:,.0f} vessel-hours")
        print(f"  ordinary life: {life['vessels']} vessels {dict(life['scenes'])}")
        print(f"  false alerts on ordinary-life vessels: {life['false_alerts']} {life['by_type'] or ''}")
        print(f"  false alerts per 1,000 vessel-hours (whole day): {per_1000(false, vh)}")
        for kind in ("rendezvous", "loitering", "dark_gap", "position_jump"):
            r = report.get(kind)
            if r:
                print(f"  {kind}: precision {r['precision']}, recall {r['recall']} ({r['truth']} scripted)")


def recordings(data: Path, zones: ZoneIndex) -> None:
    files = sorted(p for p in data.iterdir() if p.is_file()) if data.is_dir() else []
    if not files:
        print(f"no recordings in {data}")
        return
    print(f"real recordings in {data} (every alert counted; none is scripted):")
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            out = Path(tmp) / f"{f.name}.jsonl"
            summary, vh = replay(f, zones, out)
            by_id: dict[str, tuple[str, str | None]] = {}
            for line in out.read_text().splitlines():
                a = json.loads(line)
                by_id[a["id"]] = (a["type"], a["details"].get("anomaly"))
            counts = Counter(t if k is None else f"{t}:{k}" for t, k in by_id.values())
            print(f"  {f.name}: {summary['vessels']} vessels, {vh:,.1f} vessel-hours, {len(by_id)} events; "
                  f"per 1,000 vessel-hours: {per_1000(counts, vh)}; counts {dict(sorted(counts.items()))}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--vessels", type=int, default=800)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "nmea")
    args = ap.parse_args()
    print(machine())
    zones = load_zones(ROOT / "geofences")
    simulated(args.hours, args.vessels, args.seed, zones)
    recordings(args.data, zones)


if __name__ == "__main__":
    main()
