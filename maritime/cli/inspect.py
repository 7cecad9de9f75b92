"""``maritime inspect``: what input files hold, before they are replayed."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from maritime.cli._common import Config, Format, fail, out_console, settings_or_fail, setup_logging, specs_or_fail
from maritime.ingest.formats import DESCRIPTIONS
from maritime.ingest.inspect import inspect_sources
from maritime.models import parse_iso


def inspect(
    files: Annotated[list[str], typer.Argument(help="recordings, exports, folders or globs")],
    fmt: Format = None,
    config: Config = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per file")] = False,
) -> None:
    """Say what each input holds: its format, sources, time span, and the lines a replay accepts and rejects,
    by reason. Exit 1 when nothing could be read from an input."""
    setup_logging(0)
    settings = settings_or_fail(config)
    specs = specs_or_fail(files, fmt)
    if any(s.kind in ("tcp", "udp", "stdin") for s in specs):
        raise fail("inspect reads files; a live feed is watched with 'maritime watch'", 2)
    start = parse_iso(settings.ingest.start_time) if settings.ingest.start_time else time.time()
    found = inspect_sources(specs, settings, start)
    if as_json:
        for f in found:
            typer.echo(json.dumps(f.as_dict(), ensure_ascii=False))
    else:
        for f in found:
            d = f.as_dict()
            table = Table(title=escape(f"{f.file}: {DESCRIPTIONS.get(f.format, f.format)} ({f.format})"),
                          show_header=False, title_justify="left")
            table.add_column("what", style="bold")
            table.add_column("value")
            table.add_row("lines", f"{f.lines:,}")
            table.add_row("messages", f"{f.messages:,}")
            table.add_row("rejected", ", ".join(f"{k} {v:,}" for k, v in d["rejected"].items()) or "none")
            table.add_row("vessels", f"{f.vessels:,}")
            table.add_row("time span", f"{d['first_time']} to {d['last_time']}" if d["first_time"] else "-")
            top = list(d["sources"].items())
            table.add_row("sources", escape(", ".join(f"{k} ({v:,})" for k, v in top[:8])
                                            + (f" and {len(top) - 8} more" if len(top) > 8 else "")) or "-")
            if f.error:
                table.add_row("error", escape(f.error))
            out_console.print(table)
    if any(f.messages == 0 for f in found):
        empty = next(f for f in found if f.messages == 0)
        raise fail(f"{empty.file}: nothing could be read as {empty.format} "
                   f"({', '.join(f'{k} {v}' for k, v in empty.rejected.items()) or 'no line'}); --format reads it "
                   "as another")
