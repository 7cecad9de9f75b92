"""The real recordings give the alert counts written in the README ("Noise: alerts on ordinary days").

Every event left on them is an MMSI no ship may carry (wrong length, an unallocated MID, a factory
default, one MMSI used by two transmitters) or, once, a position no vessel can have.
"""

from __future__ import annotations

from collections import Counter

import pytest

from maritime.config import Settings
from maritime.ingest.sources import parse_source
from maritime.zones.index import load_zones
from tests.conftest import NMEA_DIR, ROOT, Collect, assembled_pipeline

DATA = NMEA_DIR

#: events by kind (type, or identity_anomaly:kind), as the README's table gives them
EXPECTED = {
    "exactearth_20120202_tagblock.nmea": {"identity_anomaly:shared_mmsi": 1, "identity_anomaly:invalid_mmsi": 2,
                                          "identity_anomaly:on_land": 1},
    "amsa_messy_feed.txt": {"identity_anomaly:invalid_mmsi": 19, "identity_anomaly:default_mmsi": 3,
                            "identity_anomaly:shared_mmsi": 1},
    "dma_20100611_tagblock.nmea": {"identity_anomaly:invalid_mmsi": 6, "identity_anomaly:default_mmsi": 3},
    "dma_stream_example_pghp.txt": {"identity_anomaly:invalid_mmsi": 6, "identity_anomaly:default_mmsi": 3},
    "goais_20190216_tagblock.nmea": {"identity_anomaly:invalid_mmsi": 1},
    "kystverket_1000_tagblock.nm4": {},
    "gfw_mixed_types.nmea": {"identity_anomaly:invalid_mmsi": 1},
    "signalk_nais400.log": {"identity_anomaly:invalid_mmsi": 1},
    "gfw_multi_part.nmea": {},
    "gpsd_sample.aivdm": {},
    # read since each source keeps its own clock (its epochs days apart were once refused as late or outliers)
    "libais_test.aivdm": {"identity_anomaly:invalid_mmsi": 7, "identity_anomaly:on_land": 1, "dark_gap": 1},
}


@pytest.fixture(scope="module")
def zones():
    return load_zones(ROOT / "geofences")


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_real_recording_gives_the_readme_counts(name, zones):
    path = DATA / name
    sink = Collect()
    assembled_pipeline(Settings(), [sink], None, zones).replay(parse_source(str(path)))
    last = {a.id: a for a in sink.alerts}
    got = Counter(a.type if a.type != "identity_anomaly" else f"{a.type}:{a.details['anomaly']}"
                  for a in last.values())
    assert dict(got) == EXPECTED[name]
    assert not any(a.type == "position_jump" for a in last.values())
