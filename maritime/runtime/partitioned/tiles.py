"""Stage 3, tiles: rendezvous and loitering per spatial tile; the tile where an episode starts reports it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import msgspec

from maritime.config import Settings
from maritime.detectors.tracker import Tracker
from maritime.models import Alert, VesselInfo
from maritime.runtime.assembly import Assembly, Chain
from maritime.runtime.partitioned.rows import (
    EndRow,
    Row,
    TickRow,
    TilePosRow,
    row_position,
    vessel_dump,
    vessel_load,
)
from maritime.zones.index import ZoneIndex

logger = logging.getLogger(__name__)

# -- stage 3: tiles ---------------------------------------------------------------------


class _Tile:
    __slots__ = ("bounds", "chain", "enrich", "key", "loitering", "owned", "raised", "rendezvous", "tracker")

    def __init__(self, key: str, assembly: Assembly, tile_deg: float) -> None:
        self.key = key
        r, c = (int(x) for x in key.split(":"))
        self.bounds = (r * tile_deg, c * tile_deg, (r + 1) * tile_deg, (c + 1) * tile_deg)
        self.tracker = Tracker()
        dets = assembly.tile_detectors(self.tracker)
        self.rendezvous: Any = next((d for d in dets if d.name == "rendezvous"), None)
        self.loitering: Any = next((d for d in dets if d.name == "loitering"), None)
        #: alerts raised by the detectors, before the tile keeps only its own (:meth:`TileRunner._mine`)
        self.raised: list[Alert] = []
        self.chain = Chain(self.tracker, (), dets, self.raised.extend,
                           evict_after_s=assembly.settings.evict_after_h * 3600)
        self.chain.forgotten = []  # evicted vessels leave the tile's table entry too
        self.enrich = assembly.enrichment(self.tracker)
        self.owned: dict[str, bool] = {}

    def inside(self, lat: float, lon: float) -> bool:
        lat0, lon0, lat1, lon1 = self.bounds
        return lat0 <= lat < lat1 and lon0 <= lon < lon1

    def idle(self) -> bool:
        return not self.owned and not (self.rendezvous and self.rendezvous.state) and \
            not (self.loitering and self.loitering.state)

    def remembers(self) -> bool:
        """True while the tile holds learned anchorages (kept even when idle and empty)."""
        return bool(self.rendezvous and self.rendezvous.learned and self.rendezvous.learned.cells)


class TileRunner:
    """Rendezvous and loitering for the tiles of one tile partition."""

    def __init__(self, settings: Settings, zones: ZoneIndex | None, partition: int, tile_deg: float = 2.0,
                 assembly: Assembly | None = None) -> None:
        self.s = settings
        self.zones = zones
        self.assembly = assembly if assembly is not None else Assembly(settings, zones)
        self.partition = partition
        self.tile_deg = tile_deg
        self.tiles: dict[str, _Tile] = {}
        self.dirty: set[str] = set()
        self.next_tick: float | None = None
        self.ended_at: float | None = None

    def _tile(self, key: str) -> _Tile:
        t = self.tiles.get(key)
        if t is None:
            t = self.tiles[key] = _Tile(key, self.assembly, self.tile_deg)
        return t

    def process(self, rows: Iterable[Row]) -> list[Alert]:
        """Apply one sequence's rows (positions forwarded by the vessel stage, and ticks)."""
        alerts: list[Alert] = []
        for r in rows:
            if isinstance(r, TilePosRow):
                self._position(r, alerts)
            elif isinstance(r, TickRow):
                if self.next_tick is not None and r.time_s < self.next_tick:
                    continue  # every vessel partition forwards the same tick
                self.next_tick = r.time_s + self.s.tick_s
                for tile in list(self.tiles.values()):
                    self._watermark(tile, r.time_s, alerts, end=False)
            elif isinstance(r, EndRow):
                if r.time_s == self.ended_at:
                    continue
                self.ended_at = self.next_tick = r.time_s
                for tile in list(self.tiles.values()):
                    self._watermark(tile, r.time_s, alerts, end=True)
        return alerts

    def _position(self, r: TilePosRow, alerts: list[Alert]) -> None:
        tile = self._tile(r.tile)
        self.dirty.add(tile.key)
        pos = row_position(r)
        name, callsign, imo, ship_type = r.ident
        vessel = tile.tracker.get(pos.mmsi)
        if (vessel.name, vessel.callsign, vessel.imo, vessel.ship_type) != (name, callsign, imo, ship_type):
            tile.tracker.on_static(VesselInfo(pos.mmsi, pos.time_s, name, callsign, imo, ship_type))
        if r.withheld:
            tile.chain.withheld(pos)
        else:
            tile.chain.position(pos)
        if tile.raised:
            alerts.extend(self._mine(tile))

    def _watermark(self, tile: _Tile, w: float, alerts: list[Alert], end: bool) -> None:
        tile.chain.watermark(w)
        if tile.chain.forgotten:
            tile.chain.forgotten.clear()
            self.dirty.add(tile.key)
        if end:
            tile.chain.finish(w)
        if tile.raised:
            self.dirty.add(tile.key)
            alerts.extend(self._mine(tile))
        # forget vessels the detectors no longer hold
        if tile.idle():
            horizon = self.s.rendezvous.max_interp_gap_min * 60
            stale = [m for m, v in tile.tracker.vessels.items() if (v.last_seen_s or 0.0) < w - horizon]
            for m in stale:
                del tile.tracker.vessels[m]
                self.dirty.add(tile.key)

    def _mine(self, tile: _Tile) -> list[Alert]:
        """Only the tile where an episode started reports it (enriched there)."""
        out = []
        for a in tile.raised:
            owned = tile.owned.get(a.id)
            if owned is None:
                lat, lon = self._start_point(tile, a)
                owned = tile.inside(lat, lon)
            if a.status == "closed":
                tile.owned.pop(a.id, None)
            else:
                tile.owned[a.id] = owned
            if owned:
                out.append(tile.enrich(a))
        tile.raised.clear()
        return out

    def _start_point(self, tile: _Tile, a: Alert) -> tuple[float, float]:
        det = tile.rendezvous if a.type == "rendezvous" else tile.loitering if a.type == "loitering" else None
        got = det.episode_start(a) if det is not None else None
        if got is not None:
            return got
        return (a.lat if a.lat is not None else 0.0), (a.lon if a.lon is not None else 0.0)

    # -- state for tables -----------------------------------------------------------

    def export(self, key: str) -> dict[str, Any] | None:
        """Everything one tile keeps (None: nothing worth keeping)."""
        tile = self.tiles.get(key)
        if tile is None:
            return None
        if tile.idle() and not tile.tracker.vessels and not tile.remembers():
            del self.tiles[key]
            return None
        return {
            "vessels": [vessel_dump(v) for v in tile.tracker.vessels.values()],
            "rendezvous": tile.rendezvous.snapshot() if tile.rendezvous is not None else None,
            "loitering": ([[m, msgspec.to_builtins(ep)] for m, ep in tile.loitering.state.items()]
                          if tile.loitering is not None else None),
            "owned": dict(tile.owned),
            "next_evict": tile.chain.next_evict_s,
        }

    def take_dirty(self) -> dict[str, dict[str, Any] | None]:
        """The tiles changed since the last call, exported."""
        got = {k: self.export(k) for k in sorted(self.dirty)}
        self.dirty.clear()
        return got

    def meta(self) -> dict[str, Any]:
        """Partition-wide state (the watermark tick)."""
        return {"next_tick": self.next_tick, "ended_at": self.ended_at}

    def restore(self, tiles: Iterable[tuple[str, dict[str, Any]]], meta: dict[str, Any] | None = None) -> None:
        """Rebuild from exported tiles."""
        if meta:
            self.next_tick = meta.get("next_tick")
            self.ended_at = meta.get("ended_at")
        for key, d in tiles:
            tile = self._tile(key)
            for vd in d["vessels"]:
                v = vessel_load(vd)
                tile.tracker.vessels[v.mmsi] = v
            if tile.rendezvous is not None and d.get("rendezvous") is not None:
                tile.rendezvous.restore(d["rendezvous"])
            if tile.loitering is not None and d.get("loitering") is not None:
                tile.loitering.state.update((int(m), msgspec.convert(ep, tile.loitering.state_type))
                                            for m, ep in d["loitering"])
            tile.owned.update(d.get("owned") or {})
            tile.chain.next_evict_s = d.get("next_evict")


