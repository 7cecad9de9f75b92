"""Build hook: the typed core (Cython, ``maritime/core/*.pyx``) and the hot modules compiled with mypyc in a
regular install, pure Python otherwise.

Everything else about the package is in ``pyproject.toml``. The build never fails for the compiled modules'
sake: no compiler, no ``Python.h``, no Cython, a mypyc error or a C compile error all give the pure-Python
package (or the part of it that failed) with one warning line (stderr). Which modules mypyc compiles is listed
in ``maritime/buildinfo.py``; the typed core is every ``.pyx`` of ``maritime/core`` and is built on its own:
when it fails the mypyc modules stay, and the other way round.

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
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def _say(message: str) -> None:
    print(f"caribbean-mda: {message}", file=sys.stderr)


def editable_build() -> bool:
    """Whether setuptools is building an editable install (PEP 660)."""
    return any(arg in ("editable_wheel", "develop") for arg in sys.argv[1:])


def ext_modules() -> list:
    """The typed core and the mypyc extensions, or ``[]`` (with the reason on stderr) for a pure-Python build."""
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
    return core_modules() + mypyc_modules()


#: the typed core's extensions are named after their folder
CORE_PREFIX = "maritime.core."


def core_modules() -> list:
    """The Cython extensions of ``maritime/core`` (typed C), or ``[]`` with the reason on stderr."""
    try:
        from Cython.Build import cythonize
        from setuptools import Extension
    except ImportError:
        _say("warning: Cython is not available, the typed core is not built (slower, the same results)")
        return []
    cwd = os.getcwd()
    try:
        os.chdir(ROOT)
        sources = sorted(Path("maritime/core").glob("*.pyx"))
        exts = [Extension(CORE_PREFIX + src.stem, [str(src)], extra_compile_args=["-O3"]) for src in sources]
        return list(cythonize(exts, language_level=3, quiet=True))
    except Exception as err:  # a Cython compile error
        _say(f"warning: Cython failed ({type(err).__name__}: {err}), the typed core is not built (slower, "
             "the same results)")
        return []
    finally:
        os.chdir(cwd)


def mypyc_modules() -> list:
    """The mypyc extensions, or ``[]`` with the reason on stderr."""
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

    A typed-core module that fails is left out alone (each stands by itself, with its pure-Python path). The
    mypyc modules are all or nothing: compiled modules of one mypyc group call each other natively, so a partial
    set is removed.
    """

    def run(self) -> None:
        try:
            super().run()
        except Exception as err:  # CompileError, LinkError, a missing Python.h, an OSError of the toolchain
            self.fall_back(err)

    def build_extension(self, ext: Any) -> None:
        if not ext.name.startswith(CORE_PREFIX):
            super().build_extension(ext)
            return
        try:
            super().build_extension(ext)
        except Exception as err:
            path = self.get_ext_fullpath(ext.name)
            if os.path.exists(path):
                os.remove(path)
            first = str(err).strip().splitlines()[0] if str(err).strip() else ""
            _say(f"warning: the typed core's {ext.name} failed to build ({type(err).__name__}: {first[:200]}), "
                 "its pure-Python path runs (slower, the same results)")

    def fall_back(self, err: BaseException) -> None:
        """Remove every mypyc extension this command built (the typed core's stay), and say so in one line."""
        mypyc = [ext for ext in self.extensions if not ext.name.startswith(CORE_PREFIX)]
        for ext in mypyc:
            for path in {self.get_ext_fullpath(ext.name), os.path.join(self.build_lib, self.get_ext_filename(
                    ext.name))}:
                if os.path.exists(path):
                    os.remove(path)
        self.extensions = [ext for ext in self.extensions if ext.name.startswith(CORE_PREFIX)]
        self.distribution.ext_modules = list(self.extensions)
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        _say(f"warning: the compiled modules failed to build ({type(err).__name__}: {first[:200]}), "
             "pure-Python build (slower, the same results)")


if __name__ == "__main__":
    setup(ext_modules=ext_modules(), cmdclass={"build_ext": OptionalBuildExt})
