"""Build hook: the hot modules compiled with mypyc when a C compiler is there (pure Python otherwise).

Everything else about the package is in ``pyproject.toml``. ``MARITIME_PURE=1`` at install time skips the
compilation; the modules are listed in ``maritime/buildinfo.py``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from setuptools import setup


def ext_modules() -> list:
    if os.environ.get("MARITIME_PURE") == "1":
        print("caribbean-mda: MARITIME_PURE=1, pure-Python build", file=sys.stderr)
        return []
    cc = os.environ.get("CC", "cc").split()[0]
    if not (shutil.which(cc) or shutil.which("gcc")):
        print("caribbean-mda: no C compiler found, pure-Python build (slower, the same results)", file=sys.stderr)
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("caribbean-mda: mypyc not available, pure-Python build", file=sys.stderr)
        return []
    spec: dict = {}
    exec((Path(__file__).parent / "maritime" / "buildinfo.py").read_text(), spec)
    # the build environment has mypy but not the run-time dependencies: their types are taken as Any (the
    # project's own [tool.mypy] settings, with the pydantic plugin, are for the type check, not for this)
    flags = ["--config-file", os.devnull, "--ignore-missing-imports", "--follow-imports", "silent",
             "--python-version", f"{sys.version_info.major}.{sys.version_info.minor}"]
    return mypycify([*flags, *spec["compiled_files"]()], opt_level="3")


setup(ext_modules=ext_modules())
