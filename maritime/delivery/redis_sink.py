"""Alerts to Redis: one stream for all, one per centre, pub/sub for live displays.

Every alert is ``XADD``-ed to ``mda:alerts`` (fields ``alert`` = the contract
JSON, plus ``id``, ``type``, ``status``, ``severity`` for filtering; capped
with ``MAXLEN ~``) and to the stream ``mda:alerts:<centre>`` of each centre
whose filters it passes, and published on ``mda:live`` and
``mda:live:<centre>``. One Lua script does all of it and then sets the key
``mda:added:<id>:<status>:<time>`` (checked first), so the same alert record
is not added twice when a restarted pipeline replays, and a stream that fails
leaves the record to be retried rather than marked.

Delivery runs in a worker thread from a bounded on-disk spool: while Redis
is down, alerts wait there (and across restarts) and go out, in order, when
it is back. A connection failure is logged once per outage, not per alert.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import redis

from maritime.config import DeliverySettings, Subscription
from maritime.delivery.boards import board_key
from maritime.delivery.spool import Spool, SpooledDelivery, record_key
from maritime.delivery.subscriptions import channel, matches, stream_key
from maritime.models import Alert, iso
from maritime.redact import redact
from maritime.retry import Backoff

logger = logging.getLogger(__name__)

# Every stream first, the "added" mark last: a stream that fails (Redis does not roll a script back) leaves
# the record unmarked, so it is retried (at least once; consumers de-duplicate by id), never marked but lost.
_ADD_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, #KEYS do
  redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[2], '*', 'alert', ARGV[3], 'id', ARGV[4], 'type', ARGV[5],
             'status', ARGV[6], 'severity', ARGV[7])
end
for i = 8, #ARGV do redis.call('PUBLISH', ARGV[i], ARGV[3]) end
redis.call('SET', KEYS[1], '1', 'EX', tonumber(ARGV[1]))
return 1
"""


_BOARD_SCRIPT = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[1])) then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'board', ARGV[3], 'centre', ARGV[4], 'generated', ARGV[5])
return 1
"""
#: boards kept in each centre's stream ``mda:arrivals:<centre>`` (about three years of daily boards)
BOARD_MAXLEN = 1000


class RedisSink(SpooledDelivery):
    """The Redis alert channel (a pipeline sink)."""

    def __init__(self, url: str, subscriptions: list[Subscription] | None = None,
                 settings: DeliverySettings | None = None, spool_path: str | Path | None = None) -> None:
        super().__init__()
        self.settings = settings or DeliverySettings()
        self.flush_timeout_s = self.settings.flush_timeout_s
        self.target = f"Redis {redact(url)}"
        self.subscriptions = [s for s in (subscriptions or []) if s.redis]
        self.url = url
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        self.script = self.client.register_script(_ADD_SCRIPT)
        self.board_script = self.client.register_script(_BOARD_SCRIPT)
        self.spool = Spool(spool_path or Path(self.settings.spool_dir) / "redis.sqlite", self.settings.spool_max)
        self.added = 0
        self.already = 0
        self.down_since: float | None = None
        #: batches Redis failed or refused (each retried later)
        self.failures = 0
        self._thread = threading.Thread(target=self._run, name="redis-sink", daemon=True)
        self._thread.start()

    # -- the sink -------------------------------------------------------------------

    def write(self, alert: Alert) -> None:
        """Queue the alert for delivery (returns at once)."""
        centres = [s.id for s in self.subscriptions if matches(alert, s)]
        payload = json.dumps({"alert": alert.as_dict(), "centres": centres}, ensure_ascii=False)
        self.spool.put(record_key(alert), payload)
        self._wake.set()

    def write_board(self, sub: Subscription, doc: dict[str, Any]) -> None:
        """Queue a centre's arrivals board for its stream ``mda:arrivals:<centre>`` (field ``board``), with the
        alerts' spool: a Redis that is down gets it when it is back, once."""
        if not sub.redis:
            return
        self.spool.put(board_key(doc), json.dumps({"board": doc, "centre": sub.id}, ensure_ascii=False))
        self._wake.set()

    def close(self) -> None:
        """Deliver what can be delivered in time (the rest waits on disk) and disconnect."""
        super().close()
        self.client.close()

    # -- the worker ------------------------------------------------------------------

    def _deliver(self, batch: list[tuple[int, str, str]]) -> list[int]:
        pipe = self.client.pipeline(transaction=False)
        s = self.settings
        for _seq, key, payload in batch:
            doc = json.loads(payload)
            if "board" in doc:
                b = doc["board"]
                self.board_script(keys=[f"mda:added:{key}", f"mda:arrivals:{doc['centre']}"],
                                  args=[s.dedup_ttl_s, BOARD_MAXLEN, json.dumps(b, ensure_ascii=False),
                                        doc["centre"], b["generated"]], client=pipe)
                continue
            a: dict[str, Any] = doc["alert"]
            keys = [f"mda:added:{key}", stream_key(), *[stream_key(c) for c in doc["centres"]]]
            args = [s.dedup_ttl_s, s.stream_maxlen, json.dumps(a, ensure_ascii=False, separators=(",", ":")),
                    a["id"], a["type"], a["status"], a["severity"], channel(),
                    *[channel(c) for c in doc["centres"]]]
            self.script(keys=keys, args=args, client=pipe)
        results = pipe.execute()
        for r in results:
            if r == 1:
                self.added += 1
            else:
                self.already += 1
        return [seq for seq, _, _ in batch]

    def _ensure_streams(self) -> None:
        """Make every subscribed centre's stream exist (empty) before its first alert, so that a centre's reader
        can tell "no alert yet" from "no such centre"."""
        for sub in self.subscriptions:
            key = stream_key(sub.id)
            if not self.client.exists(key):
                self.client.xadd(key, {"created": "1"}, maxlen=0, approximate=False)

    def _run(self) -> None:
        backoff = Backoff(min(0.2, self.settings.retry_max_s), self.settings.retry_max_s)
        streams_ready = not self.subscriptions
        while True:
            if not streams_ready:
                try:
                    self._ensure_streams()
                    streams_ready = True
                except (redis.RedisError, OSError):
                    pass  # down or refused: tried again on the next round, and alerts wait in the spool meanwhile
            batch = self.spool.peek(200)
            if not batch:
                if self._stop.is_set():
                    return
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            try:
                self.spool.ack(self._deliver(batch))
            except (redis.ConnectionError, redis.TimeoutError, OSError) as err:
                self.failures += 1
                if self.down_since is None:
                    self.down_since = time.monotonic()
                    logger.warning("Redis %s is down (%s): alerts are kept on disk and sent when it is back",
                                   redact(self.url), err)
                if self._stop.is_set():
                    return
                self._wake.wait(backoff.next_delay())
                self._wake.clear()
                continue
            except redis.ResponseError:
                self.failures += 1
                if self.down_since is None:  # refused (permissions, memory): as good as down
                    self.down_since = time.monotonic()
                    logger.exception("Redis refused a batch of %d alerts; they stay queued", len(batch))
                if self._stop.is_set():
                    return
                self._wake.wait(backoff.next_delay())
                self._wake.clear()
                continue
            if self.down_since is not None:
                logger.warning("Redis %s is back after %.0f s; delivering what waited", redact(self.url),
                               time.monotonic() - self.down_since)
                self.down_since = None
            backoff.reset()


class RedisPositions:
    """Keeps the latest position of every vessel in Redis for live displays (a pipeline listener).

    ``mda:positions`` is a geo set (members: MMSIs), ``mda:vessel:<mmsi>`` a hash
    with the last fix and identity, expiring after ``ttl_s``; vessels not heard
    for ``ttl_s`` (event time) leave the geo set too. Written in batches of
    ``batch`` fixes. Positions are ephemeral: while Redis is down a batch is
    dropped (counted, logged once per outage), unlike alerts.
    """

    def __init__(self, url: str, ttl_s: int = 3600, batch: int = 2000) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        self.url = url
        self.ttl_s = ttl_s
        self.batch = batch
        self._latest: dict[int, Any] = {}
        self._names: dict[int, dict[str, Any]] = {}
        self._n = 0
        self.dropped = 0
        self._down = False

    def __call__(self, rec: Any) -> None:
        from maritime.models import Position, VesselInfo

        if isinstance(rec, Position):
            self._latest[rec.mmsi] = rec
            self._n += 1
            if self._n >= self.batch:
                self.flush()
        elif isinstance(rec, VesselInfo):
            d = self._names.setdefault(rec.mmsi, {})
            for k in ("name", "callsign", "imo", "ship_type"):
                v = getattr(rec, k)
                if v is not None:
                    d[k] = v

    def flush(self) -> None:
        """Write the latest fixes gathered since the last flush."""
        if not self._latest:
            return
        latest, self._latest, self._n = self._latest, {}, 0
        now = max(p.time_s for p in latest.values())
        pipe = self.client.pipeline(transaction=False)
        for mmsi, p in latest.items():
            pipe.geoadd("mda:positions", (p.lon, p.lat, mmsi))
            pipe.zadd("mda:positions:seen", {str(mmsi): p.time_s})
            fields = {"mmsi": mmsi, "lat": p.lat, "lon": p.lon, "time": iso(p.time_s), "time_s": p.time_s,
                      "sog_kn": "" if p.sog_kn is None else p.sog_kn, "cog_deg": "" if p.cog_deg is None else p.cog_deg,
                      "heading_deg": "" if p.heading_deg is None else p.heading_deg,
                      **{k: v for k, v in self._names.get(mmsi, {}).items()}}
            pipe.hset(f"mda:vessel:{mmsi}", mapping=fields)  # type: ignore[arg-type]
            pipe.expire(f"mda:vessel:{mmsi}", self.ttl_s)
        stale_before = now - self.ttl_s
        try:
            pipe.execute()
            stale = self.client.zrangebyscore("mda:positions:seen", "-inf", stale_before)
            if stale:
                self.client.zrem("mda:positions", *stale)
                self.client.zrem("mda:positions:seen", *stale)
            if self._down:
                logger.warning("Redis %s is back: live positions resume", redact(self.url))
                self._down = False
        except (redis.ConnectionError, redis.TimeoutError, OSError) as err:
            self.dropped += len(latest)
            if not self._down:
                logger.warning("Redis %s is down (%s): live positions are not stored until it is back",
                               redact(self.url), err)
                self._down = True

    def close(self) -> None:
        """Write what is left."""
        self.flush()
        self.client.close()
