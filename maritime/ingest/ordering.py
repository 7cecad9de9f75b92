"""Bounded inputs in event-time order: a recording's lines sorted by the time of the message they belong to.

A file (or a folder of them, a gzip, an export) is finite, so a replay reads it in event-time order instead of
through a reorder window: the result then never depends on the order of the lines (a satellite export in
delivery order, a log grouped by MMSI, two receivers' logs concatenated), and no line is ever late.

:func:`ordered_lines` makes one pass over the file with the decoder's sentence and stream layers (no payload
decoding): each message's time (its tag block, ``$PGHP``, epoch prefix or trailer, else its source's clock),
its source (the tag block's ``s:``, else the file) and its raw lines (every fragment of a multipart message,
the ``$PGHP`` line before it). The messages are judged against their own source's clock
(:class:`~maritime.ingest.clocks.SourceClocks`): outliers are quarantined there (counted and dead-lettered
as ``time_outlier``). The rest are sorted by time, file order breaking ties, with an external merge sort
(runs of ``run_items`` messages sorted in memory, spilled to temporary files, merged with
:func:`heapq.merge`), so memory stays bounded on a year of data. Lines the decoder refuses travel at the time
of the message before them, to be refused (and dead-lettered) by the decoder that reads the ordered lines.

The ordered lines come as ``(time_s, line, assigned_time_s)``: the message's time, and the time a line with no
time of its own is to take (its source's clock), None for a line that carries its own.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from maritime.config import Settings
from maritime.ingest.ais import AisDecoder
from maritime.ingest.decoders import source_clocks
from maritime.ingest.errors import DecodeStats, Reason, Rejected
from maritime.ingest.eventtime import SourceClock
from maritime.ingest.formats import BadRow, read_rows
from maritime.ingest.formats.table import dedup_static
from maritime.ingest.sources import ReadProgress, SourceError, SourceSpec, iter_lines
from maritime.models import Record

logger = logging.getLogger(__name__)

#: messages sorted in memory before a run is spilled to disk
RUN_ITEMS = 400_000

#: one message as sorted: (time s, file order, its raw lines, the time its untimed lines take or None)
Item = tuple[float, int, tuple[bytes, ...], float | None]


class SpillSort:
    """An external merge sort of items ``(key, seq, ...)``: sorted runs spilled to temporary files, merged."""

    def __init__(self, run_items: int = RUN_ITEMS) -> None:
        self.run_items = run_items
        self.buffer: list[Any] = []
        self.runs: list[IO[bytes]] = []
        #: the typed core's run format (:func:`maritime.core.lines.write_run`), None when not built; and which
        #: runs are in it (the others are pickled)
        from maritime.core import run_codec

        self._codec = run_codec()
        self._binary: list[bool] = []
        #: each run's first and last key (time, seq): runs that follow one another need no merge
        self.bounds: list[tuple[Any, Any]] = []
        self.items = 0

    def add(self, item: Any) -> None:
        """Add one item (a tuple that sorts by its first fields)."""
        self.buffer.append(item)
        self.items += 1
        if len(self.buffer) >= self.run_items:
            self._spill()

    def _spill(self) -> None:
        self.buffer.sort()
        self.bounds.append((self.buffer[0][:2], self.buffer[-1][:2]))
        fh = tempfile.TemporaryFile(prefix="maritime-sort-")  # noqa: SIM115 (read back, then closed, by _read)
        binary = self._codec is not None and bool(self._codec.write_run(self.buffer, fh))
        if not binary:
            for start in range(0, len(self.buffer), 4096):  # blocks that stand alone (no memo kept across them)
                pickle.dump(self.buffer[start:start + 4096], fh, protocol=pickle.HIGHEST_PROTOCOL)
        fh.seek(0)
        self.runs.append(fh)
        self._binary.append(binary)
        self.buffer = []

    def _run(self, k: int) -> Iterator[Any]:
        """The items of run ``k``, read back in order (the file closed at the end)."""
        if self._binary[k] and self._codec is not None:
            return iter(self._codec.RunReader(self.runs[k]))
        return self._read(self.runs[k])

    @staticmethod
    def _read(fh: IO[bytes]) -> Iterator[Any]:
        try:
            while True:  # one unpickler a block: one kept for the run would keep every block it read alive
                yield from pickle.load(fh)
        except EOFError:
            fh.close()

    def __iter__(self) -> Iterator[Any]:
        if not self.runs:
            self.buffer.sort()
            items, self.buffer = self.buffer, []
            return iter(items)
        if self.buffer:
            self._spill()
        if all(a[1] < b[0] for a, b in itertools.pairwise(self.bounds)):
            # each run comes wholly after the one before it (an input in time order): read one after the other
            return itertools.chain.from_iterable(self._run(k) for k in range(len(self.runs)))
        logger.info("merging %d sorted runs of %d messages", len(self.runs), self.items)
        runs = [self._run(k) for k in range(len(self.runs))]
        if self._codec is not None:
            return iter(self._codec.MergedRuns(runs))  # heapq.merge in C: the same order
        return heapq.merge(*runs)


class _TimePass(AisDecoder):
    """The decoder's sentence and stream layers without the payload: each message's time and raw lines."""

    def __init__(self, source: str, fragment_timeout_s: float, default_time_s: float) -> None:
        super().__init__(source, fragment_timeout_s=fragment_timeout_s, default_time_s=default_time_s,
                         keep_lines=True)
        #: lines refused here, with the time they were met at: they travel on to the decoder that refuses them
        self.refused: list[tuple[bytes, float | None]] = []
        #: the time of the message just completed (a multipart message has its first part's)
        self.message_time_s = 0.0
        #: whether the last line was a ``$PGHP`` line (its time is for the sentence after it)
        self.pghp_line = False
        from maritime.core import fast_lines

        self._fast = fast_lines(self, time_only=True)  # the common line's time, read in C (when built)

    def _reject(self, reason: str, message: str, line: bytes, time_s: float | None) -> None:
        self.refused.append((line, time_s))

    def _sentence(self, line: bytes) -> tuple[bytes, list[bytes], float | None] | None:
        self.pghp_line = False  # (a line refused here is not a $PGHP line, whatever the line before was)
        got = super()._sentence(line)
        self.pghp_line = got is None
        return got

    def _payload(self, payload: bytes, fill: int, event_time: float, clock: SourceClock | None
                 ) -> tuple[bytes, list[Record]] | None:
        self.message_time_s = event_time
        return payload, []


class Release:
    """The event-time pass's items, into the sort: each message the sources' clocks release, in the order released
    (``seq``), and each line the scan refused, at the time of the message released before it.

    The reference of :class:`maritime.core.lines.TimeScan`, which also takes the common line itself
    (:meth:`take`); here every line goes through the scan and the clocks."""

    def __init__(self, sorter: SpillSort, default_time_s: float) -> None:
        self.sorter = sorter
        #: messages put in the sort so far, and the time of the last one released
        self.seq = 0
        self.last_time = default_time_s

    def released(self, out: Iterable[tuple[float, tuple[tuple[bytes, ...], bool]]]) -> None:
        """Messages released by the clocks, as ``(time, (lines, timed))``, into the sort."""
        for t, (lines, timed) in out:
            self.sorter.add((t, self.seq, lines, None if timed else t))
            self.seq += 1
            self.last_time = t

    def refused(self, refused: list[tuple[bytes, float | None]]) -> None:
        """Lines the scan refused (``(line, time)``), each at the time of the message before it; ``refused`` is
        emptied."""
        for ln, _t in refused:
            self.sorter.add((self.last_time, self.seq, (ln,), self.last_time))
            self.seq += 1
        refused.clear()

    def take(self, raw: bytes) -> bool:
        """Whether the line was taken without the scan: never here."""
        return False

    def sync(self) -> None:
        """Nothing is kept apart here."""

    def touched(self, station: str | None) -> None:
        """Nothing is kept of the clocks here."""


def ordered_lines(spec: SourceSpec, settings: Settings, default_time_s: float,
                  on_reject: Callable[[Rejected], None], stats: DecodeStats, where: ReadProgress | None = None,
                  run_items: int = RUN_ITEMS) -> Iterator[tuple[float, bytes, float | None]]:
    """The lines of the bounded input ``spec`` in event-time order, as ``(time_s, line, assigned_time_s)``:
    the time of the message the line belongs to, and the time an untimed line is to take (None when it
    carries its own).

    Quarantined messages are counted in ``stats`` (their lines, and ``rejected["time_outlier"]``) and handed to
    ``on_reject``; they are not among the lines given. ``default_time_s`` is the time of lines that come before
    any time in a file that has some, and of every line of a file that has none."""
    sorter = SpillSort(run_items)
    ing = settings.ingest

    def quarantine(source: Any, time_s: float, item: tuple[tuple[bytes, ...], bool], why: str) -> None:
        lines = item[0]
        stats.lines += len(lines)
        stats.rejected[Reason.TIME_OUTLIER] += len(lines)
        for ln in lines:
            on_reject(Rejected(Reason.TIME_OUTLIER, why, spec.name, ln.decode("latin-1")[:2000], time_s))

    clocks = source_clocks(settings, quarantine)
    scan = _TimePass(spec.name, ing.fragment_timeout_s, default_time_s)
    name = spec.name  # a property that parses the path: once, not per line
    from maritime.core import time_scan

    # the common line is taken in C when the typed core is built (the same items: a differential test)
    rel: Any = time_scan(scan, clocks, sorter, name, default_time_s) or Release(sorter, default_time_s)
    pghp: list[bytes] = []
    cut_short: SourceError | None = None
    try:
        for raw in iter_lines(spec, where):
            if pghp:
                rel.sync()  # (a $PGHP line's sentence: the scan's)
            elif rel.take(raw):
                continue
            line = raw.strip()
            if not line:
                continue
            out = scan.decode_line(line)
            if scan.refused:
                rel.refused(scan.refused)
            if out is None:
                if scan.pghp_line:
                    pghp.append(line)  # a $PGHP line: it goes with the sentence after it (as do any before it)
                continue
            lines = tuple(scan.message_lines) if scan.message_lines else (line,)
            scan.message_lines = []
            if pghp:
                lines = (*pghp, *lines)
                pghp = []
            rel.released(clocks.push((name, scan.station), scan.message_time_s, scan.timed, (lines, scan.timed)))
            rel.touched(scan.station)
    except SourceError as err:  # a damaged file (a gzip cut short): what came before it is replayed, then this
        cut_short = err
    rel.sync()
    scan.close()
    if scan.refused:
        rel.refused(scan.refused)
    rel.released(clocks.flush())
    if pghp:
        sorter.add((rel.last_time, rel.seq, tuple(pghp), rel.last_time))
    for t, _seq, lines, assigned in sorter:
        for ln in lines:
            yield t, ln, assigned
    if cut_short is not None:
        raise cut_short
    if clocks.quarantined:
        logger.warning("%s: %d messages quarantined: their times were far from their source's clock "
                       "(time_outlier in the dead letters)", spec.name, clocks.quarantined)


def decoded_items(lines: Iterable[tuple[float, bytes, float | None]], decode: Callable[..., Any],
                  push: Callable[[float, Any], Any], progress: Callable[[], None] | None = None
                  ) -> Iterator[tuple[float, Any]]:
    """The messages of ``lines`` (from :func:`ordered_lines`) as a replay takes them: each line decoded
    (``decode(line, None, assigned)``: ``(payload, records)`` or None), each message with records pushed into the
    reorder window (``push(time, message)``), and what the window releases given, oldest first; ``progress`` is
    called every 16,384 lines. (Here rather than in the replay's Python loop: this module is compiled.)"""
    n = 0
    for _t, line, assigned in lines:
        out = decode(line, None, assigned)
        n += 1
        if progress is not None and n & 0x3FFF == 0:
            progress()
        if out is None:
            continue
        recs = out[1]
        if recs:
            released = push(recs[0].time_s, out)
            if released:
                yield from released


def sorted_records(records: Iterable[Record], run_items: int = RUN_ITEMS) -> Iterator[Record]:
    """Records in event-time order (input order breaking ties), with an external merge sort."""
    sorter = SpillSort(run_items)
    for i, rec in enumerate(records):
        sorter.add((rec.time_s, i, rec))
    for _t, _i, rec in sorter:
        yield rec


def env_run_items() -> int:
    """``MARITIME_SORT_RUN`` (tests and benchmarks set small runs to exercise the spill)."""
    try:
        return max(1, int(os.environ.get("MARITIME_SORT_RUN", RUN_ITEMS)))
    except ValueError:
        return RUN_ITEMS


def ordered_records(spec: SourceSpec, settings: Settings, default_time_s: float | None,
                    on_reject: Callable[[Rejected], None], stats: DecodeStats, run_items: int = RUN_ITEMS
                    ) -> Iterator[list[Record]]:
    """The records of a decoded source (a table, JSON; :mod:`maritime.ingest.formats`) in event-time order, a
    row's records together; each row judged against the clock of its source (its source column, else the
    file) in time order, outliers quarantined (``time_outlier``); static data only when it changes.

    Every row counts as a line, a good one as a message (by the type of its first record); a bad row is
    handed to ``on_reject`` with its reason."""
    sorter = SpillSort(run_items)
    for i, got in enumerate(read_rows(spec, default_time_s)):
        stats.lines += 1
        if isinstance(got, BadRow):
            stats.rejected[got.reason] += 1
            on_reject(Rejected(got.reason, got.message, spec.name, got.text, None))
            continue
        stats.messages += 1
        stats.messages_by_type[got[0].msg_type] += 1
        sorter.add((got[0].time_s, i, got))

    def quarantine(source: Any, time_s: float, recs: list[Record], why: str) -> None:
        stats.messages -= 1
        stats.messages_by_type[recs[0].msg_type] -= 1
        stats.rejected[Reason.TIME_OUTLIER] += 1
        on_reject(Rejected(Reason.TIME_OUTLIER, why, spec.name, repr(recs[0])[:500], time_s))

    clocks = source_clocks(settings, quarantine)

    def judged() -> Iterator[Record]:
        for t, _i, recs in sorter:
            for _t, kept in clocks.push(recs[0].source, t, True, recs):
                yield from kept
        for _t, kept in clocks.flush():
            yield from kept

    row: list[Record] = []
    for rec in dedup_static(judged()):
        if row and (rec.time_s != row[0].time_s or rec.mmsi != row[0].mmsi):
            yield row
            row = []
        row.append(rec)
    if row:
        yield row
    for mt in [k for k, n in stats.messages_by_type.items() if n <= 0]:  # types a quarantine brought to zero
        del stats.messages_by_type[mt]
