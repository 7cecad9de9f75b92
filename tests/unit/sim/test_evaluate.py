"""Scoring alerts against truth."""

from __future__ import annotations

from maritime.sim.evaluate import Event, evaluate

H = 3600.0


def ev(kind, mmsis, t0, t1, zone=None, aid=""):
    return Event(kind, frozenset(mmsis), zone, t0, t1, aid)


def test_precision_and_recall_per_type():
    truth = [ev("dark_gap", [1], 0, 8 * H), ev("dark_gap", [2], 0, 7 * H), ev("rendezvous", [1, 2], 0, 3 * H),
             ev("geofence_entry", [5], 10 * H, None, zone="z1")]
    alerts = [ev("dark_gap", [1], 10, 8 * H, aid="a"), ev("dark_gap", [3], 0, H, aid="b"),
              ev("rendezvous", [1, 2], 2 * H, 3 * H, aid="c"), ev("rendezvous", [1, 3], 2 * H, 3 * H, aid="d"),
              ev("geofence_entry", [5], 10 * H + 60, None, zone="z2", aid="e")]
    r = evaluate(truth, alerts)
    assert (r["dark_gap"]["recall"], r["dark_gap"]["precision"]) == (0.5, 0.5)
    assert r["dark_gap"]["false_alerts"] == ["b"]
    assert (r["rendezvous"]["recall"], r["rendezvous"]["precision"]) == (1.0, 0.5)
    assert (r["geofence_entry"]["recall"], r["geofence_entry"]["precision"]) == (0.0, 0.0)


def test_time_must_overlap_within_tolerance():
    truth = [ev("loitering", [1], 0, 5 * H)]
    assert evaluate(truth, [ev("loitering", [1], 9 * H, 10 * H, aid="x")])["loitering"]["recall"] == 0.0
    assert evaluate(truth, [ev("loitering", [1], 6 * H, 10 * H, aid="x")])["loitering"]["recall"] == 1.0
