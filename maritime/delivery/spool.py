"""A bounded, persistent queue on disk (SQLite) for alerts waiting for a channel that is down."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

from maritime.models import Alert, iso

logger = logging.getLogger(__name__)


class Spool:
    """First-in first-out queue of ``(key, payload)`` rows in a SQLite file.

    ``put`` refuses (and counts) new rows once ``max_items`` are waiting: the
    bound keeps a long outage from filling the disk, and the count says how
    many alerts that cost. Rows leave only when ``ack`` is called after a
    successful delivery, so a crash or restart delivers them again
    (at-least-once; receivers de-duplicate by alert id).
    """

    def __init__(self, path: str | Path, max_items: int = 200_000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_items = max_items
        self.refused = 0
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS q (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT, payload TEXT)")
        self._count = self._db.execute("SELECT COUNT(*) FROM q").fetchone()[0]
        if self._count:
            logger.info("%s: %d alerts waiting from an earlier run", self.path, self._count)

    def __len__(self) -> int:
        return self._count

    def put(self, key: str, payload: str) -> bool:
        """Queue one item; False (counted) when the spool is full."""
        with self._lock:
            if self._count >= self.max_items:
                self.refused += 1
                if self.refused == 1 or self.refused % 1000 == 0:
                    logger.error("%s is full (%d waiting): %d alerts refused", self.path, self._count, self.refused)
                return False
            self._db.execute("INSERT INTO q (key, payload) VALUES (?, ?)", (key, payload))
            self._count += 1
            return True

    def peek(self, n: int = 100) -> list[tuple[int, str, str]]:
        """The oldest ``n`` items, left in the queue."""
        with self._lock:
            return list(self._db.execute("SELECT seq, key, payload FROM q ORDER BY seq LIMIT ?", (n,)))

    def ack(self, seqs: list[int]) -> None:
        """Remove delivered items."""
        if not seqs:
            return
        with self._lock:
            self._db.executemany("DELETE FROM q WHERE seq = ?", [(s,) for s in seqs])
            self._count = self._db.execute("SELECT COUNT(*) FROM q").fetchone()[0]

    def close(self) -> None:
        """Close the file (what is waiting stays for the next run)."""
        with self._lock:
            self._db.close()


class SpooledDelivery:
    """What the spooled sinks share: a worker thread woken by ``write``, and flushing on close.

    Subclasses set ``spool``, ``target`` (for logs), ``flush_timeout_s`` and start ``_thread``.
    """

    spool: Spool
    target: str
    flush_timeout_s: float
    _thread: threading.Thread

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        #: set by a runtime that is being stopped: ``close`` gives up delivering at this ``time.monotonic()``
        #: and leaves the rest in the spool for the next run (None: the usual ``flush_timeout_s`` rules)
        self.close_by: float | None = None

    def flush(self, timeout_s: float) -> bool:
        """Wait until everything queued is delivered; False if time ran out (the channel is down)."""
        deadline = time.monotonic() + timeout_s
        while len(self.spool) and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.05)
        return not len(self.spool)

    down_since: float | None

    def close(self) -> None:
        """Deliver everything while the channel is up; once it is down, give it ``flush_timeout_s``
        more and leave the rest on disk for the next run."""
        by = self.close_by
        while len(self.spool):
            if not self._thread.is_alive():  # the worker died (logged there): what waits stays on disk
                break
            left = 1.0 if by is None else by - time.monotonic()
            if left <= 0 or self.flush(min(1.0, self.flush_timeout_s, left)):
                break
            if self.down_since is not None and time.monotonic() - self.down_since > self.flush_timeout_s:
                break
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10 if by is None else max(0.2, by - time.monotonic()))
        if len(self.spool):
            logger.warning("%s unreachable: %d alerts wait in %s for the next run", self.target, len(self.spool),
                           self.spool.path)
        if self.spool.refused:  # the count in all, not only the first and every thousandth
            logger.error("%s: %d alerts in all were refused because the spool %s was full (%d places)",
                         self.target, self.spool.refused, self.spool.path, self.spool.max_items)
        self.spool.close()


def record_key(alert: Alert) -> str:
    """What makes one alert record unique in a spool: id, status and the time it was raised."""
    return f"{alert.id}|{alert.status}|{iso(alert.time_s)}"
