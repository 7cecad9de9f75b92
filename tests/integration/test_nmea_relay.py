"""The NMEA-over-TCP relay (``watch … --nmea-out``) as a chart plotter reads it: the sentences are read back with
pyais; vessels come as position and static reports, alerts as named virtual aids to navigation."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pyais
from pyais.encode import encode_dict

from maritime.views.nmea_relay import aton_mmsi
from tests.conftest import free_port, tag

T0 = 1_747_209_600


def traffic() -> bytes:
    lines = []
    # two ships that meet: slow, 100 m apart, for 3 h, far from any port (zones: none)
    for i in range(0, 200):
        for k, mmsi in enumerate((376000500, 377000700)):
            s = encode_dict({"msg_type": 1, "mmsi": mmsi, "lat": 14.5 + 0.0009 * k, "lon": -64.0, "speed": 0.5,
                             "course": 90, "status": 0})[0]
            lines.append(tag(f"c:{T0 + 60 * i + k}") + s.encode())
        if i % 20 == 0:
            for s in encode_dict({"msg_type": 5, "mmsi": 376000500, "shipname": "SEA BREEZE", "ship_type": 79,
                                  "callsign": "J8AB2"}):
                lines.append(tag(f"c:{T0 + 60 * i + 5}") + s.encode())
    return b"\n".join(lines) + b"\n"


def test_a_plotter_reads_vessels_and_alerts(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "maritime.cli", "watch", "-", "--nmea-out", f"127.0.0.1:{port}",
                             "--zones", "none", "--workers", "1", "--alerts", str(tmp_path / "a.jsonl")],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    got = b""
    try:
        deadline = time.time() + 60
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=2)
                break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, "the relay never listened"
                time.sleep(0.2)
        assert proc.stdin is not None
        proc.stdin.write(traffic())
        proc.stdin.close()
        conn.settimeout(5)
        end = time.time() + 60
        while time.time() < end:
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                if b"!AIVDM" in got and proc.poll() is not None:
                    break
                continue
            if not chunk:
                break
            got += chunk
        conn.close()
    finally:
        proc.terminate()
        proc.wait(20)
    lines = [ln for ln in got.split(b"\r\n") if ln]
    assert lines and all(ln.startswith(b"!AIVDM") for ln in lines)
    msgs = list(pyais.IterMessages(lines))
    decoded = [m.decode() for m in msgs]
    kinds = {d.msg_type for d in decoded}
    assert {1, 5}.issubset(kinds), kinds
    names = {d.mmsi: d.shipname for d in decoded if d.msg_type == 5}
    assert names[376000500] == "SEA BREEZE"
    pos = [d for d in decoded if d.msg_type == 1 and d.mmsi == 377000700]
    assert pos and abs(pos[-1].lat - 14.5009) < 1e-3 and abs(pos[-1].lon + 64.0) < 1e-3
    # throttled: one report per vessel per 10 s of event time at most (the feed had one a minute)
    assert len(pos) <= 200
    marks = [d for d in decoded if d.msg_type == 21]
    assert marks, "no alert mark"
    assert all(d.virtual_aid for d in marks) and any("SEA BREEZE" in d.name for d in marks)
    import json
    ids = {json.loads(x)["id"] for x in (tmp_path / "a.jsonl").read_text().splitlines()}
    assert {d.mmsi for d in marks} <= {aton_mmsi(i) for i in ids}
