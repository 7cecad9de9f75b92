"""Detectors: plain objects with explicit, serialisable state, fed in event-time order."""

from __future__ import annotations

from maritime.config import Settings
from maritime.pipeline import Detector, Gate


def build_detectors(settings: Settings) -> tuple[list[Detector], list[Gate]]:
    """The detectors and gates the settings enable."""
    return [], []
