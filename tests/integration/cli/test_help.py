"""Every ``--help`` of the CLI: it runs, it explains every option, and the value names say what the help says
(a file is FILE, a folder DIR, seconds SECONDS), with no reStructuredText markup leaking through."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from maritime.cli import app


def commands() -> list[tuple[list[str], Any]]:
    """Every command and command family, with its path from ``maritime``."""
    root = typer.main.get_command(app)
    out: list[tuple[list[str], Any]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        out.append((path, cmd))
        if hasattr(cmd, "commands"):  # a family (typer's own click or the package)
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])

    walk(root, [])
    return out


ALL = commands()


@pytest.mark.parametrize("path,cmd", ALL, ids=[" ".join(p) or "maritime" for p, _ in ALL])
def test_every_help_runs_and_explains_every_option(path, cmd):
    res = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    assert "Usage:" in res.output and "``" not in res.output
    assert (cmd.help or "").strip(), f"{path}: no help text"
    for p in cmd.params:
        if getattr(p, "param_type_name", "") != "option" or getattr(p, "hidden", False) or p.name == "help":
            continue
        said = (p.help or "").lower()
        assert said.strip(), f"maritime {' '.join(path)} {p.opts[0]}: no help text"
        name = (p.metavar or "").removesuffix("...")
        if "folder" in said and "file" not in said:
            assert name == "DIR", f"{p.opts[0]}: help says a folder, value shown as {name}"
        if name == "DIR":
            assert "folder" in said, f"{p.opts[0]}: shown as DIR, help says: {said}"
        if "seconds" in said and not p.is_flag:
            assert name != "ISO-TIME", f"{p.opts[0]}: takes seconds, shown as ISO-TIME"


def test_a_table_on_a_pipe_is_not_cut_at_80_columns():
    res = subprocess.run([sys.executable, "-c", "from maritime.cli._common import out_console as c; print(c.width)"],
                         capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert res.returncode == 0 and int(res.stdout) >= 200, res.stderr


def test_zones_which_takes_the_default_it_names():
    res = CliRunner().invoke(app, ["zones", "which", "--zones", "bundled", "--", "14.0", "-61.0"])
    assert res.exit_code == 0 and "ts-lc" in res.output
