"""The declared voyage: destination text read as a port (or honestly unknown), ETAs without a year."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from maritime.destination import clean_destination, resolve_eta
from maritime.zones.ports import BUNDLED, PortIndex, build_port_index
from tests.conftest import ROOT, SHARED, nmea_of, voyage_day

WPI = SHARED / "data" / "zones" / "caribbean_wpi_ports.geojson"

#: real-style free texts, each with the port it names (LOCODE or the gazetteer's id) or None for unknown
TEXTS = [
    ("CASTRIES", "LCCAS"), ("ST LUCIA", "LCCAS"), ("ST.LUCIA", "LCCAS"), ("LC CAS", "LCCAS"), ("LCCAS", "LCCAS"),
    ("CASTRIES>BRIDGETOWN", "BBBGI"), ("LCCAS>BBBGI", "BBBGI"), ("BRIGETOWN", "BBBGI"), ("BRIDGETOWN@@@@@@@@@@", "BBBGI"),
    ("BARBADOS", "BBBGI"), ("PORT OF SPAIN", "TTPOS"), ("PT OF SPAIN", "TTPOS"), ("TT POS", "TTPOS"),
    ("TRINIDAD", "TTPOS"), ("PT LISAS", "TTPTS"), ("KINGSTON", "JMKIN"), ("KINGSTON JAMAICA", "JMKIN"),
    ("JMKIN", "JMKIN"), ("KINGSTOWN", "VCKTN"), ("ST VINCENT", "VCKTN"), ("ST. GEORGES", "GDSTG"),
    ("FORT DE FRANCE", "MQFDF"), ("FORT-DE-FRANCE", "MQFDF"), ("POINTE A PITRE", "GPPTP"), ("WILLEMSTAD", "CWWIL"),
    ("CURACAO", "CWWIL"), ("PHILIPSBURG SXM", "SXPHI"), ("SAN JUAN", "PRSJU"), ("SAN JUAN PR", "PRSJU"),
    ("ROSEAU DOMINICA", "DMRSU"), ("CASTRIS", "LCCAS"), ("MONTEGO BAY", "JMMBJ"), ("SANTO DOMINGO", "DOSDQ"),
    ("NASSAU", "BSNAS"), ("PUERTO CABELLO", "VEPBL"), ("HAVANA", "CUHAV"),
    # abbreviations, a voyage cut at the 20-character limit, a marina crews name, the code list's other ports
    ("STO DGO", "DOSDQ"), ("PTO CABELLO", "VEPBL"), ("SANTO DOMINGO>SAN JU", "PRSJU"), ("RODNEY BAY", "LCGRI"),
    ("SCARBOROUGH", "TTSCA"), ("STATIA", "BQEUX"), ("LA ROMANA", "wpi-do-la-romana"), ("BARCADERA", "AWBAR"),
    # unknown, never guessed
    ("FOR ORDERS", None), ("ROTTERDAM", None), ("FISHING", None), ("GEORGETOWN", None),  # Guyana or Cayman?
    ("BARBADOS ST LUCIA", None), ("KINGSTON>", None), ("", None), ("@@@@@@@@@@@@@@@@@@@@", None), ("A", None), ("\x00\x07\x1b", None),
]


@pytest.fixture(scope="module")
def index() -> PortIndex:
    return PortIndex.load()


@pytest.mark.parametrize(("text", "expected"), TEXTS)
def test_destination_text_reads_as_its_port_or_unknown(index, text, expected):
    m = index.match(text)
    got = m.port.locode or m.port.id if m.port else None
    assert got == expected, (text, m)
    if expected is None:
        assert m.confidence == 0.0 and m.method in ("unknown", "ambiguous", "empty")
    else:
        assert 0.7 <= m.confidence <= 1.0


def test_an_ambiguous_name_lists_the_ports_it_may_mean(index):
    m = index.match("GEORGETOWN")
    assert m.method == "ambiguous" and set(m.candidates) == {"GYGEO", "KYGEC"}
    m = index.match("ORANJESTAD")  # Aruba's, or Sint Eustatius'
    assert m.method == "ambiguous" and set(m.candidates) == {"AWORJ", "BQEUX"}


@pytest.mark.parametrize(("text", "country", "region", "covers", "not_covers"), [
    ("TOBAGO", "TT", "TOB", "TTSCA", "TTPOS"), ("MONTSERRAT", "MS", None, "port-ms-plymouth", "AGSJO"),
    ("ANGUILLA", "AI", None, None, "SXPHI"), ("US VIRGIN ISLANDS", "VI", None, "VISTT", "VGRAD"),
    ("TRINIDAD AND TOBAGO", "TT", None, "TTPOS", "BBBGI")])
def test_an_island_or_a_country_is_a_country_level_answer(index, text, country, region, covers, not_covers):
    m = index.match(text)
    assert m.port is None and m.method == "country" and (m.country, m.region) == (country, region), m
    assert m.place and 0.7 <= m.confidence < 1.0
    if covers is not None:
        assert covers in m.candidates and m.covers(index.by_id[covers])
    assert not m.covers(index.by_id[not_covers])


def test_malformed_text_is_cleaned_not_matched():
    assert clean_destination("@@@@@@@@@@@@@@@@@@@@") == ""
    assert clean_destination("castries\x00\x1b@@@@") == "CASTRIES"
    assert clean_destination(None) == ""


def test_eta_without_a_year_across_new_year():
    dec30 = datetime(2025, 12, 30, 12, tzinfo=UTC).timestamp()
    jan2 = datetime(2026, 1, 2, 6, tzinfo=UTC).timestamp()
    # a December report of a 2 January arrival: next year
    assert resolve_eta(1, 2, 14, 30, dec30) == datetime(2026, 1, 2, 14, 30, tzinfo=UTC).timestamp()
    # a 2 January report still showing 31 December: last year (a late ETA the crew did not update)
    assert resolve_eta(12, 31, 23, 0, jan2) == datetime(2025, 12, 31, 23, 0, tzinfo=UTC).timestamp()
    # hour 24 and minute 60 mean "not available": the day is kept
    assert resolve_eta(3, 5, 24, 60, dec30) == datetime(2026, 3, 5, 0, 0, tzinfo=UTC).timestamp()
    # no month or day, or a date that does not exist: no ETA
    assert resolve_eta(0, 0, 24, 60, dec30) is None
    assert resolve_eta(2, 30, 12, 0, dec30) is None
    assert resolve_eta(13, 1, 0, 0, dec30) is None
    # a leap day resolves to the year that has one
    assert resolve_eta(2, 29, 0, 0, datetime(2027, 12, 1, tzinfo=UTC).timestamp()) == \
        datetime(2028, 2, 29, tzinfo=UTC).timestamp()


@pytest.mark.shared_data
def test_the_bundled_gazetteer_is_what_the_build_makes(tmp_path):
    """maritime/zones/ports_index.json is reproducible from the LOCODE table, the port zones and the WPI."""
    from maritime.zones.index import load_zones

    zones = [z for z in load_zones(ROOT / "geofences" / "ports.geojson").zones
             if z.kind == "port"]
    built = build_port_index(zones, json.loads(WPI.read_text()))
    bundled = PortIndex.load()
    assert [p.as_dict() for p in built] == [p.as_dict() for p in bundled.ports]
    assert len(bundled) > 200 and sum(1 for p in bundled.ports if p.locode) >= 60
    # every port zone is in it, with its position
    ids = {p.zone_id for p in bundled.ports}
    assert {z.id for z in zones} <= ids


def test_gazetteer_file_is_in_the_package_data():
    assert Path(BUNDLED).is_file()


def test_a_type_5_report_carries_its_eta_in_time():
    """The decoder puts the ETA of a type 5 report in time, next to the report's own time (no year in AIS)."""
    from pyais import encode_dict

    from maritime.ingest.ais import AisDecoder
    from maritime.models import VesselInfo

    line = encode_dict({"msg_type": 5, "mmsi": 376000500, "shipname": "SEA BREEZE", "callsign": "J8AB",
                        "ship_type": 70, "destination": "CASTRIES@@@@@@@@@@@@", "month": 1, "day": 3, "hour": 14,
                        "minute": 30, "draught": 6.1})
    t0 = int(datetime(2025, 12, 31, 22, tzinfo=UTC).timestamp())
    dec = AisDecoder("t")
    got = []
    for part in line:
        r = dec.decode_line(f"\\c:{t0}*00\\{part}".encode())
        if r is not None:
            got.extend(x for x in r[1] if isinstance(x, VesselInfo))
    assert len(got) == 1 and got[0].destination == "CASTRIES"
    assert got[0].eta_s == datetime(2026, 1, 3, 14, 30, tzinfo=UTC).timestamp()


# -- the voyage detector ---------------------------------------------------------------------------------


def test_a_destination_changed_after_a_dark_gap_and_an_undeclared_arrival(zone_index):
    from tests.conftest import run_detectors

    alerts = run_detectors(voyage_day(), zone_index)
    by_type = {a.type: a for a in alerts if a.type in ("destination_change", "arrival_undeclared")}
    assert set(by_type) == {"destination_change", "arrival_undeclared"}
    change = by_type["destination_change"]
    assert change.severity == "high" and change.details["from_port"] == "VCKTN"
    assert change.details["to_port"] == "LCCAS" and change.details["preceded_by"][0]["type"] == "dark_gap"
    arrival = by_type["arrival_undeclared"]
    assert arrival.details["port"] == "LCVIF" and arrival.severity == "high"
    assert arrival.details["declared_ports"] == ["VCKTN", "LCCAS"]
    assert sum(1 for a in alerts if a.type in ("destination_change", "arrival_undeclared")) == 2


def test_ordinary_voyages_raise_nothing(zone_index):
    """Rewording the same port, declaring the port it reaches, an island name that covers the port, or
    declaring nothing: no voyage alert."""
    from maritime.models import Position, VesselInfo
    from tests.conftest import T0, run_detectors, track

    def arrive(mmsi: int, texts: list[str]) -> list:
        recs: list = [VesselInfo(mmsi, T0 + 200 * i + 40 * k, name="X", ship_type=70, destination=txt, msg_type=5,
                                 source="test") for i, txt in enumerate(texts) for k in range(3)]
        recs += track(mmsi, T0, T0 + 3600, 600, 13.60, -60.80, 8.0, 300.0)
        recs += [Position(mmsi, T0 + 3600 + 300 * k, 13.723, -60.955, 0.3, 0.0, 0, 5, 1, "test") for k in range(4)]
        return recs

    recs = (arrive(376000501, ["VIEUX FORT", "LCVIF"]) + arrive(376000502, ["ST LUCIA"])
            + arrive(376000503, []) + arrive(376000504, ["FOR ORDERS"]))
    alerts = run_detectors(recs, zone_index)
    assert [a for a in alerts if a.type in ("destination_change", "arrival_undeclared")] == []


def test_one_damaged_report_changes_nothing(zone_index):
    """A single report with another text (a fragment of another message) is not a change, nor is its undoing:
    a new destination counts once two reports in a row carry it."""
    from maritime.models import VesselInfo
    from tests.conftest import run_detectors

    recs = [r for r in voyage_day() if not (isinstance(r, VesselInfo) and r.destination == "LC CAS")]
    t = max(r.time_s for r in recs if isinstance(r, VesselInfo))
    recs.append(VesselInfo(376000500, t + 7 * 3600 + 30, name="SEA BREEZE", ship_type=70, destination="CASTRIES<",
                           msg_type=5, source="test"))
    alerts = run_detectors(recs, zone_index)
    assert [a for a in alerts if a.type == "destination_change"] == []


def test_malformed_destinations_are_counted_not_matched(zone_index):
    from maritime.config import Settings
    from maritime.detectors.tracker import Tracker
    from maritime.detectors.voyage import VoyageDetector
    from maritime.models import VesselInfo
    from maritime.zones.ports import PortIndex

    det = VoyageDetector(Settings().voyage, Tracker(), zone_index, PortIndex.load())
    tr = det.tracker
    for i, text in enumerate(["\x00\x01\x02", "@@@@@@@@@@@@@@@@@@@@", "", "CASTRIES\x07", "CASTRIES", "CASTRIES"]):
        info = VesselInfo(376000600, 1.7e9 + 60 * i, destination=text)
        assert det.on_static(info, tr.on_static(info)) == []
    assert det.malformed == 1 and det.blank == 2  # control characters only; "" and the @ padding: none given
    assert det.state[376000600].port == "LCCAS"


def test_voyage_alerts_are_the_same_in_the_partitioned_runtime(zone_index, tmp_path):
    """The scripted voyage (declared, dark, changed at sea, arrived undeclared) gives the same alert ids,
    statuses and severities embedded and partitioned (1 and 3 partitions, with restarts from the tables)."""
    from maritime.config import Settings
    from maritime.ingest.sources import parse_source
    from maritime.runtime.partitioned import run_partitioned
    from tests.conftest import Collect, assembled_pipeline

    lines = nmea_of(voyage_day())
    day = tmp_path / "voyage.nmea"
    day.write_bytes(b"\n".join(lines) + b"\n")

    def final(alerts) -> dict:
        return {a.id: (a.status, a.severity) for a in alerts if a.type in ("destination_change", "arrival_undeclared")}

    sink = Collect()
    assembled_pipeline(Settings(), [sink], None, zone_index).replay(parse_source(str(day)))
    embedded = final(sink.alerts)
    assert sorted(k.split(":")[0] for k in embedded) == ["arrival_undeclared", "destination_change"]
    assert set(embedded.values()) == {("open", "high")}
    batches = [("rx", lines[i:i + 7], None) for i in range(0, len(lines), 7)]
    for parts, restart in ((1, 0), (3, 3)):
        got = final(run_partitioned(batches, Settings(), zone_index, parts, restart_every=restart))
        assert got == embedded, (parts, got, embedded)


def test_a_stale_destination_of_the_port_just_left_raises_nothing(zone_index):
    """Leaving Castries still declaring Castries, then setting Kingstown at sea, then calling at Kingstown:
    the ordinary way crews update the destination; and calling elsewhere with only the stale port declared
    says nothing either."""
    from maritime.models import Position, VesselInfo
    from tests.conftest import T0, run_detectors

    def run(mmsi: int, later_text: str | None, to: tuple[float, float]) -> list:
        recs: list = [VesselInfo(mmsi, T0 + 60 * k, name="X", ship_type=70, destination="CASTRIES", msg_type=5,
                                 source="test") for k in range(3)]
        recs += [Position(mmsi, T0 + 300 * k, 14.012, -60.995, 0.2, 0.0, 0, 5, 1, "test") for k in range(4)]
        a, n = (14.012, -60.995), 20
        for k in range(1, n + 1):  # out of Castries and down the coast
            f = k / n
            recs.append(Position(mmsi, T0 + 1200 + 900 * k, a[0] + (to[0] - a[0]) * f, a[1] + (to[1] - a[1]) * f,
                                 9.0, 190.0, 190, 0, 1, "test"))
        if later_text:
            recs += [VesselInfo(mmsi, T0 + 1200 + 900 * 5 + 60 + 360 * k, name="X", ship_type=70,
                                destination=later_text, msg_type=5, source="test") for k in range(3)]
        recs += [Position(mmsi, T0 + 1200 + 900 * n + 300 * k, to[0], to[1], 0.2, 0.0, 0, 5, 1, "test")
                 for k in range(1, 4)]
        return recs

    alerts = run_detectors(run(376000700, "KINGSTOWN", (13.155, -61.23)) + run(376000701, None, (13.723, -60.955)),
                           zone_index)
    assert [a for a in alerts if a.type in ("destination_change", "arrival_undeclared")] == []


def test_the_run_summary_counts_unreadable_destinations(zone_index):
    from maritime.config import Settings
    from maritime.models import VesselInfo
    from maritime.runtime.assembly import Assembly
    from maritime.runtime.pipeline import Pipeline
    from tests.conftest import T0

    pipe = Pipeline(Settings(), assembly=Assembly(Settings(), zone_index), sinks=[])
    for i, text in enumerate(["\x01\x02", "@@@@@@@@@@@@@@@@@@@@", "CASTRIES"]):
        info = VesselInfo(376000900, T0 + 60 * i, destination=text)
        pipe.process(info.time_s, (None, [info]))
    pipe.finish()
    assert pipe.summary()["destinations"] == {"malformed": 1, "blank": 1}


def test_the_port_zone_a_point_is_in_is_shapely_s_answer(zone_index):
    """Random points in and around every bundled port zone: the port zone the detector finds (its index of port
    zones, sub-cells and all, without the answer cache) is the first of the ports near whose geometry holds the
    point, as ``contains_xy`` says."""
    import numpy as np
    import shapely

    from maritime.config import Settings
    from maritime.detectors.tracker import Tracker
    from maritime.detectors.voyage import VoyageDetector
    from maritime.zones.ports import PortIndex

    det = VoyageDetector(Settings().voyage, Tracker(), zone_index, PortIndex.load())
    rng = np.random.default_rng(11)
    inside = 0
    for _z, (x0, y0, x1, y1) in det._port_zones[:40]:
        for lon, lat in zip(rng.uniform(x0 - 0.01, x1 + 0.01, 150), rng.uniform(y0 - 0.01, y1 + 0.01, 150),
                            strict=True):
            cands = det._ports_near(float(lat), float(lon))
            held = det._in_port.containing_idx(float(lat), float(lon))
            ours = next((c for c, _p, i in cands if i in held), None)
            want = next((c for c, _p, _i in cands if shapely.contains_xy(c.geometry, lon, lat)), None)
            assert ours is want, (lat, lon)
            inside += want is not None
    assert inside > 500
