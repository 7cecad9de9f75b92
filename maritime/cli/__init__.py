"""The ``maritime`` command: one module per command family over a shared ``_common``.

- ``run``: replay, watch, demo, simulate, evaluate, map, arrivals (the detectors on recordings and feeds);
- ``inspect``: what input files hold;
- ``zones``: the zone files; ``stream``: ingest and worker (Faust on Kafka);
- ``ops``: serve, alerts tail, redis-acl (for operations centres);
- ``watchlist``, ``triage``, ``vessel``.

Each command parses its options, calls the library, and prints; progress bars and tables are drawn here only.
"""

from __future__ import annotations

from typing import Annotated

import typer

from maritime.cli import board, export, inspect, ops, run, stream, triage, vessel, watchlist, zones
from maritime.cli._common import NamedCommand, NamedGroup, err_console

app = typer.Typer(
    cls=NamedGroup,
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Maritime domain awareness for Caribbean waters: decode AIS, detect dark gaps, "
    "rendezvous, loitering and geofence breaches, and send alerts.",
)

#: packages of the full install that the embedded runtime does without (a slim install: README, "Install")
OPTIONAL_PACKAGES = {"faust": "the Faust workers", "mode": "the Faust workers", "aiokafka": "the Faust workers",
                     "redis": "Redis", "aiohttp": "the live map", "aiohttp_sse": "the live map"}


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        from maritime.buildinfo import build

        try:
            v = version("caribbean-mda")
        except PackageNotFoundError:
            v = "unknown (not installed)"
        typer.echo(f"maritime (caribbean-mda) {v}, {build()}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="print the version and which build runs, and exit")] = False
          ) -> None:
    """Maritime domain awareness for Caribbean waters."""


def _register() -> None:
    """The commands, in the order help lists them."""
    top = app.command
    top(cls=NamedCommand)(run.replay)
    top(cls=NamedCommand)(run.watch)
    top(cls=NamedCommand)(inspect.inspect)
    app.add_typer(zones.app, name="zones")
    top(cls=NamedCommand)(run.simulate)
    top(cls=NamedCommand)(run.evaluate)
    top(cls=NamedCommand)(run.demo)
    top(cls=NamedCommand)(ops.serve)
    top("map", cls=NamedCommand)(run.map_cmd)
    top("redis-acl", cls=NamedCommand)(ops.redis_acl)
    app.add_typer(ops.alerts_app, name="alerts")
    top(cls=NamedCommand)(vessel.vessel)
    app.add_typer(watchlist.app, name="watchlist")
    top(cls=NamedCommand)(stream.ingest)
    top(cls=NamedCommand)(stream.worker)
    top(cls=NamedCommand)(board.arrivals)
    app.add_typer(triage.app, name="triage")
    app.add_typer(export.app, name="export")


_register()


def main() -> None:
    """Console-script entry point: a package the slim install leaves out is named, with exit status 2."""
    try:
        app()
    except ModuleNotFoundError as err:
        top = (err.name or "").split(".")[0]
        if top not in OPTIONAL_PACKAGES:
            raise
        err_console.print(f"[red]error:[/] {OPTIONAL_PACKAGES[top]} need the package {top!r}, which this slim install "
                          "leaves out: pip install caribbean-mda (the full install) has it", highlight=False)
        raise SystemExit(2) from None
