"""'On land' only where a vessel cannot be: the region's rivers, canals and lakes are water.

Natural Earth 10 m land covers navigable rivers, canals and lakes. Inside the
region the project knows them (``INLAND_WATERS``) and judges the rest; outside
it Natural Earth covers too many waterways (the Rhine, the Mississippi, the
Yangtze) to judge, except Antarctica.
"""

from __future__ import annotations

import pytest

from maritime.config import Settings
from maritime.detectors.base import LandMask
from maritime.ingest.sources import parse_source
from maritime.models import Position
from tests.conftest import EXCERPTS_DIR, Collect, assembled_pipeline

REGION = Settings().identity.land_region


@pytest.fixture(scope="module")
def land() -> LandMask:
    return LandMask(Settings().identity.land_margin_m, REGION)


@pytest.mark.parametrize(("name", "lat", "lon"), [
    ("Orinoco at Ciudad Bolívar", 8.14, -63.55), ("Magdalena at El Banco", 9.0, -73.97),
    ("Lago de Nicaragua", 11.5, -85.4), ("Lago de Izabal", 15.5, -89.2), ("Gatun Lake", 9.15, -79.85),
    ("Lake Okeechobee", 26.95, -80.8), ("the Rhine at Cologne", 50.93, 6.97), ("the Mississippi", 38.7, -90.17),
    ("the Yangtze at Chongqing", 29.6, 106.74), ("Rodney Bay", 14.082, -60.958)])
def test_navigable_waters_are_not_land(land, name, lat, lon):
    assert not land.on_land(lat, lon), name


@pytest.mark.parametrize(("name", "lat", "lon"), [
    ("central Cuba", 22.2, -79.9), ("the Venezuelan llanos", 8.9, -66.5), ("the Cordillera Central", 18.9, -70.9),
    ("the Antarctic plateau", -88.1, 9.8)])
def test_where_no_vessel_can_be_is_land(land, name, lat, lon):
    assert land.on_land(lat, lon), name


def test_a_barge_on_the_orinoco_raises_nothing_and_a_fix_in_the_llanos_does():
    sink = Collect()
    pipe = assembled_pipeline(Settings(), [sink])
    t0 = 1_747_180_800.0
    for k in range(30):
        p = Position(775000001, t0 + 60 * k, 8.14, -63.55 + 0.001 * k, 6.0, 90.0, 90, 0, 1, "rx")
        q = Position(775000002, t0 + 60 * k, 8.9, -66.5, 0.0, 0.0, 0, 5, 1, "rx")
        pipe.process(p.time_s, (None, [p, q]))
    pipe.finish()
    on_land = [a.vessels[0].mmsi for a in sink.alerts if a.details.get("anomaly") == "on_land"]
    assert on_land == [775000002]


@pytest.mark.parametrize("name", ["goais_20190216_tagblock.nmea", "kystverket_1000_tagblock.nm4",
                                  "amsa_messy_feed.txt", "dma_20100611_tagblock.nmea", "gfw_mixed_types.nmea"])
def test_inland_and_coastal_receivers_raise_no_on_land(name):
    path = EXCERPTS_DIR / name
    sink = Collect()
    assembled_pipeline(Settings(), [sink]).replay(parse_source(str(path)))
    assert [a.id for a in sink.alerts if a.details.get("anomaly") == "on_land"] == []
