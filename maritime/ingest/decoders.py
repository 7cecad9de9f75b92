"""The decoder of one input stream as every runtime makes it (the embedded pipeline, the decode workers, the
partitioned decode stage), and the first event time a recording holds."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from maritime.config import Settings
from maritime.ingest.ais import AisDecoder
from maritime.ingest.errors import DecodeStats, Rejected
from maritime.ingest.eventtime import source_clock
from maritime.ingest.sources import SourceSpec, iter_lines


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
