"""``maritime arrivals``: a port's arrivals board from recordings."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

import maritime.cli._common as common
from maritime.cli._display import print_board
from maritime.redact import redact


def arrivals(
    port: Annotated[str, typer.Argument(help="the port: a UN/LOCODE (LCCAS), a gazetteer id, or its name")],
    files: Annotated[list[str], typer.Argument(help="NMEA recordings (plain or .gz), globs, CSV tables")],
    hours: Annotated[float, typer.Option(help="how far ahead the board looks (h)")] = 48.0,
    as_json: common.AsJson = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="the board as CSV")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="also write the board to this file (CSV when it ends "
                                             "in .csv, else JSON): the board for analysts")] = None,
    redis_url: Annotated[str | None, typer.Option("--redis", help="also add the board to the Redis stream "
                                                  "mda:arrivals:<centre> (with --centre): run daily for a daily "
                                                  "board")] = None,
    centre: Annotated[str | None, typer.Option("--centre", help="the subscribed centre the board is for")] = None,
    zones: common.Zones = None,
    config: common.Config = None,
    watchlist: common.Watchlists = None,
    profiles: Annotated[Path | None, typer.Option("--profiles", help="vessel profiles (SQLite) for the risk")]
    = None,
    verbose: common.Verbose = 0,
) -> None:
    """The arrivals board of a port: who is expected in the next hours (declared destination or track), both
    ETAs, and an explained risk score, as of the last event of the recordings."""
    from maritime.runtime.arrivals_board import ArrivalsBoard, board_csv, board_document, publish_board, write_board

    common.setup_logging(verbose)
    if as_json and as_csv:
        raise common.fail("--json or --csv, not both", 2)
    common.check_output("--out", out)
    common.positive("--hours", hours)
    if (redis_url is None) != (centre is None):
        raise common.fail("--redis and --centre go together", 2)
    if redis_url is not None:
        common.redis_url_or_fail(redis_url)
    settings = common.settings_or_fail(config)
    if centre is not None and centre not in {sub.id for sub in settings.subscriptions}:
        raise common.fail(f"--centre {centre}: no subscription of that id in the settings", 2)
    specs = common.specs_or_fail(files)
    zone_index = common.zones_or_fail(zones)
    board = ArrivalsBoard(risk_weights=settings.risk_weights)
    where = board.find_port(port)
    if where is None:
        raise common.fail(board.why_no_port(port), 2)
    if where.lat is None:
        raise common.fail(f"{where.name}: the gazetteer has no position for it, so no arrivals can be reckoned", 2)
    with ExitStack() as stack:
        outs = common.outputs_or_fail(stack, settings=settings)
        outs.sinks.append(board)
        pipe = common.build_pipeline(settings, outs, zone_index, watchlist, profiles, None)
        pipe.add_listener(board)
        if pipe.profile_store is not None:
            board.profiles = pipe.profile_store
        common.run_replay(pipe, specs, 1, show=False)
        rows = board.board(where, hours=hours)
        gone = board.not_coming(where, hours=hours)
    doc = board_document(where, board.now_s, hours, rows, not_coming=gone)
    if out is not None:
        try:
            write_board(out, doc, rows)
        except OSError as err:
            raise common.fail(f"{out}: cannot be written ({err.strerror})") from None
    if redis_url is not None and centre is not None:
        import redis

        try:
            publish_board(redis_url, centre, board_document(where, board.now_s, hours, rows, centre, gone))
        except redis.RedisError as err:
            raise common.fail(f"{redact(redis_url)}: the board was not delivered ({err})", 1) from None
    if as_json:
        typer.echo(json.dumps(doc, indent=2))
        return
    if as_csv:
        typer.echo(board_csv(rows), nl=False)
        return
    print_board(where, hours, doc, rows, gone)

