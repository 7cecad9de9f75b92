"""docker-compose.yml: no Docker engine runs here, so the file is checked as data, and its commands
are parsed by the real command line (every option a service passes must exist)."""

from __future__ import annotations

import re
import shutil
import subprocess

import click
import pytest
import typer
import yaml

from maritime.cli import app
from tests.conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def expand(arg: str) -> str:
    """``${VAR:-default}`` as compose would with VAR unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", arg)


def test_services_and_volumes(compose):
    services = compose["services"]
    assert {"kafka", "redis", "ingest", "worker-1", "worker-2", "web"} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:")  # the official image
    env = services["kafka"]["environment"]
    assert "controller" in env["KAFKA_PROCESS_ROLES"] and "KAFKA_CONTROLLER_QUORUM_VOTERS" in env  # KRaft
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for name in ("kafka", "redis", "worker-1", "worker-2", "web"):
        assert "healthcheck" in services[name], name
    named = set(compose["volumes"])
    assert {"kafka-data", "worker-1-state", "worker-2-state"} <= named
    for name in ("worker-1", "worker-2"):
        mounts = {v.split(":")[0]: v.split(":")[1] for v in services[name]["volumes"]}
        cmd = services[name]["command"]
        assert mounts[f"{name}-state"] == cmd[cmd.index("--data-dir") + 1]  # table state on a volume
    assert services["ingest"]["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_every_service_command_parses(compose):
    """The arguments each service gives ``maritime`` are accepted by the real CLI parser."""
    group = typer.main.get_command(app)
    for name, svc in compose["services"].items():
        if "command" not in svc or svc.get("image", "").startswith(("apache/", "redis")):
            continue
        args = [expand(a) for a in svc["command"]]
        sub = group.get_command(click.Context(group), args[0])  # type: ignore[attr-defined]
        assert sub is not None, f"{name}: no command {args[0]}"
        sub.make_context(args[0], args[1:])  # raises on an unknown option or a bad value


def test_workers_use_the_same_partitions_as_the_ingest(compose):
    s = compose["services"]
    parts = {n: s[n]["command"][s[n]["command"].index("--partitions") + 1] for n in ("ingest", "worker-1", "worker-2")}
    assert len(set(parts.values())) == 1, parts


def compose_command() -> list[str] | None:
    """``docker compose`` (plugin) or ``docker-compose`` (Debian's package), whichever is here."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.mark.skipif(compose_command() is None, reason="no docker compose client (.ci/run installs docker-compose)")
def test_docker_compose_config_where_the_client_allows(tmp_path):
    cmd = compose_command()
    assert cmd is not None
    proc = subprocess.run([*cmd, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr


def test_volume_mount_points_belong_to_the_image_user(compose):
    """Named volumes start as a copy of the image's folder: each one a service writes must exist there,
    owned by the user the services run as, or the service cannot write it."""
    docker = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    owned = set(re.search(r"chown mda ([^\n]+)", docker).group(1).split())
    for name, svc in compose["services"].items():
        if svc.get("image", "").startswith(("apache/", "redis")):
            continue
        for v in svc.get("volumes", []):
            parts = v.split(":")
            if parts[0] in compose["volumes"] and not (len(parts) > 2 and parts[2] == "ro"):
                assert parts[1] in owned, f"{name}: {parts[1]} is not made and owned in the Dockerfile"
