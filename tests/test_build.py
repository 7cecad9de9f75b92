"""The compiled build (mypyc) and the pure-Python reference: which one runs, and that they agree."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys

import pytest

from maritime.buildinfo import COMPILED, build
from tests.conftest import SHARED

RECORDING = SHARED / "data" / "nmea" / "amsa_messy_feed.txt"


def compiled_here() -> bool:
    return any(not (importlib.import_module(m).__file__ or "").endswith(".py") for m in COMPILED)


def test_the_version_says_which_build_runs():
    out = subprocess.run([sys.executable, "-m", "maritime.cli", "--version"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert build() in out
    pure = subprocess.run([sys.executable, "-m", "maritime.cli", "--version"], capture_output=True, text=True,
                          timeout=120, check=True, env={**os.environ, "MARITIME_PURE": "1"}).stdout
    assert "pure Python (MARITIME_PURE=1)" in pure


def test_a_machine_with_a_compiler_runs_the_compiled_build():
    """The install compiles the hot modules where gcc is (as on every machine here); MARITIME_PURE=1 at run
    time takes the pure modules instead, every one of them."""
    if os.environ.get("MARITIME_PURE") == "1":
        assert not compiled_here()
        return
    if not shutil.which("gcc"):
        pytest.skip("no C compiler on this machine: the install is pure Python")
    assert build() == f"compiled (mypyc, {len(COMPILED)} of {len(COMPILED)} modules)"


def test_compiled_and_pure_give_the_same_alerts_and_summary(tmp_path):
    """The same recording replayed by both builds: byte-identical alerts and the same counts."""
    if not RECORDING.exists():
        pytest.skip(f"{RECORDING} is not here (shared test data)")
    outs = {}
    for label, env in (("default", {}), ("pure", {"MARITIME_PURE": "1"})):
        alerts, summary = tmp_path / f"{label}.jsonl", tmp_path / f"{label}.json"
        subprocess.run([sys.executable, "-m", "maritime.cli", "replay", str(RECORDING), "--alerts", str(alerts),
                        "--summary-json", str(summary), "--start-time", "2024-01-01T00:00:00Z", "-q"],
                       check=True, timeout=600, env={**os.environ, **env})
        import json

        s = json.loads(summary.read_text())
        s.pop("seconds", None)
        s.pop("lines_per_s", None)
        outs[label] = (alerts.read_text(), s)
    assert outs["default"][0] and outs["default"] == outs["pure"]
