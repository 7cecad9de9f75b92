"""The sinks and side files of a run, built from the settings and the command's options: JSON lines, Redis
Streams, the centres' webhooks, and the dead-letter file of rejected lines.

Used by ``maritime replay``/``watch``/``worker`` and by notebooks alike; a problem is an :class:`OutputError`
with the exit status a command gives for it (2: a usage or settings problem, 1: a file that cannot be
written).
"""

from __future__ import annotations

import sqlite3
from contextlib import ExitStack
from pathlib import Path

from maritime.config import Settings
from maritime.delivery.base import Sink
from maritime.delivery.deadletter import DeadLetter
from maritime.delivery.jsonl import JsonLinesSink
from maritime.redact import redact


class OutputError(Exception):
    """An output that cannot be opened; ``code`` is the exit status a command gives for it."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class Outputs:
    """Opens the sinks a run writes to and the dead-letter file, closed with ``stack``.

    ``sinks`` are the alert sinks, ``dead`` the dead-letter writer (or None), ``written`` what goes where
    (for the run's summary; secrets redacted)."""

    def __init__(self, stack: ExitStack, alerts: Path | None = None, dead_letter: Path | None = None,
                 settings: Settings | None = None, redis_url: str | None = None, webhooks: bool = False,
                 append: bool = False) -> None:
        self.sinks: list[Sink] = []
        self.written: dict[str, str] = {}
        self.dead: DeadLetter | None = None
        try:
            if settings is not None and redis_url:
                from maritime.delivery.redis_sink import RedisSink

                self.sinks.append(RedisSink(redis_url, list(settings.subscriptions), settings.delivery))
                self.written["redis"] = redact(redis_url)
            if settings is not None and webhooks:
                from maritime.delivery.webhook import WebhookSink

                for sub in settings.subscriptions:
                    for hook in sub.webhooks:
                        self.sinks.append(WebhookSink(sub, hook, settings.delivery))
                        self.written[f"webhook {sub.id}"] = hook.url
        except (OSError, sqlite3.Error) as err:  # the delivery spool cannot be kept where the settings say
            spool = settings.delivery.spool_dir if settings is not None else "?"
            raise OutputError(f"[delivery] spool_dir {spool}: the delivery spool cannot be kept there "
                              f"({getattr(err, 'strerror', None) or err})", 2) from None
        except ValueError as err:  # redis-py: not a Redis URL
            raise OutputError(f"--redis {redact(redis_url or '')}: {err}", 2) from None
        try:
            if alerts is not None:
                if append:
                    alerts.parent.mkdir(parents=True, exist_ok=True)
                self.sinks.append(JsonLinesSink(alerts, append=append))
                self.written["alerts"] = str(alerts)
            if dead_letter is not None:
                dead_letter.parent.mkdir(parents=True, exist_ok=True)
                self.dead = DeadLetter(dead_letter.open("a" if append else "w", encoding="utf-8"))
                stack.callback(self.dead.close)
                self.written["dead letters"] = str(dead_letter)
        except OSError as err:
            raise OutputError(f"{err.filename}: cannot be written ({err.strerror})") from None

    def refused(self) -> dict[str, int]:
        """Alerts a full delivery spool could not keep, by sink (redacted target)."""
        out: dict[str, int] = {}
        for sk in self.sinks:
            n = getattr(getattr(sk, "spool", None), "refused", 0)
            if n:
                out[redact(getattr(sk, "target", type(sk).__name__))] = n
        return out

