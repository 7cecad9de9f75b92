"""The detectors split across partitions, without a broker: the logic the Faust agents wrap.

The distributed runtime (``streams/``) moves data between three stages;
this module is what each stage does with a batch, so that it can be tested
and compared with the embedded :class:`~maritime.runtime.pipeline.Pipeline` without
Kafka, and so that the Faust agents stay thin.

1. **Decode** (:class:`DecodeRunner`, one per raw partition): the lines of
   each source through its own :class:`~maritime.ingest.ais.AisDecoder` and
   reorder window, exactly as the embedded replay does per file. Decoded
   records go out as compact typed rows (:mod:`~maritime.runtime.partitioned.rows`)
   to the vessel partition of their MMSI,
   with the watermark *ticks* of the source's event time (where the embedded
   pipeline would call ``on_watermark``) sent to every partition, so every
   partition sees the same event time whatever traffic it carries.
2. **Vessels** (:class:`VesselRunner`, one per vessel partition, keyed by
   MMSI): the identity gate, dark gaps and geofences, with their per-MMSI
   state exported per vessel for a Faust table. Accepted positions are
   forwarded, with the vessel's identity, to the spatial tile they are in and
   to the neighbouring tiles they are within ``halo_km`` of.
3. **Tiles** (:class:`TileRunner`, one per tile partition, keyed by tile):
   rendezvous and loitering, one detector pair per tile. A tile sees every
   position within its halo, so a meeting or a loitering episode that starts
   in the tile is seen whole by it; the tile where an episode *starts* owns
   it and is the only one to report it, so pairs across a tile edge are found
   once.

Every batch carries the ingest sequence number it came from. A stage with
several upstream partitions waits for a batch of the same sequence from
each of them (:class:`Barrier`) and merges them by event time, so the order
in which a partition sees records never depends on which worker ran faster.
Batches already processed (a restarted worker reading its uncommitted input
again) are recognised by their sequence and skipped.

Known difference from the embedded run: ``feed_outage`` is judged per vessel
partition (each sees its share of the active vessels), so an outage is
reported once per partition, with that partition's counts.
"""


from __future__ import annotations

from maritime.runtime.partitioned.decode import DecodeRunner
from maritime.runtime.partitioned.local import LocalTopology, recording_batches, run_partitioned
from maritime.runtime.partitioned.rows import (
    END,
    EVENT,
    LATE,
    POS,
    PROGRESS,
    STATIC,
    TICK,
    TILE_POS,
    Barrier,
    EndRow,
    EventRow,
    Lanes,
    LateRow,
    PosRow,
    ProgressRow,
    Row,
    StaticRow,
    TickRow,
    TilePosRow,
    decode_rows,
    default_halo_km,
    encode_rows,
    event_rows,
    halo_tiles,
    lane_key,
    lane_may_start,
    lane_partition,
    lane_source,
    line_time,
    order_key,
    position_row,
    row_order,
    row_position,
    row_static,
    row_time,
    source_partition,
    static_row,
    tile_key,
    tile_of,
    tile_partition,
    vessel_dump,
    vessel_load,
    vessel_partition,
)
from maritime.runtime.partitioned.tiles import TileRunner
from maritime.runtime.partitioned.vessels import VesselRunner

__all__ = [
    "END",
    "EVENT",
    "LATE",
    "POS",
    "PROGRESS",
    "STATIC",
    "TICK",
    "TILE_POS",
    "Barrier",
    "DecodeRunner",
    "EndRow",
    "EventRow",
    "Lanes",
    "LateRow",
    "LocalTopology",
    "PosRow",
    "ProgressRow",
    "Row",
    "StaticRow",
    "TickRow",
    "TilePosRow",
    "TileRunner",
    "VesselRunner",
    "decode_rows",
    "default_halo_km",
    "encode_rows",
    "event_rows",
    "halo_tiles",
    "lane_key",
    "lane_may_start",
    "lane_partition",
    "lane_source",
    "line_time",
    "order_key",
    "position_row",
    "recording_batches",
    "row_order",
    "row_position",
    "row_static",
    "row_time",
    "run_partitioned",
    "source_partition",
    "static_row",
    "tile_key",
    "tile_of",
    "tile_partition",
    "vessel_dump",
    "vessel_load",
    "vessel_partition",
]
