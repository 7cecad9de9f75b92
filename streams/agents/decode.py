"""Decode agent: raw line batches → decoded rows per vessel partition, rejects to the dead-letter topic."""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import faust

from maritime.models import iso
from maritime.runtime.partitioned import DecodeRunner, EndRow, Row, encode_rows, lane_key
from streams.agents.stage import OffsetGuard, committed_offset, forget_revoked
from streams.records import DeadLetter, RawBatch, RowBatch

if TYPE_CHECKING:
    from streams.runtime import Runtime

logger = logging.getLogger(__name__)


class DecodeStage:
    """One raw partition: its decoders, and the batches not yet safe to commit.

    A raw batch may be acknowledged once everything it decoded has left the
    reorder window (perhaps in a later batch's sends) and those sends have
    landed. Nothing waits for the broker while batches keep coming: each
    batch notes how many sends it needs, and is acknowledged when that many
    have completed.
    """

    def __init__(self, rt: Runtime) -> None:
        self.runner = DecodeRunner(rt.settings.detection, rt.settings.partitions)
        # [event, {source: newest time in that batch}, sends needed (None: messages still held)]
        self.unacked: deque[list[Any]] = deque()
        self.sends: deque[Any] = deque()  # send futures not yet seen complete
        self.sent = 0  # sends made so far
        self.landed = 0  # sends seen complete, in order
        #: set when a rebalance takes the partition away: a batch still in hand then acknowledges nothing
        self.revoked = False
        self.guard = OffsetGuard(None)

    def track(self, event: Any, horizons: dict[str, float], sends: list[Any]) -> None:
        """A batch was decoded and its rows sent."""
        self.sends.extend(sends)
        self.sent += len(sends)
        self.unacked.append([event, horizons, None])

    async def ack_released(self, wait: bool = False) -> None:
        """Acknowledge what can be (``wait``: wait for every send first, at the end of a replay)."""
        for entry in self.unacked:
            if entry[2] is not None:
                continue
            if not all(self.runner.released(src, t) for src, t in entry[1].items()):
                break
            entry[2] = self.sent  # its messages are in the sends made so far
        while self.sends and (wait or self.sends[0].done()):
            await self.sends.popleft()  # a failed send raises: its batches stay unacknowledged
            self.landed += 1
        while (self.unacked and not self.revoked and self.unacked[0][2] is not None
               and self.unacked[0][2] <= self.landed):
            self.unacked.popleft()[0].ack()


def register(app: faust.App, rt: Runtime) -> None:
    """Attach the decode agent."""
    stages: dict[int, DecodeStage] = {}
    n = rt.settings.partitions

    forget_revoked(app, rt.topics.raw, stages)

    @app.agent(rt.topics.raw, name="decode")
    async def decode(stream: Any) -> None:
        async for event in stream.noack().events():
            batch: RawBatch = event.value
            p = event.message.partition
            stage = stages.get(p)
            if stage is None:
                stage = stages[p] = DecodeStage(rt)
                stage.guard = OffsetGuard(committed_offset(app, event.message.tp))
                logger.info("raw partition %d: decoding from sequence %d (offset %d)", p, batch.seq,
                            event.message.offset)
            if not await stage.guard.take(app, event, f"raw/{p}"):
                continue
            # acknowledge what the batches before this one released: their sends have had time to land
            await stage.ack_released()
            runner = stage.runner
            out: dict[int, list[Row]] = {}
            horizons: dict[str, float] = {}
            t0 = time.thread_time()
            for chunk in batch.chunks:
                lines = [line.encode("latin-1") for line in chunk.lines]
                rt.counts["lines"] += len(lines)
                got = runner.feed(chunk.source, lines, chunk.recv_times, chunk.default_time, lane=chunk.lane,
                                  first_order=chunk.order, assigned_times=chunk.assigned_times)
                for q, rows in got.items():
                    out.setdefault(q, []).extend(rows)
                key = lane_key(chunk.source, chunk.lane)
                horizons[key] = runner.horizon(key)
            if batch.end:
                rows_end, last = runner.end()
                for q, rows in rows_end.items():
                    out.setdefault(q, []).extend(rows)
                if last is not None:
                    for q in range(n):
                        out.setdefault(q, []).append(EndRow(last))
            rt.counts["decode_busy_s"] += time.thread_time() - t0
            for rej in runner.rejected:
                rt.counts["rejected"] += 1
                await rt.topics.dead.send(key=rej.source, value=DeadLetter(
                    reason=str(rej.reason), message=rej.message, source=rej.source, line=rej.line,
                    time=iso(rej.time_s) if rej.time_s is not None else None))
            runner.rejected.clear()
            sent = []
            for q in range(n):  # every vessel partition hears of every sequence number, even with no rows
                sent.append(await rt.topics.vessels.send(
                    value=RowBatch(origin=p, seq=batch.seq, rows=encode_rows(out.get(q, [])), sources=batch.sources),
                    partition=q))
            stage.track(event, horizons, sent)
            if batch.end:
                await stage.ack_released(wait=True)
