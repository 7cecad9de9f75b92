"""``maritime watch`` for people: one readable line per alert, JSON only when asked."""

from __future__ import annotations

import io
import json

from typer.testing import CliRunner

from maritime.cli import app
from maritime.delivery.console import ConsoleSink, alert_line
from maritime.models import Alert, VesselRef
from tests.conftest import BASE, default_mmsi_lines


def test_an_alert_line_reads_time_severity_type_vessel_place_and_summary():
    a = Alert(id="dark_gap:1", type="dark_gap", status="open", severity="high", time_s=BASE + 3600, start_s=BASE,
              end_s=None, vessels=(VesselRef(mmsi=376000500, name="SEA\x1b[2JBREEZE"),), lat=14.5, lon=-66.0,
              summary="SEA BREEZE silent for 8 h")
    line = alert_line(a)
    assert line.startswith("2025-05-14 09:00Z  HIGH")
    assert "dark gap (open)" in line and "376000500" in line and "14.500°N 66.000°W" in line
    assert line.endswith("silent for 8 h") and "\x1b" not in line
    out = io.StringIO()
    ConsoleSink(out).write(a)
    assert out.getvalue() == line + "\n"


def test_watch_prints_readable_lines_and_json_only_with_json(tmp_path):
    feed = tmp_path / "feed.nmea"
    feed.write_bytes(default_mmsi_lines())
    runner = CliRunner()
    res = runner.invoke(app, ["watch", str(feed), "--zones", "none", "--duration", "5", "--no-webhooks"])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stdout.splitlines() if "identity anomaly" in ln]
    assert len(lines) == 1 and "MMSI 123456789" in lines[0] and lines[0][:4] == "2025"
    assert not any(ln.startswith("{") for ln in res.stdout.splitlines())
    res = runner.invoke(app, ["watch", str(feed), "--zones", "none", "--duration", "5", "--no-webhooks", "--json"])
    assert res.exit_code == 0, res.output
    alerts = [json.loads(ln) for ln in res.stdout.splitlines() if ln.startswith("{")]
    assert [a["type"] for a in alerts] == ["identity_anomaly"]
