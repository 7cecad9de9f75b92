"""How a running service is: liveness, readiness and Prometheus metrics, for a centre's monitoring.

:class:`Health` reads its figures when asked (nothing is counted twice): from the pipeline of ``watch`` (lines in
by feed, rejected lines by reason, late positions, alert records by type and status, each spooled sink's
backlog and failures, each source's lag behind the wall clock) or from the map of ``serve`` (alerts followed,
stream entries skipped, whether Redis answers), with the process's memory. ``/healthz`` says the process
answers; ``/readyz`` says whether it is ready for work (a feed heard recently, event time not lagging beyond a
bound, every sink writable) with the reasons when it is not; ``/metrics`` is the Prometheus text format. None
of them carries vessel data, so they answer without the map's token.
"""

from __future__ import annotations

import resource
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

#: readiness: a feed not heard for this long (wall s) is not ready ...
QUIET_S = 300.0
#: ... nor a source whose latest event time lags the wall clock by more than this (s) ...
MAX_LAG_S = 900.0
#: ... nor a sink down for longer than this (s), or whose spool is this full (share of its places)
SINK_DOWN_S = 300.0
SPOOL_FULL = 0.9


class Health:
    """Figures, readiness and metrics of one running service (``pipeline``: watch; ``live``: serve)."""

    def __init__(self, pipeline: Any = None, live: Any = None, *, quiet_s: float = QUIET_S,
                 max_lag_s: float = MAX_LAG_S) -> None:
        self.pipeline = pipeline
        self.live = live
        self.quiet_s = quiet_s
        self.max_lag_s = max_lag_s
        self.started = time.time()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Collector(self))
        ProcessCollector(registry=self.registry)

    # -- what the figures are ---------------------------------------------------------

    def sinks(self) -> list[dict[str, Any]]:
        """Each spooled sink: its name, backlog (alerts waiting), failures, seconds down (None: up)."""
        out = []
        for sk in getattr(self.pipeline, "sinks", ()) or ():
            spool = getattr(sk, "spool", None)
            if spool is None:
                continue
            down = getattr(sk, "down_since", None)
            out.append({"sink": str(getattr(sk, "target", type(sk).__name__)), "backlog": len(spool),
                        "capacity": getattr(spool, "max_items", None), "failures": int(getattr(sk, "failures", 0)),
                        "refused": int(getattr(spool, "refused", 0)),
                        "down_s": round(time.monotonic() - down, 1) if down is not None else None})
        return out

    def figures(self) -> dict[str, Any]:
        """Everything the status line and ``/metrics`` show, as plain data (times in s)."""
        now = time.time()
        rss = _rss_bytes()
        doc: dict[str, Any] = {"uptime_s": round(now - self.started, 1), "memory_bytes": rss}
        pipe = self.pipeline
        if pipe is not None:
            st = pipe.stats
            doc.update(
                lines=st.decode.lines, messages=st.decode.messages, rejected=dict(st.decode.rejected),
                late_positions=st.late_positions, duplicates=st.duplicates + st.decode.duplicates,
                alerts={f"{t}/{s}": n for (t, s), n in sorted(st.records_by.items())},
                feeds={name: {"lines": n, "quiet_s": round(now - st.feed_heard.get(name, now), 1)}
                       for name, n in sorted(st.feed_lines.items())},
                lag_s={src: round(now - t, 1) for src, t in sorted(st.source_event_s.items())},
                watermark=st.last_time_s, sinks=self.sinks())
        live = self.live
        if live is not None:
            by = Counter((a.get("type", "?"), a.get("status", "?")) for a in live.alerts.values())
            doc.update(map_alerts={f"{t}/{s}": n for (t, s), n in sorted(by.items())},
                       map_vessels=len(live.vessels), feed_down=bool(live.feed_down),
                       skipped_entries=int(getattr(live, "malformed_entries", 0)))
        return doc

    def ready(self) -> tuple[bool, list[str]]:
        """Whether the service is ready for work, and why not."""
        why: list[str] = []
        now = time.time()
        pipe = self.pipeline
        if pipe is not None:
            st = pipe.stats
            heard = max(st.feed_heard.values(), default=None)
            if heard is None:
                if now - self.started > self.quiet_s:
                    why.append(f"no feed heard in {now - self.started:.0f} s")
            elif now - heard > self.quiet_s:
                why.append(f"no feed heard for {now - heard:.0f} s")
            latest = max(st.source_event_s.values(), default=None)
            if latest is not None and now - latest > self.max_lag_s:
                why.append(f"event time lags the clock by {now - latest:.0f} s (bound {self.max_lag_s:.0f} s)")
            for sk in self.sinks():
                if sk["down_s"] is not None and sk["down_s"] > SINK_DOWN_S:
                    why.append(f"{sk['sink']} down for {sk['down_s']:.0f} s ({sk['backlog']} alerts waiting)")
                cap = sk["capacity"]
                if cap and sk["backlog"] >= SPOOL_FULL * cap:
                    why.append(f"{sk['sink']}: spool {sk['backlog']} of {cap} places full")
        if self.live is not None and self.live.feed_down:
            why.append("the alert feed (Redis) is down")
        return not why, why

    def metrics_text(self) -> bytes:
        """``/metrics``: the Prometheus text exposition format."""
        return generate_latest(self.registry)


class _Collector(Collector):
    """Reads :meth:`Health.figures` at each scrape."""

    def __init__(self, health: Health) -> None:
        self.health = health

    def collect(self) -> Iterator[Any]:
        h = self.health
        f = h.figures()
        ok, _why = h.ready()
        yield GaugeMetricFamily("mda_ready", "1 when the service is ready for work (see /readyz)", value=int(ok))
        yield GaugeMetricFamily("mda_uptime_seconds", "seconds since the service started", value=f["uptime_s"])
        if "lines" in f:
            lines = CounterMetricFamily("mda_lines", "lines read, by feed", labels=["feed"])
            for name, d in f["feeds"].items():
                lines.add_metric([name], d["lines"])
            yield lines
            quiet = GaugeMetricFamily("mda_feed_quiet_seconds", "seconds since a feed was last heard", labels=["feed"])
            for name, d in f["feeds"].items():
                quiet.add_metric([name], d["quiet_s"])
            yield quiet
            yield CounterMetricFamily("mda_messages", "AIS messages decoded", value=f["messages"])
            rej = CounterMetricFamily("mda_rejected_lines", "lines rejected, by reason", labels=["reason"])
            for reason, n in f["rejected"].items():
                rej.add_metric([str(reason)], n)
            yield rej
            yield CounterMetricFamily("mda_late_positions", "positions after the reorder window",
                                      value=f["late_positions"])
            yield CounterMetricFamily("mda_duplicates", "duplicate lines dropped", value=f["duplicates"])
            al = CounterMetricFamily("mda_alert_records", "alert records sent, by type and status",
                                     labels=["type", "status"])
            for key, n in f["alerts"].items():
                t, s = key.split("/", 1)
                al.add_metric([t, s], n)
            yield al
            lag = GaugeMetricFamily("mda_source_lag_seconds", "wall clock minus a source's latest event time",
                                    labels=["source"])
            for src, v in f["lag_s"].items():
                lag.add_metric([src], v)
            yield lag
            backlog = GaugeMetricFamily("mda_sink_backlog", "alerts waiting in a sink's spool", labels=["sink"])
            fails = CounterMetricFamily("mda_delivery_failures", "deliveries that failed (each retried)",
                                        labels=["sink"])
            for sk in f["sinks"]:
                backlog.add_metric([sk["sink"]], sk["backlog"])
                fails.add_metric([sk["sink"]], sk["failures"])
            yield backlog
            yield fails
        if "map_alerts" in f:
            ma = GaugeMetricFamily("mda_map_alerts", "alerts on the map, by type and status", labels=["type", "status"])
            for key, n in f["map_alerts"].items():
                t, s = key.split("/", 1)
                ma.add_metric([t, s], n)
            yield ma
            yield GaugeMetricFamily("mda_map_vessels", "vessels on the map", value=f["map_vessels"])
            yield GaugeMetricFamily("mda_feed_down", "1 while the alert feed (Redis) is down",
                                    value=int(f["feed_down"]))
            yield CounterMetricFamily("mda_skipped_stream_entries", "alert-stream entries with no alert, skipped",
                                      value=f["skipped_entries"])
        yield GaugeMetricFamily("mda_memory_bytes", "resident memory of the process (bytes)", value=f["memory_bytes"])


def _rss_bytes() -> int:
    """The process's resident memory now (bytes; /proc on Linux, else the peak)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        import os

        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
