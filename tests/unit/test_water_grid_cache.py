"""The water grid (sea routes for the arrivals board and the simulator), its shortest-path trees and Natural
Earth's countries are kept in the user's cache folder: the same from the cache as computed, and a damaged or
unwritable cache never stops a run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from maritime.geo.routing import WaterGrid
from maritime.paths import CACHE_ENV

#: the Grenadines and St Vincent (lon0, lat0, lon1, lat1): a small grid, quick to make
SMALL = (-61.6, 12.3, -61.0, 13.4)


def test_the_cached_grid_is_the_computed_one_and_a_damaged_cache_is_made_again(tmp_path: Path,
                                                                                 monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    first = WaterGrid(region=SMALL)
    (cached,) = tmp_path.glob("water-grid-*.npz")
    assert first.water.any() and not first.water.all()
    import maritime.geo.routing as routing

    def unread() -> None:
        raise AssertionError("the land data was read again")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(routing, "countries", unread)  # from the cache, Natural Earth is not read
        again = WaterGrid(region=SMALL)
    assert np.array_equal(again.water, first.water)
    for name in ("land", "leg_land", "raw_land"):
        assert getattr(again, name).equals_exact(getattr(first, name), 0.0), name
    assert again.path(again.nearest_water(12.6, -61.35), again.nearest_water(13.1, -61.3)) == \
        first.path(first.nearest_water(12.6, -61.35), first.nearest_water(13.1, -61.3))
    cached.write_bytes(b"not a numpy file")
    damaged = WaterGrid(region=SMALL)
    assert np.array_equal(damaged.water, first.water)
    with np.load(cached) as got:
        assert np.array_equal(got["water"], first.water), "the damaged file is replaced"
    with cached.open("wb") as fh:  # a grid of another shape (another grid's, say)
        np.savez(fh, water=np.ones((3, 3), dtype=bool), land=np.zeros(1, np.uint8), leg_land=np.zeros(1, np.uint8),
                 raw_land=np.zeros(1, np.uint8))
    assert np.array_equal(WaterGrid(region=SMALL).water, first.water)
    assert np.array_equal(WaterGrid(cell_deg=0.1, region=SMALL).water.shape, (first.nrow // 2, first.ncol // 2))
    assert len(list(tmp_path.glob("water-grid-*.npz"))) == 2, "another cell size has its own file"


def test_an_unwritable_cache_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder should be")
    monkeypatch.setenv(CACHE_ENV, str(blocker))
    grid = WaterGrid(region=SMALL)
    assert grid.water.any()
    assert len(grid.path(grid.nearest_water(12.6, -61.35), grid.nearest_water(13.1, -61.3))) >= 2


def test_shortest_path_trees_are_kept_and_a_bad_one_is_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    first = WaterGrid(region=SMALL)
    src, dst = first.nearest_water(12.6, -61.35), first.nearest_water(13.1, -61.3)
    route = first.path(src, dst)
    (kept,) = tmp_path.glob(f"water-grid-*-trees/{src}.npz")
    import maritime.geo.routing as routing

    def no_dijkstra(*_a: object, **_k: object) -> None:
        raise AssertionError("the tree was made again")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(routing, "_shortest_tree", no_dijkstra)  # from the cache: no shortest-path search
        again = WaterGrid(region=SMALL)
        assert again.path(src, dst) == route
        assert np.array_equal(again.tree(src), first.tree(src))
        assert again._graph is None, "every tree came from the cache: the graph is not made"
    kept.write_bytes(b"not a numpy file")
    assert WaterGrid(region=SMALL).path(src, dst) == route
    with np.load(kept) as got:
        assert np.array_equal(got["pred"], first.tree(src)), "the damaged tree is replaced"
    with kept.open("wb") as fh:  # another grid's tree (another length), or not a tree from this cell
        np.savez(fh, pred=np.full(7, -9999, dtype=np.int32))
    assert WaterGrid(region=SMALL).path(src, dst) == route
    wrong = first.tree(src).copy()
    wrong[src] = src
    with kept.open("wb") as fh:
        np.savez(fh, pred=wrong)
    assert np.array_equal(WaterGrid(region=SMALL).tree(src), first.tree(src))


def test_the_countries_are_kept_and_read_back_the_same_and_a_damaged_cache_is_read_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Natural Earth's countries (the land mask of the identity gate and the water grid) are read and repaired
    once, then read back from the cache: the same polygons, names and codes."""
    import geopandas

    from maritime.zones.geodata import countries

    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    countries.cache_clear()
    try:
        first = countries()
        (kept,) = tmp_path.glob("countries-*.npz")

        def unread(*_a: object, **_k: object) -> None:
            raise AssertionError("Natural Earth was read again")

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(geopandas, "read_file", unread)
            countries.cache_clear()
            again = countries()
        assert len(again) == len(first) > 200
        for a, b in zip(first, again, strict=True):
            assert (a.iso2, a.a3, a.name, a.sovereign, a.kind) == (b.iso2, b.a3, b.name, b.sovereign, b.kind)
            assert a.geometry.equals_exact(b.geometry, 0.0) and b.geometry.is_valid, a.name
        kept.write_bytes(b"not a numpy file")
        countries.cache_clear()
        assert [c.a3 for c in countries()] == [c.a3 for c in first]
        with np.load(kept) as got:
            assert len(got["ends"]) == len(first), "the damaged file is replaced"
    finally:
        countries.cache_clear()


def test_the_cache_keeps_a_few_files_of_each_kind_the_most_recently_used(tmp_path: Path):
    """Land data, zones or GEOS of other installs leave files behind: writing one prunes its kind to the most
    recently written or read (a water grid with its folder of trees), and leaves the other kinds alone."""
    import os

    from maritime.paths import keep_arrays, used

    for k in range(5):
        keep_arrays(tmp_path / f"countries-{k:020x}.npz", "countries", family=None, x=np.zeros(1))
        os.utime(tmp_path / f"countries-{k:020x}.npz", (1_000_000 + k, 1_000_000 + k))
    for k in range(3):
        grid = tmp_path / f"water-grid-{k:020x}.npz"
        keep_arrays(grid, "water grid", x=np.zeros(1))
        keep_arrays(tmp_path / f"water-grid-{k:020x}-trees" / "7.npz", "tree", x=np.zeros(1))
        os.utime(grid, (2_000_000 + k, 2_000_000 + k))
    used(tmp_path / f"countries-{0:020x}.npz")  # the oldest, read just now
    keep_arrays(tmp_path / "countries-ffffffffffffffffffff.npz", "countries", family=3, x=np.zeros(1))
    left = sorted(p.name for p in tmp_path.glob("countries-*.npz"))
    assert left == [f"countries-{0:020x}.npz", f"countries-{4:020x}.npz", "countries-ffffffffffffffffffff.npz"]
    assert len(list(tmp_path.glob("water-grid-*.npz"))) == 3, "another kind is left alone"
    keep_arrays(tmp_path / "water-grid-ffffffffffffffffffff.npz", "water grid", family=2, x=np.zeros(1))
    assert sorted(p.name for p in tmp_path.glob("water-grid-*")) == [
        f"water-grid-{2:020x}-trees", f"water-grid-{2:020x}.npz", "water-grid-ffffffffffffffffffff.npz"]
