"""Every ``maritime`` command line in the README's bash blocks runs, as written, from a folder outside the checkout
(the installed console script, the bundled zones as the installed package finds them).

The inputs a command names (``day1.nmea.gz``, ``my_zones/``, ``wdpa.gpkg``) are made first from the simulated day
another README command writes; ``pip install`` lines are what set up this environment, so they are not run again.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def readme_commands() -> list[str]:
    """The ``maritime …`` lines of the README's bash blocks, continuation lines joined, comments dropped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    out: list[str] = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, re.M | re.S):
        for cmd in block.replace("\\\n", " ").splitlines():
            for part in cmd.split("&&"):
                part = part.split(" #")[0].strip()
                if part.startswith("maritime "):
                    out.append(part)
    return out


def make_inputs(work: Path) -> None:
    """What the README's examples read, made from the simulated day in ``day/``."""
    lines = (work / "day" / "traffic.nmea").read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    with gzip.open(work / "day1.nmea.gz", "wb") as fh:
        fh.writelines(lines[:half])
    (work / "day2.nmea").write_bytes(b"".join(lines[half:]))
    (work / "my_zones").mkdir()
    shutil.copy(ROOT / "geofences" / "protected_areas.geojson", work / "my_zones" / "protected_areas.geojson")
    import geopandas as gpd
    from shapely.geometry import box

    gpd.GeoDataFrame({"WDPAID": [555_001], "NAME": ["Test Marine Reserve"]},
                     geometry=[box(-61.10, 13.80, -61.00, 13.90)], crs="EPSG:4326").to_file(work / "wdpa.gpkg")
    # the day in every format of "Your data" (the first hours: enough for the commands to read)
    from maritime.config import Settings
    from maritime.ingest.sources import parse_source
    from maritime.runtime.pipeline import Pipeline
    from tests.unit.ingest import format_writers as write

    records: list = []
    pipe = Pipeline(Settings())
    pipe.add_listener(records.append)
    pipe.replay(parse_source(str(work / "day1.nmea.gz")))
    records = records[:20_000]
    (work / "ais.csv").write_text(write.marinecadastre(records))
    (work / "export.csv").write_text(write.satellite(records))
    (work / "gpsd.json").write_text(write.gpsd(records))
    (work / "snapshots.json").write_text(write.aishub(records))
    (work / "catcher.json").write_text(write.aiscatcher(
        [ln.strip() for ln in lines[:20_000] if ln.startswith(b"\\") and b"c:" in ln and b"VDM," in ln]))
    (work / "positions.csv").write_text(write.marinecadastre(records).replace("BaseDateTime", "Timestamp"))


@pytest.mark.slow
def test_every_readme_command_runs_from_outside_the_checkout(tmp_path):
    commands = readme_commands()
    assert any(c.startswith("maritime demo") for c in commands) and len(commands) >= 10
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "COLUMNS": "120"}
    # the simulated day first: the other examples read it
    order = sorted(commands, key=lambda c: (not c.startswith("maritime simulate"), c.startswith("maritime demo")))
    made = False
    for cmd in order:
        if not made and not cmd.startswith("maritime simulate"):
            make_inputs(work)
            made = True
        args = shlex.split(cmd)
        res = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f"{cmd}\n{res.stdout[-1500:]}\n{res.stderr[-1500:]}"
        assert "Traceback" not in res.stderr, cmd
    assert (work / "demo-out" / "map.html").stat().st_size > 10_000
    assert json.loads((work / "summary.json").read_text())["lines"] == len(
        (work / "day" / "traffic.nmea").read_bytes().splitlines())
    learned = json.loads((work / "learned.geojson").read_text())
    assert learned["type"] == "FeatureCollection"
    imported = json.loads((work / "geofences" / "wdpa.geojson").read_text())["features"]
    assert [f["properties"]["name"] for f in imported] == ["Test Marine Reserve"]
