"""Alerts agent: hands each alert to this worker's sinks (JSON lines, Redis, webhooks)."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import faust

from maritime.models import Alert
from maritime.runtime.flood import FloodGate
from streams.records import AlertEvent

if TYPE_CHECKING:
    from streams.runtime import Runtime

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

    det = rt.settings.detection
    # floods of new events held back before the sinks, as the embedded run does (per worker: its counts start
    # again after a restart, and a flood spread over several workers is limited in each)
    gate = (FloodGate(det.flood_max_new, det.flood_window_min * 60,
                      lambda a: str(a.details.get("source") or "all sources")) if det.flood_max_new > 0 else None)

    @app.agent(rt.topics.alerts, name="deliver")
    async def deliver(stream: faust.StreamT[AlertEvent]) -> None:
        async for ev in stream:
            alert = Alert.from_dict(ev.alert)
            out = [alert] if gate is None else [*gate.watermark(alert.time_s), *gate.filter([alert])]
            for a in out:
                for sink in rt.sinks:
                    try:
                        sink.write(a)
                    except Exception:  # one broken sink must not stop the others (each buffers and retries)
                        logger.exception("sink %s failed on alert %s", type(sink).__name__, a.id)
