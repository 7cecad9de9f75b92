"""Arrivals agent: ``arrival_risk`` and the centres' daily boards, with state in the ``arrivals`` table.

One partition (:data:`~streams.agents.stage.ARRIVALS_PARTITION`) reads a batch
per sequence number from every vessel partition (origins ``0..n-1``) and
every tile partition (``n..2n-1``), and runs the same
:class:`~maritime.runtime.arrival_watch.ArrivalWatch` the embedded run does.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import faust

from maritime.runtime.arrival_watch import ArrivalWatch
from maritime.runtime.partitioned import EndRow, Row, decode_rows
from streams.agents.stage import OffsetGuard, PartitionStage, changelog_landed, committed_offset, forget_revoked
from streams.records import AlertEvent, RowBatch

if TYPE_CHECKING:
    from streams.runtime import Runtime

logger = logging.getLogger(__name__)


def register(app: faust.App, rt: Runtime) -> None:
    """Attach the arrivals agent (when the settings have the arrivals stage on)."""
    s = rt.settings
    if not s.detection.arrivals.enabled:
        return
    n = s.partitions
    table = rt.tables.arrivals
    stages: dict[int, PartitionStage] = {}

    forget_revoked(app, rt.topics.arrivals, stages)

    def open_stage() -> PartitionStage:
        watch = ArrivalWatch(s.detection, rt.assembly)
        watch.board_sinks.extend(k for k in rt.sinks if hasattr(k, "write_board"))
        mine = [(int(k[2:]), v) for k, v in table.items() if k.startswith("m:") and v is not None]
        meta = table.get("meta")
        watch.restore(mine, meta)
        done = meta["seq"] if meta else -1
        if mine or meta:
            logger.info("arrivals: %d vessels restored from the table, up to sequence %d", len(mine), done)
        return PartitionStage(2 * n, watch, done, s.checkpoint_every, landed=lambda: changelog_landed(app))

    @app.agent(rt.topics.arrivals, name="arrivals")
    async def arrivals(stream: Any) -> None:
        async for event in stream.noack().events():
            batch: RowBatch = event.value
            p = event.message.partition
            stage = stages.get(p)
            if stage is None:
                stage = stages[p] = open_stage()
                stage.guard = OffsetGuard(committed_offset(app, event.message.tp))
            if not await stage.guard.take(app, event, f"arrivals/{p}"):
                continue
            watch: ArrivalWatch = stage.runner

            async def apply(seq: int, rows: list[Row], stage: PartitionStage = stage,
                            watch: ArrivalWatch = watch) -> bool:
                t0 = time.thread_time()
                alerts = watch.rows(rows)
                rt.counts["arrivals_busy_s"] = rt.counts.get("arrivals_busy_s", 0.0) + time.thread_time() - t0
                for a in alerts:
                    rt.counts["alerts"] += 1
                    stage.sends.append(await rt.topics.alerts.send(key=a.id, value=AlertEvent(alert=a.as_dict())))
                ended = any(type(r) is EndRow for r in rows)
                if ended:
                    logger.info("arrivals: end of replay at sequence %d", seq)
                return ended

            def checkpoint(seq: int, watch: ArrivalWatch = watch) -> None:
                for mmsi, state in watch.take_dirty().items():
                    if state is None:
                        table.pop(f"m:{mmsi}", None)
                    else:
                        table[f"m:{mmsi}"] = state
                table["meta"] = {**watch.meta(), "seq": seq}

            await stage.add(batch.origin, batch.seq, decode_rows(batch.rows), event, apply, checkpoint)
