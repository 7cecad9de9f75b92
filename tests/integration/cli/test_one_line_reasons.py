"""Bad input to the CLI gets a one-line reason and the documented exit code, never a traceback.

Exit codes (README, "Replaying recordings"): 1 for an unreadable input, 2 for unusable arguments, settings or files.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from maritime.cli import app
from tests.conftest import TYPE1, free_port

runner = CliRunner()


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "ok.nmea").write_bytes(TYPE1 + b"\n")
    (tmp_path / "nonutf8.toml").write_bytes(b"\xff\xfe[ingest]\n")
    (tmp_path / "deep.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    (tmp_path / "deep.geojson").write_text('{"type": "FeatureCollection", "features": ' + "[" * 100_000
                                           + "]" * 100_000 + "}")
    (tmp_path / "wl.csv").write_bytes(os.urandom(3000))
    (tmp_path / "nul.csv").write_bytes(b"kind,value,reason\nmmsi,\x00123,x\n")
    (tmp_path / "prof.sqlite").write_text("not a database at all, but long enough to be read as one" * 30)
    (tmp_path / "afile").write_text("")
    (tmp_path / "spool.toml").write_text(f'[delivery]\nspool_dir = "{tmp_path / "afile" / "spool"}"\n')
    data = gzip.compress(TYPE1 + b"\n" * 1 + (TYPE1 + b"\n") * 2000)
    (tmp_path / "trunc.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "corrupt.gz").write_bytes(data[:10] + b"x" * 50 + data[60:])
    return tmp_path


CASES = [
    (["replay", "ok.nmea", "--config", "nonutf8.toml"], 2, "not UTF-8"),
    (["replay", "ok.nmea", "--config", "deep.toml"], 2, "nested too deeply"),
    (["replay", "ok.nmea", "--zones", "deep.geojson"], 2, "nested too deeply"),
    (["replay", "ok.nmea", "--watchlist", "wl.csv"], 2, "a watchlist is a CSV or JSON file"),
    (["replay", "ok.nmea", "--watchlist", "nul.csv"], 2, "a watchlist is a CSV or JSON file"),
    (["replay", "ok.nmea", "--profiles", "prof.sqlite"], 2, "cannot be used as the profiles database"),
    (["replay", "ok.nmea", "--map", "afile/map.html"], 2, "is a file, not a folder"),
    (["replay", "ok.nmea", "--alerts", "."], 2, "is a folder"),
    (["replay", "trunc.gz"], 1, "ends early"),
    (["replay", "corrupt.gz"], 1, "damaged gzip data"),
    (["replay", "ok.nmea", "--redis", "notaurl"], 2, "--redis notaurl"),
    (["replay", "ok.nmea", "--redis", "redis://127.0.0.1:1/0", "--config", "spool.toml"], 2, "spool_dir"),
    (["watch", "udp://:99999", "--duration", "1"], 2, "from 1 to 65535"),
    (["watch", "tcp://127.0.0.1:abc", "--duration", "1"], 2, "from 1 to 65535"),
    (["watch", "tcp://host", "--duration", "1"], 2, "a port is needed"),
    (["watch", "ok.nmea", "--web", "127.0.0.1:99999", "--duration", "1"], 2, "from 1 to 65535"),
    (["watch", "ok.nmea", "--web", "nosuchhost.invalid:8080", "--duration", "1"], 2, "is not known here"),
]


@pytest.mark.parametrize(("args", "code", "reason"), CASES, ids=[" ".join(c[0][:3]) for c in CASES])
def test_a_one_line_reason_and_the_exit_code(work, monkeypatch, args, code, reason):
    monkeypatch.chdir(work)
    res = runner.invoke(app, args)
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code == code, res.output
    assert reason in res.output and "Traceback" not in res.output
    assert len([ln for ln in res.output.splitlines() if ln.startswith("error:")]) == 1


def test_a_port_in_use_for_the_live_map_says_so(work, monkeypatch):
    monkeypatch.chdir(work)
    port = free_port()
    with socket.socket() as held:
        held.bind(("127.0.0.1", port))
        held.listen()
        res = runner.invoke(app, ["watch", "ok.nmea", "--web", f"127.0.0.1:{port}", "--duration", "1"])
    assert res.exit_code == 2 and "cannot listen there" in res.output, res.output


def test_csv_rows_with_inf_nan_or_a_200_kb_field_are_refused_one_by_one(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("MMSI,BaseDateTime,LAT,LON,Length,VesselName\n"
                 "inf,2025-05-14T00:00:00,14.0,-61.0,10,A\n"
                 "366053209,2025-05-14T00:00:30,14.0,-61.0,nan,B\n"
                 f"366053209,2025-05-14T00:01:00,14.0,-61.0,10,{'C' * 200_000}\n"
                 "366053209,2025-05-14T00:02:00,nan,-61.0,10,D\n"
                 "366053209,2025-05-14T00:03:00,14.01,-61.0,10,E\n")
    res = runner.invoke(app, ["replay", str(f), "--zones", "none", "--summary-json", str(tmp_path / "s.json"),
                              "-q"])
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["positions"] == 2 and s["rejected"] == {"malformed": 2, "out_of_range": 1}
    assert s["lines"] == 5


def test_an_unexpected_decoder_error_is_one_warning_per_kind_not_a_traceback_per_line(caplog, monkeypatch):
    import logging

    from maritime import core
    from maritime.ingest import ais

    if not (ais.__file__ or "").endswith(".py") or core.load("lines") is not None:
        # a compiled module calls its own functions directly, where a monkeypatch cannot reach (and the typed
        # core unpacks the report in C): the same test runs in a child on the pure-Python modules
        # (MARITIME_PURE=1), the reference of the compiled ones; tests/unit/core tests the core's own guard
        import os
        import subprocess
        import sys

        test = f"{__file__}::test_an_unexpected_decoder_error_is_one_warning_per_kind_not_a_traceback_per_line"
        res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
                             capture_output=True, text=True, timeout=300, env={**os.environ, "MARITIME_PURE": "1"})
        assert res.returncode == 0, res.stdout[-2000:]
        return

    def broken(*_a, **_k):
        raise ZeroDivisionError("a decoder bug")

    monkeypatch.setattr(ais, "unpack_position", broken)
    monkeypatch.setattr(ais, "_UNEXPECTED_SEEN", set())
    dec = ais.AisDecoder("test")
    with caplog.at_level(logging.INFO, logger="maritime.ingest.ais"):
        for _ in range(3):
            assert dec.decode_line(TYPE1) is None
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "ZeroDivisionError" in warnings[0].getMessage()
    assert not any(r.exc_info for r in warnings)
    assert dec.stats.rejected["malformed"] == 3
