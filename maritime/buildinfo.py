"""Which build runs: the modules compiled with mypyc at install time (chosen by profile), and the pure-Python
reference.

``setup.py`` reads :data:`COMPILED` from this file (it imports only the standard library). The pure-Python
files stay beside the compiled ones: they are the fallback (an editable install, no compiler, a failed build,
or ``MARITIME_PURE=1`` at install time) and the reference both builds are tested against. At run time the
pure files are imported instead of the compiled ones with ``MARITIME_PURE=1``, and whenever a compiled module
is older than its source (an in-place build, then an edit): :func:`choose`.
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
    "maritime.ingest.nmea",
    "maritime.ingest.messages",
    "maritime.ingest.ais",
    "maritime.ingest.eventtime",
    "maritime.ingest.clocks",
    "maritime.ingest.ordering",
    "maritime.runtime.assembly",
    "maritime.detectors.base",
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
    """The source files of :data:`COMPILED`, relative to the project root (a package's ``__init__.py``)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = []
    for m in COMPILED:
        rel = m.replace(".", "/")
        out.append(f"{rel}/__init__.py" if os.path.isdir(os.path.join(here, rel)) else f"{rel}.py")
    return out


def _source_and_binary(name: str) -> tuple[str | None, str | None]:
    """The ``.py`` file of a compiled module and its extension file beside it (either may be absent)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rel = os.path.join(root, *name.split("."))
    for base in (rel, os.path.join(rel, "__init__")):
        source = base + ".py"
        if os.path.isfile(source):
            binary = next((base + s for s in importlib.machinery.EXTENSION_SUFFIXES if os.path.isfile(base + s)),
                          None)
            return source, binary
    return None, None


def stale_modules() -> list[str]:
    """Compiled modules whose ``.py`` file is newer than their extension (an in-place build, then an edit)."""
    stale = []
    for name in COMPILED:
        source, binary = _source_and_binary(name)
        if source and binary and os.path.getmtime(source) > os.path.getmtime(binary):
            stale.append(name)
    return stale


def editable_install() -> bool:
    """Whether this package runs from a source tree: an editable install (``pip install -e``) or a checkout on
    the path, not a copy in site-packages."""
    import sysconfig

    here = os.path.realpath(os.path.dirname(os.path.abspath(__file__)))
    sites = {os.path.realpath(sysconfig.get_paths()[k]) for k in ("purelib", "platlib")}
    return not any(here.startswith(site + os.sep) for site in sites)


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
            package = os.path.join(folder, leaf)
            init = os.path.join(package, "__init__.py")
            if os.path.isfile(init):  # a compiled package (maritime.geo): its __init__.py, its folder kept
                return importlib.util.spec_from_file_location(fullname, init, submodule_search_locations=[package])
        return None


def install() -> None:
    """Put the finder first (once)."""
    if not any(isinstance(f, PureFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, PureFinder())


#: why the pure modules run although compiled ones are installed (set by :func:`choose`)
_reason: str | None = None


def choose() -> None:
    """Run the pure modules when asked (``MARITIME_PURE=1``) or when any compiled module is older than its
    source: compiled modules of one build call each other natively, so it is all of them or none."""
    global _reason
    if os.environ.get("MARITIME_PURE") == "1":
        _reason = "MARITIME_PURE=1"
        install()
        return
    # only a source tree can hold a compiled module older than its source (an in-place build, then an edit); in
    # site-packages the installer writes every file anew, in any order
    stale = stale_modules() if editable_install() else []
    if stale:
        _reason = (f"{len(stale)} compiled module(s) older than their source, {stale[0]} first: reinstall to "
                   "compile them again")
        import logging

        logging.getLogger(__name__).warning("running the pure-Python modules: %s", _reason)
        install()


def build() -> str:
    """Which build is running and why: ``"compiled (mypyc, N of M modules)"``, or ``"pure Python (reason)"``,
    then the typed core's state (:func:`maritime.core.status`)."""
    from maritime.core import status

    return f"{_mypyc_build()}; {status()}"


def _mypyc_build() -> str:
    compiled = 0
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for name in COMPILED:
        mod = importlib.import_module(name)
        if (getattr(mod, "__file__", "") or "").endswith(suffixes):
            compiled += 1
    if compiled:
        return f"compiled (mypyc, {compiled} of {len(COMPILED)} modules)"
    if _reason is not None:
        return f"pure Python ({_reason})"
    if editable_install():
        return "pure Python (editable install: the source runs as it is; pip install . compiles)"
    return ("pure Python (not compiled at install: MARITIME_PURE=1, no C compiler, or the build failed and fell "
            "back; the install log says which)")
