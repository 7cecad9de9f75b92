"""``maritime vessel``: a vessel's profile and its explained risk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from maritime.cli._common import fail, settings_or_fail


def vessel(
    key: Annotated[int, typer.Argument(help="MMSI or IMO")],
    profiles: Annotated[Path | None, typer.Option("--profiles", help="the SQLite file a replay or watch kept")]
    = None,
    redis_url: Annotated[str | None, typer.Option("--redis", help="profiles kept in Redis")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the vessel's record as one JSON object")] = False,
    config: Annotated[Path | None, typer.Option("--config", help="settings (risk weights)")] = None,
) -> None:
    """A vessel's profile: identity history, port calls, zones, alerts, and its risk with the factors."""
    from maritime.enrich.profile_store import ProfileStore, RedisProfileStore, risk

    store: Any
    if redis_url:
        store = RedisProfileStore(redis_url)
    elif profiles is not None and profiles.is_file():
        store = ProfileStore(profiles)
    elif profiles is None:
        raise fail("no profiles given: profiles are kept by a run with --profiles FILE (maritime replay ... "
                    "--profiles profiles.sqlite), then read with maritime vessel MMSI --profiles profiles.sqlite "
                    "(or --redis URL)", 2)
    else:
        raise fail(f"{profiles}: no such profile file (keep one with maritime replay ... --profiles {profiles})")
    prof = store.profile(key)
    store.close()
    if prof is None:
        raise fail(f"no vessel with MMSI or IMO {key} in {redis_url or profiles}")
    prof["risk"] = risk(prof, settings_or_fail(config).risk_weights)
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
