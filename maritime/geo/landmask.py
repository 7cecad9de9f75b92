"""The 1 km GLOBE land mask over the Caribbean, for the simulator and the arrivals board.

The `global-land-mask` package holds the whole earth (21,600 × 43,200 cells,
about 930 MB once loaded, 4–5 s to load). The simulator needs only the region,
so ``globe_caribbean.npz`` beside this module keeps the cells of the region
plus a 1° margin (bit-packed, ~0.3 MB) with the package's own grid origin and
spacing, and :func:`is_land` indexes it with the package's own arithmetic: the
answers are the package's (checked in ``tests/unit/sim/test_simulator.py``).

Rebuild the file (needs the ``[dev]`` extra) with::

    python -m maritime.geo.landmask
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from maritime.zones.caribbean import REGION

logger = logging.getLogger(__name__)

MASK_FILE = Path(__file__).with_name("globe_caribbean.npz")
MARGIN_DEG = 1.0


@functools.cache
def _mask() -> tuple[NDArray[np.bool_], float, float, float, float, int, int]:
    """(cells, lat of the global row 0, row step, lon of the global column 0, column step, first row, first column)."""
    with np.load(MASK_FILE) as f:
        rows, cols = (int(x) for x in f["shape"])
        cells = np.unpackbits(f["bits"], count=rows * cols).reshape(rows, cols).astype(bool)
        lat0, dlat, lon0, dlon = (float(x) for x in f["grid"])
        i0, j0 = (int(x) for x in f["origin"])
    return cells, lat0, dlat, lon0, dlon, i0, j0


def is_land(lat: ArrayLike, lon: ArrayLike) -> NDArray[np.bool_]:
    """Whether each point (degrees) is land in GLOBE; points outside the region and its margin are water."""
    cells, lat0, dlat, lon0, dlon, i0, j0 = _mask()
    la = np.atleast_1d(np.asarray(lat, dtype=float))
    lo = np.atleast_1d(np.asarray(lon, dtype=float))
    i = ((la - lat0) / dlat).astype(int) - i0
    j = ((lo - lon0) / dlon).astype(int) - j0
    inside = (i >= 0) & (i < cells.shape[0]) & (j >= 0) & (j < cells.shape[1])
    out = np.zeros(la.shape, dtype=bool)
    out[inside] = cells[i[inside], j[inside]]
    return out


def on_land(lat: float, lon: float) -> bool:
    """Whether one point (degrees) is land in GLOBE."""
    return bool(is_land(lat, lon)[0])


def build(path: Path = MASK_FILE) -> Path:
    """Cut the region (plus ``MARGIN_DEG``) out of the `global-land-mask` package and write it to ``path``."""
    from global_land_mask import globe  # the whole-earth mask: only needed here

    lon_w, lat_s, lon_e, lat_n = REGION
    lats = np.asarray(globe._lat)
    lons = np.asarray(globe._lon)
    dlat = float(lats[1] - lats[0])
    dlon = float(lons[1] - lons[0])
    rows = sorted(int((la - lats[0]) / dlat) for la in (lat_s - MARGIN_DEG, lat_n + MARGIN_DEG))
    cols = sorted(int((lo - lons[0]) / dlon) for lo in (lon_w - MARGIN_DEG, lon_e + MARGIN_DEG))
    # the package's mask is True over the ocean
    cells = ~np.asarray(globe._mask[rows[0]:rows[1] + 1, cols[0]:cols[1] + 1], dtype=bool)
    np.savez_compressed(path, bits=np.packbits(cells.ravel()), shape=np.array(cells.shape),
                        grid=np.array([lats[0], dlat, lons[0], dlon]), origin=np.array([rows[0], cols[0]]))
    logger.info("wrote %s: %d x %d cells", path, *cells.shape)
    return path


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    build()
