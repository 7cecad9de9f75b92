"""The distributed runtime (Faust on Kafka): ``ingest`` sends feeds and recordings to Kafka, ``worker`` runs the
detectors on them (several workers share the partitions)."""

from __future__ import annotations

import asyncio
import json
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer

from maritime.cli._common import (
    fail,
    host_port,
    outputs_or_fail,
    settings_or_fail,
    setup_logging,
    specs_or_fail,
    stop_event,
    zones_or_fail,
)
from maritime.runtime.assembly import Assembly, AssemblyError

Kafka = Annotated[str, typer.Option("--kafka", help="Kafka bootstrap server(s), host:port[,host:port]")]
Partitions = Annotated[int, typer.Option("--partitions", min=1, help="partitions of every topic")]
TopicPrefix = Annotated[str, typer.Option("--topic-prefix", help="prefix of every topic")]
AppId = Annotated[str, typer.Option("--app-id", help="Faust app id (consumer group, table topics)")]


def ingest(
    sources: Annotated[list[str], typer.Argument(help="NMEA recordings, tcp://host:port, udp://[host]:port or -")],
    kafka: Kafka,
    rate: Annotated[float | None, typer.Option("--rate", help="replay at this many times real time")] = None,
    as_fast: Annotated[bool, typer.Option("--as-fast-as-possible", help="replay with no pacing (default)")]
    = False,
    partitions: Partitions = 4,
    prefix: TopicPrefix = "mda.",
    app_id: AppId = "caribbean-mda",
    batch_lines: Annotated[int, typer.Option(min=1, help="lines per batch on the raw topic")] = 2000,
    lanes: Annotated[int, typer.Option(
        min=1, help="split each source over this many raw partitions, so that several workers decode one busy "
        "feed (exact while no line comes later than the reorder window)")] = 1,
    config: Annotated[Path | None, typer.Option("--config", help="settings file (TOML)")] = None,
    start_time: Annotated[str | None, typer.Option(help="ISO time for lines with no timestamp at all")] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="more log lines (-vv: debug)")] = 0,
) -> None:
    """Send recordings (in event-time order, then an end-of-replay mark) or live feeds to Kafka."""
    setup_logging(verbose)
    from streams.ingest import ingest as run_ingest
    from streams.settings import StreamSettings

    if rate is not None and as_fast:
        raise fail("--rate and --as-fast-as-possible exclude each other", 2)
    overrides = {"ingest.start_time": start_time} if start_time else None
    settings = settings_or_fail(config, overrides)
    specs = specs_or_fail(sources)
    kinds = {"live" if s.kind in ("tcp", "udp", "stdin") else s.kind for s in specs}
    if "csv" in kinds:
        raise fail("ingest sends NMEA lines; replay decoded CSV tables with 'maritime replay'", 2)
    if len(kinds) > 1:
        raise fail("give recordings or live feeds, not both, to one ingest", 2)
    ss = StreamSettings.for_servers(kafka, settings, partitions=partitions, topic_prefix=prefix, app_id=app_id)
    from aiokafka.errors import KafkaError

    async def main() -> Any:
        # SIGTERM and SIGINT stop the sending: what is read is sent and the producer flushed, then exit 0
        return await run_ingest(specs, ss, rate=rate, batch_lines=batch_lines, stop=stop_event(None), lanes=lanes)

    try:
        stats = asyncio.run(main())
    except (OSError, KafkaError) as err:
        raise fail(f"Kafka at {kafka}: {err}") from None
    typer.echo(json.dumps(stats.as_dict()))


def worker(
    kafka: Kafka,
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
    partitions: Partitions = 4,
    prefix: TopicPrefix = "mda.",
    app_id: AppId = "caribbean-mda",
    data_dir: Annotated[Path, typer.Option("--data-dir", help="this worker's Faust data folder")]
    = Path(".faust-data"),
    session_timeout: Annotated[float, typer.Option(
        "--session-timeout", help="seconds before a silent worker's partitions go to the others")] = 60.0,
    instance_id: Annotated[str | None, typer.Option(
        "--instance-id", help="a stable name for this worker (static membership: a restart takes its partitions "
        "back without a rebalance)")] = None,
    metrics: Annotated[str | None, typer.Option(
        "--metrics", help="serve Prometheus metrics (consumer lag per partition, counts) on HOST:PORT")] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="more log lines (-vv: debug)")] = 0,
) -> None:
    """Run a Faust worker: decode, per-vessel and per-tile detectors, alert delivery (several can run)."""
    setup_logging(verbose)
    metrics_at = host_port(metrics) if metrics is not None else None
    from faust.worker import Worker

    from streams.app import create_app
    from streams.settings import StreamSettings
    from streams.topics import create_topics

    settings = settings_or_fail(config)
    zone_index = zones_or_fail(zones)
    try:
        assembly = Assembly.from_settings(settings, zone_index, watchlists=watchlist or [], profiles=profiles,
                                         redis_url=redis_url)
    except AssemblyError as err:
        raise fail(str(err), 2) from None
    ss = StreamSettings.for_servers(kafka, settings, partitions=partitions, topic_prefix=prefix, app_id=app_id,
                                    data_dir=data_dir, session_timeout_s=session_timeout, instance_id=instance_id)
    from aiokafka.errors import KafkaError

    try:
        asyncio.run(create_topics(ss))
    except (OSError, KafkaError) as err:
        raise fail(f"Kafka at {kafka}: {err}") from None
    asyncio.set_event_loop(asyncio.new_event_loop())
    with ExitStack() as stack:
        outs = outputs_or_fail(stack, alerts, None, settings, redis_url, webhooks, append=True)
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
        if zone_index is not None:  # the zone cells earlier runs worked out, and those of this one at its end
            zone_index.keep_cells()
            stack.callback(zone_index.save_cells)
        if metrics_at is not None:
            from streams.lag import serve_metrics

            try:
                serve_metrics(faust_app.lag, *metrics_at)  # type: ignore[attr-defined]
            except OSError as err:
                raise fail(f"--metrics {metrics}: cannot listen there ({err.strerror or err})", 2) from None
        level = "DEBUG" if verbose > 1 else "INFO" if verbose else "WARNING"
        from maritime.runtime.pipeline import replay_gc

        with replay_gc():
            Worker(faust_app, loglevel=level, quiet=True, redirect_stdouts=False).execute_from_commandline()
