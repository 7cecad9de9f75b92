"""For operations centres: ``serve`` (the live map fed from Redis), ``alerts tail`` (a centre's stream),
``redis-acl`` (one Redis user per centre)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from maritime.cli._common import (
    STORE_HELP,
    NamedCommand,
    check_output,
    command_family,
    err_console,
    fail,
    host_port,
    listen,
    out_console,
    redis_url_or_fail,
    settings_or_fail,
    setup_logging,
    stop_event,
    triage_store_or_fail,
    zones_or_fail,
)
from maritime.redact import redact

alerts_app = command_family("Read alerts as an operations centre does.")

def serve(
    redis_url: Annotated[str, typer.Option("--redis", help="Redis the pipeline or workers write to")],
    web_at: Annotated[str, typer.Option("--web", help="HOST:PORT to serve on")] = "127.0.0.1:8080",
    token: Annotated[str | None, typer.Option(help="token the page and API require")] = None,
    zones: Annotated[list[Path] | None, typer.Option(
        "--zones", help="zones to draw (default: the bundled Caribbean zones; 'none')")] = None,
    tile_url: Annotated[str | None, typer.Option(help="online tile URL for connected rooms")] = None,
    duration: Annotated[float | None, typer.Option(help="stop after this many seconds")] = None,
    triage: Annotated[str | None, typer.Option("--triage", help=STORE_HELP)] = None,
    config: Annotated[Path | None, typer.Option("--config", help="settings file (TOML)")] = None,
    dead_letter: Annotated[Path | None, typer.Option(
        "--dead-letter", help="append the alert-stream entries that carry no alert here (JSON lines)")] = None,
) -> None:
    """The live operations map, fed from Redis (alerts stream, latest positions); triage kept and shared."""
    from maritime.runtime.health import Health
    from maritime.views.web import LiveState, default_token, follow_redis, make_app

    setup_logging(1)
    redis_url_or_fail(redis_url)
    check_output("--dead-letter", dead_letter)
    host, port = host_port(web_at)
    index = zones_or_fail(zones)
    state = LiveState()
    settings = settings_or_fail(config)
    store = triage_store_or_fail(triage or settings.triage_store)
    dead_fh = dead_letter.open("a", encoding="utf-8") if dead_letter is not None else None

    def dead(entry: dict[str, Any]) -> None:
        if dead_fh is not None:
            dead_fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            dead_fh.flush()

    async def main() -> None:
        stop = stop_event(duration)
        need = default_token(host, token)
        runner = await listen(make_app(state, token=need, zones=index, tile_url=tile_url,
                                        hosts=[host] if need is None else None, triage=store,
                                        health=Health(live=state), language=settings.language), host, port)
        follower = asyncio.create_task(follow_redis(state, redis_url, stop, dead=dead))
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
        if dead_fh is not None:
            dead_fh.close()



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
    from maritime.delivery.acl import acl_user_names, apply_acl, existing_users, plan_acl

    settings = settings_or_fail(config)
    if not settings.subscriptions:
        raise fail(f"{config}: no [[subscriptions]] to make users for", 2)
    if apply and not redis_url:
        raise fail("--apply needs --redis URL", 2)
    path = secrets_file or config.with_name("redis-acl-secrets.json")
    existing: set[str] = set()
    client: Any = None
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        try:
            existing = existing_users(client, acl_user_names(settings, pipeline_user))
        except redis.RedisError as err:
            raise fail(f"{redis_url}: {err}") from None
    try:
        plan = plan_acl(settings, path, pipeline_user, pipeline_password, existing, reset)
    except (OSError, ValueError) as err:
        raise fail(f"{path}: cannot read the kept passwords: {err}", 2) from None
    for u in plan.users:
        pw = "a new password" if u.new_password else "its kept password"
        out_console.print(f"{u.name}: {u.state}" + (f", with {pw}" if u.todo else ""), highlight=False)
    if not apply:
        out_console.print(f"preview: nothing changed; --apply creates what says 'create' (passwords kept in {path})",
                          highlight=False)
        return
    try:
        n = apply_acl(client, plan)
    except redis.RedisError as err:
        raise fail(f"{redis_url}: {err}") from None
    err_console.print(f"applied {n} of {len(plan.users)} ACL users to {escape(redact(redis_url or ''))}; "
                      f"passwords in {escape(str(path))} (mode 0600). Then disable the default user once an admin "
                      "user exists: ACL SETUSER default off", highlight=False)


@alerts_app.command("tail", cls=NamedCommand)
def alerts_tail(
    redis_url: Annotated[str, typer.Option("--redis", help="Redis URL with the centre's credentials")],
    centre: Annotated[str | None, typer.Option("--centre", help="centre id (default: the full stream)")] = None,
    group: Annotated[str, typer.Option("--group", help="consumer group")] = "ops",
    consumer: Annotated[str, typer.Option("--consumer", help="this reader's name in the group")] = "console",
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines (the same as --format json)")] = False,
    fmt: Annotated[str, typer.Option("--format", help="text (one line, starting with the alert id), json (JSON "
                                     "lines) or cap (CAP 1.2 XML documents, one per line)")] = "text",
    sender: Annotated[str, typer.Option(help="the CAP sender with --format cap")] = "mda@caribbean-mda.invalid",
    language: Annotated[str, typer.Option(help="with --format cap, the info block that leads: en, es, fr or nl "
                                          "(all four are in each message)")] = "en",
    count: Annotated[int | None, typer.Option(help="stop after this many alerts")] = None,
    claim_idle_s: Annotated[float, typer.Option(help="take over alerts left pending this long by a crashed reader")]
    = 60.0,
    max_wait_s: Annotated[float | None, typer.Option(help="stop after this long with nothing new")] = None,
) -> None:
    """Follow a centre's alert stream through a consumer group (XREADGROUP, XACK, XAUTOCLAIM)."""
    import redis

    from maritime.delivery.cap import to_cap
    from maritime.delivery.reader import CentreReader, ReaderError

    if count is not None and count < 1:
        raise fail("--count must be at least 1", 2)
    if as_json:
        fmt = "json"
    if fmt not in ("text", "json", "cap"):
        raise fail(f"--format {fmt}: text, json or cap", 2)
    if language not in ("en", "es", "fr", "nl"):
        raise fail(f"--language {language}: en, es, fr or nl", 2)

    def show(a: dict[str, Any]) -> None:
        if fmt == "json":
            typer.echo(json.dumps(a, ensure_ascii=False))
        elif fmt == "cap":
            typer.echo(to_cap(a, sender, first=language).decode("utf-8").replace("?>\n", "?>", 1))  # one a line
        else:  # the id first: what 'maritime triage set' takes
            typer.echo(f"{a['id']}  {a['time']} {a['severity'].upper():8} {a['type']:16} {a['status']:7} "
                       f"{a['summary']}")

    reader = CentreReader(redis_url, centre, group, consumer, claim_idle_s)
    try:
        reader.open()
        reader.read(show, count=count, max_wait_s=max_wait_s)
    except ReaderError as err:
        raise fail(str(err), 2) from None
    except redis.RedisError as err:
        raise fail(f"{redis_url} {reader.stream}: {err}") from None
    except KeyboardInterrupt:
        pass
    finally:
        reader.close()
