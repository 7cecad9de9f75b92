"""Caribbean AIS traffic simulator with ground truth.

Writes ``traffic.nmea`` (tag-blocked NMEA, in time order) and ``truth.json``
(the scripted events in the alert shape). Deterministic for a seed.

- Ships sail between real Caribbean ports on water routes (never within
  1.5 km of Natural Earth 10 m land; moored ships lie at least 500 m off it).
- The regional mix: cargo, tankers, cruise ships and inter-island ferries,
  fishing boats working grounds at low speed, Class B yachts, tugs, law
  enforcement; flags from Caribbean and open registries by MID.
- ITU-R M.1371 reporting intervals by class, speed and status; static data
  every 6 minutes (type 5 in two parts, or type 24 A and B).
- Reception: a shore receiver at each port (40 nm, loss growing with
  distance) and a thin satellite layer, so some messages arrive twice and
  some never; a small share of lines corrupted, cut short or garbage.
- Scripted events: dark gaps while moving, rendezvous at sea, loitering,
  fishing vessels entering fishing-restricted zones, position jumps; and hard
  negatives: short reception dropouts, ships passing close at speed, ships
  moored together in port, a cargo ship crossing a fishing-only zone.
- Ordinary life, with truth that says "nothing to alert" (hard negatives
  marked ``ordinary``): Class B yachts at anchor in the cruising anchorages
  (no navigational status, many without static data, 100-300 m apart,
  swinging at 0-0.5 kn), small boats fishing at a fish aggregating device
  offshore, a cruise ship at anchor with its tenders, a tug alongside a
  tanker off a port, a pilot boat alongside a ship at the pilot station,
  two transmitters sharing the default MMSI 1193046, and ships on passage
  also heard by a satellite service that stamps each report with the time
  of its delivery (batches every 20 minutes, the report's own UTC second
  intact), mixed with the shore receivers' honest times.
  Geofence entries are taken from the true tracks of every vessel, scripted
  or not, so the truth is complete for the zones given.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from maritime.sim.events import ScriptedEvents
from maritime.sim.fleet import MIX
from maritime.sim.writer import TrafficWriter


class Simulator(ScriptedEvents, TrafficWriter):
    """Builds a fleet, scripts events, samples reports and writes the files (``build``, then ``write``).

    The concerns live in their modules: the ground and the ordinary voyages (:mod:`maritime.sim.planning`),
    the scripted events and ordinary life (:mod:`maritime.sim.events`), sampling and writing
    (:mod:`maritime.sim.writer`), the fleet (:mod:`maritime.sim.fleet`)."""

    def build(self, progress: Callable[[float], None] | None = None) -> None:
        """Plan every vessel's day and script the events (``progress``: called with the share done, 0-1)."""
        self._script()
        kinds = list(MIX)
        shares = np.array([MIX[k][0] for k in kinds])
        while len(self.vessels) < self.n:
            kind = kinds[int(self.rng.choice(len(kinds), p=shares / shares.sum()))]
            v = self._vessel(kind)
            if kind in ("fishing", "fishing_b"):
                self._plan_fishing(v)
            elif kind == "yacht":
                self._plan_yacht(v)
            elif kind == "ferry":
                self._plan_transit(v, max_km=250)
            elif kind == "tug":
                self._plan_local(v, 6, (2, 8))
            elif kind == "patrol":
                self._plan_local(v, 40, (4, 12))
            else:
                self._plan_transit(v)
            if progress is not None and len(self.vessels) % 20 == 0:
                progress(len(self.vessels) / self.n)
        for v in self.vessels:
            self._pad(v)
