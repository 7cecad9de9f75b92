"""Detectors: plain objects with explicit, serialisable state, fed in event-time order.

Each detector takes positions in event-time order, keeps its state in a
mapping it is given (a dict here, a Faust Table in the distributed runtime),
advances on the event-time watermark and returns alerts. None reads the
wall clock.
"""

from __future__ import annotations

from maritime.config import Settings
from maritime.detectors.gaps import GapDetector
from maritime.detectors.geofence import GeofenceDetector
from maritime.detectors.identity import IdentityGate
from maritime.detectors.loitering import LoiteringDetector
from maritime.detectors.rendezvous import RendezvousDetector
from maritime.pipeline import Detector, Gate
from maritime.tracker import Tracker
from maritime.zones import ZoneIndex

__all__ = ["GapDetector", "GeofenceDetector", "IdentityGate", "LoiteringDetector", "RendezvousDetector",
           "build_detectors"]


def build_detectors(settings: Settings, tracker: Tracker, zones: ZoneIndex | None = None
                    ) -> tuple[list[Detector], list[Gate]]:
    """The detectors and gates the settings enable, sharing the pipeline's tracker and zones.

    Rendezvous runs before loitering, which asks it whether a slow vessel was meeting another.
    """
    detectors: list[Detector] = []
    gates: list[Gate] = []
    if settings.identity.enabled:
        gates.append(IdentityGate(settings.identity, tracker))
    if settings.gaps.enabled:
        detectors.append(GapDetector(settings.gaps, tracker, zones))
    rdv = None
    if settings.rendezvous.enabled:
        rdv = RendezvousDetector(settings.rendezvous, tracker, zones)
        detectors.append(rdv)
    if settings.loitering.enabled:
        detectors.append(LoiteringDetector(settings.loitering, tracker, zones, rendezvous=rdv,
                                           harbour_distance_km=settings.rendezvous.active.min_port_distance_km))
    if settings.geofence.enabled and zones is not None and len(zones):
        detectors.append(GeofenceDetector(settings.geofence, tracker, zones))
    return detectors, gates
