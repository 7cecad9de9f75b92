"""The ``maritime`` command.

Progress bars and tables are drawn here only (on a terminal); the library
logs through module loggers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from maritime.config import ConfigError, Settings, load_settings
from maritime.pipeline import DeadLetter, Pipeline, Sink
from maritime.sinks.jsonl import JsonLinesSink
from maritime.sources import SourceError, SourceSpec, parse_source
from maritime.zones import ZoneError, ZoneIndex, load_zones

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Maritime domain awareness for Caribbean waters: decode AIS, detect dark gaps, "
    "rendezvous, loitering and geofence breaches, and send alerts.",
)
err_console = Console(stderr=True)
out_console = Console()
logger = logging.getLogger("maritime.cli")


def _fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)


def _settings(config: Path | None, overrides: dict[str, Any] | None = None) -> Settings:
    try:
        return load_settings(config, overrides)
    except ConfigError as err:
        raise _fail(str(err), 2) from None


def _specs(sources: list[str]) -> list[SourceSpec]:
    specs: list[SourceSpec] = []
    for s in sources:
        try:
            specs.extend(parse_source(s))
        except SourceError as err:
            raise _fail(str(err)) from None
    return specs


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
    table.add_row("alerts", f"{sum(alerts.values()):,}")
    for k, v in alerts.items():
        table.add_row(f"  {k}", f"{v:,}")
    rate = summary["lines"] / summary["seconds"] if summary["seconds"] else 0.0
    table.add_row("seconds", f"{summary['seconds']:.2f}  ({rate:,.0f} lines/s)")
    for k, v in outputs.items():
        table.add_row(k, v)
    (out_console if out_console.is_terminal else err_console).print(table)


class _Outputs:
    """Opens the sinks and side files a run writes, and closes them."""

    def __init__(self, stack: ExitStack, alerts: Path | None, dead_letter: Path | None) -> None:
        self.sinks: list[Sink] = []
        self.written: dict[str, str] = {}
        self.dead: DeadLetter | None = None
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


def _zones(paths: list[Path] | None, partial: bool = False) -> ZoneIndex | None:
    if not paths:
        return None
    try:
        return load_zones(paths, partial=partial)
    except ZoneError as err:
        for p in err.problems[:20]:
            err_console.print(f"[red]zone problem:[/red] {p}", highlight=False)
        raise _fail(f"zone files refused: {err} (run 'maritime zones check' for the full list)", 2) from None


def build_pipeline(settings: Settings, sinks: list[Sink], dead: DeadLetter | None,
                   zones: ZoneIndex | None = None) -> Pipeline:
    """The embedded pipeline with the detectors the settings enable."""
    from maritime.detectors import build_detectors

    pipe = Pipeline(settings, sinks=sinks, on_reject=dead)
    detectors, gates = build_detectors(settings, pipe.tracker, zones)
    pipe.detectors = detectors
    pipe.gates = gates
    return pipe


@app.command()
def replay(
    files: Annotated[
        list[str], typer.Argument(help="NMEA recordings (plain or .gz), globs, CSV tables, or - for stdin")
    ],
    alerts: Annotated[Path | None, typer.Option("--alerts", help="write alerts here (JSON lines)")] = None,
    zones: Annotated[list[Path] | None, typer.Option("--zones", help="zone file or folder (repeatable)")] = None,
    summary_json: Annotated[Path | None, typer.Option("--summary-json", help="write the run summary here")] = None,
    dead_letter: Annotated[Path | None, typer.Option("--dead-letter", help="write rejected lines here")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="settings file (TOML)")] = None,
    start_time: Annotated[str | None, typer.Option(help="ISO time for lines with no timestamp at all")] = None,
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
    zone_index = _zones(zones)
    with ExitStack() as stack:
        outs = _Outputs(stack, alerts, dead_letter)
        pipe = build_pipeline(settings, outs.sinks, outs.dead, zone_index)
        show = not quiet and err_console.is_terminal
        try:
            if show:
                with Progress(TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TextColumn("lines"),
                              TimeElapsedColumn(), console=err_console, transient=True) as bar:
                    task = bar.add_task("replay", total=None)
                    summary = pipe.replay(specs, progress=lambda n: bar.update(task, completed=n))
            else:
                summary = pipe.replay(specs)
        except SourceError as err:
            raise _fail(str(err)) from None
        except OSError as err:
            raise _fail(f"{err.filename or 'input'}: cannot be read ({err.strerror})") from None
    if summary_json is not None:
        try:
            summary_json.parent.mkdir(parents=True, exist_ok=True)
            summary_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        except OSError as err:
            raise _fail(f"{summary_json}: cannot be written ({err.strerror})") from None
        outs.written["summary"] = str(summary_json)
    if not quiet:
        _print_summary(summary, outs.written)


@app.command()
def watch(
    sources: Annotated[list[str], typer.Argument(help="tcp://HOST:PORT, udp://[HOST]:PORT, files or -")],
    alerts: Annotated[Path | None, typer.Option("--alerts", help="append alerts here (JSON lines)")] = None,
    zones: Annotated[list[Path] | None, typer.Option("--zones", help="zone file or folder (repeatable)")] = None,
    dead_letter: Annotated[Path | None, typer.Option("--dead-letter", help="write rejected lines here")] = None,
    summary_json: Annotated[Path | None, typer.Option("--summary-json", help="write the run summary at exit")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="settings file (TOML)")] = None,
    duration: Annotated[float | None, typer.Option(help="stop after this many seconds (default: run until Ctrl-C)")]
    = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True)] = 0,
) -> None:
    """Run live on NMEA feeds: alerts as they happen, until interrupted."""
    _setup_logging(max(verbose, 1))
    settings = _settings(config)
    specs = _specs(sources)
    zone_index = _zones(zones)
    with ExitStack() as stack:
        outs = _Outputs(stack, alerts, dead_letter)
        if alerts is None:
            outs.sinks.append(JsonLinesSink(sys.stdout))
        pipe = build_pipeline(settings, outs.sinks, outs.dead, zone_index)

        async def main() -> dict[str, Any]:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            if duration is not None:
                loop.call_later(duration, stop.set)
            return await pipe.run_live(specs, stop)

        summary = asyncio.run(main())
    if summary_json is not None:
        summary_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    err_console.print(f"watched {summary['lines']:,} lines, {summary['messages']:,} messages, "
                      f"{sum(summary['alerts_by_type'].values())} alerts")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
