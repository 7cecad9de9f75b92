"""Build hook: the hot modules compiled with mypyc in a regular install, pure Python otherwise.

Everything else about the package is in ``pyproject.toml``. The build never fails for the compiled modules'
sake: no compiler, no ``Python.h``, a mypyc error or a C compile error all give the pure-Python package with
one warning line (stderr). Which modules are compiled is listed in ``maritime/buildinfo.py``.

- ``pip install .`` (a wheel): compiled where it can be.
- ``pip install -e .`` (editable): pure Python, so that an edit to a source file takes effect at once;
  ``MARITIME_COMPILE=1 pip install -e .`` compiles in place (the ``.so`` files then win over the ``.py``
  files until they are older than them: see ``maritime.buildinfo``).
- ``MARITIME_PURE=1`` at install time: pure Python.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def _say(message: str) -> None:
    print(f"caribbean-mda: {message}", file=sys.stderr)


def editable_build() -> bool:
    """Whether setuptools is building an editable install (PEP 660)."""
    return any(arg in ("editable_wheel", "develop") for arg in sys.argv[1:])


def ext_modules() -> list:
    """The mypyc extensions, or ``[]`` (with the reason on stderr) for a pure-Python build."""
    if os.environ.get("MARITIME_PURE") == "1":
        _say("MARITIME_PURE=1: pure-Python build")
        return []
    if editable_build() and os.environ.get("MARITIME_COMPILE") != "1":
        _say("editable install: pure-Python build (edits take effect at once; MARITIME_COMPILE=1 compiles)")
        return []
    cc = os.environ.get("CC", "cc").split()[0]
    if not (shutil.which(cc) or shutil.which("gcc")):
        _say("warning: no C compiler found, pure-Python build (slower, the same results)")
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _say("warning: mypyc is not available, pure-Python build (slower, the same results)")
        return []
    spec: dict = {"__file__": str(ROOT / "maritime" / "buildinfo.py")}
    exec((ROOT / "maritime" / "buildinfo.py").read_text(), spec)
    # the build environment has mypy but not every run-time dependency: what it lacks is taken as Any (the
    # project's own [tool.mypy] settings, with the pydantic plugin, are for the type check, not for this)
    flags = ["--config-file", os.devnull, "--ignore-missing-imports", "--follow-imports", "silent",
             "--python-version", f"{sys.version_info.major}.{sys.version_info.minor}"]
    cwd = os.getcwd()
    try:
        os.chdir(ROOT)
        return mypycify([*flags, *spec["compiled_files"]()], opt_level="3")
    except BaseException as err:  # mypyc reports a type error with SystemExit
        if isinstance(err, KeyboardInterrupt):
            raise
        _say(f"warning: mypyc failed ({type(err).__name__}: {err}), pure-Python build (slower, the same results)")
        return []
    finally:
        os.chdir(cwd)


class OptionalBuildExt(build_ext):
    """``build_ext`` that falls back to the pure-Python package when any compiled module fails to build.

    All or nothing: compiled modules of one mypyc group call each other natively, so a partial set is removed.
    """

    def run(self) -> None:
        try:
            super().run()
        except Exception as err:  # CompileError, LinkError, a missing Python.h, an OSError of the toolchain
            self.fall_back(err)

    def fall_back(self, err: BaseException) -> None:
        """Remove every extension this command built, and say so in one line."""
        for ext in self.extensions:
            for path in {self.get_ext_fullpath(ext.name), os.path.join(self.build_lib, self.get_ext_filename(
                    ext.name))}:
                if os.path.exists(path):
                    os.remove(path)
        self.extensions = []
        self.distribution.ext_modules = []
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        _say(f"warning: the compiled modules failed to build ({type(err).__name__}: {first[:200]}), "
             "pure-Python build (slower, the same results)")


if __name__ == "__main__":
    setup(ext_modules=ext_modules(), cmdclass={"build_ext": OptionalBuildExt})
