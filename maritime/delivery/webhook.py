"""Alerts to a centre's HTTP endpoint: JSON or CAP 1.2, signed, retried, persistent.

Each POST carries ``X-MDA-Timestamp`` (Unix seconds) and
``X-MDA-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the
shared secret>``, so the receiver can check who sent it and refuse replays
of old requests, and ``X-MDA-Alert-Id`` so it can de-duplicate: delivery is
at least once. Failures are retried with exponential backoff and jitter from
a bounded on-disk spool that survives a receiver down for hours and a restart
of this process.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp

from maritime.config import DeliverySettings, Subscription, WebhookDelivery
from maritime.delivery.boards import board_key, board_to_cap
from maritime.delivery.cap import to_cap
from maritime.delivery.spool import Spool, SpooledDelivery, record_key
from maritime.delivery.subscriptions import matches
from maritime.models import Alert
from maritime.retry import Backoff

logger = logging.getLogger(__name__)


class Refused(Exception):
    """The endpoint answered, but refused the record (a 4xx, or a redirect we do not follow)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, max_age_s: float = 300.0,
           now_s: float | None = None) -> bool:
    """What a receiver checks: the signature matches and the request is recent (replay protection)."""
    try:
        age = (now_s if now_s is not None else time.time()) - float(timestamp)
    except ValueError:
        return False
    return abs(age) <= max_age_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookSink(SpooledDelivery):
    """One centre endpoint (a pipeline sink)."""

    def __init__(self, sub: Subscription, hook: WebhookDelivery, settings: DeliverySettings | None = None,
                 spool_path: str | Path | None = None) -> None:
        super().__init__()
        self.sub = sub
        self.hook = hook
        self.settings = settings or DeliverySettings()
        self.flush_timeout_s = self.settings.flush_timeout_s
        self.target = f"webhook {hook.url}"
        digest = hashlib.sha1(hook.url.encode()).hexdigest()[:10]
        self.spool = Spool(spool_path or Path(self.settings.spool_dir) / f"webhook-{sub.id}-{digest}.sqlite",
                           self.settings.spool_max)
        self.delivered = 0
        self.failures = 0
        self.dead_lettered = 0
        self._refusals: dict[int, int] = {}  # spool seq -> times refused
        self.down_since: float | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name=f"webhook-{sub.id}",
                                        daemon=True)
        self._thread.start()

    def write(self, alert: Alert) -> None:
        """Queue the alert if the centre's filters take it."""
        if matches(alert, self.sub):
            self.spool.put(record_key(alert), json.dumps(alert.as_dict(), ensure_ascii=False))
            self._wake.set()

    def write_board(self, sub: Subscription, doc: dict[str, Any]) -> None:
        """Queue the centre's daily arrivals board (JSON, or CAP with ``responseType`` Monitor)."""
        if sub.id == self.sub.id:
            self.spool.put(board_key(doc), json.dumps({"board": doc}, ensure_ascii=False))
            self._wake.set()

    def body(self, alert: dict[str, Any]) -> tuple[bytes, str]:
        """The request body and its content type."""
        if self.hook.format == "cap":
            return to_cap(alert, self.settings.cap_sender, first=self.sub.language), "application/cap+xml"
        return json.dumps(alert, ensure_ascii=False).encode(), "application/json"

    def board_body(self, doc: dict[str, Any]) -> tuple[bytes, str]:
        """A board's request body and its content type."""
        if self.hook.format == "cap":
            return board_to_cap(doc, self.settings.cap_sender), "application/cap+xml"
        return json.dumps(doc, ensure_ascii=False).encode(), "application/json"

    async def _post(self, session: aiohttp.ClientSession, payload: str) -> bool:
        alert = json.loads(payload)
        ts = str(int(time.time()))
        if "board" in alert:
            board = alert["board"]
            body, ctype = self.board_body(board)
            headers = {"Content-Type": ctype, "X-MDA-Timestamp": ts,
                       "X-MDA-Signature": sign(self.hook.secret, ts, body), "X-MDA-Board-Centre": board["centre"],
                       "X-MDA-Board-Generated": board["generated"]}
        else:
            body, ctype = self.body(alert)
            headers = {"Content-Type": ctype, "X-MDA-Timestamp": ts,
                       "X-MDA-Signature": sign(self.hook.secret, ts, body),
                       "X-MDA-Alert-Id": alert["id"], "X-MDA-Alert-Status": alert["status"]}
        # redirects are not followed: aiohttp would turn the POST into a GET (and a 200 from there is no
        # delivery), and the signature headers would go to another host
        async with session.post(self.hook.url, data=body, headers=headers, allow_redirects=False) as resp:
            if 200 <= resp.status < 300:
                return True
            if 300 <= resp.status < 400:
                raise Refused(resp.status, f"redirect to {resp.headers.get('Location', '?')} (not followed)")
            if 400 <= resp.status < 500 and resp.status not in (408, 409, 429):
                raise Refused(resp.status, f"refused with HTTP {resp.status}")
            raise aiohttp.ClientResponseError(resp.request_info, resp.history, status=resp.status)

    def _dead_letter(self, payload: str, reason: str) -> None:
        """A record the endpoint keeps refusing: kept in a file with the reason, never silently dropped."""
        path = Path(self.settings.spool_dir) / f"webhook-dead-{self.sub.id}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"url": self.hook.url, "reason": reason, "alert": json.loads(payload)},
                                ensure_ascii=False) + "\n")
        self.dead_lettered += 1
        doc = json.loads(payload)
        what = f"board {board_key(doc['board'])}" if "board" in doc else f"alert {doc.get('id')}"
        logger.error("webhook %s: %s dead-lettered to %s after %d attempts (%s)", self.hook.url, what, path,
                     self.settings.webhook_refused_attempts, reason)

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.settings.webhook_timeout_s)
        backoff = Backoff(min(0.2, self.settings.retry_max_s), self.settings.retry_max_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                batch = self.spool.peek(50)
                if not batch:
                    if self._stop.is_set():
                        return
                    await asyncio.to_thread(self._wake.wait, 0.5)
                    self._wake.clear()
                    continue
                done: list[int] = []
                try:
                    for seq, _key, payload in batch:
                        try:
                            ok = await self._post(session, payload)
                        except Refused as ref:
                            n = self._refusals[seq] = self._refusals.get(seq, 0) + 1
                            if n < self.settings.webhook_refused_attempts:
                                raise
                            self._refusals.pop(seq, None)
                            self._dead_letter(payload, ref.reason)
                            done.append(seq)
                            continue
                        if ok:
                            self._refusals.pop(seq, None)
                            done.append(seq)
                            self.delivered += 1
                except (aiohttp.ClientError, TimeoutError, OSError, Refused) as err:
                    self.spool.ack(done)
                    self.failures += 1
                    if self.down_since is None:
                        self.down_since = time.monotonic()
                        logger.warning("webhook %s failing (%s): alerts wait on disk and are retried", self.hook.url,
                                       err)
                    if self._stop.is_set():
                        return
                    await asyncio.to_thread(self._wake.wait, backoff.next_delay())
                    self._wake.clear()
                    continue
                self.spool.ack(done)
                if self.down_since is not None:
                    logger.warning("webhook %s is back after %.0f s", self.hook.url, time.monotonic() - self.down_since)
                    self.down_since = None
                backoff.reset()
