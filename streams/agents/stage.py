"""What the vessel and tile agents share: a barrier, a runner, and table checkpoints."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from maritime.runtime.partitioned import Barrier

logger = logging.getLogger(__name__)

#: the one partition of the ``arrivals`` topic the arrivals stage reads (it judges every vessel together: one
#: position per vessel per check and the alerts' vessels, a small stream)
ARRIVALS_PARTITION = 0


class PartitionStage:
    """One partition of a detector stage.

    Batches wait in the barrier until every upstream partition has sent the
    same sequence number; whole sequences go through the runner. Every
    ``checkpoint_every`` sequences, once what they sent has landed, the changed
    state is written to the table with the last sequence applied, and only
    then are the batches acknowledged: a worker that dies reads them again,
    and the barrier skips those its table already covers.
    """

    def __init__(self, origins: int, runner: Any, done_seq: int, checkpoint_every: int,
                 landed: Callable[[], Awaitable[None]] | None = None) -> None:
        """``landed``: waits until the table writes sent so far have reached the broker (the producer's flush);
        batches are acknowledged only after it, or a worker killed in between would leave its committed input
        ahead of its table's changelog."""
        self.landed = landed
        self.changelog_pending = False
        self.barrier = Barrier(origins, done_seq=done_seq)
        self.runner = runner
        self.checkpoint_every = checkpoint_every
        self.tokens: list[Any] = []
        self.sends: list[Any] = []
        self.since = 0
        self.last_seq = done_seq
        # checkpoints written whose batches wait for their sends to land: (sends, tokens)
        self.landing: deque[tuple[list[Any], list[Any]]] = deque()

    async def add(self, origin: int, seq: int, rows: list[Any], event: Any,
                  apply: Callable[[int, list[Any]], Awaitable[bool]],
                  checkpoint: Callable[[int], None]) -> None:
        """Take one batch; ``apply`` runs each whole sequence (True: it ended a replay),
        ``checkpoint`` writes the table."""
        for s, merged, tokens in self.barrier.add(origin, seq, rows, event):
            ended = await apply(s, merged)
            self.last_seq = s
            self.tokens.extend(tokens)
            self.since += 1
            if ended or self.since >= self.checkpoint_every:
                # what these sequences sent (alerts, rows downstream) lands before the table says they were
                # applied: a worker killed between the two would otherwise leave a changelog whose state has
                # raised an alert nobody received, and the next owner, reading that state, would not raise it
                await asyncio.gather(*self.sends)
                self.flush(checkpoint)
            if ended:
                await self.acknowledge(wait=True)
        for t in self.barrier.take_skipped():  # already applied, or sent twice: never applied (again)
            t.ack()
        await self.acknowledge()

    def flush(self, checkpoint: Callable[[int], None]) -> None:
        """Write the table; the batches it covers are acknowledged once their sends have landed."""
        checkpoint(self.last_seq)
        self.changelog_pending = True
        self.landing.append((self.sends, self.tokens))
        self.sends, self.tokens = [], []
        self.since = 0

    async def acknowledge(self, wait: bool = False) -> None:
        """Acknowledge checkpointed batches whose sends have landed (``wait``: wait for them)."""
        while self.landing:
            sends, tokens = self.landing[0]
            if not wait and not all(f.done() for f in sends):
                return
            await asyncio.gather(*sends)  # a failed send raises: the batches are read again after a restart
            if self.changelog_pending and self.landed is not None:
                self.changelog_pending = False
                await self.landed()  # the table's changelog writes too
            self.landing.popleft()
            for t in tokens:
                t.ack()


def forget_revoked(app: Any, topic: Any, stages: dict[int, Any]) -> None:
    """Drop the per-partition state of ``topic``'s partitions when a rebalance takes them away
    (their next owner, maybe this worker again, rebuilds it from the table and the uncommitted input)."""

    @app.on_partitions_revoked.connect
    def forget(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        name = topic.get_topic_name()
        for tp in args[0] if args else kwargs.get("revoked", ()):
            if tp.topic == name:
                stages.pop(tp.partition, None)
