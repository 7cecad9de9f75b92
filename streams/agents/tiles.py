"""Tile agent: rendezvous and loitering per spatial tile, with state in the ``tiles`` table."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import faust

from maritime.runtime.partitioned import (
    EndRow,
    Row,
    TileRunner,
    decode_rows,
    encode_rows,
    event_rows,
    tile_partition,
)
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


def _tile(key: str) -> tuple[int, int]:
    r, c = key.split(":")
    return int(r), int(c)


def register(app: faust.App, rt: Runtime) -> None:
    """Attach the tile agent."""
    s = rt.settings
    n = s.partitions
    table = rt.tables.tiles
    stages: dict[int, PartitionStage] = {}

    forget_revoked(app, rt.topics.tiles, stages)

    def open_stage(p: int) -> PartitionStage:
        runner = TileRunner(s.detection, rt.zones, p, s.tile_deg, assembly=rt.assembly)
        mine = [(k[2:], v) for k, v in table.items()
                if k.startswith("t:") and v is not None and tile_partition(_tile(k[2:]), n) == p]
        meta = table.get(f"meta:{p}")
        runner.restore(mine, meta)
        done = meta["seq"] if meta else -1
        if mine or meta:
            logger.info("tile partition %d: %d tiles restored from the table, up to sequence %d", p, len(mine), done)
        return PartitionStage(n, runner, done, s.checkpoint_every, landed=lambda: changelog_landed(app))

    @app.agent(rt.topics.tiles, name="tiles")
    async def tiles(stream: Any) -> None:
        async for event in stream.noack().events():
            batch: RowBatch = event.value
            p = event.message.partition
            stage = stages.get(p)
            if stage is None:
                stage = stages[p] = open_stage(p)
                stage.guard = OffsetGuard(committed_offset(app, event.message.tp))
            if not await stage.guard.take(app, event, f"tiles/{p}"):
                continue
            runner: TileRunner = stage.runner

            async def apply(seq: int, rows: list[Row], stage: PartitionStage = stage, p: int = p,
                            runner: TileRunner = runner) -> bool:
                t0 = time.thread_time()
                alerts = runner.process(rows)
                rt.counts["tiles_busy_s"] += time.thread_time() - t0
                for a in alerts:
                    rt.counts["alerts"] += 1
                    stage.sends.append(await rt.topics.alerts.send(key=a.id, value=AlertEvent(alert=a.as_dict())))
                if rt.settings.detection.arrivals.enabled:
                    stage.sends.append(await rt.topics.arrivals.send(
                        value=RowBatch(origin=n + p, seq=seq, rows=encode_rows(event_rows(alerts))),
                        partition=ARRIVALS_PARTITION))
                ended = any(type(r) is EndRow for r in rows)
                if ended:
                    rt.counts["replays_ended"] += 1
                    logger.info("tile partition %d: end of replay at sequence %d", p, seq)
                return ended

            def checkpoint(seq: int, runner: TileRunner = runner, p: int = p) -> None:
                for key, state in runner.take_dirty().items():
                    if state is None:
                        table.pop(f"t:{key}", None)
                    else:
                        table[f"t:{key}"] = state
                table[f"meta:{p}"] = {**runner.meta(), "seq": seq}

            await stage.add(batch.origin, batch.seq, decode_rows(batch.rows), event, apply, checkpoint)
