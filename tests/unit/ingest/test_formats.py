"""Every format of the field gives the alerts the NMEA replay of the same traffic gives, in any row order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maritime.config import Settings
from maritime.ingest import formats
from maritime.ingest.formats.table import parse_time
from maritime.ingest.sources import parse_source
from maritime.models import Position, Record, VesselInfo
from tests.conftest import EXCERPTS_DIR, Collect, assembled_pipeline, meeting, nmea_of, static, track
from tests.unit.ingest import format_writers as write

T0 = 1_747_180_800.0  # 2025-05-14T00:00:00Z
QUICK = Settings.model_validate({"identity": {"land_check": False}})


def scenario() -> list[Record]:
    """A rendezvous, a dark gap, a vessel heard all along, with their static data."""
    recs: list[Record] = list(meeting(3.0))
    recs += track(376000900, T0, T0 + 2 * 3600, 60, 13.2, -61.9, 11.0, 45.0)
    recs += track(376000900, T0 + 9 * 3600, T0 + 10 * 3600, 60, 13.6, -61.5, 11.0, 45.0)
    recs += track(376000901, T0, T0 + 10 * 3600, 300, 12.0, -62.5, 9.0, 90.0)
    recs += [static(376000500, T0 + 60, 70, "SEA BREEZE"), static(377000700, T0 + 60, 52, "TUG ONE"),
             static(376000900, T0 + 120, 30, "DARK STAR"), static(376000901, T0 + 30, 70, "STEADY")]
    return sorted(recs, key=lambda r: r.time_s)


def alerts_of(path: Path, fmt: str = "") -> list[tuple[str, str]]:
    sink = Collect()
    assembled_pipeline(QUICK, [sink]).replay(parse_source(str(path), fmt))
    return [(a.id, a.status) for a in sink.alerts]


def decoded(path: Path) -> tuple[list[Record], list[tuple[str, str]]]:
    """A real recording's accepted records (as the replay met them) and its alerts."""
    sink, seen = Collect(), []
    pipe = assembled_pipeline(QUICK, [sink])
    pipe.add_listener(seen.append)
    pipe.replay(parse_source(str(path)))
    return seen, [(a.id, a.status) for a in sink.alerts]


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> tuple[Path, list[Record], list[tuple[str, str]]]:
    recs = scenario()
    path = tmp_path_factory.mktemp("formats") / "day.nmea"
    path.write_bytes(b"\n".join(nmea_of(recs)) + b"\n")
    got = alerts_of(path)
    assert {i.split(":")[0] for i, _s in got} >= {"rendezvous", "dark_gap"}
    return path, recs, got


WRITERS = {
    "marinecadastre": (write.marinecadastre, "ais.csv", True),
    "satellite": (write.satellite, "export.csv", True),
    "gpsd": (write.gpsd, "gpsd.json", False),
    "aishub": (write.aishub, "snapshots.json", False),
}


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_each_format_gives_the_alerts_of_the_nmea_replay(fmt, day, tmp_path):
    _path, recs, reference = day
    writer, name, _header = WRITERS[fmt]
    out = tmp_path / name
    out.write_text(writer(recs))
    assert formats.detect(str(out)) == fmt
    assert alerts_of(out) == reference


@pytest.mark.parametrize("fmt", ["marinecadastre", "satellite"])
def test_shuffled_and_grouped_by_mmsi_rows_change_nothing(fmt, day, tmp_path):
    _path, recs, reference = day
    text = WRITERS[fmt][0](recs)
    for label, variant in (("shuffled", write.shuffled(text, 7)), ("grouped", write.grouped_by_mmsi(text))):
        out = tmp_path / f"{label}.csv"
        out.write_text(variant)
        assert alerts_of(out) == reference, label


def test_ais_catcher_json_with_and_without_sentences(day, tmp_path):
    path, _recs, reference = day
    out = tmp_path / "catcher.json"
    out.write_text(write.aiscatcher(path.read_bytes().splitlines()))
    assert formats.detect(str(out)) == "aiscatcher"
    assert alerts_of(out) == reference
    out.write_text(write.shuffled(out.read_text(), 3, header=False))
    assert alerts_of(out) == reference


def test_the_newer_marinecadastre_columns_read_the_same(day, tmp_path):
    _path, recs, reference = day
    out = tmp_path / "new.csv"
    out.write_text(write.marinecadastre(recs, newer=True))
    assert formats.detect(str(out)) == "marinecadastre"
    assert alerts_of(out) == reference


@pytest.mark.parametrize("name", ["dma_20100611_tagblock.nmea", "goais_20190216_tagblock.nmea",
                                  "kystverket_1000_tagblock.nm4"])
def test_a_real_recording_written_as_tables_gives_its_alerts(name, tmp_path):
    """The decoded records of a real recording, as MarineCadastre and satellite rows (shuffled): its alerts."""
    recs, reference = decoded(EXCERPTS_DIR / name)
    assert recs
    for fmt in ("marinecadastre", "satellite"):
        out = tmp_path / f"{fmt}.csv"
        out.write_text(write.shuffled(WRITERS[fmt][0](recs), 5))
        assert alerts_of(out) == reference, fmt


def test_a_row_dated_2099_in_a_sorted_table_raises_no_dark_gap(day, tmp_path):
    _path, recs, reference = day
    text = write.marinecadastre(recs)
    lines = text.splitlines()
    mmsi = lines[5].split(",")[0]
    poisoned = lines + [lines[5].replace(lines[5].split(",")[1], "2099-01-01T00:00:00")]
    out = tmp_path / "poisoned.csv"
    out.write_text("\n".join(poisoned) + "\n")
    sink = Collect()
    summary = assembled_pipeline(QUICK, [sink]).replay(parse_source(str(out)))
    assert [(a.id, a.status) for a in sink.alerts] == reference
    assert summary["rejected"] == {"time_outlier": 1}
    assert summary["last_time"] < "2026" and mmsi


def test_base_stations_and_aids_to_navigation_are_no_vessels(tmp_path):
    out = tmp_path / "export.csv"
    out.write_text("MMSI,Message_ID,Time,Latitude,Longitude,SOG,COG,Vessel_Name,Ship_Type\n"
                   "2320001,4,20250514_000000,50.1,-1.0,,,,\n"
                   "992351000,21,20250514_000010,50.2,-1.1,,,BUOY 1,\n"
                   "376000500,1,20250514_000020,13.0,-61.0,10.0,90.0,,\n"
                   "376000500,5,20250514_000030,,,,,SEA BREEZE,70\n")
    seen: list[Record] = []
    pipe = assembled_pipeline(QUICK, [Collect()])
    pipe.add_listener(seen.append)
    summary = pipe.replay(parse_source(str(out)))
    assert summary["messages"] == 4 and summary["messages_by_type"] == {"4": 1, "21": 1, "1": 1, "5": 1}
    assert {r.mmsi for r in seen if isinstance(r, Position)} == {376000500}
    assert [r.name for r in seen if isinstance(r, VesselInfo)] == ["SEA BREEZE"]
    assert summary["vessels"] == 1


def test_aishub_raw_form_xml_and_csv(tmp_path):
    raw = [{"ERROR": False, "FORMAT": "AIS", "RECORDS": 1},
           [{"MMSI": 376000500, "TIME": 1747180800, "LONGITUDE": int(-61.0 * 600_000), "LATITUDE": int(13.0 * 600_000),
             "COG": 900, "SOG": 100, "HEADING": 90, "NAVSTAT": 0, "NAME": "SEA BREEZE", "TYPE": 70}]]
    j = tmp_path / "raw.json"
    j.write_text(json.dumps(raw))
    x = tmp_path / "snap.xml"
    x.write_text('<?xml version="1.0"?><VESSELS><vessel MMSI="376000500" TIME="2025-05-14 00:00:00 GMT" '
                 'LONGITUDE="-61.0" LATITUDE="13.0" COG="90" SOG="10" HEADING="90" NAVSTAT="0" NAME="SEA BREEZE" '
                 'TYPE="70"/></VESSELS>')
    c = tmp_path / "snap.csv"
    c.write_text("MMSI,TIME,LONGITUDE,LATITUDE,COG,SOG,HEADING,NAVSTAT,IMO,NAME,CALLSIGN,TYPE,A,B,C,D,DRAUGHT,DEST,ETA\n"
                 "376000500,2025-05-14 00:00:00 GMT,-61.0,13.0,90,10,90,0,0,SEA BREEZE,J8AB2,70,0,0,0,0,0,CASTRIES,\n")
    for path in (j, x, c):
        assert formats.detect(str(path)) == "aishub", path.name
        seen: list[Record] = []
        pipe = assembled_pipeline(QUICK, [Collect()])
        pipe.add_listener(seen.append)
        pipe.replay(parse_source(str(path)))
        pos = [r for r in seen if isinstance(r, Position)]
        assert len(pos) == 1 and pos[0].lat == pytest.approx(13.0) and pos[0].lon == pytest.approx(-61.0)
        assert pos[0].sog_kn == pytest.approx(10.0) and pos[0].cog_deg == pytest.approx(90.0), path.name
        assert pos[0].time_s == T0


@pytest.mark.parametrize(("text", "want"), [
    ("2025-05-14T00:00:00", T0), ("2025-05-14 00:00:00", T0), ("2025-05-14T00:00:00Z", T0),
    ("2025-05-14 00:00:00 GMT", T0), ("20250514_000000", T0), ("20250514000000", T0), ("14/05/2025 00:00:00", T0),
    ("1747180800", T0), ("1747180800000", T0), ("2025-05-14T02:00:00+02:00", T0), ("", None), ("soon", None)])
def test_the_times_exports_write(text, want):
    assert parse_time(text) == want


def test_a_run_that_reads_nothing_is_an_error_that_says_what_would_read_it(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "positions.txt"  # a table the extension does not announce, with an unknown header
    out.write_text("when;who;where_lat;where_lon\n2025-05-14T00:00:00;376000500;13.0;-61.0\n")
    res = subprocess.run([sys.executable, "-m", "maritime.cli", "replay", str(out), "-q", "--zones", "none"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "nothing decoded" in res.stderr and "--format" in res.stderr
    inspected = subprocess.run([sys.executable, "-m", "maritime.cli", "inspect", str(EXCERPTS_DIR / "gpsd_sample.aivdm"),
                                "--json"], capture_output=True, text=True, timeout=120)
    got = json.loads(inspected.stdout)
    assert inspected.returncode == 0 and got["format"] == "nmea" and got["messages"] > 10
    assert got["rejected"]["comment"] > 0 and got["first_time"]


def test_a_spire_style_export_reads_by_message_type(tmp_path):
    """Spire's names (``msg_type``, ISO ``timestamp``, lower-case fields), rows in delivery order."""
    out = tmp_path / "spire.csv"
    out.write_text("mmsi,msg_type,timestamp,latitude,longitude,speed,course,heading,name,call_sign,imo,ship_type,"
                   "destination,collection_type\n"
                   "376000500,5,2025-05-14T00:20:00Z,,,,,,SEA BREEZE,J8AB2,9234567,70,CASTRIES,satellite\n"
                   "376000500,1,2025-05-14T00:10:00Z,13.0,-61.0,10.0,90.0,90,,,,,,satellite\n"
                   "376000500,1,2025-05-14T00:00:00Z,13.0,-61.05,10.0,90.0,90,,,,,,terrestrial\n"
                   "3160001,4,2025-05-14T00:05:00Z,13.1,-61.2,,,,,,,,,terrestrial\n")
    assert formats.detect(str(out)) == "satellite"
    seen: list[Record] = []
    pipe = assembled_pipeline(QUICK, [Collect()])
    pipe.add_listener(seen.append)
    summary = pipe.replay(parse_source(str(out)))
    assert [type(r).__name__ for r in seen] == ["Position", "Position", "VesselInfo"]
    assert [r.time_s for r in seen] == [T0, T0 + 600, T0 + 1200]
    assert seen[2].destination == "CASTRIES" and seen[2].ship_type == 70 and seen[2].imo == 9234567
    assert {r.source for r in seen[:2]} == {"satellite", "terrestrial"}
    assert summary["vessels"] == 1
