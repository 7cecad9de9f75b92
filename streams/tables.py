"""The tables: detector state, keyed like the topic it comes from, recovered from changelogs.

``vessels`` holds one entry per MMSI (``"m:<mmsi>"``: identity, last fix,
gap, identity and geofence state) and one per vessel partition
(``"meta:<p>"``: the last sequence applied, the watermark tick, the
duplicate window). ``tiles`` holds one entry per tile (``"t:<row>:<col>"``:
the rendezvous and loitering state of that tile) and one per tile
partition. ``arrivals`` holds the arrivals stage (``"m:<mmsi>"`` per vessel and ``"meta"``, all in
partition 0). Entries are written from the partition's own events, so each
lands in the changelog partition of the same number (co-partitioned).
"""

from __future__ import annotations

from dataclasses import dataclass

import faust
from faust.types import TableT

from streams.settings import StreamSettings

TABLE_NAMES = ("vessels", "tiles", "arrivals")


@dataclass(frozen=True)
class Tables:
    """The app's tables."""

    vessels: TableT
    tiles: TableT
    arrivals: TableT


def declare_tables(app: faust.App, s: StreamSettings) -> Tables:
    """Declare the tables on ``app`` (JSON values, string keys, one partition per topic partition)."""

    def table(name: str) -> TableT:
        return app.Table(s.topic(name), default=None, partitions=s.partitions, key_type=str,
                         help=f"{name} detector state")

    return Tables(vessels=table("vessels"), tiles=table("tiles"), arrivals=table("arrivals"))
