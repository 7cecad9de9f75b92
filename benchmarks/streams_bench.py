"""Distributed-runtime throughput: ingest + Faust workers on a local Apache Kafka broker, against the
embedded replay of the same file in the same run.

    python benchmarks/streams_bench.py [--hours 12] [--vessels 300] [--out DIR] [--partitions 4]

Starts Apache Kafka (``scripts/kafka-broker``, KRaft) on a free port, simulates a Caribbean day
(or reuses ``DIR/traffic.nmea``), then times:

1. the embedded replay in one process (``maritime replay --workers 1``, default zones);
2. ``maritime ingest`` (as fast as possible) into one worker, from the start
   of the ingest until every tile partition has applied the end of the replay;
3. the same with two workers;

and prints sentences per second for each, the ratios, and whether the
alert ids and final statuses equal the embedded run's. Each worker is one
process on one core; this machine has the cores it has (printed), and the
broker and the ingest share them.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.decode_bench import machine  # noqa: E402

RANK = {"open": 0, "update": 1, "cancelled": 2, "closed": 3}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def final(files: list[Path]) -> dict[str, str]:
    best: dict[str, tuple[str, int, str]] = {}
    for f in files:
        if f.exists():
            for line in f.read_text(encoding="utf-8").splitlines():
                a = json.loads(line)
                key = (a["time"], RANK[a["status"]], a["status"])
                if a["id"] not in best or key > best[a["id"]]:
                    best[a["id"]] = key
    return {k: v[2] for k, v in best.items()}


PIN: dict[str, set[int]] = {}  # role -> CPUs, with --pin


def pinned(role: str) -> object:
    cpus = PIN.get(role)
    return (lambda: os.sched_setaffinity(0, cpus)) if cpus else None


def maritime(*args: str, role: str = "", **kw: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "maritime.cli", *args],  # type: ignore[call-overload]
                            preexec_fn=pinned(role), **kw)


def distributed(traffic: Path, broker: str, partitions: int, workers: int, tmp: Path, lanes: int = 1
                ) -> tuple[float, list[Path]]:
    """Seconds from ingest start to the last tile partition's end of replay; the alert files."""
    tag = uuid.uuid4().hex[:8]
    from maritime.config import Settings

    arrivals = 1 if Settings().arrivals.enabled else 0
    common = ["--kafka", broker, "--partitions", str(partitions), "--topic-prefix", f"b{tag}.",
              "--app-id", f"bench-{tag}"]
    procs = []
    logs = []
    files = []
    for k in range(workers):
        log = tmp / f"{tag}-w{k}.log"
        logs.append(log)
        files.append(tmp / f"{tag}-w{k}.jsonl")
        procs.append(maritime("worker", *common, "--alerts", str(files[-1]), "--zones", str(ROOT / "geofences"),
                              "--data-dir", str(tmp / f"{tag}-d{k}"), "--instance-id", f"w{k}", "-v",
                              role="worker", stdout=log.open("w"), stderr=subprocess.STDOUT))
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            texts = [p.read_text(errors="replace") for p in logs]
            if all("Setting newly assigned partitions" in t for t in texts):
                break
            time.sleep(0.5)
        time.sleep(5)  # a second worker's join rebalances the first
        cpu0 = [cpu_seconds(p.pid) for p in procs]
        t0 = time.perf_counter()
        ing = maritime("ingest", str(traffic), *common, "--as-fast-as-possible", "--lanes", str(lanes), role="broker",
                       stdout=subprocess.DEVNULL)
        while True:
            ended = sum(p.read_text(errors="replace").count("end of replay at sequence") for p in logs)
            if ended >= partitions + arrivals:  # every tile partition, then the arrivals stage
                break
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("a worker died: " + " ".join(str(p) for p in logs))
            time.sleep(0.1)
        elapsed = time.perf_counter() - t0
        ing.wait(60)
        time.sleep(3)  # the alerts agent writes the last alerts
        cpu = [cpu_seconds(p.pid) - c0 for p, c0 in zip(procs, cpu0, strict=True)]  # from the ingest's start
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)
    for k in range(workers):
        hb = json.loads((tmp / f"{tag}-d{k}" / "heartbeat.json").read_text())
        busy = {s: hb.get(f"{s}_busy_s", 0.0) for s in ("decode", "vessels", "tiles")}
        print(f"  worker {k + 1}/{workers}: {cpu[k]:.1f} s CPU (from the ingest's start) for {hb['lines']:,} lines "
              "decoded and "
              f"{hb['positions']:,} positions; in the core: " + ", ".join(f"{s} {v:.1f} s" for s, v in busy.items())
              + f"; the rest ({cpu[k] - sum(busy.values()):.1f} s) is Kafka, Faust, serialisation and idle polling")
    return elapsed, files


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=12.0)
    ap.add_argument("--vessels", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--out", type=Path, default=None, help="keep the simulated day here (reused when present)")
    ap.add_argument("--pin", action="store_true",
                    help="broker and ingest on CPU 0, workers on the other CPUs (one worker then has a core)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to time")
    ap.add_argument("--lanes", type=int, default=1, help="ingest --lanes (one source decoded by several workers)")
    args = ap.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    if args.pin and len(cpus) >= 2:
        PIN["broker"] = {cpus[0]}
        PIN["worker"] = set(cpus[1:])
    out = args.out or Path(tempfile.mkdtemp(prefix="mda-streams-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    traffic = out / "traffic.nmea"
    if not traffic.exists():
        subprocess.run([sys.executable, "-m", "maritime.cli", "simulate", "--hours", str(args.hours), "--vessels",
                        str(args.vessels), "--seed", str(args.seed), "--out", str(out)], check=True)
    lines = sum(1 for _ in traffic.open("rb"))

    port = free_port()
    broker_dir = out / f"kafka-{port}"
    script = ROOT / "scripts" / "kafka-broker"
    subprocess.run([sys.executable, str(script), "start", str(broker_dir), str(port)], check=True,
                   stdout=subprocess.DEVNULL, preexec_fn=pinned("broker"))  # type: ignore[arg-type]
    broker = f"127.0.0.1:{port}"
    try:
        t0 = time.perf_counter()
        emb = out / "embedded.jsonl"
        subprocess.run([sys.executable, "-m", "maritime.cli", "replay", str(traffic), "--zones",
                        str(ROOT / "geofences"), "--alerts", str(emb), "-q", "--workers", "1"], check=True)
        t_emb = time.perf_counter() - t0  # includes start-up (imports, land and zone indexes), as a user sees it
        reference = final([emb])
        runs = {w: distributed(traffic, broker, args.partitions, w, out, args.lanes) for w in args.workers}
    finally:
        subprocess.run([sys.executable, str(script), "stop", str(broker_dir)], check=False)
    where = (f"broker+ingest on CPU {sorted(PIN['broker'])}, workers on CPUs {sorted(PIN['worker'])}" if PIN
             else "broker, ingest and workers share them")
    print(f"machine:   {machine()}, {len(cpus)} CPUs ({where})")
    print(f"input:     {traffic} ({lines:,} lines), {args.partitions} partitions, {args.lanes} lane(s), "
          "default Caribbean zones")
    print(f"embedded:  {t_emb:.1f} s = {lines / t_emb:,.0f} sentences/s (maritime replay --workers 1, with start-up)")
    first = min(runs)
    for w, (t, files) in sorted(runs.items()):
        print(f"{w} worker{'s' if w > 1 else ' '}: {t:.1f} s = {lines / t:,.0f} sentences/s  "
              f"({t_emb / t:.2f}x embedded, {runs[first][0] / t:.2f}x {first} worker); "
              f"same alerts: {final(files) == reference}")
    print(f"alerts: {len(reference)} ids")


if __name__ == "__main__":
    main()
