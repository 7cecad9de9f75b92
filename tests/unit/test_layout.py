"""The package layout's rule: an import may only point down the list of layers (README, "Package layout")."""

from __future__ import annotations

import ast
import json
import re

import pytest

from tests.conftest import ROOT

#: top to bottom; a module may import its own layer and the layers below it
LAYERS: tuple[tuple[str, ...], ...] = (
    ("maritime.cli", "maritime.analysis"),
    ("maritime.views",),
    ("maritime.runtime",),
    ("maritime.sim",),
    ("maritime.enrich",),
    ("maritime.delivery",),
    ("maritime.detectors",),
    ("maritime.ingest",),
    ("maritime.geo.routing", "maritime.geo.landmask"),
    ("maritime.zones",),
    ("maritime.models", "maritime.geo", "maritime.config", "maritime.retry", "maritime.redact", "maritime.paths",
     "maritime.destination", "maritime.buildinfo", "maritime.vocabulary", "maritime.i18n",
     # the typed core's loader imports none of ours; its compiled modules are the typed twins of the ingest
     # and detector modules that load them by name (maritime.core.load)
     "maritime.core", "maritime"),
)
#: the one delivery module that puts sinks together (from the settings and a run's options)
DELIVERY_ASSEMBLER = "maritime.delivery.outputs"
#: sinks are independent of each other: these are the only delivery modules another sink may use
DELIVERY_SHARED = {"maritime.delivery", "maritime.delivery.base", "maritime.delivery.spool",
                   "maritime.delivery.subscriptions", "maritime.delivery.cap", "maritime.delivery.boards"}


def layer_of(module: str) -> int | None:
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if p == "maritime" and module != "maritime":
                continue
            if module == p or module.startswith(p + "."):
                return i
    return None


def imports_of(source: str, module: str, is_package: bool = False) -> list[tuple[str, list[str]]]:
    """Every module a source imports (at the top or inside functions), absolute names, each with the names a
    ``from`` import takes from it."""
    out = []
    package = module if is_package else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.extend((a.name, []) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                out.append((f"{base}.{node.module}" if node.module else base, [a.name for a in node.names]))
            elif node.module:
                out.append((node.module, [a.name for a in node.names]))
    return out


def private_imports(source: str) -> list[str]:
    """``module._name`` for every private name imported from another module."""
    return [f"{n.module}.{a.name}" for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)
            and (n.module or "").startswith("maritime") for a in n.names if a.name.startswith("_")]


def violations(sources: dict[str, str]) -> list[str]:
    """``importer -> imported`` for every import that breaks the rule."""
    bad = []
    for module, source in sorted(sources.items()):
        mine = layer_of(module)
        bad.extend(f"{module} -> {p} (a private name)" for p in private_imports(source))
        for imported, _names in imports_of(source, module):
            if imported == "streams" or imported.startswith("streams."):
                if module != "maritime.cli.stream":
                    bad.append(f"{module} -> {imported} (only the CLI starts the Faust app)")
                continue
            theirs = layer_of(imported)
            if mine is None or theirs is None:
                continue
            if theirs < mine:
                bad.append(f"{module} -> {imported} (points up)")
            elif (module.startswith("maritime.delivery.") and imported.startswith("maritime.delivery.")
                  and imported not in DELIVERY_SHARED and module not in (imported, DELIVERY_ASSEMBLER)):
                bad.append(f"{module} -> {imported} (one sink imports another)")
    return bad


def package_sources() -> dict[str, str]:
    out = {}
    for path in (ROOT / "maritime").rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path.read_text(encoding="utf-8")
    return out


def import_graph(sources: dict[str, str], packages: set[str]) -> dict[str, set[str]]:
    """``module -> the project modules it imports`` (at the top, inside functions or for type checking only);
    ``from pkg import mod`` points at ``pkg.mod`` where that is a module."""
    graph = {}
    for module, source in sources.items():
        out = set()
        for target, names in imports_of(source, module, module in packages):
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in sources]
            out.update(subs if subs else [target])
            if subs and len(subs) < len(names):
                out.add(target)
        graph[module] = {m for m in out if m in sources and m != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or round a loop (Tarjan's components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def project_sources() -> tuple[dict[str, str], set[str]]:
    """Every module of ``maritime`` and ``streams``, and which of them are packages."""
    out, packages = {}, set()
    for top in ("maritime", "streams"):
        for path in (ROOT / top).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
                packages.add(".".join(parts))
            out[".".join(parts)] = path.read_text(encoding="utf-8")
    return out, packages


def test_no_modules_import_each_other():
    """No import cycle, however lazy (runtime/pipeline and decode_workers, the Faust app and its agents were)."""
    sources, packages = project_sources()
    assert cycles(import_graph(sources, packages)) == []


def test_an_import_cycle_is_caught():
    sources = {"streams.app": "from streams.agents import register\n",
               "streams.agents": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from streams.app import R\n",
               "maritime.geo": "import math\n"}
    assert cycles(import_graph(sources, {"streams.agents"})) == [["streams.agents", "streams.app"]]


def test_every_import_points_down():
    sources = package_sources()
    assert len(sources) > 40
    assert all(layer_of(m) is not None for m in sources), [m for m in sources if layer_of(m) is None]
    assert violations(sources) == []


def test_a_detector_importing_a_runner_is_caught():
    sources = package_sources()
    sources["maritime.detectors.gaps"] += "\nfrom maritime.runtime.pipeline import Pipeline\n"
    assert violations(sources) == ["maritime.detectors.gaps -> maritime.runtime.pipeline (points up)"]


def test_a_lazy_import_and_a_sink_importing_a_sink_are_caught():
    sources = {
        "maritime.ingest.ais": "def f():\n    from maritime.views.maps import replay_map\n",
        "maritime.delivery.webhook": "from maritime.delivery.redis_sink import RedisSink\n",
        "maritime.runtime.pipeline": "from ..detectors.base import Detector\nimport streams.app\n",
    }
    assert violations(sources) == [
        "maritime.delivery.webhook -> maritime.delivery.redis_sink (one sink imports another)",
        "maritime.ingest.ais -> maritime.views.maps (points up)",
        "maritime.runtime.pipeline -> streams.app (only the CLI starts the Faust app)",
    ]


def test_a_private_name_imported_from_another_module_is_caught():
    got = violations({"maritime.views.web": "from maritime.views.maps import _coastline\n"})
    assert got == ["maritime.views.web -> maritime.views.maps._coastline (a private name)"]


def test_alert_type_status_and_severity_are_the_contracts():
    """The Literal types mypy checks the detectors against are the contract's enums, in its order."""
    from maritime.models import ALERT_TYPES, SEVERITIES, STATUSES, as_severity

    props = json.loads((ROOT / "docs" / "contracts" / "alert.schema.json").read_text())["properties"]
    assert list(STATUSES) == props["status"]["enum"]
    assert list(SEVERITIES) == props["severity"]["enum"]
    named = set(re.findall(r"[a-z][a-z_]*", props["type"]["description"]))
    assert set(ALERT_TYPES) <= named
    assert as_severity("high") == "high"
    with pytest.raises(ValueError, match="unknown severity"):
        as_severity("urgent")


def test_test_modules_share_helpers_through_conftest_only():
    """Builders and fixtures live in conftest.py: no test module imports another."""
    offenders = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and (
                    (node.level and node.module.startswith("test_")) or node.module.startswith("tests.test_")):
                offenders.append(f"{path.name}: from {'.' * node.level}{node.module}")
    assert offenders == []
