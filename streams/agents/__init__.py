"""The agents: decode → vessels → tiles → arrivals → alerts."""

from __future__ import annotations

import faust

from streams.agents import alerts, arrivals, decode, tiles, vessels


def register(app: faust.App, runtime: object) -> None:
    """Attach every agent to ``app``."""
    for mod in (decode, vessels, tiles, arrivals, alerts):
        mod.register(app, runtime)
