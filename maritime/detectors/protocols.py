"""What a detector and a gate are, as the one ``Chain`` of every runtime calls them (their do-nothing defaults
are :class:`~maritime.detectors.base.DetectorBase` and :class:`~maritime.detectors.base.VesselHooks`).

Kept apart from :mod:`maritime.detectors.base`, which is compiled: a Protocol stays a Protocol only in an
interpreted module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from maritime.detectors.tracker import VesselState
from maritime.models import Alert, Position, VesselInfo


@runtime_checkable
class Detector(Protocol):
    """A detector: fed positions and static reports in event-time order, returns alerts.

    Detectors never read the wall clock: ``on_watermark`` tells them how far event time has advanced, and
    ``finish`` that the input has ended (alerts still open stay open). Every hook is called by the one
    ``Chain`` of every runtime; :class:`DetectorBase` holds the defaults (do nothing).
    """

    name: str

    def on_position(self, pos: Position, vessel: VesselState) -> Iterable[Alert]:
        """Take one position (the tracker's ``vessel.last`` is still the previous fix)."""
        ...

    def on_static(self, info: VesselInfo, vessel: VesselState) -> Iterable[Alert]:
        """Take one static report (the tracker has merged it into ``vessel``)."""
        ...

    def on_late(self, pos: Position, vessel: VesselState) -> Iterable[Alert]:
        """A position that came after the reorder window: revise (update, cancel) what it disproves."""
        ...

    def on_watermark(self, watermark_s: float) -> Iterable[Alert]:
        """Event time has reached ``watermark_s`` (POSIX s): raise what is now due."""
        ...

    def finish(self, end_s: float) -> Iterable[Alert]:
        """The input ended at event time ``end_s``."""
        ...

    def holds(self, mmsi: int) -> bool:
        """Whether the detector keeps something open about ``mmsi`` (it is then never evicted)."""
        ...

    def forget(self, mmsi: int) -> None:
        """Drop the state of a vessel evicted for silence."""
        ...


@runtime_checkable
class Gate(Protocol):
    """A check that runs before the other detectors and may withhold a position from them.

    ``check`` returns ``(accept, alerts)``: a rejected position (a jump, a spoof)
    is not fed to the tracker or the detectors as if it were real.
    """

    name: str

    def check(self, pos: Position, vessel: VesselState) -> tuple[bool, list[Alert]]:
        """Judge one position against the vessel's history."""
        ...

    def holds(self, mmsi: int) -> bool:
        """Whether the gate keeps something open about ``mmsi`` (it is then never evicted)."""
        ...

    def forget(self, mmsi: int) -> None:
        """Drop the state of a vessel evicted for silence."""
        ...
