"""Settings of the distributed runtime, injected into :func:`streams.app.create_app`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from maritime.config import Settings


class StreamSettings(BaseModel):
    """Where the broker is, how the topics are cut, and what the detectors use."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    broker: str = Field("kafka://localhost:9092", description="Kafka bootstrap URL(s), 'kafka://host:port'")
    app_id: str = Field("caribbean-mda", description="Faust app id: the consumer group and table topic names")
    topic_prefix: str = Field("mda.", description="prefix of every topic this app declares")
    partitions: int = Field(4, ge=1, description="partitions of every topic (and so the most workers that help)")
    replication: int = Field(1, ge=1, description="replication factor of declared topics")
    store: str = Field("memory://", description="Faust table store ('memory://', or 'rocksdb://' if installed)")
    data_dir: Path = Field(Path(".faust-data"), description="Faust's data folder (table stores)")
    tile_deg: float = Field(2.0, gt=0, description="side of a rendezvous/loitering tile (degrees)")
    instance_id: str | None = Field(None, description="static group membership: a restarted worker with the same "
                                    "id takes its partitions back at once")
    session_timeout_s: float = Field(60.0, gt=1, description="a worker silent this long is dropped from the group")
    checkpoint_every: int = Field(10, ge=1, description="ingest batches between table checkpoints (and offset acks)")
    detection: Settings = Field(default_factory=Settings)

    @staticmethod
    def broker_url(servers: str) -> str:
        """Faust's broker URL for ``host:port[,host:port]`` (a URL with a scheme is kept as it is)."""
        return servers if "://" in servers else ";".join(f"kafka://{h}" for h in servers.split(","))

    @classmethod
    def for_servers(cls, servers: str, detection: Settings, **fields: Any) -> StreamSettings:
        """The settings for the Kafka bootstrap ``servers`` (as ``--kafka`` takes them), ``None`` fields left
        at their defaults."""
        return cls(broker=cls.broker_url(servers), detection=detection,
                   **{k: v for k, v in fields.items() if v is not None})

    def topic(self, name: str) -> str:
        """The full name of one of this app's topics."""
        return f"{self.topic_prefix}{name}"

    @property
    def bootstrap(self) -> str:
        """``host:port[,host:port]`` for plain Kafka clients."""
        return ",".join(u.split("://", 1)[-1] for u in self.broker.split(";"))
