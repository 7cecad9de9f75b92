"""A slim install (README, "Install"): the embedded runtime runs without Faust, Redis or aiohttp.

The slim install is ``pip install --no-deps caribbean-mda`` plus ``requirements/core.txt``. Here the optional
packages are made unimportable in a child interpreter, as if they were not installed.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from maritime.cli import OPTIONAL_PACKAGES
from maritime.sim.simulator import Simulator
from tests.conftest import ROOT

#: the full install's distributions that a slim install leaves out
OPTIONAL_DISTRIBUTIONS = {"faust-streaming", "orjson", "redis", "aiohttp", "aiohttp-sse"}  # orjson: Faust's serialiser

BLOCKED_MAIN = f"""
import importlib.abc, sys
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {sorted(OPTIONAL_PACKAGES)!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, NotInstalled())
from maritime.cli import main
sys.argv = ["maritime", *sys.argv[1:]]
main()
"""


def slim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCKED_MAIN, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def name_of(requirement: str) -> str:
    for sep in "<>=!~[; ":
        requirement = requirement.split(sep)[0]
    return requirement.strip().lower()


def test_the_core_requirements_are_the_package_dependencies_less_the_optional_ones():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = [ln.strip() for ln in (ROOT / "requirements" / "core.txt").read_text().splitlines()]
    core = [ln for ln in lines if ln and not ln.startswith("#")]
    assert {name_of(d) for d in deps} - OPTIONAL_DISTRIBUTIONS == {name_of(c) for c in core}
    # the same version floors
    assert sorted(d for d in deps if name_of(d) not in OPTIONAL_DISTRIBUTIONS) == sorted(core)


def test_replay_with_zones_and_a_map_runs_without_faust_redis_or_aiohttp(tmp_path, grid, zone_index):
    sim = Simulator(2, 12, seed=3, zones=zone_index, grid=grid)
    sim.build()
    sim.write(tmp_path)
    r = slim("replay", "traffic.nmea", "--alerts", "alerts.jsonl", "--map", "map.html", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "map.html").stat().st_size > 10_000
    assert (tmp_path / "alerts.jsonl").exists()


def test_a_command_that_needs_an_optional_package_says_so(tmp_path):
    r = slim("serve", "--redis", "redis://127.0.0.1:6379/0", cwd=tmp_path)
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "slim install" in r.stderr and "pip install caribbean-mda" in r.stderr
    assert "Traceback" not in r.stderr
