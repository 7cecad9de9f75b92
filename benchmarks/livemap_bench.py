"""Live map first paint in headless Chromium, driven by Playwright (a benchmark, not a timed test).

    python benchmarks/livemap_bench.py [--vessels 2000] [--alerts 300] [--rounds 3]

Serves the live map with the bundled Caribbean zones, ``--vessels`` vessels and ``--alerts`` alerts in the
region, and opens it in Debian's Chromium: a cold load (empty cache) and a warm one (land and zones from the
browser cache, revalidated by ETag), ``--rounds`` times each. Prints, with the machine and the input:

- first paint: from navigation start until the vessels and alerts are drawn (``window.mdaFirstPaint``);
- land and zones drawn (they come after the vessels);
- the bytes of the land and zones layers, raw and as sent gzip-compressed.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import random
import statistics
import sys
import threading
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.decode_bench import machine  # noqa: E402
from maritime.models import Alert, Position, VesselInfo, VesselRef  # noqa: E402
from maritime.views.web import LiveState, make_app, start_server  # noqa: E402
from maritime.zones.index import load_zones  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
T0 = 1_747_209_600.0
TYPES = ["dark_gap", "rendezvous", "loitering", "geofence_entry", "identity_anomaly", "speed_violation"]
SEVS = ["info", "low", "medium", "high", "critical"]


def state(vessels: int, alerts: int, seed: int = 1) -> LiveState:
    rnd = random.Random(seed)
    st = LiveState(drop_after_s=86400)
    for i in range(vessels):
        mmsi = 300_000_000 + i
        st(VesselInfo(mmsi, T0, name=f"VESSEL {i}", callsign=f"C{i}", ship_type=rnd.choice([30, 36, 52, 60, 70, 80])))
        st(Position(mmsi, T0 + rnd.uniform(0, 600), rnd.uniform(10.0, 19.0), rnd.uniform(-80.0, -60.0),
                    rnd.uniform(0, 15), rnd.uniform(0, 359), None, 0, 1, "bench"))
    for k in range(alerts):
        m = 300_000_000 + rnd.randrange(vessels)
        st.write(Alert(f"bench:{k}", rnd.choice(TYPES), "open", rnd.choice(SEVS), T0 + k, T0, None,  # type: ignore[arg-type]
                       (VesselRef(m, name=f"VESSEL {m - 300_000_000}"),), rnd.uniform(10.0, 19.0),
                       rnd.uniform(-80.0, -60.0), "benchmark alert"))
    return st


def serve(st: LiveState, port: int) -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
    zones = load_zones(ROOT / "geofences")
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start_server(make_app(st, zones=zones), "127.0.0.1", port))
        ready.set()
        loop.run_forever()

    th = threading.Thread(target=run, daemon=True)
    th.start()
    ready.wait(60)
    return loop, th


def sizes(base: str) -> dict[str, tuple[int, int]]:
    out = {}
    for layer in ("land", "zones"):
        raw = urllib.request.urlopen(f"{base}/api/{layer}", timeout=60).read()
        out[layer] = (len(raw), len(gzip.compress(raw, 6)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vessels", type=int, default=2000)
    ap.add_argument("--alerts", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    import socket

    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve(state(args.vessels, args.alerts), port)
    base = f"http://127.0.0.1:{port}"
    got = sizes(base)
    results: dict[str, list[tuple[float, float, float]]] = {"cold": [], "warm": []}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        for _ in range(args.rounds):
            ctx = b.new_context(viewport={"width": 1400, "height": 850})
            page = ctx.new_page()
            for kind in ("cold", "warm"):
                if kind == "cold":
                    page.goto(base + "/")
                else:
                    page.reload()
                page.wait_for_function("() => window.mdaReady === true && window.mdaLandDrawn && window.mdaZonesDrawn",
                                       timeout=120000)
                t = page.evaluate("[window.mdaFirstPaint, window.mdaLandDrawn, window.mdaZonesDrawn]")
                results[kind].append((t[0], t[1], t[2]))
            ctx.close()
        b.close()
    print(f"machine:  {machine()}")
    print(f"input:    {args.vessels:,} vessels, {args.alerts:,} alerts, the bundled Caribbean zones; "
          f"headless Chromium over loopback; median of {args.rounds}")
    for layer, (raw, gz) in got.items():
        print(f"/api/{layer}: {raw / 1024:,.0f} KiB, {gz / 1024:,.0f} KiB gzip-compressed")
    for kind, rows in results.items():
        fp = statistics.median(r[0] for r in rows)
        land = statistics.median(r[1] for r in rows)
        zones = statistics.median(r[2] for r in rows)
        print(f"{kind:5} load: first paint (vessels and alerts) {fp / 1000:.2f} s, land {land / 1000:.2f} s, "
              f"zones {zones / 1000:.2f} s after navigation start")
    print("target: first paint within 2 s on this machine")


if __name__ == "__main__":
    main()
