"""What every command family shares: the consoles, one-line errors, logging, settings, sources, zones,
outputs, the options that recur, and the value names help shows.

Progress bars and tables are drawn in the CLI only (on a terminal); the library logs through module loggers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from maritime.config import ConfigError, Settings, load_settings
from maritime.delivery.outputs import OutputError, Outputs
from maritime.ingest.sources import SourceError, SourceSpec, parse_source
from maritime.models import iso
from maritime.redact import redact
from maritime.runtime.assembly import Assembly, AssemblyError
from maritime.runtime.pipeline import Pipeline, ReplayProgress
from maritime.zones.index import ZoneError, ZoneIndex
from maritime.zones.resolve import ZoneSpec, bundled_zones_dir, resolve_zones

err_console = Console(stderr=True, soft_wrap=True)
#: on a pipe or a file, tables are not cut at 80 columns (rich's width without a terminal)
out_console = Console() if sys.stdout.isatty() else Console(width=max(200, Console().width), soft_wrap=False)
logger = logging.getLogger("maritime.cli")

STORE_HELP = "the triage store: a SQLite file or a redis:// URL (default: triage.sqlite in the state folder)"

# -- options that recur (one declaration, the same help everywhere) -----------------------------------------

Config = Annotated[Path | None, typer.Option("--config", help="settings file (TOML)")]
Verbose = Annotated[int, typer.Option("--verbose", "-v", count=True, help="more log lines (-vv: debug)")]
Zones = Annotated[list[Path] | None, typer.Option(
    "--zones", help="zone file or folder (repeatable; default: the bundled Caribbean zones; 'none': no zones)")]
Watchlists = Annotated[list[Path] | None, typer.Option("--watchlist",
                                                       help="vessels of interest (CSV/JSON)")]
RedisUrl = Annotated[str | None, typer.Option("--redis",
                                              help="also send alerts to Redis streams (URL)")]
DeadLetterFile = Annotated[Path | None, typer.Option("--dead-letter",
                                                     help="write rejected lines here")]
Boards = Annotated[Path | None, typer.Option(
    "--boards", help="write the centres' daily arrivals boards to this folder (JSON and CSV)")]
Workers = Annotated[int | None, typer.Option(
    "--workers", "-j", min=1, help="processes to use: NMEA files and feeds are decoded in workers - 1 of them "
    "beside the detectors, with the same results (default: the number of cores; 1: one process)")]
Profiles = Annotated[Path | None, typer.Option(
    "--profiles", help="keep vessel profiles in this SQLite file (or 'redis', with --redis)")]
Format = Annotated[str | None, typer.Option(
    "--format", help="read the files as this format (default: told from their first lines): nmea, aiscatcher, "
    "gpsd, aishub, marinecadastre, satellite, csv")]
AsJson = Annotated[bool, typer.Option("--json", help="JSON instead of readable lines")]


def fail(message: str, code: int = 1) -> typer.Exit:
    """A one-line error on stderr (never rich markup, never a secret), as the exit to raise."""
    err_console.print(f"[red]error:[/red] {escape(redact(message))}", highlight=False)
    return typer.Exit(code)


def setup_logging(verbose: int) -> None:
    """Log to stderr at WARNING, INFO (-v) or DEBUG (-vv), with every secret redacted."""
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    from maritime import redact as redaction

    redaction.install()  # no password or token is ever printed
    # the access log (paths only, never query strings) is off unless -vv
    logging.getLogger("aiohttp.access").setLevel(logging.INFO if verbose >= 2 else logging.WARNING)


def settings_or_fail(config: Path | None, overrides: dict[str, Any] | None = None) -> Settings:
    """The settings, or exit 2 with the file's problem (their ``language`` becomes the CLI's)."""
    from maritime.i18n import use_cli_language

    try:
        settings = load_settings(config, overrides)
        use_cli_language(settings.language)
        return settings
    except ConfigError as err:
        raise fail(str(err), 2) from None


def specs_or_fail(sources: list[str], fmt: str | None = None) -> list[SourceSpec]:
    """The sources named on the command line (files, folders, globs, URLs, -), read as ``fmt`` when given, or
    exit with the reason."""
    from maritime.ingest.formats import FORMATS

    if fmt is not None and fmt not in FORMATS:
        raise fail(f"--format {fmt}: one of {', '.join(FORMATS)}", 2)
    specs: list[SourceSpec] = []
    for s in sources:
        try:
            specs.extend(parse_source(s, fmt or ""))
        except SourceError as err:
            raise fail(str(err), 2 if err.usage else 1) from None
    return specs


def check_output(option: str, path: Path | None) -> None:
    """Refuse at once (exit 2) an output file that cannot be written, before any work is done."""
    if path is None:
        return
    if path.is_dir():
        raise fail(f"{option} {path}: is a folder; give a file name", 2)
    parent = path.parent
    if not parent.exists():
        # the file's own folder is made in an existing one; never a chain of them (a typo would make it as root)
        if not parent.parent.is_dir():
            raise fail(f"{option} {path}: the folder {parent.parent} does not exist", 2)
        if not os.access(parent.parent, os.W_OK):
            raise fail(f"{option} {path}: {parent.parent} is not writable", 2)
        try:
            parent.mkdir()
        except OSError as err:
            raise fail(f"{option} {path}: the folder {parent} cannot be made ({err.strerror})", 2) from None
        return
    if not parent.is_dir():
        raise fail(f"{option} {path}: {parent} is a file, not a folder", 2)
    if not os.access(parent, os.W_OK):
        raise fail(f"{option} {path}: {parent} is not writable", 2)


def check_folder(option: str, path: Path) -> None:
    """Refuse at once (exit 2) an output folder that is a file, or whose parent does not exist."""
    if path.exists() and not path.is_dir():
        raise fail(f"{option} {path}: is a file; give a folder", 2)
    if not path.exists() and not path.parent.is_dir():
        raise fail(f"{option} {path}: the folder {path.parent} does not exist", 2)
    where = path if path.exists() else path.parent
    if not os.access(where, os.W_OK):
        raise fail(f"{option} {path}: {where} is not writable", 2)


def positive(option: str, value: float | None) -> None:
    """Refuse at once (exit 2) a number that must be positive and finite."""
    if value is not None and not (0 < value < float("inf")):
        raise fail(f"{option} {value:g}: must be positive (and finite)", 2)


def sim_args_or_fail(hours: float, vessels: int, out: Path) -> None:
    """``simulate`` and ``demo``: positive hours and vessels, an output folder that can be one (else exit 2)."""
    positive("--hours", hours)
    positive("--vessels", vessels)
    check_folder("--out", out)


@contextmanager
def replay_progress(label: str = "replaying") -> Iterator[Callable[[ReplayProgress], None]]:
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


def run_replay(pipe: Pipeline, specs: list[SourceSpec], workers: int, show: bool) -> dict[str, Any]:
    """``pipe.replay`` with a progress bar when ``show``; unreadable input, or input with not one line or row in
    it (an empty file or export: most likely the wrong one), exits 1 with the reason."""
    from maritime.runtime.pipeline import replay_gc

    try:
        with replay_gc():
            if show:
                with replay_progress() as update:
                    summary = pipe.replay(specs, progress=update, workers=workers)
            else:
                summary = pipe.replay(specs, workers=workers)
    except SourceError as err:
        raise fail(str(err)) from None
    except OSError as err:
        raise fail(f"{err.filename or 'input'}: cannot be read ({err.strerror})") from None
    if not summary.get("lines") and not summary.get("messages"):
        names = ", ".join(s.name for s in specs[:5]) + (f" and {len(specs) - 5} more" if len(specs) > 5 else "")
        raise fail(f"nothing was read: {names} held no lines or rows (an empty file or export?)")
    return summary


def zones_or_fail(spec: ZoneSpec, partial: bool = False, quiet: bool = False) -> ZoneIndex | None:
    """The zones of a run (:func:`maritime.zones.resolve.resolve_zones`): its notices said on stderr (unless
    ``quiet``), refused zone files listed (the first 20) with exit 2."""
    try:
        choice = resolve_zones(spec, partial=partial)
    except ZoneError as err:
        for p in err.problems[:20]:
            err_console.print(f"[red]zone problem:[/red] {p}", highlight=False)
        more = " (run 'maritime zones check' for the full list)" if err.problems else ""
        raise fail(f"zone files refused: {err}{more}" if err.problems else str(err), 2) from None
    for notice in [] if quiet else choice.notices:
        err_console.print(notice, highlight=False)
    return choice.index


def bundled_or_fail() -> Path:
    """The bundled zone folder, or exit 1 saying how to build one."""
    try:
        return bundled_zones_dir()
    except ZoneError as err:
        raise fail(str(err)) from None


def outputs_or_fail(stack: ExitStack, alerts: Path | None = None, dead_letter: Path | None = None,
                    settings: Settings | None = None, redis_url: str | None = None, webhooks: bool = False,
                    append: bool = False) -> Outputs:
    """The run's sinks and dead-letter file (:class:`maritime.delivery.outputs.Outputs`), or exit."""
    try:
        return Outputs(stack, alerts, dead_letter, settings, redis_url, webhooks, append=append)
    except OutputError as err:
        raise fail(str(err), err.code) from None


def build_pipeline(settings: Settings, outs: Outputs, zones: ZoneIndex | None = None,
                   watchlists: list[Path] | None = None, profiles: Path | None = None,
                   redis_url: str | None = None) -> Pipeline:
    """The embedded pipeline from the one assembly; a settings problem exits with status 2."""
    try:
        assembly = Assembly.from_settings(settings, zones, watchlists=watchlists or [], profiles=profiles,
                                          redis_url=redis_url)
    except AssemblyError as err:
        raise fail(str(err), 2) from None
    return Pipeline(settings, assembly=assembly, sinks=outs.sinks, on_reject=outs.dead)


def board_files(pipe: Pipeline, folder: Path | None, settings: Settings, written: dict[str, str]) -> None:
    """``--boards DIR``: the daily boards of the centres subscribed to ports, as files."""
    if folder is None:
        return
    if pipe.arrivals is None:
        raise fail("--boards needs the arrivals stage ([arrivals] enabled = true)", 2)
    if not any(s.arrivals for s in settings.subscriptions):
        raise fail("--boards: no centre in the settings subscribes to a port's arrivals "
                   "([[subscriptions]] arrivals = [\"LCCAS\", ...])", 2)
    from maritime.delivery.boards import BoardFiles

    try:
        pipe.arrivals.board_sinks.append(BoardFiles(folder))
    except OSError as err:
        raise fail(f"--boards {folder}: cannot be written ({err.strerror})") from None
    written["boards"] = str(folder)


def redis_url_or_fail(url: str) -> None:
    """Exit 2 with a one-line reason when ``url`` is not a Redis URL (a server that is down is not an error:
    the consumers reconnect)."""
    import redis

    try:
        redis.Redis.from_url(url)
    except ValueError as err:
        raise fail(f"{redact(url)} is not a Redis URL ({err}); write redis://HOST:PORT/DB", 2) from None


def live_positions(stack: ExitStack, pipe: Pipeline, url: str) -> None:
    """Keep every vessel's latest position in Redis for the live map (``maritime serve``)."""
    from maritime.delivery.redis_sink import RedisPositions

    positions = RedisPositions(url)
    pipe.add_listener(positions)
    stack.callback(positions.close)


def triage_store_or_fail(store: str | None) -> Any:
    """The triage store (SQLite file or Redis URL), or exit 2 with the reason."""
    from maritime.enrich.triage import TriageError, open_triage

    if store and store.startswith(("redis://", "rediss://")):
        redis_url_or_fail(store)
    try:
        return open_triage(store)
    except TriageError as err:
        raise fail(str(err), 2) from None


class StopEvent(asyncio.Event):
    """A stop event that knows whether someone asked for it (a signal, the duration) or the run set it itself
    (its input ended)."""

    asked = False

    def ask(self) -> None:
        self.asked = True
        self.set()


def stop_event(duration: float | None) -> StopEvent:
    """An event set by Ctrl-C, SIGTERM or, if given, after ``duration`` seconds (call inside the loop)."""
    stop = StopEvent()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.ask)
    if duration is not None:
        loop.call_later(duration, stop.ask)
    return stop


def host_port(text: str) -> tuple[str, int]:
    """A ``--web HOST:PORT`` checked before any work: a port in range, a host that resolves (else exit 2)."""
    import socket

    host, _, port_text = text.rpartition(":")
    host = (host or "127.0.0.1").strip("[]")
    try:
        port = int(port_text)
    except ValueError:
        raise fail(f"--web {text}: expected HOST:PORT", 2) from None
    if not 1 <= port <= 65535:
        raise fail(f"--web {text}: the port must be a number from 1 to 65535", 2)
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise fail(f"--web {text}: the host {host!r} is not known here ({err})", 2) from None
    return host, port


async def listen(app_: Any, host: str, port: int) -> Any:
    """Start the web server, or exit 2 with the reason (a port in use, no permission)."""
    from maritime.views.web import start_server

    try:
        runner = await start_server(app_, host, port)
    except OSError as err:
        raise fail(f"--web {host}:{port}: cannot listen there ({err.strerror or err})", 2) from None
    err_console.print(f"live map on http://{host}:{port}/", highlight=False, soft_wrap=True)  # news, not a warning
    return runner


def simulate_day(out: Path, hours: float, vessels: int, seed: int, zones: list[Path] | None, events: str
              ) -> dict[str, Any]:
    """Simulate and write the day, with progress bars on a terminal."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from maritime.sim.simulator import Simulator

    sim = Simulator(hours, vessels, seed, zones=zones_or_fail(zones or ["bundled"]), events=events)
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


# -- value names in help: words for people (FILE, URL), not Python types -----------------------------------


def value_name(param: Any) -> str:
    """What help shows for a parameter's value: ``FILE``, ``DIR``, ``URL``, ``SECONDS``, ``N``, ... (``""`` for
    flags). The word follows what the help says the value is: a folder is ``DIR``, a file ``FILE``, seconds
    ``SECONDS``."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""
    name = (param.name or "").lower()
    ann = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    text = str(ann)
    said = str(getattr(param, "help", "") or "").lower()
    number = ann in (int, float) or "int" in text or "float" in text
    if "Path" in text or name in ("files", "paths"):
        if "file" in said and "folder" in said:
            word = "PATH"
        elif "folder" in said or name in ("out_dir", "spool_dir", "data_dir", "state"):
            word = "DIR"
        elif "file" in said or name.startswith("out"):
            word = "FILE"
        else:
            word = "PATH"
    elif "redis" in name or "url" in name or name in ("sources", "feed"):
        word = "URL"
    elif number and ("seconds" in said or name.endswith("_s") or "timeout" in name):
        word = "SECONDS"
    elif "time" in name and not number:
        word = "ISO-TIME"
    elif ann is int or "int" in text:
        word = "N"
    elif ann is float or "float" in text:
        word = "NUMBER"
    else:
        word = name.upper().replace("_", "-") if name else "TEXT"
    return word + ("..." if getattr(param, "nargs", 1) != 1 or "list" in text else "")


class NamedArgument(typer.core.TyperArgument):
    """An argument whose help shows its value name (``label``), not its Python type."""

    label: str = ""

    def display_type_rich(self, ctx: Any) -> str | None:
        return self.label or None


class NamedOption(typer.core.TyperOption):
    """An option whose help shows its value name, not its Python type (nothing for a flag)."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return self.metavar or None


def _name_params(params: list[Any]) -> None:
    """Make Typer's parameters our named kinds (same state, one method more) and give them their names."""
    for param in params:
        label = value_name(param)
        if isinstance(param, typer.core.TyperArgument):
            param.__class__ = NamedArgument
            named: NamedArgument = param  # type: ignore[assignment]
            named.label = label.removesuffix("...")
            param.metavar = (param.name or "value").upper()
        elif isinstance(param, typer.core.TyperOption):
            param.__class__ = NamedOption
            param.metavar = label


def _named_help(opt: Any) -> Any:
    if opt is not None:
        opt.metavar = ""
        opt.__class__ = NamedOption
    return opt


def _plain_help(text: str) -> str:
    """A docstring as help: ``x`` as 'x', each paragraph's source lines joined (lists kept as lines)."""
    paras = []
    for para in text.replace("``", "'").split("\n\n"):
        lines = [ln.strip() for ln in para.strip().splitlines()]
        listed = any(ln.startswith(("- ", "* ")) for ln in lines)
        paras.append("\n".join(lines) if listed else " ".join(lines))
    return "\n\n".join(paras)


class _Named:
    """Gives a command's or a group's parameters value names (mixed into Typer's command classes)."""

    params: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name_params(self.params)
        # the docstrings are reStructuredText for the API docs; help shows ``--apply`` as '--apply'
        # and a paragraph wrapped at 120 in the source is one paragraph on the terminal
        for holder in (self, *self.params):
            for attr in ("help", "short_help"):
                text = getattr(holder, attr, None)
                if isinstance(text, str):
                    setattr(holder, attr, _plain_help(text))

    def get_help_option(self, ctx: Any) -> Any:
        return _named_help(super().get_help_option(ctx))  # type: ignore[misc]


class NamedCommand(_Named, typer.core.TyperCommand):
    """A command (given as ``cls=``) whose parameters show value names in help and usage."""


class NamedGroup(_Named, typer.core.TyperGroup):
    """A command family (given as ``cls=``) whose options show value names in help."""


def command_family(help_text: str) -> typer.Typer:
    """A sub-app (``maritime zones ...``) whose commands show value names."""
    return typer.Typer(cls=NamedGroup, no_args_is_help=True, help=help_text)
