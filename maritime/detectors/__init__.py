"""Detectors: plain objects with explicit, serialisable state, fed in event-time order.

Each detector takes positions in event-time order, keeps its state in a
mapping it is given (a dict here, a Faust Table in the distributed runtime),
advances on the event-time watermark and returns alerts. None reads the
wall clock. Their Protocols (:class:`Detector`, :class:`Gate`) are in
:mod:`maritime.detectors.base`; which of them run, and in what order, is
decided in one place, :mod:`maritime.runtime.assembly`.
"""

from __future__ import annotations

from maritime.detectors.protocols import Detector, Gate

__all__ = ["Detector", "Gate"]
