"""Alerts agent: hands each alert to this worker's sinks (JSON lines, Redis, webhooks)."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import faust

from maritime.models import Alert
from streams.records import AlertEvent

if TYPE_CHECKING:
    from streams.app import Runtime

logger = logging.getLogger(__name__)


def register(app: faust.App, rt: Runtime) -> None:
    """Attach the alerts agent (alerts of one id are in one partition, in order), and the dead-letter writer."""

    if rt.dead_letter is not None:
        dead_fh = rt.dead_letter

        @app.agent(rt.topics.dead, name="dead_letters")
        async def dead_letters(stream: Any) -> None:
            async for rec in stream:
                dead_fh.write(json.dumps({"reason": rec.reason, "message": rec.message, "source": rec.source,
                                          "time": rec.time, "line": rec.line}, ensure_ascii=False) + "\n")
                dead_fh.flush()

    @app.agent(rt.topics.alerts, name="deliver")
    async def deliver(stream: faust.StreamT[AlertEvent]) -> None:
        async for ev in stream:
            alert = Alert.from_dict(ev.alert)
            for sink in rt.sinks:
                try:
                    sink.write(alert)
                except Exception:  # one broken sink must not stop the others (each buffers and retries)
                    logger.exception("sink %s failed on alert %s", type(sink).__name__, alert.id)
