"""Memory and stop time of ``maritime watch`` under a forged-MMSI flood, as a service meets it.

A TCP feed sends ``--mmsis`` position reports, each from a new random MMSI (a spoofer or a broken gateway),
``--per-second`` of them per second of event time, then stays connected and silent. ``maritime watch`` (the
default decode workers) follows it for ``--duration`` seconds. Printed: the machine, the input, the peak resident
memory of the main process and of its decode workers (sampled from /proc every 0.2 s), the lines processed and
those left undecoded at the stop, the alert records (the flood gate's), and how long the stop took after the
duration.

    python benchmarks/flood_bench.py [--mmsis 200000] [--duration 60]
"""

from __future__ import annotations

import argparse
import functools
import json
import operator
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from maritime.sim.encode import position_payloads  # noqa: E402

BASE = 1747209600  # 2025-05-14T08:00:00Z


def flood_lines(n: int, per_second: int, seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    mmsi = rng.integers(200_000_000, 775_999_999, n)
    k = np.arange(n)
    t = BASE + k // per_second
    pays = position_payloads(mmsi, rng.uniform(10, 18, n), rng.uniform(-70, -60, n), np.full(n, 10.0),
                             np.full(n, 90.0), np.full(n, 90), np.zeros(n, dtype=int), t % 60,
                             np.zeros(n, dtype=bool))
    out = []
    for i in range(n):
        body = f"AIVDM,1,1,,A,{pays[i].tobytes().decode()},0"
        tag = f"c:{int(t[i])}"
        out.append(f"\\{tag}*{functools.reduce(operator.xor, tag.encode(), 0):02X}\\!{body}"
                   f"*{functools.reduce(operator.xor, body.encode(), 0):02X}")
    return ("\n".join(out) + "\n").encode()


def serve_once(data: bytes) -> int:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)

    def run() -> None:
        conn, _ = sock.accept()
        conn.sendall(data)
        time.sleep(3600)  # connected and silent

    threading.Thread(target=run, daemon=True).start()
    return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for ln in fh:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(x) for x in fh.read().split()]
    except OSError:
        pass
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mmsis", type=int, default=200_000)
    ap.add_argument("--per-second", type=int, default=333, help="new MMSIs per second of event time")
    ap.add_argument("--duration", type=float, default=60.0)
    a = ap.parse_args()
    data = flood_lines(a.mmsis, a.per_second)
    port = serve_once(data)
    with tempfile.TemporaryDirectory() as d:
        summary = Path(d) / "summary.json"
        cmd = [sys.executable, "-m", "maritime.cli", "watch", f"tcp://127.0.0.1:{port}", "--duration",
               str(a.duration), "--summary-json", str(summary), "--json"]
        env = {**os.environ, "MARITIME_STATE_DIR": d}
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=d, env=env)
        peak_main = peak_workers = peak_total = 0
        while proc.poll() is None:
            main_kib = rss_kib(proc.pid)
            kids = sum(rss_kib(c) for c in children(proc.pid))
            peak_main, peak_workers = max(peak_main, main_kib), max(peak_workers, kids)
            peak_total = max(peak_total, main_kib + kids)
            time.sleep(0.2)
        took = time.monotonic() - t0
        doc = json.loads(summary.read_text())
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}")
    print(f"input: {a.mmsis:,} position reports from as many new MMSIs ({len(data) / 1e6:.1f} MB), {a.per_second} "
          f"a second of event time, over TCP; watch --duration {a.duration:g}")
    print(f"processed {doc['lines']:,} lines, {doc.get('unprocessed_at_stop', 0):,} received but not decoded at the "
          f"stop; alert records {doc['alert_records']:,} ({doc['alerts_by_type']})")
    print(f"peak resident memory: main {peak_main / 1024:.0f} MiB, decode workers {peak_workers / 1024:.0f} MiB, "
          f"together {peak_total / 1024:.0f} MiB")
    print(f"exit {proc.returncode} {took - a.duration:.1f} s after the duration (interpreter start included)")


if __name__ == "__main__":
    main()
