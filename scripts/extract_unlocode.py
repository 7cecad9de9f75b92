"""Writes ``maritime/zones/unlocode_caribbean.csv``: the wider Caribbean's ports in the UN/LOCODE code list.

Source: UNECE UN/LOCODE, release 2023-1 (``2023-1 UNLOCODE CodeListPart1..3.csv`` and
``2023-1 SubdivisionCodes.csv``, as published by UNECE and shipped in the PyPI package ``pyunlocode`` 0.1.0).
Give the folder holding those files. Kept: every location of the region's countries and territories whose
function classifier has ``1`` (port), or whose code the crew-form table (:mod:`maritime.zones.locodes`) names,
with its subdivision and its coordinates in decimal degrees; and, as ``kind = country`` or ``island`` rows,
the country names (the list's ``.NAME`` header rows) and the subdivisions that are islands.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from maritime.zones.locodes import LOCODES  # noqa: E402
from maritime.zones.ports import ISO3_TO_2  # noqa: E402

OUT = ROOT / "maritime" / "zones" / "unlocode_caribbean.csv"
#: countries with coasts elsewhere too: only their Caribbean and Gulf of Mexico subdivisions
PARTIAL = {"US": {"FL", "PR", "VI"}, "MX": {"QR", "YUC", "CAM", "TAB", "VER", "TAM"},
           "CO": {"ATL", "BOL", "MAG", "SAP", "LAG", "COR", "SUC", "CES"}, "FR": set()}
#: subdivision types that are islands (or an island group) a crew may name as its destination
ISLAND_TYPES = {"ward", "dependency", "special municipality", "island", "island council", "state", "parish"}
#: island subdivisions kept (by country and code): the ones that are an island of their own
ISLANDS = {("TT", "TOB"), ("AG", "10"), ("AG", "11"), ("BQ", "BO"), ("BQ", "SA"), ("BQ", "SE"),
           ("GD", "10"), ("KN", "K"), ("KN", "N"), ("VC", "06")}


def coords(text: str) -> tuple[str, str]:
    """``1401N 06058W`` -> ("14.0167", "-60.9667")."""
    try:
        la, lo = text.split()
        lat = (int(la[:2]) + int(la[2:4]) / 60) * (1 if la[4] == "N" else -1)
        lon = (int(lo[:3]) + int(lo[3:5]) / 60) * (1 if lo[5] == "E" else -1)
    except (ValueError, IndexError):
        return "", ""
    return f"{lat:.4f}", f"{lon:.4f}"


def main(folder: str) -> None:
    src = Path(folder)
    countries = set(ISO3_TO_2.values())
    rows: list[list[str]] = []
    for part in sorted(src.glob("*CodeListPart*.csv")):
        with part.open(encoding="latin-1", newline="") as f:
            for r in csv.reader(f):
                if len(r) < 11 or r[1] not in countries:
                    continue
                cc, code, name, ascii_name, sub, func = r[1], r[2], r[3], r[4], r[5], r[6]
                if not code:
                    if name.startswith(".") and cc not in PARTIAL:
                        rows.append([cc, "", name[1:].strip().title(), "", "", "country", "", ""])
                    continue
                if cc in PARTIAL and sub not in PARTIAL[cc] and cc + code not in LOCODES:
                    continue
                if not func.startswith("1") and cc + code not in LOCODES:
                    continue
                lat, lon = coords(r[10])
                rows.append([cc, cc + code, name.strip(), ascii_name.strip(), sub, "port", lat, lon])
    with next(src.glob("*SubdivisionCodes.csv")).open(encoding="latin-1", newline="") as f:
        for r in csv.reader(f):
            if len(r) >= 3 and (r[0], r[1]) in ISLANDS:
                rows.append([r[0], f"{r[0]}-{r[1]}", r[2].strip(), r[2].strip(), r[1], "island", "", ""])
    rows.sort(key=lambda x: (x[0], x[5] != "country", x[1]))
    with OUT.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["country", "code", "name", "name_ascii", "subdivision", "kind", "lat", "lon"])
        w.writerows(rows)
    print(f"{OUT.relative_to(ROOT)}: {len(rows)} rows")


if __name__ == "__main__":
    main(sys.argv[1])
