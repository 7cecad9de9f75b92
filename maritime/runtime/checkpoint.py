"""Live state kept on disk, so that a restarted ``watch`` goes on where it was.

``maritime watch … --state DIR`` keeps one checkpoint in ``DIR/state.sqlite`` (SQLite: one row, written in one
transaction, so a crash mid-write leaves the previous checkpoint whole). It holds what the run knows: every
vessel of the tracker, each detector's per-vessel state (open gaps, zone visits, loitering, voyages, identity
tracks, watchlist hits), the rendezvous episodes and learned anchorages, the arrivals stage, the flood gate,
the duplicate window, the tick, each source's latest event time, the lines read from each file (a restarted run
on the same file skips them), and the ids of the alerts raised. It is the same state the partitioned runtime
keeps in its tables, in the same forms.

A checkpoint is written every ``interval_s`` (wall) while records come, and when the run stops. A restarted run
loads it first: a gap open before the restart is closed once, with the same alert id. A checkpoint that cannot
be read (damaged, from another version) is set aside with a one-line reason and the run starts clean.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec

from maritime.runtime.partitioned.rows import vessel_dump, vessel_load

logger = logging.getLogger(__name__)

#: the checkpoint's layout; another version is not read (the run starts clean)
VERSION = 1
FILE = "state.sqlite"


class CheckpointError(Exception):
    """A checkpoint that cannot be used, with the reason in one line."""


class Checkpoint:
    """The checkpoint of one live run in ``folder`` (which must exist or be creatable in an existing parent)."""

    def __init__(self, folder: str | Path, interval_s: float = 60.0) -> None:
        self.folder = Path(folder)
        self.path = self.folder / FILE
        self.interval_s = interval_s
        self.saved = 0
        self.last_save_s = 0.0
        self._next = time.monotonic() + interval_s

    # -- writing ------------------------------------------------------------------------

    def due(self) -> bool:
        """Whether the periodic checkpoint is due (wall clock)."""
        return time.monotonic() >= self._next

    def save(self, pipe: Any) -> None:
        """Write the pipeline's state (replacing the previous checkpoint in one transaction)."""
        t0 = time.perf_counter()
        body = zlib.compress(json.dumps(snapshot(pipe), separators=(",", ":")).encode(), 3)
        db = sqlite3.connect(self.path, timeout=30.0)
        try:
            with db:
                db.execute("CREATE TABLE IF NOT EXISTS checkpoint (id INTEGER PRIMARY KEY, version INTEGER, "
                           "saved_at REAL, body BLOB)")
                db.execute("INSERT OR REPLACE INTO checkpoint VALUES (1, ?, ?, ?)", (VERSION, time.time(), body))
        finally:
            db.close()
        self.saved += 1
        self.last_save_s = time.perf_counter() - t0
        self._next = time.monotonic() + self.interval_s
        logger.debug("checkpoint %s written (%d bytes, %.2f s)", self.path, len(body), self.last_save_s)

    # -- reading ------------------------------------------------------------------------

    def read(self) -> dict[str, Any] | None:
        """The checkpoint as data (None: there is none yet); :class:`CheckpointError` when it cannot be used."""
        if not self.path.exists():
            return None
        try:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30.0)
            try:
                row = db.execute("SELECT version, body FROM checkpoint WHERE id = 1").fetchone()
            finally:
                db.close()
        except sqlite3.Error as err:
            raise CheckpointError(f"{self.path}: not a readable checkpoint ({err})") from None
        if row is None:
            return None
        version, body = row
        if version != VERSION:
            raise CheckpointError(f"{self.path}: a checkpoint of layout {version}, this version reads {VERSION}")
        try:
            doc = json.loads(zlib.decompress(body))
        except (zlib.error, ValueError, TypeError) as err:
            raise CheckpointError(f"{self.path}: the checkpoint is damaged ({err})") from None
        if not isinstance(doc, dict):
            raise CheckpointError(f"{self.path}: the checkpoint is damaged (not an object)")
        return doc

    def load(self, pipe: Any) -> bool:
        """Restore the pipeline from the checkpoint: True when one was loaded. One that cannot be used is moved
        aside (``state.sqlite.unusable-<time>``) with a one-line warning, and the run starts clean."""
        try:
            doc = self.read()
            if doc is None:
                return False
            restore(pipe, doc)
        except (CheckpointError, KeyError, TypeError, ValueError, msgspec.ValidationError) as err:
            why = str(err) if isinstance(err, CheckpointError) else \
                f"{self.path}: the checkpoint does not fit this run ({type(err).__name__}: {err})"
            aside = self.path.with_name(f"{FILE}.unusable-{time.strftime('%Y%m%dT%H%M%S')}")
            try:
                self.path.replace(aside)
            except OSError:
                aside = self.path
            logger.warning("%s; starting clean (the old file is %s)", why, aside)
            _reset(pipe)
            return False
        logger.info("resumed from %s: %d vessels, event time %s", self.path, len(pipe.tracker.vessels),
                    doc.get("last_time"))
        return True


# -- what is kept ----------------------------------------------------------------------------


def _parts(pipe: Any) -> list[tuple[str, Any]]:
    """The gates and detectors with per-vessel state (``state`` dict and ``state_type``)."""
    return [(d.name, d) for d in (*pipe.chain.gates, *pipe.chain.detectors)
            if isinstance(getattr(d, "state", None), dict) and getattr(d, "state_type", None) is not None]


def snapshot(pipe: Any) -> dict[str, Any]:
    """The pipeline's state as JSON-ready data."""
    st = pipe.stats
    parts = {name: {str(m): msgspec.to_builtins(s) for m, s in det.state.items()} for name, det in _parts(pipe)}
    whole = {d.name: d.snapshot() for d in pipe.chain.detectors if hasattr(d, "snapshot")}
    doc: dict[str, Any] = {
        "version": VERSION,
        "first_time": st.first_time_s, "last_time": st.last_time_s, "next_tick": pipe._next_tick_s,
        "tracker": {str(m): vessel_dump(v) for m, v in pipe.tracker.vessels.items()},
        "parts": parts, "whole": whole,
        "dedup": pipe._dedup.snapshot(),
        "alert_ids": st.alert_ids, "alert_records": st.alert_records,
        "records_by": [[t, s, n] for (t, s), n in st.records_by.items()],
        "feed_lines": dict(st.feed_lines), "source_event_s": st.source_event_s,
        "positions": st.positions, "static_reports": st.static_reports,
    }
    if pipe.flood is not None:
        doc["flood"] = pipe.flood.snapshot()
    arr = pipe.arrivals
    if arr is not None:
        mm = set(arr.vessels) | set(arr.tracker.vessels) | set(arr.waiting)
        doc["arrivals"] = {"vessels": {str(m): d for m in mm if (d := arr.export(m)) is not None},
                           "meta": arr.meta()}
    return doc


def restore(pipe: Any, doc: dict[str, Any]) -> None:
    """Put a :func:`snapshot` back into a freshly built pipeline."""
    st = pipe.stats
    for m, d in doc["tracker"].items():
        pipe.tracker.vessels[int(m)] = vessel_load(d)
    by_name = dict(_parts(pipe))
    for name, states in doc["parts"].items():
        det = by_name.get(name)
        if det is None:
            continue  # a detector this run does not have (settings changed): its state is dropped
        for m, s in states.items():
            det.state[int(m)] = msgspec.convert(s, det.state_type)
    for d in pipe.chain.detectors:
        if hasattr(d, "snapshot") and d.name in doc["whole"]:
            d.restore(doc["whole"][d.name])
        if hasattr(d, "rebuild"):
            d.rebuild()
    pipe._dedup.restore(doc["dedup"])
    pipe._next_tick_s = doc["next_tick"]
    st.first_time_s, st.last_time_s = doc["first_time"], doc["last_time"]
    st.alert_ids.update(doc["alert_ids"])
    st.alert_records = int(doc["alert_records"])
    st.records_by.update({(t, s): int(n) for t, s, n in doc["records_by"]})
    st.feed_lines.update(Counter({str(k): int(v) for k, v in doc["feed_lines"].items()}))
    st.source_event_s.update({str(k): float(v) for k, v in doc["source_event_s"].items()})
    st.positions, st.static_reports = int(doc["positions"]), int(doc["static_reports"])
    if pipe.flood is not None and doc.get("flood"):
        pipe.flood.restore(doc["flood"])
    arr = pipe.arrivals
    if arr is not None and doc.get("arrivals"):
        arr.restore([(int(m), d) for m, d in doc["arrivals"]["vessels"].items()], doc["arrivals"]["meta"])


def _reset(pipe: Any) -> None:
    """Undo a restore that failed half-way: the run starts clean."""
    pipe.tracker.vessels.clear()
    for _name, det in _parts(pipe):
        det.state.clear()
    st = pipe.stats
    st.alert_ids.clear()
    st.records_by.clear()
    st.feed_lines.clear()
    st.source_event_s.clear()
    st.first_time_s = st.last_time_s = None
    pipe._next_tick_s = None


def describe(doc: dict[str, Any]) -> dict[str, Any]:
    """A short account of a checkpoint (for logs and tests)."""
    return {"vessels": len(doc.get("tracker", {})), "last_time": doc.get("last_time"),
            "alerts": len(doc.get("alert_ids", {})), "parts": {k: len(v) for k, v in doc.get("parts", {}).items()}}


__all__ = ["Checkpoint", "CheckpointError", "describe", "restore", "snapshot"]
