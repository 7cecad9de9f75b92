"""The compiled build (mypyc) and the pure-Python reference: which one runs, why, and that they agree; a build
that cannot compile falls back to pure Python instead of failing."""

from __future__ import annotations

import importlib
import json
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from maritime.buildinfo import COMPILED, build

from tests.conftest import ROOT, recordings



def compiled_here() -> bool:
    """Whether the modules that run are extension modules (a module without a file is not one)."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return any((importlib.import_module(m).__file__ or "").endswith(suffixes) for m in COMPILED)


def setup_namespace(argv: list[str] | None = None) -> dict:
    """``setup.py``'s functions, without running ``setup()`` (it only runs as ``__main__``)."""
    old = sys.argv
    sys.argv = ["setup.py", *(argv or [])]
    try:
        return runpy.run_path(str(ROOT / "setup.py"), run_name="setup_under_test")
    finally:
        sys.argv = old


def ext_modules(argv: list[str]) -> list:
    """What ``setup.py`` would build for the setuptools command in ``argv`` (it reads the command line)."""
    old = sys.argv
    sys.argv = ["setup.py", *argv]
    try:
        return setup_namespace(argv)["ext_modules"]()
    finally:
        sys.argv = old


def test_the_version_says_which_build_runs():
    out = subprocess.run([sys.executable, "-m", "maritime.cli", "--version"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert build() in out
    pure = subprocess.run([sys.executable, "-m", "maritime.cli", "--version"], capture_output=True, text=True,
                          timeout=120, check=True, env={**os.environ, "MARITIME_PURE": "1"}).stdout
    assert "pure Python (MARITIME_PURE=1)" in pure


def test_the_build_is_all_compiled_or_all_pure_and_says_why():
    """Never a mix: compiled modules of one build call each other natively."""
    mypyc_part, core_part = build().rsplit("; ", 1)  # then the typed core's own state (maritime.core.status)
    assert core_part.startswith(("typed core (cython): ", "typed core not in use (")), core_part
    if compiled_here():
        assert mypyc_part == f"compiled (mypyc, {len(COMPILED)} of {len(COMPILED)} modules)"
    else:
        assert mypyc_part.startswith("pure Python (") and len(mypyc_part) > len("pure Python ()") + 10, mypyc_part
        if os.environ.get("MARITIME_PURE") == "1":
            assert mypyc_part == "pure Python (MARITIME_PURE=1)"
            assert core_part == "typed core not in use (lines: MARITIME_PURE=1)"


def test_editable_and_pure_installs_are_not_compiled(monkeypatch, capsys):
    monkeypatch.delenv("MARITIME_PURE", raising=False)
    monkeypatch.delenv("MARITIME_COMPILE", raising=False)
    assert ext_modules(["editable_wheel"]) == []
    assert "editable install: pure-Python build" in capsys.readouterr().err
    monkeypatch.setenv("MARITIME_PURE", "1")
    assert ext_modules(["bdist_wheel"]) == []
    assert "MARITIME_PURE=1" in capsys.readouterr().err


def test_no_compiler_gives_a_pure_build(monkeypatch, capsys):
    monkeypatch.delenv("MARITIME_PURE", raising=False)
    monkeypatch.setenv("CC", "no-such-compiler-here")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert ext_modules(["bdist_wheel"]) == []
    assert "no C compiler found" in capsys.readouterr().err


def test_a_mypyc_error_gives_a_pure_build(monkeypatch, capsys):
    """mypyc reports a type error by exiting: the build goes on, pure."""
    if not shutil.which("gcc"):
        pytest.skip("needs a C compiler to get as far as mypyc")
    pytest.importorskip("mypyc.build")
    import mypyc.build

    def refuses(*args: object, **kwargs: object) -> list:
        raise SystemExit(1)

    monkeypatch.delenv("MARITIME_PURE", raising=False)
    monkeypatch.setattr(mypyc.build, "mypycify", refuses)
    left = ext_modules(["bdist_wheel"])
    assert all(e.name.startswith("maritime.core.") for e in left), "only the typed core is left"
    try:
        import Cython.Build  # noqa: F401
    except ImportError:
        assert left == []
    else:
        assert left, "the typed core stands on its own"
    assert "mypyc failed (SystemExit: 1), pure-Python build" in capsys.readouterr().err


def test_without_cython_the_mypyc_modules_are_still_built(monkeypatch, capsys):
    if not shutil.which("gcc"):
        pytest.skip("needs a C compiler")
    pytest.importorskip("mypyc.build")
    monkeypatch.delenv("MARITIME_PURE", raising=False)
    monkeypatch.setitem(sys.modules, "Cython.Build", None)  # import fails
    ns = setup_namespace(["bdist_wheel"])
    assert ns["core_modules"]() == []
    assert "Cython is not available, the typed core is not built" in capsys.readouterr().err


def build_good_and_bad(tmp_path: Path, good_name: str, bad_name: str, bad_first: bool) -> Any:
    """``OptionalBuildExt`` run on a module that compiles (``good_name``) and one that does not (``bad_name``: a
    file that is not C): its distribution, after the run."""
    from setuptools import Distribution, Extension

    good = tmp_path / "good.c"
    good.write_text('#include <Python.h>\nstatic struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "good"};\n'
                    "PyMODINIT_FUNC PyInit_good(void) { return PyModule_Create(&m); }\n")
    bad = tmp_path / "bad.c"
    bad.write_text("this is not C;\n")
    exts = [Extension(good_name, [str(good)]), Extension(bad_name, [str(bad)])]
    dist = Distribution({"name": "x", "ext_modules": exts[::-1] if bad_first else exts})
    cmd = setup_namespace()["OptionalBuildExt"](dist)
    cmd.build_lib = str(tmp_path / "lib")
    cmd.build_temp = str(tmp_path / "tmp")
    cmd.ensure_finalized()
    cmd.run()
    return dist


def test_a_typed_core_module_that_fails_to_compile_is_left_out_alone(tmp_path, capsys):
    """A compile error in one typed-core module: that module is left out (its pure path runs), the rest stays."""
    if not shutil.which("gcc"):
        pytest.skip("no C compiler on this machine")
    build_good_and_bad(tmp_path, "good", "maritime.core.bad", bad_first=True)
    assert [p.name.split(".")[0] for p in (tmp_path / "lib").glob("*.so")] == ["good"]
    assert "the typed core's maritime.core.bad failed to build" in capsys.readouterr().err


def test_a_c_compile_error_falls_back_to_pure(tmp_path, capsys):
    """A real compile error (gcc on a file that is not C): the command removes what it built and goes on."""
    if not shutil.which("gcc"):
        pytest.skip("no C compiler on this machine")
    dist = build_good_and_bad(tmp_path, "good", "bad", bad_first=False)
    assert dist.ext_modules == []
    assert not list((tmp_path / "lib").glob("*.so")), "a partial build was left"
    assert "the compiled modules failed to build" in capsys.readouterr().err


def test_a_compiled_module_older_than_its_source_is_not_run(tmp_path):
    """An in-place build, then an edit: the edit runs (all modules pure), and the reason is given."""
    pkg = tmp_path / "maritime"
    pkg.mkdir()
    shutil.copy(ROOT / "maritime" / "buildinfo.py", pkg / "buildinfo.py")
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    for name in COMPILED:
        rel = tmp_path.joinpath(*name.split("."))
        base = rel / "__init__" if (ROOT.joinpath(*name.split(".")) / "__init__.py").exists() else rel
        base.parent.mkdir(parents=True, exist_ok=True)
        base.with_suffix(".py").write_text("")
        Path(str(base) + suffix).write_bytes(b"")
        os.utime(base.with_suffix(".py"), (1_000_000, 1_000_000))
    info = runpy.run_path(str(pkg / "buildinfo.py"))
    assert info["stale_modules"]() == []
    edited = COMPILED[3]
    rel = tmp_path.joinpath(*edited.split("."))
    source = rel / "__init__.py" if rel.is_dir() else rel.with_suffix(".py")
    source.write_text("# edited\n")
    assert info["stale_modules"]() == [edited]
    assert not info["editable_install"]() or True  # a temporary tree is never site-packages


def test_compiled_and_pure_give_the_same_alerts_and_summary(tmp_path):
    """Every recording excerpt replayed by both builds: byte-identical alerts and the same counts."""
    if not compiled_here():
        pytest.skip("this install is pure Python (an editable install): .ci/run compiles it in place "
                    "(MARITIME_COMPILE=1 pip install -e .) and runs this test on the compiled build")
    outs = {}
    for label, env in (("default", {}), ("pure", {"MARITIME_PURE": "1"})):
        alerts, summary = tmp_path / f"{label}.jsonl", tmp_path / f"{label}.json"
        subprocess.run([sys.executable, "-m", "maritime.cli", "replay", *map(str, recordings()), "--alerts",
                        str(alerts), "--summary-json", str(summary), "--start-time", "2024-01-01T00:00:00Z", "-q",
                        "-j", "1"], check=True, timeout=600, env={**os.environ, **env})
        s = json.loads(summary.read_text())
        s.pop("seconds", None)
        s.pop("lines_per_s", None)
        outs[label] = (alerts.read_text(), s)
    assert outs["default"][0] and outs["default"] == outs["pure"]


def test_every_package_of_the_tree_is_in_the_wheel():
    """``pip install .`` ships what pyproject lists: a package left out installs, then fails on import."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    tree = {".".join(p.parent.relative_to(ROOT).parts) for top in ("maritime", "streams")
            for p in (ROOT / top).rglob("__init__.py")}
    assert tree <= listed, sorted(tree - listed)
