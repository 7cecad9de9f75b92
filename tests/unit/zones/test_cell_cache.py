"""Zone index cells kept between runs (:mod:`maritime.zones.cellcache`): the cells read back are the cells worked
out, every point gets the same zones from them, a file for other zones or a damaged one is ignored, and a replay
over a warm cache raises the same alerts as over a cold one."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import random
from pathlib import Path

import numpy as np
import pytest
import shapely
import shapely.affinity

from maritime.config import Settings
from maritime.delivery.jsonl import JsonLinesSink
from maritime.ingest.sources import parse_source
from maritime.paths import CACHE_ENV
from maritime.runtime.assembly import Assembly
from maritime.runtime.pipeline import Pipeline
from maritime.zones import cellcache
from maritime.zones.index import _FINE_PAD, FINE, ZoneIndex, load_zones
from tests.conftest import ROOT

DEFAULT = ROOT / "geofences"


def _points(n: int, seed: int) -> list[tuple[float, float]]:
    """Points around the Lesser Antilles and Puerto Rico, a quarter of them close to one another (crossed cells
    are refined where points fall)."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        lat, lon = rnd.uniform(11.5, 19.0), rnd.uniform(-68.0, -59.5)
        out.append((lat, lon))
        if rnd.random() < 0.25:
            out.append((lat + rnd.uniform(-0.01, 0.01), lon + rnd.uniform(-0.01, 0.01)))
    return out


def test_cells_read_back_are_the_cells_worked_out_and_answer_the_same(tmp_path: Path) -> None:
    zones = load_zones(DEFAULT).ruled()
    pts = _points(3000, 1)
    want = [zones.containing_idx(la, lo) for la, lo in pts]
    assert any(v[2] for v in zones.cells.values()) and any(v[2] is None for v in zones.cells.values())
    path = tmp_path / "cells.npz"
    zones._disk_known = 0  # (as if it had read an empty cache)
    assert cellcache.keep(zones, FINE, _FINE_PAD, path)
    again = ZoneIndex(zones.zones, cell_deg=zones.cell_deg)
    assert cellcache.read(again, FINE, _FINE_PAD, path) == len(zones.cells)
    assert again.cells == zones.cells
    # the shared answers are shared again (one copy of each tuple), and every point answers as before
    assert len({id(v[0]) for v in again.cells.values()}) <= len({v[0] for v in again.cells.values()})
    assert [again.containing_idx(la, lo) for la, lo in pts] == want
    assert not cellcache.keep(again, FINE, _FINE_PAD, path), "nothing new learned: the file is not written again"
    fresh = ZoneIndex(zones.zones, cell_deg=zones.cell_deg)
    assert [again.containing_idx(la, lo) for la, lo in _points(2000, 2)] == \
        [fresh.containing_idx(la, lo) for la, lo in _points(2000, 2)], "new points, beyond the cached cells"
    assert cellcache.keep(again, FINE, _FINE_PAD, path), "cells learned since the file was read: written again"


def test_another_zone_set_has_another_file_and_a_damaged_file_is_ignored(tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    zones = load_zones(DEFAULT).ruled()
    key = cellcache.cache_key(zones, FINE, _FINE_PAD)
    assert cellcache.cache_key(ZoneIndex(zones.zones, cell_deg=zones.cell_deg), FINE, _FINE_PAD) == key
    assert cellcache.cache_key(ZoneIndex(zones.zones, cell_deg=0.05), FINE, _FINE_PAD) != key, "another grid"
    assert cellcache.cache_key(ZoneIndex(zones.zones[::-1], cell_deg=zones.cell_deg), FINE, _FINE_PAD) != key, "another order"
    z0 = zones.zones[0]
    moved = dataclasses.replace(z0, geometry=shapely.affinity.translate(z0.geometry, 1e-9))
    assert cellcache.cache_key(ZoneIndex([moved, *zones.zones[1:]], cell_deg=zones.cell_deg), FINE, _FINE_PAD) != key, \
        "a boundary moved by 1e-9°"

    for la, lo in _points(500, 3):
        zones.containing_idx(la, lo)
    path = tmp_path / "cells.npz"
    zones._disk_known = 0
    assert cellcache.keep(zones, FINE, _FINE_PAD, path)
    few = ZoneIndex(zones.zones[:3], cell_deg=zones.cell_deg)  # a file whose zone numbers it does not have
    with caplog.at_level(logging.INFO, logger="maritime.zones.cellcache"):
        assert cellcache.read(few, FINE, _FINE_PAD, path) == 0
    assert "zone numbers out of range" in caplog.text and not few.cells
    path.write_bytes(b"not a numpy file")
    again = ZoneIndex(zones.zones, cell_deg=zones.cell_deg)
    assert cellcache.read(again, FINE, _FINE_PAD, path) == 0 and not again.cells
    with path.open("wb") as fh:  # arrays of another shape
        np.savez(fh, tuples=np.zeros(1, np.int32), ends=np.ones(1, np.int64), keys=np.zeros((2, 3), np.int64),
                 inside=np.zeros(2, np.int32), edge=np.zeros(2, np.int32), fine=np.zeros(2, np.int32),
                 subcells=np.zeros((0, 64, 2), np.int32))
    assert cellcache.read(again, FINE, _FINE_PAD, path) == 0 and not again.cells
    for bad in ({"ends": np.array([5, 3], np.int64), "tuples": np.zeros(3, np.int32)},  # ends out of order
                {"ends": np.array([2], np.int64), "tuples": np.zeros(3, np.int32)},  # numbers after the last end
                {"ends": np.zeros(0, np.int64), "tuples": np.zeros(0, np.int32)},  # no tuple for the cells
                {"ends": np.array([1.0]), "tuples": np.zeros(1)}):  # not integers
        with path.open("wb") as fh:
            np.savez(fh, keys=np.zeros((1, 2), np.int64), inside=np.zeros(1, np.int32), edge=np.zeros(1, np.int32),
                     fine=np.full(1, cellcache.UNCROSSED, np.int32), subcells=np.zeros((0, 64, 2), np.int32), **bad)
        assert cellcache.read(again, FINE, _FINE_PAD, path) == 0 and not again.cells, bad
    with path.open("wb") as fh:  # a file of no cells at all: nothing to add
        np.savez(fh, keys=np.zeros((0, 2), np.int64), inside=np.zeros(0, np.int32), edge=np.zeros(0, np.int32),
                 fine=np.zeros(0, np.int32), subcells=np.zeros((0, 64, 2), np.int32), ends=np.zeros(0, np.int64),
                 tuples=np.zeros(0, np.int32))
    assert cellcache.read(again, FINE, _FINE_PAD, path) == 0 and not again.cells
    assert again.containing_idx(14.02, -61.02) == ZoneIndex(zones.zones, cell_deg=zones.cell_deg).containing_idx(
        14.02, -61.02)


def test_a_replay_over_kept_cells_raises_the_same_alerts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture, grid, zone_index) -> None:
    """Three replays of a simulated Caribbean morning, each with the zones loaded afresh: the first works the
    cells out and keeps them, the second reads them; for the third the cache folder cannot be made (a file
    stands where it would be). The same alerts and summaries each time."""
    from maritime.sim.simulator import Simulator

    sim = Simulator(3, 24, seed=5, zones=zone_index, grid=grid)
    sim.build()
    sim.write(tmp_path / "sim")
    rec = tmp_path / "sim" / "traffic.nmea"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    s = Settings()

    def replay(n: int) -> tuple[list[dict], dict]:
        zones = load_zones(DEFAULT)
        out = tmp_path / f"alerts-{n}.jsonl"
        pipe = Pipeline(s, assembly=Assembly(s, zones), sinks=[JsonLinesSink(out)])
        summary = pipe.replay(parse_source(str(rec)))
        assert zones.ruled().disk_cells
        alerts = [json.loads(x) for x in out.read_text().splitlines()]
        summary.pop("seconds")
        return alerts, json.loads(json.dumps(summary, default=str))

    with caplog.at_level(logging.INFO, logger="maritime.zones.cellcache"):
        first = replay(1)
        assert sorted((tmp_path / "cache").glob("zone-cells-*.npz")), "the replay kept its zone cells"
        assert "kept in the cache" in caplog.text
        second = replay(2)
    assert "read from the cache" in caplog.text
    assert first[0] and first == second
    (tmp_path / "cache").rename(tmp_path / "gone")
    (tmp_path / "cache").write_text("a file where the folder was")
    assert replay(3) == first


def test_a_square_no_zone_comes_into_gives_the_cells_the_block_query_gives() -> None:
    """Cells in squares of 10 × 10 cells that no ruled zone comes into are filled empty without the block query:
    the same cells and the same answers as an index that queries every block (its squares all marked as not
    free), over points around the Lesser Antilles and Puerto Rico and across the open Caribbean Sea."""
    from maritime.zones.index import BLOCK, COARSE

    ruled = load_zones(DEFAULT).ruled()
    rnd = random.Random(9)
    pts = _points(3000, 9) + [(rnd.uniform(12.5, 17.5), rnd.uniform(-80.0, -68.0)) for _ in range(3000)]
    fast = ZoneIndex(ruled.zones, cell_deg=ruled.cell_deg)
    slow = ZoneIndex(ruled.zones, cell_deg=ruled.cell_deg)
    s = ruled.cell_deg
    for la, lo in pts:
        r, c = math.floor(la / s) // BLOCK * BLOCK, math.floor(lo / s) // BLOCK * BLOCK
        slow._free[(r // COARSE, c // COARSE)] = False
    assert [fast.containing_idx(la, lo) for la, lo in pts] == [slow.containing_idx(la, lo) for la, lo in pts]
    assert fast.cells == slow.cells
    free = sum(fast._free.values())
    assert 0 < free < len(fast._free), (free, len(fast._free))
