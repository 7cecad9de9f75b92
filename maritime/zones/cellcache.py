"""Zone index cells kept between runs, in the user's cache folder.

A :class:`~maritime.zones.index.ZoneIndex` works out its grid cells (which zones hold a cell, which cross it, and
the sub-cells of a crossed cell) with shapely when a point first falls in them. On a simulated Caribbean day that
is 0.7-0.8 s of a replay in a fresh process, although the same cells take 0.23 s worked out on their own: a
profile of the replay with and without them puts the difference in the index's block and sub-cell work, spread
through the replay. The cells are exact functions of the zones' geometries and the grid, so they can be kept:
this module writes them to ``zone-cells-<key>.npz`` in :func:`maritime.paths.cache_dir`, named by a digest of
every zone's id and geometry (WKB) in index order, the grid (cell size, the sub-cells to a side and their
padding), the GEOS version and :data:`CELLS_VERSION`. Another zone set, grid or GEOS has another file; a file
that is unreadable or does not fit the index is ignored (the cells are worked out again). Only the cells are kept,
never the answers for points (those come from the first point near them, and a replay must not depend on an
earlier one).

The file holds numpy arrays only (read with ``allow_pickle=False``):

- ``tuples``, ``ends``: the distinct tuples of zone indices the cells use, flattened;
- ``keys`` (n × 2, row and column), ``inside``, ``edge`` (tuple numbers), ``fine`` (the row of ``subcells``
  holding the cell's sub-cells, :data:`NOT_REFINED` when none was needed yet, :data:`UNCROSSED` when no boundary
  crosses the cell);
- ``subcells`` (m × FINE² × 2): each sub-cell's (zones holding it, zones near it) as tuple numbers.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import shapely

from maritime.paths import used

logger = logging.getLogger(__name__)

#: the file format; raise it when the cells' meaning or layout changes
CELLS_VERSION = 1
#: a crossed cell whose sub-cells were not needed yet
NOT_REFINED = -1
#: a cell no zone boundary crosses
UNCROSSED = -2
#: cells learned in a run below which the file is not written again (a short test replay learns a handful)
MIN_NEW_CELLS = 256
#: the zone sets whose cells are kept (the most recently used; each set is several files: its indexes)
KEPT_ZONE_SETS = 24
#: no file is written for an index holding more cells than this (about 20 bytes each on disk)
MAX_CELLS = 2_000_000


class CellIndex(Protocol):
    """What is read and written here of a :class:`~maritime.zones.index.ZoneIndex` (which calls this module, and
    hands it its grid: the sub-cells to a side and their padding)."""

    zones: list[Any]
    cell_deg: float
    _fine_shared: dict[Any, Any]
    _disk_known: int
    _disk_refined: int

    @property
    def cells(self) -> dict[tuple[int, int], tuple[tuple[int, ...], tuple[int, ...], tuple[Any, ...] | None]]: ...


def cache_key(index: CellIndex, fine: int, pad: float) -> str:
    """The digest naming ``index``'s file: its zones (ids and geometries, in order), its grid (``fine`` sub-cells
    to a cell's side, widened by ``pad`` degrees) and GEOS."""
    h = hashlib.sha256(repr((CELLS_VERSION, index.cell_deg, fine, pad, shapely.geos_version_string,
                             len(index.zones))).encode())
    wkbs = shapely.to_wkb(np.array([z.geometry for z in index.zones], dtype=object), output_dimension=2,
                          byte_order=1, include_srid=False)
    for z, wkb in zip(index.zones, wkbs.tolist(), strict=True):
        h.update(z.id.encode("utf-8", "surrogatepass"))
        h.update(len(wkb).to_bytes(8, "little"))
        h.update(wkb)
    return h.hexdigest()


def cache_path(index: CellIndex, fine: int, pad: float) -> Path:
    """Where ``index``'s cells are kept (:func:`maritime.paths.cache_dir`)."""
    from maritime.paths import cache_dir

    return cache_dir() / f"zone-cells-{cache_key(index, fine, pad)[:24]}.npz"


def read(index: CellIndex, fine: int, pad: float, path: Path | None = None) -> int:
    """Add the cells kept for ``index`` (those it has not worked out itself); return how many were added.

    A missing file adds nothing; an unreadable one, or one whose contents do not fit the index (zone numbers out
    of range, arrays of the wrong shape), is logged and ignored."""
    path = cache_path(index, fine, pad) if path is None else path
    try:
        with np.load(path, allow_pickle=False) as got:
            flat, ends = got["tuples"], got["ends"]
            keys, inside, edge, rows, sub = got["keys"], got["inside"], got["edge"], got["fine"], got["subcells"]
        n = len(keys)
        if (keys.shape != (n, 2) or inside.shape != (n,) or edge.shape != (n,) or rows.shape != (n,)
                or sub.ndim != 3 or sub.shape[1:] != (fine * fine, 2) or ends.ndim != 1 or flat.ndim != 1):
            raise ValueError("arrays of the wrong shape")
        if len(flat) and (int(flat.min()) < 0 or int(flat.max()) >= len(index.zones)):
            raise ValueError("zone numbers out of range")
        n_tuples = len(ends)
        for arr in (inside, edge, sub):
            if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= n_tuples):
                raise ValueError("tuple numbers out of range")
        if n and (int(rows.min()) < UNCROSSED or int(rows.max()) >= len(sub)):
            raise ValueError("sub-cell rows out of range")
        if any(arr.dtype.kind not in "iu" for arr in (flat, ends, keys, inside, edge, rows, sub)):
            raise ValueError("arrays that are not of integers")
        if len(ends) and (int(ends[0]) < 0 or bool((np.diff(ends) < 0).any()) or int(ends[-1]) != len(flat)):
            raise ValueError("tuple ends out of order")
        if not len(ends) and len(flat):
            raise ValueError("zone numbers in no tuple")
    except FileNotFoundError:
        return 0
    except (OSError, ValueError, KeyError, EOFError) as err:
        logger.info("zone cells cache %s unreadable (%s): the cells are worked out again", path, err)
        return 0
    shared = index._fine_shared
    starts = [0, *ends[:-1].tolist()] if len(ends) else []
    values = flat.tolist()
    tuples: list[tuple[int, ...]] = []
    for a, b in zip(starts, ends.tolist(), strict=True):
        t = tuple(values[a:b])
        tuples.append(shared.setdefault(t, t))
    pairs: dict[tuple[int, int], Any] = {}

    def pair(h: int, m: int) -> Any:
        got = pairs.get((h, m))
        if got is None:
            p = (tuples[h], tuples[m])
            got = pairs[(h, m)] = shared.setdefault(p, p)
        return got

    subrows = sub.tolist()
    cells = index.cells
    added = 0
    for (r, c), i, e, f in zip(keys.tolist(), inside.tolist(), edge.tolist(), rows.tolist(), strict=True):
        key = (r, c)
        if key in cells:
            continue
        te = tuples[e]
        sub_cells: Any
        if f == UNCROSSED:
            if te:
                continue  # (a crossed cell cannot be uncrossed: not from this index)
            sub_cells = ()
        elif f == NOT_REFINED or not te:
            sub_cells = None if te else ()
        else:
            sub_cells = tuple(pair(h, m) for h, m in subrows[f])
        cells[key] = (tuples[i], te, sub_cells)
        added += 1
    index._disk_known = len(cells)
    index._disk_refined = sum(1 for v in cells.values() if v[2])
    used(path)
    logger.info("zone cells: %d read from the cache %s", added, path)
    return added


def keep(index: CellIndex, fine: int, pad: float, path: Path | None = None) -> bool:
    """Write ``index``'s cells for the next run when it learned at least :data:`MIN_NEW_CELLS` since they were
    read (or any sub-cells); True when written. A cache that cannot be written is only logged."""
    from maritime.paths import keep_arrays

    cells = index.cells
    refined = sum(1 for v in cells.values() if v[2])
    if len(cells) - index._disk_known < MIN_NEW_CELLS and refined <= index._disk_refined:
        return False
    if len(cells) > MAX_CELLS:
        logger.info("zone cells not cached: %d cells is more than %d", len(cells), MAX_CELLS)
        return False
    numbers: dict[tuple[int, ...], int] = {}

    def number(t: tuple[int, ...]) -> int:
        got = numbers.get(t)
        if got is None:
            got = numbers[t] = len(numbers)
        return got

    n = len(cells)
    keys = np.empty((n, 2), dtype=np.int64)
    inside = np.empty(n, dtype=np.int32)
    edge = np.empty(n, dtype=np.int32)
    rows = np.empty(n, dtype=np.int32)
    subrows: list[list[tuple[int, int]]] = []
    for k, (key, (ins, edg, sub)) in enumerate(cells.items()):
        keys[k] = key
        inside[k] = number(ins)
        edge[k] = number(edg)
        if sub is None:
            rows[k] = NOT_REFINED
        elif not sub:
            rows[k] = UNCROSSED
        else:
            rows[k] = len(subrows)
            subrows.append([(number(h), number(m)) for h, m in sub])
    flat = [i for t in numbers for i in t]
    ends = np.cumsum([len(t) for t in numbers], dtype=np.int64)
    subcells = (np.array(subrows, dtype=np.int32) if subrows
                else np.empty((0, fine * fine, 2), dtype=np.int32))
    path = cache_path(index, fine, pad) if path is None else path
    keep_arrays(path, "zone cells", compress=True, family=KEPT_ZONE_SETS, tuples=np.array(flat, dtype=np.int32),
                ends=ends, keys=keys, inside=inside, edge=edge, fine=rows, subcells=subcells)
    index._disk_known = n
    index._disk_refined = refined
    logger.info("zone cells: %d kept in the cache %s", n, path)
    return True
