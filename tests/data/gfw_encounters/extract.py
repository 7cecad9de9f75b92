"""Writes the labelled encounter fixtures of Global Fishing Watch's encounters pipeline as CSV (facts only).

Source: https://github.com/GlobalFishingWatch/encounters_pipeline, ``tests/series_data.py`` (Apache-2.0),
read from a local clone whose git directory is given as the first argument. Each fixture becomes one CSV
(``time_utc,lat,lon,vessel``); the coordinate tables are parsed as text, nothing of theirs is run.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: fixture name in the source -> our file, and the lists that make it up
FIXTURES = {"simple": ["path_1", "path_2"], "dateline": ["dl_path_1", "dl_path_2"],
            "fastsep": ["fs_path_1", "fs_path_2"], "cross_day": ["cross_day_path_1", "cross_day_path_2"]}
#: the version with the cross-day case (branch hotfix/PIPELINE-2137-day_boundary_missing_encounters)
COMMIT = "16c9ac6d7817b18c13d058947b7eeb2a2878c5ca"
RECORD = re.compile(r'Record\("([^"]+) UTC",\s*([-\d.]+),\s*([-\d.]+),\s*id=\'(\w+)\'\)')


def main(git_dir: str) -> None:
    text = subprocess.run(["git", "--git-dir", git_dir, "show", f"{COMMIT}:tests/series_data.py"], check=True,
                          capture_output=True, text=True).stdout
    for name, lists in FIXTURES.items():
        rows = []
        for lst in lists:
            body = re.search(rf"^{lst} = \[(.*?)^\]", text, re.S | re.M)
            assert body, lst
            for when, lat, lon, vid in RECORD.findall(body.group(1)):
                rows.append((when.replace(" ", "T") + "Z", lat, lon, vid))
        write(name, rows)
    rows = []
    for vid, block in re.findall(r'text_to_records\(str\((mmsi_\d)\), """(.*?)"""', text, re.S):
        mmsi = re.search(rf"^{vid} = (\d+)", text, re.M).group(1)  # type: ignore[union-attr]
        for ln in block.strip().splitlines():
            sec, lat, lon = ln.split(",")[:3]
            rows.append((datetime.fromtimestamp(float(sec), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), lat, lon, mmsi))
    write("real", rows)


def write(name: str, rows: list[tuple[str, str, str, str]]) -> None:
    with (HERE / f"{name}.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time_utc", "lat", "lon", "vessel"])
        w.writerows(rows)
    print(name, len(rows))


if __name__ == "__main__":
    main(sys.argv[1])
