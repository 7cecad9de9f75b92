"""How far behind a worker is: consumer lag per partition, a "caught up" line, and Prometheus metrics.

Every ``every_s`` the worker asks the broker for the end offset of each partition it is assigned (its input
topics; not the tables' changelogs) and subtracts the last offset it has read: the lag, in messages. It is
logged (one line per minute while any partition lags, naming the partitions), written to ``heartbeat.json``,
and served as ``mda_consumer_lag{topic,partition}`` with ``maritime worker --metrics HOST:PORT``. When a bounded
input's end-of-replay mark has been processed and no partition lags, the worker says once, on stderr,
``caught up: …``: everything the ingest sent is judged, and the alerts are final.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

logger = logging.getLogger(__name__)

#: the "caught up" line and the lag lines go to stderr whatever the worker's log level (an operator waits on them)
_said = logging.getLogger("streams.lag.said")
if not _said.handlers:
    _h = logging.StreamHandler(sys.stderr)
    _h.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    _said.addHandler(_h)
    _said.setLevel(logging.INFO)
    _said.propagate = False


class LagReporter:
    """Measures and reports a worker's consumer lag (messages) per assigned input partition."""

    def __init__(self, app: Any, runtime: Any, log_every_s: float = 60.0) -> None:
        self.app = app
        self.runtime = runtime
        self.log_every_s = log_every_s
        self.lag: dict[tuple[str, int], int] = {}
        self.caught_up_said = False
        self._last_log = 0.0

    async def measure(self) -> dict[tuple[str, int], int]:
        consumer = self.app.consumer
        try:
            tps = [tp for tp in consumer.assignment() if not tp.topic.endswith("-changelog")]
        except Exception:  # not started, or rebalancing: nothing to say yet
            return self.lag
        if not tps:
            self.lag = {}
            return self.lag
        try:
            ends = await consumer.highwaters(*tps)
        except Exception as err:
            logger.debug("lag: end offsets not known now (%s)", err)
            return self.lag
        read = getattr(consumer, "_read_offset", {})
        lag = {}
        for tp in tps:
            end = ends.get(tp)
            if end is None:
                continue
            last = read.get(tp)
            lag[(tp.topic, tp.partition)] = max(0, int(end) - (int(last) + 1 if last is not None else 0))
        self.lag = lag
        return lag

    async def tick(self) -> None:
        lag = await self.measure()
        total = sum(lag.values())
        counts = self.runtime.counts
        counts["lag"] = total
        now = time.monotonic()
        if total and now - self._last_log >= self.log_every_s:
            self._last_log = now
            worst = sorted(lag.items(), key=lambda kv: -kv[1])[:6]
            _said.info("lag: %d messages behind (%s)", total,
                       ", ".join(f"{t}/{p} {n}" for (t, p), n in worst if n))
        if counts.get("replays_ended", 0) and lag and not total and not self.caught_up_said:
            self.caught_up_said = True
            _said.info("caught up: the end of the replay is processed and no partition lags (%d lines decoded, "
                       "%d alerts)", int(counts.get("lines", 0)), int(counts.get("alerts", 0)))
        if total:
            self.caught_up_said = False if not counts.get("replays_ended", 0) else self.caught_up_said


def serve_metrics(reporter: LagReporter, host: str, port: int) -> None:
    """Prometheus metrics of the worker on ``host:port`` (a thread of prometheus-client): lag per partition and
    the runtime's counts."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
    from prometheus_client.process_collector import ProcessCollector
    from prometheus_client.registry import Collector

    class _Worker(Collector):
        def collect(self) -> Any:
            g = GaugeMetricFamily("mda_consumer_lag", "messages not yet read, per input partition",
                                  labels=["topic", "partition"])
            for (t, p), n in sorted(reporter.lag.items()):
                g.add_metric([t, str(p)], n)
            yield g
            for key, value in sorted(reporter.runtime.counts.items()):
                name = "mda_worker_" + "".join(c if c.isalnum() else "_" for c in key)
                if key.endswith("_s"):
                    yield CounterMetricFamily(name.removesuffix("_s") + "_seconds", f"{key} (CPU seconds)",
                                              value=float(value))
                elif key != "lag":
                    yield CounterMetricFamily(name, key, value=float(value))

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Worker())
    ProcessCollector(registry=registry)
    start_http_server(port, addr=host, registry=registry)
