"""Whatever it is given, the CLI answers with exit 0, or exit 2 and one line saying why; never a traceback
(hypothesis over the settings file and the options that take numbers and paths)."""

from __future__ import annotations

import json
import math
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from typer.testing import CliRunner

from maritime.cli import app
from maritime.config import Settings
from tests.conftest import TYPE1

runner = CliRunner()


def leaf_fields(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every setting as (path, annotation), sections followed down."""
    out: list[tuple[tuple[str, ...], Any]] = []
    for name, f in model.model_fields.items():
        ann = f.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += leaf_fields(ann, (*prefix, name))
        else:
            out.append(((*prefix, name), ann))
    return out


FIELDS = leaf_fields(Settings)

numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300, 5e-324, 1e12, 1e13, 0.5, 1.0, 60.0, -5.0]),
    st.integers(min_value=-(2**70), max_value=2**70),
)
texts = st.one_of(st.text(max_size=30), st.sampled_from(["", "0001-01-01T00:00:00+01:00", "2025-05-14T00:00:00Z",
                                                         "9999-12-31T23:59:59Z", "nan", "inf", "../..", "/nope/x"]))
scalars = st.one_of(numbers, texts, st.booleans())
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=8), scalars, max_size=2))


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_doc(entries: list[tuple[tuple[str, ...], Any]]) -> str:
    top: list[str] = []
    sections: dict[str, list[str]] = {}
    for path, v in entries:
        key = f"{path[-1]} = {toml_value(v)}"
        if len(path) == 1:
            top.append(key)
        else:
            sections.setdefault(".".join(path[:-1]), []).append(key)
    return "\n".join(top + [f"\n[{s}]\n" + "\n".join(keys) for s, keys in sections.items()]) + "\n"


def judge(res: Any) -> None:
    """Exit 0, or exit 2 with one line; no traceback either way."""
    out = res.output.strip()
    assert res.exit_code in (0, 2), (res.exit_code, out[-1500:], res.exception)
    assert "Traceback" not in res.output
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise AssertionError(f"exception escaped: {res.exception!r}")
    if res.exit_code == 2:
        errors = [x for x in out.splitlines() if x.startswith("error:") or "Error" in x or "Usage:" in x]
        assert errors, out
        if out.splitlines()[0].startswith("error:"):
            assert len(out.splitlines()) == 1, out


@pytest.mark.slow  # over 6 s: the default run stays under 5 min
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.tuples(st.sampled_from(FIELDS).map(lambda f: f[0]), values), min_size=1, max_size=4))
def test_any_settings_file_runs_or_gives_one_line(tmp_path_factory: Any, entries: list) -> None:
    tmp = tmp_path_factory.mktemp("cfg")
    feed = tmp / "tiny.nmea"
    feed.write_bytes(TYPE1 + b"\n")
    cfg = tmp / "settings.toml"
    # the same key twice is a TOML error of its own: keep the last one
    cfg.write_text(toml_doc(list(dict(entries).items())), encoding="utf-8")
    judge(runner.invoke(app, ["replay", str(feed), "--zones", "none", "-q", "--config", str(cfg)]))


def paths(tmp: Path) -> st.SearchStrategy[str]:
    (tmp / "a-file.txt").write_text("x")
    (tmp / "a-dir").mkdir(exist_ok=True)
    return st.sampled_from([str(tmp / "ok.json"), str(tmp / "no-such-dir" / "x.json"), str(tmp / "a-dir"),
                            str(tmp / "a-file.txt"), str(tmp / "a-file.txt" / "x.json"), "/proc/no/x.json", ""])


option_numbers = st.one_of(st.sampled_from(["-5", "0", "1e-300", "1e300", "nan", "inf", "-inf", "abc", "", "3"]),
                           st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=30).map(str))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_watch_and_replay_options_run_or_give_one_line(tmp_path_factory: Any, data: Any) -> None:
    tmp = tmp_path_factory.mktemp("opts")
    feed = tmp / "tiny.nmea"
    feed.write_bytes(TYPE1 + b"\n")
    where = paths(tmp)
    cmd = data.draw(st.sampled_from(["watch", "replay"]))
    args = [cmd, str(feed), "--zones", "none"]
    if cmd == "watch":
        args += ["--workers", "1", "--json"]
        for opt in data.draw(st.lists(st.sampled_from(["--duration", "--checkpoint-every"]), unique=True)):
            args += [opt, data.draw(option_numbers)]
        for opt in data.draw(st.lists(st.sampled_from(["--summary-json", "--alerts", "--dead-letter", "--state"]),
                                      unique=True)):
            args += [opt, data.draw(where)]
    else:
        args += ["-q"]
        for opt in data.draw(st.lists(st.sampled_from(["--summary-json", "--alerts", "--dead-letter", "--map"]),
                                      unique=True)):
            args += [opt, data.draw(where)]
        if data.draw(st.booleans()):
            args += ["--start-time", data.draw(texts)]
    judge(runner.invoke(app, args))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_simulate_map_and_arrivals_options_run_or_give_one_line(tmp_path_factory: Any, data: Any) -> None:
    tmp = tmp_path_factory.mktemp("more")
    where = paths(tmp)
    alerts = tmp / "alerts.jsonl"
    alerts.write_text("")
    cmd = data.draw(st.sampled_from(["simulate", "map", "arrivals"]))
    if cmd == "simulate":  # only sizes that cannot start a long simulation
        args = ["simulate", "--out", data.draw(where), "--hours", data.draw(st.sampled_from(["-5", "0", "nan", "x"])),
                "--vessels", data.draw(st.sampled_from(["-1", "0", "2"]))]
    elif cmd == "map":
        args = ["map", str(alerts), "--out", data.draw(where), "--zones", "none"]
    else:
        feed = tmp / "tiny.nmea"
        feed.write_bytes(TYPE1 + b"\n")
        args = ["arrivals", data.draw(st.sampled_from(["LCCAS", "GEORGETOWN", "TOBAGO", "nowhere", ""])), str(feed),
                "--zones", "none", "--hours", data.draw(option_numbers), "--json"]
        if data.draw(st.booleans()):
            args += ["--out", data.draw(where)]
    judge(runner.invoke(app, args))


def test_the_strategies_reach_every_section() -> None:
    sections = {p[0] for p, _ann in FIELDS if len(p) > 1}
    assert {"ingest", "rendezvous", "arrivals", "delivery"} <= sections
    assert typing.get_origin(FIELDS[0][1]) is not None or FIELDS[0][1] is not None
