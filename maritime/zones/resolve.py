"""Which zones a run uses: the one resolver of ``bundled``, ``none`` and zone files or folders, for the CLI,
notebooks and workers alike.

- nothing given, or ``bundled``: the Caribbean set shipped with the package (``maritime_geofences``), also
  found as ``geofences`` where no folder of that name is in the working directory;
- ``none``: no zones (no territorial sea, EEZ or geofence alerts);
- anything else: zone files or folders (GeoJSON), validated by :func:`~maritime.zones.index.load_zones`.

A selection without port or anchorage zones carries a notice: without them ships at berth and yachts at
anchor can look like rendezvous and loitering.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from maritime.zones.index import ZoneError, ZoneIndex, load_zones

#: the bundled set in a source checkout (when the package data is not installed)
CHECKOUT_ZONES = Path(__file__).resolve().parent.parent.parent / "geofences"

NO_ZONES_NOTICE = ("zones off (--zones none): no territorial sea, EEZ or geofence alerts, and without port or "
                   "anchorage zones ships at berth and yachts at anchor can look like rendezvous and loitering")
NO_PORTS_NOTICE = ("these zones have no port or anchorage zone: ships at berth and yachts at anchor can look like "
                   "rendezvous and loitering (add the bundled zones: --zones bundled --zones FILE)")


class BundledZonesMissing(ZoneError):
    """The bundled zone folder is not installed (a build without its package data)."""

    def __init__(self) -> None:
        super().__init__([])
        self.args = ("the default Caribbean zones are not installed; run 'maritime zones build --out DIR'",)

    def __str__(self) -> str:
        return str(self.args[0])


def bundled_zones_dir() -> Path:
    """The bundled Caribbean zone folder; :class:`BundledZonesMissing` when it is not installed."""
    try:
        cand = Path(str(importlib.resources.files("maritime_geofences")))
    except ModuleNotFoundError:
        cand = CHECKOUT_ZONES
    if cand.is_dir() and any(cand.glob("*.geojson")):
        return cand
    raise BundledZonesMissing()


def bundled_zones() -> ZoneIndex:
    """The bundled Caribbean zones (territorial seas, EEZs, ports, anchorages, protected areas)."""
    return load_zones(bundled_zones_dir())


@dataclass
class ZoneChoice:
    """The zones of a run (``index`` None for ``none``) and what a user should be told about them."""

    index: ZoneIndex | None
    notices: list[str] = field(default_factory=list)


ZoneSpec = str | Path | Sequence[str | Path] | ZoneIndex | None


def zone_paths(spec: ZoneSpec) -> list[Path] | None:
    """The files or folders a spec names (``None`` for ``none``), ``bundled`` and ``geofences`` resolved."""
    if spec is None:
        names: list[str] = []
    elif isinstance(spec, (str, Path)):
        names = [str(spec)]
    else:
        names = [str(s) for s in spec]  # type: ignore[union-attr]
    if names == ["none"]:
        return None
    return [bundled_zones_dir() if n == "bundled" or (n == "geofences" and not Path(n).exists()) else Path(n)
            for n in names] or [bundled_zones_dir()]


def resolve_zones(spec: ZoneSpec = None, *, partial: bool = False) -> ZoneChoice:
    """The zones a spec names, loaded and validated (:class:`ZoneError` with every problem otherwise)."""
    if isinstance(spec, ZoneIndex):
        return ZoneChoice(spec)
    paths = zone_paths(spec)
    if paths is None:
        return ZoneChoice(None, [NO_ZONES_NOTICE])
    index = load_zones(paths, partial=partial)
    notices = [] if any(z.kind in ("port", "anchorage") for z in index.zones) else [NO_PORTS_NOTICE]
    return ZoneChoice(index, notices)
