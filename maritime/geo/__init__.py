"""Distances, bearings, grid cells and closest approach, on a spherical Earth.

Units are in the names: ``_m`` metres, ``_nm`` nautical miles, ``_km``
kilometres, ``_kn`` knots, ``_deg`` degrees, ``_s`` seconds.
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
M_PER_NM = 1852.0
KN_TO_MS = M_PER_NM / 3600.0
M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180.0  # ≈ 111,195 m


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def lon_delta(lon1: float, lon2: float) -> float:
    """``lon2 - lon1`` the short way round, in [-180, 180) degrees (179.9°E to 179.9°W is +0.2)."""
    d = lon2 - lon1
    if -180.0 <= d < 180.0:
        return d
    return (d + 180.0) % 360.0 - 180.0


def wrap_lon(lon: float) -> float:
    """A longitude brought into [-180, 180) degrees."""
    if -180.0 <= lon < 180.0:
        return lon
    return (lon + 180.0) % 360.0 - 180.0


def fast_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance in metres: within 0.1 % of haversine below ~50 km (across 180° too)."""
    x = math.radians(lon_delta(lon1, lon2)) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return EARTH_RADIUS_M * math.hypot(x, y)


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial great-circle bearing from point 1 to point 2, degrees clockwise from north."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return (math.degrees(math.atan2(x, y)) + 360.0) % 360.0


def destination(lat: float, lon: float, bearing: float, dist_m: float) -> tuple[float, float]:
    """The point ``dist_m`` metres from (lat, lon) on initial bearing ``bearing`` degrees."""
    d = dist_m / EARTH_RADIUS_M
    b = math.radians(bearing)
    p1 = math.radians(lat)
    l1 = math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), (math.degrees(l2) + 540.0) % 360.0 - 180.0


def interpolate(lat1: float, lon1: float, t1: float, lat2: float, lon2: float, t2: float, t: float
                ) -> tuple[float, float]:
    """Position at time ``t`` on the straight line between two timed fixes (linear in lat/lon, the short way
    round across 180°)."""
    if t2 == t1:
        return lat2, lon2
    f = (t - t1) / (t2 - t1)
    return lat1 + (lat2 - lat1) * f, wrap_lon(lon1 + lon_delta(lon1, lon2) * f)


def cell_of(lat: float, lon: float, size_deg: float) -> tuple[int, int]:
    """Grid cell (row, column) of a point for cells of ``size_deg`` degrees."""
    return math.floor(lat / size_deg), math.floor(lon / size_deg)


def cell_size_deg(distance_m: float, max_lat_deg: float = 35.0) -> float:
    """Cell size in degrees so that two points within ``distance_m`` are in the same or
    neighbouring cells anywhere up to latitude ``max_lat_deg`` (longitude degrees shrink
    with latitude, so the cell is sized for the narrowest one)."""
    return 1.2 * distance_m / (M_PER_DEG_LAT * math.cos(math.radians(max_lat_deg)))


def implied_speed_kn(dist_m: float, dt_s: float) -> float | None:
    """Speed in knots to cover ``dist_m`` in ``dt_s``; None when no time passed."""
    if dt_s <= 0:
        return None
    return dist_m / dt_s / KN_TO_MS


def format_duration(seconds: float) -> str:
    """``2 h 01 min`` / ``45 min`` / ``3 d 4 h`` for summaries a watch officer reads."""
    minutes = round(seconds / 60.0)
    if minutes < 60:
        return f"{minutes} min"
    hours, mins = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {mins:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"
