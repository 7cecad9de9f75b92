"""The decoder of one input stream as every runtime makes it (the embedded pipeline, the decode workers, the
partitioned decode stage), and the first event time a recording holds."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from maritime.config import Settings
from maritime.ingest.ais import AisDecoder
from maritime.ingest.clocks import SourceClocks
from maritime.ingest.errors import DecodeStats, Reason, Rejected
from maritime.ingest.eventtime import source_clock
from maritime.ingest.sources import SourceSpec, iter_lines
from maritime.models import Record


def source_decoder(settings: Settings, name: str, default_time_s: float | None,
                   on_reject: Callable[[Rejected], None], stats: DecodeStats) -> AisDecoder:
    """The decoder of one input stream as every runtime makes it from the ``[ingest]`` settings (fragment
    timeout s, de-duplication window s, the source's clock)."""
    ing = settings.ingest
    return AisDecoder(name, fragment_timeout_s=ing.fragment_timeout_s, default_time_s=default_time_s,
                      on_reject=on_reject, stats=stats, dedup_window_s=ing.dedup_window_s,
                      clock=source_clock(ing, name))


def first_timestamp(spec: SourceSpec, max_lines: int = 5000) -> float | None:
    """The first event time written in a recording (within ``max_lines``), or None.

    Lines that carry no time of their own take the time of the line before;
    the ones before the first timestamp take this one, so a log that is only
    partly timestamped does not start at the wall clock.
    """
    scratch = AisDecoder(spec.name, default_time_s=-1.0)
    for line in itertools.islice(iter_lines(spec), max_lines):
        out = scratch.decode_line(line)
        if out is not None and out[1] and out[1][0].time_s != -1.0:
            return out[1][0].time_s
    return None


def source_clocks(settings: Settings, on_quarantine: Callable[[Any, float, Any, str], None] | None = None
                  ) -> SourceClocks:
    """The clocks of a stream's sources as the ``[ingest]`` settings say (:mod:`maritime.ingest.clocks`)."""
    ing = settings.ingest
    return SourceClocks(max_jump_s=ing.max_time_jump_s or float("inf"), confirm=ing.time_confirm_lines,
                        start_lines=ing.time_start_lines, on_quarantine=on_quarantine)


class ClockedDecoder:
    """A live stream's decoder with its sources' clocks: each message judged against the clock of its source
    (the tag block's ``s:``, else the stream) before it is released (:mod:`maritime.ingest.clocks`).

    :meth:`decode` returns the messages released by one line as ``(time_s, source, (payload, records))``, the
    source being ``stream|station`` (the tag block's ``s:``; the stream's name alone without one); a message
    with no time of its own carries its source's clock. A quarantined message is counted in the decoder's
    ``stats`` (``time_outlier``) and handed to its ``on_reject`` with its line."""

    def __init__(self, decoder: AisDecoder, settings: Settings) -> None:
        self.decoder = decoder
        self.clocks = source_clocks(settings, self._quarantine)
        # duplicates are recognised among the messages the clocks accept: a far-away time must not be remembered
        self.window = decoder.dedup
        decoder.dedup = None

    def _quarantine(self, source: Any, time_s: float, message: Any, why: str) -> None:
        _key, line, _out = message
        dec = self.decoder
        dec.stats.rejected[Reason.TIME_OUTLIER] += 1
        if dec.on_reject is not None:
            dec.on_reject(Rejected(Reason.TIME_OUTLIER, why, dec.source, line.decode("latin-1")[:2000], time_s))

    def decode(self, line: bytes, recv_time_s: float | None = None
               ) -> list[tuple[float, str, tuple[bytes, list[Record]]]]:
        """The messages one line releases (often the one it carries, none while it is held)."""
        dec = self.decoder
        out = dec.decode_line(line, recv_time_s)
        if out is None or not out[1]:
            return []
        key = dec.source if dec.station is None else f"{dec.source}|{dec.station}"
        return self._released(self.clocks.push(key, out[1][0].time_s, dec.timed, (key, line, out)))

    def flush(self) -> list[tuple[float, str, tuple[bytes, list[Record]]]]:
        """A quiet stream: what the clocks hold is judged on what they have (a clock starts on fewer lines)."""
        return self._released(self.clocks.flush())

    def close(self) -> list[tuple[float, str, tuple[bytes, list[Record]]]]:
        """End of the stream: what the clocks still hold."""
        self.decoder.close()
        return self._released(self.clocks.flush())

    def _released(self, got: list[tuple[float, Any]]) -> list[tuple[float, str, tuple[bytes, list[Record]]]]:
        released = []
        window = self.window
        for t, (key, _line, (payload, records)) in got:
            if window is not None:
                if window.seen(payload, t):  # the same transmission from another receiver: counted, dropped
                    self.decoder.stats.duplicates += 1
                    continue
                window.remember(payload, t)
            if records[0].time_s != t:  # a message with no time of its own takes its source's clock
                records = [replace(r, time_s=t) for r in records]
            released.append((t, key, (payload, records)))
        return released
