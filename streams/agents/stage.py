"""What the vessel and tile agents share: a barrier, a runner, and table checkpoints."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from maritime.runtime.partitioned import Barrier

logger = logging.getLogger(__name__)

#: the one partition of the ``arrivals`` topic the arrivals stage reads (it judges every vessel together: one
#: position per vessel per check and the alerts' vessels, a small stream)
ARRIVALS_PARTITION = 0


class InOrderAcks:
    """Acknowledges one partition's events in the order they came, each once it is done.

    A stage finishes events out of order: a batch waits in the barrier while a
    later copy of another one is dropped at once. Faust commits the run of
    acknowledged offsets that follows the last commit, but it lets that run
    start one offset late (and anywhere before a first commit), so one
    unacknowledged event at its head would be committed over and lost to the
    next owner of the partition. Acknowledging in order keeps what Faust sees
    a plain prefix.
    """

    def __init__(self) -> None:
        self._came: deque[Any] = deque()
        self._done: set[int] = set()

    def came(self, event: Any) -> None:
        """An event reached the stage (call in the order of the partition)."""
        self._came.append(event)

    def done(self, event: Any) -> None:
        """``event`` needs nothing more: it is acknowledged with every done event that came before it."""
        self._done.add(id(event))
        came, done = self._came, self._done
        while came and id(came[0]) in done:
            first = came.popleft()
            done.discard(id(first))
            first.ack()

    def __len__(self) -> int:
        """Events not acknowledged yet."""
        return len(self._came)


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
        #: set when a rebalance takes the partition away: a batch still in hand then writes nothing to the table
        #: and acknowledges nothing (the partition's next owner, perhaps on another worker, starts from the table)
        self.revoked = False
        self.acks = InOrderAcks()
        #: which offset of the partition comes next (set by the agent from the consumer's committed offset)
        self.guard = OffsetGuard(None)

    async def add(self, origin: int, seq: int, rows: list[Any], event: Any,
                  apply: Callable[[int, list[Any]], Awaitable[bool]],
                  checkpoint: Callable[[int], None]) -> None:
        """Take one batch; ``apply`` runs each whole sequence (True: it ended a replay),
        ``checkpoint`` writes the table."""
        self.acks.came(event)
        for s, merged, tokens in self.barrier.add(origin, seq, rows, event):
            ended = await apply(s, merged)
            if self.revoked:
                return
            self.last_seq = s
            self.tokens.extend(tokens)
            self.since += 1
            if ended or self.since >= self.checkpoint_every:
                # what these sequences sent (alerts, rows downstream) lands before the table says they were
                # applied: a worker killed between the two would otherwise leave a changelog whose state has
                # raised an alert nobody received, and the next owner, reading that state, would not raise it
                await asyncio.gather(*self.sends)
                if self.revoked:
                    return
                self.flush(checkpoint)
            if ended:
                await self.acknowledge(wait=True)
        for t in self.barrier.take_skipped():  # already applied, or sent twice: never applied (again)
            if not self.revoked:
                self.acks.done(t)
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
        while self.landing and not self.revoked:
            sends, tokens = self.landing[0]
            if not wait and not all(f.done() for f in sends):
                return
            await asyncio.gather(*sends)  # a failed send raises: the batches are read again after a restart
            if self.changelog_pending and self.landed is not None:
                self.changelog_pending = False
                await self.landed()  # the table's changelog writes too
            if self.revoked:
                return
            self.landing.popleft()
            for t in tokens:
                self.acks.done(t)


class OffsetGuard:
    """Each offset of a partition once and in order, for one stage.

    Just after a rebalance, Faust can hand a stage a message fetched before the
    seek to the committed offset, ahead of the ones fetched after it; it then
    drops the messages in between as already read. A stage that lost one
    batch would wait for it for ever (a barrier) or miss its lines (decode).
    The guard knows which offset comes next: a message delivered again is
    ignored, and a message after a hole sends the consumer back to the first
    missing offset (at most ``max_seeks`` times for one offset, then the hole is
    reported and accepted: retention may have deleted what it held). It relies
    on the app's topics having consecutive offsets: their producers use no
    transactions (a transaction marker takes an offset of its own).
    """

    max_seeks = 3
    #: seconds before a hole that is still there is sought again
    reseek_after_s = 2.0

    def __init__(self, first: int | None) -> None:
        """``first``: the offset the partition was assigned at (its committed offset), None when unknown."""
        self.next = first
        self._seeks: dict[int, tuple[int, float]] = {}

    async def take(self, app: Any, event: Any, name: str) -> bool:
        """True when ``event`` is the partition's next message: the stage handles it."""
        offset = event.message.offset
        expected = self.next
        if expected is None or offset == expected:
            self.next = offset + 1
            self._seeks.clear()
            return True
        if offset < expected:
            logger.debug("%s: offset %d delivered again, ignored", name, offset)
            return False
        tried, at = self._seeks.get(expected, (0, float("-inf")))
        if tried >= self.max_seeks:
            logger.error("%s: offsets %d to %d never came after %d seeks: going on without them (deleted by "
                         "retention?)", name, expected, offset - 1, tried)
            self.next = offset + 1
            self._seeks.clear()
            return True
        now = time.monotonic()
        if now - at >= self.reseek_after_s:  # else the last seek has not taken effect yet: more stale messages
            self._seeks[expected] = (tried + 1, now)
            logger.warning("%s: offset %d came where %d was expected (the consumer skipped messages after a "
                           "rebalance): reading again from %d", name, offset, expected, expected)
            await app.consumer.seek(event.message.tp, expected)
        return False


async def changelog_landed(app: Any) -> None:
    """Wait until everything handed to the producer has reached the broker, table changelog writes included.

    Faust's ``producer.flush()`` drains its send buffer only while messages keep going: it gives up after 0.1 s
    without one and returns with writes still buffered. Acknowledging batches after it let a worker commit
    offsets whose checkpoint never reached the changelog; killed then, its partitions' next owner restored a
    table older than its input and waited for ever for the batches in between.
    """
    producer = app.producer
    buffer = getattr(producer, "buffer", None)
    while buffer is not None and buffer.size:
        await buffer.flush()
        if buffer.size:
            await asyncio.sleep(0.01)
    await producer.flush()


def committed_offset(app: Any, tp: Any) -> int | None:
    """The offset the consumer was sent back to for ``tp`` at its assignment (None: unknown, or the start)."""
    got = getattr(app.consumer, "_committed_offset", {}).get(tp)
    return int(got) if got else None


#: every agent's per-partition stages, by the name of the topic it reads (for :func:`log_stages`)
STAGES: dict[str, dict[int, Any]] = {}


def log_stages() -> None:
    """Log what each partition stage of this worker waits for: the last sequence applied, the sequences held in
    its barrier with the upstream partitions they still lack (at WARNING)."""
    for name, stages in sorted(STAGES.items()):
        for p, stage in sorted(stages.items()):
            bar = getattr(stage, "barrier", None)
            if bar is None:
                logger.warning("%s/%d: %d batches not yet acknowledged", name, p, len(getattr(stage, "unacked", ())))
                continue
            waiting = {seq: sorted(set(range(bar.origins)) - set(got)) for seq, got in sorted(bar.pending.items())}
            first = dict(list(waiting.items())[:3])
            logger.warning("%s/%d: applied up to %d; %d sequences wait (first ones lack upstream partitions %s); "
                           "%d checkpoints wait for their sends", name, p, stage.last_seq, len(waiting), first,
                           len(stage.landing))


def forget_revoked(app: Any, topic: Any, stages: dict[int, Any]) -> None:
    """Drop the per-partition state of ``topic``'s partitions when a rebalance takes them away
    (their next owner, maybe this worker again, rebuilds it from the table and the uncommitted input)."""
    STAGES[topic.get_topic_name()] = stages

    @app.on_partitions_revoked.connect
    def forget(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        name = topic.get_topic_name()
        for tp in args[0] if args else kwargs.get("revoked", ()):
            if tp.topic == name:
                stage = stages.pop(tp.partition, None)
                if stage is not None:
                    stage.revoked = True
