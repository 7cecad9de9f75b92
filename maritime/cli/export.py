"""``maritime export``: alerts and tracks as GeoJSON, KML or GPX for Google Earth, OpenCPN and GIS tools."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

import maritime.cli._common as common
from maritime.cli._common import NamedCommand, command_family, fail

app = command_family("Export alerts and tracks for the floor's other tools: GeoJSON (RFC 7946), KML 2.2 "
                     "(Google Earth) or GPX 1.1 (OpenCPN).")

FORMAT_HELP = "geojson, kml or gpx (default: from the --out file's extension, else geojson)"


def _format(fmt: str | None, out: Path | None) -> str:
    from maritime.views.export import FORMATS

    if fmt is None:
        ext = out.suffix.lower().lstrip(".") if out is not None else ""
        fmt = {"json": "geojson", "geojson": "geojson", "kml": "kml", "gpx": "gpx"}.get(ext, "geojson")
    if fmt not in FORMATS:
        raise fail(f"--format {fmt}: one of {', '.join(FORMATS)}", 2)
    return fmt


def _write(body: bytes, out: Path | None, what: str) -> None:
    if out is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    try:
        out.write_bytes(body)
    except OSError as err:
        raise fail(f"--out {out}: cannot be written ({err.strerror or err})", 1) from None
    common.err_console.print(f"{what} written to {out}", highlight=False, soft_wrap=True)


@app.command("alerts", cls=NamedCommand)
def export_alerts_cmd(
    alerts: Annotated[Path, typer.Argument(help="alerts file (JSON lines, as from replay or watch --alerts)")],
    out: Annotated[Path | None, typer.Option("--out", help="the file to write (default: standard output)")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help=FORMAT_HELP)] = None,
    language: Annotated[str, typer.Option(help="names and explanations in en, es, fr or nl")] = "en",
) -> None:
    """The latest record of each alert as a point: type, status, severity, times, vessels, summary."""
    from maritime.views.export import export_alerts, latest_alerts

    fmt = _format(fmt, out)
    common.check_output("--out", out)
    if language not in ("en", "es", "fr", "nl"):
        raise fail(f"--language {language}: en, es, fr or nl", 2)
    records = []
    try:
        with alerts.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    a = json.loads(line)
                    if not isinstance(a, dict) or "id" not in a or "type" not in a:
                        raise ValueError("not an alert")
                except ValueError as err:
                    raise fail(f"{alerts}:{n}: not an alert record ({err})", 2) from None
                records.append(a)
    except OSError as err:
        raise fail(f"{alerts}: {err.strerror or err}", 2) from None
    latest = latest_alerts(records)
    body, unplaced = export_alerts(latest, fmt, language)
    _write(body, out, f"{len(latest) - unplaced} alerts ({fmt})")
    if unplaced:
        common.err_console.print(f"{unplaced} alerts have no position and are not in the {fmt} file",
                                 highlight=False)


@app.command("tracks", cls=NamedCommand)
def export_tracks_cmd(
    sources: Annotated[list[str], typer.Argument(help="recordings (NMEA, CSV, JSON; globs)")],
    out: Annotated[Path | None, typer.Option("--out", help="the file to write (default: standard output)")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help=FORMAT_HELP)] = None,
    mmsi: Annotated[list[int] | None, typer.Option("--mmsi", help="only these vessels (repeatable)")] = None,
    every_s: Annotated[float, typer.Option("--every-s", help="at most one fix per this many seconds")] = 60.0,
    config: Annotated[Path | None, typer.Option("--config", help="settings file (TOML)")] = None,
) -> None:
    """Each vessel's track from recordings, read as a replay reads them (the same decoding, clocks and gates)."""
    from maritime.runtime.pipeline import Pipeline
    from maritime.views.export import Track, export_tracks
    from maritime.views.maps import TrackCollector

    fmt = _format(fmt, out)
    common.check_output("--out", out)
    common.positive("--every-s", every_s)
    specs = common.specs_or_fail(sources)
    collector = TrackCollector(every_s=every_s)
    pipe = Pipeline(common.settings_or_fail(config))
    pipe.add_listener(collector)
    pipe.replay(specs)
    wanted = set(mmsi or [])
    tracks = [Track(m, list(fixes), collector.info.get(m, {}).get("name"), collector.info.get(m, {}).get("ship_type"))
              for m, fixes in sorted(collector.tracks.items()) if fixes and (not wanted or m in wanted)]
    if wanted and not tracks:
        raise fail(f"no fix of MMSI {', '.join(map(str, sorted(wanted)))} in the recordings", 1)
    _write(export_tracks(tracks, fmt), out, f"{len(tracks)} tracks ({fmt})")
