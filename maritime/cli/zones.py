"""``maritime zones``: build the Caribbean defaults, learn anchorages, check, query, list, import."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from maritime.cli._common import (
    NamedCommand,
    command_family,
    fail,
    out_console,
    settings_or_fail,
    setup_logging,
    specs_or_fail,
    zones_or_fail,
)

app = command_family("Zone files: build the Caribbean defaults, check, import, query.")

@app.command(cls=NamedCommand, name="build")
def zones_build(
    out: Annotated[Path, typer.Option("--out", help="folder to write the zone files to (in a checkout, "
                                      "geofences/ is the bundled set)")] = Path("zones"),
    gfw_anchorages: Annotated[Path | None, typer.Option(
        "--gfw-anchorages", help="GFW anchorage points (GeoJSON) to cluster into anchorage zones")] = None,
    anchorages_only: Annotated[bool, typer.Option(
        "--anchorages-only", help="write only anchorages.geojson (fast; no Natural Earth rebuild)")] = False,
    wpi_ports: Annotated[Path | None, typer.Option(
        "--wpi-ports", help="World Port Index ports (GeoJSON): rebuild the port gazetteer (maritime/zones/"
        "ports_index.json, or --ports-index) from them, the LOCODE table and the port zones, and stop")] = None,
    ports_index: Annotated[Path | None, typer.Option(
        "--ports-index", help="where --wpi-ports writes the gazetteer")] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="more log lines (-vv: debug)")] = 0,
) -> None:
    """Make the default Caribbean zones from Natural Earth 10 m land: territorial seas, EEZs, ports,
    anchorages, examples; or, with --wpi-ports, the port gazetteer that reads AIS destinations."""
    setup_logging(verbose)
    from maritime.zones.build import build, build_anchorages

    if gfw_anchorages is not None and not gfw_anchorages.is_file():
        raise fail(f"GFW anchorages: {gfw_anchorages}: no such file")
    if wpi_ports is not None:
        from maritime.zones.ports import BUNDLED, build_port_index, write_port_index

        try:
            wpi = json.loads(wpi_ports.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise fail(f"--wpi-ports {wpi_ports}: not a readable GeoJSON file ({err})", 2) from None
        bundled = zones_or_fail(["bundled"], quiet=True)
        port_zones = [z for z in (bundled.zones if bundled is not None else []) if z.kind == "port"]
        target = ports_index or BUNDLED
        ports = build_port_index(port_zones, wpi)
        write_port_index(ports, target)
        out_console.print(f"{target}: {len(ports)} ports ({sum(1 for p in ports if p.locode)} with a UN/LOCODE)")
        return
    if anchorages_only:
        out_console.print(f"{out / 'anchorages.geojson'}: {build_anchorages(out, gfw_anchorages)} zones")
        return
    counts = build(out, gfw_anchorages=gfw_anchorages)
    for name, n in counts.items():
        out_console.print(f"{out / name}: {n} zones")


@app.command(cls=NamedCommand, name="learn")
def zones_learn(
    files: Annotated[list[str], typer.Argument(help="NMEA recordings (plain or .gz), globs, or CSV tables")],
    out: Annotated[Path, typer.Option("--out", help="zone file (GeoJSON) to write")],
    zones: Annotated[list[Path] | None, typer.Option(
        "--zones", help="leave out places these zones already draw (default: the bundled zones; 'none')")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="settings file (TOML)")] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="more log lines (-vv: debug)")] = 0,
) -> None:
    """Learn anchorages from recordings: where many distinct vessels rested. Writes a zone file to review."""
    setup_logging(verbose)
    from maritime.runtime.learn import learn_anchorages

    settings = settings_or_fail(config)
    known = None if zones and [str(z) for z in zones] == ["none"] else zones_or_fail(zones or ["bundled"], quiet=True)
    feats, summary = learn_anchorages(settings, specs_or_fail(files), known)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"type": "FeatureCollection", "name": "learned_anchorages", "features": feats},
                              indent=1) + "\n", encoding="utf-8")
    a = settings.anchorages
    out_console.print(f"{out}: {len(feats)} learned anchorages from {summary['positions']:,} positions "
                      f"(cells where at least {a.min_vessels} distinct vessels rested {a.rest_min_h:g} h); "
                      f"review them before adding them to the zones", highlight=False)


@app.command(cls=NamedCommand, name="check")
def zones_check(
    paths: Annotated[list[Path], typer.Argument(help="zone files or folders")],
    fix: Annotated[bool, typer.Option("--fix", help="repair invalid geometries with make_valid and write them back")]
    = False,
) -> None:
    """Report every problem in zone files (file, feature, reason); exit 1 if there is any."""
    from maritime.zones.index import check_zones, zone_files

    zones, problems = check_zones(paths, fix=fix)
    for p in problems:
        out_console.print(str(p), highlight=False, soft_wrap=True)
    if fix and not problems:
        for path in paths:
            for f in zone_files(path):
                mine = [z for z in zones if z.file == str(f)]
                doc = {"type": "FeatureCollection", "features": [z.as_feature() for z in mine]}
                f.write_text(json.dumps(doc) + "\n", encoding="utf-8")
        out_console.print(f"fixed and wrote {len(zones)} zones")
    out_console.print(f"{len(zones)} zones ok, {len(problems)} problems")
    if problems:
        raise typer.Exit(1)


@app.command(cls=NamedCommand, name="which", context_settings={"ignore_unknown_options": True})
def zones_which(
    lat: Annotated[float, typer.Argument(help="latitude, degrees north")],
    lon: Annotated[float, typer.Argument(help="longitude, degrees east (west is negative)")],
    zones: Annotated[list[Path] | None, typer.Option("--zones", help="zone files or folders (default: bundled)")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="a JSON list of the zones' properties")] = False,
) -> None:
    """List the zones that contain a point."""
    if not -90 <= lat <= 90 or not -180 <= lon <= 180:
        hint = " (latitude and longitude swapped?)" if -90 <= lon <= 90 and -180 <= lat <= 180 else ""
        raise fail(f"{lat}, {lon} is not a latitude, longitude pair{hint}", 2)
    index = zones_or_fail(zones or ["bundled"], quiet=True)
    assert index is not None
    found = index.containing(lat, lon)
    if not found and index.containing(lon, lat):
        raise fail(f"no zone contains {lat}, {lon}, but {lon}, {lat} is in "
                    f"{index.containing(lon, lat)[0].name}: latitude and longitude swapped? "
                    f"(latitude first: maritime zones which {lon} {lat})", 2)
    if as_json:
        sys.stdout.write(json.dumps([z.properties for z in found], ensure_ascii=False) + "\n")
        return
    if not found:
        typer.echo("no zone contains this point")
    for z in found:
        typer.echo(f"{z.id}\t{z.kind}\t{z.name}\t{z.authority or ''}")


@app.command(cls=NamedCommand, name="list")
def zones_list(
    paths: Annotated[list[Path] | None, typer.Argument(help="zone files or folders (default: bundled)")] = None,
) -> None:
    """Summarise zones: count by kind, and authorities."""

    index = zones_or_fail(paths or ["bundled"], quiet=True)
    assert index is not None
    kinds = Counter(z.kind for z in index.zones)
    table = Table(title=f"{len(index)} zones", title_justify="left")
    table.add_column("kind")
    table.add_column("zones", justify="right")
    table.add_column("approximate", justify="right")
    for k, n in sorted(kinds.items()):
        table.add_row(k, str(n), str(sum(1 for z in index.zones if z.kind == k and z.approximate)))
    out_console.print(table)
    auth = Counter(z.authority for z in index.zones if z.authority)
    out_console.print("authorities: " + ", ".join(f"{a} ({n})" for a, n in sorted(auth.items())), highlight=False)


@app.command(cls=NamedCommand, name="import")
def zones_import(
    source: Annotated[Path, typer.Argument(help="Shapefile, GeoPackage or GeoJSON")],
    kind: Annotated[str, typer.Option("--kind", help="zone kind for every feature")],
    id_field: Annotated[str, typer.Option("--id-field", help="attribute holding a unique id")],
    name_field: Annotated[str, typer.Option("--name-field", help="attribute holding the name")],
    out: Annotated[Path, typer.Option("--out", help="zone GeoJSON to write")],
    authority_field: Annotated[str | None, typer.Option(
        "--authority-field", help="attribute holding the responsible authority")] = None,
    alert_on: Annotated[str, typer.Option(help="comma-separated rules: entry,exit,dwell,speed")] = "",
    layer: Annotated[str | None, typer.Option(help="layer of a multi-layer source")] = None,
) -> None:
    """Convert an official dataset (Marine Regions, WDPA, a coast guard's own areas) into zone GeoJSON."""
    from maritime.zones.build import import_zones
    from maritime.zones.index import ZONE_KINDS

    if kind not in ZONE_KINDS:
        raise fail(f"unknown kind {kind!r} (one of {', '.join(ZONE_KINDS)})", 2)
    try:
        n = import_zones(source, out, kind=kind, id_field=id_field, name_field=name_field,
                         authority_field=authority_field, alert_on=[a for a in alert_on.split(",") if a], layer=layer)
    except (OSError, ValueError, KeyError) as err:
        raise fail(f"{source}: {err}") from None
    out_console.print(f"wrote {n} zones to {out}")
