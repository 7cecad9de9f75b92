"""Records on the topics (Faust Records, validated on creation and on receipt)."""

from __future__ import annotations

from typing import Any, List, Optional  # noqa: UP035  (Faust reads these annotations at run time)

import faust


class RawChunk(faust.Record, validation=True, serializer="json"):
    """Lines one source produced in a short window (AIS sentences, latin-1 text)."""

    source: str
    lines: List[str]  # noqa: UP006
    recv_times: Optional[List[float]] = None  # noqa: UP006, UP045  receive time of each line (live feeds)
    # a recording in event-time order: the time each line with none of its own takes (None: it has its own)
    assigned_times: Optional[List[Optional[float]]] = None  # noqa: UP006, UP045
    default_time: Optional[float] = None  # noqa: UP045  event time for lines without one (files)
    lane: int = 0  # which lane of the source (an ingest with --lanes splits one busy source over several)
    order: Optional[float] = None  # noqa: UP045  replay order of the first line (maritime.runtime.partitioned.order_key)


class RawBatch(faust.Record, validation=True, serializer="json"):
    """One ingest sequence number for one raw partition: the chunks of its sources (maybe none)."""

    seq: int
    chunks: List[RawChunk]  # noqa: UP006
    sources: int = 1  # how many sources the ingest reads (several: duplicates are dropped across them)
    end: bool = False  # the replay ends after this batch


class RowBatch(faust.Record, validation=True, serializer="json"):
    """Rows (``maritime.runtime.partitioned``) from one upstream partition for one sequence number."""

    origin: int
    seq: int
    rows: List[Any]  # noqa: UP006
    sources: int = 1


class AlertEvent(faust.Record, validation=True, serializer="json"):
    """An alert, in the DESIGN.md contract shape."""

    alert: dict


class DeadLetter(faust.Record, validation=True, serializer="json"):
    """A rejected input line with its reason and source."""

    reason: str
    message: str
    source: str
    line: str
    time: Optional[str] = None  # noqa: UP045
