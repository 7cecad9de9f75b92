"""The Faust app: ``create_app(settings)`` declares the topics, tables and agents."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faust

from maritime.delivery.base import Sink
from maritime.runtime.assembly import Assembly
from maritime.zones.index import ZoneIndex
from streams.agents import register
from streams.runtime import Runtime
from streams.settings import StreamSettings
from streams.tables import declare_tables
from streams.topics import declare_topics

logger = logging.getLogger(__name__)


def log_task_stacks() -> None:
    """Log where every asyncio task of the running loop waits: each task's chain of awaited coroutines, outermost
    first, as ``file:line function`` (at WARNING, one record per task)."""
    tasks = asyncio.all_tasks()
    logger.warning("%d tasks:", len(tasks))
    for task in tasks:
        lines = [task.get_name()]
        obj: Any = task.get_coro()
        for _ in range(64):  # an await chain is short; a cycle is not followed for ever
            frame = getattr(obj, "cr_frame", None) or getattr(obj, "ag_frame", None) or getattr(obj, "gi_frame", None)
            if frame is not None:
                lines.append(f"  {frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
            nxt = getattr(obj, "cr_await", None) or getattr(obj, "ag_await", None) or getattr(obj, "gi_yieldfrom", None)
            if nxt is None:
                if obj is not None and frame is None:
                    lines.append(f"  waits on {obj!r:.200}")
                break
            obj = nxt
        logger.warning("%s", "\n".join(lines))
    from streams.agents.stage import log_stages

    log_stages()


def create_app(settings: StreamSettings, *, zones: ZoneIndex | None = None, sinks: Sequence[Sink] = (),
               listeners: Sequence[Any] = (), dead_letter: Any = None, assembly: Assembly | None = None
               ) -> faust.App:
    """A Faust app running the detectors; ``app.runtime`` holds what its agents share.

    Settings are injected, nothing is read from the environment: the broker,
    the partition count, the table store, the topic prefix, and the
    detection settings (the same ``Settings`` the embedded run uses), and the
    assembly of stages (watchlist, profile store; by default the settings' own).
    """
    app = faust.App(
        settings.app_id,
        broker=settings.broker,
        store=settings.store,
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication,
        topic_allow_declare=True,
        autodiscover=False,
        web_enabled=False,
        # batches are held (not acknowledged) until a table checkpoint covers them; a rebalance must not
        # wait for them: the partition's next owner reads them again from the last commit
        stream_wait_empty=False,
        producer_linger_ms=5,
        producer_max_request_size=8_000_000,
        consumer_max_fetch_size=8_000_000,
        broker_commit_every=1000,
        broker_session_timeout=settings.session_timeout_s,
        consumer_group_instance_id=settings.instance_id,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 4),
        table_cleanup_interval=3600.0,
    )
    topics = declare_topics(app, settings)
    tables = declare_tables(app, settings)
    if assembly is None:
        assembly = Assembly(settings.detection, zones)
    runtime = Runtime(settings, zones, list(sinks), topics, tables, assembly, list(listeners), dead_letter)
    app.runtime = runtime  # type: ignore[attr-defined]

    def write_heartbeat() -> None:
        path = Path(settings.data_dir) / "heartbeat.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"time": time.time(), **runtime.counts}))
        tmp.replace(path)

    from streams.lag import LagReporter

    lag = LagReporter(app, runtime)
    app.lag = lag  # type: ignore[attr-defined]

    @app.timer(10.0)
    async def heartbeat() -> None:
        """``heartbeat.json`` in the data folder: the counts, rewritten while the event loop runs."""
        write_heartbeat()

    @app.task
    async def stacks_on_signal() -> None:
        """``kill -USR1 <worker pid>`` logs where every task of the worker waits (for a worker that seems stuck)."""
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # no signals here (not Unix)
            asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, log_task_stacks)

    @app.timer(2.0)
    async def lag_check() -> None:
        """The consumer lag per partition, and the "caught up" line at the end of a bounded input."""
        await lag.tick()

    @app.on_before_shutdown.connect
    async def last_heartbeat(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        write_heartbeat()  # the final counts, for whoever reads them after the worker stopped

    register(app, runtime)
    return app
