"""Sources: files, gzip, globs, CSV, and a TCP feed that drops mid-sentence."""

from __future__ import annotations

import asyncio
import gzip

import pytest

from maritime.config import Settings
from maritime.ingest.formats import BadRow, read_rows, resolve
from maritime.ingest.sources import LineSplitter, SourceError, iter_lines, parse_source, tcp_lines
from maritime.runtime.pipeline import Pipeline
from tests.conftest import TYPE1, TYPE5, feed_lines


def test_parse_source_kinds(tmp_path):
    (tmp_path / "a.nmea").write_bytes(TYPE1 + b"\n")
    (tmp_path / "b.nmea").write_bytes(TYPE1 + b"\n")
    (tmp_path / "t.csv").write_text("MMSI,BaseDateTime,LAT,LON\n")
    assert [s.kind for s in parse_source(str(tmp_path / "*.nmea"))] == ["file", "file"]
    assert parse_source(str(tmp_path / "t.csv"))[0].kind == "csv"
    assert parse_source("-")[0].kind == "stdin"
    tcp = parse_source("tcp://127.0.0.1:10110")[0]
    assert (tcp.kind, tcp.host, tcp.port) == ("tcp", "127.0.0.1", 10110)
    udp = parse_source("udp://:10111")[0]
    assert (udp.kind, udp.host, udp.port) == ("udp", "0.0.0.0", 10111)
    with pytest.raises(SourceError, match="no such file"):
        parse_source(str(tmp_path / "missing.nmea"))
    with pytest.raises(SourceError, match="no file matches"):
        parse_source(str(tmp_path / "*.gz"))
    with pytest.raises(SourceError, match="port"):
        parse_source("tcp://host")


def test_gzip_is_read_by_its_magic_bytes(tmp_path):
    p = tmp_path / "log.txt"
    p.write_bytes(gzip.compress(TYPE1 + b"\r\n" + TYPE1 + b"\n"))
    assert [ln.strip() for ln in iter_lines(parse_source(str(p))[0])] == [TYPE1, TYPE1]


def test_line_splitter_reassembles_lines_cut_anywhere():
    data = b"\n".join([TYPE1, *TYPE5, TYPE1]) + b"\n"
    for cut in range(1, len(data)):
        sp = LineSplitter()
        lines = sp.feed(data[:cut]) + sp.feed(data[cut:])
        assert lines == [TYPE1, *TYPE5, TYPE1]


def test_line_splitter_counts_a_line_cut_by_disconnect():
    sp = LineSplitter()
    assert sp.feed(TYPE1 + b"\n" + TYPE1[:20]) == [TYPE1]
    assert sp.reset() == TYPE1[:20] and sp.truncated == 1
    assert sp.feed(TYPE1 + b"\n") == [TYPE1]


def test_csv_marinecadastre(tmp_path):
    p = tmp_path / "ais.csv"
    p.write_text(
        "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,"
        "Cargo,TransceiverClass\n"
        "376000500,2025-05-14T08:00:00,12.75,-61.6,0.4,511.0,511,SEA BREEZE,IMO9234567,J8AB2,70,0,120,20,7.5,70,A\n"
        "376000500,2025-05-14T08:01:00,12.7501,-61.6,0.3,102.0,100,SEA BREEZE,IMO9234567,J8AB2,70,0,120,20,7.5,70,A\n"
        "bad,row\n"
        "376000501,2025-05-14T08:01:00,95.0,-61.6,0.3,102.0,100,,,,,,,,,,B\n"
    )
    spec = resolve(parse_source(str(p))[0])
    assert spec.format == "marinecadastre"
    rows = list(read_rows(spec))
    recs = [r for row in rows for r in (row if isinstance(row, list) else [row])]
    kinds = [type(r).__name__ for r in recs]
    assert kinds == ["Position", "VesselInfo", "Position", "VesselInfo", "BadRow", "BadRow"]
    first = recs[0]
    assert (first.mmsi, first.lat, first.lon, first.sog_kn, first.cog_deg, first.heading_deg, first.nav_status) == (
        376000500, 12.75, -61.6, 0.4, None, None, 0)
    assert first.time_s == 1747209600.0
    info = recs[1]
    assert (info.name, info.imo, info.callsign, info.ship_type, info.length_m, info.beam_m, info.draught_m) == (
        "SEA BREEZE", 9234567, "J8AB2", 70, 120, 20, 7.5)
    assert isinstance(recs[4], BadRow) and recs[4].reason == "malformed"
    assert recs[5].reason == "out_of_range"


def test_csv_without_position_columns_is_refused(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(SourceError, match="lacks the column"):
        list(read_rows(resolve(parse_source(str(p), "csv")[0])))


# -- TCP: a server that drops the connection mid-sentence and comes back ------------------


async def test_tcp_reconnects_after_drop_mid_sentence():
    lines = feed_lines(6)
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:
            # two whole lines, then half of the third, split across writes; then drop
            writer.write(lines[0] + b"\r\n" + lines[1][:17])
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(lines[1][17:] + b"\r\n" + lines[2][:25])
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.transport.abort()
            return
        for ln in lines[2:]:
            writer.write(ln + b"\r\n")
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    got: list[bytes] = []
    async with server:
        async def collect() -> None:
            async for batch in tcp_lines("127.0.0.1", port, min_backoff_s=0.05, max_backoff_s=0.2, stop=stop):
                got.extend(ln for ln, _ in batch)
                if len(got) >= 6:
                    stop.set()

        await asyncio.wait_for(collect(), timeout=10)
    assert [g.strip() for g in got] == lines  # nothing glued, nothing twice
    assert connections >= 2


async def test_pipeline_live_over_tcp_decodes_each_message_once():
    lines = feed_lines(6)
    served = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        served += 1
        if served == 1:
            writer.write(b"\r\n".join(lines[:3]) + b"\r\n" + lines[3][:30])
            await writer.drain()
            writer.transport.abort()
            return
        writer.write(b"\r\n".join(lines[3:]) + b"\r\n")
        await writer.drain()
        await asyncio.sleep(0.3)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pipe = Pipeline(Settings())
    stop = asyncio.Event()
    seen: list = []
    pipe.add_listener(seen.append)
    async with server:
        task = asyncio.create_task(pipe.run_live(parse_source(f"tcp://127.0.0.1:{port}"), stop))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if pipe.stats.decode.messages >= 6:
                break
        stop.set()
        summary = await asyncio.wait_for(task, timeout=10)
    assert summary["messages"] == 6 and summary["rejected"] == {}
    assert summary["positions"] == 6 and len(seen) == 6
