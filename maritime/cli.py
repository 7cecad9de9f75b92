"""The ``maritime`` command.

Progress bars and tables are drawn here only (on a terminal); the library
logs through module loggers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.main
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from maritime.config import ConfigError, Settings, load_settings
from maritime.delivery.base import Sink
from maritime.delivery.jsonl import JsonLinesSink
from maritime.ingest.sources import SourceError, SourceSpec, parse_source
from maritime.models import SEVERITIES, iso
from maritime.redact import redact
from maritime.runtime.assembly import Assembly, AssemblyError
from maritime.runtime.decode_workers import default_workers
from maritime.runtime.pipeline import DeadLetter, Pipeline, ReplayProgress, replay_gc
from maritime.zones.index import ZoneError, ZoneIndex, load_zones

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Maritime domain awareness for Caribbean waters: decode AIS, detect dark gaps, "
    "rendezvous, loitering and geofence breaches, and send alerts.",
)
err_console = Console(stderr=True, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("caribbean-mda")
        except PackageNotFoundError:
            v = "unknown (not installed)"
        from maritime.buildinfo import build

        typer.echo(f"maritime (caribbean-mda) {v}, {build()}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="print the version and exit")] = False) -> None:
    """Maritime domain awareness for Caribbean waters."""
out_console = Console()
logger = logging.getLogger("maritime.cli")


_STORE_HELP = "the triage store: a SQLite file or a redis:// URL (default: triage.sqlite in the state folder)"


def _fail(message: str, code: int = 1) -> typer.Exit:
    # user text (file names, URLs) is never read as rich markup, and never shows a secret
    err_console.print(f"[red]error:[/red] {escape(redact(message))}", highlight=False)
    return typer.Exit(code)


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    from maritime import redact

    redact.install()  # no password or token is ever printed
    # the access log (paths only, never query strings) is off unless -vv
    logging.getLogger("aiohttp.access").setLevel(logging.INFO if verbose >= 2 else logging.WARNING)


def _settings(config: Path | None, overrides: dict[str, Any] | None = None) -> Settings:
    try:
        return load_settings(config, overrides)
    except ConfigError as err:
        raise _fail(str(err), 2) from None


@contextmanager
def _replay_progress(label: str = "replaying") -> Iterator[Callable[[ReplayProgress], None]]:
    """A progress bar for a replay: bytes read of the files' size, with the time left, the lines read and the
    event time reached (on the error console, gone when done)."""
    with Progress(TextColumn(label), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  TextColumn("{task.fields[info]}"), console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=None, info="")

        def update(p: ReplayProgress) -> None:
            t = iso(p.event_time_s) if p.event_time_s is not None else None
            reached = f", event time {t[:16].replace('T', ' ')}Z" if t else ""
            bar.update(task, completed=p.bytes_done, total=p.bytes_total, info=f"{p.lines:,} lines{reached}")

        yield update


def _specs(sources: list[str]) -> list[SourceSpec]:
    specs: list[SourceSpec] = []
    for s in sources:
        try:
            specs.extend(parse_source(s))
        except SourceError as err:
            raise _fail(str(err), 2 if err.usage else 1) from None
    return specs


def _check_output(option: str, path: Path | None) -> None:
    """Refuse at once (exit 2) an output file that cannot be written, before any work is done."""
    if path is None:
        return
    if path.is_dir():
        raise _fail(f"{option} {path}: is a folder; give a file name", 2)
    for parent in (path.parent, *path.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                raise _fail(f"{option} {path}: {parent} is a file, not a folder", 2)
            if not os.access(parent, os.W_OK):
                raise _fail(f"{option} {path}: {parent} is not writable", 2)
            return


def _nothing_decoded(summary: dict[str, Any], specs: list[SourceSpec]) -> str:
    """Why a replay decoded nothing, as far as its rejections and its first line tell."""
    rejected: dict[str, int] = summary.get("rejected") or {}
    top = max(rejected, key=lambda k: rejected[k]) if rejected else None
    table = next((s for s in specs if s.kind == "csv"), None)
    if table is not None and not any(s.kind == "file" for s in specs):
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(rejected.items())) or "none"
        return (f"nothing decoded: every row of {table.target} was refused ({reasons}); --dead-letter FILE "
                "writes each row with its reason")
    sample = ""
    first = next((s for s in specs if s.kind == "file"), None)
    if first is not None:
        try:
            with open(first.target, "rb") as fh:
                head = fh.read(200).splitlines()
            line = next((ln for ln in head if ln.strip()), b"")
            sample = f"; its first line begins {redact(line[:60].decode('utf-8', 'replace'))!r}"
        except OSError:
            pass
    where = first.target if first is not None else "the input"
    if top == "bad_checksum":
        return f"nothing decoded: every sentence failed its checksum (the file may be damaged or re-encoded){sample}"
    if top in ("bad_time", "time_outlier"):
        return f"nothing decoded: the lines' times cannot be used ({top}); see --dead-letter FILE for each line"
    if top == "orphan_fragment":
        return "nothing decoded: the multipart messages never complete (fragments missing or out of order)"
    return (f"nothing decoded: {where} holds no AIS sentences (!AIVDM/!AIVDO lines, with or without tag blocks or "
            f"a time before them){sample}. A table of decoded positions must be a .csv with MarineCadastre "
            "column names (MMSI, BaseDateTime, LAT, LON)")


def _print_summary(summary: dict[str, Any], outputs: dict[str, str]) -> None:
    table = Table(title="Replay summary", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    table.add_row("lines read", f"{summary['lines']:,}")
    table.add_row("messages decoded", f"{summary['messages']:,}")
    rejected = summary["rejected"]
    table.add_row("lines rejected", f"{sum(rejected.values()):,}"
                  + (f"  ({', '.join(f'{k} {v:,}' for k, v in rejected.items())})" if rejected else ""))
    table.add_row("duplicates dropped", f"{summary['duplicates']:,}")
    table.add_row("vessels", f"{summary['vessels']:,}")
    table.add_row("positions", f"{summary['positions']:,}")
    table.add_row("first / last time", f"{summary['first_time']} / {summary['last_time']}")
    alerts = summary["alerts_by_type"]
    table.add_row("alerts", f"{sum(alerts.values()):,} events, {summary.get('alert_records', 0):,} alert records")
    for k, v in alerts.items():
        table.add_row(f"  {k}", f"{v:,}")
    rate = summary["lines"] / summary["seconds"] if summary["seconds"] else 0.0
    table.add_row("seconds", f"{summary['seconds']:.2f}  ({rate:,.0f} lines/s)")
    for k, v in outputs.items():
        table.add_row(k, escape(redact(v)))
    (out_console if out_console.is_terminal else err_console).print(table)


class _Outputs:
    """Opens the sinks and side files a run writes, and closes them."""

    def __init__(self, stack: ExitStack, alerts: Path | None, dead_letter: Path | None,
                 settings: Settings | None = None, redis_url: str | None = None, webhooks: bool = False) -> None:
        self.sinks: list[Sink] = []
        self.written: dict[str, str] = {}
        self.dead: DeadLetter | None = None
        import sqlite3

        try:
            if settings is not None and redis_url:
                from maritime.delivery.redis_sink import RedisSink

                self.sinks.append(RedisSink(redis_url, list(settings.subscriptions), settings.delivery))
                self.written["redis"] = redact(redis_url)
            if settings is not None and webhooks:
                from maritime.delivery.webhook import WebhookSink

                for sub in settings.subscriptions:
                    for hook in sub.webhooks:
                        self.sinks.append(WebhookSink(sub, hook, settings.delivery))
                        self.written[f"webhook {sub.id}"] = hook.url
        except (OSError, sqlite3.Error) as err:  # the delivery spool cannot be kept where the settings say
            spool = settings.delivery.spool_dir if settings is not None else "?"
            raise _fail(f"[delivery] spool_dir {spool}: the delivery spool cannot be kept there "
                        f"({getattr(err, 'strerror', None) or err})", 2) from None
        except ValueError as err:  # redis-py: not a Redis URL
            raise _fail(f"--redis {redact(redis_url or '')}: {err}", 2) from None
        try:
            if alerts is not None:
                self.sinks.append(JsonLinesSink(alerts))
                self.written["alerts"] = str(alerts)
            if dead_letter is not None:
                dead_letter.parent.mkdir(parents=True, exist_ok=True)
                self.dead = DeadLetter(dead_letter.open("w", encoding="utf-8"))
                stack.callback(self.dead.close)
                self.written["dead letters"] = str(dead_letter)
        except OSError as err:
            raise _fail(f"{err.filename}: cannot be written ({err.strerror})") from None


def _board_files(pipe: Pipeline, folder: Path | None, settings: Settings, written: dict[str, str]) -> None:
    """``--boards DIR``: the daily boards of the centres subscribed to ports, as files."""
    if folder is None:
        return
    if pipe.arrivals is None:
        raise _fail("--boards needs the arrivals stage ([arrivals] enabled = true)", 2)
    if not any(s.arrivals for s in settings.subscriptions):
        raise _fail("--boards: no centre in the settings subscribes to a port's arrivals "
                    "([[subscriptions]] arrivals = [\"LCCAS\", ...])", 2)
    from maritime.delivery.boards import BoardFiles

    try:
        pipe.arrivals.board_sinks.append(BoardFiles(folder))
    except OSError as err:
        raise _fail(f"--boards {folder}: cannot be written ({err.strerror})") from None
    written["boards"] = str(folder)


def _zones(paths: list[Path] | None, partial: bool = False) -> ZoneIndex | None:
    if not paths:
        return None
    try:
        return load_zones(paths, partial=partial)
    except ZoneError as err:
        for p in err.problems[:20]:
            err_console.print(f"[red]zone problem:[/red] {p}", highlight=False)
        raise _fail(f"zone files refused: {err} (run 'maritime zones check' for the full list)", 2) from None


def _run_zones(paths: list[Path] | None, partial: bool = False) -> ZoneIndex | None:
    """The zones of a run: the bundled Caribbean set by default (also ``bundled``, and ``geofences`` where no
    such folder is), ``none`` for no zones; a run without port or anchorage zones says once what it misses."""
    names = [str(p) for p in paths or []]
    if names == ["none"]:
        err_console.print("zones off (--zones none): no territorial sea, EEZ or geofence alerts, and without port "
                          "or anchorage zones ships at berth and yachts at anchor can look like rendezvous and "
                          "loitering", highlight=False)
        return None
    resolved = [default_zones_dir() if n == "bundled" or (n == "geofences" and not Path(n).exists()) else Path(n)
                for n in names] or [default_zones_dir()]
    index = _zones(resolved, partial=partial)
    if index is not None and not any(z.kind in ("port", "anchorage") for z in index.zones):
        err_console.print("these zones have no port or anchorage zone: ships at berth and yachts at anchor can look "
                          "like rendezvous and loitering (add the bundled zones: --zones bundled --zones FILE)",
                          highlight=False)
    return index


def _redis_url_or_fail(url: str) -> None:
    """Exit 2 with a one-line reason when ``url`` is not a Redis URL (a server that is down is not an error:
    the consumers reconnect)."""
    import redis

    try:
        redis.Redis.from_url(url)
    except ValueError as err:
        raise _fail(f"{redact(url)} is not a Redis URL ({err}); write redis://HOST:PORT/DB", 2) from None


def _live_positions(stack: ExitStack, pipe: Pipeline, url: str) -> None:
    from maritime.delivery.redis_sink import RedisPositions

    positions = RedisPositions(url)
    pipe.add_listener(positions)
    stack.callback(positions.close)


class _MemorySink:
    """Keeps alerts in a list (for the replay map)."""

    def __init__(self, into: list[Any]) -> None:
        self.into = into

    def write(self, alert: Any) -> None:
        self.into.append(alert)

    def close(self) -> None:
        pass


def build_pipeline(settings: Settings, sinks: list[Sink], dead: DeadLetter | None,
                   zones: ZoneIndex | None = None, watchlists: list[Path] | None = None,
                   profiles: Path | None = None, redis_url: str | None = None) -> Pipeline:
    """The embedded pipeline from the one assembly; a settings problem exits with status 2."""
    try:
        assembly = Assembly.from_settings(settings, zones, watchlists=watchlists or [], profiles=profiles,
                                          redis_url=redis_url)
    except AssemblyError as err:
        raise _fail(str(err), 2) from None
    return Pipeline(settings, assembly=assembly, sinks=sinks, on_reject=dead)


@app.command()
def replay(
    files: Annotated[
        list[str], typer.Argument(help="NMEA recordings (plain or .gz), globs, CSV tables, or - for stdin")
    ],
    alerts: Annotated[Path | None, typer.Option("--alerts", help="write alerts here (JSON lines)")] = None,
    zones: Annotated[list[Path] | None, typer.Option(
        "--zones", help="zone file or folder (repeatable; default: the bundled Caribbean zones; 'none': no zones)")]
    = None,
    map_out: Annotated[Path | None, typer.Option("--map", help="write a replay map here (HTML, works offline)")]
    = None,
    summary_json: Annotated[Path | None, typer.Option("--summary-json", help="write the run summary here")] = None,
    dead_letter: Annotated[Path | None, typer.Option("--dead-letter", help="write rejected lines here")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="settings file (TOML)")] = None,
    start_time: Annotated[str | None, typer.Option(help="ISO time for lines with no timestamp at all")] = None,
    redis_url: Annotated[str | None, typer.Option("--redis", help="also send alerts to Redis streams (URL)")] = None,
    webhooks: Annotated[bool, typer.Option("--webhooks", help="also POST alerts to the configured centres")]
    = False,
    watchlist: Annotated[list[Path] | None, typer.Option("--watchlist", help="vessels of interest (CSV/JSON)")]
    = None,
    profiles: Annotated[Path | None, typer.Option(
        "--profiles", help="keep vessel profiles in this SQLite file (or 'redis', with --redis)")] = None,
    boards: Annotated[Path | None, typer.Option(
        "--boards", help="write the centres' daily arrivals boards to this folder (JSON and CSV)")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-j", min=1, help="processes to use: NMEA files are decoded in workers - 1 of them beside the "
        "detectors, with the same results (default: the number of cores; 1: one process)")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or table")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True)] = 0,
) -> None:
    """Replay recordings through the detectors as fast as possible and print a summary."""
    _setup_logging(verbose)
    overrides = {"ingest.start_time": start_time} if start_time else None
    settings = _settings(config, overrides)
    specs = _specs(files)
    if any(s.kind in ("tcp", "udp") for s in specs):
        raise _fail("replay reads recordings; use 'maritime watch' for live feeds", 2)
    for opt, path in (("--alerts", alerts), ("--map", map_out), ("--summary-json", summary_json),
                      ("--dead-letter", dead_letter)):
        _check_output(opt, path)
    zone_index = _run_zones(zones)
    with ExitStack() as stack:
        outs = _Outputs(stack, alerts, dead_letter, settings, redis_url, webhooks)
        shown = _LatestSink() if alerts is None and not quiet else None
        if shown is not None:
            outs.sinks.append(shown)
        collected: list[Any] = []
        if map_out is not None:
            from maritime.views.maps import TrackCollector

            tracks = TrackCollector()
            collected.append(tracks)
            outs.sinks.append(_MemorySink(collected))
        pipe = build_pipeline(settings, outs.sinks, outs.dead, zone_index, watchlist, profiles, redis_url)
        _board_files(pipe, boards, settings, outs.written)
        if collected:
            pipe.add_listener(collected[0])
        if redis_url:
            _live_positions(stack, pipe, redis_url)
        show = not quiet and err_console.is_terminal
        n_workers = workers if workers is not None else default_workers()
        try:
            with replay_gc():
                if show:
                    with _replay_progress() as update:
                        summary = pipe.replay(specs, progress=update, workers=n_workers)
                else:
                    summary = pipe.replay(specs, workers=n_workers)
        except SourceError as err:
            raise _fail(str(err)) from None
        except OSError as err:
            raise _fail(f"{err.filename or 'input'}: cannot be read ({err.strerror})") from None
    if map_out is not None:
        from maritime.views.maps import replay_map

        replay_map([a.as_dict() for a in collected[1:]], map_out, tracks=collected[0], zones=zone_index)
        outs.written["map"] = str(map_out)
    refused: dict[str, int] = {}
    for sk in outs.sinks:  # alerts a full delivery spool could not keep: said in the summary and on the console
        n = getattr(getattr(sk, "spool", None), "refused", 0)
        if n:
            refused[redact(getattr(sk, "target", type(sk).__name__))] = n
    if refused:
        summary["delivery_refused"] = refused
    if summary_json is not None:
        try:
            summary_json.parent.mkdir(parents=True, exist_ok=True)
            summary_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        except OSError as err:
            raise _fail(f"{summary_json}: cannot be written ({err.strerror})") from None
        outs.written["summary"] = str(summary_json)
    if not quiet:
        _print_summary(summary, outs.written)
        for target, n in refused.items():
            err_console.print(f"[red]warning:[/] {escape(redact(target))}: {n:,} alerts were not kept: its delivery "
                              "spool was full ([delivery] spool_max)", highlight=False)
        if shown is not None:
            events = [a for a in shown.latest.values() if a["status"] != "cancelled"]
            if events:
                _print_events(events, "Events (no --alerts: not kept)", limit=40)
    if summary["messages"] == 0 and summary["lines"] > 0:
        err_console.print(f"[yellow]warning:[/] {escape(_nothing_decoded(summary, specs))}", highlight=False)


@app.command()
def watch(
    sources: Annotated[list[str], typer.Argument(help="tcp://HOST:PORT, udp://[HOST]:PORT, files or -")],
    alerts: Annotated[Path | None, typer.Option("--alerts", help="append alerts here (JSON lines)")] = None,
    zones: Annotated[list[Path] | None, typer.Option(
        "--zones", help="zone file or folder (repeatable; default: the bundled Caribbean zones; 'none': no zones)")]
    = None,
    dead_letter: Annotated[Path | None, typer.Option("--dead-letter", help="write rejected lines here")] = None,
    summary_json: Annotated[Path | None, typer.Option("--summary-json", help="write the run summary at exit")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="settings file (TOML)")] = None,
    duration: Annotated[float | None, typer.Option(help="stop after this many seconds (default: run until Ctrl-C)")]
    = None,
    redis_url: Annotated[str | None, typer.Option("--redis", help="also send alerts to Redis streams (URL)")] = None,
    webhooks: Annotated[bool, typer.Option(help="POST alerts to the centres' webhooks in the settings")] = True,
    watchlist: Annotated[list[Path] | None, typer.Option("--watchlist", help="vessels of interest (CSV/JSON)")]
    = None,
    profiles: Annotated[Path | None, typer.Option(
        "--profiles", help="keep vessel profiles in this SQLite file (or 'redis', with --redis)")] = None,
    web_at: Annotated[str | None, typer.Option("--web", help="serve the live map on HOST:PORT")] = None,
    token: Annotated[str | None, typer.Option(help="token the live map requires (default: none on localhost)")]
    = None,
    tile_url: Annotated[str | None, typer.Option(help="online tile URL for the live map in connected rooms")] = None,
    drop_after_min: Annotated[float, typer.Option(help="live map: drop vessels not heard for this long (min)")]
    = 60.0,
    triage: Annotated[str | None, typer.Option("--triage", help="live map: " + _STORE_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="alerts on stdout as JSON lines, not readable lines")]
    = False,
    boards: Annotated[Path | None, typer.Option(
        "--boards", help="write the centres' daily arrivals boards to this folder (JSON and CSV)")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-j", min=1, help="processes to use: the feeds are decoded in workers - 1 of them beside the "
        "detectors (default: the number of cores; 1: one process)")] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True)] = 0,
) -> None:
    """Run live on NMEA feeds: alerts as they happen, until interrupted.

    Each alert is printed as one line (time, severity, type, vessel, place, summary), or as JSON with --json;
    --alerts also appends them to a file."""
    _setup_logging(max(verbose, 1))
    settings = _settings(config)
    specs = _specs(sources)
    web_addr = _host_port(web_at) if web_at is not None else None
    zone_index = _run_zones(zones)
    with ExitStack() as stack:
        outs = _Outputs(stack, alerts, dead_letter, settings, redis_url, webhooks)
        if as_json:
            outs.sinks.append(JsonLinesSink(sys.stdout))
        else:
            from maritime.delivery.console import ConsoleSink

            outs.sinks.append(ConsoleSink(sys.stdout))
        pipe = build_pipeline(settings, outs.sinks, outs.dead, zone_index, watchlist, profiles, redis_url)
        _board_files(pipe, boards, settings, outs.written)
        if redis_url:
            _live_positions(stack, pipe, redis_url)

        live = None
        board = None
        if web_at is not None:
            from maritime.views.web import LiveState

            live = LiveState(drop_after_s=drop_after_min * 60)
            pipe.add_listener(live)
            pipe.sinks.append(live)
            from maritime.runtime.arrivals import ArrivalsBoard

            board = ArrivalsBoard(profiles=pipe.profile_store, risk_weights=settings.risk_weights)
            pipe.add_listener(board)
            pipe.sinks.append(board)

        async def main() -> dict[str, Any]:
            stop = _stop_event(duration)
            runner = None
            if live is not None and web_addr is not None:
                from maritime.views.web import default_token, make_app

                host, port = web_addr
                need = default_token(host, token)
                runner = await _listen(make_app(live, token=need, zones=zone_index, tile_url=tile_url,
                                                profiles=pipe.profile_store, risk_weights=settings.risk_weights,
                                                hosts=[host] if need is None else None,
                                                triage=stack.enter_context(
                                                    closing(_triage_store(triage or settings.triage_store))),
                                                arrivals=board),
                                       host, port)
            refresher = None
            if redis_url and pipe.assembly is not None and pipe.assembly.watch_entries is not None:
                refresher = asyncio.create_task(_refresh_watchlist(pipe, redis_url, list(watchlist or []), settings))
            try:
                return await pipe.run_live(specs, stop, workers if workers is not None else default_workers())
            finally:
                if refresher is not None:
                    refresher.cancel()
                if runner is not None:
                    await runner.cleanup()

        summary = asyncio.run(main())
    if summary_json is not None:
        summary_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    err_console.print(f"watched {summary['lines']:,} lines, {summary['messages']:,} messages, "
                      f"{sum(summary['alerts_by_type'].values())} alerts")


zones_app = typer.Typer(no_args_is_help=True, help="Zone files: build the Caribbean defaults, check, import, query.")
app.add_typer(zones_app, name="zones")

DEFAULT_ZONES = Path(__file__).resolve().parent.parent / "geofences"


def default_zones_dir() -> Path:
    """The bundled Caribbean zone folder (the ``geofences`` package data)."""
    import importlib.resources

    try:
        cand = Path(str(importlib.resources.files("maritime_geofences")))
    except ModuleNotFoundError:
        cand = DEFAULT_ZONES
    if cand.is_dir() and any(cand.glob("*.geojson")):
        return cand
    raise _fail("the default Caribbean zones are not installed; run 'maritime zones build --out DIR'")


@zones_app.command("build")
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
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True)] = 0,
) -> None:
    """Make the default Caribbean zones from Natural Earth 10 m land: territorial seas, EEZs, ports,
    anchorages, examples; or, with --wpi-ports, the port gazetteer that reads AIS destinations."""
    _setup_logging(verbose)
    from maritime.zones.build import build, build_anchorages

    if gfw_anchorages is not None and not gfw_anchorages.is_file():
        raise _fail(f"GFW anchorages: {gfw_anchorages}: no such file")
    if wpi_ports is not None:
        from maritime.zones.ports import BUNDLED, build_port_index, write_port_index

        try:
            wpi = json.loads(wpi_ports.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise _fail(f"--wpi-ports {wpi_ports}: not a readable GeoJSON file ({err})", 2) from None
        bundled = _zones([default_zones_dir()])
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


@zones_app.command("learn")
def zones_learn(
    files: Annotated[list[str], typer.Argument(help="NMEA recordings (plain or .gz), globs, or CSV tables")],
    out: Annotated[Path, typer.Option("--out", help="zone file (GeoJSON) to write")],
    zones: Annotated[list[Path] | None, typer.Option(
        "--zones", help="leave out places these zones already draw (default: the bundled zones; 'none')")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="settings file (TOML)")] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True)] = 0,
) -> None:
    """Learn anchorages from recordings: where many distinct vessels rested. Writes a zone file to review."""
    _setup_logging(verbose)
    from maritime.runtime.learn import learn_anchorages

    settings = _settings(config)
    known = None if zones and [str(z) for z in zones] == ["none"] else _zones(zones or [default_zones_dir()])
    feats, summary = learn_anchorages(settings, _specs(files), known)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"type": "FeatureCollection", "name": "learned_anchorages", "features": feats},
                              indent=1) + "\n", encoding="utf-8")
    a = settings.anchorages
    out_console.print(f"{out}: {len(feats)} learned anchorages from {summary['positions']:,} positions "
                      f"(cells where at least {a.min_vessels} distinct vessels rested {a.rest_min_h:g} h); "
                      f"review them before adding them to the zones", highlight=False)


@zones_app.command("check")
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


@zones_app.command("which", context_settings={"ignore_unknown_options": True})
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
        raise _fail(f"{lat}, {lon} is not a latitude, longitude pair{hint}", 2)
    index = _zones(zones or [default_zones_dir()])
    assert index is not None
    found = index.containing(lat, lon)
    if not found and index.containing(lon, lat):
        raise _fail(f"no zone contains {lat}, {lon}, but {lon}, {lat} is in "
                    f"{index.containing(lon, lat)[0].name}: latitude and longitude swapped? "
                    f"(latitude first: maritime zones which {lon} {lat})", 2)
    if as_json:
        sys.stdout.write(json.dumps([z.properties for z in found], ensure_ascii=False) + "\n")
        return
    if not found:
        typer.echo("no zone contains this point")
    for z in found:
        typer.echo(f"{z.id}\t{z.kind}\t{z.name}\t{z.authority or ''}")


@zones_app.command("list")
def zones_list(
    paths: Annotated[list[Path] | None, typer.Argument(help="zone files or folders (default: bundled)")] = None,
) -> None:
    """Summarise zones: count by kind, and authorities."""
    from collections import Counter

    index = _zones(paths or [default_zones_dir()])
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


@zones_app.command("import")
def zones_import(
    source: Annotated[Path, typer.Argument(help="Shapefile, GeoPackage or GeoJSON")],
    kind: Annotated[str, typer.Option("--kind", help="zone kind for every feature")],
    id_field: Annotated[str, typer.Option("--id-field", help="attribute holding a unique id")],
    name_field: Annotated[str, typer.Option("--name-field", help="attribute holding the name")],
    out: Annotated[Path, typer.Option("--out", help="zone GeoJSON to write")],
    authority_field: Annotated[str | None, typer.Option("--authority-field")] = None,
    alert_on: Annotated[str, typer.Option(help="comma-separated rules: entry,exit,dwell,speed")] = "",
    layer: Annotated[str | None, typer.Option(help="layer of a multi-layer source")] = None,
) -> None:
    """Convert an official dataset (Marine Regions, WDPA, a coast guard's own areas) into zone GeoJSON."""
    from maritime.zones.build import import_zones
    from maritime.zones.index import ZONE_KINDS

    if kind not in ZONE_KINDS:
        raise _fail(f"unknown kind {kind!r} (one of {', '.join(ZONE_KINDS)})", 2)
    try:
        n = import_zones(source, out, kind=kind, id_field=id_field, name_field=name_field,
                         authority_field=authority_field, alert_on=[a for a in alert_on.split(",") if a], layer=layer)
    except (OSError, ValueError, KeyError) as err:
        raise _fail(f"{source}: {err}") from None
    out_console.print(f"wrote {n} zones to {out}")


@app.command()
def simulate(
    out: Annotated[Path, typer.Option("--out", help="folder for traffic.nmea and truth.json")],
    hours: Annotated[float, typer.Option(help="simulated hours")] = 24.0,
    vessels: Annotated[int, typer.Option(help="number of vessels")] = 200,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same files)")] = 1,
    zones: Annotated[list[Path] | None, typer.Option("--zones", help="zones (default: bundled Caribbean zones)")]
    = None,
    events: Annotated[str, typer.Option(help="default, none, or a JSON file of events")] = "default",
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True)] = 0,
) -> None:
    """Simulate Caribbean AIS traffic with scripted events and their ground truth."""
    _setup_logging(verbose)
    if hours <= 0 or vessels <= 0:
        raise _fail("--hours and --vessels must be positive", 2)
    if events not in ("default", "none") and not Path(events).is_file():
        raise _fail(f"{events}: no such events file", 2)
    info = _simulate(out, hours, vessels, seed, zones, events)
    out_console.print(f"wrote {out / 'traffic.nmea'} ({info['lines']:,} lines, {info['messages']:,} position "
                      f"reports, {info['vessels']} vessels) and {out / 'truth.json'} ({info['events']} events)")


def _simulate(out: Path, hours: float, vessels: int, seed: int, zones: list[Path] | None, events: str
              ) -> dict[str, Any]:
    from maritime.sim.simulator import Simulator

    index = _zones(zones or [default_zones_dir()])
    sim = Simulator(hours, vessels, seed, zones=index, events=events)
    if not err_console.is_terminal:
        sim.build()
        return sim.write(out)
    with Progress(TextColumn("{task.description:<16}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=err_console, transient=True) as bar:
        plan = bar.add_task("planning voyages", total=1.0)
        sim.build(progress=lambda f: bar.update(plan, completed=f))
        bar.update(plan, completed=1.0)
        write = bar.add_task("writing reports", total=1.0)
        return sim.write(out, progress=lambda f: bar.update(write, completed=f))


def _ordinary_line(life: dict[str, Any]) -> str:
    scenes = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(life["scenes"].items(), key=lambda kv: -kv[1]))
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(life["by_type"].items())) or "none"
    return f"ordinary life: {life['vessels']} vessels ({scenes}): {life['false_alerts']} false alerts ({kinds})"


def _score(truth: Path, alerts: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    from maritime.sim.evaluate import evaluate as score
    from maritime.sim.evaluate import load_alerts, load_ordinary, load_truth, ordinary_life

    events, got = load_truth(truth), load_alerts(alerts)
    return score(events, got), ordinary_life(load_ordinary(truth), events, got)


def _looks_like_truth(path: Path) -> bool:
    """Whether a file is a simulator's ``truth.json`` (one JSON document with ``events``), not alert lines."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    first_line = head.lstrip().split(b"\n", 1)[0]
    return head.lstrip()[:1] == b"{" and b'"events"' in head and b'"summary"' not in first_line


def _print_scores(report: dict[str, dict[str, Any]]) -> None:
    table = Table(title="Detected vs scripted", title_justify="left")
    for col in ("type", "truth", "alerts", "matched", "recall", "precision"):
        table.add_column(col, justify="left" if col == "type" else "right")
    for kind, r in report.items():
        table.add_row(kind, str(r["truth"]), str(r["alerts"]), str(r["matched"]),
                      "-" if r["recall"] is None else f"{r['recall']:.2f}",
                      "-" if r["precision"] is None else f"{r['precision']:.2f}")
    out_console.print(table)


@app.command()
def evaluate(
    truth: Annotated[Path, typer.Argument(help="truth.json from maritime simulate (or another generator)")],
    alerts: Annotated[Path, typer.Argument(help="alerts JSON lines")],
    as_json: Annotated[bool, typer.Option("--json", help="print the scores as JSON")] = False,
) -> None:
    """Precision and recall per alert type against ground truth, and the false alarms on ordinary life.

    Ordinary life: the truth's vessels marked "ordinary" (yachts at anchor, boats at a FAD, ...)."""
    if _looks_like_truth(alerts) and not _looks_like_truth(truth):
        raise _fail(f"the arguments look swapped: {alerts} is a truth file and {truth} is not; the order is: "
                    "maritime evaluate TRUTH ALERTS", code=2)
    try:
        report, life = _score(truth, alerts)
    except (OSError, ValueError, KeyError) as err:
        raise _fail(f"cannot read the inputs: {err}") from None
    if as_json:
        sys.stdout.write(json.dumps({**report, "ordinary_life": life}, indent=1) + "\n")
    else:
        _print_scores(report)
        if life["vessels"]:
            out_console.print(_ordinary_line(life), highlight=False)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="folder for everything the demo writes")] = Path("demo-out"),
    hours: Annotated[float, typer.Option(help="simulated hours")] = 12.0,
    vessels: Annotated[int, typer.Option(help="number of vessels")] = 120,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
) -> None:
    """The one-command demo: simulate Caribbean traffic, replay it with the Caribbean zones, score the alerts."""
    _setup_logging(0)
    zones_dir = default_zones_dir()
    if hours <= 0 or vessels <= 0:
        raise _fail("--hours and --vessels must be positive", 2)
    err_console.print(f"simulating {hours:g} h of Caribbean traffic, {vessels} vessels (seed {seed}) ...")
    info = _simulate(out, hours, vessels, seed, [zones_dir], "default")
    err_console.print(f"replaying {info['lines']:,} lines through the detectors ...")
    settings = _settings(None)
    index = _zones([zones_dir])
    alerts_path = out / "alerts.jsonl"
    from maritime.views.maps import TrackCollector, replay_map

    tracks = TrackCollector()
    with ExitStack() as stack:
        outs = _Outputs(stack, alerts_path, out / "rejected.jsonl")
        pipe = build_pipeline(settings, outs.sinks, outs.dead, index)
        pipe.add_listener(tracks)
        specs = parse_source(str(out / "traffic.nmea"))
        with replay_gc():
            if err_console.is_terminal:
                with _replay_progress() as update:
                    summary = pipe.replay(specs, progress=update, workers=default_workers())
            else:
                summary = pipe.replay(specs, workers=default_workers())
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    map_path = replay_map(alerts_path, out / "map.html", tracks=tracks, zones=index)
    outs.written["map"] = str(map_path)
    report, life = _score(out / "truth.json", alerts_path)
    (out / "scorecard.json").write_text(json.dumps({**report, "ordinary_life": life}, indent=1) + "\n",
                                        encoding="utf-8")
    _print_summary(summary, outs.written)
    _print_scores(report)
    _print_top_events(alerts_path)
    # (paths are never wrapped: they are to be copied)
    out_console.print(_scorecard_line(report, life), highlight=False)
    out_console.print(f"traffic, truth, alerts, scorecard: {escape(str(out))}/", highlight=False, soft_wrap=True)
    out_console.print(f"[bold]open {escape(str(map_path))}[/bold] in a browser (works offline)", highlight=False,
                      soft_wrap=True)


def _scorecard_line(report: dict[str, dict[str, Any]], life: dict[str, Any]) -> str:
    """The scorecard in one line: recall and precision over every scripted event, and the ordinary-life count."""
    truth = sum(r["truth"] for r in report.values())
    alerts = sum(r["alerts"] for r in report.values())
    matched = sum(r["matched"] for r in report.values())
    recall = f"{matched / truth:.2f}" if truth else "-"
    precision = f"{matched / alerts:.2f}" if alerts else "-"
    line = f"scorecard: {matched} of {truth} scripted events found (recall {recall}), precision {precision}"
    if life.get("vessels"):
        line += f"; ordinary life: {life['false_alerts']} false alerts on {life['vessels']} vessels"
    return line


def _print_top_events(alerts_path: Path, severities: tuple[str, ...] = ("critical", "high")) -> None:
    """The high and critical events of a run, newest record of each, in a short table for the watch officer."""
    latest: dict[str, dict[str, Any]] = {}
    for line in alerts_path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            a = json.loads(line)
            latest[a["id"]] = a
    top = [a for a in latest.values() if a["severity"] in severities and a["status"] != "cancelled"]
    if not top:
        out_console.print("no high or critical events")
        return
    _print_events(top, "High and critical events", where=alerts_path)


#: most severe first (the contract's order, reversed)
_SEVERITY_RANK = {s: i for i, s in enumerate(reversed(SEVERITIES))}


def _print_events(events: list[dict[str, Any]], title: str, limit: int = 15, where: Path | None = None) -> None:
    """Events (the newest record of each, contract JSON) in a table: most severe first, then by start."""
    from rich import box

    events = sorted(events, key=lambda a: (_SEVERITY_RANK.get(a["severity"], 5), a["start"]))
    table = Table(title=f"{title} ({len(events)})", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, expand=True)
    for col in ("time", "severity", "type", "vessel", "place"):
        table.add_column(col, no_wrap=True)
    table.add_column("summary", ratio=1, overflow="ellipsis", no_wrap=True)
    for a in events[:limit]:
        v = (a.get("vessels") or [{}])[0]
        who = v.get("name") or f"MMSI {v.get('mmsi', '?')}"
        if len(a.get("vessels") or []) > 1:
            who += f" +{len(a['vessels']) - 1}"
        pos = a.get("position") or {}
        j = a.get("jurisdiction") or {}
        waters = (j.get("territorial_sea") or j.get("eez") or {}).get("country")
        if a.get("zone"):
            place = a["zone"]["name"]
        elif pos.get("lat") is not None and pos.get("lon") is not None:
            lat, lon = pos["lat"], pos["lon"]
            place = f"{abs(lat):.2f}°{'N' if lat >= 0 else 'S'} {abs(lon):.2f}°{'E' if lon >= 0 else 'W'}"
            place += f" ({waters})" if waters else ""
        else:
            place = "-"
        table.add_row(escape(a["start"][5:16].replace("T", " ") + "Z"), a["severity"].upper(),
                      a["type"].replace("_", " "), escape(who[:24]), escape(place[:28]), escape(a["summary"]))
    out_console.print(table)
    if len(events) > limit:
        more = f"... and {len(events) - limit} more"
        out_console.print(more + (f" in {escape(str(where))}" if where else ": --alerts FILE keeps every record"),
                          soft_wrap=True)


class _LatestSink:
    """Keeps the newest record of each event (for the alert table of a replay without --alerts)."""

    def __init__(self) -> None:
        self.latest: dict[str, dict[str, Any]] = {}

    def write(self, alert: Any) -> None:
        self.latest[alert.id] = alert.as_dict()

    def close(self) -> None:
        pass


async def _refresh_watchlist(pipe: Pipeline, url: str, files: list[Path], settings: Settings,
                             every_s: float = 60.0) -> None:
    """Re-read the shared watchlist from Redis every minute (centres update it at run time)."""
    from maritime.enrich.watchlist import WatchlistError, load_watchlist, redis_entries

    while True:
        await asyncio.sleep(every_s)
        try:
            entries = [e for f in [*(Path(p) for p in settings.watchlists), *files] for e in load_watchlist(f)]
            entries += await asyncio.to_thread(redis_entries, url)
        except (OSError, WatchlistError, Exception) as err:  # keep the last good list
            logger.warning("watchlist refresh failed: %s", err)
            continue
        if pipe.assembly is not None:
            pipe.assembly.replace_watch_entries(entries)


def _stop_event(duration: float | None) -> asyncio.Event:
    """An event set by Ctrl-C, SIGTERM or, if given, after ``duration`` seconds (call inside the loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if duration is not None:
        loop.call_later(duration, stop.set)
    return stop


def _host_port(text: str) -> tuple[str, int]:
    """A ``--web HOST:PORT`` checked before any work: a port in range, a host that resolves (else exit 2)."""
    import socket

    host, _, port_text = text.rpartition(":")
    host = (host or "127.0.0.1").strip("[]")
    try:
        port = int(port_text)
    except ValueError:
        raise _fail(f"--web {text}: expected HOST:PORT", 2) from None
    if not 1 <= port <= 65535:
        raise _fail(f"--web {text}: the port must be a number from 1 to 65535", 2)
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise _fail(f"--web {text}: the host {host!r} is not known here ({err})", 2) from None
    return host, port


async def _listen(app_: Any, host: str, port: int) -> Any:
    """Start the web server, or exit 2 with the reason (a port in use, no permission)."""
    from maritime.views.web import start_server

    try:
        return await start_server(app_, host, port)
    except OSError as err:
        raise _fail(f"--web {host}:{port}: cannot listen there ({err.strerror or err})", 2) from None


@app.command()
def serve(
    redis_url: Annotated[str, typer.Option("--redis", help="Redis the pipeline or workers write to")],
    web_at: Annotated[str, typer.Option("--web", help="HOST:PORT to serve on")] = "127.0.0.1:8080",
    token: Annotated[str | None, typer.Option(help="token the page and API require")] = None,
    zones: Annotated[list[Path] | None, typer.Option(
        "--zones", help="zones to draw (default: the bundled Caribbean zones; 'none')")] = None,
    tile_url: Annotated[str | None, typer.Option(help="online tile URL for connected rooms")] = None,
    duration: Annotated[float | None, typer.Option(help="stop after this many seconds")] = None,
    triage: Annotated[str | None, typer.Option("--triage", help=_STORE_HELP)] = None,
    config: Annotated[Path | None, typer.Option("--config", help="settings file (TOML)")] = None,
) -> None:
    """The live operations map, fed from Redis (alerts stream, latest positions); triage kept and shared."""
    from maritime.views.web import LiveState, default_token, follow_redis, make_app

    _setup_logging(1)
    _redis_url_or_fail(redis_url)
    host, port = _host_port(web_at)
    index = _run_zones(zones)
    state = LiveState()
    store = _triage_store(triage or _settings(config).triage_store)

    async def main() -> None:
        stop = _stop_event(duration)
        need = default_token(host, token)
        runner = await _listen(make_app(state, token=need, zones=index, tile_url=tile_url,
                                        hosts=[host] if need is None else None, triage=store), host, port)
        follower = asyncio.create_task(follow_redis(state, redis_url, stop))
        try:
            await stop.wait()
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
            await runner.cleanup()

    try:
        asyncio.run(main())
    finally:
        store.close()


@app.command("map")
def map_cmd(
    alerts: Annotated[Path, typer.Argument(help="alerts JSON lines")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write")],
    tracks: Annotated[list[str] | None, typer.Option("--tracks", help="NMEA recordings to draw tracks from")] = None,
    zones: Annotated[list[Path] | None, typer.Option(
        "--zones", help="zones to draw (default: the bundled Caribbean zones; 'none')")] = None,
    tile_url: Annotated[str | None, typer.Option(help="online tile URL for connected rooms (offline by default)")]
    = None,
) -> None:
    """Draw alerts (and tracks, zones) on a replay map that works offline."""
    from maritime.views.maps import TrackCollector, replay_map

    if not alerts.is_file():
        raise _fail(f"{alerts}: no such file")
    collector = None
    if tracks:
        collector = TrackCollector()
        pipe = Pipeline(_settings(None))
        pipe.add_listener(collector)
        pipe.replay(_specs(tracks))
    index = _run_zones(zones)
    try:
        path = replay_map(alerts, out, tracks=collector, zones=index, tile_url=tile_url)
    except (ValueError, KeyError) as err:
        raise _fail(f"{alerts}: not an alerts file ({err})") from None
    out_console.print(f"wrote {path}")


@app.command("redis-acl")
def redis_acl(
    config: Annotated[Path, typer.Option("--config", help="settings file with the centres' subscriptions")],
    apply: Annotated[bool, typer.Option("--apply", help="create the users that do not exist yet on --redis")] = False,
    redis_url: Annotated[str | None, typer.Option("--redis", help="Redis URL (an admin user) for --apply")] = None,
    secrets_file: Annotated[Path | None, typer.Option(
        "--secrets", help="where the passwords are kept (0600; default: redis-acl-secrets.json beside --config)")]
    = None,
    pipeline_user: Annotated[str, typer.Option(help="the pipeline's own Redis user")] = "mda-pipeline",
    pipeline_password: Annotated[str | None, typer.Option(help="its password (default: generated once, kept)")]
    = None,
    reset: Annotated[bool, typer.Option("--reset", help="set users that already exist again (rules, password)")]
    = False,
) -> None:
    """Redis ACL users, one per centre, reading only its own stream and consumer groups; and the pipeline's.

    Passwords are generated once and kept in the secrets file (mode 0600), never printed; a subscription's
    ``redis_password`` or ``--pipeline-password`` is used instead where given. Without ``--apply``, a preview of
    what ``--apply`` will do. Re-running changes nothing that exists (``--reset`` sets existing users again).
    """
    from maritime.delivery.redis_sink import AclSecrets, acl_commands

    settings = _settings(config)
    if not settings.subscriptions:
        raise _fail(f"{config}: no [[subscriptions]] to make users for", 2)
    if apply and not redis_url:
        raise _fail("--apply needs --redis URL", 2)
    path = secrets_file or config.with_name("redis-acl-secrets.json")
    try:
        kept = AclSecrets.load(path)
    except (OSError, ValueError) as err:
        raise _fail(f"{path}: cannot read the kept passwords: {err}", 2) from None
    wanted = {f"centre-{sub.id}": sub.redis_password for sub in settings.subscriptions}
    wanted[pipeline_user] = pipeline_password
    new_users = kept.fill(wanted)
    passwords = {sub.id: kept.passwords[f"centre-{sub.id}"] for sub in settings.subscriptions}
    cmds = acl_commands(list(settings.subscriptions), passwords, pipeline_user, kept.passwords[pipeline_user])
    existing: set[str] = set()
    client: Any = None
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        try:
            existing = {c[2] for c in cmds if client.execute_command("ACL", "GETUSER", c[2]) is not None}
        except redis.RedisError as err:
            raise _fail(f"{redis_url}: {err}") from None
    todo = [c for c in cmds if reset or c[2] not in existing]
    for c in cmds:
        user = c[2]
        state = ("set again (--reset)" if user in existing else "create") if c in todo else "exists: kept"
        if c not in todo and user in new_users:  # its password was never kept here: do not keep a wrong one
            kept.passwords.pop(user)
            new_users.discard(user)
            state += f" (its password is not in {path}; --reset sets a new one)"
        pw = "a new password" if user in new_users else "its kept password"
        out_console.print(f"{user}: {state}" + (f", with {pw}" if c in todo else ""), highlight=False)
    if not apply:
        out_console.print(f"preview: nothing changed; --apply creates what says 'create' (passwords kept in {path})",
                          highlight=False)
        return
    if new_users:
        kept.save(path)
    try:
        for c in todo:
            client.execute_command(*c)
    except redis.RedisError as err:
        raise _fail(f"{redis_url}: {err}") from None
    err_console.print(f"applied {len(todo)} of {len(cmds)} ACL users to {escape(redact(redis_url or ''))}; "
                      f"passwords in {escape(str(path))} (mode 0600). Then disable the default user once an admin "
                      "user exists: ACL SETUSER default off", highlight=False)


alerts_app = typer.Typer(no_args_is_help=True, help="Read alerts as an operations centre does.")
app.add_typer(alerts_app, name="alerts")


@alerts_app.command("tail")
def alerts_tail(
    redis_url: Annotated[str, typer.Option("--redis", help="Redis URL with the centre's credentials")],
    centre: Annotated[str | None, typer.Option("--centre", help="centre id (default: the full stream)")] = None,
    group: Annotated[str, typer.Option("--group", help="consumer group")] = "ops",
    consumer: Annotated[str, typer.Option("--consumer", help="this reader's name in the group")] = "console",
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of readable lines")] = False,
    count: Annotated[int | None, typer.Option(help="stop after this many alerts")] = None,
    claim_idle_s: Annotated[float, typer.Option(help="take over alerts left pending this long by a crashed reader")]
    = 60.0,
    max_wait_s: Annotated[float | None, typer.Option(help="stop after this long with nothing new")] = None,
) -> None:
    """Follow a centre's alert stream through a consumer group (XREADGROUP, XACK, XAUTOCLAIM)."""
    import redis

    from maritime.delivery.reader import CentreReader, ReaderError

    if count is not None and count < 1:
        raise _fail("--count must be at least 1", 2)

    def show(a: dict[str, Any]) -> None:
        if as_json:
            typer.echo(json.dumps(a, ensure_ascii=False))
        else:
            typer.echo(f"{a['time']} {a['severity'].upper():8} {a['type']:16} {a['status']:7} {a['summary']}")

    reader = CentreReader(redis_url, centre, group, consumer, claim_idle_s)
    try:
        reader.open()
        reader.read(show, count=count, max_wait_s=max_wait_s)
    except ReaderError as err:
        raise _fail(str(err), 2) from None
    except redis.RedisError as err:
        raise _fail(f"{redis_url} {reader.stream}: {err}") from None
    except KeyboardInterrupt:
        pass
    finally:
        reader.close()


@app.command()
def vessel(
    key: Annotated[int, typer.Argument(help="MMSI or IMO")],
    profiles: Annotated[Path | None, typer.Option("--profiles", help="the SQLite file a replay or watch kept")]
    = None,
    redis_url: Annotated[str | None, typer.Option("--redis", help="profiles kept in Redis")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    config: Annotated[Path | None, typer.Option("--config", help="settings (risk weights)")] = None,
) -> None:
    """A vessel's profile: identity history, port calls, zones, alerts, and its risk with the factors."""
    from maritime.enrich.profiles import ProfileStore, RedisProfileStore, risk

    store: Any
    if redis_url:
        store = RedisProfileStore(redis_url)
    elif profiles is not None and profiles.is_file():
        store = ProfileStore(profiles)
    elif profiles is None:
        raise _fail("no profiles given: profiles are kept by a run with --profiles FILE (maritime replay ... "
                    "--profiles profiles.sqlite), then read with maritime vessel MMSI --profiles profiles.sqlite "
                    "(or --redis URL)", 2)
    else:
        raise _fail(f"{profiles}: no such profile file (keep one with maritime replay ... --profiles {profiles})")
    prof = store.profile(key)
    store.close()
    if prof is None:
        raise _fail(f"no vessel with MMSI or IMO {key} in {redis_url or profiles}")
    prof["risk"] = risk(prof, _settings(config).risk_weights)
    if as_json:
        typer.echo(json.dumps(prof, ensure_ascii=False, indent=1))
        return
    last = prof["identity_history"][-1]
    typer.echo(f"{last['name'] or '(no name)'} — MMSI {', '.join(map(str, prof['mmsis']))}, IMO {last['imo']}, "
               f"call sign {last['callsign']}, flag {last['flag']}, type {last['ship_type']}")
    typer.echo(f"risk {prof['risk']['score']}: " + "; ".join(
        f"{f['factor']} ×{f['count']} = {f['points']} ({f['why']})" for f in prof["risk"]["factors"]))
    typer.echo("identity history:")
    for i in prof["identity_history"]:
        typer.echo(f"  {i['time']} MMSI {i['mmsi']} {i['name']} {i['callsign']} IMO {i['imo']} flag {i['flag']}")
    typer.echo("port calls:")
    for c in prof["port_calls"][-10:]:
        typer.echo(f"  {c['arrive']} → {c['depart'] or 'still there'} {c['name']}")
    typer.echo("alerts:")
    for a in prof["alerts"][-20:]:
        typer.echo(f"  {a['time']} {a['type']} {a['status']} {a['severity']} {a['summary']}")


watchlist_app = typer.Typer(no_args_is_help=True, help="Vessels of interest: list, add, remove (CSV files).")
app.add_typer(watchlist_app, name="watchlist")


def _load_wl(path: Path, missing_ok: bool = False) -> list[Any]:
    from maritime.enrich.watchlist import WatchlistError, load_watchlist

    if missing_ok and not path.exists():
        return []
    try:
        return load_watchlist(path)
    except WatchlistError as err:
        raise _fail(str(err), 2) from None


@watchlist_app.command("list")
def watchlist_list(
    path: Annotated[Path | None, typer.Argument(help="watchlist file")] = None,
    redis_url: Annotated[str | None, typer.Option("--redis", help="the shared watchlist in Redis")] = None,
) -> None:
    """Print the entries (of a file, or of the shared Redis watchlist)."""
    from maritime.enrich.watchlist import redis_entries
    from maritime.models import iso as _iso

    if (path is None) == (redis_url is None):
        raise _fail("give a watchlist file or --redis URL", 2)
    entries = _load_wl(path) if path is not None else redis_entries(str(redis_url))
    for e in entries:
        typer.echo(f"{e.kind}\t{e.value}\t{e.severity}\t{_iso(e.expires_s) or 'never'}\t{e.source}\t{e.reason}")


@watchlist_app.command("add")
def watchlist_add(
    kind: Annotated[str, typer.Option(help="mmsi, imo, callsign or name (a pattern such as '*DRAGON*')")],
    value: Annotated[str, typer.Option()],
    reason: Annotated[str, typer.Option(help="why the vessel is of interest")],
    path: Annotated[Path | None, typer.Argument(help="watchlist file (CSV; created if missing)")] = None,
    source: Annotated[str, typer.Option(help="the centre that listed it")] = "",
    severity: Annotated[str, typer.Option()] = "high",
    expires: Annotated[str, typer.Option(help="ISO date or time (default: never)")] = "",
    redis_url: Annotated[str | None, typer.Option("--redis", help="add to the shared watchlist in Redis")] = None,
) -> None:
    """Add (or replace) an entry in a file or in the shared Redis watchlist."""
    from maritime.enrich.watchlist import WatchlistError, add_to_file, parse_entry, redis_put

    if (path is None) == (redis_url is None):
        raise _fail("give a watchlist file or --redis URL", 2)

    try:
        new = parse_entry({"kind": kind, "value": value, "reason": reason, "source": source, "severity": severity,
                      "expires": expires}, "argument")
    except WatchlistError as err:
        raise _fail(str(err), 2) from None
    if redis_url is not None:
        redis_put(redis_url, new)
        typer.echo(f"{redact(redis_url)}: added {new.kind} {new.value}")
    elif path is not None:
        try:
            n = add_to_file(path, new)
        except WatchlistError as err:
            raise _fail(str(err), 2) from None
        typer.echo(f"{path}: {n} entries")


@watchlist_app.command("remove")
def watchlist_remove(
    kind: Annotated[str, typer.Option()],
    value: Annotated[str, typer.Option()],
    path: Annotated[Path | None, typer.Argument(help="watchlist file")] = None,
    redis_url: Annotated[str | None, typer.Option("--redis", help="remove from the shared Redis watchlist")] = None,
) -> None:
    """Remove an entry from a file or from the shared Redis watchlist."""
    from maritime.enrich.watchlist import WatchlistError, redis_remove, remove_from_file

    if (path is None) == (redis_url is None):
        raise _fail("give a watchlist file or --redis URL", 2)
    if redis_url is not None:
        if not redis_remove(redis_url, kind.lower(), value):
            raise _fail(f"{redis_url}: no {kind} {value!r} in the shared watchlist")
        typer.echo(f"{redact(redis_url)}: removed {kind} {value}")
    elif path is not None:
        try:
            left = remove_from_file(path, kind, value)
        except WatchlistError as err:
            raise _fail(str(err), 2) from None
        if left is None:
            raise _fail(f"{path}: no {kind} {value!r} in the list")
        typer.echo(f"{path}: {left} entries")


# -- the distributed runtime (Faust on Kafka) ----------------------------------------------

_KAFKA = Annotated[str, typer.Option("--kafka", help="Kafka bootstrap server(s), host:port[,host:port]")]
_PARTITIONS = Annotated[int, typer.Option("--partitions", min=1, help="partitions of every topic")]
_PREFIX = Annotated[str, typer.Option("--topic-prefix", help="prefix of every topic")]
_APP_ID = Annotated[str, typer.Option("--app-id", help="Faust app id (consumer group, table topics)")]


def _stream_settings(kafka: str, partitions: int, prefix: str, app_id: str, settings: Settings,
                     data_dir: Path | None = None) -> Any:
    from streams.settings import StreamSettings

    url = kafka if "://" in kafka else ";".join(f"kafka://{h}" for h in kafka.split(","))
    extra: dict[str, Any] = {"data_dir": data_dir} if data_dir is not None else {}
    return StreamSettings(broker=url, partitions=partitions, topic_prefix=prefix, app_id=app_id,
                          detection=settings, **extra)


@app.command()
def ingest(
    sources: Annotated[list[str], typer.Argument(help="NMEA recordings, tcp://host:port, udp://[host]:port or -")],
    kafka: _KAFKA,
    rate: Annotated[float | None, typer.Option("--rate", help="replay at this many times real time")] = None,
    as_fast: Annotated[bool, typer.Option("--as-fast-as-possible", help="replay with no pacing (default)")]
    = False,
    partitions: _PARTITIONS = 4,
    prefix: _PREFIX = "mda.",
    app_id: _APP_ID = "caribbean-mda",
    batch_lines: Annotated[int, typer.Option(min=1, help="lines per batch on the raw topic")] = 2000,
    lanes: Annotated[int, typer.Option(
        min=1, help="split each source over this many raw partitions, so that several workers decode one busy "
        "feed (exact while no line comes later than the reorder window)")] = 1,
    config: Annotated[Path | None, typer.Option("--config", help="settings file (TOML)")] = None,
    start_time: Annotated[str | None, typer.Option(help="ISO time for lines with no timestamp at all")] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True)] = 0,
) -> None:
    """Send recordings (in event-time order, then an end-of-replay mark) or live feeds to Kafka."""
    _setup_logging(verbose)
    from streams.ingest import ingest as run_ingest

    if rate is not None and as_fast:
        raise _fail("--rate and --as-fast-as-possible exclude each other", 2)
    overrides = {"ingest.start_time": start_time} if start_time else None
    settings = _settings(config, overrides)
    specs = _specs(sources)
    kinds = {"live" if s.kind in ("tcp", "udp", "stdin") else s.kind for s in specs}
    if "csv" in kinds:
        raise _fail("ingest sends NMEA lines; replay decoded CSV tables with 'maritime replay'", 2)
    if len(kinds) > 1:
        raise _fail("give recordings or live feeds, not both, to one ingest", 2)
    ss = _stream_settings(kafka, partitions, prefix, app_id, settings)
    stop = asyncio.Event()
    from aiokafka.errors import KafkaError

    try:
        stats = asyncio.run(run_ingest(specs, ss, rate=rate, batch_lines=batch_lines, stop=stop, lanes=lanes))
    except KeyboardInterrupt:
        raise _fail("interrupted", 1) from None
    except (OSError, KafkaError) as err:
        raise _fail(f"Kafka at {kafka}: {err}") from None
    typer.echo(json.dumps(stats.as_dict()))


@app.command()
def worker(
    kafka: _KAFKA,
    alerts: Annotated[Path | None, typer.Option("--alerts", help="append this worker's alerts here (JSON lines)")]
    = None,
    zones: Annotated[list[Path] | None, typer.Option(
        "--zones", help="zone file or folder (repeatable; default: the bundled Caribbean zones; 'none': no zones)")]
    = None,
    config: Annotated[Path | None, typer.Option("--config", help="settings file (TOML)")] = None,
    redis_url: Annotated[str | None, typer.Option("--redis", help="also send alerts to Redis streams (URL)")] = None,
    webhooks: Annotated[bool, typer.Option("--webhooks", help="also POST alerts to the configured centres")]
    = False,
    dead_letter: Annotated[Path | None, typer.Option(
        "--dead-letter", help="append the rejected lines of this worker's partitions here (JSON lines)")] = None,
    watchlist: Annotated[list[Path] | None, typer.Option("--watchlist", help="vessels of interest (CSV/JSON)")]
    = None,
    profiles: Annotated[Path | None, typer.Option(
        "--profiles", help="keep vessel profiles in this SQLite file (one per worker) or 'redis' (shared, "
        "with --redis)")]
    = None,
    partitions: _PARTITIONS = 4,
    prefix: _PREFIX = "mda.",
    app_id: _APP_ID = "caribbean-mda",
    data_dir: Annotated[Path, typer.Option("--data-dir", help="this worker's Faust data folder")]
    = Path(".faust-data"),
    session_timeout: Annotated[float, typer.Option(
        "--session-timeout", help="seconds before a silent worker's partitions go to the others")] = 60.0,
    instance_id: Annotated[str | None, typer.Option(
        "--instance-id", help="a stable name for this worker (static membership: a restart takes its partitions "
        "back without a rebalance)")] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True)] = 0,
) -> None:
    """Run a Faust worker: decode, per-vessel and per-tile detectors, alert delivery (several can run)."""
    _setup_logging(verbose)
    from faust.worker import Worker

    from streams.app import create_app
    from streams.topics import create_topics

    settings = _settings(config)
    zone_index = _run_zones(zones)
    try:
        assembly = Assembly.from_settings(settings, zone_index, watchlists=watchlist or [], profiles=profiles,
                                          redis_url=redis_url)
    except AssemblyError as err:
        raise _fail(str(err), 2) from None
    ss = _stream_settings(kafka, partitions, prefix, app_id, settings, data_dir)
    ss = ss.model_copy(update={"session_timeout_s": session_timeout, "instance_id": instance_id})
    from aiokafka.errors import KafkaError

    try:
        asyncio.run(create_topics(ss))
    except (OSError, KafkaError) as err:
        raise _fail(f"Kafka at {kafka}: {err}") from None
    asyncio.set_event_loop(asyncio.new_event_loop())
    with ExitStack() as stack:
        if alerts is not None:
            alerts.parent.mkdir(parents=True, exist_ok=True)
        outs = _Outputs(stack, None, None, settings, redis_url, webhooks)
        if alerts is not None:
            outs.sinks.append(JsonLinesSink(alerts, append=True))
        listeners: list[Any] = []
        if redis_url:
            from maritime.delivery.redis_sink import RedisPositions

            positions = RedisPositions(redis_url)
            listeners.append(positions)
            stack.callback(positions.close)
        dead_fh = None
        if dead_letter is not None:
            dead_letter.parent.mkdir(parents=True, exist_ok=True)
            dead_fh = stack.enter_context(dead_letter.open("a", encoding="utf-8"))
        faust_app = create_app(ss, zones=zone_index, sinks=outs.sinks, listeners=listeners, dead_letter=dead_fh,
                               assembly=assembly)
        for sink in outs.sinks:
            stack.callback(sink.close)
        stack.callback(assembly.close)
        level = "DEBUG" if verbose > 1 else "INFO" if verbose else "WARNING"
        Worker(faust_app, loglevel=level, quiet=True, redirect_stdouts=False).execute_from_commandline()


#: packages of the full install that the embedded runtime does without (a slim install: README, "Install")
OPTIONAL_PACKAGES = {"faust": "the Faust workers", "mode": "the Faust workers", "aiokafka": "the Faust workers",
                     "redis": "Redis", "aiohttp": "the live map", "aiohttp_sse": "the live map"}


def _value_name(param: Any) -> str:
    """What help shows for a parameter's value: a word for people (``FILE``, ``URL``), not a Python type."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""
    name = (param.name or "").lower()
    ann = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    text = str(ann)
    if "Path" in text or name in ("files", "paths"):
        word = "DIR" if name in ("out", "out_dir", "spool_dir") else "PATH"
    elif "redis" in name or "url" in name or name in ("sources", "feed"):
        word = "URL"
    elif "time" in name:
        word = "ISO-TIME"
    elif ann is int or "int" in text:
        word = "N"
    elif ann is float or "float" in text:
        word = "NUMBER"
    else:
        word = name.upper().replace("_", "-") if name else "TEXT"
    return word + ("..." if getattr(param, "nargs", 1) != 1 or "list" in text else "")


@app.command()
def arrivals(
    port: Annotated[str, typer.Argument(help="the port: a UN/LOCODE (LCCAS), a gazetteer id, or its name")],
    files: Annotated[list[str], typer.Argument(help="NMEA recordings (plain or .gz), globs, CSV tables")],
    hours: Annotated[float, typer.Option(help="how far ahead the board looks (h)")] = 48.0,
    as_json: Annotated[bool, typer.Option("--json", help="the board as JSON")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="the board as CSV")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="also write the board to this file (CSV when it ends "
                                             "in .csv, else JSON): the board for analysts")] = None,
    redis_url: Annotated[str | None, typer.Option("--redis", help="also add the board to the Redis stream "
                                                  "mda:arrivals:<centre> (with --centre): run daily for a daily "
                                                  "board")] = None,
    centre: Annotated[str | None, typer.Option("--centre", help="the subscribed centre the board is for")] = None,
    zones: Annotated[list[Path] | None, typer.Option(
        "--zones", help="zone file or folder (default: the bundled Caribbean zones)")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="settings file (TOML)")] = None,
    watchlist: Annotated[list[Path] | None, typer.Option("--watchlist", help="vessels of interest (CSV/JSON)")]
    = None,
    profiles: Annotated[Path | None, typer.Option("--profiles", help="vessel profiles (SQLite) for the risk")]
    = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True)] = 0,
) -> None:
    """The arrivals board of a port: who is expected in the next hours (declared destination or track), both
    ETAs, and an explained risk score, as of the last event of the recordings."""
    _setup_logging(verbose)
    from maritime.runtime.arrivals import ArrivalsBoard, board_csv

    if as_json and as_csv:
        raise _fail("--json or --csv, not both", 2)
    _check_output("--out", out)
    if (redis_url is None) != (centre is None):
        raise _fail("--redis and --centre go together", 2)
    if redis_url is not None:
        _redis_url_or_fail(redis_url)
    settings = _settings(config)
    if centre is not None and centre not in {sub.id for sub in settings.subscriptions}:
        raise _fail(f"--centre {centre}: no subscription of that id in the settings", 2)
    specs = _specs(files)
    zone_index = _run_zones(zones)
    board = ArrivalsBoard(risk_weights=settings.risk_weights)
    where = board.find_port(port)
    if where is None:
        raise _fail(f"{port!r}: no port of the gazetteer is called that (a UN/LOCODE such as LCCAS, or a name)", 2)
    if where.lat is None:
        raise _fail(f"{where.name}: the gazetteer has no position for it, so no arrivals can be reckoned", 2)
    with ExitStack() as stack:
        outs = _Outputs(stack, None, None, settings, None, False)
        outs.sinks.append(board)
        pipe = build_pipeline(settings, outs.sinks, outs.dead, zone_index, watchlist, profiles, None)
        pipe.add_listener(board)
        if pipe.profile_store is not None:
            board.profiles = pipe.profile_store
        try:
            pipe.replay(specs)
        except SourceError as err:
            raise _fail(str(err)) from None
        except OSError as err:
            raise _fail(f"{err.filename or 'input'}: cannot be read ({err.strerror})") from None
        rows = board.board(where, hours=hours)
    head = {"port": where.as_dict(), "as_of": iso(board.now_s) if board.now_s else None, "hours": hours}
    if out is not None:
        text = board_csv(rows) if out.suffix.lower() == ".csv" else json.dumps(
            {**head, "arrivals": [a.as_dict() for a in rows]}, indent=2) + "\n"
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        except OSError as err:
            raise _fail(f"{out}: cannot be written ({err.strerror})") from None
    if redis_url is not None and centre is not None:
        import redis as _redis

        from maritime.runtime.arrivals import publish_board

        try:
            publish_board(redis_url, centre, {**head, "centre": centre, "arrivals": [a.as_dict() for a in rows]})
        except _redis.RedisError as err:
            raise _fail(f"{redact(redis_url)}: the board was not delivered ({err})", 1) from None
    if as_json:
        typer.echo(json.dumps({**head, "arrivals": [a.as_dict() for a in rows]}, indent=2))
        return
    if as_csv:
        typer.echo(board_csv(rows), nl=False)
        return
    title = (f"Arrivals at {where.name} ({where.locode or where.id}) in the {hours:g} h after "
             f"{head['as_of'] or 'the input'}: {len(rows)}")
    table = Table(title=escape(title))
    for col in ("risk", "vessel", "declared", "ETA declared", "ETA track", "Δ h", "nm", "kn", "why"):
        table.add_column(col)
    for a in rows:
        who = f"{a.name or '(no name)'} · {a.mmsi}" + (f" · IMO {a.imo}" if a.imo else "")
        why = "; ".join(f"{f['factor'].replace('_', ' ')} ×{f['count']}" for f in a.factors) or "-"
        table.add_row(f"{a.risk:g}", escape(who), escape(f"{a.declared_text or '-'}"),
                      (a.eta_declared or "-").replace("T", " ")[:16], (a.eta_track or "-").replace("T", " ")[:16],
                      "-" if a.eta_disagreement_h is None else f"{a.eta_disagreement_h:+.1f}",
                      "-" if a.distance_nm is None else f"{a.distance_nm:g}",
                      "-" if a.sog_kn is None else f"{a.sog_kn:g}", escape(why))
    Console(width=200).print(table)


triage_app = typer.Typer(no_args_is_help=True, help="Alert triage: record what officers concluded, read the trail, "
                         "count false alarms per rule.")
app.add_typer(triage_app, name="triage")

def _triage_store(store: str | None) -> Any:
    from maritime.enrich.triage import TriageError, open_triage

    if store and store.startswith(("redis://", "rediss://")):
        _redis_url_or_fail(store)
    try:
        return open_triage(store)
    except TriageError as err:
        raise _fail(str(err), 2) from None


@triage_app.command("set")
def triage_set(
    alert_id: Annotated[str, typer.Argument(help="the alert's id (as in the alert)")],
    action: Annotated[str, typer.Argument(help="acknowledge, false_alarm, escalate, close or reopen")],
    officer: Annotated[str, typer.Option(help="who takes the action")],
    note: Annotated[str, typer.Option(help="what the officer says")] = "",
    reason: Annotated[str | None, typer.Option(help="a false alarm's reason (see 'maritime triage reasons')")]
    = None,
    store: Annotated[str | None, typer.Option("--store", help=_STORE_HELP)] = None,
) -> None:
    """Record one action on an alert (kept with the officer's name, the note and the time)."""
    from maritime.enrich.triage import TriageError

    st = _triage_store(store)
    try:
        e = st.record(alert_id, action, officer, note, reason)
    except TriageError as err:
        raise _fail(f"{alert_id}: {err}", 2) from None
    except OSError as err:
        raise _fail(f"the triage store cannot be written ({err})", 1) from None
    finally:
        st.close()
    typer.echo(f"{e.alert_id}: {e.state or 'reopened'} by {e.officer}")


@triage_app.command("reasons")
def triage_reasons() -> None:
    """The reasons a false alarm can be given."""
    from maritime.enrich.triage import FALSE_ALARM_REASONS

    for key, text in FALSE_ALARM_REASONS.items():
        typer.echo(f"{key}\t{text}")


@triage_app.command("history")
def triage_history(
    alert_id: Annotated[str, typer.Argument(help="the alert's id")],
    store: Annotated[str | None, typer.Option("--store", help=_STORE_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
) -> None:
    """Every action on one alert, oldest first (the audit trail)."""
    st = _triage_store(store)
    try:
        trail = st.history(alert_id)
    finally:
        st.close()
    if not trail:
        raise _fail(f"{alert_id}: nothing recorded", 1)
    for e in trail:
        d = e.as_dict()
        if as_json:
            typer.echo(json.dumps(d))
        else:
            why = f" ({e.reason})" if e.reason else ""
            typer.echo(f"{d['time']}  {e.action}{why}  {e.officer}" + (f"  — {e.note}" if e.note else ""))


@triage_app.command("stats")
def triage_stats(
    store: Annotated[str | None, typer.Option("--store", help=_STORE_HELP)] = None,
    by: Annotated[str, typer.Option(help="rule, type or zone")] = "rule",
    as_json: Annotated[bool, typer.Option("--json", help="all three groupings as JSON")] = False,
) -> None:
    """False-alarm rate of each rule (or alert type, or zone): which thresholds a centre should look at."""
    from maritime.enrich.triage import stats

    if by not in ("rule", "type", "zone"):
        raise _fail(f"--by {by}: rule, type or zone", 2)
    st = _triage_store(store)
    try:
        got = stats(st.events())
    finally:
        st.close()
    if as_json:
        typer.echo(json.dumps(got, indent=2))
        return
    if not got[by]:
        typer.echo("no alert has been triaged yet")
        return
    table = Table(title=f"Triage outcomes by {by} (false alarms / concluded)")
    for col in (by, "concluded", "false alarms", "rate", "acknowledged", "escalated", "closed", "top reasons"):
        table.add_column(col, justify="right" if col not in (by, "top reasons") else "left")
    for r in got[by]:
        reasons = ", ".join(f"{k} {v}" for k, v in list(r["reasons"].items())[:3])
        table.add_row(escape(r["key"]), str(r["concluded"]), str(r["false_alarm"]), f"{r['false_alarm_rate']:.0%}",
                      str(r["acknowledged"]), str(r["escalated"]), str(r["closed"]), escape(reasons))
    Console(width=160).print(table)


def _name_values(cmd: Any) -> None:
    """Give every option and argument of ``cmd`` (and its subcommands) a value name for help and usage."""
    for param in getattr(cmd, "params", ()):
        label = _value_name(param)
        if param.param_type_name == "argument":
            param.metavar = (param.name or "value").upper()
            # typer's rich help shows an argument's type from this method
            shown = label.removesuffix("...")
            param.display_type_rich = lambda ctx, shown=shown: shown
        else:
            param.metavar = label
    help_option = cmd.get_help_option

    def named_help_option(ctx: Any) -> Any:
        opt = help_option(ctx)
        if opt is not None:
            opt.metavar = ""
        return opt

    cmd.get_help_option = named_help_option
    for sub in getattr(cmd, "commands", {}).values():
        _name_values(sub)


def main() -> None:
    """Console-script entry point."""
    try:
        cmd = typer.main.get_command(app)
        _name_values(cmd)
        cmd()
    except ModuleNotFoundError as err:
        top = (err.name or "").split(".")[0]
        if top not in OPTIONAL_PACKAGES:
            raise
        err_console.print(f"[red]error:[/] {OPTIONAL_PACKAGES[top]} need the package {top!r}, which this slim install "
                      "leaves out: pip install caribbean-mda (the full install) has it", highlight=False)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
