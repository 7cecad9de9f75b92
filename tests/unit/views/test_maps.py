"""The replay map: self-contained (works offline), one marker per alert, names escaped."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from maritime.models import Alert, Position, VesselInfo, VesselRef
from maritime.views.maps import CLUSTER_ABOVE, TrackCollector, replay_map
from tests.conftest import ARTIFACTS, ROOT

T0 = 1_747_209_600.0


def alerts() -> list[dict]:
    evil = VesselRef(376000500, name="<script>alert(1)</script>", ship_type=70, flag="VC")
    out = []
    for i, kind in enumerate(["dark_gap", "rendezvous", "loitering", "geofence_entry"]):
        out.append(Alert(f"{kind}:x{i}", kind, "open", "high", T0 + i, T0, None, (evil,), 13.0 + i * 0.1, -61.0,
                         f"summary {i} <b>bold</b>", details={"k": i}).as_dict())
    return out


def replay_data(page: str) -> dict:
    """The JSON a replay map's script draws from."""
    import json

    m = re.search(r"<script type='application/json' id='mda-replay-data'>(.*?)</script>", page, re.S)
    assert m, "the replay map carries its data"
    return json.loads(m.group(1))


def test_map_is_self_contained_and_escapes_names(tmp_path):
    tracks = TrackCollector(every_s=60)
    tracks(VesselInfo(376000500, T0, name="<img src=x onerror=alert(2)>", ship_type=70))
    for k in range(30):
        tracks(Position(376000500, T0 + 60 * k, 13.0 + k * 0.01, -61.0, 10, 0, 0, 0, 1, "t"))
    out = replay_map(alerts(), tmp_path / "m.html", tracks=tracks)
    page = out.read_text()
    assert not re.search(r'<(script|img)[^>]+src="https?://|<link[^>]+href="https?://', page), \
        "no asset may be fetched from the network"
    assert "L.map(" in page and "Leaflet 1.9.4" in page
    # names reach the page only as JSON data (``</`` escaped) that the page inserts as text
    assert "<script>alert(1)</script>" not in page and "<script>alert(1)<\\/script>" in page
    assert "<img src=x" not in page


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed")
def test_map_draws_one_marker_per_alert_in_chromium(tmp_path):
    tracks = TrackCollector(every_s=60)
    for k in range(120):
        tracks(Position(376000500, T0 + 60 * k, 13.0 + k * 0.002, -61.0, 10, 0, 0, 0, 1, "t"))
        tracks(Position(377000700, T0 + 60 * k, 14.0, -61.5 + k * 0.002, 10, 90, 90, 0, 1, "t"))
    out = replay_map(alerts(), tmp_path / "m.html", tracks=tracks)
    res = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'prof'}",
         "--virtual-time-budget=5000", "--dump-dom", out.as_uri()],
        capture_output=True, text=True, timeout=120)
    dom = res.stdout
    assert "leaflet-container" in dom, res.stderr[-2000:]
    assert len(re.findall(r'class="[^"]*alert-marker', dom)) == 4
    assert len(re.findall(r'class="[^"]*vessel-track', dom)) == 2  # one line per vessel
    # the time slider shows each vessel where it was at the slider's time
    assert len(re.findall(r'class="[^"]*timeline-vessel', dom)) == 2 and 'id="mda-slider"' in dom
    shot = Path(tmp_path / "m.png")
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--no-first-run", f"--user-data-dir={tmp_path / 'prof2'}", "--window-size=1200,800",
                    "--virtual-time-budget=5000", f"--screenshot={shot}", out.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "replay-map.png")


def test_map_command_with_tracks_and_zones(tmp_path):
    import json
    import sys

    from tests.conftest import BASE, line

    nmea = tmp_path / "t.nmea"
    nmea.write_bytes(b"\n".join(line(BASE + 60 * i, i) for i in range(20)) + b"\n")
    al = tmp_path / "a.jsonl"
    al.write_text("\n".join(json.dumps(a) for a in alerts()) + "\n")
    out = tmp_path / "m.html"
    res = subprocess.run([sys.executable, "-m", "maritime.cli", "map", str(al), "--out", str(out), "--tracks",
                          str(nmea), "--zones", str(ROOT / "geofences")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    page = out.read_text()
    data = replay_data(page)
    assert len(data["alerts"]) == 4 and data["timeline"] is not None and "Zones" in page
    assert ("Vessel tracks" in page or "Tracks of vessels in alerts" in page)


def test_large_replays_open_on_clusters(tmp_path):
    many = []
    for i in range(CLUSTER_ABOVE + 100):
        a = alerts()[i % 4]
        many.append({**a, "id": f"{a['id']}-{i}", "position": {"lat": 12 + (i % 20) * 0.7, "lon": -80 + (i // 20)}})
    page = replay_map(many, tmp_path / "m.html").read_text()
    assert "Alert clusters" in page and page.count("alert-cluster") >= 20
    data = replay_data(page)
    assert data["many"] is True and len(data["alerts"]) == CLUSTER_ABOVE + 100  # each one a click away


def test_offline_basemap_has_no_slivers_between_countries():
    """Countries share their borders in the coastline basemap: no thin gap between them is drawn as a line."""
    import shapely
    from shapely.geometry import shape

    from maritime.views.maps import coastline

    land = shape(coastline((-95.0, 2.0, -53.0, 33.0))["geometry"])
    holes = [shapely.Polygon(r) for p in shapely.get_parts(land) for r in p.interiors]
    assert not [h for h in holes if h.area < 0.05], [h.centroid.coords[0] for h in holes][:5]


def test_the_replay_and_live_maps_share_one_palette():
    import json
    import re

    from maritime.views import maps, web

    served = json.loads(web.PALETTE_JS.removeprefix("window.MDA_PALETTE = ").rstrip().removesuffix(";"))
    assert served == maps.PALETTE
    assert served["categories"]["tanker"] == maps.CATEGORY_COLOURS["tanker"]
    # the live page defines no colours of its own for vessels or zones
    page_js = web.PAGE_JS
    assert not re.search(r"(cargo|tanker|territorial_sea)\s*:\s*\"#", page_js)
    assert '<script src="/static/palette.js"></script><script src="/static/symbols.js"></script>' in web.PAGE


def test_a_vessel_unnamed_in_its_alert_is_named_from_the_whole_input():
    """A dark-gap vessel that sent its name only after the alert was raised is shown by name, not '(no name)'."""
    from maritime.models import VesselInfo
    from maritime.views.maps import TrackCollector, build_replay_map

    tracks = TrackCollector()
    tracks(VesselInfo(mmsi=376000500, time_s=1.7472e9 + 9 * 3600, name="SEA BREEZE", msg_type=5, source="t"))
    alert = {"id": "dark_gap:1", "type": "dark_gap", "status": "closed", "severity": "medium",
             "time": "2025-05-14T09:00:00Z", "start": "2025-05-14T00:00:00Z", "end": "2025-05-14T09:00:00Z",
             "vessels": [{"mmsi": 376000500, "name": None}], "position": {"lat": 14.5, "lon": -66.0}, "zone": None,
             "summary": "MMSI 376000500 silent for 9 h", "details": {}}
    html = build_replay_map([alert], tracks=tracks).get_root().render()
    assert "SEA BREEZE — MMSI 376000500" in html and "(no name)" not in html
    assert alert["vessels"][0]["name"] is None  # the caller's alert is left as it was


@pytest.mark.slow  # over 6 s: the default run stays under 5 min
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is not installed")
def test_replay_map_list_popups_in_words_and_a_slider_that_filters(tmp_path):
    """Driven in Chromium: the alert list sorts by severity and a click opens the alert's popup in words; the
    slider at an early hour hides the alerts not begun yet and the day's tracks; 5,000 vessels stay legible
    (ordinary tracks dimmed, the alert vessels' own layer on top)."""
    from playwright.sync_api import sync_playwright

    tracks = TrackCollector(every_s=600)
    for i in range(5000):
        mmsi = 300_000_000 + i
        tracks(VesselInfo(mmsi, T0, name=f"V{i}", ship_type=70))
        for k in range(0, 36):  # six hours
            tracks(Position(mmsi, T0 + 600 * k, 10.0 + (i % 100) * 0.09 + k * 0.003, -80.0 + (i // 100) * 0.4,
                            8, 0, 0, 0, 1, "t"))
    evil = "<img src=x onerror=alert(9)>"
    items = []
    for i, (kind, sev, hours) in enumerate([("dark_gap", "medium", 0.5), ("rendezvous", "critical", 1.0),
                                            ("loitering", "low", 4.0), ("geofence_entry", "high", 5.0)]):
        items.append(Alert(f"{kind}:{i}", kind, "closed", sev, T0 + hours * 3600 + 1800, T0 + hours * 3600,
                           T0 + hours * 3600 + 1800, (VesselRef(300_000_000 + i, name=evil if i == 1 else f"V{i}"),),
                           12.0 + i, -70.0, f"summary {i}",
                           details={"last_position": {"lat": 12.0, "lon": -70.0}, "started_in": "eez",
                                    "last_sog_kn": 9.5, "gap_h": 6.5, "min_distance_m": 120.0}).as_dict())
    out = replay_map(items, tmp_path / "big.html", tracks=tracks)
    data = replay_data(out.read_text())
    assert data["tracks"] and data["prominent"] and sum(v["a"] for v in data["timeline"]["data"].values()) == 4
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        page = b.new_page(viewport={"width": 1400, "height": 900})
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(out.as_uri())
        page.wait_for_function("() => window.mdaReady === true", timeout=60000)
        assert page.locator(".alert-marker").count() == 4
        assert page.locator(".alert-vessel-track").count() == 4
        # dimmed ordinary tracks: thin and faint
        assert page.locator(".vessel-track:not(.alert-vessel-track)").first.get_attribute("stroke-opacity") == "0.25"
        page.click("#mda-sort button[data-key=severity]")
        rows = page.locator(".mda-row")
        assert rows.first.inner_text().lower().startswith("critical") and rows.last.inner_text().lower().startswith("low")
        rows.first.click()
        page.wait_for_selector(".alert-popup", timeout=10000)
        text = page.locator(".alert-popup").inner_text()
        assert "12.00°N 70.00°W" in text and "started in\tEEZ" in text and "last speed\t9.5 kn" in text
        assert "6 h 30 min" in text and "closest approach\t120 m" in text
        assert "_" not in text and "{" not in text and evil in text  # words, no JSON, the name as text
        page.screenshot(path=str(ARTIFACTS / "replay-map-5000.png"))
        # the slider two hours in: only the alerts begun by then, and no day-long tracks
        page.evaluate("() => { const s = document.getElementById('mda-slider'); s.value = 120;"
                      " s.dispatchEvent(new Event('input')); }")
        assert page.locator("#mda-alert-count").inner_text() == "2 of 4"
        assert page.locator(".alert-marker").count() == 2 and page.locator(".vessel-track").count() == 0
        assert page.locator(".mda-row:visible").count() == 2
        page.evaluate("() => { const s = document.getElementById('mda-slider'); s.value = s.max;"
                      " s.dispatchEvent(new Event('input')); }")
        assert page.locator(".alert-marker").count() == 4 and page.locator(".alert-vessel-track").count() == 4
        assert dialogs == []
        b.close()
