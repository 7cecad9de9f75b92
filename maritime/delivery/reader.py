"""How an operations centre reads its alerts: a Redis consumer group on its own stream.

:class:`CentreReader` is what ``maritime alerts tail`` runs, usable from a centre's own Python code:
alerts a crashed reader of the group left pending are taken over first (``XAUTOCLAIM``), then what this
consumer itself left pending, then new alerts (``XREADGROUP``); each is acknowledged (``XACK``) once handed
to the caller, so exactly ``count`` are taken when a count is given.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import redis

from maritime.delivery.subscriptions import stream_key


class ReaderError(Exception):
    """The stream cannot be read as asked: a wrong centre, a user without rights (a one-line reason)."""


class CentreReader:
    """Reads ``mda:alerts:<centre>`` (or the full stream) through consumer group ``group``."""

    def __init__(self, url: str, centre: str | None = None, group: str = "ops", consumer: str = "console",
                 claim_idle_s: float = 60.0) -> None:
        self.centre = centre
        self.stream = stream_key(centre)
        self.group = group
        self.consumer = consumer
        self.claim_idle_ms = int(claim_idle_s * 1000)
        self.client: Any = redis.Redis.from_url(url, decode_responses=True)

    def open(self) -> None:
        """Check the stream can be read and make the group; :class:`ReaderError` with the reason if not."""
        try:
            self.client.xinfo_stream(self.stream)
        except redis.exceptions.NoPermissionError:
            hint = ("this user may not read the full stream; a centre reads its own: --centre ID"
                    if self.centre is None else f"this user may not read {self.stream}: is it centre "
                    f"{self.centre!r}'s user?")
            raise ReaderError(f"{self.stream}: {hint}") from None
        except redis.ResponseError as err:
            if "no such key" not in str(err).lower():
                raise
            if self.centre is not None:  # the pipeline makes every subscribed centre's stream when it starts
                raise ReaderError(f"no alert stream {self.stream}: {self.centre!r} is not a centre the pipeline "
                                  "delivers to (the centres are the [[subscriptions]] of its settings)") from None
        try:
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=self.centre is None)
        except redis.ResponseError as err:
            if "BUSYGROUP" not in str(err):
                raise

    def read(self, on_alert: Callable[[dict[str, Any]], None], count: int | None = None,
             max_wait_s: float | None = None) -> int:
        """Hand alerts (contract JSON) to ``on_alert``, acknowledging each, until ``count`` were taken or
        nothing new came for ``max_wait_s`` (else until interrupted); return how many were taken."""
        c = self.client
        taken = 0
        last_new = time.monotonic()

        def room(most: int) -> int:  # never ask for more than the count still allows
            return most if count is None else max(0, min(most, count - taken))

        def take(entries: list[tuple[str, dict[str, str] | None]]) -> None:
            nonlocal taken, last_new
            for entry_id, fields in entries:
                if fields is None or "alert" not in fields:  # deleted, or the stream's creation mark
                    continue
                on_alert(json.loads(fields["alert"]))
                c.xack(self.stream, self.group, entry_id)
                taken += 1
                last_new = time.monotonic()

        start = "0-0"
        while room(100):
            start, claimed, *_ = c.xautoclaim(self.stream, self.group, self.consumer, self.claim_idle_ms, start,
                                              count=room(100))
            take(claimed)
            if start == "0-0" or not claimed:
                break
        if room(1000):
            for _name, entries in c.xreadgroup(self.group, self.consumer, {self.stream: "0"},
                                               count=room(1000)) or []:
                take(entries)
        while room(100):
            for _name, entries in c.xreadgroup(self.group, self.consumer, {self.stream: ">"}, count=room(100),
                                               block=1000) or []:
                take(entries)
            if max_wait_s is not None and time.monotonic() - last_new > max_wait_s:
                break
        return taken

    def close(self) -> None:
        """Disconnect."""
        self.client.close()
