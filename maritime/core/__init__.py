"""The typed core: the per-position path in Cython, built at install time, with the pure-Python modules as
its reference and fallback.

What it holds (each a ``.pyx`` beside this file):

- :mod:`maritime.core.lines`: the common NMEA line (a tag block, one complete sentence, a position report of
  type 1, 2, 3 or 18) read in C, from the tag block to the report's fields; every other line goes to the
  pure-Python decoder (:meth:`maritime.ingest.ais.AisDecoder.decode_line_py`) untouched; and the event-time
  pass's common line (:class:`~maritime.core.lines.TimeScan`), from the line to its place in the external sort;
- :mod:`maritime.core.quiet`: the quiet path of the per-vessel detectors (a position that raises nothing, taken
  on the detector's own state in place): the identity gate, dark gaps, rendezvous and geofences.

The compiled modules are used when they were built (``pip install .``, or ``MARITIME_COMPILE=1 pip install -e
.``) and not when ``MARITIME_PURE=1`` is set, nor when a ``.pyx`` in a source tree is newer than its build (an
edit after an in-place build). :func:`status` says which runs and why.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import logging
import os
from typing import Any

logger = logging.getLogger(__name__)

#: the typed modules of the core
MODULES = ("lines", "quiet")

_loaded: dict[str, Any] = {}
_why_not: dict[str, str] = {}


def _stale(name: str, module: Any) -> bool:
    """Whether a compiled module in a source tree is older than its ``.pyx`` (an in-place build, then an edit)."""
    here = os.path.dirname(os.path.abspath(__file__))
    source = os.path.join(here, name + ".pyx")
    binary = getattr(module, "__file__", None) or ""
    return (os.path.dirname(os.path.abspath(binary)) == here and os.path.isfile(source)
            and os.path.getmtime(source) > os.path.getmtime(binary))


def load(name: str) -> Any | None:
    """The compiled core module ``name`` (one of :data:`MODULES`), or None (the reason in :func:`status`)."""
    if name in _loaded:
        return _loaded[name]
    module: Any | None = None
    if os.environ.get("MARITIME_PURE") == "1":
        _why_not[name] = "MARITIME_PURE=1"
    else:
        try:
            module = importlib.import_module(f"maritime.core.{name}")
        except ImportError as err:
            _why_not[name] = f"not built ({err})"
        else:
            if not (getattr(module, "__file__", "") or "").endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)):
                module, _why_not[name] = None, "not built"
            elif getattr(module, "why_not", None):
                _why_not[name] = f"its record layout was not the expected one ({module.why_not})"
                logger.warning("typed core: %s: %s; running the pure-Python path", name, _why_not[name])
                module = None
            elif _stale(name, module):
                _why_not[name] = f"maritime/core/{name}.pyx is newer than its build: reinstall to compile it again"
                logger.warning("typed core: %s; running the pure-Python path", _why_not[name])
                module = None
    _loaded[name] = module
    return module


def fast_lines(decoder: Any, time_only: bool = False) -> Any | None:
    """The C path of one decoder (:class:`maritime.core.lines.FastLines`), or None when the core is not built;
    ``time_only``: for the event-time pass (:mod:`maritime.ingest.ordering`), which reads each message's time
    and leaves its payload."""
    lines = load("lines")
    return None if lines is None else lines.FastLines(decoder, time_only)


def time_scan(scan: Any, clocks: Any, sorter: Any, name: str, default_time_s: float) -> Any | None:
    """The C side of one event-time pass (:class:`maritime.core.lines.TimeScan`: ``scan`` its time-only decoder,
    ``clocks`` the sources' clocks, ``sorter`` the external sort), or None when the core is not built."""
    lines = load("lines")
    return None if lines is None else lines.TimeScan(scan, clocks, sorter, name, default_time_s)


def run_codec() -> Any | None:
    """The binary runs of the external sort (:func:`maritime.core.lines.write_run`, :class:`~maritime.core.lines.
    RunReader`), or None when the core is not built (runs are then pickled)."""
    return load("lines")


def payload_window(window_s: float) -> Any | None:
    """A de-duplication window of payloads (:class:`maritime.core.lines.PayloadWindow`, ``window_s`` s of event
    time), or None when the core is not built."""
    lines = load("lines")
    return None if lines is None else lines.PayloadWindow(window_s)


def reorder(window_s: float, on_late: Any = None) -> Any | None:
    """A reorder window (:class:`maritime.core.lines.Reorder`, ``window_s`` s of event time), or None when the core
    is not built."""
    lines = load("lines")
    return None if lines is None else lines.Reorder(window_s, on_late)


def quiet_path() -> Any | None:
    """The detectors' quiet path (:mod:`maritime.core.quiet`), or None when the core is not built."""
    return load("quiet")


def status() -> str:
    """Which of the core's modules run compiled: ``"typed core (cython): lines, quiet"``, or why they do not."""
    built = [name for name in MODULES if load(name) is not None]
    if built:
        return "typed core (cython): " + ", ".join(built)
    return "typed core not in use (" + "; ".join(f"{n}: {_why_not.get(n, '?')}" for n in MODULES) + ")"
