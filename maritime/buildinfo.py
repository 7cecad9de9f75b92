"""Which build runs: the modules compiled with mypyc at install time (chosen by profile), and the pure-Python
reference.

``setup.py`` reads :data:`COMPILED` from this file (it imports only the standard library). The pure-Python
files stay beside the compiled ones: they are the fallback (no compiler at install time, or
``MARITIME_PURE=1`` at install time) and the reference both builds are tested against; ``MARITIME_PURE=1``
at run time imports them instead of the compiled ones (:func:`install`).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from types import ModuleType

#: hot modules of a replay, by profile of the 12 h benchmark day (decode, event time, the per-position chain,
#: the tracker, identity gate, dark gaps, geofences, rendezvous, loitering, the zone index, the geometry)
COMPILED = (
    "maritime.geo",
    "maritime.ingest.ais",
    "maritime.ingest.eventtime",
    "maritime.runtime.assembly",
    "maritime.detectors.tracker",
    "maritime.detectors.identity",
    "maritime.detectors.gaps",
    "maritime.detectors.geofence",
    "maritime.detectors.rendezvous",
    "maritime.detectors.loitering",
    "maritime.detectors.voyage",
    "maritime.zones.index",
)


def compiled_files() -> list[str]:
    """The source files of :data:`COMPILED`, relative to the project root."""
    return [m.replace(".", "/") + ".py" for m in COMPILED]

class PureFinder:
    """Finds the ``.py`` file of a compiled module (and nothing else)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in COMPILED:
            return None
        leaf = fullname.rpartition(".")[2]
        for folder in path or sys.path:
            source = os.path.join(folder, leaf + ".py")
            if os.path.isfile(source):
                return importlib.util.spec_from_file_location(fullname, source)
        return None


def install() -> None:
    """Put the finder first (once)."""
    if not any(isinstance(f, PureFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, PureFinder())


def build() -> str:
    """Which build is running: ``"compiled (mypyc, N of M modules)"``, or ``"pure Python"`` with the reason."""
    compiled = 0
    for name in COMPILED:
        mod = importlib.import_module(name)
        if not (getattr(mod, "__file__", "") or "").endswith(".py"):
            compiled += 1
    if compiled:
        return f"compiled (mypyc, {compiled} of {len(COMPILED)} modules)"
    if os.environ.get("MARITIME_PURE") == "1":
        return "pure Python (MARITIME_PURE=1)"
    return "pure Python (not compiled at install: no C compiler, or MARITIME_PURE=1)"
