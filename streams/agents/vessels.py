"""Vessel agent: per-MMSI detectors (identity gate, dark gaps, geofences) with state in the ``vessels`` table."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import faust

from maritime.runtime.partitioned import EndRow, Row, VesselRunner, decode_rows, encode_rows, vessel_partition
from streams.agents.stage import (
    ARRIVALS_PARTITION,
    OffsetGuard,
    PartitionStage,
    changelog_landed,
    committed_offset,
    forget_revoked,
)
from streams.records import AlertEvent, RowBatch

if TYPE_CHECKING:
    from streams.runtime import Runtime

logger = logging.getLogger(__name__)


def register(app: faust.App, rt: Runtime) -> None:
    """Attach the vessel agent."""
    s = rt.settings
    n = s.partitions
    table = rt.tables.vessels
    stages: dict[int, PartitionStage] = {}

    forget_revoked(app, rt.topics.vessels, stages)

    def open_stage(p: int) -> PartitionStage:
        runner = VesselRunner(s.detection, rt.zones, p, n, s.tile_deg, assembly=rt.assembly)
        runner.listeners.extend(rt.listeners)
        mine = [(int(k[2:]), v) for k, v in table.items()
                if k.startswith("m:") and v is not None and vessel_partition(int(k[2:]), n) == p]
        meta = table.get(f"meta:{p}")
        runner.restore(mine, meta)
        done = meta["seq"] if meta else -1
        if mine or meta:
            logger.info("vessel partition %d: %d vessels restored from the table, up to sequence %d",
                        p, len(mine), done)
        return PartitionStage(n, runner, done, s.checkpoint_every, landed=lambda: changelog_landed(app))

    @app.agent(rt.topics.vessels, name="vessels")
    async def vessels(stream: Any) -> None:
        async for event in stream.noack().events():
            batch: RowBatch = event.value
            p = event.message.partition
            stage = stages.get(p)
            if stage is None:
                stage = stages[p] = open_stage(p)
                stage.guard = OffsetGuard(committed_offset(app, event.message.tp))
                logger.info("vessel partition %d: reading from sequence %d of upstream partition %d (offset %d)",
                            p, batch.seq, batch.origin, event.message.offset)
            if not await stage.guard.take(app, event, f"vessels/{p}"):
                continue
            runner: VesselRunner = stage.runner

            async def apply(seq: int, rows: list[Row], stage: PartitionStage = stage, p: int = p,
                            runner: VesselRunner = runner, sources: int = batch.sources) -> bool:
                before = runner.positions
                t0 = time.thread_time()
                alerts, fwd = runner.process(rows, dedup_across=sources > 1)
                rt.counts["vessels_busy_s"] += time.thread_time() - t0
                rt.counts["positions"] += runner.positions - before
                for a in alerts:
                    rt.counts["alerts"] += 1
                    stage.sends.append(await rt.topics.alerts.send(key=a.id, value=AlertEvent(alert=a.as_dict())))
                for q in range(n):  # every tile partition hears of every sequence number
                    stage.sends.append(await rt.topics.tiles.send(
                        value=RowBatch(origin=p, seq=seq, rows=encode_rows(fwd.get(q, [])), sources=sources),
                        partition=q))
                if rt.settings.detection.arrivals.enabled:  # the arrivals stage hears of every sequence too
                    stage.sends.append(await rt.topics.arrivals.send(
                        value=RowBatch(origin=p, seq=seq, rows=encode_rows(runner.take_arrivals())),
                        partition=ARRIVALS_PARTITION))
                return any(type(r) is EndRow for r in rows)

            def checkpoint(seq: int, runner: VesselRunner = runner, p: int = p) -> None:
                for mmsi, state in runner.take_dirty().items():
                    key = f"m:{mmsi}"
                    if state is None:
                        table.pop(key, None)
                    else:
                        table[key] = state
                table[f"meta:{p}"] = {**runner.meta(), "seq": seq}

            await stage.add(batch.origin, batch.seq, decode_rows(batch.rows), event, apply, checkpoint)
