"""One call for analysts: replay recordings and get the alerts, positions and tracks as tables.

    from maritime import analysis
    r = analysis.replay(["day.nmea"], zones="bundled")
    r.alerts      # geopandas GeoDataFrame, EPSG:4326: the newest record of each event
    r.positions   # geopandas GeoDataFrame, EPSG:4326: every accepted position
    r.tracks      # movingpandas TrajectoryCollection, one trajectory per vessel
    r.summary     # the run summary (lines, messages, rejected, alerts by type, ...)
    r.map()       # the replay map, shown inline in a notebook

The replay is the one ``maritime replay`` runs (the same assembly, detectors and zones).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maritime.config import Settings, load_settings
from maritime.ingest.sources import SourceSpec, parse_source
from maritime.models import Alert, Position, Record, VesselInfo
from maritime.runtime.assembly import Assembly
from maritime.runtime.pipeline import Pipeline
from maritime.views.maps import TrackCollector, build_replay_map
from maritime.zones.index import ZoneIndex, load_zones

logger = logging.getLogger(__name__)

CRS = "EPSG:4326"


@dataclass
class Result:
    """What a replay found: ``alerts``, ``positions`` (GeoDataFrames), ``tracks`` (TrajectoryCollection)."""

    alerts: Any
    positions: Any
    summary: dict[str, Any]
    records: list[dict[str, Any]] = field(repr=False)
    zones: ZoneIndex | None = field(default=None, repr=False)
    names: dict[int, str] = field(default_factory=dict, repr=False)
    _tracks: Any = field(default=None, repr=False)
    _collector: TrackCollector | None = field(default=None, repr=False)

    @property
    def tracks(self) -> Any:
        """One movingpandas Trajectory per vessel with at least two positions (built on first use).

        movingpandas keeps naive times: the trajectories' times are UTC without the zone (``positions.time``
        and ``alerts.time`` carry it)."""
        if self._tracks is None:
            import warnings

            with warnings.catch_warnings():
                # its notice about an optional smoother package, and pandas 3's deprecations of what movingpandas
                # calls while it builds a trajectory: not the analyst's to act on
                warnings.simplefilter("ignore", UserWarning)
                warnings.filterwarnings("ignore", category=FutureWarning, module="movingpandas")
                warnings.filterwarnings("ignore", category=DeprecationWarning, module="movingpandas")
                import movingpandas as mpd

                pos = self.positions
                many = pos.groupby("mmsi").filter(lambda g: len(g) >= 2) if len(pos) else pos
                if len(many):
                    naive = many.assign(time=many["time"].dt.tz_convert("UTC").dt.tz_localize(None))
                    self._tracks = mpd.TrajectoryCollection(naive.set_index("time"), traj_id_col="mmsi")
                else:
                    self._tracks = mpd.TrajectoryCollection([])
        return self._tracks

    def save_alerts(self, path: str | Path) -> Path:
        """Write every alert record as JSON lines (the file ``maritime replay --alerts`` writes)."""
        import json

        out = Path(path)
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.records), encoding="utf-8")
        return out

    def map(self, **kwargs: Any) -> Any:
        """The replay map (alerts, tracks, zones, time slider) as a folium map: displayed inline in a notebook,
        ``.save(path)`` writes it."""
        return build_replay_map(self.records, tracks=self._collector, zones=self.zones, **kwargs)


class _Keep:
    """Collects the alert records and the accepted positions of a replay (a sink and a listener)."""

    def __init__(self) -> None:
        self.alerts: dict[str, dict[str, Any]] = {}
        self.records: list[dict[str, Any]] = []
        self.positions: list[tuple[int, float, float, float, float | None, float | None, str]] = []
        self.names: dict[int, str] = {}

    def write(self, alert: Alert) -> None:
        d = alert.as_dict()
        self.records.append(d)
        self.alerts[alert.id] = d

    def close(self) -> None:
        pass

    def __call__(self, rec: Record) -> None:
        if isinstance(rec, Position):
            self.positions.append((rec.mmsi, rec.time_s, rec.lat, rec.lon, rec.sog_kn, rec.cog_deg, rec.source))
        elif isinstance(rec, VesselInfo) and rec.name:
            self.names[rec.mmsi] = rec.name


def bundled_zones() -> ZoneIndex:
    """The bundled Caribbean zones (territorial seas, EEZs, ports, anchorages, protected areas)."""
    import importlib.resources

    return load_zones(Path(str(importlib.resources.files("maritime_geofences"))))


def _zones(zones: str | Path | Sequence[str | Path] | ZoneIndex | None) -> ZoneIndex | None:
    if zones is None or zones == "none":
        return None
    if isinstance(zones, ZoneIndex):
        return zones
    if zones == "bundled":
        return bundled_zones()
    if isinstance(zones, (str, Path)):
        return load_zones([zones])
    return load_zones(list(zones))


def replay(paths: str | Path | Iterable[str | Path], zones: str | Path | Sequence[str | Path] | ZoneIndex | None
           = "bundled", settings: Settings | str | Path | None = None, workers: int = 1) -> Result:
    """Replay recordings (NMEA, gz, CSV; globs) as ``maritime replay`` does, and return the :class:`Result`.

    ``zones``: ``"bundled"`` (the Caribbean set), ``"none"``, zone files or folders, or a loaded index;
    ``settings``: a :class:`~maritime.config.Settings` or a TOML file; ``workers`` > 1: decode NMEA files in
    ``workers - 1`` worker processes (the same results; a script needs ``if __name__ == "__main__":``).
    """
    import geopandas as gpd
    import pandas as pd

    s = settings if isinstance(settings, Settings) else load_settings(settings)
    index = _zones(zones)
    specs: list[SourceSpec] = []
    for p in [paths] if isinstance(paths, (str, Path)) else list(paths):
        specs.extend(parse_source(str(p)))
    keep = _Keep()
    tracks = TrackCollector()
    pipe = Pipeline(s, assembly=Assembly.from_settings(s, index), sinks=[keep])
    pipe.add_listener(keep)
    pipe.add_listener(tracks)
    summary = pipe.replay(specs, workers=workers)
    names = {v.mmsi: v.name for v in pipe.tracker if v.name}
    names.update(keep.names)

    rows = []
    for a in keep.alerts.values():
        pos = a.get("position") or {}
        vessels = a.get("vessels") or []
        rows.append({
            "id": a["id"], "type": a["type"], "status": a["status"], "severity": a["severity"],
            "time": pd.Timestamp(a["time"]), "start": pd.Timestamp(a["start"]),
            "end": pd.Timestamp(a["end"]) if a.get("end") else pd.NaT,
            "mmsi": vessels[0]["mmsi"] if vessels else None,
            # the name the vessel gave anywhere in the input (a dark-gap vessel may have named itself later)
            "vessel": (names.get(vessels[0]["mmsi"]) or vessels[0].get("name") or f"MMSI {vessels[0]['mmsi']}")
            if vessels else None,
            "mmsis": [v["mmsi"] for v in vessels],
            "zone": (a.get("zone") or {}).get("name"),
            "summary": a["summary"], "details": a.get("details") or {},
            "lat": pos.get("lat"), "lon": pos.get("lon"),
        })
    adf = pd.DataFrame(rows, columns=["id", "type", "status", "severity", "time", "start", "end", "mmsi", "vessel",
                                      "mmsis", "zone", "summary", "details", "lat", "lon"])
    for col in ("time", "start", "end"):  # UTC, like positions.time (also when there is no alert)
        adf[col] = pd.to_datetime(adf[col], utc=True)
    alerts = gpd.GeoDataFrame(adf, geometry=gpd.points_from_xy(adf["lon"], adf["lat"]), crs=CRS)
    pdf = pd.DataFrame(keep.positions, columns=["mmsi", "time_s", "lat", "lon", "sog_kn", "cog_deg", "source"])
    pdf["time"] = pd.to_datetime(pdf["time_s"], unit="s", utc=True)  # UTC, like the alerts
    positions = gpd.GeoDataFrame(pdf, geometry=gpd.points_from_xy(pdf["lon"], pdf["lat"]), crs=CRS)
    for mmsi, name in names.items():
        tracks.info.setdefault(mmsi, {})["name"] = name
    return Result(alerts=alerts, positions=positions, summary=summary, records=keep.records, zones=index,
                  names=names, _collector=tracks)
