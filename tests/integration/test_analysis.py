"""The analysts' one-call API: the replay as GeoDataFrames and a movingpandas TrajectoryCollection."""

from __future__ import annotations

import json

from maritime import analysis
from maritime.sim.simulator import Simulator


def test_replay_gives_alerts_positions_tracks_and_the_map(tmp_path, grid, zone_index):
    sim = Simulator(6, 30, seed=7, zones=zone_index, grid=grid)
    sim.build()
    sim.write(tmp_path)
    r = analysis.replay(tmp_path / "traffic.nmea", zones=zone_index)
    assert str(r.alerts.crs) == "EPSG:4326" and str(r.positions.crs) == "EPSG:4326"
    # one row per event (its newest record), and the records as the contract's JSON
    assert len(r.alerts) == len({rec["id"] for rec in r.records}) == len(set(r.alerts["id"]))
    assert r.summary["positions"] == len(r.positions)
    assert set(r.alerts["type"]) <= {"dark_gap", "rendezvous", "loitering", "geofence_entry", "geofence_exit",
                                     "geofence_dwell", "speed_violation", "identity_anomaly", "position_jump",
                                     "destination_change", "arrival_undeclared", "arrival_risk"}
    assert r.alerts["vessel"].notna().all()  # a name from anywhere in the input, else "MMSI n"
    tracks = r.tracks
    assert type(tracks).__name__ == "TrajectoryCollection"
    assert len(tracks) == r.positions.groupby("mmsi").size().ge(2).sum()
    saved = r.save_alerts(tmp_path / "a.jsonl")
    assert [json.loads(x)["id"] for x in saved.read_text().splitlines()] == [rec["id"] for rec in r.records]
    html = r.map()._repr_html_()
    assert "leaflet" in html.lower()


def test_positions_and_alerts_are_both_utc_and_tracks_build_without_warnings(tmp_path):
    """The notebook compares positions with alert times directly: both carry UTC. Building the trajectories under
    pandas 3 says nothing the analyst must act on."""
    import warnings

    from maritime import analysis
    from tests.conftest import ROOT

    r = analysis.replay(ROOT / "tests" / "data" / "nmea" / "exactearth_20120202_tagblock.nmea", zones="none")
    assert str(r.positions["time"].dt.tz) == "UTC" and str(r.alerts["time"].dt.tz) == "UTC"
    assert (r.positions["time"] >= r.positions["time"].min()).all()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        tracks = r.tracks
    assert len(tracks) > 0
    assert [str(w.message) for w in seen] == []
