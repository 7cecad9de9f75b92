"""The Faust agents without a broker, through Faust's ``agent.test_context()``.

Sends to other topics are captured (the test context has no producer);
what goes over a real broker is in test_streams.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from maritime.config import Settings
from maritime.models import Alert, VesselRef
from streams.app import create_app
from streams.records import AlertEvent, RawBatch, RawChunk, RowBatch
from streams.settings import StreamSettings
from tests.conftest import Collect

GOOD = r"\s:r3669961,c:1716000000*5A\!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24"
BAD_CHECKSUM = "!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*25"



@pytest.fixture
def app_and_sink(tmp_path):
    sink = Collect()
    settings = StreamSettings(app_id=f"unit-{tmp_path.name}", partitions=2, data_dir=tmp_path,
                              detection=Settings(identity={"land_check": False}))
    app = create_app(settings, sinks=[sink])
    app.finalize()
    app.flow_control.resume()
    return app, sink


def capture(topic: Any) -> list[dict[str, Any]]:
    """Replace ``topic.send`` by a recorder (returns a done future, as a delivered send does)."""
    sent: list[dict[str, Any]] = []

    async def send(**kwargs: Any) -> asyncio.Future[None]:
        sent.append(kwargs)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut

    topic.send = send
    return sent


async def test_alert_agent_hands_alerts_to_the_sinks(app_and_sink):
    app, sink = app_and_sink
    a = Alert("dark_gap:1:x", "dark_gap", "open", "high", 1.7e9, 1.7e9 - 7 * 3600, None, (VesselRef(376000500),),
              13.0, -61.0, "MMSI 376000500 silent for 7 h")
    async with app.agents["deliver"].test_context() as agent:
        await agent.put(AlertEvent(alert=a.as_dict()), key=a.id)
    assert [x.id for x in sink.alerts] == [a.id] and sink.alerts[0].summary == a.summary


async def test_decode_agent_sends_rows_to_every_vessel_partition_and_rejects_to_the_dead_letters(app_and_sink):
    app, _sink = app_and_sink
    rt = app.runtime
    rows = capture(rt.topics.vessels)
    dead = capture(rt.topics.dead)
    batch = RawBatch(seq=7, chunks=[RawChunk(source="rx", lines=[GOOD, BAD_CHECKSUM, "garbage \x00\xff"])], end=True)
    async with app.agents["decode"].test_context() as agent:
        await agent.put(batch)
    assert sorted(s["partition"] for s in rows) == [0, 1]  # every partition hears of sequence 7
    assert all(isinstance(s["value"], RowBatch) and s["value"].seq == 7 for s in rows)
    positions = [r for s in rows for r in s["value"].rows if r[0] == "p"]
    assert len(positions) == 1 and positions[0][1] == 265547250 and positions[0][2] == 1716000000.0
    own = next(s for s in rows if s["partition"] == 265547250 % 2)
    assert positions[0] in own["value"].rows  # on the MMSI's own partition
    ends = [r for s in rows for r in s["value"].rows if r[0] == "e"]
    assert len(ends) == 2  # the end of the replay reaches both partitions
    assert {d["value"].reason for d in dead} == {"bad_checksum", "malformed"}
    assert all(d["value"].source == "rx" for d in dead)


def test_records_are_validated():
    with pytest.raises(ValueError):
        RawBatch(seq="seven", chunks=[])


@pytest.mark.parametrize("command", [["worker"], ["ingest", "-"]])
def test_unreachable_kafka_is_a_one_line_error(command):
    import socket
    import subprocess
    import sys

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.run([sys.executable, "-m", "maritime.cli", *command, "--kafka", f"127.0.0.1:{port}"],
                          capture_output=True, text=True, input="", timeout=120)
    assert proc.returncode == 1
    assert f"error: Kafka at 127.0.0.1:{port}" in proc.stderr and "Traceback" not in proc.stderr


class Token:
    """A Faust event's acknowledgement, counted."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.acks = 0

    def ack(self) -> None:
        self.acks += 1


async def test_a_batch_sent_twice_while_its_sequence_waits_is_not_applied_alone():
    """After a rebalance, a restarted decode stage sends again sequences it had sent; the vessel stage may still
    wait for them from another upstream partition. The second copy is acknowledged and dropped: the sequence is
    applied once, whole, with the first copy (applying the copy alone, as an empty sequence, lost every row of
    that sequence in the Apache Kafka failover test)."""
    from maritime.runtime.partitioned import TickRow
    from streams.agents.stage import PartitionStage

    applied: list[tuple[int, list[Any]]] = []
    checkpoints: list[int] = []

    async def apply(seq: int, rows: list[Any]) -> bool:
        applied.append((seq, rows))
        return False

    stage = PartitionStage(2, runner=None, done_seq=4, checkpoint_every=1)
    stale, first, again, other = Token("stale"), Token("first"), Token("again"), Token("other")
    await stage.add(0, 4, [TickRow(1.0)], stale, apply, checkpoints.append)  # before the restart's checkpoint
    await stage.add(0, 5, [TickRow(10.0)], first, apply, checkpoints.append)
    await stage.add(0, 5, [TickRow(11.0)], again, apply, checkpoints.append)  # the restarted upstream's copy
    # the copy is done with, but acknowledged only after the batch that came before it (offsets in order)
    assert applied == [] and (stale.acks, first.acks, again.acks) == (1, 0, 0)
    await stage.add(1, 5, [TickRow(12.0)], other, apply, checkpoints.append)
    assert applied == [(5, [TickRow(10.0), TickRow(12.0)])]
    assert checkpoints == [5] and (first.acks, other.acks, again.acks) == (1, 1, 1)


async def test_a_stage_whose_partition_is_revoked_mid_batch_writes_no_checkpoint_and_acknowledges_nothing():
    """The batch in hand when a rebalance takes the partition away finishes without touching the table or the
    offsets: the partition's next owner (maybe on another worker) starts from the table as it was."""
    from maritime.runtime.partitioned import TickRow
    from streams.agents.stage import PartitionStage

    checkpoints: list[int] = []
    stage = PartitionStage(1, runner=None, done_seq=-1, checkpoint_every=1)

    async def apply(seq: int, rows: list[Any]) -> bool:
        stage.revoked = True  # what forget_revoked does, while this sequence's sends are in flight
        return False

    token = Token("t")
    await stage.add(0, 0, [TickRow(1.0)], token, apply, checkpoints.append)
    assert checkpoints == [] and token.acks == 0


def test_events_are_acknowledged_in_the_order_they_came():
    """Faust commits the acknowledged offsets after the last commit even when the first of them is missing;
    the stage acknowledges a partition's events only as a prefix of what came."""
    from streams.agents.stage import InOrderAcks

    acks = InOrderAcks()
    a, b, c = Token("a"), Token("b"), Token("c")
    for t in (a, b, c):
        acks.came(t)
    acks.done(c)
    acks.done(b)
    assert (a.acks, b.acks, c.acks) == (0, 0, 0) and len(acks) == 3
    acks.done(a)
    assert (a.acks, b.acks, c.acks) == (1, 1, 1) and len(acks) == 0


async def test_the_offset_guard_ignores_repeats_and_goes_back_for_a_hole():
    """After a rebalance Faust can hand over a message fetched before its seek, then drop those in between as
    already read: the stage sends the consumer back to the first missing offset instead of waiting for ever."""
    from types import SimpleNamespace

    from streams.agents.stage import OffsetGuard

    seeks: list[tuple[str, int]] = []

    async def seek(tp: str, offset: int) -> None:
        seeks.append((tp, offset))

    app = SimpleNamespace(consumer=SimpleNamespace(seek=seek))

    def ev(offset: int) -> Any:
        return SimpleNamespace(message=SimpleNamespace(offset=offset, tp="vessels/0"))

    guard = OffsetGuard(35)
    assert await guard.take(app, ev(35), "vessels/0")
    assert await guard.take(app, ev(36), "vessels/0")
    assert not await guard.take(app, ev(36), "vessels/0")  # delivered twice: ignored
    assert not await guard.take(app, ev(38), "vessels/0")  # 37 was dropped: back to it
    assert not await guard.take(app, ev(39), "vessels/0")  # more stale messages: the seek is under way
    assert seeks == [("vessels/0", 37)]
    assert await guard.take(app, ev(37), "vessels/0") and await guard.take(app, ev(38), "vessels/0")
    # a hole that never fills (retention) is given up after a few seeks, with an error
    guard.reseek_after_s = 0.0
    for _ in range(OffsetGuard.max_seeks):
        assert not await guard.take(app, ev(50), "vessels/0")
    assert await guard.take(app, ev(50), "vessels/0") and guard.next == 51
    assert seeks[1:] == [("vessels/0", 39)] * OffsetGuard.max_seeks


async def test_changelog_writes_land_before_a_stage_acknowledges_even_when_fausts_flush_gives_up():
    """Faust's buffer flush returns after 0.1 s without a message sent, with writes still buffered; the stage
    waits until the buffer is empty and the producer has flushed."""
    from types import SimpleNamespace

    from streams.agents.stage import changelog_landed

    class Buffer:
        size = 3

        async def flush(self) -> None:
            await asyncio.sleep(0)  # gives up at once, as Faust's does when nothing was sent in 0.1 s

    buffer = Buffer()
    flushed: list[int] = []

    async def drain() -> None:
        while buffer.size:
            await asyncio.sleep(0.02)
            buffer.size -= 1

    async def producer_flush() -> None:
        flushed.append(buffer.size)

    task = asyncio.create_task(drain())
    await changelog_landed(SimpleNamespace(producer=SimpleNamespace(buffer=buffer, flush=producer_flush)))
    await task
    assert flushed == [0]  # the producer's own flush came once the buffer was empty
