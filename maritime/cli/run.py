"""Running the detectors: ``replay``, ``watch``, ``demo``, ``simulate``, ``evaluate``, ``map``, ``arrivals``."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

import maritime.cli._common as common
from maritime.cli._display import (
    print_events,
    print_scores,
    print_summary,
    print_top_events,
    scorecard_line,
    summary_line,
)
from maritime.delivery.jsonl import JsonLinesSink
from maritime.delivery.memory import LatestSink, MemorySink
from maritime.ingest.diagnose import nothing_decoded
from maritime.ingest.sources import parse_source
from maritime.redact import redact
from maritime.runtime.decode_workers import default_workers
from maritime.runtime.pipeline import Pipeline


def replay(
    files: Annotated[
        list[str], typer.Argument(help="NMEA recordings (plain or .gz), globs, CSV tables, or - for stdin")],
    alerts: Annotated[Path | None, typer.Option("--alerts", help="write alerts here (JSON lines)")] = None,
    zones: common.Zones = None,
    map_out: Annotated[Path | None, typer.Option("--map", help="write a replay map here (HTML, works offline)")]
    = None,
    summary_json: Annotated[Path | None, typer.Option("--summary-json", help="write the run summary here")] = None,
    dead_letter: common.DeadLetterFile = None,
    config: common.Config = None,
    start_time: Annotated[str | None, typer.Option(help="ISO time for lines with no timestamp at all")] = None,
    fmt: common.Format = None,
    redis_url: common.RedisUrl = None,
    webhooks: Annotated[bool, typer.Option("--webhooks", help="also POST alerts to the configured centres")]
    = False,
    watchlist: common.Watchlists = None,
    profiles: common.Profiles = None,
    boards: common.Boards = None,
    workers: common.Workers = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or table")] = False,
    verbose: common.Verbose = 0,
) -> None:
    """Replay recordings through the detectors as fast as possible and print a summary."""
    common.setup_logging(verbose)
    settings = common.settings_or_fail(config, {"ingest.start_time": start_time} if start_time else None)
    specs = common.specs_or_fail(files, fmt)
    if any(s.kind in ("tcp", "udp") for s in specs):
        raise common.fail("replay reads recordings; use 'maritime watch' for live feeds", 2)
    for opt, path in (("--alerts", alerts), ("--map", map_out), ("--summary-json", summary_json),
                      ("--dead-letter", dead_letter)):
        common.check_output(opt, path)
    zone_index = common.zones_or_fail(zones)
    with ExitStack() as stack:
        outs = common.outputs_or_fail(stack, alerts, dead_letter, settings, redis_url, webhooks)
        shown = LatestSink() if alerts is None and not quiet else None
        if shown is not None:
            outs.sinks.append(shown)
        kept = MemorySink() if map_out is not None else None
        if kept is not None:
            outs.sinks.append(kept)
        pipe = common.build_pipeline(settings, outs, zone_index, watchlist, profiles, redis_url)
        common.board_files(pipe, boards, settings, outs.written)
        tracks = None
        if map_out is not None:
            from maritime.views.maps import TrackCollector

            tracks = TrackCollector()
            pipe.add_listener(tracks)
        if redis_url:
            common.live_positions(stack, pipe, redis_url)
        summary = common.run_replay(pipe, specs, workers if workers is not None else default_workers(),
                             show=not quiet and common.err_console.is_terminal)
    if map_out is not None and kept is not None:
        from maritime.views.maps import replay_map

        replay_map([a.as_dict() for a in kept.alerts], map_out, tracks=tracks, zones=zone_index)
        outs.written["map"] = str(map_out)
    refused = outs.refused()  # alerts a full delivery spool could not keep: said in the summary and on the console
    if refused:
        summary["delivery_refused"] = refused
    if summary_json is not None:
        try:
            summary_json.parent.mkdir(parents=True, exist_ok=True)
            summary_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        except OSError as err:
            raise common.fail(f"{summary_json}: cannot be written ({err.strerror})") from None
        outs.written["summary"] = str(summary_json)
    if quiet:  # one line, on stderr like the table on a pipe
        common.err_console.print(summary_line(summary), highlight=False, soft_wrap=True)
    else:
        print_summary(summary, outs.written)
    for target, n in refused.items():  # a warning even under -q
        common.err_console.print(f"[red]warning:[/] {escape(redact(target))}: {n:,} alerts were not kept: its "
                                 "delivery spool was full ([delivery] spool_max)", highlight=False)
    if shown is not None:
        events = [a for a in shown.latest.values() if a["status"] != "cancelled"]
        if events:
            print_events(events, "Events (no --alerts: not kept)", limit=40)
    if summary["messages"] == 0 and summary["lines"] > 0:  # a run that reads nothing is an error
        raise common.fail(nothing_decoded(summary, specs))


def watch(
    sources: Annotated[list[str], typer.Argument(help="tcp://HOST:PORT, udp://[HOST]:PORT, files or -")],
    alerts: Annotated[Path | None, typer.Option("--alerts", help="append alerts here (JSON lines)")] = None,
    zones: common.Zones = None,
    dead_letter: common.DeadLetterFile = None,
    summary_json: Annotated[Path | None, typer.Option("--summary-json", help="write the run summary at exit")] = None,
    config: common.Config = None,
    duration: Annotated[float | None, typer.Option(help="stop after this many seconds (default: run until Ctrl-C)")]
    = None,
    redis_url: common.RedisUrl = None,
    webhooks: Annotated[bool, typer.Option(help="POST alerts to the centres' webhooks in the settings")] = True,
    watchlist: common.Watchlists = None,
    profiles: common.Profiles = None,
    web_at: Annotated[str | None, typer.Option("--web", help="serve the live map on HOST:PORT")] = None,
    token: Annotated[str | None, typer.Option(help="token the live map requires (default: none on localhost)")]
    = None,
    tile_url: Annotated[str | None, typer.Option(help="online tile URL for the live map in connected rooms")] = None,
    drop_after_min: Annotated[float, typer.Option(help="live map: drop vessels not heard for this long (min)")]
    = 60.0,
    triage: Annotated[str | None, typer.Option("--triage", help="live map: " + common.STORE_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="alerts on stdout as JSON lines, not readable lines")]
    = False,
    boards: common.Boards = None,
    workers: common.Workers = None,
    state: Annotated[Path | None, typer.Option(
        "--state", help="keep the run's state in this folder (checkpointed every --checkpoint-every seconds and at "
        "stop) and resume from it: open alerts close once, with the same ids")] = None,
    checkpoint_every: Annotated[float, typer.Option(help="seconds between checkpoints (with --state)")] = 60.0,
    nmea_out: Annotated[str | None, typer.Option(
        "--nmea-out", help="serve the tracked vessels and the alerts as AIS NMEA over TCP on HOST:PORT, for chart "
        "plotters (OpenCPN: a network connection, TCP, port 10110)")] = None,
    rate: Annotated[float | None, typer.Option(help="feed recordings at this pace: event time at RATE × wall time "
                                               "(1, 10, 60); pause and change it on the map")] = None,
    verbose: common.Verbose = 0,
) -> None:
    """Run live on NMEA feeds: alerts as they happen, until interrupted.

    Each alert is printed as one line (time, severity, type, vessel, place, summary), or as JSON with --json;
    --alerts also appends them to a file."""
    common.setup_logging(max(verbose, 1))
    settings = common.settings_or_fail(config)
    specs = common.specs_or_fail(sources)
    common.positive("--duration", duration)
    common.positive("--checkpoint-every", checkpoint_every)
    common.positive("--rate", rate)
    if rate is not None:
        if any(sp.kind in ("tcp", "udp") for sp in specs):
            raise common.fail("--rate paces recordings; a TCP or UDP feed comes at its own pace", 2)
        workers = 1  # the pace is held where the lines are decoded
    if state is not None:
        common.check_folder("--state", state)
        if state in (alerts, summary_json, dead_letter):
            raise common.fail(f"--state {state}: a folder of its own, not one of the output files", 2)
    for opt, path in (("--alerts", alerts), ("--summary-json", summary_json), ("--dead-letter", dead_letter)):
        common.check_output(opt, path)
    web_addr = common.host_port(web_at) if web_at is not None else None
    relay_addr = common.host_port(nmea_out) if nmea_out is not None else None
    zone_index = common.zones_or_fail(zones)
    with ExitStack() as stack:
        outs = common.outputs_or_fail(stack, alerts, dead_letter, settings, redis_url, webhooks, append=True)
        if as_json:
            outs.sinks.append(JsonLinesSink(sys.stdout))
        else:
            from maritime.delivery.console import ConsoleSink

            outs.sinks.append(ConsoleSink(sys.stdout))
        pipe = common.build_pipeline(settings, outs, zone_index, watchlist, profiles, redis_url)
        if rate is not None:
            from maritime.runtime.pacer import Pacer

            pipe.pacer = Pacer(rate)
        if state is not None:
            from maritime.runtime.checkpoint import Checkpoint

            state.mkdir(exist_ok=True)
            pipe.checkpoint = Checkpoint(state, checkpoint_every)
            pipe.checkpoint.load(pipe)
        common.board_files(pipe, boards, settings, outs.written)
        if redis_url:
            common.live_positions(stack, pipe, redis_url)
        relay = None
        if relay_addr is not None:
            from maritime.views.nmea_relay import NmeaRelay

            relay = NmeaRelay()
            pipe.add_listener(relay)
            pipe.sinks.append(relay)
        live = board = None
        if web_addr is not None:
            from maritime.runtime.arrivals_board import ArrivalsBoard
            from maritime.views.web import LiveState

            live = LiveState(drop_after_s=drop_after_min * 60)
            board = ArrivalsBoard(profiles=pipe.profile_store, risk_weights=settings.risk_weights)
            for part in (live, board):
                pipe.add_listener(part)
                pipe.sinks.append(part)

        async def main() -> dict[str, Any]:
            stop = common.stop_event(duration)
            runner = None
            if live is not None and web_addr is not None:
                from maritime.runtime.health import Health
                from maritime.views.web import default_token, make_app

                host, port = web_addr
                need = default_token(host, token)
                store = stack.enter_context(closing(common.triage_store_or_fail(triage or settings.triage_store)))
                runner = await common.listen(make_app(live, token=need, zones=zone_index, tile_url=tile_url,
                                               profiles=pipe.profile_store, risk_weights=settings.risk_weights,
                                               hosts=[host] if need is None else None, triage=store,
                                               arrivals=board, health=Health(pipe), language=settings.language,
                                               pacer=pipe.pacer), host, port)
            if relay is not None and relay_addr is not None:
                try:
                    await relay.start(*relay_addr)
                except OSError as err:
                    raise common.fail(f"--nmea-out {nmea_out}: cannot listen ({err.strerror or err})", 2) from None
                common.err_console.print(f"AIS relay on tcp://{relay_addr[0]}:{relay_addr[1]}", highlight=False)
            refresher = None
            if redis_url and pipe.assembly is not None and pipe.assembly.watch_entries is not None:
                from maritime.enrich.watchlist_store import follow_watchlists

                files = [*(Path(p) for p in settings.watchlists), *(watchlist or [])]
                refresher = asyncio.create_task(follow_watchlists(redis_url, files,
                                                                  pipe.assembly.replace_watch_entries))
            try:
                began = time.monotonic()
                summary = await pipe.run_live(specs, stop, workers if workers is not None else default_workers())
                if runner is not None and not stop.asked:  # the input ended by itself: the map stays for the room
                    left = None if duration is None else max(0.0, duration - (time.monotonic() - began))
                    common.err_console.print("the input has ended; the live map stays up until Ctrl-C",
                                             highlight=False)
                    await common.stop_event(left).wait()
                return summary
            finally:
                if refresher is not None:
                    refresher.cancel()
                if relay is not None:
                    await relay.stop()
                if runner is not None:
                    await runner.cleanup()

        from maritime.runtime.pipeline import replay_gc

        with replay_gc():
            summary = asyncio.run(main())
    if summary_json is not None:
        try:
            summary_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        except OSError as err:
            raise common.fail(f"--summary-json {summary_json}: cannot be written ({err.strerror})", 2) from None
    common.err_console.print(f"watched {summary['lines']:,} lines, {summary['messages']:,} messages, "
                      f"{sum(summary['alerts_by_type'].values())} alerts")


def simulate(
    out: Annotated[Path, typer.Option("--out", help="folder for traffic.nmea and truth.json")],
    hours: Annotated[float, typer.Option(help="simulated hours")] = 24.0,
    vessels: Annotated[int, typer.Option(help="number of vessels")] = 200,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same files)")] = 1,
    zones: Annotated[list[Path] | None, typer.Option("--zones", help="zones (default: bundled Caribbean zones)")]
    = None,
    events: Annotated[str, typer.Option(help="default, none, or a JSON file of events")] = "default",
    verbose: common.Verbose = 0,
) -> None:
    """Simulate Caribbean AIS traffic with scripted events and their ground truth."""
    common.setup_logging(verbose)
    common.sim_args_or_fail(hours, vessels, out)
    if events not in ("default", "none") and not Path(events).is_file():
        raise common.fail(f"{events}: no such events file", 2)
    info = common.simulate_day(out, hours, vessels, seed, zones, events)
    # the vessels transmit more than the receivers hear (range, the satellite's share): the lines are what was heard
    common.out_console.print(f"wrote {out / 'traffic.nmea'} ({info['lines']:,} lines as received, of "
                             f"{info['messages']:,} position reports transmitted by {info['vessels']} vessels) and "
                             f"{out / 'truth.json'} ({info['events']} events)", highlight=False, soft_wrap=True)


def evaluate(
    truth: Annotated[Path, typer.Argument(help="truth.json from maritime simulate (or another generator)")],
    alerts: Annotated[Path, typer.Argument(help="alerts JSON lines")],
    as_json: Annotated[bool, typer.Option("--json", help="print the scores as JSON")] = False,
) -> None:
    """Precision and recall per alert type against ground truth, and the false alarms on ordinary life.

    Ordinary life: the truth's vessels marked "ordinary" (yachts at anchor, boats at a FAD, ...)."""
    from maritime.cli._display import ordinary_line
    from maritime.sim.evaluate import looks_like_truth, score_files

    if looks_like_truth(alerts) and not looks_like_truth(truth):
        raise common.fail(f"the arguments look swapped: {alerts} is a truth file and {truth} is not; the order is: "
                   "maritime evaluate TRUTH ALERTS", code=2)
    try:
        report, life = score_files(truth, alerts)
    except (OSError, ValueError, KeyError) as err:
        raise common.fail(f"cannot read the inputs: {err}") from None
    if as_json:
        sys.stdout.write(json.dumps({**report, "ordinary_life": life}, indent=1) + "\n")
    else:
        print_scores(report)
        if life["vessels"]:
            common.out_console.print(ordinary_line(life), highlight=False)


def demo(
    out: Annotated[Path, typer.Option("--out", help="folder for everything the demo writes")] = Path("demo-out"),
    hours: Annotated[float, typer.Option(help="simulated hours")] = 12.0,
    vessels: Annotated[int, typer.Option(help="number of vessels")] = 120,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
) -> None:
    """The one-command demo: simulate Caribbean traffic, replay it with the Caribbean zones, score the alerts."""
    from maritime.sim.evaluate import score_files
    from maritime.views.maps import TrackCollector, replay_map

    common.setup_logging(0)
    zones_dir = common.bundled_or_fail()
    common.sim_args_or_fail(hours, vessels, out)
    common.err_console.print(f"simulating {hours:g} h of Caribbean traffic, {vessels} vessels (seed {seed}) ...")
    info = common.simulate_day(out, hours, vessels, seed, [zones_dir], "default")
    common.err_console.print(f"replaying {info['lines']:,} lines through the detectors ...")
    settings = common.settings_or_fail(None)
    index = common.zones_or_fail([zones_dir])
    alerts_path = out / "alerts.jsonl"
    tracks = TrackCollector()
    with ExitStack() as stack:
        outs = common.outputs_or_fail(stack, alerts_path, out / "rejected.jsonl")
        pipe = common.build_pipeline(settings, outs, index)
        pipe.add_listener(tracks)
        summary = common.run_replay(pipe, parse_source(str(out / "traffic.nmea")), default_workers(),
                             show=common.err_console.is_terminal)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    map_path = replay_map(alerts_path, out / "map.html", tracks=tracks, zones=index)
    outs.written["map"] = str(map_path)
    report, life = score_files(out / "truth.json", alerts_path)
    (out / "scorecard.json").write_text(json.dumps({**report, "ordinary_life": life}, indent=1) + "\n",
                                        encoding="utf-8")
    print_summary(summary, outs.written)
    print_scores(report)
    print_top_events(alerts_path)
    # (paths are never wrapped: they are to be copied)
    common.out_console.print(scorecard_line(report, life), highlight=False)
    common.out_console.print(f"traffic, truth, alerts, scorecard: {escape(str(out))}/", highlight=False, soft_wrap=True)
    common.out_console.print(f"[bold]open {escape(str(map_path))}[/bold] in a browser (works offline)", highlight=False,
                      soft_wrap=True)


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
        raise common.fail(f"{alerts}: no such file")
    common.check_output("--out", out)
    collector = None
    if tracks:
        collector = TrackCollector()
        pipe = Pipeline(common.settings_or_fail(None))
        pipe.add_listener(collector)
        pipe.replay(common.specs_or_fail(tracks))
    index = common.zones_or_fail(zones)
    try:
        path = replay_map(alerts, out, tracks=collector, zones=index, tile_url=tile_url)
    except (ValueError, KeyError) as err:
        raise common.fail(f"{alerts}: not an alerts file ({err})") from None
    common.out_console.print(f"wrote {path}")
