"""Every topic of the app, declared once, each with its partition count.

=============  ================  ==========================================
topic          key               value
=============  ================  ==========================================
``raw``        (partition set)   :class:`RawBatch`: lines per source
``vessels``    (MMSI partition)  :class:`RowBatch`: decoded records, ticks
``tiles``      (tile partition)  :class:`RowBatch`: positions near a tile
``arrivals``   (partition 0)     :class:`RowBatch`: a position per vessel per check, static
                                 reports, the alerts' vessels, ticks (from both stages)
``alerts``     alert id          :class:`AlertEvent`
``dead``       source            :class:`DeadLetter`
=============  ================  ==========================================

Batches are sent to explicit partitions (``maritime.runtime.partitioned`` decides:
MMSI modulo the partition count, a CRC of the tile), one per upstream
partition and sequence number, so every stage can wait for all of them.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import faust

from streams.records import AlertEvent, DeadLetter, RawBatch, RowBatch
from streams.settings import StreamSettings

TOPIC_NAMES = ("raw", "vessels", "tiles", "arrivals", "alerts", "dead")


@dataclass(frozen=True)
class Topics:
    """The app's topics."""

    raw: faust.TopicT
    vessels: faust.TopicT
    tiles: faust.TopicT
    arrivals: faust.TopicT
    alerts: faust.TopicT
    dead: faust.TopicT


def declare_topics(app: faust.App, s: StreamSettings) -> Topics:
    """Declare the topics on ``app`` (created on the broker when the app starts)."""

    def topic(name: str, value_type: type, key_type: type | None = None) -> faust.TopicT:
        return app.topic(s.topic(name), value_type=value_type, key_type=key_type, partitions=s.partitions,
                         replicas=s.replication, value_serializer="json")

    return Topics(raw=topic("raw", RawBatch), vessels=topic("vessels", RowBatch), tiles=topic("tiles", RowBatch),
                  arrivals=topic("arrivals", RowBatch),
                  alerts=topic("alerts", AlertEvent, str), dead=topic("dead", DeadLetter, str))


def all_topic_names(s: StreamSettings) -> list[str]:
    """Every topic the app uses, changelogs included, to create before any worker touches them."""
    from streams.tables import TABLE_NAMES

    return [s.topic(n) for n in TOPIC_NAMES] + [f"{s.app_id}-{s.topic(t)}-changelog" for t in TABLE_NAMES]


async def create_topics(s: StreamSettings) -> None:
    """Create every topic with its partition count (those that exist are left alone)."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(bootstrap_servers=s.bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [NewTopic(n, s.partitions, s.replication) for n in all_topic_names(s) if n not in existing]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker made them first
                await admin.create_topics(new)
    finally:
        await admin.close()
