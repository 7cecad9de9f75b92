"""Alerts agent: hands each alert to this worker's sinks (JSON lines, Redis, webhooks)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import faust

from maritime.models import Alert
from streams.records import AlertEvent

if TYPE_CHECKING:
    from streams.app import Runtime

logger = logging.getLogger(__name__)


def register(app: faust.App, rt: Runtime) -> None:
    """Attach the alerts agent (alerts of one id are in one partition, in order)."""

    @app.agent(rt.topics.alerts, name="deliver")
    async def deliver(stream: faust.StreamT[AlertEvent]) -> None:
        async for ev in stream:
            alert = Alert.from_dict(ev.alert)
            for sink in rt.sinks:
                try:
                    sink.write(alert)
                except Exception:  # one broken sink must not stop the others (each buffers and retries)
                    logger.exception("sink %s failed on alert %s", type(sink).__name__, alert.id)
